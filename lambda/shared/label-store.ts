/**
 * People's labels in the regression store, and the evaluator's agreement with them measured from the store. Behind
 * the store port (lambda/snapshot/store.ts), no SDK import: the CLI, the library (RegressionCases) and the review
 * function use the same code.
 *
 * The label set of a service is one object, `evaluations/<service>/labels.json`, replaced by compare-and-swap the way
 * the case index is: read it with its ETag, add the label, write it with `If-Match: <ETag>` (`If-None-Match: *` when
 * new); a 412 means another writer committed in between: back off with full jitter, read again, retry. So two people
 * labelling at once both keep their label.
 */
import type { ObjectStore } from '../snapshot/store';
import { evaluationKey } from './evaluation';
import {
  type AgreementPair,
  computeAgreement,
  type EvaluatorAgreement,
  evaluatorVerdict,
  type HumanLabel,
  type HumanLabelValue,
  type LabelSet,
  labelSetKey,
  parseLabelSet,
  sampleIdOf,
  withLabel,
} from './evaluator-agreement';

const CAS_ATTEMPTS = 40;

export interface LabelStoreOptions {
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** The service's label set, or undefined when nobody labelled yet. */
export async function readLabels(store: Pick<ObjectStore, 'get'>, service: string): Promise<LabelSet | undefined> {
  const key = labelSetKey(service);
  const o = await store.get(key);
  return o ? parseLabelSet(o.body, key) : undefined;
}

/** Adds one label by compare-and-swap (see the module comment); returns the label set as written. */
export async function recordLabel(store: ObjectStore, service: string, label: HumanLabel, options: LabelStoreOptions = {}): Promise<LabelSet> {
  const key = labelSetKey(service);
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(Math.floor(random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 6))));
    const o = await store.get(key);
    const next = withLabel(o ? parseLabelSet(o.body, key) : undefined, service, label, now().toISOString());
    const r = await store.put(key, JSON.stringify(next), { condition: o?.etag ? { ifMatch: o.etag } : { ifNoneMatch: '*' } });
    if (r === 'written') return next;
  }
  throw new Error(`${key} kept changing under concurrent writes (${CAS_ATTEMPTS} attempts); try again`);
}

/** What a scored sample object (`evaluations/<service>/samples/<id>.json`, written by the evaluator) holds that matters here. */
interface StoredScore {
  readonly sample?: { readonly time?: string };
  readonly result?: {
    readonly scores?: readonly { readonly source?: string }[];
    readonly belowFloor?: readonly unknown[];
    readonly skipped?: string;
  };
}

/** The evaluator's verdict on a labelled case: its latest scored sample among the case's request ids. */
export async function verdictOf(store: Pick<ObjectStore, 'get'>, service: string, label: HumanLabel): Promise<HumanLabelValue | undefined> {
  let best: { time: string; verdict: HumanLabelValue } | undefined;
  for (const requestId of label.requestIds) {
    const o = await store.get(evaluationKey(service, sampleIdOf(service, requestId)));
    if (!o) continue;
    let s: StoredScore;
    try {
      s = JSON.parse(o.body) as StoredScore;
    } catch {
      continue; // an unreadable sample is no verdict, never a disagreement
    }
    if (s.result?.skipped) continue;
    const verdict = evaluatorVerdict({
      modelScores: (s.result?.scores ?? []).filter((x) => x.source === 'model').length,
      belowFloor: (s.result?.belowFloor ?? []).length,
      time: s.sample?.time ?? '',
    });
    const time = s.sample?.time ?? '';
    if (verdict && (!best || time >= best.time)) best = { time, verdict };
  }
  return best?.verdict;
}

/** The evaluator's agreement with people over the service's labels, read from the store. Undefined: no labels. */
export async function measureAgreement(
  store: Pick<ObjectStore, 'get'>,
  service: string,
  options: { readonly now?: () => Date; readonly source?: string; readonly concurrency?: number } = {},
): Promise<EvaluatorAgreement | undefined> {
  const set = await readLabels(store, service);
  if (!set || Object.keys(set.labels).length === 0) return undefined;
  const labels = Object.values(set.labels);
  const pairs: AgreementPair[] = new Array(labels.length);
  let next = 0;
  const worker = async () => {
    while (next < labels.length) {
      const i = next++;
      pairs[i] = { caseId: labels[i].caseId, people: labels[i].label, evaluator: await verdictOf(store, service, labels[i]) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(labels.length, options.concurrency ?? 8) }, worker));
  return computeAgreement(pairs, (options.now ?? (() => new Date()))().toISOString(), options.source ?? labelSetKey(service));
}
