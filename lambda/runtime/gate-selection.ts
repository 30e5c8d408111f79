/**
 * Which config an invocation runs with: the live release environment, or — only when invoked through the `gate`
 * alias — the candidate environment the config plane deploys a new version to before its live rollout. Pure: no I/O.
 *
 * The qualifier comes from `context.invokedFunctionArn`, "the ARN used to invoke this function. It can be a function
 * ARN or an alias ARN" (Lambda Developer Guide, "AWS Lambda context object in Node.js"). An alias and `live` share
 * execution environments when they point at the same version, so the choice is made per invocation, and each
 * environment gets its own runtime (own cache, own last good config): a gate replay never serves the live config,
 * and a live request never the candidate, even from a warm cache.
 */
import { type FailureRecord, GATE_ALIAS_NAME, GATE_REPLAY_FAILURE_TYPE, type VersionTuple } from '../shared/contract';
import type { AiHandler, AiRuntime, InvocationContext, InvocationMeasurements, TelemetryPort } from './ai-runtime';

/** The qualifier of an invoked function ARN (`arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`), if any. */
export function qualifierOf(invokedFunctionArn: string | undefined): string | undefined {
  if (typeof invokedFunctionArn !== 'string') return undefined;
  const parts = invokedFunctionArn.split(':');
  // 7 parts: unqualified; 8: qualified by a version or an alias.
  return parts.length === 8 && parts[5] === 'function' ? parts[7] : undefined;
}

/**
 * Whether an invocation through this qualifier may be a regression gate replay (its ClientContext honoured): a version
 * number (the code plane's gate invokes the new version, lambda/gate/hook.ts) or the `gate` alias (the config plane).
 * Never the callers' `live` alias, `$LATEST` or an unqualified ARN: a caller who may invoke `live` could otherwise send
 * the gate's ClientContext and have its requests neither measured nor recorded, unseen by the alarms and the judge.
 */
export function gateReplayAllowed(qualifier: string | undefined): boolean {
  return qualifier === GATE_ALIAS_NAME || (qualifier !== undefined && /^[1-9][0-9]*$/.test(qualifier));
}

/** True only for an invocation through the `gate` alias. */
export function invokedThroughGate(context: InvocationContext | undefined): boolean {
  return qualifierOf(context?.invokedFunctionArn) === GATE_ALIAS_NAME;
}

/**
 * Dispatches each invocation to the live runtime or, through the `gate` alias, to the candidate runtime. Has the
 * runtime's public surface (`handler`, `invoke`), so a service's code does not change.
 */
export class GateSelectingRuntime<I, O> {
  private candidateRuntime?: AiRuntime<I, O>;

  /** `candidate` is built on the first invocation through the gate alias: live traffic never pays for it. */
  constructor(
    /** The live runtime, or an AssigningRuntime choosing between live and the assigned candidate. */
    public readonly live: Pick<AiRuntime<I, O>, 'invoke'>,
    private readonly buildCandidate: () => AiRuntime<I, O>,
  ) {}

  public get candidate(): AiRuntime<I, O> {
    this.candidateRuntime ??= this.buildCandidate();
    return this.candidateRuntime;
  }

  public handler(fn: AiHandler<I, O>): (input: I, context?: InvocationContext) => Promise<O> {
    return (input, context) => this.invoke(fn, input, context);
  }

  public invoke(fn: AiHandler<I, O>, input: I, context: InvocationContext = {}): Promise<O> {
    return (invokedThroughGate(context) ? this.candidate : this.live).invoke(fn, input, context);
  }
}

/**
 * Telemetry of gate replays: the same measurements under the Service dimension `<service>#gate` (the live alarms,
 * which filter on `Service=<service>`, never see them), and failure records under GATE_REPLAY_FAILURE_TYPE (the
 * snapshot subscription filter, `$.type = "ai-release.failure"`, never collects them).
 */
export class GateReplayTelemetry implements TelemetryPort {
  constructor(
    private readonly inner: TelemetryPort,
    private readonly log: (line: Record<string, unknown>) => void,
  ) {}

  public invocation(tuple: VersionTuple, requestId: string, m: InvocationMeasurements): void {
    this.inner.invocation(tuple, requestId, m);
  }

  public failure(record: FailureRecord): void {
    // Powertools owns the `service` key of a log line (as in PowertoolsTelemetry.failure).
    const { type: _type, service: _service, ...rest } = record;
    this.log({ message: `gate replay failure: ${record.kinds.join(', ')}`, ...rest, type: GATE_REPLAY_FAILURE_TYPE });
  }

  public warn(message: string, extra?: Record<string, unknown>): void {
    this.inner.warn(message, extra);
  }

  public stamp(tuple: VersionTuple, requestId: string): void {
    this.inner.stamp(tuple, requestId);
  }
}
