/**
 * The judge's AWS ports against aws-sdk-client-mock: what each reads from the API's answers (issue 15-A6: Logs
 * Insights pages; 15-A3: the deployment's creator; 16-F: the deployment's own traffic state; the cannot-judge metric).
 */
import {
  AppConfigClient,
  GetDeploymentCommand as AppConfigGetDeploymentCommand,
  ListDeploymentsCommand as AppConfigListDeploymentsCommand,
} from '@aws-sdk/client-appconfig';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetDeploymentTargetsCommand, CodeDeployClient, GetDeploymentCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { appConfigDeployments, codeDeployments, insightsLogs, verdictMetric } from '../lambda/canary-judge/aws-adapters';
import { JUDGE_METRIC } from '../lambda/shared/contract';
import { VirtualClock } from './canary-judge-fakes';

const logs = mockClient(CloudWatchLogsClient);
const cd = mockClient(CodeDeployClient);
const cw = mockClient(CloudWatchClient);
const ac = mockClient(AppConfigClient);
beforeEach(() => {
  logs.reset();
  cd.reset();
  cw.reset();
  ac.reset();
});

const row = (ms: number) => [{ field: '@timestamp', value: new Date(ms).toISOString().replace('T', ' ').replace('Z', '') }];

test('Logs Insights: a result with a nextToken is read to its last page (10,000 rows per GetQueryResults call)', async () => {
  logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
  logs.on(GetQueryResultsCommand, { queryId: 'q1' }).resolves({ status: 'Complete', results: [row(1), row(2)], nextToken: 't1' });
  logs.on(GetQueryResultsCommand, { queryId: 'q1', nextToken: 't1' }).resolves({ status: 'Complete', results: [row(3)], nextToken: 't2' });
  logs.on(GetQueryResultsCommand, { queryId: 'q1', nextToken: 't2' }).resolves({ status: 'Complete', results: [row(4)] });
  const clock = new VirtualClock();
  const rows = await insightsLogs(new CloudWatchLogsClient({ region: 'us-east-1' }), '/aws/lambda/svc', clock).query(
    'fields @timestamp',
    0,
    10,
    clock.t + 60_000,
  );
  expect(rows).toHaveLength(4);
  expect(logs.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 't1', 't2']);
});

test('Logs Insights: pages that outlast the deadline are an error, never a short result', async () => {
  logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
  const clock = new VirtualClock();
  logs.on(GetQueryResultsCommand).callsFake(() => {
    clock.t += 5000;
    return { status: 'Complete', results: [row(1)], nextToken: 'again' };
  });
  await expect(insightsLogs(new CloudWatchLogsClient({ region: 'us-east-1' }), 'g', clock).query('q', 0, 1, clock.t + 12_000)).rejects.toThrow(
    /deadline passed while reading its pages/,
  );
});

const appSpec = JSON.stringify({
  Resources: [{ svc: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }],
});
const lifecycle = (allow: { status: string; start: number; end?: number }) => {
  cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['svc:live'] });
  cd.on(BatchGetDeploymentTargetsCommand).resolves({
    deploymentTargets: [
      {
        lambdaTarget: {
          lifecycleEvents: [
            {
              lifecycleEventName: 'AllowTraffic',
              status: allow.status as 'Succeeded',
              startTime: new Date(allow.start),
              ...(allow.end ? { endTime: new Date(allow.end) } : {}),
            },
          ],
        },
      },
    ],
  });
};

test('CodeDeploy: the creator, and the AllowTraffic end only once it Succeeded (the after-traffic phase comes from here)', async () => {
  cd.on(GetDeploymentCommand).resolves({
    deploymentInfo: {
      creator: 'CloudFormationRollback',
      createTime: new Date(1000),
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
    },
  });
  const port = codeDeployments(new CodeDeployClient({ region: 'us-east-1' }), 'app', 'group');
  lifecycle({ status: 'InProgress', start: 5000 });
  expect(await port.describe('d-1')).toEqual({
    id: 'd-1',
    current: '1',
    target: '2',
    createdAt: 1000,
    trafficStartedAt: 5000,
    creator: 'CloudFormationRollback',
  });
  lifecycle({ status: 'Succeeded', start: 5000, end: 9000 });
  expect(await port.describe('d-1')).toMatchObject({ trafficStartedAt: 5000, trafficCompleteAt: 9000 });
});

