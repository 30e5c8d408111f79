import type { ReviewPorts, StorePort } from '../lambda/review/ports';
import { runReview } from '../lambda/review/review';
import { gateKeys, type ReleaseReview } from '../lambda/shared/contract';
import { alarmInfos, cases, codeDeployEvent, manifests, metricData, rolledBackDeployment, transitions } from './review-fixtures';

/** In-memory review ports (the store keeps objects), as in release-review.test.ts. */
function ports(objects: Map<string, string>): ReviewPorts {
  const store: StorePort = {
    exists: async (k) => objects.has(k),
    put: async (k, body) => {
      objects.set(k, body);
      return 'written';
    },
    location: (k) => `s3://store/${k}`,
  };
  let now = Date.parse('2026-01-15T10:30:00.000Z');
  return {
    deployments: { describe: async () => rolledBackDeployment },
    manifests: { history: async () => manifests() },
    alarms: { alarms: async () => alarmInfos, history: async () => transitions },
    metrics: { fetch: async () => metricData() },
    cases: { touchedSince: async () => cases() },
    store,
    notifier: { publish: async () => undefined },
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
  };
}

describe('a review links its release’s gate report', () => {
  test('when the gate wrote one: the keys in the JSON and a line in the Markdown', async () => {
    const objects = new Map<string, string>();
    const keys = gateKeys('svc', 'code-d-123456789');
    objects.set(keys.json, '{}');
    await runReview(codeDeployEvent('FAILURE'), ports(objects), { stack: 'Rev' });
    const review = JSON.parse(objects.get('reviews/svc/code-d-123456789.json')!) as ReleaseReview;
    expect(review.gate).toEqual({ verdict: 'unknown', json: keys.json, md: keys.md });
    expect(objects.get('reviews/svc/code-d-123456789.md')).toContain(`Regression gate report: \`${keys.md}\``);
  });

  test('when there is none: no link, and the review is not partial', async () => {
    const objects = new Map<string, string>();
    await runReview(codeDeployEvent('FAILURE'), ports(objects), { stack: 'Rev' });
    const review = JSON.parse(objects.get('reviews/svc/code-d-123456789.json')!) as ReleaseReview;
    expect(review.gate).toBeUndefined();
    expect(review.missing.map((m) => m.lookup)).not.toContain('gate report (store)');
  });
});
