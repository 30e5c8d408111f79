import { FAILURE_KINDS, type FailureKind, GATE_RESPONSE_KEY, type GateInvocationVerdict, type RegressionCase } from '../shared/contract';
import { guardrailFloorCheck, guardrailFloorsProblem, guardrailScores } from '../shared/guardrail-scores';
import type { InvokeResult } from './ports';

/** One replay judged: passed, or failed with reasons (one line each, no raw output). */
export interface Judgment {
  readonly passed: boolean;
  readonly reasons: readonly string[];
  /** The runtime's latency when it answered with a verdict, else the gate's own measure. */
  readonly latencyMs: number;
}

const MAX_REASON = 300;
const cut = (s: string) => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s);

/**
 * Judges one invocation against the case's expectation. Every default of CaseExpectation is the strict one: no error,
 * the contract holds, no safety flag. Contract, safety and quality come from the runtime's own verdict (the gate asks
 * for it with the ClientContext); a function that does not link the runtime answers without one, and then only the
 * error, latency and match expectations can be judged (the reasons say so, and the case still passes on those).
 */
export function judge(c: RegressionCase, r: InvokeResult, gateLatencyMs: number): Judgment {
  const e = c.expectation ?? {};
  const reasons: string[] = [];
  if (r.functionError) {
    const err = parseJson(r.payload) as { errorType?: string; errorMessage?: string } | undefined;
    const type = err?.errorType ?? r.functionError;
    const kind = /timeout/i.test(type) || /timed out/i.test(err?.errorMessage ?? '') ? 'timeout' : 'error';
    // noError: false means the case only asks for something else (a latency bound…): an error still gives no output to judge.
    return { passed: false, reasons: [cut(`${kind}: ${type}${err?.errorMessage ? `: ${err.errorMessage}` : ''}`)], latencyMs: gateLatencyMs };
  }
  if (r.payload.trim() === '')
    return { passed: false, reasons: ['answer: the function returned an empty payload (no output to judge)'], latencyMs: gateLatencyMs };
  const body = parseJson(r.payload);
  if (body === undefined)
    return {
      passed: false,
      reasons: [cut(`answer: the payload is not JSON (${JSON.stringify(r.payload.slice(0, 60))}…): Lambda returns JSON`)],
      latencyMs: gateLatencyMs,
    };
  const raw = body && typeof body === 'object' && GATE_RESPONSE_KEY in body ? (body as Record<string, unknown>)[GATE_RESPONSE_KEY] : undefined;
  const malformed = raw === undefined ? undefined : verdictProblem(raw);
  if (malformed)
    return { passed: false, reasons: [cut(`verdict: ${malformed} (the runtime's verdict must be a GateInvocationVerdict)`)], latencyMs: gateLatencyMs };
  const verdict = raw as GateInvocationVerdict | undefined;
  const output = verdict ? verdict.output : body;
  const latencyMs = verdict && Number.isFinite(verdict.latencyMs) ? verdict.latencyMs : gateLatencyMs;
  if (verdict) {
    const kinds = new Set<FailureKind>(verdict.kinds ?? []);
    const about = (prefix: string) => (verdict.details ?? []).filter((d) => d.startsWith(prefix)).slice(0, 2);
    if ((e.noError ?? true) && kinds.has('error')) reasons.push(cut(`error: ${about('').join('; ') || 'the runtime recorded an error'}`));
    if ((e.contractHolds ?? true) && kinds.has('contract'))
      reasons.push(cut(about('contract').join('; ') || 'contract: the output breaks the output contract'));
    if ((e.noSafetyFlag ?? true) && kinds.has('safety')) reasons.push(cut(about('safety').join('; ') || 'safety: flagged'));
    if (e.minQuality !== undefined) {
      if (verdict.qualityScore === undefined) reasons.push(`quality: no score reported (the case needs at least ${e.minQuality})`);
      else if (verdict.qualityScore < e.minQuality) reasons.push(`quality: score ${verdict.qualityScore} is below the case's minQuality ${e.minQuality}`);
    } else if (kinds.has('quality')) reasons.push(cut(about('quality').join('; ') || 'quality: below the output contract floor'));
  }
  // The guardrail's contextual grounding scores of the replay's answer, against the case's floors (no model call).
  const notes: string[] = [];
  if (e.minGuardrailScores !== undefined) {
    const problem = guardrailFloorsProblem(e.minGuardrailScores);
    if (problem) reasons.push(`${problem}; fix the case`);
    else if (verdict) {
      const g = guardrailFloorCheck(e.minGuardrailScores, guardrailScores(verdict.evidence?.guardrailTrace));
      reasons.push(...g.failures.map(cut));
      notes.push(...g.notes);
    }
  }
  if (e.maxLatencyMs !== undefined && latencyMs > e.maxLatencyMs)
    reasons.push(`latency: ${Math.round(latencyMs)} ms is over the case's maxLatencyMs ${e.maxLatencyMs}`);
  const text = typeof output === 'string' ? output : JSON.stringify(output ?? null);
  for (const [field, want] of [
    ['mustMatch', true],
    ['mustNotMatch', false],
  ] as const) {
    for (const p of e[field] ?? []) {
      const re = compile(p);
      // Checked at promotion; a hand-edited case with a bad pattern fails rather than passing unjudged.
      if (!re) reasons.push(cut(`${field}: ${JSON.stringify(p)} is not a valid regular expression; fix the case's expectation`));
      else if (re.test(text) !== want) reasons.push(cut(want ? `mustMatch: the output does not match /${p}/` : `mustNotMatch: the output matches /${p}/`));
    }
  }
  const passed = reasons.length === 0;
  reasons.push(...notes);
  if (!verdict)
    reasons.push(
      `note: no runtime verdict in the answer (is the runtime linked?): contract, safety${e.minGuardrailScores !== undefined ? ', guardrail scores' : ''} and quality were not judged`,
    );
  return { passed, reasons, latencyMs };
}

/** What is wrong with the verdict the runtime answered with, or undefined when it has the contract's shape. */
export function verdictProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    return `it is ${v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`}, not an object`;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.kinds)) return `kinds is ${o.kinds === undefined ? 'missing' : `a ${typeof o.kinds}`}, expected a list of failure kinds`;
  const unknown = o.kinds.filter((k) => !(FAILURE_KINDS as readonly unknown[]).includes(k));
  if (unknown.length > 0) return `kinds has ${JSON.stringify(unknown[0])}, not one of ${FAILURE_KINDS.join(', ')}`;
  if (o.details !== undefined && !(Array.isArray(o.details) && o.details.every((d) => typeof d === 'string'))) return 'details must be a list of strings';
  if (o.qualityScore !== undefined && (typeof o.qualityScore !== 'number' || !Number.isFinite(o.qualityScore)))
    return `qualityScore is ${JSON.stringify(o.qualityScore)}, expected a number`;
  if (o.latencyMs !== undefined && typeof o.latencyMs !== 'number') return `latencyMs is ${JSON.stringify(o.latencyMs)}, expected a number`;
  return undefined;
}

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
