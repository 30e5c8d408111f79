import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AppConfigDataClient,
  BadRequestException,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
  ThrottlingException,
} from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigCache, ConfigUnavailableError, ExtensionFetcher, FallbackFetcher, type ConfigFetcher } from '../lambda/runtime';
import { DataApiFetcher } from '../lambda/runtime/data-api-fetcher';
import { contentHash } from '../lambda/shared/canonical-json';

/** A loopback HTTP server standing in for the AppConfig Lambda extension. */
async function fakeExtension(routes: Record<string, { status?: number; body: string; version?: string }>) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    res
      .writeHead(route.status ?? 200, { 'content-type': 'application/json', ...(route.version ? { 'configuration-version': route.version } : {}) })
      .end(route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('ExtensionFetcher (loopback stand-in for the extension)', () => {
  test('reads /applications/<app>/environments/<env>/configurations/<profile> with its version', async () => {
    const ext = await fakeExtension({ '/applications/app1/environments/env1/configurations/prof1': { body: '{"a":1}', version: '7' } });
    try {
      const f = new ExtensionFetcher('app1', 'env1', ext.port);
      await expect(f.fetch('prof1')).resolves.toEqual({ content: { a: 1 }, version: '7' });
    } finally {
      await ext.close();
    }
  });

  test.each([
    [
      { status: 400, body: 'BadRequest: profile not found' },
      /AppConfig extension answered 400 for \/applications\/app1\/environments\/env1\/configurations\/prof1: BadRequest/,
    ],
    [{ body: '<html>' }, /AppConfig extension returned non-JSON/],
  ])('a bad answer is a clear error: %j', async (route, message) => {
    const ext = await fakeExtension({ '/applications/app1/environments/env1/configurations/prof1': route });
    try {
      await expect(new ExtensionFetcher('app1', 'env1', ext.port).fetch('prof1')).rejects.toThrow(message);
    } finally {
      await ext.close();
    }
  });
});

describe('DataApiFetcher (AppConfig data API, mocked)', () => {
  const mock = mockClient(AppConfigDataClient);
  beforeEach(() => mock.reset());
  const body = (o: unknown) => new TextEncoder().encode(JSON.stringify(o)) as any;

  test('starts one session, keeps the token, honours the poll interval, keeps content when unchanged', async () => {
    let t = 0;
    mock.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'tok-0' });
    mock
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-0' })
      .resolves({ Configuration: body({ v: 1 }), NextPollConfigurationToken: 'tok-1', NextPollIntervalInSeconds: 15, VersionLabel: 'cfg-aaa' })
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-1' })
      .resolves({ Configuration: new Uint8Array() as any, NextPollConfigurationToken: 'tok-2', NextPollIntervalInSeconds: 15 })
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-2' })
      .resolves({ Configuration: body({ v: 2 }), NextPollConfigurationToken: 'tok-3', NextPollIntervalInSeconds: 15, VersionLabel: 'cfg-bbb' });
    const f = new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1' }), 'app', 'env', 15, () => t);
    expect(await f.fetch('p')).toEqual({ content: { v: 1 }, version: 'cfg-aaa' });
    t = 5_000; // before the poll interval: no call
    expect(await f.fetch('p')).toEqual({ content: { v: 1 }, version: 'cfg-aaa' });
    expect(mock.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);
    t = 16_000; // unchanged: empty body, last content kept
    expect(await f.fetch('p')).toEqual({ content: { v: 1 }, version: 'cfg-aaa' });
    t = 32_000;
    expect(await f.fetch('p')).toEqual({ content: { v: 2 }, version: 'cfg-bbb' });
    expect(mock.commandCalls(StartConfigurationSessionCommand)).toHaveLength(1);
    expect(mock.commandCalls(StartConfigurationSessionCommand)[0].args[0].input).toMatchObject({
      ApplicationIdentifier: 'app',
      EnvironmentIdentifier: 'env',
      ConfigurationProfileIdentifier: 'p',
    });
  });

  test('an expired token starts a new session on the next call', async () => {
    mock.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'tok' });
    mock
      .on(GetLatestConfigurationCommand)
      .rejectsOnce(new BadRequestException({ message: 'token expired', $metadata: {} }))
      .resolves({ Configuration: body({ ok: true }), NextPollConfigurationToken: 'n' });
    const f = new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1' }), 'app', 'env');
    await expect(f.fetch('p')).rejects.toThrow('token expired');
    await expect(f.fetch('p')).resolves.toEqual({ content: { ok: true }, version: undefined });
    expect(mock.commandCalls(StartConfigurationSessionCommand)).toHaveLength(2);
  });

  test('an empty first answer is a clear error', async () => {
    mock.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'tok' });
    mock.on(GetLatestConfigurationCommand).resolves({ Configuration: new Uint8Array() as any, NextPollConfigurationToken: 'n' });
    const f = new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1' }), 'app', 'env');
    await expect(f.fetch('p')).rejects.toThrow('AppConfig returned no content for profile p on a new session');
  });
});

