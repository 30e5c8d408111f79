import { type ReleaseReview, reviewKeys } from '../shared/contract';

/** Reads a review from parsed JSON (a `reviews/<service>/<key>.json` object); refuses what it does not know. */
export function parseReleaseReview(json: unknown, source = 'review'): ReleaseReview {
  const r = json as Partial<ReleaseReview> | null;
  if (!r || typeof r !== 'object') throw new Error(`${source} is not a release review (an object with schemaVersion 1)`);
  if (r.schemaVersion !== 1) {
    throw new Error(`${source} has schemaVersion ${String(r.schemaVersion)}; this version of cdk-ai-release reads 1: upgrade cdk-ai-release to read it`);
  }
  for (const field of ['service', 'plane', 'releaseKey', 'outcome', 'conclusion'] as const) {
    if (typeof r[field] !== 'string') throw new Error(`${source}: ${field} must be a string; is this a reviews/<service>/<release>.json object?`);
  }
  if (!Array.isArray(r.timeline) || !Array.isArray(r.actionItems) || typeof r.partial !== 'boolean') {
    throw new Error(`${source}: timeline and actionItems must be arrays and partial a boolean`);
  }
  const keys = reviewKeys(r.service!, r.releaseKey!);
  if (r.objects?.json !== keys.json) throw new Error(`${source}: objects.json must be ${keys.json} (the key of service ${r.service}, release ${r.releaseKey})`);
  return r as ReleaseReview;
}
