/**
 * The review's adapters over the AWS SDK, with aws-sdk-client-mock answering in the shapes of the API references'
 * examples (CodeDeploy GetDeployment / GetDeploymentConfig, AppConfig GetDeployment, SSM GetParameterHistory,
 * CloudWatch DescribeAlarms / DescribeAlarmHistory / GetMetricData, SNS Publish).
 */
import { AppConfigClient, GetDeploymentCommand as GetConfigDeploymentCommand } from '@aws-sdk/client-appconfig';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetDeploymentCommand, GetDeploymentConfigCommand } from '@aws-sdk/client-codedeploy';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterHistoryCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { alarmInfo, cloudWatchAlarms, cloudWatchMetrics, deploymentsPort, snsNotifier, ssmManifestHistory } from '../lambda/review/aws-adapters';
import { parseReleaseEnd } from '../lambda/review/events';
import { appConfigEvent, at, codeDeployEvent, manifests } from './review-fixtures';

const cd = mockClient(CodeDeployClient);
const ac = mockClient(AppConfigClient);
const cw = mockClient(CloudWatchClient);
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
beforeEach(() => [cd, ac, cw, ssm, sns, s3].forEach((m) => m.reset()));

const appSpec = JSON.stringify({
  version: 0.0,
  Resources: [{ myFunction: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc-fn', Alias: 'live', CurrentVersion: '6', TargetVersion: '7' } } }],
});

function mockCodeDeploy() {
  cd.on(GetDeploymentCommand, { deploymentId: 'd-123456789' }).resolves({
    deploymentInfo: {
      applicationName: 'myApplication',
      deploymentGroupName: 'myDeploymentGroup',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      deploymentId: 'd-123456789',
      status: 'Failed',
      errorInformation: {
        code: 'ALARM_ACTIVE',
        message:
          'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped.',
      },
      createTime: new Date(at(0)),
      completeTime: new Date(at(160)),
      creator: 'user',
      computePlatform: 'Lambda',
      rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK', rollbackMessage: 'Automatic rollback triggered by an alarm' },
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec, sha256: 'x' } },
    },
  });
  cd.on(GetDeploymentCommand, { deploymentId: 'd-ROLLBACK' }).resolves({
    deploymentInfo: {
      deploymentId: 'd-ROLLBACK',
      status: 'Succeeded',
      creator: 'codeDeployRollback',
      createTime: new Date(at(161)),
      completeTime: new Date(at(170)),
      rollbackInfo: { rollbackTriggeringDeploymentId: 'd-123456789' },
    },
  });
  cd.on(GetDeploymentConfigCommand, { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' }).resolves({
    deploymentConfigInfo: {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
    },
  });
}

describe('deployments', () => {
  test('code: versions from the AppSpec, steps from the deployment config cut at the rollback, rollback from the rollback deployment', async () => {
    mockCodeDeploy();
    const release = parseReleaseEnd(codeDeployEvent('FAILURE'), at(200)).release!;
    const facts = await deploymentsPort(new CodeDeployClient({}), new AppConfigClient({})).describe(release);
    expect(facts).toEqual({
      startedAt: at(0),
      endedAt: at(160),
      from: '6',
      to: '7',
      // The 100 % step was planned for 300 s; the rollback came first.
      steps: [{ at: at(0), percent: 10 }],
      rollback: { startedAt: at(161), endedAt: at(170), by: 'alarm' },
      message: expect.stringContaining('alarms have been activated'),
    });
  });

  test("code: CodeDeploy's rollback deployment says whose rollback it is", async () => {
    mockCodeDeploy();
    const release = parseReleaseEnd(codeDeployEvent('SUCCESS', 'd-ROLLBACK'), at(200)).release!;
    expect(await deploymentsPort(new CodeDeployClient({}), new AppConfigClient({})).describe(release)).toEqual({ steps: [], rollbackOf: 'd-123456789' });
  });

  test('code and config: a stack rollback is the tail of the release it undid, not a release', async () => {
    cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: 'd-CFN', status: 'Succeeded', creator: 'CloudFormationRollback' } });
    ac.on(GetConfigDeploymentCommand).resolves({
      DeploymentNumber: 4,
      State: 'COMPLETE',
      Description: 'svc release config (stack rollback: back to the previous version, instant)',
    });
    const port = deploymentsPort(new CodeDeployClient({}), new AppConfigClient({}));
    expect((await port.describe(parseReleaseEnd(codeDeployEvent('SUCCESS', 'd-CFN'), at(1)).release!)).rollbackOf).toMatch(/CloudFormation rollback/);
    expect((await port.describe(parseReleaseEnd(appConfigEvent('OnDeploymentComplete', 4), at(1)).release!)).rollbackOf).toMatch(/config deployer rollback/);
  });

  test('config: the event log (newest first, as the API returns it) gives steps, bake, rollback and who triggered it', async () => {
    ac.on(GetConfigDeploymentCommand, { ApplicationId: '1a2b3c4d', EnvironmentId: 'pgil2o7', DeploymentNumber: 3 }).resolves({
      ApplicationId: '1a2b3c4d',
      EnvironmentId: 'pgil2o7',
      DeploymentNumber: 3,
      ConfigurationVersion: '4',
      VersionLabel: 'cfg-b',
      State: 'ROLLED_BACK',
      StartedAt: new Date(at(0)),
      CompletedAt: new Date(at(200)),
      EventLog: [
        { EventType: 'ROLLBACK_COMPLETED', TriggeredBy: 'APPCONFIG', Description: 'Rollback complete', OccurredAt: new Date(at(200)) },
        {
          EventType: 'ROLLBACK_STARTED',
          TriggeredBy: 'CLOUDWATCH_ALARM',
          Description: 'Rollback initiated by alarm arn:aws:cloudwatch:us-east-1:111122223333:alarm:Rev-svc-config-rollback',
          OccurredAt: new Date(at(190)),
        },
        {
          EventType: 'PERCENTAGE_UPDATED',
          TriggeredBy: 'APPCONFIG',
          Description: 'Configuration available to 40.00% of clients',
          OccurredAt: new Date(at(120)),
        },
        {
          EventType: 'PERCENTAGE_UPDATED',
          TriggeredBy: 'APPCONFIG',
          Description: 'Configuration available to 20.00% of clients',
          OccurredAt: new Date(at(60)),
        },
        { EventType: 'DEPLOYMENT_STARTED', TriggeredBy: 'USER', Description: 'Deployment started', OccurredAt: new Date(at(0)) },
      ],
    });
    const release = parseReleaseEnd(appConfigEvent('OnDeploymentRolledBack', 3), at(210)).release!;
    const facts = await deploymentsPort(new CodeDeployClient({}), new AppConfigClient({})).describe(release);
    expect(facts).toEqual({
      startedAt: at(0),
      endedAt: at(200),
      to: 'cfg-b',
      steps: [
        { at: at(60), percent: 20 },
        { at: at(120), percent: 40 },
      ],
      rollback: { startedAt: at(190), endedAt: at(200), by: 'CLOUDWATCH_ALARM' },
      message: expect.stringContaining('alarm:Rev-svc-config-rollback'),
    });
  });
});

