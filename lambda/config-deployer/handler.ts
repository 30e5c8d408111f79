import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { appConfigPort } from './appconfig-port';
import { type CustomResourceEvent, handle, type Outcome } from './config-deployer';
import { lambdaGate } from './gate-port';
import { responseBody } from './response';
import { lambdaReviewer } from './review-port';
import { deadline, logFailures } from '../shared/sdk-deadline';

const client = logFailures(new AppConfigClient(deadline(10_000)));
// The gate runs up to its own timeout (minutes) on a synchronous invoke: no SDK retry of a long call that timed out
// on the socket would help, and a retry would replay every case again.
const lambdaClient = logFailures(new LambdaClient(deadline(14 * 60_000, { maxAttempts: 1 })));
// Asking for a review is a quick asynchronous invoke: a short timeout, so a slow answer never delays CloudFormation's.
const reviewClient = logFailures(new LambdaClient(deadline(10_000, { maxAttempts: 2 })));
const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
/** Time kept back to answer CloudFormation before Lambda's own timeout. */
const ANSWER_MARGIN_MS = 30_000;

interface Event extends CustomResourceEvent {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/**
 * A custom-resource handler that always answers: CloudFormation waits up to an hour for a silent one. It never
 * throws (an asynchronous retry would start a second deployment); asynchronous retries are also off.
 */
export async function handler(event: Event, context: { getRemainingTimeInMillis(): number }): Promise<void> {
  let outcome: Outcome;
  try {
    const port = appConfigPort(client, event.ResourceProperties.Application);
    const { GateFunction: gateFunction, GateTimeoutSeconds: gateSeconds, ReviewFunction: reviewFunction } = event.ResourceProperties;
    const gateTimeoutMs = gateSeconds && /^\d+$/.test(gateSeconds) ? Number(gateSeconds) * 1000 : undefined;
    outcome = await handle(event, port, clock, {
      budgetMs: context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS,
      ...(gateFunction ? { invokeGate: lambdaGate(lambdaClient, gateFunction, gateTimeoutMs) } : {}),
      ...(reviewFunction ? { askReview: lambdaReviewer(reviewClient, reviewFunction) } : {}),
    });
  } catch (e) {
    const physicalResourceId = event.PhysicalResourceId ?? event.LogicalResourceId;
    outcome = {
      status: 'FAILED',
      physicalResourceId,
      reason: `config deployment failed: ${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`,
    };
  }
  console.log(JSON.stringify({ message: 'config deployment', requestType: event.RequestType, ...outcome }));
  const body = responseBody(event, outcome);
  // The response URL is a presigned S3 URL: PUT with no content type.
  const res = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!res.ok) console.error(JSON.stringify({ message: 'CloudFormation response refused', status: res.status }));
}
