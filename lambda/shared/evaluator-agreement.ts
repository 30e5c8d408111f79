/**
 * Can the evaluator be trusted? People's decisions on regression cases form a labelled set; this module compares the
 * evaluator's verdicts on the same answers with them. Pure: no SDK import. Shared by the store (lib/learning/case-labels.ts),
 * the CLI, the review and the canary card, so all report the same figures.
 *
 * A label is about the case's answer: `bad` means the answer really was bad (the failure is real), `good` means it
 * was acceptable (a false alarm). Where labels come from:
 * - `cdk-ai-release regression label <service> <case> good|bad` (an explicit label: always wins, the latest one counts);
 *   also `<sample-id>` of any scored evaluation sample (h7-evaluator): kept under the case id of the sample's input,
 *   with the sample's request id, so samples that never became cases join the labelled set;
 * - promote (candidate -> accepted): the person says the failure is real, so `bad`;
 * - retire of a candidate (candidate -> retired): the person dismissed it, so `good`. Retiring an ACCEPTED case stops
 *   it gating (an input no longer accepted, a feature removed) and says nothing about the answer: no label.
 * Promote and retire never replace an explicit label.
 *
 * The evaluator's verdict on a case comes from its scored samples of the case's requests (the sample id is a hash of
 * service and request id, so each failing request id names the sample the evaluator would have scored): `bad` when a
 * model rubric scored under its floor, `good` when the model scored it and nothing was under a floor, none when the
 * model did not score it (skipped by the budget, unscored). The latest scored sample counts.
 *
 * One label per case, and a case is one input however many requests failed on it: retries and repeated inputs fold
 * into one label, so the count of labels is a count of independent-ish inputs, not of requests.
 */
import { sha256Hex } from './canonical-json';

export const HUMAN_LABELS = ['good', 'bad'] as const;
export type HumanLabelValue = (typeof HUMAN_LABELS)[number];

/** Where a label came from: the explicit command, or a decision that implies one. */
export type LabelSource = 'label' | 'promote' | 'retire';

/** A person's label of one case. */
export interface HumanLabel {
  readonly caseId: string;
  readonly label: HumanLabelValue;
  readonly source: LabelSource;
  readonly by: string;
  readonly reason?: string;
  readonly at: string;
  /** Request ids the case had when labelled (bounded): they name the evaluator's samples of this case. */
  readonly requestIds: readonly string[];
  /**
   * Set when a scored evaluation sample was labelled (`regression label <service> <sample-id>`), not a case: the
   * label is kept under the case id the sample's input has (`caseIdOf(service, input)`, the id a case of that input
   * has or would have), so one input is one label whichever way it was labelled. @default a case was labelled
   */
  readonly sampleId?: string;
}

/** Request ids a label keeps at most (the newest). */
export const LABEL_REQUEST_IDS = 20;

/** The label set of one service: `evaluations/<service>/labels.json`, replaced by compare-and-swap. */
export interface LabelSet {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly updated: string;
  readonly labels: Readonly<Record<string, HumanLabel>>;
}

/** Where a service's label set is kept in the regression store's bucket. */
export const labelSetKey = (service: string): string => `evaluations/${service}/labels.json`;

/** The sample id the runtime gives a request (lambda/runtime/evaluation-sampler.ts): the key of its scored sample. */
export const sampleIdOf = (service: string, requestId: string): string => sha256Hex(`${service}\n${requestId}`).slice(0, 32);

/** The label a state change implies, or undefined (see the module comment). */
export function impliedLabel(from: string, to: string): { label: HumanLabelValue; source: LabelSource } | undefined {
  if (to === 'accepted') return { label: 'bad', source: 'promote' };
  if (from === 'candidate' && to === 'retired') return { label: 'good', source: 'retire' };
  return undefined;
}

/**
 * Adds a label to the set: an explicit label replaces any; an implied one never replaces an explicit one. The request
 * ids of the label it replaces are kept with the new ones (newest last, bounded): labelling a case's input by one of
 * its samples must not forget the case's other samples.
 */
export function withLabel(set: LabelSet | undefined, service: string, label: HumanLabel, now: string): LabelSet {
  const labels = { ...(set?.labels ?? {}) };
  const old = labels[label.caseId];
  if (!(label.source !== 'label' && old?.source === 'label')) {
    const requestIds = [...new Set([...(old?.requestIds ?? []).filter((r) => !label.requestIds.includes(r)), ...label.requestIds])].slice(-LABEL_REQUEST_IDS);
    labels[label.caseId] = { ...label, requestIds };
  }
  return { schemaVersion: 1, service, updated: now, labels };
}

/** Checks a stored label set; the message names the key and the field. */
export function parseLabelSet(body: string, key: string): LabelSet {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new Error(`${key} is not JSON (${(e as Error).message}); restore it from its previous S3 version`);
  }
  const s = v as Partial<LabelSet> | null;
  if (!s || typeof s !== 'object' || typeof s.labels !== 'object' || s.labels === null) throw new Error(`${key} has no "labels" object`);
  if (s.schemaVersion !== 1) throw new Error(`${key} has schemaVersion ${JSON.stringify(s.schemaVersion)}; this version reads 1 (upgrade cdk-ai-release)`);
  return s as LabelSet;
}