describe('FallbackFetcher', () => {
  test('uses the extension when it answers, the data API when it cannot be reached, and retries the extension later', async () => {
    let t = 0;
    let extensionUp = false;
    const calls: string[] = [];
    const ext: ConfigFetcher = {
      fetch: async () => {
        calls.push('ext');
        if (!extensionUp) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2772'), { code: 'ECONNREFUSED' });
        return { content: 'from-ext' };
      },
    };
    const api: ConfigFetcher = { fetch: async () => (calls.push('api'), { content: 'from-api' }) };
    const f = new FallbackFetcher(ext, api, 60_000, () => t);
    expect((await f.fetch('p')).content).toBe('from-api');
    extensionUp = true;
    t = 30_000;
    expect((await f.fetch('p')).content).toBe('from-api'); // still in the back-off window: extension not retried
    t = 61_000;
    expect((await f.fetch('p')).content).toBe('from-ext');
    expect(calls).toEqual(['ext', 'api', 'api', 'ext']);
  });

  test('a real unreachable extension port falls back', async () => {
    const ext = await fakeExtension({});
    const port = ext.port;
    await ext.close(); // nothing listens there now
    const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', port), { fetch: async () => ({ content: 'api' }) });
    expect((await f.fetch('p')).content).toBe('api');
  });
});

describe('ConfigCache', () => {
  test('serves from cache within the TTL, refreshes after, keeps the last good config when a refresh fails', async () => {
    let t = 0;
    let n = 0;
    let failing = false;
    const fetcher: ConfigFetcher = {
      fetch: async () => {
        if (failing) throw new Error('down');
        n++;
        return { content: { n }, version: String(n) };
      },
    };
    const cache = new ConfigCache(fetcher, 5000, () => t);
    expect(await cache.get('p')).toEqual({ content: { n: 1 }, version: '1', stale: false, generation: 1 });
    t = 4999;
    expect((await cache.get('p')).content).toEqual({ n: 1 });
    t = 5000;
    expect((await cache.get('p')).content).toEqual({ n: 2 });
    failing = true;
    t = 20_000;
    const stale = await cache.get('p');
    expect(stale).toMatchObject({ content: { n: 2 }, stale: true });
    expect(stale.error?.message).toBe('down');
  });

  test('nothing fetched yet and the source is down: ConfigUnavailableError naming the fix', async () => {
    const cache = new ConfigCache(
      {
        fetch: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:2772');
        },
      },
      5000,
    );
    await expect(cache.get('prof')).rejects.toThrow(ConfigUnavailableError);
    await expect(cache.get('prof')).rejects.toThrow(
      /cannot read config profile prof: connect ECONNREFUSED 127\.0\.0\.1:2772\. Check that the function has appconfig:StartConfigurationSession\/GetLatestConfiguration \(AiServiceConfig\.bind\)/,
    );
  });
});

