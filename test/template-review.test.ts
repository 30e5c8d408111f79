/**
 * Defects found by the template review (docs/template-review.md), each pinned by a test that failed before its fix.
 */
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand, StopDeploymentCommand } from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { appConfigPort } from '../lambda/config-deployer/appconfig-port';
import { type AppConfigPort, type Clock, type CustomResourceEvent, type DeploymentInfo, handle } from '../lambda/config-deployer/config-deployer';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';

/** The AppConfig application name the template asks for (a literal, or a token when it is a stack name). */
function applicationName(t: Template): unknown {
  const apps = Object.values(t.findResources('AWS::AppConfig::Application'));
  expect(apps).toHaveLength(1);
  return (apps[0] as any).Properties.Name;
}

function service(stack: Stack) {
  new AiRelease(stack, 'Release', {
    serviceName: 'alpha',
    function: inlineFunction(stack, 'Fn'),
    config: ReleaseConfigSource.fromObject(validConfig()),
  });
  return Template.fromStack(stack);
}

describe('AppConfig application name: 1 to 64 characters (AppConfig API reference, CreateApplication: Name)', () => {
  test('in a nested stack it is a literal of at most 64 characters, not AWS::StackName (parent-logicalId-GUID, longer than 64)', () => {
    const parent = new Stack(testApp(), 'Parent');
    const name = applicationName(service(new NestedStack(parent, 'Services')));
    expect(typeof name).toBe('string');
    expect((name as string).length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/Services/);
  });

  test('a top-level stack name longer than 64 characters is shortened, uniquely', () => {
    const long = `Team-${'x'.repeat(70)}`;
    const a = applicationName(service(new Stack(testApp(), 'A', { stackName: `${long}-a` }))) as string;
    const b = applicationName(service(new Stack(testApp(), 'B', { stackName: `${long}-b` }))) as string;
    expect(a.length).toBeLessThanOrEqual(64);
    expect(b.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
  });

  test('a stack name of 64 characters or fewer is kept as it was (no replacement of existing applications)', () => {
    expect(applicationName(service(new Stack(testApp(), 'AiReleaseExample')))).toBe('AiReleaseExample');
  });

  test('an explicit applicationName over 64 characters is refused at synth, naming the prop and the limit', () => {
    const stack = new Stack(testApp(), 'S');
    expect(() => new AiReleasePlatform(stack, 'P', { applicationName: 'a'.repeat(65) })).toThrow(/applicationName .*65 characters.*at most 64/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The config deployer on a stack rollback (lambda/config-deployer).

describe('config deployer: stack rollback after AppConfig already rolled the release back', () => {
  const props = (version: string) => ({
    Application: 'app1234',
    Environment: 'env1234',
    Profile: 'prof123',
    Version: version,
    Strategy: 'canary1',
    RollbackStrategy: 'instant',
  });
  const rollbackEvent = (from: string, to: string): CustomResourceEvent => ({
    RequestType: 'Update',
    ResourceProperties: props(to),
    OldResourceProperties: props(from),
    PhysicalResourceId: 'app1234/env1234/prof123',
  });
  const clock: Clock = { now: () => 0, sleep: async () => undefined };

  /** An environment whose newest deployment is `last`; records the calls that change anything. */
  function environment(last: DeploymentInfo) {
    const calls: string[] = [];
    const port: AppConfigPort = {
      start: async (p) => {
        calls.push(`start v${p.version} ${p.strategy}`);
        return last.number + 1;
      },
      get: async (_e, n) => (n === last.number ? last : { number: n, state: 'COMPLETE' }),
      running: async () => [],
      latest: async () => last,
      stop: async (_e, n) => {
        calls.push(`stop #${n}`);
      },
    };
    return { port, calls };
  }

  test.each(['ROLLED_BACK', 'REVERTED'])(
    'the newest deployment is the failed version, %s: the previous version is already live, nothing is deployed again',
    async (state) => {
      // An alarm rolled version 5 back (the resource failed), then CloudFormation rolls the stack back to version 4.
      // Deploying 4 again would be judged by the alarm that is still in ALARM, could itself be rolled back, and a
      // FAILED answer during a rollback leaves the stack in UPDATE_ROLLBACK_FAILED.
      const env = environment({ number: 8, state, profile: 'prof123', version: '5' });
      const out = await handle(rollbackEvent('5', '4'), env.port, clock, { budgetMs: 60_000, pollMs: 10 });
      expect(out).toMatchObject({ status: 'SUCCESS', data: { Version: '4', Direction: 'rollback' } });
      expect(env.calls).toEqual([]);
    },
  );

  test('the newest deployment of the failed version COMPLETED (a later resource failed): the previous version is deployed', async () => {
    const env = environment({ number: 8, state: 'COMPLETE', profile: 'prof123', version: '5' });
    const out = await handle(rollbackEvent('5', '4'), env.port, clock, { budgetMs: 60_000, pollMs: 10 });
    expect(out).toMatchObject({ status: 'SUCCESS', data: { Version: '4', Direction: 'rollback' } });
    expect(env.calls).toEqual(['start v4 instant']);
  });
});

describe('config deployer over the AppConfig API', () => {
  const mock = mockClient(AppConfigClient);
  beforeEach(() => mock.reset());

  test('StopDeployment asks for AllowRevert: without it AppConfig stops only a DEPLOYING deployment, not a BAKING one', async () => {
    // AppConfig API reference, StopDeployment: "works only on deployments that have a status of DEPLOYING, unless an
    // AllowRevert parameter is supplied"; the deployer stops abandoned and overdue rollouts, which may be BAKING.
    mock.on(StopDeploymentCommand).resolves({});
    await appConfigPort(new AppConfigClient({}), 'app1234').stop('env1234', 3);
    expect(mock.commandCalls(StopDeploymentCommand)[0].args[0].input).toEqual({
      ApplicationId: 'app1234',
      EnvironmentId: 'env1234',
      DeploymentNumber: 3,
      AllowRevert: true,
    });
  });

  test('the newest deployment is read from the first ListDeployments item, in full', async () => {
    mock.on(ListDeploymentsCommand).resolves({ Items: [{ DeploymentNumber: 8, State: 'ROLLED_BACK' }] });
    mock.on(GetDeploymentCommand).resolves({ DeploymentNumber: 8, State: 'ROLLED_BACK', ConfigurationProfileId: 'prof123', ConfigurationVersion: '5' });
    const port = appConfigPort(new AppConfigClient({}), 'app1234');
    expect(await port.latest('env1234')).toMatchObject({ number: 8, state: 'ROLLED_BACK', profile: 'prof123', version: '5' });
    expect(mock.commandCalls(ListDeploymentsCommand)[0].args[0].input).toMatchObject({ ApplicationId: 'app1234', EnvironmentId: 'env1234' });
    mock.reset();
    mock.on(ListDeploymentsCommand).resolves({ Items: [] });
    expect(await port.latest('env1234')).toBeUndefined();
  });
});
