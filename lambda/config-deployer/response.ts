import type { Outcome } from './config-deployer';

/** "The total size of the response body can't exceed 4096 bytes" (CloudFormation User Guide, custom resource response objects). */
export const RESPONSE_MAX_BYTES = 4096;

const MARKER = ' … (cut; the full reason is in the deployer log)';

/**
 * The longest prefix of `reason` (whole code points) whose JSON-escaped form, with the cut marker, takes at most
 * `maxBytes`; the reason itself when it fits. By bytes, not characters: a gate summary may be multi-byte.
 */
export function cutReason(reason: string, maxBytes: number): string {
  const size = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;
  if (size(reason) <= maxBytes) return reason;
  const points = Array.from(reason);
  const fits = (n: number) => size(points.slice(0, n).join('') + MARKER) <= maxBytes;
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return points.slice(0, lo).join('') + MARKER;
}

/**
 * The body of an answer to CloudFormation's response URL for one Outcome. The reason is what `cdk deploy` prints for
 * a failed resource (the gate's one-line summary on a failing gate); it is cut so the whole body fits the limit, and
 * a cut reason says so.
 */
export function responseBody(event: { readonly StackId: string; readonly RequestId: string; readonly LogicalResourceId: string }, outcome: Outcome): string {
  const body = (reason: string) =>
    JSON.stringify({
      Status: outcome.status,
      Reason: reason,
      PhysicalResourceId: outcome.physicalResourceId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: outcome.data ?? {},
    });
  const reason = outcome.reason ?? 'OK';
  const full = body(reason);
  if (Buffer.byteLength(full) <= RESPONSE_MAX_BYTES) return full;
  return body(cutReason(reason, RESPONSE_MAX_BYTES - Buffer.byteLength(body('')) - 64));
}
