/**
 * Labels on any scored evaluation sample (issue 17 F, h7-evaluator), end to end on the S3 model: runtime samples ->
 * the real evaluator delivery (a fake evaluator model) keeps every scored sample -> `cdk-ai-release regression label
 * <service> <sample-id> good|bad` on samples that never became cases (and on one that did) -> `regression agreement`
 * and the review's Evaluator section count them.
 */
import { gzipSync } from 'node:zlib';
import { type ConverseRequest, type ConverseResponse, SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateDelivery } from '../lambda/evaluator/delivery';
import { storeEvaluatorTrust } from '../lambda/review/evaluator-trust';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { redact } from '../lambda/runtime/redact';
import type { FailureRecord } from '../lambda/shared/contract';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { type EvaluatorAgreement, type LabelSet, labelSetKey, sampleIdOf, withLabel } from '../lambda/shared/evaluator-agreement';
import { findScoredSample } from '../lambda/shared/sample-labels';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { withRetries } from '../lambda/snapshot/store';
import { caseIdOf, RegressionCases } from '../lib/learning/regression-cases';
import { cli, mockedClients, SERVICE } from './cli-fixtures';
import { modelClient, type S3Model, startS3Model } from './s3-model';
import { delivery, tuple } from './s3rver-harness';

const config: EvaluationConfig = {
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.', floor: 3 }],
  samplingRate: 1,
  budget: { perReleaseUsd: 5, perDayUsd: 5 },
};
const input = (i: number) => JSON.stringify({ question: `How do I reset device ${i}? My email is person${i}@example.com` });
const requestId = (i: number) => `7d1c2b3a-0000-4000-8000-00000000000${i}`;
const sampleId = (i: number) => sampleIdOf(SERVICE, requestId(i));
/** Answers that send the customer away score 1 (under the floor), others 5. */
const model = {
  async converse(req: ConverseRequest): Promise<ConverseResponse> {
    const off = req.messages[0].content[0].text.includes('Please call us');
    return {
      output: { message: { content: [{ toolUse: { name: SCORE_TOOL, input: { score: off ? 1 : 5, reason: off ? 'does not answer' : 'answers' } } }] } },
      usage: { inputTokens: 300, outputTokens: 20 },
    };
  },
};
const answers: Record<number, string> = { 1: 'Please call us.', 2: 'Hold the button for 10 s.', 3: 'Hold the button for 10 s.', 4: 'Hold it for 10 s.' };

let m: S3Model;
let client: ReturnType<typeof modelClient>;
const run = (args: string[]) => cli(args, mockedClients(client).clients);
let store: string[];

beforeAll(async () => {
  m = await startS3Model({ latencyMs: [1, 5] });
  client = modelClient(m.endpoint);
  store = ['--bucket', m.bucket];
  const objects = withRetries(s3Store(client, m.bucket));
  const lines = Object.entries(answers).map(([i]) =>
    JSON.stringify(
      buildEvaluationSample(
        {
          service: SERVICE,
          requestId: requestId(Number(i)),
          time: new Date(Date.UTC(2026, 11, 7, 6, 0, Number(i))),
          tuple: tuple(SERVICE),
          functionVersion: '7',
          arm: 'stable',
          input: input(Number(i)),
          answer: answers[Number(i)],
        },
        1,
      ),
    ),
  );
  const data = { messageType: 'DATA_MESSAGE', owner: '1', logGroup: `/aws/lambda/${SERVICE}`, logStream: 's', subscriptionFilters: ['f'] };
  const logEvents = lines.map((message, i) => ({ id: `e-${i}`, timestamp: 0, message }));
  const lowScores: FailureRecord[] = [];
  let ledger: unknown;
  const outcome = await evaluateDelivery(
    { awslogs: { data: gzipSync(Buffer.from(JSON.stringify({ ...data, logEvents }))).toString('base64') } },
    {
      evaluator: () => ({
        model,
        ledger: { read: async () => ({ ledger: ledger as never, etag: ledger ? 'x' : undefined }), write: async (l) => ((ledger = l), true) },
        sleep: async () => {},
        random: () => 0,
        now: () => new Date('2026-12-07T06:01:00Z'),
      }),
      liveEvaluation: async () => config,
      store: objects,
      publish: () => {},
      writeFailureRecord: (r) => lowScores.push(r),
      concurrency: 2,
    },
  );
  expect(outcome).toMatchObject({ evaluated: 4, candidates: 1 });
  // Sample 1 scored under the floor: it became a case. Samples 2–4 scored good: no case, only their scored samples.
  await snapshot(delivery(lowScores), { store: objects, redact });
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await m?.close();
});

