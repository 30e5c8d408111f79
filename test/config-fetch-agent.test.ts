/**
 * The AppConfig agent (Lambda extension) as the runtime uses it: prefetch, deadlines derived from the extension's own
 * poll timeout, fallback to the data API only when the extension cannot be reached, and one degrade label per
 * content whatever path served it.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AppConfigDataClient, GetLatestConfigurationCommand, StartConfigurationSessionCommand } from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { AiServiceConfig, ReleaseConfigSource } from '../lib';
import {
  type ConfigFetcher,
  createAiRuntime,
  ExtensionAnswerError,
  ExtensionFetcher,
  ExtensionTimeoutError,
  FallbackFetcher,
  isExtensionUnreachable,
} from '../lambda/runtime';
import { contentHash } from '../lambda/shared/canonical-json';
import type { VersionTuple } from '../lambda/shared/contract';
import { inlineFunction, testApp, validConfig } from './helpers';
import { NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

type Route = { status?: number; body: string; version?: string; delayMs?: number };

/** A loopback HTTP server standing in for the extension; a route may answer late (a cache miss). */
async function fakeExtension(routes: Record<string, Route>) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    const answer = () =>
      res
        .writeHead(route.status ?? 200, { 'content-type': 'application/json', ...(route.version ? { 'configuration-version': route.version } : {}) })
        .end(route.body);
    if (route.delayMs) setTimeout(answer, route.delayMs).unref();
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const recordingApi = () => {
  const calls: string[] = [];
  const api: ConfigFetcher = { fetch: async (p) => (calls.push(p), { content: 'from-api' }) };
  return { calls, api };
};

