import { newJudgeState, updateJudge } from '../lambda/judge/judge';
import type { JudgeObservation } from '../lambda/canary-judge/engine-port';
import { buildReview, reviewJudge } from '../lambda/review/review';
import { renderReviewMarkdown } from '../lambda/review/render-markdown';
import type { JudgeRecord } from '../lambda/shared/contract';
import { at, codeRelease, rolledBackDeployment } from './review-fixtures';

const record = (over: Partial<JudgeRecord> = {}): JudgeRecord => ({
  schemaVersion: 1,
  service: 'svc',
  plane: 'code',
  releaseKey: codeRelease.releaseKey,
  canary: '8',
  stable: '7',
  phase: 'after-traffic',
  until: 0,
  updates: 42,
  samples: { canary: 300, stable: 2700 },
  verdict: 'regression',
  evidence: [
    { metric: 'errors', eValue: 180.4, threshold: 100, canary: { n: 300, value: 0.05 }, stable: { n: 2700, value: 0.01 } },
    { metric: 'latency', eValue: 2, threshold: 100, canary: { n: 300, value: 900 }, stable: { n: 2700, value: 850 } },
  ],
  engine: {},
  ...over,
});

describe('the review says which verdict the judge reached', () => {
  test('regression, with the strongest evidence', () => {
    expect(reviewJudge(record())).toEqual({
      verdict: 'regression',
      samples: { canary: 300, stable: 2700 },
      updates: 42,
      detail:
        'the sequential test showed a regression of 8 against 7; 300 canary and 2700 stable samples over 42 updates; strongest evidence errors: e-value 180.4 against 100',
      key: `judge/svc/${codeRelease.releaseKey}.json`,
    });
  });

  test('no regression shown; inconclusive at the bound, after a judge failure, or when the release ended first', () => {
    expect(reviewJudge(record({ verdict: 'no-regression-shown', evidence: [] })).detail).toMatch(/^the test was conclusive: no regression of 8 shown;/);
    expect(reviewJudge(record({ verdict: 'inconclusive', evidence: [] })).detail).toMatch(/^not enough evidence either way before the bound;/);
    expect(reviewJudge(record({ verdict: 'inconclusive', error: 'Logs Insights query q ended Failed' })).detail).toMatch(/^the judge failed \(Logs Insights/);
    const early = reviewJudge(record({ verdict: 'continue', phase: 'canary' }));
    expect(early.verdict).toBe('inconclusive');
    expect(early.detail).toMatch(/^the release ended before the judge concluded;/);
  });

  test('the review JSON carries it and the Markdown has a section for it', () => {
    const review = buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, judge: record(), missing: [] });
    expect(review.judge?.verdict).toBe('regression');
    const md = renderReviewMarkdown(review, { svgFile: 'x.svg' });
    expect(md).toContain('## Canary judge');
    expect(md).toContain('Verdict: **regression**: the sequential test showed a regression of 8 against 7');
    const without = buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, missing: [] });
    expect(without.judge).toBeUndefined();
    expect(renderReviewMarkdown(without, { svgFile: 'x.svg' })).not.toContain('## Canary judge');
  });

  test('a judge that could not judge says so (issue 16-F): failed updates and unjudged samples, in the JSON and the Markdown', () => {
    const j = record({
      verdict: 'inconclusive',
      failures: { count: 7, last: 'Logs Insights query q ended Timeout', at: '2026-11-27T09:07:00.000Z' },
      unused: { samples: 12, reasons: ['a window during the traffic shift with no stable sample (nothing concurrent to compare it with)'] },
    });
    expect(reviewJudge(j).cannotJudge).toBe(
      'the judge could not judge all of this release: 7 judge updates failed (last at 2026-11-27T09:07:00.000Z: Logs Insights query q ended Timeout); 12 samples not judged (a window during the traffic shift with no stable sample (nothing concurrent to compare it with))',
    );
    expect(reviewJudge(record()).cannotJudge).toBeUndefined();
    const md = renderReviewMarkdown(
      buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, judge: j, missing: [] }),
      {
        svgFile: 'x.svg',
      },
    );
    expect(md).toContain('**Not fully judged:** the judge could not judge all of this release: 7 judge updates failed');
  });

  test('a before/after difference the real engine found at full traffic informs the review, never the verdict (issue 16 A)', () => {
    const ok = { error: false, safety: false, contract: false };
    const obs = (version: 'canary' | 'stable', error: boolean, i: number): JudgeObservation => ({ version, at: 0, ...ok, error, latencyMs: 50 + (i % 100) });
    // 20,000 stable requests at 1 % errors before the release; then 600 at full traffic failing 10 %: no concurrent
    // control, under the gross 20 %, so the engine may not roll back; its before/after test says worse
    const base = Array.from({ length: 20_000 }, (_, i) => obs('stable', i < 200, i));
    const st = updateJudge(newJudgeState(), { canaryShare: 0, observations: base }).state;
    const u = updateJudge(st, { canaryShare: 1, observations: Array.from({ length: 600 }, (_, i) => obs('canary', i < 60, i)) });
    expect(u.decision).toBe('continue');
    const j = record({ verdict: 'inconclusive', evidence: u.evidence as JudgeRecord['evidence'] });
    const said = reviewJudge(j);
    expect(said.verdict).toBe('inconclusive');
    expect(said.beforeAfter).toMatch(
      /^at full traffic the new version differs from the stable baseline read before the release in error \(e-value [\d.e+]+ against 1200\)/,
    );
    expect(said.beforeAfter).toContain('never rolled back');
    const md = renderReviewMarkdown(
      buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, judge: j, missing: [] }),
      {
        svgFile: 'x.svg',
      },
    );
    expect(md).toContain('**Before/after (informs only):** at full traffic the new version differs');
    // the same release without a before/after difference says nothing of it
    const same = updateJudge(st, { canaryShare: 1, observations: Array.from({ length: 600 }, (_, i) => obs('canary', i < 6, i)) });
    expect(reviewJudge(record({ verdict: 'inconclusive', evidence: same.evidence as JudgeRecord['evidence'] })).beforeAfter).toBeUndefined();
    expect(reviewJudge(record()).beforeAfter).toBeUndefined();
  });
});
