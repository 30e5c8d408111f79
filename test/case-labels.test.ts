/**
 * People's labels and the evaluator's agreement with them (issue 17 F), end to end on the store:
 * runtime samples -> the real evaluator delivery (a fake evaluator model) -> low scores become failure records -> the
 * snapshot function makes them cases -> `cdk-ai-release regression label|promote|retire|agreement` on s3rver.
 * Concurrent labelling against the S3 model with conditional writes (s3rver ignores If-Match / If-None-Match).
 */
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Ledger } from '../lambda/evaluator/budget';
import { type ConverseRequest, type ConverseResponse, SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateDelivery } from '../lambda/evaluator/delivery';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { redact } from '../lambda/runtime/redact';
import type { FailureRecord } from '../lambda/shared/contract';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { type EvaluatorAgreement, labelSetKey, type LabelSet } from '../lambda/shared/evaluator-agreement';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { withRetries } from '../lambda/snapshot/store';
import { caseIdOf, RegressionCases } from '../lib/learning/regression-cases';
import { cli, mockedClients, SERVICE } from './cli-fixtures';
import { type EvaluatorTrustPort, storeEvaluatorTrust } from '../lambda/review/evaluator-trust';
import type { ReviewPorts } from '../lambda/review/ports';
import { runReview } from '../lambda/review/review';
import type { ReleaseReview } from '../lambda/shared/contract';
import { alarmInfos, codeDeployEvent, manifests, metricData, rolledBackDeployment, transitions } from './review-fixtures';
import { modelClient, startS3Model } from './s3-model';
import { BUCKET, delivery, record, s3Client, startS3, tuple } from './s3rver-harness';

const config: EvaluationConfig = {
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.', floor: 3 }],
  samplingRate: 1,
  budget: { perReleaseUsd: 5, perDayUsd: 5 },
};

const input = (i: number) => JSON.stringify({ question: `How do I reset device ${i}?` });
const requestId = (i: number) => `3f2b8c1e-9a4d-4e6f-8b2a-00000000000${i}`;
/** The evaluator model: answers that send the customer away score 1, others 5. */
const model = {
  async converse(req: ConverseRequest): Promise<ConverseResponse> {
    const off = req.messages[0].content[0].text.includes('Please call us');
    return {
      output: { message: { content: [{ toolUse: { name: SCORE_TOOL, input: { score: off ? 1 : 5, reason: off ? 'does not answer' : 'answers' } } }] } },
      usage: { inputTokens: 300, outputTokens: 20 },
    };
  },
};

function samplesDelivery(answers: Record<number, string>) {
  const lines = Object.entries(answers).map(([i, answer]) =>
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
          answer,
        },
        1,
      ),
    ),
  );
  const data = { messageType: 'DATA_MESSAGE', owner: '1', logGroup: `/aws/lambda/${SERVICE}`, logStream: 's', subscriptionFilters: ['f'] };
  const logEvents = lines.map((message, i) => ({ id: `e-${i}`, timestamp: 0, message }));
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify({ ...data, logEvents }))).toString('base64') } };
}

let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;
const run = (args: string[]) => cli(args, mockedClients(client).clients);
const store = ['--bucket', BUCKET];
const A = caseIdOf(SERVICE, input(1)); // the evaluator scored it bad
const B = caseIdOf(SERVICE, input(2)); // the evaluator scored it bad
const C = caseIdOf(SERVICE, input(3)); // a contract failure the evaluator scored good
const D = caseIdOf(SERVICE, input(4)); // an error never sampled: no verdict