test('manifest history: every version of the parameter, oldest first, across pages; a foreign value is skipped', async () => {
  const [a, b] = manifests();
  ssm
    .on(GetParameterHistoryCommand, { Name: '/cdk-ai-release/Rev/svc/release-manifest', NextToken: undefined })
    .resolves({
      Parameters: [
        { Name: '/cdk-ai-release/Rev/svc/release-manifest', Type: 'String', Value: JSON.stringify(b.manifest), Version: 2, LastModifiedDate: new Date(b.at) },
        { Name: '/cdk-ai-release/Rev/svc/release-manifest', Type: 'String', Value: 'hand-edited', Version: 3, LastModifiedDate: new Date(at(500)) },
      ],
      NextToken: 'p2',
    })
    .on(GetParameterHistoryCommand, { NextToken: 'p2' })
    .resolves({
      Parameters: [
        { Name: '/cdk-ai-release/Rev/svc/release-manifest', Type: 'String', Value: JSON.stringify(a.manifest), Version: 1, LastModifiedDate: new Date(a.at) },
      ],
    });
  const h = await ssmManifestHistory(new SSMClient({}), 'Rev').history('svc');
  expect(h.map((v) => v.manifest.releaseId)).toEqual([a.manifest.releaseId, b.manifest.releaseId]);
});

