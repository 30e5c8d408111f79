/**
 * The terms of a combined guardrail alarm (alarms.layout 'combined'): `MAX([error_rate, p99_latency, ...]) > 1`, each
 * term an expression query of the alarm whose id names its guardrail and which divides the watched value by the
 * threshold (`IF(inv >= 5, err / inv / 0.05, 0)`; quality: `(1 - FILL(q, 1)) / (1 - floor)`; a threshold of 0 is an
 * indicator, `IF(... > 0, 2, 0)`). The construct writes them (lib/rollout/release-alarms.ts); the false-fire
 * computation and the review read them back from the alarm as synthesized or described. Pure, no AWS SDK.
 */
import { GUARDRAIL_KINDS } from './contract';

/** The guardrails a combined alarm may hold, in the order the construct writes them (the contract's list). */
export const GUARDRAIL_TERM_KINDS = GUARDRAIL_KINDS;
export type GuardrailTermKind = (typeof GUARDRAIL_TERM_KINDS)[number];

/** The expression id of a guardrail's term: `error-rate` -> `error_rate`. */
export function guardrailTermId(kind: GuardrailTermKind): string {
  return kind.replace(/-/g, '_');
}

/** One term as read back: its guardrail and that guardrail's own threshold and comparison. */
export interface GuardrailTerm {
  readonly id: string;
  readonly kind: GuardrailTermKind;
  /** The guardrail's threshold (quality: the floor). */
  readonly threshold: number;
  /** Quality alarms below its floor; every other guardrail above its threshold. */
  readonly comparison: '>' | '<';
}

/**
 * Reads one expression query of a combined alarm; undefined when its id is no guardrail's term (the MAX itself, a
 * metric) and an Error naming the term when its expression is not one the construct writes (an edited alarm).
 */
export function parseGuardrailTerm(id: string, expression: string): GuardrailTerm | undefined {
  const kind = GUARDRAIL_TERM_KINDS.find((k) => guardrailTermId(k) === id);
  if (!kind) return undefined;
  const divided = /\/\s*([0-9.]+(?:[eE][+-]?\d+)?)\s*,\s*0\s*\)\s*$/.exec(expression);
  const indicator = /,\s*2\s*,\s*0\s*\)\s*$/.test(expression);
  if (!divided && !indicator)
    throw new Error(`guardrail term "${id}": cannot read its threshold from "${expression}" (expected "IF(guard, value / threshold, 0)")`);
  const by = divided ? Number(divided[1]) : 0;
  // Quality divides by 1 - floor; its indicator form is a floor of 1.
  if (kind === 'quality') return { id, kind, threshold: Math.round((1 - by) * 1e12) / 1e12, comparison: '<' };
  return { id, kind, threshold: by, comparison: '>' };
}
