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
        if (!extensionUp) throw new Error('ECONNREFUSED');
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
    expect(await cache.get('p')).toEqual({ content: { n: 1 }, version: '1', stale: false });
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
