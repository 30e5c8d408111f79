import * as path from 'node:path';
import { GetDeploymentCommand as GetConfigDeployment, ListDeploymentsCommand as ListConfigDeployments } from '@aws-sdk/client-appconfig';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { GetParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { bar, renderStatus } from '../bin/cli/status';
import { run } from '../bin/cli/program';
import { appSpecVersions, scheduleOf } from '../bin/cli/release-state';
import { manifestParameterName, releaseAlarmName } from '../lambda/shared/contract';
import { ago, cli, deployedManifest, LOCATORS, mockedClients, NOW, SERVICE, serveManifest, STACK } from './cli-fixtures';
import { tempDir } from './helpers';

const APPSPEC = JSON.stringify({
  version: 0.0,
  Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: LOCATORS.function, Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }],
});

type Mocks = ReturnType<typeof mockedClients>['mocks'];

/** A canary 60 s into CodeDeployDefault.LambdaCanary10Percent5Minutes, 10 % on version 8; config complete; one alarm firing. */
function canaryRunning(m: Mocks, o: { status?: string; weight?: number } = {}) {
  serveManifest(m.ssm);
  m.codeDeploy.on(ListDeploymentsCommand).resolves({ deployments: o.status && o.status !== 'InProgress' ? [] : ['d-CANARY01'] });
  m.codeDeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: 'd-CANARY01' } } });
  m.codeDeploy.on(GetDeploymentCommand).resolves({
    deploymentInfo: {
      deploymentId: 'd-CANARY01',
      status: (o.status ?? 'InProgress') as 'InProgress',
      createTime: ago(60),
      ...(o.status && o.status !== 'InProgress' ? { completeTime: ago(5) } : {}),
      ...(o.status === 'Stopped' ? { rollbackInfo: { rollbackMessage: 'Deployment stopped by alarm Shop-assistant-version-error-rate' } } : {}),
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: APPSPEC } },
    },
  });
  m.codeDeploy.on(GetDeploymentConfigCommand).resolves({
    deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } } },
  });
  m.lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { '8': o.weight ?? 0.1 } } });
  m.appConfig.on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.environment }).resolves({ Items: [{ DeploymentNumber: 3, State: 'COMPLETE' }] });
  m.appConfig.on(GetConfigDeployment, { EnvironmentId: LOCATORS.appConfig.environment }).resolves({
    DeploymentNumber: 3,
    State: 'COMPLETE',
    PercentageComplete: 100,
    ConfigurationVersion: '5',
    StartedAt: ago(3600),
    CompletedAt: ago(3300),
  });
  m.appConfig.on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.degradeEnvironment }).resolves({ Items: [] });
  m.cloudWatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: releaseAlarmName(STACK, SERVICE, 'code', 'error-rate'), StateValue: 'ALARM', StateUpdatedTimestamp: ago(20) },
      { AlarmName: releaseAlarmName(STACK, SERVICE, 'code', 'p99-latency'), StateValue: 'OK' },
      { AlarmName: 'someone-elses-alarm', StateValue: 'ALARM' },
    ],
    CompositeAlarms: [{ AlarmName: `${STACK}-${SERVICE}-release`, StateValue: 'ALARM' }],
  });
}

