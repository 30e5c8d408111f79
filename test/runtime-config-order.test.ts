/**
 * An older, slower refresh never replaces a newer config version. The ConfigCache orders its own answers; the runtime
 * keeps a "last good" release config and degrade flags per execution environment, and an invocation whose read of one
 * profile was slow resumes after another invocation has read a newer version: it must neither put the older version
 * back as the last good one nor serve it.
 */
import { AiRuntime, type AiHandler, ConfigCache } from '../lambda/runtime';
import { NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

type In = { question: string };
type Out = { answer: string };

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const handler: AiHandler<In, Out> = async () => ({
  output: { answer: 'ok' },
  usage: { inputTokens: 10, outputTokens: 5, modelId: 'primary-model' },
  quality: 0.9,
});

test('an invocation that read v1 and resumes after another read v2: v2 stays the last good and is what it serves', async () => {
  const v1 = releaseDoc({ prompt: { version: '7', template: 'Q1: {{question}}', variables: [{ name: 'question' }] } } as never);
  const v2 = releaseDoc({ prompt: { version: '8', template: 'Q2: {{question}}', variables: [{ name: 'question' }] } } as never);
  const releases: unknown[] = [v1, v2, { not: 'a release config' }];
  let releaseCalls = 0;
  // The release config through the real cache (TTL 0: every invocation refreshes), versions 1, 2, then an invalid one.
  const releaseCache = new ConfigCache({ fetch: async () => ({ content: releases[releaseCalls], version: String(++releaseCalls) }) }, 0);
  // The degrade flags: the first read is slow (held), the later ones answer at once.
  const slowFlags = deferred<void>();
  let flagCalls = 0;
  const port = {
    get: async (profile: string, options?: { signal?: AbortSignal }) => {
      if (profile === 'rel') return releaseCache.get(profile, options);
      if (++flagCalls === 1) await slowFlags.promise;
      return { content: NO_FLAGS, version: '1', stale: false };
    },
  };
  const telemetry = new RecordingTelemetry();
  const rt = new AiRuntime<In, Out>({
    service: 'svc',
    releaseProfile: 'rel',
    degradeProfile: 'deg',
    config: port,
    telemetry,
    codeVersion: '12',
    codeHash: 'abcdefabcdef',
    configTimeoutMs: 5000,
    defaultTimeoutMs: 30_000,
    timeoutMarginMs: 0,
  });
  const wrapped = rt.handler(handler);
  const ctx = (id: string) => ({
    awsRequestId: id,
    getRemainingTimeInMillis: () => 30_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:12',
  });
  const x = wrapped({ question: 'x' }, ctx('x') as never); // reads v1, then waits for its flags
  await new Promise((r) => setTimeout(r, 20));
  expect(releaseCalls).toBe(1);
  await wrapped({ question: 'y' }, ctx('y') as never); // reads v2 and finishes
  slowFlags.resolve();
  await x;
  await wrapped({ question: 'z' }, ctx('z') as never); // reads an invalid config: served the last good one
  const served = telemetry.invocations.map((i) => i.tuple.config);
  expect(served).toHaveLength(3);
  const v2Label = (v2 as { _release: { label: string } })._release.label;
  const v1Label = (v1 as { _release: { label: string } })._release.label;
  expect(v1Label).not.toBe(v2Label);
  // y, x (resumed after y), z (invalid → last good): all v2; v1 never comes back.
  expect(served).toEqual([v2Label, v2Label, v2Label]);
});

test('the cache stamps each answer with its generation (refresh order), kept on a stale serve', async () => {
  let n = 0;
  let fail = false;
  const cache = new ConfigCache(
    {
      fetch: async () => {
        if (fail) throw new Error('down');
        return { content: { n: ++n }, version: String(n) };
      },
    },
    0,
  );
  const a = await cache.get('p');
  const b = await cache.get('p');
  expect(b.generation!).toBeGreaterThan(a.generation!);
  fail = true;
  const c = await cache.get('p');
  expect(c).toMatchObject({ stale: true, generation: b.generation, content: { n: 2 } });
});