/** A loopback server that misbehaves the way the issue saw: drips a body, or accepts and never answers. */
async function badExtension(mode: 'drip' | 'silent') {
  const sockets = new Set<import('node:net').Socket>();
  const timers: NodeJS.Timeout[] = [];
  const server = http.createServer((_req, res) => {
    if (mode === 'silent') return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"a":');
    timers.push(setInterval(() => res.write(' '), 50)); // a byte every 50 ms: never idle, never done
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('config fetch deadline', () => {
  test('a dripping extension is cut at the whole-request deadline, not kept alive by each byte', async () => {
    const ext = await badExtension('drip');
    try {
      const t0 = Date.now();
      await expect(new ExtensionFetcher('a', 'e', ext.port, 300).fetch('p')).rejects.toThrow(/did not answer .* within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(700);
    } finally {
      await ext.close();
    }
  });

  test('a dripping extension falls back to the data API within the budget', async () => {
    const ext = await badExtension('drip');
    const api: ConfigFetcher = { fetch: async () => ({ content: { from: 'api' } }) };
    try {
      const t0 = Date.now();
      await expect(new FallbackFetcher(new ExtensionFetcher('a', 'e', ext.port, 300), api).fetch('p')).resolves.toEqual({ content: { from: 'api' } });
      expect(Date.now() - t0).toBeLessThan(700);
    } finally {
      await ext.close();
    }
  });

  const { AiRuntime } = require('../lambda/runtime') as typeof import('../lambda/runtime');
  const { RecordingTelemetry } = require('./runtime-fixtures') as typeof import('./runtime-fixtures');

  test.each([
    ['a silent extension and a hung data API', 'silent'],
    ['a dripping extension and a hung data API', 'drip'],
  ] as const)('%s: the invocation settles inside its budget, measured and recorded', async (_name, mode) => {
    const ext = await badExtension(mode);
    const mock = mockClient(AppConfigDataClient);
    mock.on(StartConfigurationSessionCommand).callsFake(() => new Promise(() => {})); // hangs forever
    const telemetry = new RecordingTelemetry();
    const fetcher = new FallbackFetcher(
      new ExtensionFetcher('a', 'e', ext.port, 400),
      new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1' }), 'a', 'e'),
    );
    const rt = new AiRuntime<object, string>({
      service: 's',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new ConfigCache(fetcher, 5000),
      telemetry,
      codeVersion: '1',
      degradedAnswer: () => 'later',
    });
    try {
      const budget = 1500; // Lambda's remaining time; the runtime keeps 500 ms of it for the record
      const t0 = Date.now();
      const out = await rt.invoke(async () => ({ output: 'never' }), {}, { getRemainingTimeInMillis: () => budget });
      const took = Date.now() - t0;
      expect(out).toBe('later');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(budget);
      expect(telemetry.invocations[0].m).toMatchObject({ error: true, degraded: true });
      expect(telemetry.failures[0].error?.message).toMatch(/did not finish within 1000 ms/);
    } finally {
      mock.restore();
      await ext.close();
    }
  });
});

describe('cache correctness', () => {
  function deferred<T>() {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  test('concurrent refreshes coalesce into one fetch', async () => {
    const gate = deferred<void>();
    let calls = 0;
    const cache = new ConfigCache({ fetch: async () => (calls++, await gate.promise, { content: { n: calls }, version: '1' }) }, 5000);
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get('p')));
    gate.resolve();
    const served = await all;
    expect(calls).toBe(1);
    expect(new Set(served.map((s) => s.content)).size).toBe(1);
  });

  test('an older request answering late never replaces a newer version', async () => {
    const slow = deferred<{ content: unknown; version: string }>();
    let call = 0;
    let t = 0;
    const cache = new ConfigCache(
      {
        fetch: () => {
          call++;
          return call === 1 ? slow.promise : Promise.resolve({ content: { v: 2 }, version: '2' });
        },
      },
      1000,
      { now: () => t, refreshTimeoutMs: 10_000 },
    );
    // caller 1 gives up on the slow request; caller 2 starts a new one and gets version 2
    const gaveUp = new AbortController();
    const first = cache.get('p', { signal: gaveUp.signal });
    gaveUp.abort(new Error('caller deadline'));
    await expect(first).rejects.toThrow('caller deadline');
    expect((await cache.get('p')).version).toBe('2');
    slow.resolve({ content: { v: 1 }, version: '1' }); // the old request answers at last
    await new Promise((r) => setImmediate(r));
    t = 500; // still fresh
    expect(await cache.get('p')).toMatchObject({ content: { v: 2 }, version: '2' });
  });

  test('a refresh nobody waits for any more is aborted at its source', async () => {
    let seen: AbortSignal | undefined;
    const cache = new ConfigCache({ fetch: (_p, o) => ((seen = o?.signal), new Promise(() => {})) }, 1000);
    const c = new AbortController();
    const got = cache.get('p', { signal: c.signal });
    c.abort(new Error('deadline'));
    await expect(got).rejects.toThrow(ConfigUnavailableError);
    expect(seen?.aborted).toBe(true);
  });

  test('one ECONNRESET on a reused keep-alive socket is retried once, not a down extension', async () => {
    let requests = 0;
    let resets = 0;
    const perSocket = new WeakMap<object, number>();
    const server = http.createServer((req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2 && resets++ === 0) {
        req.socket.destroy(); // the extension closed the idle connection as our request arrived
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api: string[] = [];
    const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', (server.address() as AddressInfo).port), {
      fetch: async (p) => (api.push(p), { content: 'api' }),
    });
    try {
      expect((await f.fetch('p')).content).toEqual({ ok: true });
      expect((await f.fetch('p')).content).toEqual({ ok: true }); // reused socket reset, retried on a new one
      expect((await f.fetch('q')).content).toEqual({ ok: true }); // the extension is still in use
      expect(requests).toBe(4);
      expect(api).toEqual([]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('a reset on a fresh socket is not retried: the extension is declared down', async () => {
    const server = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let requests = 0;
    server.on('request', () => requests++);
    const api: string[] = [];
    const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', (server.address() as AddressInfo).port), {
      fetch: async (p) => (api.push(p), { content: 'api' }),
    });
    try {
      expect((await f.fetch('p')).content).toBe('api');
      expect((await f.fetch('q')).content).toBe('api'); // down: not asked again within the back-off
      expect(requests).toBe(1);
      expect(api).toEqual(['p', 'q']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('malformed JSON from a reachable extension is reported with its body, not sent to the data API', async () => {
    const ext = await fakeExtension({
      '/applications/a/environments/e/configurations/broken': { body: '{"half":' },
      '/applications/a/environments/e/configurations/fine': { body: '{"ok":1}', version: '3' },
    });
    const api: string[] = [];
    const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', ext.port), { fetch: async (p) => (api.push(p), { content: 'api' }) });
    try {
      await expect(f.fetch('broken')).rejects.toThrow(/returned non-JSON for \/applications\/a\/environments\/e\/configurations\/broken: .*body: \{"half":/);
      expect(await f.fetch('fine')).toEqual({ content: { ok: 1 }, version: '3' });
      expect(api).toEqual([]); // the extension answered: nothing went to the data API, and it is not declared down
      expect(ext.hits.filter((h) => h.endsWith('/fine'))).toHaveLength(1);
    } finally {
      await ext.close();
    }
  });

  test('the data API keeps its session token when throttled', async () => {
    const mock = mockClient(AppConfigDataClient);
    mock.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'tok-0' });
    mock
      .on(GetLatestConfigurationCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }))
      .resolves({ Configuration: new TextEncoder().encode('{"ok":true}') as any, NextPollConfigurationToken: 'tok-1' });
    try {
      const f = new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1', maxAttempts: 1 }), 'app', 'env');
      await expect(f.fetch('p')).rejects.toThrow('Rate exceeded');
      await expect(f.fetch('p')).resolves.toEqual({ content: { ok: true }, version: undefined });
      expect(mock.commandCalls(StartConfigurationSessionCommand)).toHaveLength(1);
      expect(mock.commandCalls(GetLatestConfigurationCommand).map((c) => c.args[0].input.ConfigurationToken)).toEqual(['tok-0', 'tok-0']);
    } finally {
      mock.restore();
    }
  });

  test('the data API passes the abort signal to the SDK', async () => {
    const mock = mockClient(AppConfigDataClient);
    mock.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'tok-0' });
    mock.on(GetLatestConfigurationCommand).resolves({ Configuration: new TextEncoder().encode('{}') as any, NextPollConfigurationToken: 'n' });
    try {
      const signal = new AbortController().signal;
      await new DataApiFetcher(new AppConfigDataClient({ region: 'us-east-1' }), 'app', 'env').fetch('p', { signal });
      expect((mock.commandCalls(GetLatestConfigurationCommand)[0].args as unknown[])[1]).toEqual({ abortSignal: signal });
    } finally {
      mock.restore();
    }
  });
});

describe('the degrade flags are read from their own environment', () => {
  const { createAiRuntime } = require('../lambda/runtime') as typeof import('../lambda/runtime');
  const { releaseDoc, NO_FLAGS, RecordingTelemetry } = require('./runtime-fixtures') as typeof import('./runtime-fixtures');
  const baseEnv = {
    AI_RELEASE_SERVICE: 's',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'live',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
  };

  test.each([
    ['AI_RELEASE_DEGRADE_ENVIRONMENT set', { AI_RELEASE_DEGRADE_ENVIRONMENT: 'switches' }, 'switches'],
    ['not set (functions bound before the split)', {}, 'live'],
  ])('extension path, %s', async (_name, extra, degradeEnv) => {
    const ext = await fakeExtension({
      '/applications/app/environments/live/configurations/rel': { body: JSON.stringify(releaseDoc()), version: '4' },
      [`/applications/app/environments/${degradeEnv}/configurations/deg`]: { body: JSON.stringify(NO_FLAGS), version: '2' },
    });
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({ env: { ...baseEnv, ...extra, AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(ext.port) }, telemetry });
      await rt.invoke(async () => ({ output: { answer: 'ok' } }), {});
      expect(ext.hits.sort()).toEqual(
        ['/applications/app/environments/live/configurations/rel', `/applications/app/environments/${degradeEnv}/configurations/deg`].sort(),
      );
      expect(telemetry.invocations[0].tuple.degrade).toBe(`degrade-${contentHash(NO_FLAGS).slice(0, 12)}`);
    } finally {
      await ext.close();
    }
  });

  test('data API path', async () => {
    const mock = mockClient(AppConfigDataClient);
    mock
      .on(StartConfigurationSessionCommand)
      .callsFake((input) => Promise.resolve({ InitialConfigurationToken: `tok-${input.ConfigurationProfileIdentifier}` }));
    mock
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-rel' })
      .resolves({ Configuration: new TextEncoder().encode(JSON.stringify(releaseDoc())) as any, NextPollConfigurationToken: 'n1' })
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-deg' })
      .resolves({ Configuration: new TextEncoder().encode(JSON.stringify(NO_FLAGS)) as any, NextPollConfigurationToken: 'n2' });
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({ env: { ...baseEnv, AI_RELEASE_DEGRADE_ENVIRONMENT: 'switches', AI_RELEASE_USE_EXTENSION: 'false' }, telemetry });
      await rt.invoke(async () => ({ output: { answer: 'ok' } }), {});
      const started = mock.commandCalls(StartConfigurationSessionCommand).map((c) => c.args[0].input);
      expect(started).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ ConfigurationProfileIdentifier: 'rel', EnvironmentIdentifier: 'live' }),
          expect.objectContaining({ ConfigurationProfileIdentifier: 'deg', EnvironmentIdentifier: 'switches' }),
        ]),
      );
      expect(telemetry.failures).toEqual([]);
    } finally {
      mock.restore();
    }
  });
});