/** What the evaluator said of one scored sample, as far as agreement is concerned. */
export interface ScoredVerdictInput {
  /** Model scores (deterministic checks do not count: they are not the evaluator model people are asked to trust). */
  readonly modelScores: number;
  /** Model scores under their rubric's floor. */
  readonly belowFloor: number;
  readonly time: string;
}

/** The evaluator's verdict from one scored sample, or undefined when the model did not score it. */
export function evaluatorVerdict(s: ScoredVerdictInput): HumanLabelValue | undefined {
  if (s.belowFloor > 0) return 'bad';
  return s.modelScores > 0 ? 'good' : undefined;
}

/** One labelled case with the evaluator's verdict on it (undefined: not scored). */
export interface AgreementPair {
  readonly caseId: string;
  readonly people: HumanLabelValue;
  readonly evaluator: HumanLabelValue | undefined;
}

/** The evaluator's agreement with people over a label set. Plain data (JSON): the CLI prints it, the card takes it. */
export interface EvaluatorAgreement {
  /** Cases people labelled. */
  readonly labels: number;
  /** Of those, cases the evaluator model also scored: the pairs compared. */
  readonly compared: number;
  readonly agree: number;
  /** agree / compared; absent with nothing compared. */
  readonly accuracy?: number;
  /** 95 % Wilson score interval of the accuracy. */
  readonly interval?: { readonly low: number; readonly high: number };
  /** Cohen's kappa (agreement beyond chance); absent when undefined (both raters used one label only). */
  readonly kappa?: number;
  /** Counts by (evaluator, people): `bad/bad`, `bad/good` (evaluator flagged what people found good), … */
  readonly confusion: { readonly badBad: number; readonly badGood: number; readonly goodBad: number; readonly goodGood: number };
  /** When it was measured (ISO-8601). */
  readonly measuredAt: string;
  /** Where the labels came from, for the reader (e.g. `s3://bucket/evaluations/svc/labels.json`). */
  readonly source?: string;
}

const Z95 = 1.959963984540054;

/** Wilson score interval for k successes in n trials (z = 1.96 for 95 %); undefined for n = 0. */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } | undefined {
  if (!(n > 0)) return undefined;
  if (!(k >= 0 && k <= n)) throw new Error(`wilsonInterval: k must be within 0..n, got k=${k}, n=${n}`);
  const p = k / n;
  const z2 = z * z;
  const d = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / d;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** Cohen's kappa of a 2x2 table; undefined when chance agreement is 1 (both raters used one label only) or n = 0. */
export function cohensKappa(c: EvaluatorAgreement['confusion']): number | undefined {
  const n = c.badBad + c.badGood + c.goodBad + c.goodGood;
  if (n === 0) return undefined;
  const po = (c.badBad + c.goodGood) / n;
  const evalBad = (c.badBad + c.badGood) / n;
  const peopleBad = (c.badBad + c.goodBad) / n;
  const pe = evalBad * peopleBad + (1 - evalBad) * (1 - peopleBad);
  if (pe >= 1) return undefined;
  return (po - pe) / (1 - pe);
}

/** Agreement over the pairs (one per case; a repeated case id counts once, its last pair). */
export function computeAgreement(pairs: readonly AgreementPair[], measuredAt: string, source?: string): EvaluatorAgreement {
  const byCase = new Map<string, AgreementPair>();
  for (const p of pairs) byCase.set(p.caseId, p);
  const confusion = { badBad: 0, badGood: 0, goodBad: 0, goodGood: 0 };
  for (const p of byCase.values()) {
    if (p.evaluator === undefined) continue;
    const k = `${p.evaluator}${p.people === 'bad' ? 'Bad' : 'Good'}` as keyof typeof confusion;
    confusion[k]++;
  }
  const compared = confusion.badBad + confusion.badGood + confusion.goodBad + confusion.goodGood;
  const agree = confusion.badBad + confusion.goodGood;
  const interval = wilsonInterval(agree, compared);
  const kappa = cohensKappa(confusion);
  return {
    labels: byCase.size,
    compared,
    agree,
    ...(compared > 0 ? { accuracy: agree / compared } : {}),
    ...(interval ? { interval } : {}),
    ...(kappa !== undefined ? { kappa } : {}),
    confusion,
    measuredAt,
    ...(source ? { source } : {}),
  };
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

/** One line for the review, the card and the CLI. */
export function describeAgreement(a: EvaluatorAgreement | undefined): string {
  if (!a) return 'evaluator agreement with people: unknown (no labels measured; label cases or scored samples with `cdk-ai-release regression label`)';
  if (a.compared === 0 || a.accuracy === undefined || !a.interval)
    return `evaluator agreement with people: unknown (${a.labels} label${a.labels === 1 ? '' : 's'}, none on an answer the evaluator model scored; measured ${a.measuredAt})`;
  return (
    `evaluator agreement with people: ${pct(a.accuracy)} (95 % Wilson interval ${pct(a.interval.low)}–${pct(a.interval.high)}) on ${a.compared} labelled answer${a.compared === 1 ? '' : 's'}` +
    `${a.labels > a.compared ? ` (${a.labels - a.compared} more labels not scored by the evaluator)` : ''}` +
    `, Cohen's kappa ${a.kappa === undefined ? 'undefined (one label only)' : a.kappa.toFixed(2)}` +
    `; evaluator flagged ${a.confusion.badGood} answer${a.confusion.badGood === 1 ? '' : 's'} people found good and passed ${a.confusion.goodBad} they found bad; measured ${a.measuredAt}`
  );
}