test('AppConfig: the rollout is at full traffic from its bake on (BAKE_TIME_STARTED), not before', async () => {
  ac.on(AppConfigListDeploymentsCommand).resolves({ Items: [{ DeploymentNumber: 3, State: 'BAKING' }] });
  const base = { ConfigurationProfileId: 'prof1', ConfigurationVersion: '9', VersionLabel: 'cfg-new', StartedAt: new Date(1000) };
  ac.on(AppConfigGetDeploymentCommand).resolves({
    ...base,
    State: 'BAKING',
    PercentageComplete: 100,
    EventLog: [
      { EventType: 'BAKE_TIME_STARTED', OccurredAt: new Date(7000) },
      { EventType: 'PERCENTAGE_UPDATED', OccurredAt: new Date(6000) },
    ],
  });
  const port = appConfigDeployments(new AppConfigClient({ region: 'us-east-1' }), 'app1', 'env1', 'prof1');
  expect(await port.inProgress()).toEqual([
    { environmentId: 'env1', deploymentNumber: 3, profileId: 'prof1', version: '9', label: 'cfg-new', startedAt: 1000, percentageComplete: 100, fullAt: 7000 },
  ]);
  ac.on(AppConfigListDeploymentsCommand).resolves({ Items: [{ DeploymentNumber: 3, State: 'DEPLOYING' }] });
  ac.on(AppConfigGetDeploymentCommand).resolves({
    ...base,
    State: 'DEPLOYING',
    PercentageComplete: 20,
    EventLog: [{ EventType: 'PERCENTAGE_UPDATED', OccurredAt: new Date(6000) }],
  });
  const [d] = await port.inProgress();
  expect(d.percentageComplete).toBe(20);
  expect(d.fullAt).toBeUndefined();
});

test('the cannot-judge metric: its own name, Service and Plane dimensions, high resolution', async () => {
  cw.on(PutMetricDataCommand).resolves({});
  const clock = new VirtualClock();
  await verdictMetric(new CloudWatchClient({ region: 'us-east-1' }), 'svc', clock).cannotJudge!('config', 1);
  const datum = cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData![0];
  expect(datum).toMatchObject({
    MetricName: JUDGE_METRIC.CANNOT_JUDGE,
    Value: 1,
    StorageResolution: 1,
    Dimensions: [
      { Name: 'Service', Value: 'svc' },
      { Name: 'Plane', Value: 'config' },
    ],
  });
});

test('the cannot-judge metric with a platform: the Service + Plane datum and the Platform datum, in one call', async () => {
  cw.on(PutMetricDataCommand).resolves({});
  const clock = new VirtualClock();
  const port = verdictMetric(new CloudWatchClient({ region: 'us-east-1' }), 'svc', clock, 'TeamA');
  await port.cannotJudge!('code', 1);
  await port.publish('code', 1);
  const [cannot, verdict] = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!);
  expect(cannot.map((d) => [d.MetricName, d.Value, d.StorageResolution, d.Dimensions])).toEqual([
    [
      JUDGE_METRIC.CANNOT_JUDGE,
      1,
      1,
      [
        { Name: 'Service', Value: 'svc' },
        { Name: 'Plane', Value: 'code' },
      ],
    ],
    [JUDGE_METRIC.CANNOT_JUDGE, 1, 1, [{ Name: 'Platform', Value: 'TeamA' }]],
  ]);
  // The verdict stays per service: the platform datum is the cannot-judge metric's only.
  expect(verdict).toHaveLength(1);
  expect(verdict[0].Dimensions).toEqual([
    { Name: 'Service', Value: 'svc' },
    { Name: 'Plane', Value: 'code' },
  ]);
});