describe('regression label on a scored sample', () => {
  test('an unknown id names both kinds of id and where each is listed; a bad id names the format', async () => {
    const unknown = await run(['regression', 'label', SERVICE, 'abcdef12', 'bad', ...store, '--by', 'alice']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe(
      `cdk-ai-release: no case and no scored evaluation sample of service ${SERVICE} starts with abcdef12; \`cdk-ai-release regression list ${SERVICE}\` lists the cases, and the evaluator keeps the samples it scored under evaluations/${SERVICE}/samples/ in the regression store (a sample the budget skipped is not kept)\n`,
    );
    const full = await run(['regression', 'label', SERVICE, 'ab'.repeat(16), 'bad', ...store, '--by', 'alice']);
    expect(full.err).toContain(`has the id ${'ab'.repeat(16)}`);
    const bad = await run(['regression', 'label', SERVICE, 'req-1', 'bad', ...store, '--by', 'alice']);
    expect(bad.err).toBe(
      'cdk-ai-release: <id> is a case id or an evaluation sample id: 32 lower-case hex characters (or a unique prefix of at least 6), got "req-1"\n',
    );
    await expect(RegressionCases.s3(m.bucket, { client }).label(SERVICE, 'cd'.repeat(16), { label: 'bad', by: 'x' })).rejects.toThrow(
      `no case and no scored sample ${'cd'.repeat(16)} for service ${SERVICE}`,
    );
  });

  test('samples that never became cases join the labelled set, and the agreement counts them', async () => {
    // Sample 2: by its full id; people agree with the evaluator (good).
    const two = await run(['regression', 'label', SERVICE, sampleId(2), 'good', ...store, '--by', 'alice']);
    expect(two.code).toBe(0);
    // The label is kept under the case id of the sample's (redacted) input: the id a case of that input would have.
    const key2 = caseIdOf(SERVICE, redact(input(2)));
    expect(two.out).toBe(`sample ${sampleId(2)} (request ${requestId(2)}, input of case ${key2}): labelled good by alice (1 labelled cases)\n`);
    // Sample 3 by a prefix: people find its answer bad (the evaluator passed it: a disagreement).
    expect((await run(['regression', 'label', SERVICE, sampleId(3).slice(0, 10), 'bad', ...store, '--by', 'bob', '--reason', 'wrong device'])).code).toBe(0);
    // Sample 1 became a case: labelling its sample lands on the case's label, with the case's request id.
    const caseOf1 = (await RegressionCases.s3(m.bucket, { client }).list(SERVICE))[0];
    expect(caseOf1.sampleRequestIds).toEqual([requestId(1)]);
    expect((await run(['regression', 'label', SERVICE, sampleId(1), 'bad', ...store, '--by', 'carol'])).code).toBe(0);

    const set = JSON.parse(m.objects.get(labelSetKey(SERVICE))?.body ?? '{}') as LabelSet;
    expect(Object.keys(set.labels).sort()).toEqual([caseOf1.caseId, key2, caseIdOf(SERVICE, redact(input(3)))].sort());
    expect(set.labels[caseOf1.caseId]).toMatchObject({ label: 'bad', by: 'carol', sampleId: sampleId(1), requestIds: [requestId(1)] });
    expect(set.labels[key2]).toMatchObject({ label: 'good', sampleId: sampleId(2), requestIds: [requestId(2)] });
    // Nothing unredacted reaches the label set (the sample's input had an email).
    expect(m.objects.get(labelSetKey(SERVICE))?.body).not.toContain('@example.com');

    const a = JSON.parse((await run(['regression', 'agreement', SERVICE, ...store, '--json'])).out) as EvaluatorAgreement;
    expect(a).toMatchObject({ labels: 3, compared: 3, agree: 2, confusion: { badBad: 1, badGood: 0, goodBad: 1, goodGood: 1 } });
    // The review's Evaluator section reads the same store.
    const trust = await storeEvaluatorTrust(s3Store(client, m.bucket)).agreement(SERVICE);
    expect(trust).toMatchObject({ labels: 3, compared: 3, agree: 2 });
  });

  test('an ambiguous sample prefix names the candidates', async () => {
    // Two stored samples whose ids share a 6-character prefix (written as the evaluator writes them).
    const objects = s3Store(client, m.bucket);
    for (const id of ['fedcba0000000000000000000000000a', 'fedcba0000000000000000000000000b'])
      await objects.put(
        `evaluations/${SERVICE}/samples/${id}.json`,
        JSON.stringify({ sample: { sampleId: id, requestId: `r-${id}`, input: 'q', time: '2026-12-07T06:00:00Z' }, result: {} }),
      );
    const r = await run(['regression', 'label', SERVICE, 'fedcba', 'bad', ...store, '--by', 'alice']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('2 scored samples of assistant start with fedcba (fedcba0000000000000000000000000a, fedcba0000000000000000000000000b)');
    expect(await findScoredSample(objects, SERVICE, 'fedcba0000000000000000000000000a')).toMatchObject({
      requestId: 'r-fedcba0000000000000000000000000a',
      scored: true,
    });
  });
});

describe('withLabel keeps the request ids of the label it replaces', () => {
  test("labelling a case's input by one of its samples does not forget the case's other samples", () => {
    const at = '2026-12-07T07:00:00.000Z';
    const base = { caseId: 'c1', source: 'promote' as const, by: 'a', at };
    let set = withLabel(undefined, SERVICE, { ...base, label: 'bad', requestIds: ['r1', 'r2'] }, at);
    set = withLabel(set, SERVICE, { ...base, source: 'label', label: 'good', by: 'b', requestIds: ['r3', 'r1'], sampleId: 's3' }, at);
    expect(set.labels.c1).toMatchObject({ label: 'good', by: 'b', requestIds: ['r2', 'r3', 'r1'], sampleId: 's3' });
    // Bounded: the newest 20.
    set = withLabel(set, SERVICE, { ...base, source: 'label', label: 'bad', requestIds: Array.from({ length: 25 }, (_, i) => `n${i}`) }, at);
    expect(set.labels.c1.requestIds).toHaveLength(20);
    expect(set.labels.c1.requestIds.at(-1)).toBe('n24');
  });
});
