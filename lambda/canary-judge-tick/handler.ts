/**
 * The canary judge's AT_DEPLOYMENT_TICK function (issue 15-A5): one per platform, invoked synchronously by AppConfig
 * at each tick of a config rollout on any live environment the tick extension is associated with. It loads only the
 * S3 client and lambda/canary-judge/tick.ts (a small bundle, so a cold start answers well inside AppConfig's few
 * seconds), reads the rollout's stored verdict and answers ROLL_BACK on a regression, CONTINUE otherwise: on every
 * other path too (a slow read, no record, an event that is not a tick, its own error). It never throws.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { CANARY_JUDGE_ENV, LEARNING_ENV } from '../shared/contract';
import { s3RecordReader } from './record-reader';
import { runConfigTick, TICK_BUDGET_MS, type TickResponse } from '../canary-judge/tick';

const bucket = process.env[LEARNING_ENV.BUCKET];
// One GetObject per tick: no SDK retries beyond the budget (the tick answers CONTINUE when the read is late).
const state = bucket ? s3RecordReader(new S3Client({ maxAttempts: 2 }), bucket) : undefined;
/** Set when the function serves one service only; the association's `service` parameter wins. */
const service = process.env[CANARY_JUDGE_ENV.SERVICE];
const log = (message: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ message, ...extra }));

interface Context {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: unknown, context?: Context): Promise<TickResponse> {
  if (!state) {
    log(`canary judge: ${LEARNING_ENV.BUCKET} is not set (the function is made by CanaryJudge); the rollout continues`);
    return { Directive: 'CONTINUE' };
  }
  const remaining = context?.getRemainingTimeInMillis?.() ?? TICK_BUDGET_MS + 500;
  const controller = new AbortController();
  const ports = { state: { load: (key: string) => state.load(key, controller.signal) }, log };
  try {
    const response = await runConfigTick(event, ports, { ...(service ? { service } : {}) }, Math.min(TICK_BUDGET_MS, Math.max(0, remaining - 500)));
    log('canary judge: config tick', { deploymentNumber: (event as { DeploymentNumber?: unknown } | null)?.DeploymentNumber, directive: response.Directive });
    return response;
  } finally {
    // A read still in flight after the answer is abandoned, not left to hold the invocation.
    controller.abort();
  }
}
