import { gzipSync } from 'node:zlib';
import type { Ledger } from '../lambda/evaluator/budget';
import { type ConverseRequest, type ConverseResponse, SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateDelivery, validateSample } from '../lambda/evaluator/delivery';
import type { EvaluationResult } from '../lambda/evaluator/evaluator';
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import type { FailureRecord } from '../lambda/shared/contract';
import { evaluationMetricLines } from '../lambda/evaluator/metrics';
import { reviewEvaluation, type StoredEvaluation } from '../lambda/review/evaluation';
import { type EvaluationConfig, type EvaluationSample, evaluationKey } from '../lambda/shared/evaluation';
import type { ObjectStore, PutOptions } from '../lambda/snapshot/store';

const config: EvaluationConfig = {
  version: 'eval-1',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question.', floor: 3 }],
  samplingRate: 1,
  budget: { perReleaseUsd: 10, perDayUsd: 10 },
};

const tuple = { service: 'support', codeVersion: '7', config: 'c', prompt: 'p', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'd' };
const sample = (i: number, answer = 'Open Settings [p1].') =>
  buildEvaluationSample(
    {
      service: 'support',
      requestId: `req-${i}`,
      time: new Date('2026-12-07T00:00:00Z'),
      tuple,
      functionVersion: '7',
      arm: 'stable',
      input: `question ${i}`,
      answer,
      citations: ['p1'],
      passages: [{ id: 'p1', text: 't' }],
    },
    1,
  );

function delivery(lines: string[], firstId = 'e1') {
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: '1',
    logGroup: '/aws/lambda/support',
    logStream: 's',
    subscriptionFilters: ['f'],
    logEvents: lines.map((message, i) => ({ id: `${firstId}-${i}`, timestamp: 0, message })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
}

/** An in-memory object store with S3's conditional-write semantics (s3rver ignores If-None-Match). */
function memoryStore(): ObjectStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    async get(key) {
      const body = objects.get(key);
      return body === undefined ? undefined : { body, etag: String(body.length) };
    },
    async exists(key) {
      return objects.has(key);
    },
    async put(key: string, body: string, options?: PutOptions) {
      if (options?.condition && 'ifNoneMatch' in options.condition && objects.has(key)) return 'precondition-failed';
      objects.set(key, body);
      return 'written';
    },
    async delete(key) {
      objects.delete(key);
    },
    async list(prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix));
    },
  };
}

function deps(over: { liveEvaluation?: (s: string) => Promise<EvaluationConfig | undefined> } = {}) {
  const calls: ConverseRequest[] = [];
  let ledger: Ledger | undefined;
  let version = 0;
  const published: EvaluationResult[] = [];
  const records: FailureRecord[] = [];
  const store = memoryStore();
  return {
    calls,
    published,
    records,
    store,
    d: {
      evaluator: () => ({
        model: {
          async converse(req: ConverseRequest): Promise<ConverseResponse> {
            calls.push(req);
            const off = req.messages[0].content[0].text.includes('Please call us');
            return {
              output: { message: { content: [{ toolUse: { name: SCORE_TOOL, input: { score: off ? 1 : 5, reason: off ? 'does not answer' : 'answers' } } }] } },
              usage: { inputTokens: 300, outputTokens: 20 },
            };
          },
        },
        ledger: {
          async read() {
            return { ledger, etag: ledger ? String(version) : undefined };
          },
          async write(l: Ledger, etag: string | undefined) {
            if ((ledger ? String(version) : undefined) !== etag) return false;
            ledger = l;
            version++;
            return true;
          },
        },
        sleep: async () => {},
        random: () => 0,
        now: () => new Date('2026-12-07T01:00:00Z'),
      }),
      liveEvaluation: over.liveEvaluation ?? (async () => config),
      store,
      releaseKey: async () => 'support-code-7',
      publish: (r: EvaluationResult) => published.push(r),
      writeFailureRecord: (r: FailureRecord) => records.push(r),
      concurrency: 4,
    },
  };
}

