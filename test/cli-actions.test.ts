import {
  CreateHostedConfigurationVersionCommand,
  GetDeploymentCommand as GetConfigDeployment,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand as ListConfigDeployments,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand as StopConfigDeployment,
} from '@aws-sdk/client-appconfig';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { withDegradeSwitch } from '../bin/cli/degrade';
import { degradeFlagsDocument } from '../lib/config/private/degrade-flags';
import { ago, cli, LOCATORS, mockedClients, SERVICE, serveManifest, STACK } from './cli-fixtures';

type Mocks = ReturnType<typeof mockedClients>['mocks'];

/** A service with a code deployment in `code` state and a release-config deployment in `config` state. */
function deployments(m: Mocks, o: { code?: string; config?: string; configEndedSecondsAgo?: number }) {
  serveManifest(m.ssm);
  const codeStatus = o.code ?? 'Succeeded';
  const running = ['InProgress', 'Created', 'Queued', 'Baking', 'Ready'].includes(codeStatus);
  m.codeDeploy.on(ListDeploymentsCommand).resolves({ deployments: running ? ['d-RUNNING1'] : [] });
  m.codeDeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: 'd-RUNNING1' } } });
  m.codeDeploy.on(GetDeploymentCommand).resolves({
    deploymentInfo: {
      deploymentId: 'd-RUNNING1',
      status: codeStatus as 'InProgress',
      createTime: ago(90),
      ...(running ? {} : { completeTime: ago(30) }),
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      revision: { appSpecContent: { content: JSON.stringify({ Resources: [{ f: { Properties: { CurrentVersion: '7', TargetVersion: '8' } } }] }) } },
    },
  });
  m.codeDeploy.on(GetDeploymentConfigCommand).resolves({
    deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } } },
  });
  m.lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: running ? { '8': 0.1 } : {} } });
  const state = o.config ?? 'COMPLETE';
  m.appConfig
    .on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.environment })
    .resolves({ Items: [{ DeploymentNumber: 9, State: state as 'COMPLETE' }] });
  m.appConfig.on(GetConfigDeployment, { EnvironmentId: LOCATORS.appConfig.environment }).resolves({
    DeploymentNumber: 9,
    State: state as 'COMPLETE',
    PercentageComplete: state === 'DEPLOYING' ? 40 : 100,
    ConfigurationVersion: '12',
    StartedAt: ago(200),
    ...(state === 'COMPLETE' ? { CompletedAt: ago(o.configEndedSecondsAgo ?? 60) } : {}),
  });
  m.appConfig.on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.degradeEnvironment }).resolves({ Items: [] });
  m.cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
}

