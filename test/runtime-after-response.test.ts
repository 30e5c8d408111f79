import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AfterResponse, type AiHandler, AiRuntime, createAiRuntime, deferralSafe, PowertoolsTelemetry } from '../lambda/runtime';
import type { ConfigAssignment } from '../lambda/shared/contract';
import { MUST_REDACT, MUST_REDACT_NEW } from './pii-corpus';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc, SERVICE_FUNCTION_ENV } from './runtime-fixtures';

/**
 * The evaluation sample built and written after the response is posted, before /next (after-response.ts, h11-hot).
 * The order is shown on a fake Runtime API driven as the Node.js RIC drives a handler (test/fake-runtime-api.ts), in a
 * process of its own (the RIC's default callback waits for `beforeExit`, which jest never lets come).
 */
const root = path.join(__dirname, '..');
function child(mode: string): string[] {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(__dirname, 'fake-ric-scenarios.ts'), mode], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  if (r.status !== 0) throw new Error(`fake-ric-scenarios ${mode} exited ${r.status}: ${r.stderr}\n${r.stdout}`);
  return r.stdout.trim().split('\n');
}

type Step = { kind: string; id?: string; body?: string };
type Scenario = { name: string; order: Step[]; deferredFailures: number };

describe('on a fake Runtime API, driven as the RIC drives a handler', () => {
  let scenarios: Record<string, Scenario>;
  beforeAll(() => {
    const out = JSON.parse(child('shapes').at(-1) ?? '{}') as { scenarios: Scenario[] };
    scenarios = Object.fromEntries(out.scenarios.map((s) => [s.name, s]));
  });

  /** The position of each kind of step for one invocation id: its response, its sample, and the /next after them. */
  function positions(s: Scenario, id: string) {
    const at = (kind: string) => s.order.findIndex((o) => o.kind === kind && o.id === id);
    const response = Math.max(at('response'), at('error'));
    const nextAfter = s.order.findIndex((o, i) => o.kind === 'next' && i > response);
    return { response, sample: at('sample'), failure: at('failure'), nextAfter };
  }

  test.each(['async', 'callback-nowait'])('%s handler: each sample line is written after its response is posted and before /next', (name) => {
    const s = scenarios[name];
    for (const i of [0, 1, 2]) {
      const p = positions(s, `${name}-${i}`);
      expect(p.response).toBeGreaterThan(0);
      expect(p.sample).toBeGreaterThan(p.response);
      expect(p.nextAfter).toBeGreaterThan(p.sample);
      expect(JSON.parse(s.order[p.response].body ?? '')).toEqual({ answer: 'Open Settings [p1] (34).' });
    }
    expect(s.order.filter((o) => o.kind === 'sample')).toHaveLength(3);
    expect(s.deferredFailures).toBe(0);
  });

  test.each([
    ['callback-wait', 'the response waits for an empty event loop, so the sample comes first (as inline)'],
    ['streaming', 'the streamed POST connects asynchronously, so the sample comes first (as inline)'],
  ])('%s handler: %s, and always before /next', (name) => {
    const s = scenarios[name];
    for (const i of [0, 1, 2]) {
      const p = positions(s, `${name}-${i}`);
      expect(p.sample).toBeGreaterThan(0);
      expect(p.sample).toBeLessThan(p.response);
      expect(p.nextAfter).toBeGreaterThan(p.response);
    }
    expect(s.order.filter((o) => o.kind === 'sample')).toHaveLength(3);
  });

  test('a handler that throws: no sample, the failure record written before the error is posted, nothing deferred', () => {
    const s = scenarios['handler-throws'];
    for (const i of [0, 1, 2]) {
      const p = positions(s, `handler-throws-${i}`);
      expect(s.order[p.response].kind).toBe('error');
      expect(p.failure).toBeGreaterThan(0);
      expect(p.failure).toBeLessThan(p.response);
      expect(p.sample).toBe(-1);
    }
    expect(s.deferredFailures).toBe(0);
  });

  test('a sample write that throws after the response: the caller got its answer, the failure is counted and logged', () => {
    const s = scenarios['sample-write-throws'];
    expect(s.order.filter((o) => o.kind === 'response').map((o) => JSON.parse(o.body ?? ''))).toEqual(Array(3).fill({ answer: 'Open Settings [p1] (34).' }));
    expect(s.order.some((o) => o.kind === 'error')).toBe(false);
    expect(s.deferredFailures).toBe(3);
    for (const i of [0, 1, 2]) {
      const p = positions(s, `sample-write-throws-${i}`);
      const logged = s.order.findIndex((o) => o.kind === 'deferred-error' && o.id === `sample-write-throws-${i}`);
      expect(logged).toBeGreaterThan(p.response);
      expect(logged).toBeLessThan(p.nextAfter);
    }
  });

  test('process.exit right after an answer (no setImmediate ran): the pending sample is written on exit', () => {
    const lines = child('exit').map((l) => JSON.parse(l));
    expect(lines).toContainEqual({ pendingAtExit: 1 });
    expect(lines).toContainEqual({ samplesWritten: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------------

type In = { question: string };
type Out = { answer: string };
const pii = [...MUST_REDACT, ...MUST_REDACT_NEW];
const piiText = pii.map(([t]) => t).join(' | ');
const evaluation = {
  version: 'eval-3',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness' as const, instructions: 'Supported by the passages.' }],
  samplingRate: 1,
  checkSamplingRate: 1,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
};

function capture(fn: (seen: () => string) => Promise<void>): Promise<string> {
  const out: string[] = [];
  const grab = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  return fn(() => out.join(''))
    .then(() => out.join(''))
    .finally(() => spies.forEach((s) => s.mockRestore()));
}

function runtime(
  deferred: boolean,
  paired: unknown = false,
  queue = new AfterResponse(
    (run) => void setImmediate(run),
    () => {},
  ),
  samplingRate = 1,
) {
  const rt = new AiRuntime<In, Out>({
    service: 'support-assistant',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: new FakeConfig({ rel: releaseDoc({ evaluation: { ...evaluation, samplingRate, paired } } as never), deg: NO_FLAGS }),
    telemetry: new PowertoolsTelemetry('support-assistant'),
    codeVersion: '42',
    deferEvaluationLines: deferred,
    afterResponse: queue,
  });
  return { rt, queue };
}

type Row = {
  input: In;
  result: Awaited<ReturnType<AiHandler<In, Out>>>;
  assignment?: ConfigAssignment;
  paired?: unknown;
  samplingRate?: number;
  /** What the row is about, on the line (so a row cannot pass without exercising it). */
  shows?: Record<string, unknown>;
};
const EXAMPLE: Row['result'] = {
  output: { answer: 'Open the bin [kb-restore-01].' },
  usage: { inputTokens: 850, outputTokens: 40, modelId: 'primary-model' },
  quality: 0.9,
  evaluation: {
    answer: 'Open the bin [kb-restore-01].',
    passages: [{ id: 'kb-restore-01', text: 'Deleted files stay in the bin for 30 days.' }],
    citations: ['kb-restore-01'],
    stopReason: 'end_turn',
  },
};
const rows: [string, Row][] = [
  [
    'the example answer',
    { input: { question: 'How do I restore a deleted file?' }, result: EXAMPLE, shows: { runtimeChecks: expect.arrayContaining(['citation-validity']) } },
  ],
  [
    'PII in every field (the whole corpus): input, answer, passage ids, citations, tool names, stop reason',
    {
      input: { question: piiText },
      result: {
        ...EXAMPLE,
        evaluation: {
          answer: piiText,
          passages: pii.slice(0, 12).map(([t], i) => ({ id: t, text: `passage ${i}: ${t}` })),
          citations: pii.slice(12, 24).map(([t]) => t),
          toolCalls: pii.slice(24, 30).map(([t]) => ({ name: t })),
          stopReason: pii[30][0],
        },
      },
    },
  ],
  ['no evidence (the answer is the output JSON)', { input: { question: 'q for jane@example.com' }, result: { output: { answer: 'call +1 415 555 0100' } } }],
  [
    'an input and an answer longer than the sample keeps',
    {
      input: { question: 'q '.repeat(9000) },
      result: { ...EXAMPLE, evaluation: { ...EXAMPLE.evaluation, answer: `${'a'.repeat(7990)} jane@example.com tail` } },
    },
  ],
  [
    'a guardrail trace (its grounding scores kept)',
    {
      input: { question: 'q' },
      result: {
        ...EXAMPLE,
        evaluation: {
          ...EXAMPLE.evaluation,
          guardrailTrace: {
            inputAssessment: {},
            outputAssessments: {
              g: [
                {
                  contextualGroundingPolicy: {
                    filters: [
                      { type: 'GROUNDING', score: 0.91, threshold: 0.5, action: 'NONE' },
                      { type: 'RELEVANCE', score: 0.8, threshold: 0.5, action: 'NONE' },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
      shows: { guardrail: expect.objectContaining({ groundedness: expect.objectContaining({ score: 0.91 }) }) },
    },
  ],
  [
    'a config canary arm (assignment, conversation id, arm share)',
    {
      input: { question: 'q' },
      result: EXAMPLE,
      assignment: { arm: 'candidate', share: 0.5, releaseKey: 'rk-1', unit: '0123456789abcdef', unitKind: 'conversation' } as ConfigAssignment,
      shows: { conversationId: expect.stringMatching(/^[0-9a-f]{32}$/), arm: 'canary' },
    },
  ],
  [
    'a pair-only draw (scoring at 1e-9, pairing at 1)',
    { input: { question: 'q' }, result: EXAMPLE, samplingRate: 1e-9, paired: { samplingRate: 1 }, shows: { pairOnly: true } },
  ],
];

describe('the deferred lines (check result, sample) are the inline ones, byte for byte', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_765_000_000_123, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test.each(rows)('%s', async (_name, row) => {
    const fn: AiHandler<In, Out> = async () => row.result;
    const inline = runtime(false, row.paired, undefined, row.samplingRate);
    const deferred = runtime(true, row.paired, undefined, row.samplingRate);
    const a = await capture(async () => {
      await inline.rt.invoke(fn, row.input, { awsRequestId: 'req-1' }, row.assignment);
    });
    let before = '';
    const b = await capture(async (out) => {
      await deferred.rt.invoke(fn, row.input, { awsRequestId: 'req-1' }, row.assignment);
      before = 'x';
      // The check-result line (checkSamplingRate 1) and the sample wait; nothing of them is written yet.
      expect(deferred.queue.pending).toBe(2);
      expect(out()).not.toContain('"ai-release.evaluation-sample"');
      expect(out()).not.toContain('"ai-release.check-result"');
      await new Promise((r) => setImmediate(r));
      expect(deferred.queue.pending).toBe(0);
    });
    expect(before).toBe('x');
    const sampleOf = (text: string) => text.split('\n').filter((l) => l.includes('"ai-release.evaluation-sample"'));
    expect(sampleOf(a)).toHaveLength(1);
    expect(a).toContain('"ai-release.check-result"');
    // The whole output: EMF, check-result line, sample (in that order on both paths when nothing failed).
    expect(b).toBe(a);
    const line = JSON.parse(sampleOf(b)[0]);
    expect(line.requestId).toBe('req-1');
    if (row.shows) expect(line).toMatchObject(row.shows);
    for (const [, secret] of pii) expect(sampleOf(b)[0]).not.toContain(secret);
  });

  test('a wrapper that changes the output after the runtime answered does not change the sample (no-evidence answer)', async () => {
    const fn: AiHandler<In, Out> = async () => ({ output: { answer: 'first' } });
    const { rt } = runtime(true);
    const text = await capture(async () => {
      const out = await rt.invoke(fn, { question: 'q' }, { awsRequestId: 'req-m' });
      (out as { answer: string }).answer = 'changed by the caller';
      await new Promise((r) => setImmediate(r));
    });
    const line = JSON.parse(text.split('\n').find((l) => l.includes('"ai-release.evaluation-sample"')) ?? '{}');
    expect(JSON.parse(line.answer)).toEqual({ answer: 'first' });
  });

  test('a caller that never yields to the event loop: the waiting sample is written at the next invocation, under its own request id', async () => {
    const fn: AiHandler<In, Out> = async () => EXAMPLE;
    const { rt, queue } = runtime(
      true,
      false,
      new AfterResponse(
        () => {},
        () => {},
      ),
    );
    const text = await capture(async () => {
      await rt.invoke(fn, { question: 'q' }, { awsRequestId: 'first' });
      expect(queue.pending).toBe(2);
      await rt.invoke(fn, { question: 'q' }, { awsRequestId: 'second' });
      expect(queue.pending).toBe(2);
    });
    const lines = text
      .split('\n')
      .filter((l) => l.includes('"ai-release.evaluation-sample"') || l.includes('"ai-release.check-result"'))
      .map((l) => JSON.parse(l));
    // Both lines of the first invocation, each with the first's request id in the envelope and the record alike.
    expect(lines.map((l) => [l.type, l.requestId])).toEqual([
      ['ai-release.check-result', 'first'],
      ['ai-release.evaluation-sample', 'first'],
    ]);
  });

  test.each([false, true])('a check-result line that cannot be written (deferred: %s): the sample leaves the checks to the evaluator', async (deferred) => {
    const fn: AiHandler<In, Out> = async () => EXAMPLE;
    const { rt } = runtime(deferred);
    const telemetry = (rt as unknown as { o: { telemetry: PowertoolsTelemetry } }).o.telemetry;
    telemetry.checks = () => {
      throw new Error('check line broke');
    };
    const errors = jest.spyOn(console, 'error').mockImplementation(() => {});
    const text = await capture(async () => {
      await rt.invoke(fn, { question: 'q' }, { awsRequestId: 'r-c' });
      await new Promise((r) => setImmediate(r));
    });
    const sample = JSON.parse(text.split('\n').find((l) => l.includes('"ai-release.evaluation-sample"')) ?? '{}');
    expect(sample.sampleId).toBeDefined();
    expect(sample.runtimeChecks).toBeUndefined();
    expect(errors).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String(errors.mock.calls[0][0]))).toMatchObject({
      level: 'ERROR',
      requestId: 'r-c',
      message: expect.stringContaining('check line broke'),
    });
  });
});

describe('AfterResponse', () => {
  test('runs each task once, in order, on one scheduled run; a throwing task is counted and logged and the rest still run', () => {
    const runs: (() => void)[] = [];
    const q = new AfterResponse(
      (run) => runs.push(run),
      () => {},
    );
    const seen: number[] = [];
    const errors = jest.spyOn(console, 'error').mockImplementation(() => {});
    q.defer(() => seen.push(1));
    q.defer(
      () => {
        throw new Error('boom');
      },
      'the evaluation sample',
      { requestId: 'r-2' },
    );
    q.defer(() => seen.push(3));
    expect(runs).toHaveLength(1);
    expect(seen).toEqual([]);
    runs[0]();
    expect(seen).toEqual([1, 3]);
    expect(q.failures).toBe(1);
    expect(q.ran).toBe(3);
    const logged = JSON.parse(String(errors.mock.calls[0][0]));
    expect(logged).toMatchObject({ level: 'ERROR', requestId: 'r-2' });
    expect(logged.message).toContain('could not write the evaluation sample after the response');
    expect(logged.message).toContain('boom');
    // Nothing left: a second run (a flush at the next invocation, then the scheduled one) runs nothing twice.
    q.flush();
    expect(seen).toEqual([1, 3]);
    q.defer(() => seen.push(4));
    expect(runs).toHaveLength(2);
    errors.mockRestore();
  });

  test('a task queued by a task runs in the same flush; the exit hook is registered once', () => {
    const hooks: (() => void)[] = [];
    const q = new AfterResponse(
      () => {},
      (run) => hooks.push(run),
    );
    const seen: string[] = [];
    q.defer(() => {
      seen.push('a');
      q.defer(() => seen.push('b'));
    });
    q.defer(() => seen.push('c'));
    expect(hooks).toHaveLength(1);
    hooks[0]();
    expect(seen).toEqual(['a', 'c', 'b']);
  });

  test.each<[string, Record<string, string>, boolean]>([
    ['the Lambda Node.js runtime, one invocation at a time', { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' }, true],
    ['AWS_LAMBDA_MAX_CONCURRENCY=1', { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', AWS_LAMBDA_MAX_CONCURRENCY: '1' }, true],
    [
      'Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY=64): not established, inline',
      { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', AWS_LAMBDA_MAX_CONCURRENCY: '64' },
      false,
    ],
    ['no Runtime API (tests, local runs, another host): inline', {}, false],
  ])('deferralSafe: %s', (_name, env, safe) => {
    expect(deferralSafe(env)).toBe(safe);
  });

  test.each<[string, Record<string, string>, number]>([
    ['under the Lambda runtime the sample waits for the event loop', { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' }, 0],
    ['elsewhere it is written before the invocation returns', {}, 1],
  ])('createAiRuntime: %s', async (_name, extra, samplesRightAfter) => {
    const telemetry = new RecordingTelemetry();
    const rt = createAiRuntime<In, Out>({
      env: { ...SERVICE_FUNCTION_ENV, ...extra },
      config: new FakeConfig({ rel: releaseDoc({ evaluation: { ...evaluation, paired: false } } as never), deg: NO_FLAGS }),
      telemetry,
    });
    await rt.handler(async () => EXAMPLE)({ question: 'q' }, { awsRequestId: 'r' });
    expect(telemetry.samples).toHaveLength(samplesRightAfter);
    await new Promise((r) => setImmediate(r));
    expect(telemetry.samples).toHaveLength(1);
  });
});
