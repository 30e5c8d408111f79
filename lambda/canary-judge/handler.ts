import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CANARY_JUDGE_ASSIGNED_ENV,
  CANARY_JUDGE_BASELINE_ENV,
  CANARY_JUDGE_CONFIG_ENV,
  CANARY_JUDGE_ENV,
  CANARY_JUDGE_INPUT_SOURCE,
  JUDGE_ENV,
  LEARNING_ENV,
} from '../shared/contract';
import { s3AssignedReleases } from './assigned-port';
import { appConfigDeployments, codeDeployments, hostedConfigLabels, insightsLogs, s3State, verdictMetric } from './aws-adapters';
import { s3Pointers } from './s3-state';
import { awaitPointer, isServiceInput, serviceSettings, withPointers } from './service-input';
import {
  type Clock,
  type HookEvent,
  isAppConfigEvent,
  isHookEvent,
  isRollback,
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

type Settings = Readonly<Record<string, string | undefined>>;

const need = (env: Settings, k: string) => {
  const v = env[k];
  if (!v) throw new Error(`the canary judge's service settings have no ${k}; the schedule rule's input is made by CanaryJudge`);
  return v;
};
const positive = (env: Settings, k: string, fallback: number) => {
  const v = Number(env[k] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`service setting ${k} must be a positive number, got "${env[k]}"`);
  return v;
};
const nonNegative = (env: Settings, k: string, fallback: number) => {
  const v = Number(env[k] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`service setting ${k} must be a number of seconds, 0 or more, got "${env[k]}"`);
  return v;
};

/** The judge's settings of one service, from its settings document (the schedule rule's input, or a pointer). */
function settingsOf(env: Settings): JudgeSettings {
  const tolerance = parseTolerance(env[JUDGE_ENV.TOLERANCE]);
  return {
    service: need(env, CANARY_JUDGE_ENV.SERVICE),
    alpha: positive(env, JUDGE_ENV.ALPHA, 0.01),
    periodMs: positive(env, CANARY_JUDGE_ENV.PERIOD_SECONDS, 10) * 1000,
    afterTrafficBoundMs: positive(env, JUDGE_ENV.AFTER_TRAFFIC_BOUND_SECONDS, 600) * 1000,
    baselineWindowMs: nonNegative(env, CANARY_JUDGE_BASELINE_ENV.WINDOW_SECONDS, 1800) * 1000,
    configUnit: env[JUDGE_ENV.CONFIG_UNIT] === 'cluster' ? 'cluster' : env[JUDGE_ENV.CONFIG_UNIT] === 'environment' ? 'environment' : 'request',
    // The evaluator's results, when the service has an evaluation section (CanaryJudge.judgeEvaluations).
    ...(env[JUDGE_ENV.EVALUATION_LOG_GROUP]
      ? {
          evaluation: {
            ...parseEvaluationMetrics(env[JUDGE_ENV.EVALUATION_METRICS] ?? ''),
            maxWaitMs: positive(env, JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS, DEFAULT_EVALUATION_MAX_WAIT_MS / 1000) * 1000,
          },
        }
      : {}),
    ...(tolerance ? { tolerance } : {}),
  };
}

// Clients at module scope, shared by every service's invocations; the function's own environment holds only the bucket.
const bucket = process.env[LEARNING_ENV.BUCKET] ?? '';
/** The judge host's name prefix: the cannot-judge metric's Platform dimension (the host's one alarm watches it). */
const platform = process.env[JUDGE_ENV.PLATFORM] || undefined;
const logsClient = new CloudWatchLogsClient({});
const appConfig = logFailures(new AppConfigClient(deadline(10_000)));
const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)) };
const s3 = logFailures(new S3Client(deadline(10_000)));
const codeDeploy = logFailures(new CodeDeployClient(deadline(10_000)));
const cloudWatch = new CloudWatchClient({});
const pointers = s3Pointers(s3, bucket);
/** How long the hook waits for the schedule (every minute) to leave its deployment's pointer. */
const POINTER_WAIT_MS = Number(process.env.AI_RELEASE_JUDGE_POINTER_WAIT_MS ?? 120_000);
const hostLog = (message: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ message, ...extra }));

