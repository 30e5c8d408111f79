import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudWatchLogsEvent } from './snapshot';

/**
 * The forward port over Lambda: an asynchronous Invoke (InvocationType Event) of the evaluator with a CloudWatch Logs
 * delivery of evaluation samples. Lambda answers 202 once the event is queued; the evaluator's own asynchronous
 * settings (retries, maximum event age, on-failure queue) then apply to it as they did when CloudWatch Logs invoked it.
 */
export function lambdaForward(client: LambdaClient, functionName: string): (event: CloudWatchLogsEvent) => Promise<void> {
  return async (event) => {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }));
    if (out.StatusCode !== 202) throw new Error(`Invoke ${functionName} (Event) answered ${out.StatusCode}, not 202: the evaluation samples were not queued`);
  };
}
