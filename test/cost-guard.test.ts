import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { AiRelease, ReleaseConfigSource, renderCanaryCard } from '../lib';
import { degradeFlagsDocument } from '../lib/config/private/degrade-flags';
import { appConfigStore } from '../lambda/cost-guard/appconfig-store';
import {
  backoffCapMs,
  CostGuardGaveUp,
  type DegradeStore,
  type FeatureFlagsDocument,
  guard,
  StoreError,
  withFallbackOn,
} from '../lambda/cost-guard/cost-guard';
import { inlineFunction, tempDir, testApp, validConfig } from './helpers';

const flagsDoc = (state = {}) => degradeFlagsDocument(state) as FeatureFlagsDocument;

/**
 * An in-memory degrade store: a fake with behaviour, not a mock. `busy` lists what StartDeployment answers, call by
 * call (a code makes it throw a StoreError with that code), before it starts succeeding.
 */
function memoryStore(doc: FeatureFlagsDocument, options: { busy?: string[]; deployed?: number } = {}) {
  const versions: FeatureFlagsDocument[] = [doc];
  const deployments: { version: number; description: string }[] = [];
  const busy = [...(options.busy ?? [])];
  let deployed = options.deployed;
  const store: DegradeStore = {
    latest: async () => ({ version: versions.length, document: versions[versions.length - 1] }),
    create: async (d) => (versions.push(d), versions.length),
    deployedVersion: async () => deployed,
    deploy: async (version, description) => {
      const code = busy.shift();
      if (code) throw new StoreError(`StartDeployment: ${code}`, code, !['AccessDeniedException', 'BadRequestException'].includes(code));
      deployments.push({ version, description });
      deployed = version;
      return String(deployments.length);
    },
  };
  return { store, versions, deployments };
}

/** A clock that advances only when the guard sleeps, so the tests take no time. */
function fakeTime(start = Date.parse('2026-11-27T10:00:00Z')) {
  let t = start;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps, elapsed: () => t - start };
}

const alarm = (value: string) => ({ alarmData: { alarmName: 'svc-cost-guard', state: { value } } });

