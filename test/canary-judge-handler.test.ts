/**
 * The deployed composition: handler.ts as Lambda loads it (environment at module load, SDK clients at module scope).
 * CloudWatch Logs, CodeDeploy, CloudWatch and AppConfig through aws-sdk-client-mock; the judge record in s3rver.
 * The statistics engine is replaced by the wiring tests' small fake (the real one is bound at merge, see engine.ts).
 */
import {
  AppConfigClient,
  GetDeploymentCommand as AppConfigGetDeploymentCommand,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand as AppConfigListDeploymentsCommand,
} from '@aws-sdk/client-appconfig';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { rowOf, traffic } from './canary-judge-fakes';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

jest.mock('../lambda/canary-judge/engine', () => ({ ENGINE: require('./canary-judge-fakes').fakeEngine().engine }));

const logs = mockClient(CloudWatchLogsClient);
const codedeploy = mockClient(CodeDeployClient);
const cloudwatch = mockClient(CloudWatchClient);
const appconfig = mockClient(AppConfigClient);

let s3: Awaited<ReturnType<typeof startS3>>;
let direct: S3Client;
const saved = { ...process.env };
type Handler = (event: unknown, ctx: { getRemainingTimeInMillis(): number }) => Promise<any>;
let handler: Handler;
const ctx = (ms: number) => ({ getRemainingTimeInMillis: () => ms });
const MIN = 60_000;

/** The service's settings document: its schedule rule's input (CanaryJudge), and what the pointer holds. */
const SETTINGS: Record<string, string> = {
  AI_RELEASE_JUDGE_SERVICE: 'svc',
  AI_RELEASE_JUDGE_CODEDEPLOY_APPLICATION: 'cd-app',
  AI_RELEASE_JUDGE_DEPLOYMENT_GROUP: 'svc-group',
  AI_RELEASE_JUDGE_APPCONFIG_APPLICATION: 'app1',
  AI_RELEASE_JUDGE_CONFIG_PROFILE: 'prof1',
  AI_RELEASE_JUDGE_APPCONFIG_ENVIRONMENT: 'env1',
  AI_RELEASE_JUDGE_PERIOD_SECONDS: '1',
  AI_RELEASE_JUDGE_ALPHA: '0.01',
  AI_RELEASE_JUDGE_AFTER_TRAFFIC_SECONDS: '5',
  AI_RELEASE_JUDGE_LOG_GROUP: '/aws/lambda/svc',
};
const schedule = { source: 'cdk-ai-release.canary-judge', settings: SETTINGS };
/** The pointer the schedule leaves for a deployment in progress (the hook's only way to its service). */
async function point(deploymentId: string, settings: Record<string, string> = SETTINGS) {
  await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: `judge/_deployments/${deploymentId}.json`, Body: JSON.stringify({ deploymentId, settings }) }));
}

beforeAll(async () => {
  s3 = await startS3();
  direct = s3Client(s3.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AI_RELEASE_STORE_BUCKET: BUCKET,
    // The judge host's name prefix (CanaryJudge sets it): the cannot-judge metric's Platform dimension.
    AI_RELEASE_JUDGE_PLATFORM: 'TeamA',
    // A short bound and period: the hook's real clock runs in this test (long enough for a first query under load).

    // The hook waits this long for the schedule's pointer (tests write it, or leave it out on purpose).
    AI_RELEASE_JUDGE_POINTER_WAIT_MS: '1500',
  });
  handler = require('../lambda/canary-judge/handler').handler;
  jest.spyOn(console, 'log').mockImplementation(() => {});
});
afterAll(async () => {
  process.env = saved;
  direct?.destroy();
  await s3?.close();
});
beforeEach(() => {
  logs.reset();
  codedeploy.reset();
  cloudwatch.reset();
  appconfig.reset();
  appconfig.on(AppConfigListDeploymentsCommand).resolves({ Items: [] }); // no config rollout unless a test starts one
});