describe('bind(): the extension prefetches both profiles and its deadlines are explicit', () => {
  function bound(options: { timeout?: Duration; extensionPollTimeout?: Duration; layer?: boolean } = {}) {
    const stack = new Stack(testApp(), 'S');
    const svc = new AiServiceConfig(stack, 'Cfg', { serviceName: 'svc', source: ReleaseConfigSource.fromObject(validConfig()) });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      timeout: options.timeout ?? Duration.seconds(30),
    });
    svc.bind(fn, {
      ...(options.layer === false
        ? {}
        : {
            appConfigExtensionLayer: lambda.LayerVersion.fromLayerVersionArn(
              stack,
              'L',
              'arn:aws:lambda:us-east-1:027255383542:layer:AWS-AppConfig-Extension:1',
            ),
          }),
      ...(options.extensionPollTimeout ? { extensionPollTimeout: options.extensionPollTimeout } : {}),
    });
    const template = Template.fromStack(stack);
    const [, fnResource] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('Fn')) as [string, any];
    const vars = fnResource.Properties.Environment.Variables;
    return { stack, svc, template, vars };
  }

  /** The logical ids of a resource type (the refs in the prefetch list resolve to them). */
  const logicalId = (template: Template, type: string, name: string) =>
    Object.entries(template.findResources(type)).find(([, r]) => (r as any).Properties.Name === name)?.[0];

  test('AWS_APPCONFIG_EXTENSION_PREFETCH_LIST names both profiles, each in its own environment, comma-separated', () => {
    const { template, vars } = bound();
    const joined = vars.AWS_APPCONFIG_EXTENSION_PREFETCH_LIST;
    expect(joined['Fn::Join'][0]).toBe('');
    // Render the join with the refs as their logical ids, to read the two paths.
    const text = (joined['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `<${(p as { Ref: string }).Ref}>`)).join('');
    const paths = text.split(',');
    expect(paths).toHaveLength(2);
    const app = Object.keys(template.findResources('AWS::AppConfig::Application'))[0];
    const env = logicalId(template, 'AWS::AppConfig::Environment', 'svc');
    const degradeEnv = logicalId(template, 'AWS::AppConfig::Environment', 'svc-degrade');
    const profile = logicalId(template, 'AWS::AppConfig::ConfigurationProfile', 'svc-release');
    const degradeProfile = logicalId(template, 'AWS::AppConfig::ConfigurationProfile', 'svc-degrade');
    expect(paths).toEqual([
      `/applications/<${app}>/environments/<${env}>/configurations/<${profile}>`,
      `/applications/<${app}>/environments/<${degradeEnv}>/configurations/<${degradeProfile}>`,
    ]);
  });

  test('the prefetch paths are the paths the runtime reads', () => {
    const { svc, stack } = bound();
    const resolved = svc.prefetchPaths().map((p) => stack.resolve(p));
    const reader = new ExtensionFetcher('APP', (profile) => (profile === 'DEG' ? 'DEGENV' : 'ENV'));
    // Same shape: /applications/<app>/environments/<env>/configurations/<profile>
    expect(reader.path('PROF')).toBe('/applications/APP/environments/ENV/configurations/PROF');
    for (const r of resolved) {
      const parts = (r['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string');
      expect(parts).toEqual(['/applications/', '/environments/', '/configurations/']);
    }
  });

  test('poll timeout (default 3000 ms) is set explicitly; the read deadline is longer than it', () => {
    const { vars } = bound();
    expect(vars.AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS).toBe('3000');
    expect(Number(vars.AI_RELEASE_CONFIG_TIMEOUT_MS)).toBeGreaterThan(3000);
    expect(vars.AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS).toBe('15');
    const custom = bound({ extensionPollTimeout: Duration.millis(1500) }).vars;
    expect(custom.AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS).toBe('1500');
    expect(Number(custom.AI_RELEASE_CONFIG_TIMEOUT_MS)).toBeGreaterThan(1500);
  });

  test('without the layer: no prefetch list, no extension timeouts', () => {
    const { vars } = bound({ layer: false });
    expect(vars.AWS_APPCONFIG_EXTENSION_PREFETCH_LIST).toBeUndefined();
    expect(vars.AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS).toBeUndefined();
    expect(vars.AI_RELEASE_USE_EXTENSION).toBe('false');
  });

  test('a function timeout the config read does not fit in is a synth warning with a stable id', () => {
    const tight = bound({ timeout: Duration.seconds(3) });
    const warnings = Annotations.fromStack(tight.stack).findWarning('*', Match.stringLikeRegexp('config-read-exceeds-function-timeout'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(
      /up to 4000 ms .* function's timeout of 3000 ms; raise the function's timeout or lower extensionPollTimeout/,
    );
    const roomy = bound({ timeout: Duration.seconds(30) });
    expect(Annotations.fromStack(roomy.stack).findWarning('*', Match.stringLikeRegexp('config-read-exceeds-function-timeout'))).toHaveLength(0);
  });

  test('a poll timeout out of range names the option', () => {
    expect(() => bound({ extensionPollTimeout: Duration.millis(10) })).toThrow(/extensionPollTimeout must be whole milliseconds from 100 to 60000, got 10 ms/);
  });

  test('inlineFunction (the default 3 s timeout) warns too', () => {
    const stack = new Stack(testApp(), 'S2');
    const svc = new AiServiceConfig(stack, 'Cfg', { serviceName: 'svc', source: ReleaseConfigSource.fromObject(validConfig()) });
    svc.bind(inlineFunction(stack), {
      appConfigExtensionLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'L', 'arn:aws:lambda:us-east-1:027255383542:layer:AWS-AppConfig-Extension:1'),
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('config-read-exceeds-function-timeout'))).toHaveLength(1);
  });
});

describe('fallback to the data API only when the extension cannot be reached', () => {
  test.each([
    [403, '{"Message":"User is not authorized to perform appconfig:StartConfigurationSession"}'],
    [404, '{"Message":"Configuration profile not found"}'],
    [500, 'upstream AppConfig error: ThrottlingException'],
    [502, ''],
  ])('HTTP %i from a reachable extension is reported with its body; the data API is not called', async (status, body) => {
    const ext = await fakeExtension({ '/applications/a/environments/e/configurations/p': { status, body } });
    const { calls, api } = recordingApi();
    try {
      const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', ext.port), api);
      const error = await f.fetch('p').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExtensionAnswerError);
      expect((error as ExtensionAnswerError).status).toBe(status);
      expect((error as ExtensionAnswerError).body).toBe(body);
      expect((error as Error).message).toContain(`answered ${status} for /applications/a/environments/e/configurations/p: ${body || '(empty body)'}`);
      expect(calls).toEqual([]);
      // Not declared down: the next request asks the extension again.
      await f.fetch('p').catch(() => undefined);
      expect(ext.hits).toHaveLength(2);
    } finally {
      await ext.close();
    }
  });

  test('a long error body is cut, not dropped', async () => {
    const body = `denied ${'x'.repeat(5000)}`;
    const ext = await fakeExtension({ '/applications/a/environments/e/configurations/p': { status: 400, body } });
    try {
      const e = (await new ExtensionFetcher('a', 'e', ext.port).fetch('p').catch((x: unknown) => x)) as ExtensionAnswerError;
      expect(e.body).toBe(body.slice(0, 1000));
      expect(e.message).toContain('denied xxx');
    } finally {
      await ext.close();
    }
  });

  test('connection refused: the data API answers, and the extension is declared down for the back-off', async () => {
    const ext = await fakeExtension({});
    const port = ext.port;
    await ext.close(); // nothing listens there now
    const { calls, api } = recordingApi();
    let t = 0;
    const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', port), api, 60_000, () => t);
    expect((await f.fetch('p')).content).toBe('from-api');
    t = 1000;
    expect((await f.fetch('q')).content).toBe('from-api');
    expect(calls).toEqual(['p', 'q']);
  });

  test('a timeout: the data API answers', async () => {
    const ext = await fakeExtension({ '/applications/a/environments/e/configurations/p': { body: '{"late":true}', delayMs: 2000 } });
    const { calls, api } = recordingApi();
    try {
      const f = new FallbackFetcher(new ExtensionFetcher('a', 'e', ext.port, 100), api);
      const started = Date.now();
      expect((await f.fetch('p')).content).toBe('from-api');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(calls).toEqual(['p']);
    } finally {
      await ext.close();
    }
  });

  test('the classification: connection codes and timeouts are unreachable; answers and bugs are not', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ETIMEDOUT'])
      expect(isExtensionUnreachable(Object.assign(new Error(code), { code }))).toBe(true);
    expect(isExtensionUnreachable(new ExtensionTimeoutError('/x', 10))).toBe(true);
    expect(isExtensionUnreachable(new Error('socket hang up'))).toBe(true);
    expect(isExtensionUnreachable(new ExtensionAnswerError('answered 500', 500, 'boom'))).toBe(false);
    expect(isExtensionUnreachable(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isExtensionUnreachable(new Error('ECONNREFUSED'))).toBe(false); // a message alone is not a socket error
    expect(isExtensionUnreachable(null)).toBe(false);
    expect(isExtensionUnreachable('ECONNREFUSED')).toBe(false);
  });

  test('a bug in the primary is thrown, not hidden behind the data API', async () => {
    const { calls, api } = recordingApi();
    const f = new FallbackFetcher({ fetch: async () => Promise.reject(new TypeError('x is not a function')) }, api);
    await expect(f.fetch('p')).rejects.toThrow('x is not a function');
    expect(calls).toEqual([]);
  });

  test('the runtime surfaces the extension body on a cold start (ConfigUnavailableError), without a data API call', async () => {
    const ext = await fakeExtension({
      '/applications/app/environments/live/configurations/rel': { status: 403, body: 'AccessDenied: appconfig:GetLatestConfiguration' },
      '/applications/app/environments/live/configurations/deg': { body: JSON.stringify(NO_FLAGS) },
    });
    const mock = mockClient(AppConfigDataClient);
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({ env: { ...baseEnv, AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(ext.port) }, telemetry });
      await expect(rt.invoke(async () => ({ output: { answer: 'ok' } }), {})).rejects.toThrow(/answered 403 .*AccessDenied: appconfig:GetLatestConfiguration/);
      expect(mock.calls()).toHaveLength(0);
    } finally {
      mock.restore();
      await ext.close();
    }
  });
});

