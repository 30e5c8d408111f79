import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import { CANARY_JUDGE_ASSIGNED_ENV, CANARY_JUDGE_BASELINE_ENV, CANARY_JUDGE_CONFIG_ENV, CANARY_JUDGE_ENV, JUDGE_ENV, LEARNING_ENV } from '../shared/contract';
import { s3AssignedReleases } from './assigned-port';
import { appConfigDeployments, codeDeployments, hostedConfigLabels, insightsLogs, s3State, verdictMetric } from './aws-adapters';
import {
  type Clock,
  isAppConfigEvent,
  isHookEvent,
  isTickEvent,
  type JudgePorts,
  type JudgeSettings,
  parseTolerance,
  runAfterTrafficHook,
  runConfigTick,
  runSchedule,
  TICK_BUDGET_MS,
} from './canary-judge';
import { ENGINE } from './engine';
import { DEFAULT_EVALUATION_MAX_WAIT_MS, parseEvaluationMetrics } from './evaluations';
import { deadline, logFailures } from '../shared/sdk-deadline';

/** The hook starts answering this long before its timeout: the status call, with its retries, fits in it. */
const ANSWER_MARGIN_MS = 20_000;
/** A schedule invocation ends within its minute, so the next one (a minute later) never overlaps it. */
const SCHEDULE_SLICE_MS = 50_000;

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the canary judge function is created by CanaryJudge`);
  return v;
};
const positive = (k: string, fallback: number) => {
  const v = Number(process.env[k] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`environment variable ${k} must be a positive number, got "${process.env[k]}"`);
  return v;
};

const nonNegative = (k: string, fallback: number) => {
  const v = Number(process.env[k] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`environment variable ${k} must be a number of seconds, 0 or more, got "${process.env[k]}"`);
  return v;
};

const tolerance = parseTolerance(process.env[JUDGE_ENV.TOLERANCE]);
const settings: JudgeSettings = {
  service: need(CANARY_JUDGE_ENV.SERVICE),
  alpha: positive(JUDGE_ENV.ALPHA, 0.01),
  periodMs: positive(CANARY_JUDGE_ENV.PERIOD_SECONDS, 10) * 1000,
  afterTrafficBoundMs: positive(JUDGE_ENV.AFTER_TRAFFIC_BOUND_SECONDS, 600) * 1000,
  baselineWindowMs: nonNegative(CANARY_JUDGE_BASELINE_ENV.WINDOW_SECONDS, 1800) * 1000,
  configUnit: process.env[JUDGE_ENV.CONFIG_UNIT] === 'cluster' ? 'cluster' : 'request',
  // The evaluator's results, when the service has an evaluation section (CanaryJudge.judgeEvaluations).
  ...(process.env[JUDGE_ENV.EVALUATION_LOG_GROUP]
    ? {
        evaluation: {
          ...parseEvaluationMetrics(process.env[JUDGE_ENV.EVALUATION_METRICS] ?? ''),
          maxWaitMs: positive(JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS, DEFAULT_EVALUATION_MAX_WAIT_MS / 1000) * 1000,
        },
      }
    : {}),
  ...(tolerance ? { tolerance } : {}),
};
const logsClient = new CloudWatchLogsClient({});
const appConfig = logFailures(new AppConfigClient(deadline(10_000)));
const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)) };
const s3 = logFailures(new S3Client(deadline(10_000)));
const configVersions = hostedConfigLabels(appConfig, need(CANARY_JUDGE_ENV.APPCONFIG_APPLICATION));
// An assigned config canary (configCanary: 'assigned'): the share controller's record says which release is on traffic.
const shareRecord = process.env[CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD];
const ports: JudgePorts = {
  logs: insightsLogs(logsClient, need(JUDGE_ENV.LOG_GROUP), clock),
  ...(process.env[JUDGE_ENV.EVALUATION_LOG_GROUP] ? { evaluationLogs: insightsLogs(logsClient, need(JUDGE_ENV.EVALUATION_LOG_GROUP), clock) } : {}),
  state: s3State(s3, need(LEARNING_ENV.BUCKET)),
  deployments: codeDeployments(
    logFailures(new CodeDeployClient(deadline(10_000))),
    need(CANARY_JUDGE_ENV.CODEDEPLOY_APPLICATION),
    need(CANARY_JUDGE_ENV.DEPLOYMENT_GROUP),
  ),
  configVersions,
  ...(shareRecord ? { assigned: s3AssignedReleases(s3, need(LEARNING_ENV.BUCKET), shareRecord, configVersions, need(CANARY_JUDGE_ENV.CONFIG_PROFILE)) } : {}),
  configDeployments: appConfigDeployments(
    appConfig,
    need(CANARY_JUDGE_ENV.APPCONFIG_APPLICATION),
    need(CANARY_JUDGE_CONFIG_ENV.ENVIRONMENT),
    need(CANARY_JUDGE_ENV.CONFIG_PROFILE),
  ),
  verdict: verdictMetric(new CloudWatchClient({}), settings.service, clock),
  clock,
  engine: ENGINE,
  log: (message, extra = {}) => console.log(JSON.stringify({ message, service: settings.service, ...extra })),
};

interface Context {
  getRemainingTimeInMillis(): number;
}

/**
 * CodeDeploy AfterAllowTraffic hook, or the rate(1 minute) schedule (EventBridge). AT_DEPLOYMENT_TICK has its own small
 * function (lambda/canary-judge-tick); a tick that still reaches this one (an association made before it) is answered
 * the same way, and any other AppConfig event gets CONTINUE.
 */
export async function handler(event: unknown, context: Context) {
  const now = clock.now();
  const remaining = context.getRemainingTimeInMillis();
  if (isHookEvent(event)) {
    const outcome = await runAfterTrafficHook(event, ports, settings, now + remaining - ANSWER_MARGIN_MS);
    ports.log('canary judge: after-traffic hook answered', { deploymentId: event.DeploymentId, ...outcome });
    return outcome;
  }
  if (isTickEvent(event)) {
    const response = await runConfigTick(event, ports, settings, Math.min(TICK_BUDGET_MS, Math.max(0, remaining - 500)));
    ports.log('canary judge: config tick', { deploymentNumber: event.DeploymentNumber, directive: response.Directive });
    return response;
  }
  // Any other AppConfig extension event (an action point this function was not meant for): an error there would roll
  // the deployment back, so CONTINUE, with the reason.
  if (isAppConfigEvent(event)) {
    ports.log('canary judge: an AppConfig extension event that is not a tick; answering CONTINUE', { type: event.Type, parameters: event.Parameters });
    return { Directive: 'CONTINUE' };
  }
  if ((event as { source?: string } | null)?.source === 'aws.events') {
    const out = await runSchedule(ports, settings, now + Math.min(SCHEDULE_SLICE_MS, remaining - 5000));
    if (out.deployments > 0 || out.configRollouts || out.assignedRelease) ports.log('canary judge: schedule', { ...out });
    return out;
  }
  throw new Error(
    `the canary judge got an event it does not handle (keys: ${Object.keys((event as object) ?? {}).join(', ')}); it takes a CodeDeploy lifecycle hook, an AppConfig AT_DEPLOYMENT_TICK or a scheduled event`,
  );
}