describe('cdk-ai-release rollback', () => {
  test('without --yes and without a terminal it refuses (exit 6) and stops nothing', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { code: 'InProgress' });
    const r = await cli(['rollback', SERVICE, '--stack', STACK], clients);
    expect(r.code).toBe(6);
    expect(r.err).toBe(`cdk-ai-release: refusing to roll back ${SERVICE} without confirmation: no terminal to ask on; pass --yes to confirm in a pipeline\n`);
    expect(r.out).toContain('will stop CodeDeploy deployment d-RUNNING1 (InProgress, 10 % on version 8) with auto-rollback to version 7');
    expect(mocks.codeDeploy.commandCalls(StopDeploymentCommand)).toHaveLength(0);
  });

  test('asks on a terminal: "n" changes nothing (exit 6); "y" stops both planes with rollback', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { code: 'InProgress', config: 'DEPLOYING' });
    const questions: string[] = [];
    const no = await cli(['rollback', SERVICE, '--stack', STACK], clients, { isTTY: true, ask: async (q) => (questions.push(q), 'n') });
    expect(no.code).toBe(6);
    expect(questions).toEqual([`Roll back ${SERVICE}? [y/N] `]);
    expect(mocks.codeDeploy.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    expect(mocks.appConfig.commandCalls(StopConfigDeployment)).toHaveLength(0);

    mocks.codeDeploy.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stopping' });
    mocks.appConfig.on(StopConfigDeployment).resolves({ State: 'ROLLED_BACK' });
    const yes = await cli(['rollback', SERVICE, '--stack', STACK], clients, { isTTY: true, ask: async () => 'y' });
    expect(yes.code).toBe(0);
    expect(mocks.codeDeploy.commandCalls(StopDeploymentCommand)[0].args[0].input).toEqual({ deploymentId: 'd-RUNNING1', autoRollbackEnabled: true });
    // A DEPLOYING config deployment is stopped without AllowRevert (that is only for baking or completed ones).
    expect(mocks.appConfig.commandCalls(StopConfigDeployment)[0].args[0].input).toEqual({
      ApplicationId: LOCATORS.appConfig.application,
      EnvironmentId: LOCATORS.appConfig.environment,
      DeploymentNumber: 9,
    });
    expect(yes.out).toContain('done    codedeploy:StopDeployment: stop CodeDeploy deployment d-RUNNING1');
    expect(yes.out).toContain(': Pending: Stopping');
    expect(yes.out).toContain(
      'done    appconfig:StopDeployment: stop AppConfig deployment #9 of the release config (DEPLOYING, 40 %, version 12): state ROLLED_BACK',
    );
  });

  test('a baking config deployment is stopped with AllowRevert; --json prints the actions', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { config: 'BAKING' });
    mocks.appConfig.on(StopConfigDeployment).resolves({ State: 'ROLLED_BACK' });
    const r = await cli(['rollback', SERVICE, '--stack', STACK, '--yes', '--json'], clients);
    expect(r.code).toBe(0);
    expect(mocks.appConfig.commandCalls(StopConfigDeployment)[0].args[0].input).toMatchObject({ DeploymentNumber: 9, AllowRevert: true });
    expect(mocks.codeDeploy.commandCalls(StopDeploymentCommand)).toHaveLength(0); // the code deployment had ended
    expect(JSON.parse(r.out)).toEqual({
      service: SERVICE,
      actions: [expect.objectContaining({ plane: 'config', call: 'appconfig:StopDeployment', result: 'done', detail: 'state ROLLED_BACK' })],
    });
  });

  test('reads it can do without do not block the lever: no alias or alarm read needed', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { code: 'InProgress' });
    mocks.lambda.on(GetAliasCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    mocks.cloudWatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    mocks.codeDeploy.on(StopDeploymentCommand).resolves({ status: 'Succeeded' });
    const r = await cli(['rollback', SERVICE, '--stack', STACK, '--yes'], clients);
    expect(r.code).toBe(0);
    expect(r.out).toContain('will stop CodeDeploy deployment d-RUNNING1 (InProgress) with auto-rollback to version 7');
    expect(mocks.codeDeploy.commandCalls(StopDeploymentCommand)).toHaveLength(1);
    expect(mocks.cloudWatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  test('AWS refusing one call: the other still runs, the refusal is printed, exit 4', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { code: 'InProgress', config: 'DEPLOYING' });
    mocks.codeDeploy
      .on(StopDeploymentCommand)
      .rejects(Object.assign(new Error('The deployment is already complete.'), { name: 'DeploymentAlreadyCompletedException' }));
    mocks.appConfig.on(StopConfigDeployment).resolves({ State: 'ROLLED_BACK' });
    const r = await cli(['rollback', SERVICE, '--stack', STACK, '--yes'], clients);
    expect(r.code).toBe(4);
    expect(r.out).toContain(
      'REFUSED codedeploy:StopDeployment: codedeploy:StopDeployment failed: DeploymentAlreadyCompletedException: The deployment is already complete.',
    );
    expect(r.out).toContain('done    appconfig:StopDeployment');
    expect(r.err).toBe('cdk-ai-release: AWS refused 1 of 2 rollback calls\n');
  });

  test('nothing running: says so (exit 0) and offers --revert for a config deployment completed within 72 hours', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, {});
    const r = await cli(['rollback', SERVICE, '--stack', STACK, '--yes'], clients);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `nothing to roll back: no deployment of ${SERVICE} is running (code: d-RUNNING1 Succeeded; config: #9 COMPLETE); to revert the completed config deployment #9, pass --revert\n`,
    );
    mocks.appConfig.on(StopConfigDeployment).resolves({ State: 'REVERTED' });
    const revert = await cli(['rollback', SERVICE, '--stack', STACK, '--yes', '--revert'], clients);
    expect(revert.code).toBe(0);
    expect(mocks.appConfig.commandCalls(StopConfigDeployment)[0].args[0].input).toMatchObject({ DeploymentNumber: 9, AllowRevert: true });
    expect(revert.out).toContain('revert AppConfig deployment #9');
  });

  test('--revert does not reach past the 72-hour window AppConfig allows', async () => {
    const { clients, mocks } = mockedClients();
    deployments(mocks, { configEndedSecondsAgo: 73 * 3600 });
    const r = await cli(['rollback', SERVICE, '--stack', STACK, '--yes', '--revert'], clients);
    expect(r.code).toBe(0);
    expect(r.out).toContain('nothing to roll back');
    expect(mocks.appConfig.commandCalls(StopConfigDeployment)).toHaveLength(0);
  });
});