describe('cost guard logic', () => {
  test('ALARM: a new degrade version with the fallback on, deployed', async () => {
    const m = memoryStore(flagsDoc());
    const out = await guard(alarm('ALARM'), m.store, { now: fakeTime().now });
    expect(out).toEqual({ action: 'deployed', version: 2, deploymentNumber: '1', attempts: 1 });
    expect(m.versions[1].values.useFallbackModel.enabled).toBe(true);
    expect(m.versions[1].values.disableTools.enabled).toBe(false); // nothing else touched
    expect(m.deployments[0].description).toContain('svc-cost-guard in ALARM');
  });

  test('a re-delivered ALARM changes nothing when the fallback version is deployed', async () => {
    const m = memoryStore(flagsDoc({ useFallbackModel: true }), { deployed: 1 });
    expect(await guard(alarm('ALARM'), m.store)).toEqual({ action: 'already-degraded', version: 1, attempts: 1 });
    expect(m.deployments).toHaveLength(0);
  });

  test('a fallback version that was created but never deployed (an earlier attempt was refused) is deployed, not created again', async () => {
    const m = memoryStore(flagsDoc({ useFallbackModel: true }), { deployed: undefined });
    expect(await guard(alarm('ALARM'), m.store)).toEqual({ action: 'deployed', version: 1, deploymentNumber: '1', attempts: 1 });
    expect(m.versions).toHaveLength(1);
  });

  test.each(['OK', 'INSUFFICIENT_DATA', undefined])('state %s is ignored', async (state) => {
    const m = memoryStore(flagsDoc());
    expect((await guard({ alarmData: { state: { value: state } } } as never, m.store)).action).toBe('ignored');
    expect(m.deployments).toHaveLength(0);
  });

  // Is the work still wanted: a late event (Lambda retries a throttled one for up to its maximum event age) acts
  // only while the alarm is still in ALARM; a fresh one acts at once, without the lookup.
  test.each([
    ['fresh (30 s old): acts, no lookup', 30_000, 'OK', 'deployed', 0],
    ['late (10 min), alarm still in ALARM: acts', 10 * 60_000, 'ALARM', 'deployed', 1],
    ['late (10 min), alarm back to OK: ignored as stale', 10 * 60_000, 'OK', 'ignored', 1],
    ['late (10 min), alarm INSUFFICIENT_DATA: ignored as stale', 10 * 60_000, 'INSUFFICIENT_DATA', 'ignored', 1],
    ['late, lookup fails: acts (the alarm did fire)', 10 * 60_000, 'throw', 'deployed', 1],
    ['late, alarm not found: acts', 10 * 60_000, undefined, 'deployed', 1],
    ['no timestamp: looked up', undefined, 'OK', 'ignored', 1],
  ] as const)('%s', async (_name, ageMs, current, action, lookups) => {
    const time = fakeTime();
    const m = memoryStore(flagsDoc());
    const asked: string[] = [];
    const alarmState = async (name: string) => {
      asked.push(name);
      if (current === 'throw') throw new Error('ThrottlingException');
      return current;
    };
    const state = { value: 'ALARM', ...(ageMs !== undefined ? { timestamp: new Date(time.now() - ageMs).toISOString() } : {}) };
    const out = await guard({ alarmData: { alarmName: 'svc-cost-guard', state } }, m.store, { now: time.now, alarmState });
    expect(out.action).toBe(action);
    expect(asked).toEqual(Array(lookups).fill('svc-cost-guard'));
    expect(m.deployments).toHaveLength(action === 'deployed' ? 1 : 0);
    if (action === 'ignored')
      expect((out as { reason: string }).reason).toMatch(
        /^stale event: svc-cost-guard entered ALARM .* and is (OK|INSUFFICIENT_DATA) now; nothing to degrade$/,
      );
  });

  test('a profile without the fallback flag is an error, not a silent no-op', () => {
    expect(() => withFallbackOn({ version: '1', flags: {}, values: {} })).toThrow('the degrade profile has no "useFallbackModel" flag');
  });

  // Table: what StartDeployment answers, call by call; the deadline; what the guard does.
  test.each([
    {
      name: 'a running deployment ends after 3 refusals',
      busy: ['ConflictException', 'ConflictException', 'ConflictException'],
      deadlineMs: 600_000,
      attempts: 4,
      versions: 2,
    },
    { name: 'throttling, then through', busy: ['ThrottlingException'], deadlineMs: 600_000, attempts: 2, versions: 2 },
    { name: 'a deployment that runs 5 minutes is outlasted', busy: Array(20).fill('ConflictException'), deadlineMs: 14 * 60_000, attempts: 21, versions: 2 },
  ])('retries a busy environment with backoff: $name', async ({ busy, deadlineMs, attempts, versions }) => {
    const m = memoryStore(flagsDoc(), { busy });
    const time = fakeTime();
    const out = await guard(alarm('ALARM'), m.store, { ...time, random: () => 0.999, deadline: time.now() + deadlineMs });
    expect(out).toMatchObject({ action: 'deployed', version: 2, attempts });
    expect(m.versions).toHaveLength(versions); // one new version however many attempts
    expect(m.deployments).toHaveLength(1);
    // Waits grow (full jitter under an exponential cap of 2 s × 2^n, at most 30 s).
    time.sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(backoffCapMs(i + 1)));
    expect(Math.max(...time.sleeps)).toBeLessThanOrEqual(30_000);
  });

  test('20 refusals take about as long as a 5-minute deployment runs (the backoff really waits)', async () => {
    const m = memoryStore(flagsDoc(), { busy: Array(20).fill('ConflictException') });
    const time = fakeTime();
    await guard(alarm('ALARM'), m.store, { ...time, random: () => 0.999, deadline: time.now() + 14 * 60_000 });
    expect(time.elapsed()).toBeGreaterThan(5 * 60_000);
  });

  test.each([
    { name: 'the environment stays busy past the deadline', busy: Array(100).fill('ConflictException'), retryable: true, code: 'ConflictException' },
    { name: 'access is denied (waiting does not help: no retry)', busy: ['AccessDeniedException'], retryable: false, code: 'AccessDeniedException' },
  ])('gives up with a clear record when $name', async ({ busy, retryable, code }) => {
    const m = memoryStore(flagsDoc(), { busy });
    const time = fakeTime();
    const err = await guard(alarm('ALARM'), m.store, { ...time, random: () => 0.5, deadline: time.now() + 120_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(CostGuardGaveUp);
    const record = (err as CostGuardGaveUp).record;
    expect(record).toMatchObject({ type: 'ai-release.cost-guard.gave-up', alarm: 'svc-cost-guard', version: 2, retryable, lastError: { code } });
    expect(record.action).toMatch(/by hand/);
    expect(JSON.parse((err as Error).message)).toEqual(record); // the destination payload carries the record
    if (!retryable) expect(record.attempts).toBe(1);
    else {
      expect(record.attempts).toBeGreaterThan(3);
      expect(time.elapsed()).toBeLessThanOrEqual(120_000);
    }
    expect(m.deployments).toHaveLength(0);
  });

  test('a non-Error thrown by the store still yields a record', async () => {
    const m = memoryStore(flagsDoc());
    const store = { ...m.store, latest: () => Promise.reject(Object.create(null)) };
    const err = await guard(alarm('ALARM'), store).catch((e) => e);
    expect((err as CostGuardGaveUp).record).toMatchObject({ retryable: false, attempts: 1, lastError: { name: 'object' } });
  });
});

describe('cost guard over AppConfig (mocked)', () => {
  const ids = { application: 'app', environment: 'env', profile: 'deg', strategy: 'instant' };
  let mock: ReturnType<typeof mockClient>;
  beforeEach(() => {
    mock = mockClient(AppConfigClient);
  });
  afterEach(() => mock.restore());
  const store = () => appConfigStore(new AppConfigClient({ region: 'us-east-1' }), ids);

  test('reads the newest version across pages, creates, deploys with the instant strategy', async () => {
    mock
      .on(ListHostedConfigurationVersionsCommand)
      .resolvesOnce({ Items: [{ VersionNumber: 1 }, { VersionNumber: 3 }], NextToken: 't' })
      .resolvesOnce({ Items: [{ VersionNumber: 2 }] });
    mock.on(GetHostedConfigurationVersionCommand, { VersionNumber: 3 }).resolves({ Content: new TextEncoder().encode(JSON.stringify(flagsDoc())) as never });
    mock.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 4 });
    mock.on(StartDeploymentCommand).resolves({ DeploymentNumber: 9 });
    const out = await guard(alarm('ALARM'), store());
    expect(out).toEqual({ action: 'deployed', version: 4, deploymentNumber: '9', attempts: 1 });
    const created = mock.commandCalls(CreateHostedConfigurationVersionCommand)[0].args[0].input;
    expect(JSON.parse(new TextDecoder().decode(created.Content as Uint8Array)).values.useFallbackModel.enabled).toBe(true);
    expect(mock.commandCalls(StartDeploymentCommand)[0].args[0].input).toMatchObject({
      ApplicationId: 'app',
      EnvironmentId: 'env',
      ConfigurationProfileId: 'deg',
      ConfigurationVersion: '4',
      DeploymentStrategyId: 'instant',
    });
  });

  test('ConflictException from StartDeployment is retried; the version is created once', async () => {
    mock.on(ListHostedConfigurationVersionsCommand).resolves({ Items: [{ VersionNumber: 1 }] });
    mock.on(GetHostedConfigurationVersionCommand).resolves({ Content: new TextEncoder().encode(JSON.stringify(flagsDoc())) as never });
    mock.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 2 });
    // After the first create, the newest hosted version is the one with the fallback on.
    mock
      .on(GetHostedConfigurationVersionCommand, { VersionNumber: 2 })
      .resolves({ Content: new TextEncoder().encode(JSON.stringify(flagsDoc({ useFallbackModel: true }))) as never });
    mock
      .on(ListHostedConfigurationVersionsCommand)
      .resolvesOnce({ Items: [{ VersionNumber: 1 }] })
      .resolves({ Items: [{ VersionNumber: 1 }, { VersionNumber: 2 }] });
    mock.on(ListDeploymentsCommand).resolves({ Items: [{ ConfigurationProfileId: 'deg', ConfigurationVersion: '1', State: 'COMPLETE' }] });
    const conflict = Object.assign(new Error('Deployment 7 is in progress'), { name: 'ConflictException' });
    mock.on(StartDeploymentCommand).rejectsOnce(conflict).resolves({ DeploymentNumber: 8 });
    const time = fakeTime();
    const out = await guard(alarm('ALARM'), store(), { ...time, random: () => 0.5 });
    expect(out).toEqual({ action: 'deployed', version: 2, deploymentNumber: '8', attempts: 2 });
    expect(mock.commandCalls(CreateHostedConfigurationVersionCommand)).toHaveLength(1);
    expect(time.sleeps).toEqual([1000]);
  });

  test.each([
    { items: [{ ConfigurationProfileId: 'deg', ConfigurationVersion: '5', State: 'BAKING' }], expected: 5 },
    {
      items: [
        { ConfigurationProfileId: 'release', ConfigurationVersion: '9', State: 'COMPLETE' },
        { ConfigurationProfileId: 'deg', ConfigurationVersion: '4', State: 'ROLLED_BACK' },
        { ConfigurationProfileId: 'deg', ConfigurationVersion: '3', State: 'COMPLETE' },
      ],
      expected: 3,
    },
    { items: [], expected: undefined },
  ])('deployedVersion: the newest effective deployment of the degrade profile ($expected)', async ({ items, expected }) => {
    mock.on(ListDeploymentsCommand).resolves({ Items: items as never });
    expect(await store().deployedVersion()).toBe(expected);
    expect(mock.commandCalls(ListDeploymentsCommand)[0].args[0].input).toMatchObject({ ApplicationId: 'app', EnvironmentId: 'env' });
  });

  test.each([
    ['ConflictException', true],
    ['ThrottlingException', true],
    ['InternalServerException', true],
    ['AccessDeniedException', false],
    ['BadRequestException', false],
  ])('%s is a StoreError, retryable: %s', async (name, retryable) => {
    mock.on(StartDeploymentCommand).rejects(Object.assign(new Error('no'), { name }));
    const err = await store()
      .deploy(2, 'd')
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: name, retryable });
  });
});

