/**
 * The deployed judge reads the evaluator's results (issue 17 E): handler.ts with the evaluation env set builds a
 * second Logs Insights port on the evaluator's log group, and the real engine judges the paired outcomes it reads.
 * CloudWatch Logs, CodeDeploy, CloudWatch and AppConfig through aws-sdk-client-mock; the judge record in s3rver.
 */
import { AppConfigClient, ListDeploymentsCommand as AppConfigListDeploymentsCommand } from '@aws-sdk/client-appconfig';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { EVALUATION_RESULT_TYPE } from '../lambda/shared/evaluation';
import { rowOf, traffic } from './canary-judge-fakes';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

const logs = mockClient(CloudWatchLogsClient);
const codedeploy = mockClient(CodeDeployClient);
const cloudwatch = mockClient(CloudWatchClient);
const appconfig = mockClient(AppConfigClient);
const MIN = 60_000;
let s3: Awaited<ReturnType<typeof startS3>>;
let direct: S3Client;
const saved = { ...process.env };
let handler: (event: unknown, ctx: { getRemainingTimeInMillis(): number }) => Promise<any>;

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
  AI_RELEASE_JUDGE_EVALUATION_LOG_GROUP: '/aws/lambda/evaluator',
  AI_RELEASE_JUDGE_EVALUATION_METRICS: 'relevance,paired',
};

/** The pointer the schedule leaves for a deployment in progress (the hook's only way to its service). */
async function point(deploymentId: string) {
  await direct.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `judge/_deployments/${deploymentId}.json`, Body: JSON.stringify({ deploymentId, settings: SETTINGS }) }),
  );
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

test('AfterAllowTraffic: the evaluator log group is queried too, and paired losses fail the hook (real engine)', async () => {
  const now = Date.now();
  const start = now - 10 * MIN;
  // The runtime's lines: a healthy canary at full traffic (nothing there to roll back on).
  const runtime = traffic({ from: start, to: now, rps: 2, canary: '8', stable: '7', canaryShare: 1 });
  // The evaluator's lines: 400 canary samples from minute 1 to 7, every pair lost by the canary.
  const results = Array.from({ length: 400 }, (_, i) => {
    const sampleAt = start + MIN + i * 900;
    return {
      type: EVALUATION_RESULT_TYPE,
      service: 'svc',
      sampleId: `s${i}`,
      caseId: `case-${i}`,
      arm: 'stable',
      functionVersion: '8',
      config: 'cfg-1',
      sampleAt,
      scores: { relevance: 4 },
      paired: 'stable',
    };
  });
  const ranges = new Map<string, { group: string; from: number; to: number; query: string }>();
  let sampleQueries = 0;
  logs.on(StartQueryCommand).callsFake((input) => {
    const id = `q${ranges.size}`;
    ranges.set(id, { group: input.logGroupName, from: input.startTime * 1000, to: (input.endTime + 1) * 1000, query: input.queryString });
    return { queryId: id };
  });
  logs.on(GetQueryResultsCommand).callsFake((input) => {
    const q = ranges.get(input.queryId)!;
    if (q.group === '/aws/lambda/evaluator') {
      const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q.query)!;
      const rows = results
        .filter((r) => r.sampleAt >= Number(m[1]) && r.sampleAt < Number(m[2]))
        .map((r) => [
          { field: '@timestamp', value: new Date(r.sampleAt + 20_000).toISOString().replace('T', ' ').replace('Z', '') },
          { field: '@message', value: JSON.stringify(r) },
        ]);
      return { status: 'Complete', results: rows };
    }
    // The runtime's sample lines in the service's log group: which results each window waits for (h7-judgeev).
    if (q.query.includes('ai-release.evaluation-sample')) {
      sampleQueries++;
      const rows = results
        .filter((r) => r.sampleAt >= q.from && r.sampleAt < q.to)
        .map((r) => [
          { field: 'sampleId', value: r.sampleId },
          { field: 'functionVersion', value: r.functionVersion },
          { field: 'tuple.config', value: r.config },
          { field: 'time', value: new Date(r.sampleAt).toISOString() },
        ]);
      return { status: 'Complete', results: rows };
    }
    return { status: 'Complete', results: runtime.filter((l) => l.at >= q.from && l.at < q.to).map((l) => rowOf(l).map((c) => ({ ...c }))) };
  });
  appconfig.on(AppConfigListDeploymentsCommand).resolves({ Items: [] });
  codedeploy.on(GetDeploymentCommand).resolves({
    deploymentInfo: {
      createTime: new Date(start - 30_000),
      revision: {
        appSpecContent: {
          content: JSON.stringify({
            version: 0.0,
            Resources: [{ svc: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }],
          }),
        },
      },
    },
  });
  codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['svc:live'] });
  codedeploy.on(BatchGetDeploymentTargetsCommand).resolves({
    deploymentTargets: [
      {
        deploymentTargetType: 'LambdaTarget',
        lambdaTarget: {
          lifecycleEvents: [{ lifecycleEventName: 'AllowTraffic', status: 'Succeeded', startTime: new Date(start), endTime: new Date(start) }],
        },
      },
    ],
  });
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  await point('d-E1');
  const out = await handler({ DeploymentId: 'd-E1', LifecycleEventHookExecutionId: 'e-1' }, { getRemainingTimeInMillis: () => 10 * MIN });
  expect(out).toMatchObject({ status: 'Failed', verdict: 'regression' });
  // The same verdict path as the runtime's metrics: the code plane's verdict metric is 1.
  expect(cloudwatch.commandCalls(PutMetricDataCommand).at(-1)?.args[0].input.MetricData?.[0].Value).toBe(1);
  const groups = logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input.logGroupName);
  expect(groups).toContain('/aws/lambda/svc');
  expect(groups).toContain('/aws/lambda/evaluator');
  const body = await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'judge/svc/code-d-E1.json' }));
  const rec = JSON.parse(await body.Body!.transformToString());
  // Every window had all its samples' results (20 s after each sample), so each closed complete, without waiting for
  // the bound; the lost pairs of the first windows already show the regression, which is final (no more reads).
  expect(sampleQueries).toBeGreaterThan(0);
  expect(rec.evaluation).toMatchObject({ judged: ['evaluation:relevance', 'evaluation:paired'], outstanding: 0, windows: { atBound: 0 } });
  expect(rec.evaluation.windows.complete).toBeGreaterThanOrEqual(1);
  expect(rec.evaluation.pairs).toBeGreaterThan(0);
  const paired = rec.evidence.find((e: { metric: string }) => e.metric === 'evaluation:paired');
  expect(paired.eValue).toBeGreaterThanOrEqual(paired.threshold);
}, 60_000);