/** The degrade profile as AiServiceConfig hosts it, version `latest`, with `deployed` deployed. */
function degradeProfile(m: Mocks, o: { latest?: number; deployed?: number; document?: object } = {}) {
  serveManifest(m.ssm);
  const latest = o.latest ?? 2;
  m.appConfig.on(ListHostedConfigurationVersionsCommand).resolves({ Items: Array.from({ length: latest }, (_, i) => ({ VersionNumber: i + 1 })) });
  m.appConfig
    .on(GetHostedConfigurationVersionCommand)
    .resolves({ Content: new TextEncoder().encode(JSON.stringify(o.document ?? degradeFlagsDocument())) as never, VersionNumber: latest });
  m.appConfig.on(ListConfigDeployments).resolves({
    Items: [
      { DeploymentNumber: 5, State: 'COMPLETE', ConfigurationProfileId: 'some-other-profile', ConfigurationVersion: '99' },
      { DeploymentNumber: 4, State: 'COMPLETE', ConfigurationProfileId: LOCATORS.appConfig.degradeProfile, ConfigurationVersion: String(o.deployed ?? latest) },
    ],
  });
  m.appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: latest + 1 });
  m.appConfig.on(StartDeploymentCommand).resolves({ DeploymentNumber: 6 });
}

describe('cdk-ai-release degrade', () => {
  test('on <switch>: a new degrade version with the switch on, deployed with the instant strategy to the degrade environment', async () => {
    const { clients, mocks } = mockedClients();
    degradeProfile(mocks);
    const r = await cli(['degrade', SERVICE, 'on', 'useFallbackModel', '--stack', STACK, '--yes'], clients);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const created = mocks.appConfig.commandCalls(CreateHostedConfigurationVersionCommand)[0].args[0].input;
    expect(created).toMatchObject({ ApplicationId: 'app1234', ConfigurationProfileId: LOCATORS.appConfig.degradeProfile, ContentType: 'application/json' });
    expect(created.VersionLabel).toBe('cli-useFallbackModel-on-20261127T100000');
    expect(created.Description).toBe('useFallbackModel switched on by cdk-ai-release degrade');
    const doc = JSON.parse(new TextDecoder().decode(created.Content as Uint8Array));
    expect(doc.values).toMatchObject({ useFallbackModel: { enabled: true }, disableTools: { enabled: false } });
    expect(mocks.appConfig.commandCalls(StartDeploymentCommand)[0].args[0].input).toEqual({
      ApplicationId: 'app1234',
      EnvironmentId: LOCATORS.appConfig.degradeEnvironment,
      ConfigurationProfileId: LOCATORS.appConfig.degradeProfile,
      ConfigurationVersion: '3',
      DeploymentStrategyId: LOCATORS.appConfig.instantStrategy,
      Description: 'cdk-ai-release degrade: useFallbackModel on',
    });
    expect(r.out).toContain('done: useFallbackModel on for assistant: degrade version 3 deployed (deployment #6, instant strategy)');
  });

  test('already in that state and deployed: nothing is written (exit 0); --json says so', async () => {
    const { clients, mocks } = mockedClients();
    degradeProfile(mocks);
    const r = await cli(['degrade', SERVICE, 'off', 'disableTools', '--stack', STACK, '--json'], clients);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ service: SERVICE, switch: 'disableTools', on: false, action: 'already', version: 2 });
    expect(mocks.appConfig.commandCalls(CreateHostedConfigurationVersionCommand)).toHaveLength(0);
    expect(mocks.appConfig.commandCalls(StartDeploymentCommand)).toHaveLength(0);
  });

  test('the latest version already has the switch but is not deployed: it is deployed, not copied', async () => {
    const { clients, mocks } = mockedClients();
    degradeProfile(mocks, { document: degradeFlagsDocument({ staticAnswer: true }), latest: 4, deployed: 3 });
    const r = await cli(['degrade', SERVICE, 'on', 'staticAnswer', '--stack', STACK, '--yes'], clients);
    expect(r.code).toBe(0);
    expect(mocks.appConfig.commandCalls(CreateHostedConfigurationVersionCommand)).toHaveLength(0);
    expect(mocks.appConfig.commandCalls(StartDeploymentCommand)[0].args[0].input.ConfigurationVersion).toBe('4');
  });

  test('--message sets the static answer; refusals: no terminal (6), a busy environment (4), bad arguments (2)', async () => {
    const { clients, mocks } = mockedClients();
    degradeProfile(mocks);
    expect((await cli(['degrade', SERVICE, 'on', 'staticAnswer', '--stack', STACK], clients)).code).toBe(6);
    expect(mocks.appConfig.commandCalls(CreateHostedConfigurationVersionCommand)).toHaveLength(0);

    const ok = await cli(['degrade', SERVICE, 'on', 'staticAnswer', '--message', 'Back soon.', '--stack', STACK, '--yes'], clients);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(
      new TextDecoder().decode(mocks.appConfig.commandCalls(CreateHostedConfigurationVersionCommand)[0].args[0].input.Content as Uint8Array),
    );
    expect(doc.values.staticAnswer).toEqual({ enabled: true, message: 'Back soon.' });

    mocks.appConfig.on(StartDeploymentCommand).rejects(Object.assign(new Error('A deployment is in progress'), { name: 'ConflictException' }));
    const busy = await cli(['degrade', SERVICE, 'on', 'disableRetrieval', '--stack', STACK, '--yes'], clients);
    expect(busy.code).toBe(4);
    expect(busy.err).toBe(
      'cdk-ai-release: AWS refused StartDeployment: ConflictException: A deployment is in progress (another deployment is running in the degrade environment; try again in a moment)\n',
    );

    const bad = await cli(['degrade', SERVICE, 'on', 'disableEverything', '--stack', STACK, '--yes'], clients);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(
      'cdk-ai-release: unknown degrade switch "disableEverything"; use one of useFallbackModel, disableTools, disableRetrieval, staticAnswer\n',
    );
    expect((await cli(['degrade', SERVICE, 'maybe', 'disableTools', '--yes'], clients)).err).toContain('the second argument must be on or off, got "maybe"');
    expect((await cli(['degrade', SERVICE, 'on', 'disableTools', '--message', 'x', '--yes'], clients)).err).toContain('--message applies to staticAnswer only');
  });

  test('withDegradeSwitch: changes one switch, keeps the rest, and names a flag the profile lacks', () => {
    const doc = degradeFlagsDocument() as Parameters<typeof withDegradeSwitch>[0];
    const on = withDegradeSwitch(doc, 'disableTools', true);
    expect(on.changed).toBe(true);
    expect(on.document.values.disableTools).toEqual({ enabled: true });
    expect(on.document.values.useFallbackModel).toEqual(doc.values.useFallbackModel);
    expect(withDegradeSwitch(on.document, 'disableTools', true).changed).toBe(false);
    expect(() => withDegradeSwitch({ ...doc, flags: {} }, 'disableTools', true)).toThrow('the deployed degrade profile has no "disableTools" flag');
  });
});
