import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ConfigGateRequest, GateReport } from '../shared/contract';
import type { InvokeGate } from './config-deployer';

/**
 * The gate port over Lambda Invoke (RequestResponse: the report is the answer). A function error (`FunctionError`
 * set, the payload is the error) or a payload that is not JSON rejects, and the deployer fails the release with it.
 */
/** How long before the deployer stops waiting the gate must have answered, milliseconds. */
export const ANSWER_MARGIN_MS = 3000;

export function lambdaGate(client: LambdaClient, functionName: string, timeoutMs?: number): InvokeGate {
  return async (request: ConfigGateRequest): Promise<GateReport> => {
    // The gate's share of the deployer's budget: a gate that answers later is not waited for (its report, if it
    // writes one, stays in the store; this release has failed by then).
    const signal = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
    // Tell the gate when its answer is still of use (less a margin for the answer's trip back), so it stops in time.
    const sent: ConfigGateRequest = timeoutMs !== undefined ? { ...request, answerBy: Date.now() + timeoutMs - ANSWER_MARGIN_MS } : request;
    const out = await client
      .send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(sent)) }),
        signal ? { abortSignal: signal } : {},
      )
      .catch((e: unknown) => {
        if (signal?.aborted) throw new Error(`no answer within ${Math.round(timeoutMs! / 1000)} s, the gate's share of the config plane's time budget`);
        throw e;
      });
    return readInvokeAnswer(out, 'the gate function') as GateReport;
  };
}

/**
 * A RequestResponse invoke's answer as JSON: a function error (`FunctionError` set, the payload is Lambda's error
 * object) rejects with `<who> failed (Unhandled): <errorType>: <errorMessage>`, a payload that is not JSON rejects too.
 */
export function readInvokeAnswer(out: Pick<InvokeCommandOutput, 'Payload' | 'FunctionError'>, who: string): unknown {
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    let message = text;
    try {
      const e = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      message = `${e.errorType ?? 'Error'}: ${e.errorMessage ?? text}`;
    } catch {
      // not JSON: keep the raw text
    }
    throw new Error(`${who} failed (${out.FunctionError}): ${message.slice(0, 500)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${who} answered with something that is not JSON: ${text.slice(0, 200)}`);
  }
}