describe('AiRelease costGuard', () => {
  let lastRelease: AiRelease | undefined;
  function build(costGuard: object | undefined, config = validConfig()) {
    const stack = new Stack(testApp(), 'G');
    // snapshots, reviews, the gate and the judge off: these tests count functions, and theirs are not the cost guard's concern
    lastRelease = new AiRelease(stack, 'R', {
      serviceName: 'svc',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(config),
      costGuard,
      snapshots: false,
      releaseReview: false,
      regressionGate: false,
      policyWaivers: [{ rule: 'regression-gate', reason: 'these tests count the cost guard’s functions only' }],
      canaryJudge: false,
    });
    return Template.fromStack(stack);
  }

  test('off by default', () => {
    // the service's function and the stack's config deployer with its Provider framework (onEvent, isComplete,
    // onTimeout), no cost guard
    build(undefined).resourceCountIs('AWS::Lambda::Function', 5);
  });

  test('a cost-guard alarm outside the composites invokes the guard and notifies; the card says so', () => {
    const t = build({ maxCostPerRequestUsd: 0.1 });
    expect(renderCanaryCard(lastRelease!.facts, lastRelease!.policy)).toContain(
      "the cost guard switches on `useFallbackModel` when the service's cost per request is above 0.1 USD",
    );
    t.resourceCountIs('AWS::Lambda::Function', 6); // + the stack's config deployer and its 3 framework functions
    const guardAlarm = Object.values(t.findResources('AWS::CloudWatch::Alarm'))
      .map((a: any) => a.Properties)
      .find((p) => p.AlarmName.endsWith('-cost-guard'));
    expect(guardAlarm.Threshold).toBe(0.1);
    expect(guardAlarm.AlarmActions).toHaveLength(2);
    const composites = JSON.stringify(t.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composites).not.toContain('CostGuardAlarm');
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('appconfig:StartDeployment');
    expect(policies).toContain('appconfig:CreateHostedConfigurationVersion');
  });

  test('asynchronous invoke: 2 retries within an hour, then the give-up record to the platform topic; 15-minute timeout', () => {
    const t = build({});
    const fn = lastRelease!.costGuard!.function;
    const fnId = Stack.of(fn).getLogicalId(fn.node.defaultChild as never);
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { Ref: topicId } } },
    });
    expect(t.toJSON().Resources[fnId].Properties.Timeout).toBe(900);
    // Only the guard alarm may invoke it (CloudWatch docs: principal lambda.alarms.cloudwatch.amazonaws.com, scoped by
    // source account and alarm ARN), and it does so asynchronously, which is what the retries above configure.
    const alarmId = Stack.of(fn).getLogicalId(lastRelease!.costGuard!.alarm.node.defaultChild as never);
    t.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'lambda.alarms.cloudwatch.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: { 'Fn::GetAtt': [alarmId, 'Arn'] },
    });
  });

  test('needs a fallback model: a config problem at synth naming the model file, reported with every other service', () => {
    // The README promises a bad config never produces a stack trace and every service's problems come in one synth:
    // a missing fallback under costGuard is a config problem like any other, located in the file that lacks it.
    const c = validConfig();
    delete c.model.fallback;
    const dir = tempDir({
      'prompt.json': JSON.stringify(c.prompt),
      'model.json': JSON.stringify(c.model, undefined, 2),
      'output-contract.json': JSON.stringify(c.outputContract),
    });
    const app = testApp();
    const stack = new Stack(app, 'G');
    const fromDir = ReleaseConfigSource.fromDirectory(dir);
    expect(() => new AiRelease(stack, 'R', { serviceName: 'svc', function: inlineFunction(stack), config: fromDir, costGuard: {} })).not.toThrow();
    const bad = validConfig();
    bad.model.parameters.temperature = 'hot';
    new AiRelease(stack, 'Other', { serviceName: 'other', function: inlineFunction(stack, 'OtherFn'), config: ReleaseConfigSource.fromObject(bad) });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`${path.join(dir, 'model.json')}:1:1 $.model.fallback: costGuard is on, but the model section names no fallback`);
    expect(message).toContain('fix: add model.fallback');
    expect(message).toContain('release config of service "svc" is invalid');
    // the other service's problem is in the same report
    expect(message).toContain('$.model.parameters.temperature');
  });
});

describe('cost guard handler', () => {
  const env = { COST_GUARD_APPLICATION: 'app', COST_GUARD_ENVIRONMENT: 'env', COST_GUARD_PROFILE: 'deg', COST_GUARD_STRATEGY: 'instant' };
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('when it gives up: one structured ERROR log line, and the thrown message is the same record (what the destination gets)', async () => {
    Object.assign(process.env, env);
    const mock = mockClient(AppConfigClient);
    mock.on(ListHostedConfigurationVersionsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const logged: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void logged.push(line));
    try {
      let handler!: typeof import('../lambda/cost-guard/handler').handler;
      jest.isolateModules(() => {
        handler = require('../lambda/cost-guard/handler').handler;
      });
      const err = await handler(alarm('ALARM'), { getRemainingTimeInMillis: () => 900_000 }).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      const record = JSON.parse(err.message);
      expect(record).toMatchObject({ type: 'ai-release.cost-guard.gave-up', retryable: false, application: 'app', environment: 'env', profile: 'deg' });
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0])).toMatchObject({ level: 'ERROR', message: 'cost guard gave up', ...record });
    } finally {
      spy.mockRestore();
      mock.restore();
    }
  });
});
