/**
 * One subscription filter per service log group, two record kinds: the filter on a service's log group matches failure
 * records and (when the service is evaluated) evaluation samples, and delivers both to the snapshot function. This
 * module splits one CloudWatch Logs delivery by kind: failure records stay with the snapshot (`snapshotData`),
 * evaluation samples are forwarded, as CloudWatch Logs deliveries of their own (same log group, stream, owner and event
 * ids), to the evaluator. CloudWatch Logs allows 2 subscription filters per log group; the library takes one, so the
 * other stays free for the user's own (a log shipper, a SIEM).
 *
 * Pure: no AWS SDK; the forward is a port (the handler binds it to an asynchronous Lambda Invoke).
 */
import { gzipSync } from 'node:zlib';
import { FAILURE_RECORD_TYPE } from '../shared/contract';
import { EVALUATION_SAMPLE_TYPE } from '../shared/evaluation';
import { type CloudWatchLogsEvent, extractRecord, type LogsData } from './snapshot';

/**
 * The largest forwarded event, in bytes of its JSON. The Lambda API reference (Invoke) gives 1 MB for an asynchronous
 * payload today; it was 256 KB (InvokeAsync still states that), so forwards stay under 256 KB with room for the
 * `{"awslogs":{"data":"…"}}` envelope, wherever the function runs. A larger set of samples goes in several events.
 */
export const MAX_FORWARD_BYTES = 250_000;

/** Which kind a log line is: by its record's `type` (the runtime's JSON line, plain or wrapped by Lambda's JSON log format). */
export function recordKind(message: string): 'failure' | 'sample' | 'other' {
  const type = (extractRecord(message) as { type?: unknown } | undefined)?.type;
  if (type === EVALUATION_SAMPLE_TYPE) return 'sample';
  if (type === FAILURE_RECORD_TYPE) return 'failure';
  return 'other';
}

/**
 * Splits one decoded delivery: evaluation samples to `samples`, everything else to `failures` (a line that is neither
 * goes to the snapshot, which rejects it with the reason, as it always did). Order within each part is kept, so each
 * part's first event id (the snapshot's delivery key) is the same on every re-delivery of the batch.
 */
export function splitDelivery(data: LogsData): { readonly failures: LogsData; readonly samples: LogsData } {
  const failures: LogsData['logEvents'][number][] = [];
  const samples: LogsData['logEvents'][number][] = [];
  for (const e of data.logEvents) {
    let kind: ReturnType<typeof recordKind> = 'other';
    try {
      kind = typeof e?.message === 'string' ? recordKind(e.message) : 'other';
    } catch {
      kind = 'other';
    }
    (kind === 'sample' ? samples : failures).push(e);
  }
  return { failures: { ...data, logEvents: failures }, samples: { ...data, logEvents: samples } };
}

/** A delivery as CloudWatch Logs sends it to Lambda: `{ awslogs: { data: base64(gzip(JSON)) } }`. */
export function encodeDelivery(data: LogsData): CloudWatchLogsEvent {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data), 'utf8')).toString('base64') } };
}

/**
 * The deliveries to forward for `data`'s events: one event when it fits `maxBytes`, else halves until each does (a
 * single event larger than that is forwarded alone; CloudWatch Logs delivered it in an event no larger).
 */
export function forwardEvents(data: LogsData, maxBytes = MAX_FORWARD_BYTES): CloudWatchLogsEvent[] {
  if (data.logEvents.length === 0) return [];
  const event = encodeDelivery(data);
  if (event.awslogs.data.length + 32 <= maxBytes || data.logEvents.length === 1) return [event];
  const half = Math.ceil(data.logEvents.length / 2);
  return [
    ...forwardEvents({ ...data, logEvents: data.logEvents.slice(0, half) }, maxBytes),
    ...forwardEvents({ ...data, logEvents: data.logEvents.slice(half) }, maxBytes),
  ];
}

export interface DispatchPorts<T> {
  /**
   * Hands evaluation samples to the evaluator (an asynchronous invoke: it resolves when Lambda has queued the event).
   * Undefined when no service of the platform is evaluated: samples are then dropped, and counted.
   */
  readonly forwardSamples?: (event: CloudWatchLogsEvent) => Promise<void>;
  /** Stores the failure records (the snapshot). Called with the delivery's failure part, also when it is empty. */
  readonly snapshot: (failures: LogsData) => Promise<T>;
}

export interface DispatchOutcome<T> {
  /** Evaluation samples in the delivery. */
  readonly samples: number;
  /** Events forwarded to the evaluator (0 when there were no samples, or nowhere to send them). */
  readonly forwardedEvents: number;
  /** Samples dropped because no evaluator is configured. */
  readonly droppedSamples: number;
  readonly snapshot: T;
}

/**
 * One delivery: forward the samples first, then store the failures. A failed forward fails the invocation before
 * anything is stored, so Lambda retries the whole delivery; both sides are idempotent on a repeat (the snapshot by its
 * delivery key, the evaluator by each sample's result object), so a retried or repeated delivery changes nothing twice.
 */
export async function dispatch<T>(data: LogsData, ports: DispatchPorts<T>): Promise<DispatchOutcome<T>> {
  if (data.messageType === 'CONTROL_MESSAGE' || !Array.isArray(data.logEvents))
    return { samples: 0, forwardedEvents: 0, droppedSamples: 0, snapshot: await ports.snapshot(data) };
  const { failures, samples } = splitDelivery(data);
  let forwardedEvents = 0;
  let droppedSamples = 0;
  if (samples.logEvents.length > 0) {
    if (ports.forwardSamples) {
      for (const event of forwardEvents(samples)) {
        await ports.forwardSamples(event);
        forwardedEvents++;
      }
    } else droppedSamples = samples.logEvents.length;
  }
  return { samples: samples.logEvents.length, forwardedEvents, droppedSamples, snapshot: await ports.snapshot(failures) };
}