describe('evaluateDelivery: low guardrail scores become candidates (h10-guard17)', () => {
  const withGuardrail = (i: number, groundedness: number, answer?: string): EvaluationSample => ({
    ...sample(i, answer),
    guardrail: {
      guardrail: 'abcd1234efgh',
      groundedness: { score: groundedness, threshold: 0.75, blocked: false },
      relevance: { score: 0.9, threshold: 0.5, blocked: false },
    },
  });

  test('a score under the guardrail threshold is a quality candidate carrying the guardrail reason, beside a good model score', async () => {
    const t = deps();
    const out = await evaluateDelivery(delivery([JSON.stringify(withGuardrail(1, 0.31)), JSON.stringify(withGuardrail(2, 0.8))]), t.d);
    expect(out).toMatchObject({ evaluated: 2, candidates: 1 });
    expect(t.records).toHaveLength(1);
    expect(t.records[0]).toMatchObject({ kind: 'quality', requestId: 'req-1' });
    expect(t.records[0].details).toEqual(["guardrail: groundedness 0.31 is under the guardrail's threshold 0.75 (guardrail abcd1234efgh)"]);
  });

  test('both the model and the guardrail low: one record with both reasons', async () => {
    const t = deps();
    await evaluateDelivery(delivery([JSON.stringify(withGuardrail(1, 0.2, 'Please call us.'))]), t.d);
    expect(t.records).toHaveLength(1);
    expect(t.records[0].details).toEqual([
      'evaluator: relevance scored 1 (does not answer)',
      "guardrail: groundedness 0.2 is under the guardrail's threshold 0.75 (guardrail abcd1234efgh)",
    ]);
  });

  test('the budget skipped the model: the guardrail scores (free) still make it a candidate, with no model call', async () => {
    const t = deps({ liveEvaluation: async () => ({ ...config, budget: { perReleaseUsd: 0, perDayUsd: 0 } }) });
    const out = await evaluateDelivery(delivery([JSON.stringify(withGuardrail(1, 0.31)), JSON.stringify(withGuardrail(2, 0.9))]), t.d);
    expect(out).toMatchObject({ skippedBudget: 2, candidates: 1 });
    expect(t.calls).toHaveLength(0);
    expect(t.records.map((r) => r.requestId)).toEqual(['req-1']);
  });
});

describe('evaluateDelivery', () => {
  test('scores every sample once, keeps each result, publishes it, and a re-delivery spends nothing', async () => {
    const t = deps();
    const lines = [1, 2, 3].map((i) => JSON.stringify(sample(i)));
    const first = await evaluateDelivery(delivery(lines), t.d);
    expect(first).toMatchObject({ samples: 3, evaluated: 3, alreadyScored: 0 });
    expect(t.calls).toHaveLength(3);
    expect([...t.store.objects.keys()].sort()).toEqual([1, 2, 3].map((i) => evaluationKey('support', sample(i).sampleId)).sort());
    expect(t.published).toHaveLength(3);
    const again = await evaluateDelivery(delivery(lines), t.d);
    expect(again).toMatchObject({ evaluated: 0, alreadyScored: 3 });
    expect(t.calls).toHaveLength(3);
  });

  test('a low score becomes a quality failure record with the evaluator reason', async () => {
    const t = deps();
    await evaluateDelivery(delivery([JSON.stringify(sample(1, 'Please call us.'))]), t.d);
    expect(t.records).toHaveLength(1);
    expect(t.records[0]).toMatchObject({ kind: 'quality', service: 'support', output: 'Please call us.' });
    expect(t.records[0].details?.[0]).toBe('evaluator: relevance scored 1 (does not answer)');
  });

  test('a service without an evaluation section spends nothing', async () => {
    const t = deps({ liveEvaluation: async () => undefined });
    const out = await evaluateDelivery(delivery([JSON.stringify(sample(1))]), t.d);
    expect(out.skippedNoSection).toBe(1);
    expect(t.calls).toHaveLength(0);
  });

  test('a pair-only sample that is no canary is dropped: nothing stored, published or spent, and the scored ones still are', async () => {
    const t = deps({ liveEvaluation: async () => ({ ...config, samplingRate: 0.02, paired: { samplingRate: 0.3 } }) });
    const pairOnly = { ...sample(2), pairOnly: true, sampledAt: 0.3 };
    const out = await evaluateDelivery(delivery([JSON.stringify(sample(1)), JSON.stringify(pairOnly)]), t.d);
    expect(out).toMatchObject({ samples: 2, evaluated: 1, droppedNotCanary: 1 });
    expect(t.calls).toHaveLength(1);
    expect([...t.store.objects.keys()]).toEqual([evaluationKey('support', sample(1).sampleId)]);
    expect(t.published.map((r) => r.sampleId)).toEqual([sample(1).sampleId]);
  });

  test('a bad line is rejected with its reason and does not fail the batch', async () => {
    const t = deps();
    const bad = { ...sample(2), arm: 'blue' };
    const out = await evaluateDelivery(delivery([JSON.stringify(sample(1)), JSON.stringify(bad), 'not json at all']), t.d);
    expect(out.evaluated).toBe(1);
    expect(out.rejected.map((r) => r.reason)).toEqual(['arm is "blue", not canary or stable', 'not an object']);
  });

  test('Lambda JSON log format: the sample inside { message } is found', async () => {
    const t = deps();
    const out = await evaluateDelivery(delivery([JSON.stringify({ timestamp: 'x', level: 'INFO', message: sample(1) })]), t.d);
    expect(out.evaluated).toBe(1);
  });

  test.each([
    [null, 'not an object'],
    [{ ...sample(1), input: 3 }, 'input is not a string'],
    [{ ...sample(1), passages: 'p1' }, 'passages is not a list'],
    [{ ...sample(1), type: 'ai-release.failure' }, 'type is "ai-release.failure", not ai-release.evaluation-sample'],
  ] as [unknown, string][])('validateSample(%j) = %s', (v, reason) => expect(validateSample(v)).toBe(reason));

  test('the live rubric is asked once per service per delivery', async () => {
    let asked = 0;
    const t = deps({ liveEvaluation: async () => (asked++, config) });
    await evaluateDelivery(delivery([1, 2, 3, 4, 5].map((i) => JSON.stringify(sample(i)))), t.d);
    expect(asked).toBe(1);
  });
});

