import type { Outcome } from './config-deployer';

/** "The total size of the response body can't exceed 4096 bytes" (CloudFormation User Guide, custom resource response objects). */
export const RESPONSE_MAX_BYTES = 4096;

/**
 * The body sent to CloudFormation's response URL. The reason is what `cdk deploy` prints for a failed resource (the
 * gate's one-line summary on a failing gate); it is cut, by bytes not characters (a summary may be multi-byte), so
 * the whole body fits the limit, and a cut reason says so.
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
  const room = RESPONSE_MAX_BYTES - Buffer.byteLength(body('')) - 64;
  const marker = ' … (cut; the full reason is in the deployer log)';
  // The longest prefix (whole code points) whose JSON-escaped form fits.
  const points = Array.from(reason);
  const fits = (n: number) => Buffer.byteLength(JSON.stringify(points.slice(0, n).join('') + marker)) - 2 <= room;
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  const text = points.slice(0, lo).join('') + marker;
  return body(text);
}
