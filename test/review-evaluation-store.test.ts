/**
 * The review reads the evaluator's stored results (s3rver on loopback, the S3 protocol) and shows them: "what changed
 * in behaviour" beside "what changed in config", the scores with intervals and the paired outcome, in the JSON and the
 * Markdown. The code plane's canary is the deployment's new version.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Evaluations } from '../lambda/review/aws-adapters';
import type { StoredEvaluation } from '../lambda/review/evaluation';
import { renderReviewMarkdown } from '../lambda/review/render-markdown';
import { buildReview } from '../lambda/review/review';
import { EVALUATION_SAMPLE_TYPE, evaluationKey } from '../lambda/shared/evaluation';
import { at, codeRelease, rolledBackDeployment } from './review-fixtures';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3();
  client = s3Client(s3.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

/** One stored result as lambda/evaluator/delivery.ts writes it. The deployment moves 6 → 7: version 7 is the canary. */
function stored(i: number, service = 'svc'): StoredEvaluation {
  const version = i % 2 ? '7' : '6';
  const canary = version === '7';
  const caseId = `case-${i}`;
  return {
    evaluation: 'rubric-v1',
    sample: {
      type: EVALUATION_SAMPLE_TYPE,
      service,
      sampleId: `sample-${i}`,
      requestId: `r-${i}`,
      time: at(10 + i),
      tuple: {} as never,
      functionVersion: version,
      arm: 'stable', // the runtime cannot tell the code canary: the review does, by version
      caseId,
      input: `{"question":"where is my order ${i}"}`,
      // The canary's answers are four times as long and never cite.
      answer: canary ? 'x'.repeat(800 + i) : 'y'.repeat(200 + i),
      passages: [],
      citations: canary ? [] : ['p1'],
      toolCalls: [],
      stopReason: 'end_turn',
      inputTokens: 900 + i,
      outputTokens: canary ? 200 : 50,
      sampledAt: 0.1,
    },
    result: {
      sampleId: `sample-${i}`,
      service,
      arm: 'stable',
      functionVersion: version,
      caseId,
      scores: [{ criterion: 'groundedness', score: canary ? 2 : 5, reason: '', source: 'model' }],
      unscored: [],
      ...(canary ? { paired: { outcome: 'stable' as const, reasons: ['the stable answer cites the order page', 'same in the other order'] } } : {}),
      costUsd: 0.002,
      belowFloor: [],
    },
  };
}

test('the store adapter reads this service’s results written in the window, and the review shows them', async () => {
  const all = [...Array.from({ length: 60 }, (_, i) => stored(i)), stored(100, 'other-svc')];
  for (const r of all)
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: evaluationKey(r.sample.service, r.sample.sampleId), Body: JSON.stringify(r) }));
  // The ledger lives beside the samples and is never read as one.
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'evaluations/svc/ledger.json', Body: '{"releaseKey":"x"}' }));
  const now = Date.now();
  const read = await s3Evaluations(client, BUCKET).samples('svc', new Date(now - 60_000).toISOString(), new Date(now).toISOString());
  expect(read).toHaveLength(60);
  expect(read.every((r) => r.sample.service === 'svc')).toBe(true);
  // A window that ended long before they were written (beyond the evaluator's 15-minute lag) reads none.
  expect(await s3Evaluations(client, BUCKET).samples('svc', '2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z')).toEqual([]);

  const review = buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, evaluations: read, missing: [] });
  const e = review.evaluation!;
  expect(e.samples).toMatchObject({ canary: 30, stable: 30 });
  expect(e.paired).toEqual({ wins: 0, losses: 30, ties: 0, unscored: 0 });
  expect(e.scores[0]).toMatchObject({ criterion: 'groundedness', canary: { n: 30, mean: 2 }, stable: { n: 30, mean: 5 } });
  const shifted = e.fingerprint.filter((f) => f.shifted).map((f) => f.field);
  expect(shifted).toEqual(['answer length', 'citation rate', 'output tokens']);
  const md = renderReviewMarkdown(review, { svgFile: 'x.svg' });
  expect(md.indexOf('### What changed in behaviour')).toBeGreaterThan(md.indexOf('## What changed'));
  expect(md.indexOf('### What changed in behaviour')).toBeLessThan(md.indexOf('## Timeline'));
  expect(md).toMatch(
    /\| answer length \| median \d+ \(n 30\) \| median \d+ \(n 30\) \| rank \(Mann–Whitney\) \| [0-9.e-]+ \| \*\*shifted\*\*: median \d+ → \d+ \(\+\d+ %\) \|/,
  );
  // The conclusion says what shifted and by how much, after what decided (h11-eval17).
  expect(review.conclusion).toMatch(
    /^Rolled back .*\. Behaviour shifted, canary against stable \(informs, does not decide\): answer length median \d+ → \d+ \(\+\d+ %\) .*; citation rate 100\.0 % → 0\.0 % \(−100\.0 points\) .*; output tokens median 50 → 200 \(\+300 %\)/,
  );
  expect(md).toMatch(/\| stop reasons \| end_turn 100 % \| end_turn 100 % \| chi-square \(homogeneity\) \| 1 \| not shown \|/);
  expect(md).toContain('canary won 0, lost 30, tied 0');
  expect(md).toContain('the stable answer cites the order page');
  expect(review.actionItems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Behaviour changed \(canary against stable\): answer length, citation rate, output tokens\./),
      expect.stringMatching(/^The canary lost 30 of 30 paired comparisons \(won 0\)/),
    ]),
  );
  // Without evaluation results, no section (and the rest of the review is unchanged).
  const plain = buildReview({ release: codeRelease, stack: 'Rev', now: at(600), deployment: rolledBackDeployment, missing: [] });
  expect(plain.evaluation).toBeUndefined();
  expect(plain.actionItems.join()).not.toMatch(/Behaviour changed|paired comparisons/);
  expect(renderReviewMarkdown(plain, { svgFile: 'x.svg' })).not.toContain('What changed in behaviour');
});
