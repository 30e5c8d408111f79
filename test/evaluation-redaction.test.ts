/**
 * Evaluation samples are redacted against the project's PII corpus (test/pii-corpus.ts), end to end (issue 17 tests,
 * h5-evtrust): the runtime's sample line (every field, also the model-written citations, passage ids, tool names and
 * stop reason), and what the evaluator then keeps in the store and logs as a low-score failure record, with an
 * evaluator model that echoes its whole prompt into its reason. What must survive survives.
 */
import { gzipSync } from 'node:zlib';
import type { ConverseRequest, ConverseResponse } from '../lambda/evaluator/converse';
import { SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateDelivery } from '../lambda/evaluator/delivery';
import { AiRuntime, type AiHandler } from '../lambda/runtime';
import type { FailureRecord } from '../lambda/shared/contract';
import type { EvaluationConfig, EvaluationSample } from '../lambda/shared/evaluation';
import type { ObjectStore, PutOptions } from '../lambda/snapshot/store';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE } from './pii-corpus';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

const evaluation: EvaluationConfig = {
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.', floor: 3 }],
  samplingRate: 1,
  budget: { perReleaseUsd: 1e6, perDayUsd: 1e6 },
};

type In = { question: string };
type Out = { answer: string };
const CORPUS = [...MUST_REDACT, ...MUST_REDACT_NEW];

/** One runtime invocation whose input, answer and every piece of evidence carry `text`; returns the sample it wrote. */
async function sampleOf(text: string, i: number): Promise<EvaluationSample> {
  const telemetry = new RecordingTelemetry();
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: releaseDoc({ evaluation } as never), deg: NO_FLAGS }),
    telemetry,
    codeVersion: '12',
    defaultTimeoutMs: 30_000,
    timeoutMarginMs: 0,
  });
  const handler: AiHandler<In, Out> = async () => ({
    output: { answer: `Sure. ${text}` },
    usage: { inputTokens: 100, outputTokens: 10, modelId: 'primary-model' },
    evaluation: {
      answer: `Sure. ${text}`,
      passages: [{ id: `doc ${text}`, text: `passage about ${text}` }],
      citations: [`doc ${text}`],
      toolCalls: [{ name: `lookup ${text}` }],
      stopReason: `end_turn ${text}`,
    },
  });
  await rt.invoke(handler, { question: `Help: ${text}` }, { awsRequestId: `3f2b8c1e-9a4d-4e6f-8b2a-${String(i).padStart(12, '0')}` });
  expect(telemetry.samples).toHaveLength(1);
  return telemetry.samples[0];
}

describe('evaluation samples against the PII corpus', () => {
  test.each(CORPUS.map(([text, secret, marker], i) => [marker, text, secret, i] as const))(
    '%s: no field of the sample line carries it: %s',
    async (marker, text, secret, i) => {
      const s = await sampleOf(text, i);
      const line = JSON.stringify(s);
      expect(line).not.toContain(secret);
      expect(s.input).toContain(`[REDACTED:${marker}`);
      // The citation still matches its passage id (the same redactor on both), so the citation check works.
      expect(s.citations[0]).toBe(s.passages[0].id);
    },
  );

  test('what must survive survives', async () => {
    for (const [i, text] of MUST_SURVIVE.entries()) {
      const s = await sampleOf(text, 10_000 + i);
      expect({ text, kept: s.input.includes(text) && s.answer.includes(text) }).toEqual({ text, kept: true });
    }
  });

  test('the evaluator keeps and logs nothing the runtime did not redact, even when its model echoes the whole prompt', async () => {
    const samples = await Promise.all(CORPUS.map(([text], i) => sampleOf(text, 20_000 + i)));
    const objects = new Map<string, string>();
    const store: ObjectStore = {
      get: async (k) => (objects.has(k) ? { body: objects.get(k) as string, etag: 'e' } : undefined),
      exists: async (k) => objects.has(k),
      put: async (k: string, body: string, o?: PutOptions) => {
        if (o?.condition && 'ifNoneMatch' in o.condition && objects.has(k)) return 'precondition-failed';
        objects.set(k, body);
        return 'written';
      },
      delete: async (k) => void objects.delete(k),
      list: async (p) => [...objects.keys()].filter((k) => k.startsWith(p)),
    };
    const echo = {
      async converse(req: ConverseRequest): Promise<ConverseResponse> {
        // A low score whose reason repeats everything the evaluator was shown.
        return {
          output: { message: { content: [{ toolUse: { name: SCORE_TOOL, input: { score: 1, reason: req.messages[0].content[0].text } } }] } },
          usage: { inputTokens: 500, outputTokens: 100 },
        };
      },
    };
    const records: FailureRecord[] = [];
    const data = {
      messageType: 'DATA_MESSAGE',
      owner: '1',
      logGroup: '/aws/lambda/svc',
      logStream: 's',
      subscriptionFilters: ['f'],
      logEvents: samples.map((s, i) => ({ id: `e${i}`, timestamp: 0, message: JSON.stringify(s) })),
    };
    let ledger: unknown;
    const out = await evaluateDelivery(
      { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } },
      {
        evaluator: () => ({
          model: echo,
          ledger: {
            read: async () => ({ ledger: ledger as never, etag: ledger ? 'x' : undefined }),
            write: async (l) => {
              ledger = l;
              return true;
            },
          },
          sleep: async () => {},
          random: () => 0,
          now: () => new Date('2026-12-07T07:00:00Z'),
        }),
        liveEvaluation: async () => evaluation,
        store,
        publish: () => {},
        writeFailureRecord: (r) => records.push(r),
        concurrency: 4,
      },
    );
    expect(out.evaluated).toBe(CORPUS.length);
    expect(records).toHaveLength(CORPUS.length);
    const kept = [...objects.values()].join('\n') + JSON.stringify(records);
    for (const [, secret] of CORPUS) expect({ secret, leaked: kept.includes(secret) }).toEqual({ secret, leaked: false });
  });
});