const baseEnv = {
  AI_RELEASE_SERVICE: 's',
  AI_RELEASE_APPCONFIG_APPLICATION: 'app',
  AI_RELEASE_APPCONFIG_ENVIRONMENT: 'live',
  AI_RELEASE_CONFIG_PROFILE: 'rel',
  AI_RELEASE_DEGRADE_PROFILE: 'deg',
};

describe("the client's deadline is longer than the extension's poll timeout", () => {
  test('an extension answering after 1.1 s (a cache miss within its poll timeout) is waited for, not abandoned', async () => {
    // The former fixed 1 s client deadline would have given up here and asked the data API.
    const ext = await fakeExtension({
      '/applications/app/environments/live/configurations/rel': { body: JSON.stringify(releaseDoc()), version: '4', delayMs: 1100 },
      '/applications/app/environments/live/configurations/deg': { body: JSON.stringify(NO_FLAGS), version: '2' },
    });
    const mock = mockClient(AppConfigDataClient);
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({
        env: { ...baseEnv, AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(ext.port), AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: '1200' },
        telemetry,
      });
      const out = await rt.invoke(async () => ({ output: { answer: 'ok' } }), {}, { getRemainingTimeInMillis: () => 10_000 });
      expect(out).toEqual({ answer: 'ok' });
      expect(telemetry.failures).toEqual([]);
      expect(mock.calls()).toHaveLength(0);
    } finally {
      mock.restore();
      await ext.close();
    }
  });

  test('and never past the invocation: a short budget cuts the read', async () => {
    const ext = await fakeExtension({
      '/applications/app/environments/live/configurations/rel': { body: JSON.stringify(releaseDoc()), delayMs: 3000 },
      '/applications/app/environments/live/configurations/deg': { body: JSON.stringify(NO_FLAGS) },
    });
    try {
      const rt = createAiRuntime({
        env: { ...baseEnv, AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(ext.port) },
        telemetry: new RecordingTelemetry(),
        degradedAnswer: () => ({ answer: 'degraded' }),
      });
      const started = Date.now();
      const out = await rt.invoke(async () => ({ output: { answer: 'ok' } }), {}, { getRemainingTimeInMillis: () => 800 });
      expect(out).toEqual({ answer: 'degraded' });
      expect(Date.now() - started).toBeLessThan(1500); // 800 ms budget - 500 ms margin, not the 4 s read deadline
    } finally {
      await ext.close();
    }
  });

  test('a poll timeout that is not a number is a clear error naming the variable', () => {
    expect(() => createAiRuntime({ env: { ...baseEnv, AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS: 'soon' } })).toThrow(
      /AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS must be a positive number of milliseconds, got "soon"/,
    );
  });
});

