import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  GetHostedConfigurationVersionCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { AiRelease, ReleaseConfigSource, renderCanaryCard } from '../lib';
import { degradeFlagsDocument } from '../lib/private/degrade-flags';
import { appConfigStore } from '../lambda/cost-guard/appconfig-store';
import { guard, withFallbackOn, type DegradeStore, type FeatureFlagsDocument } from '../lambda/cost-guard/cost-guard';
import { inlineFunction, testApp, validConfig } from './helpers';

const flagsDoc = (state = {}) => degradeFlagsDocument(state) as FeatureFlagsDocument;

/** An in-memory degrade store: a fake with behaviour, not a mock. */
function memoryStore(doc: FeatureFlagsDocument) {
  const versions: FeatureFlagsDocument[] = [doc];
  const deployments: { version: number; description: string }[] = [];
  const store: DegradeStore = {
    latest: async () => ({ version: versions.length, document: versions[versions.length - 1] }),
    create: async (d) => (versions.push(d), versions.length),
    deploy: async (version, description) => (deployments.push({ version, description }), String(deployments.length)),
  };
  return { store, versions, deployments };
}

const alarm = (value: string) => ({ alarmData: { alarmName: 'svc-cost-guard', state: { value } } });

describe('cost guard logic', () => {
  test('ALARM: a new degrade version with the fallback on, deployed', async () => {
    const m = memoryStore(flagsDoc());
    const out = await guard(alarm('ALARM'), m.store, () => new Date('2026-11-27T10:00:00Z'));
    expect(out).toEqual({ action: 'deployed', version: 2, deploymentNumber: '1' });
    expect(m.versions[1].values.useFallbackModel.enabled).toBe(true);
    expect(m.versions[1].values.disableTools.enabled).toBe(false); // nothing else touched
    expect(m.deployments[0].description).toContain('svc-cost-guard in ALARM');
  });

  test('a re-delivered ALARM changes nothing', async () => {
    const m = memoryStore(flagsDoc({ useFallbackModel: true }));
    expect(await guard(alarm('ALARM'), m.store)).toEqual({ action: 'already-degraded', version: 1 });
    expect(m.deployments).toHaveLength(0);
  });

  test.each(['OK', 'INSUFFICIENT_DATA', undefined])('state %s is ignored', async (state) => {
    const m = memoryStore(flagsDoc());
    expect((await guard({ alarmData: { state: { value: state } } } as never, m.store)).action).toBe('ignored');
    expect(m.deployments).toHaveLength(0);
  });

  test('a profile without the fallback flag is an error, not a silent no-op', () => {
    expect(() => withFallbackOn({ version: '1', flags: {}, values: {} })).toThrow('the degrade profile has no "useFallbackModel" flag');
  });
});

describe('cost guard over AppConfig (mocked)', () => {
  test('reads the newest version across pages, creates, deploys with the instant strategy', async () => {
    const mock = mockClient(AppConfigClient);
    mock
      .on(ListHostedConfigurationVersionsCommand)
      .resolvesOnce({ Items: [{ VersionNumber: 1 }, { VersionNumber: 3 }], NextToken: 't' })
      .resolvesOnce({ Items: [{ VersionNumber: 2 }] });
    mock.on(GetHostedConfigurationVersionCommand, { VersionNumber: 3 }).resolves({ Content: new TextEncoder().encode(JSON.stringify(flagsDoc())) as never });
    mock.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 4 });
    mock.on(StartDeploymentCommand).resolves({ DeploymentNumber: 9 });
    const store = appConfigStore(new AppConfigClient({ region: 'us-east-1' }), { application: 'app', environment: 'env', profile: 'deg', strategy: 'instant' });
    const out = await guard(alarm('ALARM'), store);
    expect(out).toEqual({ action: 'deployed', version: 4, deploymentNumber: '9' });
    const created = mock.commandCalls(CreateHostedConfigurationVersionCommand)[0].args[0].input;
    expect(JSON.parse(new TextDecoder().decode(created.Content as Uint8Array)).values.useFallbackModel.enabled).toBe(true);
    expect(mock.commandCalls(StartDeploymentCommand)[0].args[0].input).toMatchObject({
      ApplicationId: 'app',
      EnvironmentId: 'env',
      ConfigurationProfileId: 'deg',
      ConfigurationVersion: '4',
      DeploymentStrategyId: 'instant',
    });
    mock.restore();
  });
});

describe('AiRelease costGuard', () => {
  let lastRelease: AiRelease | undefined;
  function build(costGuard: object | undefined, config = validConfig()) {
    const stack = new Stack(testApp(), 'G');
    // snapshots off: these tests count functions, and the regression store's are not the cost guard's concern
    lastRelease = new AiRelease(stack, 'R', {
      serviceName: 'svc',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(config),
      costGuard,
      snapshots: false,
    });
    return Template.fromStack(stack);
  }

  test('off by default', () => {
    // the service's function and the stack's config deployer, no cost guard
    build(undefined).resourceCountIs('AWS::Lambda::Function', 2);
  });

  test('a cost-guard alarm outside the composites invokes the guard and notifies; the card says so', () => {
    const t = build({ maxCostPerRequestUsd: 0.1 });
    expect(renderCanaryCard(lastRelease!.facts, lastRelease!.policy)).toContain(
      "the cost guard switches on `useFallbackModel` when the service's cost per request is above 0.1 USD",
    );
    t.resourceCountIs('AWS::Lambda::Function', 3); // + the stack's config deployer
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

  test('needs a fallback model', () => {
    const c = validConfig();
    delete c.model.fallback;
    expect(() => build({}, c)).toThrow('costGuard needs a fallback model: add model.fallback to the release config of svc');
  });
});