beforeAll(async () => {
  s3 = await startS3();
  client = s3Client(s3.endpoint);
  const objects = s3Store(client, BUCKET);
  let ledger: Ledger | undefined;
  const lowScores: FailureRecord[] = [];
  const outcome = await evaluateDelivery(samplesDelivery({ 1: 'Please call us.', 2: 'Please call us.', 3: 'Hold the button for 10 s.' }), {
    evaluator: () => ({
      model,
      ledger: {
        read: async () => ({ ledger, etag: ledger ? 'x' : undefined }),
        write: async (l) => {
          ledger = l;
          return true;
        },
      },
      sleep: async () => {},
      random: () => 0,
      now: () => new Date('2026-12-07T06:01:00Z'),
    }),
    liveEvaluation: async () => config,
    store: objects,
    releaseKey: async () => 'assistant-code-7',
    publish: () => {},
    writeFailureRecord: (r) => lowScores.push(r),
    concurrency: 2,
  });
  expect(outcome).toMatchObject({ evaluated: 3, candidates: 2 });
  const runtimeFailures = [
    record({ service: SERVICE, input: JSON.parse(input(3)), kinds: ['contract'], requestId: requestId(3) }),
    record({ service: SERVICE, input: JSON.parse(input(4)), kinds: ['error'], requestId: requestId(4) }),
  ];
  await snapshot(delivery([...lowScores, ...runtimeFailures]), { store: objects, redact });
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

describe('cdk-ai-release regression label and agreement', () => {
  test('before any label the agreement is unknown, and says how to label', async () => {
    const r = await run(['regression', 'agreement', SERVICE, ...store]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `${SERVICE}: evaluator agreement with people: unknown (no labels measured; label cases or scored samples with \`cdk-ai-release regression label\`)\n`,
    );
    expect(JSON.parse((await run(['regression', 'agreement', SERVICE, ...store, '--json'])).out)).toBeNull();
  });

  test('bad usage is one line with exit 2: a wrong label, an unknown case, no --by', async () => {
    const wrong = await run(['regression', 'label', SERVICE, A, 'meh', ...store, '--by', 'alice']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toBe('cdk-ai-release: <label> must be good or bad (good: the answer was acceptable; bad: the failure is real), got "meh"\n');
    const unknown = await run(['regression', 'label', SERVICE, 'abcdef12', 'bad', ...store, '--by', 'alice']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain(`no case and no scored evaluation sample of service ${SERVICE} starts with abcdef12`);
    const noBy = await run(['regression', 'label', SERVICE, A, 'bad', ...store]);
    expect(noBy.code).toBe(2);
    expect(noBy.err).toContain("required option '--by <who>' not specified");
  });

  test("labels, promote and retire form the labelled set; agreement counts the evaluator's verdicts against them", async () => {
    const a = await run(['regression', 'label', SERVICE, A.slice(0, 8), 'bad', ...store, '--by', 'alice', '--reason', 'sends the customer away']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(`${A}: labelled bad by alice: sends the customer away (1 labelled cases)\n`);
    // People find B's answer fine (the evaluator flagged it): a disagreement.
    expect((await run(['regression', 'label', SERVICE, B, 'good', ...store, '--by', 'bob'])).code).toBe(0);
    // Retiring the candidate C dismisses it: implied good; the evaluator scored it good too.
    expect((await run(['regression', 'retire', SERVICE, C, ...store, '--by', 'carol', '--reason', 'the contract was changed since'])).code).toBe(0);
    // D was never scored by the evaluator: a label, not a pair.
    expect((await run(['regression', 'promote', SERVICE, D, ...store, '--by', 'dave', '--reason', 'device resets must not fail'])).code).toBe(0);
    // Promoting B (explicitly labelled good) does not replace the explicit label.
    expect((await run(['regression', 'promote', SERVICE, B, ...store, '--by', 'erin', '--reason', 'keep it as a regression test'])).code).toBe(0);

    const cases = RegressionCases.s3(BUCKET, { client });
    const set = (await cases.labels(SERVICE)) as LabelSet;
    expect(Object.fromEntries(Object.entries(set.labels).map(([id, l]) => [id, `${l.label} ${l.source} ${l.by}`]))).toEqual({
      [A]: 'bad label alice',
      [B]: 'good label bob',
      [C]: 'good retire carol',
      [D]: 'bad promote dave',
    });
    expect(set.labels[A].requestIds).toEqual([requestId(1)]);

    const r = await run(['regression', 'agreement', SERVICE, ...store, '--json']);
    const agreement = JSON.parse(r.out) as EvaluatorAgreement;
    expect(agreement).toMatchObject({
      labels: 4,
      compared: 3,
      agree: 2,
      confusion: { badBad: 1, badGood: 1, goodBad: 0, goodGood: 1 },
      source: `s3://${BUCKET}/${labelSetKey(SERVICE)}`,
    });
    expect(agreement.accuracy).toBeCloseTo(2 / 3, 10);
    expect(agreement.kappa).toBeCloseTo(0.4, 10); // po 2/3, pe 4/9
    const text = await run(['regression', 'agreement', SERVICE, ...store]);
    expect(text.out).toMatch(
      /^assistant: evaluator agreement with people: 66\.7 % \(95 % Wilson interval 20\.8 %–93\.9 %\) on 3 labelled answers \(1 more labels/,
    );
  });
});

describe('the release review reports the agreement (the review port over the store)', () => {
  const reviewPorts = (trust: EvaluatorTrustPort | undefined) => {
    const objects = new Map<string, string>();
    const ports: ReviewPorts = {
      deployments: { describe: async () => rolledBackDeployment },
      manifests: { history: async () => manifests() },
      alarms: { alarms: async () => alarmInfos, history: async () => transitions },
      metrics: { fetch: async () => metricData() },
      cases: { touchedSince: async () => [] },
      store: {
        exists: async (k) => objects.has(k),
        put: async (k, body) => {
          objects.set(k, body);
          return 'written' as const;
        },
        location: (k) => `s3://store/${k}`,
      },
      notifier: { publish: async () => {} },
      clock: { now: () => Date.parse('2026-12-07T08:00:00Z'), sleep: async () => {} },
      ...(trust ? { evaluatorTrust: trust } : {}),
    };
    return { ports, objects };
  };

  test("after the labels above: the review's Evaluator section carries the measured agreement", async () => {
    const { ports, objects } = reviewPorts(storeEvaluatorTrust(s3Store(client, BUCKET)));
    expect((await runReview(codeDeployEvent('FAILURE', 'd-EVAL00001', SERVICE), ports, { stack: 'Rev' })).status).toBe('written');
    const review = JSON.parse(objects.get(`reviews/${SERVICE}/code-d-EVAL00001.json`) ?? '{}') as ReleaseReview;
    expect(review.evaluatorTrust?.agreement).toMatchObject({ labels: 4, compared: 3, agree: 2 });
    const md = objects.get(`reviews/${SERVICE}/code-d-EVAL00001.md`) ?? '';
    expect(md).toContain('## Evaluator\n\n- evaluator agreement with people: 66.7 % (95 % Wilson interval 20.8 %–93.9 %) on 3 labelled answers');
  });

  test('a service nobody evaluates or labels gets no Evaluator section; a review without the port neither', async () => {
    const quiet = reviewPorts(storeEvaluatorTrust(s3Store(client, BUCKET)));
    await runReview(codeDeployEvent('FAILURE', 'd-QUIET0001', 'quiet'), quiet.ports, { stack: 'Rev' });
    const review = JSON.parse(quiet.objects.get('reviews/quiet/code-d-QUIET0001.json') ?? '{}') as ReleaseReview;
    expect(review.evaluatorTrust).toBeUndefined();
    expect(quiet.objects.get('reviews/quiet/code-d-QUIET0001.md')).not.toContain('## Evaluator');
    const none = reviewPorts(undefined);
    await runReview(codeDeployEvent('FAILURE', 'd-NOPORT001', SERVICE), none.ports, { stack: 'Rev' });
    expect(JSON.parse(none.objects.get(`reviews/${SERVICE}/code-d-NOPORT001.json`) ?? '{}').evaluatorTrust).toBeUndefined();
  });
});

describe('labels under concurrency (S3 model with conditional writes)', () => {
  test('16 people label 16 cases at once while a case is promoted: every label is kept', async () => {
    const m = await startS3Model({ latencyMs: [5, 40] });
    const c = modelClient(m.endpoint);
    try {
      const objects = withRetries(s3Store(c, m.bucket));
      const lines = Array.from({ length: 17 }, (_, i) => record({ service: SERVICE, input: { q: `question ${i}` }, requestId: `req-race-${i}` }));
      await snapshot(delivery(lines), { store: objects, redact });
      const cases = new RegressionCases(objects);
      let labelPuts = 0;
      m.beforeCommit((op) => {
        if (op.method === 'PUT' && op.key === labelSetKey(SERVICE)) labelPuts++;
      });
      const ids = lines.map((l) => caseIdOf(SERVICE, l.input));
      await Promise.all([
        ...ids.slice(0, 16).map((id, i) => cases.label(SERVICE, id, { label: i % 2 ? 'good' : 'bad', by: `person-${i}` })),
        cases.promote(SERVICE, ids[16], { by: 'lead', reason: 'must keep working' }),
      ]);
      const set = JSON.parse(m.objects.get(labelSetKey(SERVICE))?.body ?? '{}') as LabelSet;
      expect(Object.keys(set.labels).sort()).toEqual([...ids].sort());
      expect(set.labels[ids[16]]).toMatchObject({ label: 'bad', source: 'promote', by: 'lead' });
      expect(set.labels[ids[3]]).toMatchObject({ label: 'good', by: 'person-3', requestIds: ['req-race-3'] });
      // The writers did race: compare-and-swaps lost (412) and were redone from a fresh read, and no label was lost.
      expect(labelPuts).toBeGreaterThan(17);
    } finally {
      c.destroy();
      await m.close();
    }
  }, 60_000);
});