describe('one label per version, whatever the path', () => {
  const flagStates: Record<string, unknown>[] = [
    NO_FLAGS,
    { ...NO_FLAGS, useFallbackModel: { enabled: true } },
    { ...NO_FLAGS, staticAnswer: { enabled: true, message: 'Back soon.' } },
    // the same switches, keys in another order: the same content
    Object.fromEntries(Object.entries(NO_FLAGS).reverse()),
  ];

  async function viaExtension(release: unknown, flags: unknown): Promise<VersionTuple> {
    const ext = await fakeExtension({
      // The extension reports AppConfig's version numbers.
      '/applications/app/environments/live/configurations/rel': { body: JSON.stringify(release), version: '4' },
      '/applications/app/environments/live/configurations/deg': { body: JSON.stringify(flags), version: '17' },
    });
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({ env: { ...baseEnv, AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(ext.port) }, telemetry, codeVersion: '9' });
      await rt.invoke(async () => ({ output: { answer: 'ok' } }), {});
      expect(telemetry.failures).toEqual([]);
      return telemetry.invocations[0].tuple;
    } finally {
      await ext.close();
    }
  }

  async function viaDataApi(release: unknown, flags: unknown): Promise<VersionTuple> {
    const mock = mockClient(AppConfigDataClient);
    const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o)) as any;
    mock
      .on(StartConfigurationSessionCommand)
      .callsFake((input) => Promise.resolve({ InitialConfigurationToken: `tok-${input.ConfigurationProfileIdentifier}` }));
    // The data API reports the version labels the construct set.
    mock
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-rel' })
      .resolves({ Configuration: bytes(release), NextPollConfigurationToken: 'n1', VersionLabel: 'cfg-0123456789ab' })
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'tok-deg' })
      .resolves({ Configuration: bytes(flags), NextPollConfigurationToken: 'n2', VersionLabel: 'degrade-abcdefabcdef' });
    try {
      const telemetry = new RecordingTelemetry();
      const rt = createAiRuntime({ env: { ...baseEnv, AI_RELEASE_USE_EXTENSION: 'false' }, telemetry, codeVersion: '9' });
      await rt.invoke(async () => ({ output: { answer: 'ok' } }), {});
      expect(telemetry.failures).toEqual([]);
      return telemetry.invocations[0].tuple;
    } finally {
      mock.restore();
    }
  }

  test.each(flagStates.map((f, i) => [i, f]))('flag state %i: both paths stamp the identical tuple', async (_i, flags) => {
    const release = releaseDoc();
    const [a, b] = [await viaExtension(release, flags), await viaDataApi(release, flags)];
    expect(a).toEqual(b);
    expect(a.degrade).toBe(`degrade-${contentHash(flags).slice(0, 12)}`);
    expect(a.config).toBe(release._release?.label);
  });

  test('different switch positions are different labels; key order is not', async () => {
    const labels = await Promise.all(flagStates.map(async (f) => (await viaExtension(releaseDoc(), f)).degrade));
    expect(new Set(labels.slice(0, 3)).size).toBe(3);
    expect(labels[3]).toBe(labels[0]);
  });
});
