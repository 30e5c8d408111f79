import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { s3MarkerStore } from '../shared/s3-marker-store';
import { appConfigPort, hostedVersionsPort } from './appconfig-port';
import { ConfigDeploymentFailed, type IsCompleteAnswer, isComplete, type OnEventAnswer, onEvent, PHASE_KEY, type ProviderEvent } from './config-deployer';
import { lambdaGate } from './gate-port';
import { cutReason } from './response';
import { lambdaReviewer } from './review-port';
import { lambdaShareControl } from './share-port';
import { deadline, logFailures } from '../shared/sdk-deadline';
import { type CleanupEvent, cleanUp, cleanupApplication, VERSION_CLEANUP_RESOURCE_TYPE } from './version-cleanup';

const client = logFailures(new AppConfigClient(deadline(10_000)));
// The gate runs up to its own timeout (minutes) on a synchronous invoke: no SDK retry of a long call that timed out
// on the socket would help, and a retry would replay every case again.
const lambdaClient = logFailures(new LambdaClient(deadline(14 * 60_000, { maxAttempts: 1 })));
// Asking for a review is a quick asynchronous invoke: a short timeout, so a slow answer never delays CloudFormation's.
const reviewClient = logFailures(new LambdaClient(deadline(10_000, { maxAttempts: 2 })));
const s3 = logFailures(new S3Client(deadline(5_000)));
// The share controller answers within its 60 s timeout; a throttled start (it runs one look at a time) is retried by
// the SDK and then by the deployer; a repeated start is a no-op at the controller (its request id).
const controllerClient = logFailures(new LambdaClient(deadline(70_000, { maxAttempts: 3 })));
const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
/** Time kept back to answer the framework before Lambda's own timeout. */
const ANSWER_MARGIN_MS = 30_000;
/** The framework's queryInterval (lib/rollout/config-deployment.ts): isComplete stops a rollout that cannot end before the next ask. */
const QUERY_INTERVAL_MS = 15_000;
/**
 * The framework answers FAILED with the error's message and trace (aws-cdk-lib custom-resources framework.js), and the
 * whole answer must fit CloudFormation's 4096 bytes: the message is cut to this, the trace kept to one line.
 */
const REASON_MAX_BYTES = 2500;

interface Event extends ProviderEvent {
  readonly ResourceType?: string;
}

/**
 * The user handler of the config deployer's Provider framework, for both its roles: onEvent (a CloudFormation
 * request) and isComplete (the same request with onEvent's answer in `Data`, marked with PHASE_KEY). A failure is
 * thrown: the framework answers FAILED with the message.
 */
export async function handler(event: Event, context: { getRemainingTimeInMillis(): number }): Promise<OnEventAnswer | IsCompleteAnswer> {
  const application = event.ResourceProperties?.Application;
  const phase = event.Data?.[PHASE_KEY] === 'wait' ? 'isComplete' : 'onEvent';
  try {
    const markerBucket = event.ResourceProperties?.MarkerBucket;
    const markers = markerBucket ? s3MarkerStore(s3, markerBucket) : undefined;
    if (event.ResourceType === VERSION_CLEANUP_RESOURCE_TYPE) {
      if (phase === 'isComplete') return { IsComplete: true };
      // The application the resource was made for (its physical id), as for its profiles: a replaced id is cleaned there.
      const done = await cleanUp(event as unknown as CleanupEvent, hostedVersionsPort(client, cleanupApplication(event as unknown as CleanupEvent)));
      console.log(JSON.stringify({ message: 'hosted version cleanup', requestType: event.RequestType, ...done }));
      return { PhysicalResourceId: done.physicalResourceId, Data: { [PHASE_KEY]: 'wait', Done: 'true' } };
    }
    const port = appConfigPort(client, application);
    const { ShareController: shareController, ShareBucket: shareBucket, Service: service } = event.ResourceProperties;
    const share =
      shareController && shareBucket && service
        ? lambdaShareControl(controllerClient, s3, { functionName: shareController, bucket: shareBucket, service })
        : undefined;
    if (phase === 'isComplete') {
      const answer = await isComplete(event, port, clock, { pollMs: QUERY_INTERVAL_MS, markers, ...(share ? { share } : {}) });
      if (answer.IsComplete) console.log(JSON.stringify({ message: 'config deployment complete', requestType: event.RequestType, ...answer.Data }));
      return answer;
    }
    const { GateFunction: gateFunction, GateTimeoutSeconds: gateSeconds, ReviewFunction: reviewFunction } = event.ResourceProperties;
    const gateTimeoutMs = gateSeconds && /^\d+$/.test(gateSeconds) ? Number(gateSeconds) * 1000 : undefined;
    const answer = await onEvent(event, port, clock, {
      budgetMs: context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS,
      markers,
      ...(gateFunction ? { invokeGate: lambdaGate(lambdaClient, gateFunction, gateTimeoutMs) } : {}),
      ...(reviewFunction ? { askReview: lambdaReviewer(reviewClient, reviewFunction) } : {}),
      ...(share ? { share } : {}),
    });
    console.log(JSON.stringify({ message: 'config deployment started', requestType: event.RequestType, ...answer }));
    return answer;
  } catch (e) {
    const known = e instanceof ConfigDeploymentFailed;
    const reason = known ? (e as Error).message : `config deployment failed: ${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    console.error(
      JSON.stringify({
        message: 'config deployment failed',
        phase,
        requestType: event.RequestType,
        reason,
        ...(known ? (e as ConfigDeploymentFailed).data : {}),
      }),
    );
    const error = new Error(cutReason(reason, REASON_MAX_BYTES));
    error.name = 'ConfigDeploymentFailed';
    // One line of trace: the framework appends it to the reason CloudFormation shows.
    error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}