/** The Lambda target's lifecycle: AllowTraffic started at `at` and, when `completedAt` is given, Succeeded then. */
function trafficStarted(at: number, completedAt?: number) {
  codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['svc:live'] });
  codedeploy.on(BatchGetDeploymentTargetsCommand).resolves({
    deploymentTargets: [
      {
        deploymentTargetType: 'LambdaTarget',
        lambdaTarget: {
          lifecycleEvents: [
            { lifecycleEventName: 'BeforeAllowTraffic', status: 'Succeeded', startTime: new Date(at - 30_000), endTime: new Date(at - 1000) },
            completedAt === undefined
              ? { lifecycleEventName: 'AllowTraffic', status: 'InProgress', startTime: new Date(at) }
              : { lifecycleEventName: 'AllowTraffic', status: 'Succeeded', startTime: new Date(at), endTime: new Date(completedAt) },
          ],
        },
      },
    ],
  });
}

/** Logs Insights over synthetic lines: StartQuery's second range (inclusive), then Running once, then Complete. */
function serveLines(lines: ReturnType<typeof traffic>) {
  let range: [number, number] = [0, 0];
  logs.on(StartQueryCommand).callsFake((input) => {
    range = [input.startTime, input.endTime];
    return { queryId: `q-${input.startTime}` };
  });
  logs
    .on(GetQueryResultsCommand)
    .resolvesOnce({ status: 'Running' })
    .callsFake(() => ({
      status: 'Complete',
      results: lines
        .filter((l) => l.at >= range[0] * 1000 && l.at < (range[1] + 1) * 1000)
        .slice(0, 10_000)
        .map((l) => rowOf(l).map((c) => ({ ...c }))),
    }));
}

const appSpec = (current: string, target: string) =>
  JSON.stringify({
    version: 0.0,
    Resources: [{ svc: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: current, TargetVersion: target } } }],
  });

async function record(key: string) {
  const out = await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}