describe('cdk-ai-release status', () => {
  test('a running canary: step, traffic on the new version with a bar, time left, versions, alarm states, the tuple served', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('code      d-CANARY01 InProgress  canary 10 % for 5 min  step 1/2  [##------------------] 10 % on new  4m00s left  version 7 -> 8');
    expect(r.out).toContain('served    live -> version 7 (90 %) + 8 (10 %); config cfg-aaaaaaaaaaaa; degrade degrade-bbbbbbbbbbbb');
    expect(r.out).toMatch(/config +#3 version 5 COMPLETE \(promoted\)/);
    expect(r.out).toContain('degrade   no deployment yet');
    expect(r.out).toContain('alarms    2 ALARM, 1 OK');
    expect(r.out).toContain(`ALARM             ${STACK}-${SERVICE}-version-error-rate since ${ago(20).toISOString()}`);
    expect(r.out).not.toContain('someone-elses-alarm');
    expect(r.out).toContain('phase     in-progress');
    // Every alarm the library names for the service is asked for in one call, by name.
    const asked = mocks.cloudWatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames!;
    expect(asked).toContain(releaseAlarmName(STACK, SERVICE, 'config', 'quality'));
    expect(asked).toContain(`${STACK}-${SERVICE}-config-rollback`);
    expect(asked.length).toBeLessThanOrEqual(100); // DescribeAlarms takes at most 100 names
    // The locators came from the deployed manifest, not from guesses.
    expect(mocks.lambda.commandCalls(GetAliasCommand)[0].args[0].input).toEqual({ FunctionName: LOCATORS.function, Name: 'live' });
    expect(mocks.codeDeploy.commandCalls(ListDeploymentsCommand)[0].args[0].input).toMatchObject({
      applicationName: LOCATORS.codeDeploy.application,
      deploymentGroupName: LOCATORS.codeDeploy.deploymentGroup,
    });
  });

  test('--json carries the same facts, structured', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks, { weight: 0.1 });
    const r = await cli(['status', SERVICE, '--stack', STACK, '--json'], clients);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({
      service: SERVICE,
      stack: STACK,
      phase: 'in-progress',
      code: { id: 'd-CANARY01', outcome: 'in-progress', trafficPercent: 10, step: '1/2', secondsLeft: 240, from: '7', to: '8' },
      config: { number: 3, state: 'COMPLETE', outcome: 'promoted' },
      served: { alias: 'live', version: '7', weights: { '7': 90, '8': 10 } },
      tuple: { prompt: '1', config: 'cfg-aaaaaaaaaaaa' },
    });
    expect(s.degrade).toBeUndefined();
    expect(s.alarms.map((a: { name: string }) => a.name)).toEqual([
      `${STACK}-${SERVICE}-version-error-rate`,
      `${STACK}-${SERVICE}-version-p99-latency`,
      `${STACK}-${SERVICE}-release`,
    ]);
  });

  test('the pre-traffic hook running: shown, and the whole schedule still ahead; once traffic shifts, time runs from AllowTraffic', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks, { weight: 0 });
    mocks.codeDeploy.on(ListDeploymentTargetsCommand, { deploymentId: 'd-CANARY01' }).resolves({ targetIds: ['fn:live'] });
    mocks.codeDeploy.on(GetDeploymentTargetCommand, { deploymentId: 'd-CANARY01', targetId: 'fn:live' }).resolves({
      deploymentTarget: {
        lambdaTarget: {
          lifecycleEvents: [
            { lifecycleEventName: 'BeforeAllowTraffic', status: 'InProgress', startTime: ago(50) },
            { lifecycleEventName: 'AllowTraffic', status: 'Pending' },
          ],
        },
      },
    });
    const hook = JSON.parse((await cli(['status', SERVICE, '--stack', STACK, '--json'], clients)).out);
    expect(hook.code).toMatchObject({ lifecycleEvent: 'BeforeAllowTraffic', trafficPercent: 0, secondsLeft: 300 });
    expect((await cli(['status', SERVICE, '--stack', STACK], clients)).out).toContain('d-CANARY01 InProgress (BeforeAllowTraffic)  canary 10 % for 5 min');

    canaryRunning(mocks, { weight: 0.1 });
    mocks.codeDeploy.on(GetDeploymentTargetCommand).resolves({
      deploymentTarget: {
        lambdaTarget: {
          lifecycleEvents: [
            { lifecycleEventName: 'BeforeAllowTraffic', status: 'Succeeded', startTime: ago(50), endTime: ago(30) },
            { lifecycleEventName: 'AllowTraffic', status: 'InProgress', startTime: ago(30) },
          ],
        },
      },
    });
    const shifting = JSON.parse((await cli(['status', SERVICE, '--stack', STACK, '--json'], clients)).out);
    expect(shifting.code).toMatchObject({ lifecycleEvent: 'AllowTraffic', trafficPercent: 10, secondsLeft: 270, startedAt: ago(30).toISOString() });
  });

  test('a config deployment baking: percentage bar and the bake time left from the BAKE_TIME_STARTED event', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks, { status: 'Succeeded' });
    mocks.appConfig
      .on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.environment })
      .resolves({ Items: [{ DeploymentNumber: 4, State: 'BAKING' }] });
    mocks.appConfig.on(GetConfigDeployment, { EnvironmentId: LOCATORS.appConfig.environment }).resolves({
      DeploymentNumber: 4,
      State: 'BAKING',
      PercentageComplete: 100,
      ConfigurationVersion: '6',
      VersionLabel: 'cfg-cccccccccccc',
      DeploymentDurationInMinutes: 3,
      FinalBakeTimeInMinutes: 2,
      StartedAt: ago(230),
      EventLog: [
        { EventType: 'BAKE_TIME_STARTED', OccurredAt: ago(30) },
        { EventType: 'DEPLOYMENT_STARTED', OccurredAt: ago(230) },
      ],
    });
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.out).toContain('config    #4 version 6 (cfg-cccccccccccc) BAKING  [####################] 100 %  bake 1m30s left');
    expect(r.out).toMatch(/code +d-CANARY01 Succeeded \(promoted\)/);
    expect(r.out).toContain('phase     in-progress');
  });

  test('--watch redraws until the release ends: exit 0 when promoted, a frame per change in a log (no TTY)', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    let polls = 0;
    const r = await cli(['status', SERVICE, '--stack', STACK, '--watch', '--interval', '5'], clients, {
      sleep: async (ms) => {
        expect(ms).toBe(5000);
        polls += 1;
        if (polls === 1) canaryRunning(mocks, { weight: 0.1 }); // unchanged: no new frame
        if (polls === 2) canaryRunning(mocks, { status: 'Succeeded' });
      },
    });
    expect(r.code).toBe(0);
    expect(polls).toBe(2);
    expect(r.out.match(/^assistant \(stack Shop\)/gm)).toHaveLength(2); // the unchanged poll printed nothing
    expect(r.out).toContain('release ended: promoted');
  });

  test('--watch exits 5 when the deployment it watched was stopped', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    const r = await cli(['status', SERVICE, '--stack', STACK, '--watch'], clients, {
      sleep: async () => canaryRunning(mocks, { status: 'Stopped' }),
    });
    expect(r.code).toBe(5);
    expect(r.out).toContain('Deployment stopped by alarm');
    expect(r.out).toContain('release ended: stopped');
  });

  test('--watch exits 5 when the watched deployment rolled back, even though the latest one (the stack rollback) succeeded', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    const r = await cli(['status', SERVICE, '--stack', STACK, '--watch'], clients, {
      sleep: async () => {
        // CloudFormation's rollback moved the alias back with a new deployment, which succeeded; the watched one failed.
        mocks.codeDeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
        mocks.codeDeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: 'd-STACKRB2' } } });
        mocks.codeDeploy
          .on(GetDeploymentCommand, { deploymentId: 'd-STACKRB2' })
          .resolves({ deploymentInfo: { deploymentId: 'd-STACKRB2', status: 'Succeeded', createTime: ago(10), completeTime: ago(2) } });
        mocks.codeDeploy.on(GetDeploymentCommand, { deploymentId: 'd-CANARY01' }).resolves({
          deploymentInfo: { deploymentId: 'd-CANARY01', status: 'Failed', rollbackInfo: { rollbackMessage: 'rolled back by alarm' } },
        });
      },
    });
    expect(r.out).toContain('d-STACKRB2 Succeeded (promoted)');
    expect(r.out).toContain('release ended: rolled-back');
    expect(r.code).toBe(5);
  });

  test('--watch --since judges the deployments started since then: a release rolled back before the watch began still exits 5', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks, { status: 'Succeeded' }); // what is there now: the stack rollback's successful deployment
    mocks.codeDeploy.on(ListDeploymentsCommand, { createTimeRange: { start: ago(600) } }).resolves({ deployments: ['d-CANARY01', 'd-BADREL01'] });
    mocks.codeDeploy.on(GetDeploymentCommand, { deploymentId: 'd-BADREL01' }).resolves({
      deploymentInfo: { deploymentId: 'd-BADREL01', status: 'Failed', rollbackInfo: { rollbackMessage: 'alarm' } },
    });
    mocks.appConfig.on(ListConfigDeployments, { EnvironmentId: LOCATORS.appConfig.environment, MaxResults: 20 }).resolves({
      Items: [
        { DeploymentNumber: 3, State: 'COMPLETE', StartedAt: ago(3600) }, // before --since: history
      ],
    });
    const bad = await cli(['status', SERVICE, '--stack', STACK, '--watch', '--since', ago(600).toISOString()], clients);
    expect(bad.out).toContain('release ended: rolled-back');
    expect(bad.code).toBe(5);
    const asked = mocks.codeDeploy.commandCalls(ListDeploymentsCommand).find((c) => c.args[0].input.createTimeRange)!;
    expect(asked.args[0].input.createTimeRange).toEqual({ start: ago(600) });

    mocks.codeDeploy.on(ListDeploymentsCommand, { createTimeRange: { start: ago(600) } }).resolves({ deployments: ['d-CANARY01'] });
    const good = await cli(['status', SERVICE, '--stack', STACK, '--watch', '--since', ago(600).toISOString()], clients);
    expect(good.code).toBe(0);
    expect((await cli(['status', SERVICE, '--watch', '--since', 'yesterday'], clients)).err).toContain('--since must be an ISO-8601 time');
    expect((await cli(['status', SERVICE, '--since', ago(600).toISOString()], clients)).err).toContain('--since needs --watch');
  });

  test('--watch on a terminal clears and redraws; --timeout gives up with exit 7; --json writes one line per poll', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    let now = NOW;
    const r = await cli(['status', SERVICE, '--stack', STACK, '--watch', '--timeout', '1', '--interval', '20'], clients, {
      isTTY: true,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    expect(r.code).toBe(7);
    expect(r.err).toContain('still in progress after 1 min');
    expect(r.out.split('\x1b[H\x1b[2J').length - 1).toBe(4); // polls at 0, 20, 40 and 60 s; another would pass the timeout
    const j = await cli(['status', SERVICE, '--stack', STACK, '--watch', '--json'], clients, {
      sleep: async () => canaryRunning(mocks, { status: 'Succeeded' }),
    });
    const lines = j.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.phase)).toEqual(['in-progress', 'promoted']);
    expect(j.code).toBe(0);
  });

  test('finds the service from the manifests deployed in SSM; a wrong service lists the ones found', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    mocks.ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: manifestParameterName(STACK, SERVICE) },
        { Name: manifestParameterName('Other', 'billing-bot') },
        { Name: '/cdk-ai-release/Shop/unrelated' },
      ],
    });
    const ok = await cli(['status', SERVICE, '--json'], clients);
    expect(ok.code).toBe(0);
    const wrong = await cli(['status', 'asistant'], clients);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toBe(
      'cdk-ai-release: no service "asistant" in this account and region (SSM parameters under /cdk-ai-release/); services found: assistant, billing-bot\n',
    );
  });

  test('--stack with a service not in it: one line naming the parameter and the services that are there', async () => {
    const { clients, mocks } = mockedClients();
    mocks.ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    mocks.ssm
      .on(GetParametersByPathCommand, { Path: `/cdk-ai-release/${STACK}` })
      .resolves({ Parameters: [{ Name: manifestParameterName(STACK, 'billing-bot') }] });
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `cdk-ai-release: no deployed service "assistant" in stack Shop (no parameter ${manifestParameterName(STACK, SERVICE)}); services deployed there: billing-bot\n`,
    );
  });

  test('--app reads the cloud assembly: the parameter the template declares; a template without these constructs is one line', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    const param = { Type: 'AWS::SSM::Parameter', Properties: { Name: manifestParameterName(STACK, SERVICE), Value: '{}' } };
    const dir = tempDir({
      'ok.out/manifest.json': '{}',
      'ok.out/Shop.template.json': JSON.stringify({ Resources: { P: param, B: { Type: 'AWS::S3::Bucket' } } }),
      'plain.out/manifest.json': '{}',
      'plain.out/Plain.template.json': JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } }),
    });
    const ok = await cli(['status', SERVICE, '--app', path.join(dir, 'ok.out'), '--json'], clients);
    expect(ok.code).toBe(0);
    expect(mocks.ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(0);
    const plain = await cli(['status', SERVICE, '--app', path.join(dir, 'plain.out')], clients);
    expect(plain.code).toBe(2);
    expect(plain.err).toBe(
      `cdk-ai-release: ${path.join(dir, 'plain.out')} has no cdk-ai-release service: no template declares a release-manifest parameter. Is AiRelease (or ReleaseManifestRecorder) in this app?\n`,
    );
    const none = await cli(['status', SERVICE, '--app', dir], clients);
    expect(none.err).toContain('is not a cloud assembly (no manifest.json); run `cdk synth` first');
  });

  test('--manifest takes the deployed manifest from a file (aws ssm get-parameter output): no SSM read; the cdk.out file is refused with why', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    const dir = tempDir({
      'deployed.json': JSON.stringify({ Parameter: { Name: manifestParameterName(STACK, SERVICE), Value: JSON.stringify(deployedManifest()) } }),
      'file.json': JSON.stringify(deployedManifest(null as never)),
      'other.json': JSON.stringify(deployedManifest(LOCATORS, 'billing-bot')),
    });
    mocks.ssm.reset();
    const r = await cli(['status', SERVICE, '--manifest', path.join(dir, 'deployed.json'), '--json'], clients);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).code.id).toBe('d-CANARY01');
    expect(mocks.ssm.calls()).toHaveLength(0);
    const file = await cli(['status', SERVICE, '--manifest', path.join(dir, 'file.json')], clients);
    expect(file.code).toBe(2);
    expect(file.err).toContain('carries no locators: it is the cdk.out file (which cannot know deploy-time names)');
    const other = await cli(['status', SERVICE, '--manifest', path.join(dir, 'other.json')], clients);
    expect(other.err).toContain('is the manifest of service "billing-bot", not "assistant"');
  });

  test('missing credentials: the SDK CredentialsProviderError becomes one line with the fix, exit 4', async () => {
    const { clients, mocks } = mockedClients();
    mocks.ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^cdk-ai-release: no AWS credentials found \(ssm:GetParameter .*\): set AWS_PROFILE \(or pass --profile\), run `aws sso login`/);
    expect(r.err.split('\n')).toHaveLength(2); // one line, no stack trace
  });

  test('access denied on a later call: one line naming the call, exit 4', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    mocks.lambda.on(GetAliasCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:GetAlias'), { name: 'AccessDeniedException' }));
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.code).toBe(4);
    expect(r.err).toBe(`cdk-ai-release: access denied (lambda:GetAlias ${LOCATORS.function}:live): User is not authorized to perform: lambda:GetAlias\n`);
  });

  test('a manifest deployed without locators (an older version) is named, with the fix', async () => {
    const { clients, mocks } = mockedClients();
    serveManifest(mocks.ssm, deployedManifest(null as never));
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.code).toBe(2);
    expect(r.err).toContain('carries no locators (it was deployed by an older cdk-ai-release); deploy the stack once with this version');
  });

  test('bad options are usage errors; the synchronous runner refuses AWS commands instead of returning early', async () => {
    const { clients } = mockedClients();
    expect((await cli(['status', SERVICE, '--watch', '--interval', '0'], clients)).err).toContain('--interval must be a positive number, got "0"');
    let err = '';
    expect(run(['status', SERVICE], { out: () => {}, err: (t) => (err += t) })).toBe(2);
    expect(err).toContain('status calls AWS: run it through runAsync');
  });
});