/** The ports of one service, from its settings document. */
function portsOf(env: Settings): { settings: JudgeSettings; ports: JudgePorts } {
  if (!bucket) throw new Error(`environment variable ${LEARNING_ENV.BUCKET} is not set; the canary judge function is created by CanaryJudge`);
  const settings = settingsOf(env);
  const configVersions = hostedConfigLabels(appConfig, need(env, CANARY_JUDGE_ENV.APPCONFIG_APPLICATION));
  // An assigned config canary (configCanary: 'assigned'): the share controller's record says which release is on traffic.
  const shareRecord = env[CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD];
  const log = (message: string, extra: Record<string, unknown> = {}) => hostLog(message, { service: settings.service, ...extra });
  const ports: JudgePorts = {
    logs: insightsLogs(logsClient, need(env, JUDGE_ENV.LOG_GROUP), clock),
    ...(env[JUDGE_ENV.EVALUATION_LOG_GROUP] ? { evaluationLogs: insightsLogs(logsClient, need(env, JUDGE_ENV.EVALUATION_LOG_GROUP), clock) } : {}),
    state: s3State(s3, bucket),
    deployments: codeDeployments(codeDeploy, need(env, CANARY_JUDGE_ENV.CODEDEPLOY_APPLICATION), need(env, CANARY_JUDGE_ENV.DEPLOYMENT_GROUP)),
    configVersions,
    ...(shareRecord ? { assigned: s3AssignedReleases(s3, bucket, shareRecord, configVersions, need(env, CANARY_JUDGE_ENV.CONFIG_PROFILE)) } : {}),
    configDeployments: appConfigDeployments(
      appConfig,
      need(env, CANARY_JUDGE_ENV.APPCONFIG_APPLICATION),
      need(env, CANARY_JUDGE_CONFIG_ENV.ENVIRONMENT),
      need(env, CANARY_JUDGE_ENV.CONFIG_PROFILE),
    ),
    verdict: verdictMetric(cloudWatch, settings.service, clock, platform),
    clock,
    engine: ENGINE,
    log,
  };
  return { settings, ports };
}

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
  if (isHookEvent(event)) return afterTrafficHook(event, now + remaining - ANSWER_MARGIN_MS);
  if (isTickEvent(event)) {
    // Ticks go to the tick function; one that reaches this function (an association made before it) reads the record.
    const ports = { state: s3State(s3, bucket), log: hostLog };
    const response = await runConfigTick(event, ports, {}, Math.min(TICK_BUDGET_MS, Math.max(0, remaining - 500)));
    hostLog('canary judge: config tick', { deploymentNumber: event.DeploymentNumber, directive: response.Directive });
    return response;
  }
  // Any other AppConfig extension event (an action point this function was not meant for): an error there would roll
  // the deployment back, so CONTINUE, with the reason.
  if (isAppConfigEvent(event)) {
    hostLog('canary judge: an AppConfig extension event that is not a tick; answering CONTINUE', { type: event.Type, parameters: event.Parameters });
    return { Directive: 'CONTINUE' };
  }
  if (isServiceInput(event)) {
    const env = serviceSettings(event);
    const { settings, ports } = portsOf(env);
    const scheduled = { ...ports, deployments: withPointers(ports.deployments, pointers, env, ports.log) };
    const out = await runSchedule(scheduled, settings, now + Math.min(SCHEDULE_SLICE_MS, remaining - 5000));
    if (out.deployments > 0 || out.configRollouts || out.assignedRelease) ports.log('canary judge: schedule', { ...out });
    return out;
  }
  throw new Error(
    `the canary judge got an event it does not handle (keys: ${Object.keys((event as object) ?? {}).join(', ')}); it takes a CodeDeploy lifecycle hook, an AppConfig AT_DEPLOYMENT_TICK or its schedule rule's input (source ${CANARY_JUDGE_INPUT_SOURCE})`,
  );
}

/**
 * AfterAllowTraffic: the event names only the deployment. A rollback is answered Succeeded at once (GetDeployment's
 * creator); otherwise the service's settings come from the pointer its schedule leaves for every deployment in
 * progress (written within a minute of the deployment's start). None within the wait: answered Succeeded, unjudged,
 * with an error line (a silent hook would stall the deployment for an hour; no evidence is no regression).
 */
async function afterTrafficHook(event: HookEvent, answerBy: number) {
  const bare = codeDeployments(codeDeploy, '', '');
  const answer = async (status: 'Succeeded' | 'Failed', why: Record<string, unknown>) => {
    try {
      await bare.answerHook(event.DeploymentId, event.LifecycleEventHookExecutionId, status);
      hostLog('canary judge: after-traffic hook answered', { deploymentId: event.DeploymentId, status, ...why });
      return { status, verdict: 'inconclusive', answered: true, ...why };
    } catch (e) {
      hostLog('PutLifecycleEventHookExecutionStatus failed', { deploymentId: event.DeploymentId, status, error: String(e) });
      return { status, verdict: 'inconclusive', answered: false, ...why };
    }
  };
  let env: Settings | undefined;
  try {
    const d = await bare.describe(event.DeploymentId);
    if (isRollback(d)) return answer('Succeeded', { rollback: d.creator ?? `rollback of ${d.rollbackOf}` });
    env = await awaitPointer(pointers, event.DeploymentId, clock, Math.min(POINTER_WAIT_MS, Math.max(0, answerBy - clock.now())));
  } catch (e) {
    return answer('Succeeded', { error: `the deployment could not be read: ${e instanceof Error ? e.message : String(e)}` });
  }
  if (!env)
    return answer('Succeeded', {
      error: `no service settings for deployment ${event.DeploymentId} at ${POINTER_WAIT_MS} ms (the schedule leaves them under judge/_deployments/); answered unjudged`,
    });
  const { settings, ports } = portsOf(env);
  const outcome = await runAfterTrafficHook(event, ports, settings, answerBy);
  ports.log('canary judge: after-traffic hook answered', { deploymentId: event.DeploymentId, ...outcome });
  return outcome;
}