describe('canary judge handler', () => {
  test('AfterAllowTraffic with a failing new version: PutLifecycleEventHookExecutionStatus Failed, verdict 1, record in the store', async () => {
    const now = Date.now();
    serveLines(traffic({ from: now - 5 * MIN, to: now, rps: 2, canary: '8', stable: '7', canaryShare: 1, canaryErrorEvery: 2 }));
    codedeploy
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { createTime: new Date(now - 4 * MIN), revision: { appSpecContent: { content: appSpec('7', '8') } } } });
    // AfterAllowTraffic runs once AllowTraffic has Succeeded: full traffic from its end on
    trafficStarted(now - 5 * MIN, now - 5 * MIN);
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    await point('d-H1');
    const out = await handler({ DeploymentId: 'd-H1', LifecycleEventHookExecutionId: 'e-1' }, ctx(10 * MIN));
    expect(out).toMatchObject({ status: 'Failed', verdict: 'regression', answered: true });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input)).toEqual([
      { deploymentId: 'd-H1', lifecycleEventHookExecutionId: 'e-1', status: 'Failed' },
    ]);
    const metric = cloudwatch.commandCalls(PutMetricDataCommand).at(-1)!.args[0].input;
    expect(metric).toEqual({
      Namespace: 'AiRelease',
      MetricData: [
        {
          MetricName: 'CanaryVerdict',
          Dimensions: [
            { Name: 'Service', Value: 'svc' },
            { Name: 'Plane', Value: 'code' },
          ],
          Value: 1,
          Unit: 'None',
          StorageResolution: 1,
          Timestamp: expect.any(Date),
        },
      ],
    });
    const start = logs.commandCalls(StartQueryCommand)[0].args[0].input;
    expect(start).toMatchObject({ logGroupName: '/aws/lambda/svc', limit: 10_000, queryString: expect.stringContaining('Service = "svc"') });
    expect(await record('judge/svc/code-d-H1.json')).toMatchObject({
      schemaVersion: 1,
      plane: 'code',
      canary: '8',
      stable: '7',
      phase: 'after-traffic',
      verdict: 'regression',
    });
  });

  test('AfterAllowTraffic with a good version and a 3-second bound: Succeeded, inconclusive', async () => {
    const now = Date.now();
    serveLines(traffic({ from: now - 5 * MIN, to: now, rps: 2, canary: '9', stable: '8', canaryShare: 1 }));
    codedeploy
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { createTime: new Date(now - 4 * MIN), revision: { appSpecContent: { content: appSpec('8', '9') } } } });
    trafficStarted(now - 5 * MIN, now - 5 * MIN);
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    // The hook runs its bound on the real clock: 3 s (of the schedule's 5) leaves a first query time under load.
    await point('d-H2', { ...SETTINGS, AI_RELEASE_JUDGE_AFTER_TRAFFIC_SECONDS: '3' });
    const t0 = Date.now();
    expect(await handler({ DeploymentId: 'd-H2', LifecycleEventHookExecutionId: 'e-2' }, ctx(10 * MIN))).toMatchObject({
      status: 'Succeeded',
      verdict: 'inconclusive',
    });
    // It judged until the bound, not once: inconclusive is the bound's answer.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input.status).toBe('Succeeded');
  });

  test('AfterAllowTraffic when Logs Insights fails the query: still answered (Succeeded)', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    codedeploy
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { createTime: new Date(Date.now() - MIN), revision: { appSpecContent: { content: appSpec('1', '2') } } } });
    trafficStarted(Date.now() - MIN, Date.now() - MIN);
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    await point('d-H3');
    expect(await handler({ DeploymentId: 'd-H3', LifecycleEventHookExecutionId: 'e-3' }, ctx(10 * MIN))).toMatchObject({
      status: 'Succeeded',
      error: expect.stringContaining('ended Failed'),
    });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(1);
    // Not judged, and said so: the cannot-judge metric per service and under the platform's dimension (its one alarm).
    const cannot = cloudwatch
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData!)
      .filter((d) => d.MetricName === 'CanaryJudgeCannotJudge' && d.Value === 1);
    expect(cannot.map((d) => d.Dimensions)).toEqual([
      [
        { Name: 'Service', Value: 'svc' },
        { Name: 'Plane', Value: 'code' },
      ],
      [{ Name: 'Platform', Value: 'TeamA' }],
    ]);
  });

  test('the schedule with nothing in progress: one ListDeployments of the group, nothing else', async () => {
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    expect(await handler(schedule, ctx(70_000))).toEqual({ deployments: 0, cycles: 0 });
    expect(codedeploy.commandCalls(ListDeploymentsCommand)[0].args[0].input).toEqual({
      applicationName: 'cd-app',
      deploymentGroupName: 'svc-group',
      includeOnlyStatuses: ['InProgress'],
    });
    expect(logs.calls()).toHaveLength(0);
    expect(cloudwatch.calls()).toHaveLength(0);
  });

  test('the schedule with a deployment in progress: judges it and publishes the code verdict (0) until its slice ends', async () => {
    const now = Date.now();
    serveLines(traffic({ from: now - 3 * MIN, to: now, rps: 5, canary: '5', stable: '4', canaryShare: 0.1 }));
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-S1'] });
    codedeploy
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { createTime: new Date(now - 2 * MIN), revision: { appSpecContent: { content: appSpec('4', '5') } } } });
    trafficStarted(now - 2 * MIN);
    // 8 s left: a slice of 3 s, cycles every second (the period)
    const out = await handler(schedule, ctx(8000));
    expect(out).toMatchObject({ deployments: 1, verdict: 0 });
    expect(out.cycles).toBeGreaterThanOrEqual(1);
    const metric = cloudwatch.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData![0];
    expect(metric).toMatchObject({
      MetricName: 'CanaryVerdict',
      Value: 0,
      Dimensions: [
        { Name: 'Service', Value: 'svc' },
        { Name: 'Plane', Value: 'code' },
      ],
    });
    const r = await record('judge/svc/code-d-S1.json');
    expect(r).toMatchObject({ phase: 'canary', canary: '5', stable: '4', verdict: 'continue' });
    expect(r.updates).toBeGreaterThanOrEqual(1);
    expect(r.samples.canary).toBeGreaterThan(0);
    expect(r.samples.stable).toBeGreaterThan(r.samples.canary);
  });

  test('a config rollout: the schedule finds it (ListDeployments, GetDeployment), stores the regression; the tick answers ROLL_BACK from the store', async () => {
    const now = Date.now();
    serveLines(traffic({ from: now - 3 * MIN, to: now, rps: 5, canary: 'cfg-new', stable: 'cfg-old', canaryShare: 0.3, canaryErrorEvery: 2, field: 'config' }));
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    appconfig.on(AppConfigListDeploymentsCommand).resolves({
      Items: [
        { DeploymentNumber: 4, State: 'DEPLOYING', ConfigurationVersion: '12' },
        { DeploymentNumber: 3, State: 'COMPLETE', ConfigurationVersion: '11' },
      ],
    });
    appconfig
      .on(AppConfigGetDeploymentCommand)
      .resolves({ DeploymentNumber: 4, ConfigurationProfileId: 'prof1', ConfigurationVersion: '12', StartedAt: new Date(now - 3 * MIN) });
    appconfig.on(GetHostedConfigurationVersionCommand).resolves({ VersionLabel: 'cfg-new' });
    // Every association names its service (a required parameter of the extension): the shared function has no other.
    const tick = {
      Type: 'AtDeploymentTick',
      Parameters: { service: 'svc' },
      Application: { Id: 'app1' },
      Environment: { Id: 'env1' },
      ConfigurationProfile: { Id: 'prof1' },
      DeploymentNumber: 4,
      ConfigurationVersion: '12',
    };
    expect(await handler(tick, ctx(5 * MIN))).toEqual({ Directive: 'CONTINUE' }); // nothing stored yet
    // 9 s left: the schedule's slice ends 5 s before that, after its first cycles (the regression is in the first
    // window), instead of running its full slice of wall-clock time.
    const out = await handler(schedule, ctx(9000));
    expect(out).toEqual({ deployments: 0, configRollouts: 1, cycles: expect.any(Number), configVerdict: 1 });
    expect(appconfig.commandCalls(AppConfigListDeploymentsCommand)[0].args[0].input).toMatchObject({ ApplicationId: 'app1', EnvironmentId: 'env1' });
    expect(appconfig.commandCalls(AppConfigGetDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { ApplicationId: 'app1', EnvironmentId: 'env1', DeploymentNumber: 4 },
    ]);
    expect(appconfig.commandCalls(GetHostedConfigurationVersionCommand)[0].args[0].input).toEqual({
      ApplicationId: 'app1',
      ConfigurationProfileId: 'prof1',
      VersionNumber: 12,
    });
    expect(await record('judge/svc/config-env1-4.json')).toMatchObject({ plane: 'config', canary: 'cfg-new', verdict: 'regression' });
    const queries = logs.commandCalls(StartQueryCommand).length;
    expect(await handler(tick, ctx(5 * MIN))).toEqual({ Directive: 'ROLL_BACK', Description: expect.stringContaining('config cfg-new regressed') });
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(queries); // the tick only reads the record
  });

  test('GetDeployment with a String revision: the versions come from revision.string.content', async () => {
    const now = Date.now();
    // A failing version: the hook concludes at its first step instead of waiting its bound (the versions are what
    // this test reads).
    serveLines(traffic({ from: now - 3 * MIN, to: now, rps: 2, canary: '9', stable: '8', canaryShare: 1, canaryErrorEvery: 2 }));
    codedeploy
      .on(GetDeploymentCommand)
      .resolves({ deploymentInfo: { createTime: new Date(now - 2 * MIN), revision: { revisionType: 'String', string: { content: appSpec('8', '9') } } } });
    trafficStarted(now - 2 * MIN, now - 2 * MIN); // AfterAllowTraffic runs once AllowTraffic has Succeeded
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    await point('d-STR');
    const out = await handler({ DeploymentId: 'd-STR', LifecycleEventHookExecutionId: 'e-9' }, ctx(10 * MIN));
    expect(out).toMatchObject({ answered: true });
    expect(out).not.toHaveProperty('error');
    expect(await record('judge/svc/code-d-STR.json')).toMatchObject({ canary: '9', stable: '8' });
  });

  test('an AppConfig event at another action point (or from an old association) is answered CONTINUE, never an error', async () => {
    expect(await handler({ InvocationId: 'i', Type: 'OnDeploymentStart', Application: { Id: 'app1' }, Environment: { Id: 'env1' } }, ctx(3000))).toEqual({
      Directive: 'CONTINUE',
    });
    expect(await handler({ Type: 'AtDeploymentTick', Parameters: { service: 'svc' } }, ctx(3000))).toEqual({ Directive: 'CONTINUE' });
  });

  test('an event it does not handle is an error naming what it takes', async () => {
    await expect(handler({ hello: 1 }, ctx(MIN))).rejects.toThrow(
      "it takes a CodeDeploy lifecycle hook, an AppConfig AT_DEPLOYMENT_TICK or its schedule rule's input",
    );
  });

  describe('one judge function for every service of a platform (issue 15 E)', () => {
    test("the schedule leaves a pointer to its service's settings for each deployment in progress; the hook judges with them", async () => {
      const now = Date.now();
      codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-P1'] });
      codedeploy
        .on(GetDeploymentCommand)
        .resolves({ deploymentInfo: { createTime: new Date(now - MIN), revision: { appSpecContent: { content: appSpec('3', '4') } } } });
      // before AllowTraffic: the schedule does not judge it, but leaves the pointer
      codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
      const other = { ...SETTINGS, AI_RELEASE_JUDGE_SERVICE: 'other', AI_RELEASE_JUDGE_DEPLOYMENT_GROUP: 'other-group' };
      await handler({ source: 'cdk-ai-release.canary-judge', settings: other }, ctx(8000));
      expect(codedeploy.commandCalls(ListDeploymentsCommand)[0].args[0].input).toMatchObject({ applicationName: 'cd-app', deploymentGroupName: 'other-group' });
      expect(await record('judge/_deployments/d-P1.json')).toEqual({ deploymentId: 'd-P1', settings: other });
      // the hook names only the deployment: it judges as "other" (its record, its metric, its log group)
      // A failing version: the hook concludes at its first step (which settings it judged with is what this reads).
      serveLines(traffic({ from: now - 3 * MIN, to: now, rps: 2, canary: '4', stable: '3', canaryShare: 1, canaryErrorEvery: 2 }));
      trafficStarted(now - 2 * MIN, now - 2 * MIN);
      codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
      const out = await handler({ DeploymentId: 'd-P1', LifecycleEventHookExecutionId: 'e-P1' }, ctx(10 * MIN));
      expect(out).toMatchObject({ answered: true });
      expect(await record('judge/other/code-d-P1.json')).toMatchObject({ canary: '4', stable: '3' });
      const dims = cloudwatch.commandCalls(PutMetricDataCommand).at(-1)!.args[0].input.MetricData![0].Dimensions;
      expect(dims).toContainEqual({ Name: 'Service', Value: 'other' });
    });

    test('a hook whose deployment has no pointer within the wait is answered Succeeded, unjudged, with the reason', async () => {
      codedeploy
        .on(GetDeploymentCommand)
        .resolves({ deploymentInfo: { createTime: new Date(), revision: { appSpecContent: { content: appSpec('1', '2') } } } });
      codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
      codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
      const out = await handler({ DeploymentId: 'd-NONE', LifecycleEventHookExecutionId: 'e-N' }, ctx(10 * MIN));
      expect(out).toMatchObject({ status: 'Succeeded', answered: true, error: expect.stringContaining('no service settings for deployment d-NONE') });
      expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status)).toEqual(['Succeeded']);
      expect(logs.commandCalls(StartQueryCommand)).toHaveLength(0);
    });

    test("a rollback deployment is answered Succeeded at once, without waiting for a pointer (CloudFormation's rollback)", async () => {
      codedeploy.on(GetDeploymentCommand).resolves({
        deploymentInfo: { creator: 'CloudFormationRollback', createTime: new Date(), revision: { appSpecContent: { content: appSpec('2', '1') } } },
      });
      codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [] });
      codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
      const t0 = Date.now();
      const out = await handler({ DeploymentId: 'd-RB', LifecycleEventHookExecutionId: 'e-RB' }, ctx(10 * MIN));
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(out).toMatchObject({ status: 'Succeeded', rollback: 'CloudFormationRollback', answered: true });
    });

    test('a schedule input without a settings map is refused, naming the field', async () => {
      await expect(handler({ source: 'cdk-ai-release.canary-judge' }, ctx(MIN))).rejects.toThrow("the canary judge's schedule input has no settings object");
      await expect(handler({ source: 'cdk-ai-release.canary-judge', settings: { AI_RELEASE_JUDGE_PERIOD_SECONDS: 10 } }, ctx(MIN))).rejects.toThrow(
        'settings.AI_RELEASE_JUDGE_PERIOD_SECONDS must be a string',
      );
    });
  });
});
