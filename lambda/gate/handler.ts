import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GATE_DEPLOYMENT_ENV, GATE_ENV, GATE_EVALUATION_ENV, GATE_SHARED_ENV, type GateEvaluationSettings, LEARNING_ENV } from '../shared/contract';
import { codeDeployPort, lambdaInvoker, s3GateStore, settingsSource, shareControllerAnnouncer } from './aws-adapters';
import { bedrockModel, liveEvaluations } from '../evaluator/aws-adapters';
import { checkGateEvaluationSettings } from './evaluate';
import { type GateEvaluationPorts, type GateSettings, settingsFrom } from './gate';
import {
  type HookPorts,
  isConfigGateRequest,
  isHookEvent,
  runCodeHook,
  runConfigGate,
  runSharedCodeHook,
  runSharedConfigGate,
  type SharedHookPorts,
} from './hook';
import type { ServiceGate } from './service-settings';
import { deadline, logFailures } from '../shared/sdk-deadline';

/** CodeDeploy is answered this long before Lambda's timeout, whatever the gate is doing. */
const ANSWER_MARGIN_MS = 10_000;

const codedeploy = logFailures(new CodeDeployClient(deadline(10_000)));
const deployments = codeDeployPort(codedeploy);
let remaining = () => 60_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const log = (line: string) => process.stdout.write(`${line}\n`);
const clock = { now: () => Date.now() };

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the gate function is created by RegressionGate (AiRelease({ regressionGate }))`);
  return v;
};

/**
 * A gate of one service (RegressionGate without a host): everything read from the environment; a bad value is kept
 * as an error so a hook event is still answered (Failed).
 */
function initOwn(): {
  ports: HookPorts;
  service: string;
  targetFunction: string;
  settings: GateSettings;
  deploymentGroup?: { application: string; name: string };
  codeCanaryShiftSeconds?: number;
} {
  const service = need(GATE_ENV.SERVICE);
  const targetFunction = need(GATE_ENV.TARGET_FUNCTION);
  const bucket = need(LEARNING_ENV.BUCKET);
  const application = process.env[GATE_DEPLOYMENT_ENV.APPLICATION];
  const groupName = process.env[GATE_DEPLOYMENT_ENV.DEPLOYMENT_GROUP];
  const settings = settingsFrom((k) => process.env[k], {
    caseCap: GATE_ENV.CASE_CAP,
    concurrency: GATE_ENV.CONCURRENCY,
    caseTimeoutMs: GATE_ENV.CASE_TIMEOUT_MS,
    passRate: GATE_ENV.PASS_RATE,
    candidates: GATE_ENV.CANDIDATES,
  });
  let evaluation: GateEvaluationPorts | undefined;
  if (process.env[GATE_EVALUATION_ENV.SETTINGS]) {
    let s: GateEvaluationSettings;
    try {
      s = JSON.parse(need(GATE_EVALUATION_ENV.SETTINGS)) as GateEvaluationSettings;
    } catch (e) {
      throw new Error(`environment variable ${GATE_EVALUATION_ENV.SETTINGS} is not JSON (${(e as Error).message}); it is set by RegressionGate`);
    }
    checkGateEvaluationSettings(s, GATE_EVALUATION_ENV.SETTINGS);
    evaluation = evaluationPorts(service, {
      settings: s,
      modelId: need(GATE_EVALUATION_ENV.MODEL_ID),
      application: need(GATE_EVALUATION_ENV.APPLICATION),
      environment: need(GATE_EVALUATION_ENV.LIVE_ENVIRONMENT),
      profile: need(GATE_EVALUATION_ENV.PROFILE),
    });
  }
  // Assigned config canaries: the hook announces the version under test in the share document (issue 17 D).
  const controller = process.env[GATE_ENV.CODE_CANARY_CONTROLLER];
  const shiftSeconds = Number(process.env[GATE_ENV.CODE_CANARY_SHIFT_SECONDS] ?? 0);
  if (controller && !(Number.isFinite(shiftSeconds) && shiftSeconds >= 0))
    throw new Error(
      `environment variable ${GATE_ENV.CODE_CANARY_SHIFT_SECONDS} must be seconds, 0 or more, got "${process.env[GATE_ENV.CODE_CANARY_SHIFT_SECONDS]}"; ConfigShare.announceCodeCanaries sets it`,
    );
  const ports: HookPorts = {
    ...(evaluation ? { evaluation } : {}),
    ...(controller ? { codeCanary: shareControllerAnnouncer(announcerClient(), controller) } : {}),
    store: s3GateStore(s3, bucket, () => remaining()),
    invoker: lambdaInvoker(lambdaClient(settings.caseTimeoutMs), targetFunction),
    deployments,
    clock,
    log,
    // Unref'd: the watchdog never keeps the process alive on its own.
    sleep,
  };
  return {
    ports,
    service,
    targetFunction,
    settings,
    ...(application && groupName ? { deploymentGroup: { application, name: groupName } } : {}),
    ...(controller ? { codeCanaryShiftSeconds: shiftSeconds } : {}),
  };
}

const s3 = logFailures(new S3Client(deadline(10_000, { maxAttempts: 1 })));
/** A replay waits for the target's answer up to the case timeout (the gate aborts it then): one client per timeout. */
const lambdaClients = new Map<number, LambdaClient>();
function lambdaClient(caseTimeoutMs: number): LambdaClient {
  let c = lambdaClients.get(caseTimeoutMs);
  if (!c) {
    c = logFailures(new LambdaClient(deadline(caseTimeoutMs + 5000)));
    lambdaClients.set(caseTimeoutMs, c);
  }
  return c;
}
/** The code canary's announcement (issue 17 D): a short synchronous invoke of a share controller. */
let announcer: LambdaClient | undefined;
function announcerClient(): LambdaClient {
  announcer ??= logFailures(new LambdaClient(deadline(5_000)));
  return announcer;
}
let bedrock: BedrockRuntimeClient | undefined;
let appConfigData: AppConfigDataClient | undefined;

/** The evaluator's ports: Bedrock Converse and the live evaluation section. */
function evaluationPorts(service: string, e: NonNullable<ServiceGate['evaluation']>): GateEvaluationPorts {
  // Throttling is retried by the evaluator's own backoff (one SDK attempt per call).
  bedrock ??= logFailures(new BedrockRuntimeClient(deadline(60_000, { maxAttempts: 1 })));
  appConfigData ??= logFailures(new AppConfigDataClient(deadline(5_000)));
  const live = liveEvaluations(appConfigData, {
    [service]: { application: e.application, environment: e.environment, profile: e.profile, functionName: '', liveAlias: '' },
  });
  return {
    evaluator: { model: bedrockModel(bedrock, 30_000), sleep, random: Math.random },
    liveEvaluation: () => live(service),
    modelId: e.modelId,
    settings: e.settings,
  };
}

/** A gate shared by a platform's services (no GATE_ENV.SERVICE): the service comes with each event (service-settings.ts). */
function initShared(): { shared: SharedHookPorts; forService: (s: ServiceGate) => Omit<HookPorts, 'deployments' | 'clock' | 'log' | 'sleep'> } {
  const bucket = need(LEARNING_ENV.BUCKET);
  const ssm = logFailures(new SSMClient(deadline(5_000)));
  const store = s3GateStore(s3, bucket, () => remaining());
  return {
    shared: { deployments, settings: settingsSource(codedeploy, ssm, need(GATE_SHARED_ENV.GROUP_ARN_PREFIX)), clock, log, sleep },
    forService: (s) => ({
      store,
      invoker: lambdaInvoker(lambdaClient(s.settings.caseTimeoutMs), s.targetFunction),
      ...(s.evaluation ? { evaluation: evaluationPorts(s.service, s.evaluation) } : {}),
      // The service's share controller, from its gate block: the hook announces the code canary there (issue 17 D).
      ...(s.codeCanary ? { codeCanary: shareControllerAnnouncer(announcerClient(), s.codeCanary.controller) } : {}),
    }),
  };
}

const sharedMode = !process.env[GATE_ENV.SERVICE];
let own: ReturnType<typeof initOwn> | undefined;
let shared: ReturnType<typeof initShared> | undefined;
let setupError: Error | undefined;
try {
  if (sharedMode) shared = initShared();
  else own = initOwn();
} catch (e) {
  setupError = e as Error;
}

/** CodeDeploy's BeforeAllowTraffic hook event, or a ConfigGateRequest (synchronous invoke from the config plane). */
export async function handler(event: unknown, context: { getRemainingTimeInMillis(): number }) {
  const answerBy = Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;
  remaining = () => answerBy - Date.now();
  if (!own && !shared) {
    // Misconfigured: still answer a waiting deployment (Failed) rather than stall it for an hour.
    console.error(JSON.stringify({ level: 'ERROR', message: 'gate misconfigured', error: setupError?.message }));
    if (isHookEvent(event)) await deployments.answer(event.DeploymentId, event.LifecycleEventHookExecutionId, 'Failed');
    throw setupError;
  }
  if (shared) {
    if (isHookEvent(event)) {
      const r = await runSharedCodeHook(event, shared.shared, shared.forService, answerBy);
      return { status: r.status, service: r.service, summary: r.report?.summary ?? r.error };
    }
    if (isConfigGateRequest(event)) return runSharedConfigGate(event, shared.shared, shared.forService, answerBy);
  } else if (own) {
    const { ports, ...rest } = own;
    const options = { ...rest, answerBy };
    if (isHookEvent(event)) {
      const r = await runCodeHook(event, ports, options);
      return { status: r.status, summary: r.report?.summary };
    }
    if (isConfigGateRequest(event)) return runConfigGate(event, ports, options);
  }
  throw new Error(
    'the gate takes a CodeDeploy lifecycle hook event (DeploymentId, LifecycleEventHookExecutionId) or a ConfigGateRequest (kind "ai-release.config-gate")',
  );
}