describe('budget-skipped samples keep their deterministic checks (h8-detjudge)', () => {
  test('a skipped sample is kept and published with its checks (EMF per version and check), a re-delivery decides nothing again, and the review shows the check per version with an interval', async () => {
    const broke: EvaluationConfig = { ...config, budget: { perReleaseUsd: 0, perDayUsd: 0 } };
    const t = deps({ liveEvaluation: async () => broke });
    // Half the answers cite a passage that was not retrieved.
    const lines = [1, 2, 3, 4].map((i) => JSON.stringify({ ...sample(i), citations: [i % 2 ? 'p1' : 'p9'] }));
    const s = [1, 2, 3, 4].map((i) => JSON.parse(lines[i - 1]) as EvaluationSample);
    const first = await evaluateDelivery(delivery(lines), t.d);
    expect(first).toMatchObject({ samples: 4, evaluated: 0, skippedBudget: 4 });
    expect(t.calls).toHaveLength(0);
    expect(t.store.objects.size).toBe(4);
    expect(t.published).toHaveLength(4);
    const cited = (i: number) => t.published[i].scores.find((x) => x.criterion === 'citation-validity');
    expect(t.published.map((_, i) => cited(i)?.score)).toEqual([1, 0, 1, 0]);
    // The evaluator's EMF: one EvaluationScore datapoint per check, dimensioned by service, version and criterion.
    const emf = evaluationMetricLines(t.published[1], s[1], 0).map((l) => JSON.parse(l));
    const line = emf.find((l) => l.Criterion === 'citation-validity');
    expect(line).toMatchObject({ Service: 'support', Version: '7', EvaluationScore: 0, source: 'deterministic' });
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['Service', 'Version', 'Criterion']], Metrics: [{ Name: 'EvaluationScore' }] });
    const again = await evaluateDelivery(delivery(lines), t.d);
    expect(again).toMatchObject({ evaluated: 0, alreadyScored: 4, skippedBudget: 0 });
    // The review reads what was kept: the check per version with its interval, and the share the model scored.
    const stored = [...t.store.objects.values()].map((b) => JSON.parse(b) as StoredEvaluation);
    const v = reviewEvaluation(stored, { start: '2026-12-06T00:00:00Z', end: '2026-12-08T00:00:00Z' });
    const row = v.scores.find((x) => x.criterion === 'citation-validity');
    expect(row).toMatchObject({ source: 'deterministic', stable: { n: 4, mean: 0.5 } });
    expect(row?.stable?.low).toBeLessThan(0.5);
    expect(row?.stable?.high).toBeGreaterThan(0.5);
    expect(v.samples.modelScored?.stable).toEqual({ scored: 0, of: 4 });
  });
});
