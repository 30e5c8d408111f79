import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GATE_DEPLOYMENT_ENV, GATE_ENV, GATE_EVALUATION_ENV, type GateEvaluationSettings, LEARNING_ENV } from '../shared/contract';
import { codeDeployPort, lambdaInvoker, s3GateStore, shareControllerAnnouncer } from './aws-adapters';
import { bedrockModel, liveEvaluations } from '../evaluator/aws-adapters';
import { checkGateEvaluationSettings } from './evaluate';
import { type GateEvaluationPorts, type GateSettings, settingsFrom } from './gate';
import { type HookPorts, isConfigGateRequest, isHookEvent, runCodeHook, runConfigGate } from './hook';
import { deadline, logFailures } from '../shared/sdk-deadline';

/** CodeDeploy is answered this long before Lambda's timeout, whatever the gate is doing. */
const ANSWER_MARGIN_MS = 10_000;

const codedeploy = logFailures(new CodeDeployClient(deadline(10_000)));
const deployments = codeDeployPort(codedeploy);
let remaining = () => 60_000;

/** Everything read from the environment; a bad value is kept as an error so a hook event is still answered (Failed). */
function init(): {
  ports: HookPorts;
  service: string;
  targetFunction: string;
  settings: GateSettings;
  deploymentGroup?: { application: string; name: string };
  codeCanaryShiftSeconds?: number;
} {
  const need = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`environment variable ${k} is not set; the gate function is created by RegressionGate (AiRelease({ regressionGate }))`);
    return v;
  };
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
  // A replay waits for the target's answer up to the case timeout (the gate aborts it then); S3 calls are short.
  const lambda = logFailures(new LambdaClient(deadline(settings.caseTimeoutMs + 5000)));
  const s3 = logFailures(new S3Client(deadline(10_000, { maxAttempts: 1 })));
  // Assigned config canaries: the hook announces the version under test in the share document (issue 17 D).
  const controller = process.env[GATE_ENV.CODE_CANARY_CONTROLLER];
  const shiftSeconds = Number(process.env[GATE_ENV.CODE_CANARY_SHIFT_SECONDS] ?? 0);
  if (controller && !(Number.isFinite(shiftSeconds) && shiftSeconds >= 0))
    throw new Error(
      `environment variable ${GATE_ENV.CODE_CANARY_SHIFT_SECONDS} must be seconds, 0 or more, got "${process.env[GATE_ENV.CODE_CANARY_SHIFT_SECONDS]}"; ConfigShare.announceCodeCanaries sets it`,
    );
  const ports: HookPorts = {
    ...(process.env[GATE_EVALUATION_ENV.SETTINGS] ? { evaluation: evaluationPorts(service, need) } : {}),
    ...(controller ? { codeCanary: shareControllerAnnouncer(logFailures(new LambdaClient(deadline(5_000))), controller) } : {}),
    store: s3GateStore(s3, bucket, () => remaining()),
    invoker: lambdaInvoker(lambda, targetFunction),
    deployments,
    clock: { now: () => Date.now() },
    log: (line) => process.stdout.write(`${line}\n`),
    // Unref'd: the watchdog never keeps the process alive on its own.
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()),
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

/** The evaluator's ports (RegressionGate with `evaluation`): Bedrock Converse and the live evaluation section. */
function evaluationPorts(service: string, need: (k: string) => string): GateEvaluationPorts {
  let settings: GateEvaluationSettings;
  try {
    settings = JSON.parse(need(GATE_EVALUATION_ENV.SETTINGS)) as GateEvaluationSettings;
  } catch (e) {
    throw new Error(`environment variable ${GATE_EVALUATION_ENV.SETTINGS} is not JSON (${(e as Error).message}); it is set by RegressionGate`);
  }
  checkGateEvaluationSettings(settings, GATE_EVALUATION_ENV.SETTINGS);
  // Throttling is retried by the evaluator's own backoff (one SDK attempt per call).
  const bedrock = logFailures(new BedrockRuntimeClient(deadline(60_000, { maxAttempts: 1 })));
  const live = liveEvaluations(logFailures(new AppConfigDataClient(deadline(5_000))), {
    [service]: {
      application: need(GATE_EVALUATION_ENV.APPLICATION),
      environment: need(GATE_EVALUATION_ENV.LIVE_ENVIRONMENT),
      profile: need(GATE_EVALUATION_ENV.PROFILE),
      functionName: '',
      liveAlias: '',
    },
  });
  return {
    evaluator: { model: bedrockModel(bedrock, 30_000), sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms).unref()), random: Math.random },
    liveEvaluation: () => live(service),
    modelId: need(GATE_EVALUATION_ENV.MODEL_ID),
    settings,
  };
}

let setup: ReturnType<typeof init> | undefined;
let setupError: Error | undefined;
try {
  setup = init();
} catch (e) {
  setupError = e as Error;
}

/** CodeDeploy's BeforeAllowTraffic hook event, or a ConfigGateRequest (synchronous invoke from the config plane). */
export async function handler(event: unknown, context: { getRemainingTimeInMillis(): number }) {
  const answerBy = Date.now() + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;
  remaining = () => answerBy - Date.now();
  if (!setup) {
    // Misconfigured: still answer a waiting deployment (Failed) rather than stall it for an hour.
    console.error(JSON.stringify({ level: 'ERROR', message: 'gate misconfigured', error: setupError?.message }));
    if (isHookEvent(event)) await deployments.answer(event.DeploymentId, event.LifecycleEventHookExecutionId, 'Failed');
    throw setupError;
  }
  const { ports, ...rest } = setup;
  const options = { ...rest, answerBy };
  if (isHookEvent(event)) {
    const r = await runCodeHook(event, ports, options);
    return { status: r.status, summary: r.report?.summary };
  }
  if (isConfigGateRequest(event)) return runConfigGate(event, ports, options);
  throw new Error(
    'the gate takes a CodeDeploy lifecycle hook event (DeploymentId, LifecycleEventHookExecutionId) or a ConfigGateRequest (kind "ai-release.config-gate")',
  );
}
