/**
 * Labels on any scored evaluation sample (issue 17 F, h7-evaluator): `cdk-ai-release regression label <service>
 * <sample-id> good|bad` finds the sample the evaluator kept in the regression store and labels it under the case id of
 * its input, so the agreement with people (CLI, review, card, policy) counts answers that never became regression
 * cases. Behind the store port, no SDK import; apart from label-store.ts so the review function's bundle does not
 * carry the case logic.
 */
import { caseIdOf } from '../snapshot/cases';
import type { ObjectStore } from '../snapshot/store';
import { evaluationKey } from './evaluation';

/** Where a service's scored samples are kept (one object per sample, `evaluationKey`). */
export const scoredSamplesPrefix = (service: string): string => evaluationKey(service, '').slice(0, -'.json'.length);

/** A scored evaluation sample as labelling needs it: which request, which input (already redacted by the runtime). */
export interface ScoredSampleRef {
  readonly sampleId: string;
  readonly requestId: string;
  /** The case id the sample's input has: the key its label is kept under. */
  readonly caseId: string;
  readonly time?: string;
  readonly scored: boolean;
}

/**
 * Finds a scored sample by its id or a unique prefix of at least 6 hex characters (S3 lists by key prefix, so a
 * prefix costs one listing of the matching keys only). Undefined when no sample matches; throws, naming the ids, when a
 * prefix matches several.
 */
export async function findScoredSample(store: Pick<ObjectStore, 'get' | 'list'>, service: string, id: string): Promise<ScoredSampleRef | undefined> {
  const prefix = scoredSamplesPrefix(service);
  let key = evaluationKey(service, id);
  if (!/^[0-9a-f]{32}$/.test(id)) {
    if (!/^[0-9a-f]{6,31}$/.test(id)) return undefined;
    const keys = (await store.list(`${prefix}${id}`)).filter((k) => k.endsWith('.json'));
    if (keys.length === 0) return undefined;
    if (keys.length > 1)
      throw new Error(
        `${keys.length} scored samples of ${service} start with ${id} (${keys.map((k) => k.slice(prefix.length, -5)).join(', ')}); give more characters`,
      );
    key = keys[0];
  }
  const o = await store.get(key);
  if (!o) return undefined;
  let v: { sample?: { sampleId?: unknown; requestId?: unknown; input?: unknown; caseId?: unknown; time?: unknown }; result?: { skipped?: unknown } };
  try {
    v = JSON.parse(o.body);
  } catch (e) {
    throw new Error(`${key} is not JSON (${(e as Error).message}); it was written by the evaluator: restore it from its previous S3 version`);
  }
  const s = v?.sample;
  if (!s || typeof s.sampleId !== 'string' || typeof s.requestId !== 'string' || typeof s.input !== 'string')
    throw new Error(`${key} has no sample with sampleId, requestId and input; it is not a scored sample this version reads`);
  return {
    sampleId: s.sampleId,
    requestId: s.requestId,
    // The sampler stamps the case id of the (redacted) input; computed the same way for a sample without it.
    caseId: typeof s.caseId === 'string' && /^[0-9a-f]{32}$/.test(s.caseId) ? s.caseId : caseIdOf(service, s.input),
    ...(typeof s.time === 'string' ? { time: s.time } : {}),
    scored: !v.result?.skipped,
  };
}