describe('alarms', () => {
  const metricAlarm = {
    AlarmName: 'Rev-svc-version-error-rate',
    Threshold: 0.05,
    ComparisonOperator: 'GreaterThanThreshold' as const,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Metrics: [
      { Id: 'expr_1', Expression: 'IF(inv >= 5, x / inv, 0)', ReturnData: true, Period: 10 },
      { Id: 'inv', ReturnData: false, MetricStat: { Metric: { Namespace: 'AiRelease', MetricName: 'Invocations' }, Period: 10, Stat: 'Sum' } },
      { Id: 'x', ReturnData: false, MetricStat: { Metric: { Namespace: 'AiRelease', MetricName: 'Errors' }, Period: 10, Stat: 'Sum' } },
    ],
  };

  test('DescribeAlarms with the service prefix: threshold, comparison, period and the invocation guard from the expression', async () => {
    cw.on(DescribeAlarmsCommand, { AlarmNamePrefix: 'Rev-svc-', AlarmTypes: ['MetricAlarm'] }).resolves({
      MetricAlarms: [metricAlarm, { ...metricAlarm, AlarmName: 'Rev-svc-version-quality', ComparisonOperator: 'LessThanThreshold', Threshold: 0.5 }],
    });
    expect(await cloudWatchAlarms(new CloudWatchClient({})).alarms('Rev-svc-')).toEqual([
      { name: 'Rev-svc-version-error-rate', threshold: 0.05, comparison: '>', periodSeconds: 10, minInvocations: 5 },
      { name: 'Rev-svc-version-quality', threshold: 0.5, comparison: '<', periodSeconds: 10, minInvocations: 5 },
    ]);
    expect(alarmInfo({ AlarmName: 'plain', Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', Period: 60 })).toMatchObject({
      periodSeconds: 60,
      minInvocations: 1,
    });
  });

  test('DescribeAlarmHistory: state updates per alarm, from HistoryData', async () => {
    cw.on(DescribeAlarmHistoryCommand, { AlarmName: 'Rev-svc-version-error-rate', HistoryItemType: 'StateUpdate' }).resolves({
      AlarmHistoryItems: [
        {
          AlarmName: 'Rev-svc-version-error-rate',
          AlarmType: 'MetricAlarm',
          Timestamp: new Date(at(130)),
          HistoryItemType: 'StateUpdate',
          HistorySummary: 'Alarm updated from OK to ALARM',
          HistoryData: JSON.stringify({
            version: '1.0',
            oldState: { stateValue: 'OK', stateReason: 'x' },
            newState: { stateValue: 'ALARM', stateReason: 'Threshold Crossed' },
          }),
        },
      ],
    });
    cw.on(DescribeAlarmHistoryCommand, { AlarmName: 'Rev-svc-version-quality' }).resolves({ AlarmHistoryItems: [] });
    const h = await cloudWatchAlarms(new CloudWatchClient({})).history(['Rev-svc-version-error-rate', 'Rev-svc-version-quality'], at(0), at(200));
    expect(h).toEqual([{ alarm: 'Rev-svc-version-error-rate', at: at(130), from: 'OK', to: 'ALARM' }]);
    const input = cw.commandCalls(DescribeAlarmHistoryCommand)[0].args[0].input;
    expect(input.StartDate).toEqual(new Date(Date.parse(at(0)) - 60_000));
    expect(input.EndDate).toEqual(new Date(at(200)));
  });
});

test('GetMetricData: the runtime namespace and dimensions, pages merged, oldest first', async () => {
  cw.on(GetMetricDataCommand)
    .resolvesOnce({
      MetricDataResults: [{ Id: 's_inv', Label: 'Invocations', Timestamps: [new Date(at(10))], Values: [20], StatusCode: 'PartialData' }],
      NextToken: 'n',
    })
    .resolvesOnce({ MetricDataResults: [{ Id: 's_inv', Label: 'Invocations', Timestamps: [new Date(at(0))], Values: [18], StatusCode: 'Complete' }] });
  const out = await cloudWatchMetrics(new CloudWatchClient({})).fetch(
    [{ id: 's_inv', metricName: 'Invocations', stat: 'Sum', dimensions: { Service: 'svc', Version: '7' }, periodSeconds: 10 }],
    at(0),
    at(60),
  );
  expect(out.s_inv).toEqual({ timestamps: [at(0), at(10)], values: [18, 20] });
  const q = cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries![0];
  expect(q.MetricStat).toEqual({
    Metric: {
      Namespace: 'AiRelease',
      MetricName: 'Invocations',
      Dimensions: [
        { Name: 'Service', Value: 'svc' },
        { Name: 'Version', Value: '7' },
      ],
    },
    Period: 10,
    Stat: 'Sum',
  });
});

test('SNS: the subject and message go to the topic', async () => {
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  await snsNotifier(new SNSClient({}), 'arn:aws:sns:us-east-1:111122223333:t').publish('s', 'm');
  expect(sns.commandCalls(PublishCommand)[0].args[0].input).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', Subject: 's', Message: 'm' });
});

test('the handler: environment read once, a CodeDeploy event reviewed end to end through the SDK clients', async () => {
  process.env.AI_RELEASE_STORE_BUCKET = 'store';
  process.env.AI_RELEASE_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:t';
  process.env.AI_RELEASE_STACK_NAME = 'Rev';
  mockCodeDeploy();
  ssm
    .on(GetParameterHistoryCommand)
    .rejects(Object.assign(new Error('User is not authorized to perform: ssm:GetParameterHistory'), { name: 'AccessDeniedException' }));
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  s3.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(PutObjectCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  // Loaded here, after the environment is set: the handler reads it once, at module scope.
  const { handler } = await import('../lambda/review/handler');
  const result = await handler(codeDeployEvent('FAILURE'));
  log.mockRestore();
  expect(result).toEqual({ status: 'written' });
  const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  expect(puts.map((p) => [p.Bucket, p.Key, p.IfNoneMatch])).toEqual([
    ['store', 'reviews/svc/code-d-123456789.svg', undefined],
    ['store', 'reviews/svc/code-d-123456789.md', undefined],
    ['store', 'reviews/svc/code-d-123456789.json', '*'],
  ]);
  const review = JSON.parse(String(puts[2].Body));
  expect(review.partial).toBe(true);
  expect(review.missing[0].lookup).toBe('manifest history (SSM /cdk-ai-release/Rev/svc/release-manifest)');
  expect(review.missing[0].reason).toMatch(/^AccessDeniedException: User is not authorized/);
  expect(sns.commandCalls(PublishCommand)[0].args[0].input.Message).toContain('s3://store/reviews/svc/code-d-123456789.md');
});
