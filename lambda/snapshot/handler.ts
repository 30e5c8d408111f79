import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { redact } from '../runtime/redact';
import { LEARNING_ENV } from '../shared/contract';
import { deadline, logFailures } from '../shared/sdk-deadline';
import { dispatch } from './dispatch';
import { lambdaForward } from './lambda-forward';
import { s3Store } from './s3-store';
import { type CloudWatchLogsEvent, decodeDelivery, SNAPSHOT_ENV, snapshotData } from './snapshot';
import { withRetries } from './store';

// One retry policy (withRetries: backoff with full jitter), not the SDK's stacked under it.
const client = logFailures(new S3Client(deadline(10_000, { maxAttempts: 1 })));
const bucket = process.env[LEARNING_ENV.BUCKET];
if (!bucket) throw new Error(`environment variable ${LEARNING_ENV.BUCKET} is not set; the snapshot function is created by RegressionStore`);
const expiryDays = Number(process.env[SNAPSHOT_ENV.CANDIDATE_EXPIRY_DAYS] ?? '90');
const raw = s3Store(client, bucket);
// Evaluation samples share the service log group's one subscription filter: they are forwarded to the evaluator.
const evaluator = process.env[SNAPSHOT_ENV.EVALUATOR_FUNCTION];
const forwardSamples = evaluator ? lambdaForward(logFailures(new LambdaClient(deadline(5_000, { maxAttempts: 3 }))), evaluator) : undefined;

interface Context {
  getRemainingTimeInMillis(): number;
}

/**
 * Invoked asynchronously by CloudWatch Logs. Any error fails the invocation: Lambda retries it (twice), then sends the
 * event, intact, to the on-failure destination. Nothing is acknowledged that was not stored (or, for evaluation
 * samples, queued for the evaluator).
 */
export async function handler(event: CloudWatchLogsEvent, context: Context) {
  // Give up retrying 3 s before Lambda would kill the invocation, so the failure is an error with a message.
  const remainingMs = () => context.getRemainingTimeInMillis() - 3000;
  const store = withRetries(raw, { remainingMs });
  const out = await dispatch(decodeDelivery(event), {
    forwardSamples,
    snapshot: (failures) => snapshotData(failures, { store, redact, candidateExpiryDays: expiryDays, remainingMs }),
  });
  const outcome = out.snapshot;
  console.log(
    JSON.stringify({
      message: 'snapshot stored',
      status: outcome.status,
      deliveryKey: outcome.deliveryKey,
      logGroup: outcome.logGroup,
      events: outcome.events,
      rejected: outcome.rejected.length,
      rejectedReasons: [...new Set(outcome.rejected.map((r) => r.reason))].slice(0, 5),
      services: outcome.services,
      samples: out.samples,
      forwardedEvents: out.forwardedEvents,
      ...(out.droppedSamples > 0
        ? { droppedSamples: out.droppedSamples, droppedReason: `${SNAPSHOT_ENV.EVALUATOR_FUNCTION} is not set: no service of the platform is evaluated` }
        : {}),
      s3Calls: store.stats.calls,
      s3Retries: store.stats.retries,
    }),
  );
  return { status: outcome.status, deliveryKey: outcome.deliveryKey, forwardedEvents: out.forwardedEvents };
}
