import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ConfigGateStoppedEvent } from '../shared/contract';
import type { AskReview } from './config-deployer';

/**
 * The review port over Lambda Invoke with InvocationType 'Event': Lambda queues the event and answers 202 at once
 * (Lambda Developer Guide, "Invoking a Lambda function asynchronously"), so the deployer never waits for the review,
 * and the reviewer's async config (retries, on-failure topic) applies as for its other events.
 */
export function lambdaReviewer(client: LambdaClient, functionName: string): AskReview {
  return async (event: ConfigGateStoppedEvent): Promise<void> => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    if (out.StatusCode !== undefined && out.StatusCode !== 202) throw new Error(`Lambda answered ${out.StatusCode} to the asynchronous invoke, expected 202`);
  };
}