describe('status helpers', () => {
  test('schedules: canary, linear and all-at-once from GetDeploymentConfig', () => {
    expect(scheduleOf({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } })).toEqual({
      describe: 'canary 10 % for 5 min',
      totalMinutes: 5,
      steps: 2,
      stepPercent: 10,
    });
    // Linear 10 % every minute: 10 % at 0, 100 % after 9 minutes.
    expect(scheduleOf({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } })).toMatchObject({ totalMinutes: 9, steps: 10 });
    expect(scheduleOf({ type: 'AllAtOnce' })).toMatchObject({ totalMinutes: 0, steps: 1 });
  });

  test('AppSpec versions from JSON or YAML content', () => {
    expect(appSpecVersions(APPSPEC)).toEqual({ from: '7', to: '8' });
    expect(
      appSpecVersions(
        'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        CurrentVersion: 3\n        TargetVersion: 4\n',
      ),
    ).toEqual({
      from: '3',
      to: '4',
    });
    expect(appSpecVersions('not: [yaml')).toEqual({});
  });

  test('a running deployment whose AppSpec names no target version: the share is "unknown", not 0 %', async () => {
    const { clients, mocks } = mockedClients();
    canaryRunning(mocks);
    mocks.codeDeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-CANARY01', status: 'InProgress', createTime: ago(60) } });
    const r = await cli(['status', SERVICE, '--stack', STACK], clients);
    expect(r.out).toContain('d-CANARY01 InProgress  canary 10 % for 5 min  traffic share unknown  4m00s left');
    expect(r.out).not.toContain('0 % on new');
  });

  test('the progress bar is proportional and bounded', () => {
    expect(bar(0)).toBe('[--------------------]');
    expect(bar(50)).toBe('[##########----------]');
    expect(bar(150, 4)).toBe('[####]');
    expect(renderStatus).toBeInstanceOf(Function);
  });
});
