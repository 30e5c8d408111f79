import {
  type ConfigAssignment,
  DEGRADE_FLAGS,
  type DegradeFlagsDocument,
  type FailureKind,
  type FailureRecord,
  type FallbackModelConfig,
  GATE_ALIAS_NAME,
  GATE_CLIENT_CONTEXT_KEY,
  GATE_RESPONSE_KEY,
  type GateInvocationVerdict,
  LAMBDA_SYNC_RESPONSE_MAX_BYTES,
  type ModelConfig,
  type ReleaseConfigDocument,
  SHORT_HASH_LENGTH,
  type VersionTuple,
} from '../shared/contract';
import { contentHash, sha256Hex } from '../shared/canonical-json';
import { type CheckResultLine, type DeterministicCheckName, type EvaluationConfig, type EvaluationSample, pairSamplingRate } from '../shared/evaluation';
import {
  armSamplingRate,
  buildEvaluationSample,
  type CodeCanarySignal,
  codePairsAllowed,
  pairingDraw,
  sampledCanaryShare,
  samplingArm,
} from './evaluation-sampler';
import { guardrailScores } from '../shared/guardrail-scores';
import { degradeFlagsProblems, InvalidConfigError, releaseConfigProblems } from './config-check';
import { ConfigTimeoutError, ConfigUnavailableError, type FetchOptions, messageOf, raceSignal, type ServedConfig } from './config-cache';
import { type ContractValidator, ContractValidators } from './contract-validator';
import { costUsd as priceOf } from './cost';
import { deadlines } from './deadlines';
import { buildFailureRecord } from './failure-record';
import { gateReplayAllowed, qualifierOf } from './gate-selection';
import { type AfterResponse, afterResponse } from './after-response';
import { redact as defaultRedactor, type Redactor } from './redact';
import { checkDrawn, checkResultLine, runtimeChecksOf } from './runtime-checks';

/** Port: where the two configs of this service come from (a ConfigCache over the extension or data API). */
export interface ConfigPort {
  /** `options.signal` fires when the invocation stops waiting; the port should stop its work then. */
  get(profile: string, options?: FetchOptions): Promise<ServedConfig>;
  /** The config when the port can serve it now without I/O (a fresh cache entry); lets the hot path skip the deadline. */
  fresh?(profile: string): ServedConfig | undefined;
}

/** What one invocation measured, as metrics. */
export interface InvocationMeasurements {
  readonly error: boolean;
  readonly latencyMs: number;
  readonly costUsd: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly qualityScore?: number;
  readonly safetyViolation: boolean;
  readonly contractViolation: boolean;
  readonly degraded: boolean;
  /**
   * A hash of the service and the input as sent: retries of one input share it, so the canary judge counts their
   * failures once. (Not the regression case id, which the snapshot computes from the redacted, normalized input.)
   */
  readonly caseId?: string;
}

/** Port: logs and metrics. The Powertools adapter writes EMF and JSON log lines to stdout. */
export interface TelemetryPort {
  /**
   * One EMF document per invocation, dimensioned by service and by service + version. `assignment`: the config
   * canary arm (assigned config canaries only), written as metadata, never as a dimension.
   */
  invocation(tuple: VersionTuple, requestId: string, m: InvocationMeasurements, assignment?: ConfigAssignment): void;
  failure(record: FailureRecord): void;
  /** One evaluation sample log line (the evaluator's subscription matches its `type`). */
  sample?(sample: EvaluationSample): void;
  /** One check-result line: the runtime's deterministic check outcomes of one answer (runtime-checks.ts). */
  checks?(line: CheckResultLine): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  /** Stamps the tuple (and the config canary arm, when assigned) on every later log line of this invocation. */
  stamp(tuple: VersionTuple, requestId: string, assignment?: ConfigAssignment): void;
}

/** The degrade switches as the handler sees them. */
export interface DegradeState {
  readonly useFallbackModel: boolean;
  readonly disableTools: boolean;
  readonly disableRetrieval: boolean;
  /** The message to serve when the static-answer switch is on. */
  readonly staticAnswer?: string;
  /** True when any switch is on. */
  readonly active: boolean;
}

/** What the service's handler gets besides its input. */
export interface AiContext {
  readonly requestId: string;
  readonly config: ReleaseConfigDocument;
  /** The model to call: the primary, or the fallback when `useFallbackModel` is on. */
  readonly model: FallbackModelConfig & Partial<Pick<ModelConfig, 'guardrail'>>;
  readonly degrade: DegradeState;
  readonly tuple: VersionTuple;
  /** Milliseconds left before the runtime gives up on this invocation. */
  readonly remainingMs: () => number;
  /**
   * Fires at the invocation's deadline (its reason is the AiTimeoutError). Pass it to model and tool calls
   * (`client.send(command, { abortSignal: ctx.signal })`) so they stop instead of running on after the answer.
   */
  readonly signal: AbortSignal;
  /** The config canary arm this invocation runs on, when the service's config canary is assigned (ConfigShare). */
  readonly assignment?: ConfigAssignment;
}

/** What the service's handler returns. */
export interface AiResult<O> {
  readonly output: O;
  /**
   * Token usage of the model call(s); the model id decides which price applies (primary or fallback). Prompt-cache
   * reads and writes (Converse `usage.cacheReadInputTokens` / `cacheWriteInputTokens`) are priced at the model's
   * cache prices.
   */
  readonly usage?: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly cacheReadInputTokens?: number;
    readonly cacheWriteInputTokens?: number;
    readonly modelId?: string;
  };
  /** The service's own quality score of this answer, 0..1. */
  readonly quality?: number;
  /** Set when a guardrail intervened or the service judged the answer unsafe. */
  readonly safety?: { readonly violated: boolean; readonly reasons?: readonly string[] };
  /**
   * Set when the service knows its answer breaks its contract although the output may still validate: a truncated
   * answer (`max_tokens`), a tool loop that ran out of turns. Counted and recorded like an output-contract failure.
   */
  readonly contract?: { readonly violated: boolean; readonly reasons?: readonly string[] };
  /** Set when the service degraded on its own (e.g. retrieval failed and it answered without). */
  readonly degraded?: boolean;
  /**
   * What the evaluator needs of this answer, when the release config has an evaluation section: the answer text,
   * the passages it was given (their text is hashed, never logged), what it cited, which tools it called and why
   * the model stopped. Without it the sample's answer is the output's JSON and it has no passages.
   */
  readonly evaluation?: AnswerEvidence;
}

/** The evidence of one answer the evaluator scores (groundedness needs the passages, citation validity the citations). */
export interface AnswerEvidence {
  readonly answer?: string;
  readonly passages?: readonly { readonly id: string; readonly text: string }[];
  readonly citations?: readonly string[];
  readonly toolCalls?: readonly { readonly name: string }[];
  readonly stopReason?: string;
  /**
   * The Converse response's `trace.guardrail` (GuardrailTraceAssessment), when the call applied a guardrail with its
   * trace enabled: a sampled answer carries the guardrail's contextual grounding scores (groundedness and relevance,
   * 0..1) to the evaluator, which scores them beside the model (lambda/shared/guardrail-scores.ts). Only the scores
   * are kept; nothing else of the trace is logged.
   */
  readonly guardrailTrace?: unknown;
}

export type AiHandler<I, O> = (input: I, ctx: AiContext) => Promise<AiResult<O>>;

/** The part of the Lambda context the runtime reads. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  /** The ARN the invoker used: its qualifier names the alias (`gate` selects the candidate config, gate-selection.ts). */
  readonly invokedFunctionArn?: string;
  getRemainingTimeInMillis?(): number;
  /** The invoker's ClientContext, parsed (synchronous invocations only): the regression gate asks for a verdict here. */
  readonly clientContext?: { readonly custom?: Readonly<Record<string, unknown>>; readonly Custom?: Readonly<Record<string, unknown>> } | null;
}

export interface AiRuntimeOptions<I, O> {
  readonly service: string;
  readonly releaseProfile: string;
  readonly degradeProfile: string;
  readonly config: ConfigPort;
  readonly telemetry: TelemetryPort;
  /** `AWS_LAMBDA_FUNCTION_VERSION`. */
  readonly codeVersion: string;
  readonly codeHash?: string;
  readonly now?: () => number;
  readonly redactor?: Redactor;
  /** Longest input/output kept in a failure record, characters. @default 4096 */
  readonly maxFieldChars?: number;
  /** Give up this long before Lambda would kill the invocation, so the timeout is recorded. @default 500 */
  readonly timeoutMarginMs?: number;
  /** Used when there is no remaining-time information (tests, local runs). @default 30000 */
  readonly defaultTimeoutMs?: number;
  /**
   * Longest the two config reads of one invocation may take together (extension, then data API), always within
   * the invocation's own budget. @default 2000
   */
  readonly configTimeoutMs?: number;
  /**
   * The answer to serve when the config cannot be read or is not usable on a cold start (there is no last good
   * config). @default none: the invocation fails with ConfigUnavailableError (or InvalidConfigError)
   */
  readonly degradedAnswer?: (input: I, reason: Error) => O;
  /**
   * Build and write the evaluation section's lines of an answer — a drawn evaluation sample, a drawn check-result
   * line — after the response is posted, before the environment asks for the next event (after-response.ts, issue
   * 17 B): the request path only draws and keeps references. The handler must not change the objects it returned
   * (output, evaluation evidence) after it returns. createAiRuntime turns it on where that is established safe
   * (deferralSafe: the Lambda Node.js runtime, one invocation at a time). Failure records and the EMF line are
   * always written before the invocation returns.
   * @default false (the lines are built and written before the invocation returns)
   */
  readonly deferEvaluationLines?: boolean;
  /** Where deferred samples wait. @default the process's queue (`afterResponse`) */
  readonly afterResponse?: AfterResponse;
}

/** Thrown when the handler does not finish before the invocation's deadline. */
export class AiTimeoutError extends Error {
  constructor(ms: number) {
    super(`the AI handler did not finish within ${ms} ms; raise the function timeout or lower model.parameters.maxTokens`);
    this.name = 'AiTimeoutError';
  }
}

/** Thrown when the handler returns something that is not an AiResult (undefined, a bare output…). */
export class AiResultError extends Error {
  constructor(detail: string) {
    super(`${detail}; an AI handler must return { output, usage?, quality?, safety?, degraded? }`);
    this.name = 'AiResultError';
  }
}

const NO_DEGRADE: DegradeState = { useFallbackModel: false, disableTools: false, disableRetrieval: false, active: false };

type Checked =
  | { readonly ok: true; readonly config: ReleaseConfigDocument; readonly validate: ContractValidator }
  | { readonly ok: false; readonly problems: string[] };

interface Usable {
  readonly served: ServedConfig;
  readonly config: ReleaseConfigDocument;
  readonly validate: ContractValidator;
}

/**
 * The deterministic checks the runtime owns for one answer (its check-result line carries them), read by the sample
 * when it is built: cleared when the line could not be written, so the evaluator checks them instead.
 */
interface OwnedChecks {
  names?: readonly DeterministicCheckName[];
}

/** Per-invocation bookkeeping: whether the invocation was already measured, and under which tuple. */
interface Invocation {
  readonly requestId: string;
  readonly startedAt: number;
  tuple?: VersionTuple;
  measured: boolean;
  /** The runtime's own judgment, kept for a gate invocation's answer. */
  verdict?: Omit<GateInvocationVerdict, 'output'>;
  /**
   * A regression gate replay: judged and answered, but neither measured nor recorded. Its inputs are known failures
   * replayed on a version before it has traffic; counted, they would skew the version's alarms and the canary judge,
   * and written back, every gate run would refresh the very cases it replays.
   */
  gate?: boolean;
  /** The config canary arm (assigned config canaries): stamped on its log lines, EMF and failure record. */
  assignment?: ConfigAssignment;
  /** What the share document says of the code canary (AssigningRuntime); undefined: not known. */
  codeCanary?: CodeCanarySignal;
}

/**
 * Wraps an AI service handler: reads its configs, stamps the version tuple on logs and metrics, measures latency,
 * tokens, cost, quality, safety and the output contract, and writes one redacted failure record when something
 * went wrong. Whatever fails — the config, the handler, what it returns, the runtime itself — the invocation is
 * measured (Invocations, and Errors when it failed) and leaves a failure record, so the alarms see it.
 * The hot path does no I/O of its own but two log writes (EMF and, on failure, the record).
 */
export class AiRuntime<I, O> {
  private readonly now: () => number;
  private readonly redactor: Redactor;
  private readonly contracts = new ContractValidators();
  /** The boundary check of each served release config object: once per version, never per request. */
  private readonly checked = new WeakMap<object, Checked>();
  private readonly flagsChecked = new WeakMap<object, string[]>();
  private lastChecked?: { key: string; result: Checked };
  private lastGood?: Usable;
  private lastGoodFlags?: ServedConfig;
  /** The gate ClientContext arrived on a qualifier that may not carry it: warned once per execution environment. */
  private warnedGateQualifier = false;

  private readonly after: AfterResponse;

  constructor(private readonly o: AiRuntimeOptions<I, O>) {
    this.now = o.now ?? Date.now;
    this.redactor = o.redactor ?? defaultRedactor;
    this.after = o.afterResponse ?? afterResponse;
  }

  /** A Lambda handler around the service's handler. */
  public handler(fn: AiHandler<I, O>): (input: I, context?: InvocationContext) => Promise<O> {
    return (input, context) => this.invoke(fn, input, context);
  }

  /**
   * `assignment`: the config canary arm an AssigningRuntime chose for this invocation (stamped, not decided, here).
   * `codeCanary`: what its share document says of the code plane's canary (decides code-plane pair-only samples).
   */
  public async invoke(
    fn: AiHandler<I, O>,
    input: I,
    context: InvocationContext = {},
    assignment?: ConfigAssignment,
    codeCanary?: CodeCanarySignal,
  ): Promise<O> {
    // A sample of an earlier invocation still waiting (a caller that never yielded to the event loop) is written now,
    // before this invocation stamps its own request id on the logger.
    if (this.after.pending > 0) this.after.flush();
    const startedAt = this.now();
    const inv: Invocation = {
      requestId: requestIdOf(context, startedAt),
      startedAt,
      measured: false,
      gate: this.isGateReplay(context),
      assignment,
      codeCanary,
    };
    try {
      const output = await this.run(fn, input, context, inv);
      return inv.gate ? this.gateAnswer(inv, output) : output;
    } catch (e) {
      // Anything not yet measured is the runtime's own failure: it is counted and recorded like any other.
      if (!inv.measured) this.failed(inv, inv.tuple ?? this.unavailableTuple('unavailable'), 'error', input, e, ['the runtime failed before the answer']);
      throw this.forLambda(e);
    }
  }

  private async run(fn: AiHandler<I, O>, input: I, context: InvocationContext, inv: Invocation): Promise<O> {
    const { startedAt, requestId } = inv;
    const budgetMs = this.budget(context);
    const [releaseResult, flagsResult] = await this.readConfigs(Math.min(this.o.configTimeoutMs ?? 2000, budgetMs));

    // The release config: checked at the boundary; an unusable one is treated like an unreadable one.
    let release: Usable | undefined;
    let refused: InvalidConfigError | undefined;
    let unreadable: Error | undefined;
    if (releaseResult.status === 'fulfilled') {
      const served = releaseResult.value;
      const checked = this.checkRelease(served);
      if (checked.ok) {
        release = { served, config: checked.config, validate: checked.validate };
        // Only a newer answer replaces the last good one: this invocation may resume after another one has read a newer
        // version (its read of the other profile was slower). Then it serves that newer version too.
        if (!this.lastGood || !olderThan(served, this.lastGood.served)) this.lastGood = release;
        else release = this.lastGood;
        if (served.stale) this.o.telemetry.warn('serving the last good release config: refresh failed', { error: messageOf(served.error) });
      } else refused = new InvalidConfigError(this.o.releaseProfile, served.version, checked.problems);
    } else unreadable = releaseResult.reason as Error;
    if (!release) {
      if (!this.lastGood) return this.configUnavailable(input, refused ?? unreadable ?? new Error('no config'), inv);
      release = this.lastGood;
      if (unreadable) this.o.telemetry.warn('serving the last good release config: refresh failed', { error: messageOf(unreadable) });
    }

    // The degrade flags: without them the service runs undegraded: the switches are for emergencies, not a dependency.
    let flags: ServedConfig | undefined;
    if (flagsResult.status === 'fulfilled') {
      const problems = this.checkFlags(flagsResult.value.content);
      if (problems.length === 0) {
        flags = flagsResult.value;
        if (!this.lastGoodFlags || !olderThan(flags, this.lastGoodFlags)) this.lastGoodFlags = flags;
        else flags = this.lastGoodFlags;
      } else {
        flags = this.lastGoodFlags;
        this.o.telemetry.warn(`degrade flags not usable: ${flags ? 'using the last good flags' : 'running without them'}`, { problems });
      }
    } else {
      flags = this.lastGoodFlags;
      this.o.telemetry.warn(`degrade flags unavailable: ${flags ? 'using the last good flags' : 'running without them'}`, {
        error: messageOf(flagsResult.reason),
      });
    }

    const config = release.config;
    const degrade = this.degradeOf(flags?.content);
    const tuple = this.tuple(config, flags);
    inv.tuple = tuple;
    this.stamp(tuple, requestId, inv.assignment);
    const model = degrade.useFallbackModel && config.model.fallback ? config.model.fallback : config.model;
    const controller = new LazyAbort();
    const ctx: AiContext = {
      requestId,
      // A replay (gate, shadow answer) never reaches a tool that declares side effects: it is not offered to the model.
      config: inv.gate ? withoutSideEffectTools(config) : config,
      // A fresh copy per invocation, as before: a handler that changes its model object changes nothing for the next.
      model: { ...model, guardrail: config.model.guardrail },
      degrade,
      tuple,
      remainingMs: () => budgetMs - (this.now() - startedAt),
      // Made on first read: most handlers that never pass it on do not pay for an AbortController per request.
      get signal() {
        return controller.signal;
      },
    };
    // Set after the literal, not spread into it (a spread takes V8's slow path for the whole object, per request).
    if (inv.assignment) (ctx as { assignment?: ConfigAssignment }).assignment = inv.assignment;
    // A refused config served from the last good one still counts as an error: the alarm that judges the rollout
    // of the bad version must see it, or AppConfig would complete its deployment.
    const configDetails = refused ? [`config: ${refused.message} Served the last good config (${release.served.version ?? tuple.config}).`] : [];

    let result: ReadResult<O>;
    try {
      result = readResult<O>(await withDeadline(() => fn(input, ctx), budgetMs - (this.now() - startedAt), controller));
    } catch (e) {
      this.failed(inv, tuple, e instanceof AiTimeoutError ? 'timeout' : 'error', input, e, configDetails, degrade.active);
      throw e;
    }

    const latencyMs = this.now() - startedAt;
    // The input's JSON, once: the cluster key hashes it and a sampled answer's sample carries it (h8-hotpath).
    const inputText = jsonText(input);
    const { inputTokens, outputTokens } = result;
    const costUsd = priceOf(pricingFor(config.model, result.modelId ?? model.modelId), result);

    const kinds: FailureKind[] = [];
    // (Arrays copied only when there is something in them: the common answer has no problem, no contract error.)
    const details: string[] = configDetails.length > 0 || result.problems.length > 0 ? [...configDetails, ...result.problems.map((m) => `result: ${m}`)] : [];
    if (details.length > 0) kinds.push('error');
    const contractErrors = this.checkOutput(config, release.validate, result.output);
    if (result.contract?.violated) contractErrors.push(...result.contract.reasons);
    if (result.contract?.violated && result.contract.reasons.length === 0) contractErrors.push('the service reported a contract violation');
    if (contractErrors.length > 0) {
      kinds.push('contract');
      details.push(...contractErrors.map((m) => `contract: ${m}`));
    }
    if (result.safety?.violated) {
      kinds.push('safety');
      details.push(...(result.safety.reasons.length > 0 ? result.safety.reasons : ['safety violation']).map((r) => `safety: ${r}`));
    }
    const cap = config.model.maxCostPerRequestUsd;
    if (cap !== undefined && costUsd > cap) {
      kinds.push('cost');
      details.push(`cost: ${costUsd.toFixed(6)} USD is over model.maxCostPerRequestUsd ${cap}`);
    }
    const floor = config.outputContract.qualityFloor;
    if (floor !== undefined && result.quality !== undefined && result.quality < floor) {
      kinds.push('quality');
      details.push(`quality: score ${result.quality} is below outputContract.qualityFloor ${floor}`);
    }
    const measurements: InvocationMeasurements = {
      error: kinds.includes('error'),
      latencyMs,
      costUsd,
      inputTokens,
      outputTokens,
      qualityScore: result.quality,
      safetyViolation: kinds.includes('safety'),
      contractViolation: kinds.includes('contract'),
      degraded: degrade.active || result.degraded,
    };
    const caseId = this.caseIdOf(input, inputText);
    if (caseId !== undefined) (measurements as { caseId?: string }).caseId = caseId;
    if (!inv.gate) this.emit(tuple, requestId, measurements, inv.assignment);
    inv.measured = true;
    // Only a gate replay answers with the verdict (gateAnswer).
    if (inv.gate)
      inv.verdict = {
        kinds,
        details: details.slice(0, 20),
        latencyMs,
        qualityScore: result.quality,
        degraded: measurements.degraded,
        tuple,
        ...(costUsd !== undefined ? { costUsd } : {}),
        // The gate's evaluator scores the answer with the passages it was given: only in a replay's answer, never logged.
        ...(inv.gate && result.evaluation ? { evidence: result.evaluation } : {}),
      };
    if (!inv.gate && config.evaluation) {
      const owned = this.writeChecks(config.evaluation, inv, tuple, inputText, result, measurements.caseId);
      this.sampleForEvaluation(config.evaluation, inv, tuple, inputText, result, owned);
    }
    if (kinds.length > 0 && !inv.gate) {
      this.record(kinds, {
        requestId,
        startedAt,
        tuple,
        assignment: inv.assignment,
        measurements: { latencyMs, inputTokens, outputTokens, costUsd, qualityScore: result.quality },
        input,
        output: result.output,
        details,
      });
    }
    return result.output;
  }

  /**
   * A gate replay is one that asks with the ClientContext AND came through a version number or the `gate` alias
   * (gateReplayAllowed). The same ClientContext on `live` is served as live traffic, measured and recorded.
   */
  private isGateReplay(context: InvocationContext): boolean {
    if (!asksForGateVerdict(context)) return false;
    let qualifier: string | undefined;
    try {
      qualifier = qualifierOf(context?.invokedFunctionArn);
    } catch {
      qualifier = undefined;
    }
    if (gateReplayAllowed(qualifier)) return true;
    if (!this.warnedGateQualifier) {
      this.warnedGateQualifier = true;
      this.o.telemetry.warn(
        `ignored the regression gate's ClientContext on qualifier ${qualifier === undefined ? '(none)' : JSON.stringify(qualifier)}: it is honoured only through a version number or the "${GATE_ALIAS_NAME}" alias; served as live traffic (measured and recorded)`,
        { qualifier: qualifier ?? null },
      );
    }
    return false;
  }

  /**
   * The regression gate's answer: the output with the runtime's own verdict, so the gate judges the contract, safety
   * and quality exactly as live traffic is judged. An answer served without a usable config (the degraded answer)
   * is an error for the gate, whatever it says.
   */
  private gateAnswer(inv: Invocation, output: O): O {
    const verdict: GateInvocationVerdict = {
      output,
      ...(inv.verdict ?? {
        kinds: ['error'],
        details: ['no usable release config: the degraded answer was served'],
        latencyMs: this.now() - inv.startedAt,
        degraded: true,
        tuple: inv.tuple ?? this.unavailableTuple('unavailable'),
      }),
    };
    return { [GATE_RESPONSE_KEY]: verdict } as unknown as O;
  }

  /** Both configs, within one deadline for the whole read (never longer than the invocation's budget). */
  private async readConfigs(timeoutMs: number): Promise<[PromiseSettledResult<ServedConfig>, PromiseSettledResult<ServedConfig>]> {
    const release = this.o.config.fresh?.(this.o.releaseProfile);
    const flags = release && this.o.config.fresh?.(this.o.degradeProfile);
    if (release && flags)
      return [
        { status: 'fulfilled', value: release },
        { status: 'fulfilled', value: flags },
      ];
    const controller = new AbortController();
    const profiles = `${this.o.releaseProfile} and ${this.o.degradeProfile}`;
    const limit = Math.max(0, timeoutMs);
    const timer = setTimeout(() => controller.abort(new ConfigTimeoutError(profiles, limit)), limit);
    const options: FetchOptions = { signal: controller.signal };
    const read = (profile: string) => {
      try {
        return raceSignal(this.o.config.get(profile, options), controller.signal);
      } catch (e) {
        return Promise.reject(e);
      }
    };
    try {
      // Wait for both: nothing may run on after the answer (Lambda freezes the environment between invocations).
      return (await Promise.allSettled([read(this.o.releaseProfile), read(this.o.degradeProfile)])) as [
        PromiseSettledResult<ServedConfig>,
        PromiseSettledResult<ServedConfig>,
      ];
    } finally {
      clearTimeout(timer);
    }
  }

  private checkRelease(served: ServedConfig): Checked {
    const content = served.content;
    const cacheable = typeof content === 'object' && content !== null;
    let known = cacheable ? this.checked.get(content) : undefined;
    // Each refresh parses a new object; an AppConfig version is immutable, so version + content hash identify it.
    const hash = cacheable ? (content as { _release?: { contentHash?: unknown } })._release?.contentHash : undefined;
    const versionKey = served.version !== undefined && typeof hash === 'string' ? `${served.version}\n${hash}` : undefined;
    if (!known && versionKey && this.lastChecked?.key === versionKey) known = this.lastChecked.result;
    if (known) {
      if (cacheable) this.checked.set(content, known);
      return known;
    }
    let result: Checked;
    const problems = releaseConfigProblems(content);
    if (problems.length > 0) result = { ok: false, problems };
    else {
      const config = content as ReleaseConfigDocument;
      try {
        result = { ok: true, config, validate: this.contracts.get(config.outputContract.schema) };
      } catch (e) {
        result = { ok: false, problems: [`outputContract.schema does not compile: ${messageOf(e)}`] };
      }
    }
    if (cacheable) this.checked.set(content, result);
    if (versionKey) this.lastChecked = { key: versionKey, result };
    return result;
  }

  private lastDegrade?: { content: unknown; state: DegradeState };

  /**
   * The degrade state of a served flags object: read once per object (the cache serves the same one while fresh), and
   * handed out as a copy, so a handler that writes to its ctx.degrade changes nothing for the next invocation.
   */
  private degradeOf(content: unknown): DegradeState {
    if (content === undefined || content === null) return NO_DEGRADE;
    if (this.lastDegrade?.content !== content) this.lastDegrade = { content, state: readDegrade(content as DegradeFlagsDocument) };
    return { ...this.lastDegrade.state };
  }

  private checkFlags(content: unknown): string[] {
    if (typeof content !== 'object' || content === null) return degradeFlagsProblems(content);
    let problems = this.flagsChecked.get(content);
    if (!problems) {
      problems = degradeFlagsProblems(content);
      this.flagsChecked.set(content, problems);
    }
    return problems;
  }

  private configUnavailable(input: I, error: Error, inv: Invocation): O {
    const label = (error as InvalidConfigError).problems ? 'invalid' : 'unavailable';
    const tuple = this.unavailableTuple(label);
    inv.tuple = tuple;
    this.stamp(tuple, inv.requestId, inv.assignment);
    let answer: O | undefined;
    let answerError: unknown;
    if (this.o.degradedAnswer) {
      try {
        answer = this.o.degradedAnswer(input, error);
      } catch (e) {
        answerError = e;
      }
    }
    const served = this.o.degradedAnswer !== undefined && answerError === undefined;
    const details = [
      served ? 'served the degraded answer' : this.o.degradedAnswer ? `degradedAnswer threw: ${messageOf(answerError)}` : 'no degraded answer configured',
    ];
    this.failed(inv, tuple, 'error', input, error, details, served);
    if (answerError !== undefined) throw answerError;
    if (!this.o.degradedAnswer)
      throw error instanceof ConfigUnavailableError || error instanceof InvalidConfigError ? error : new ConfigUnavailableError(this.o.releaseProfile, error);
    return answer as O;
  }

  /**
   * The input's cluster key for the metrics line: one hash of the input as sent (a retry sends the same payload), on
   * the request path, so no parse or normalization. None when the input cannot be read as text.
   */
  private clusterKeyOf(input: I, text?: string): { caseId?: string } {
    const caseId = this.caseIdOf(input, text);
    return caseId === undefined ? {} : { caseId };
  }

  private caseIdOf(input: I, text?: string): string | undefined {
    try {
      return sha256Hex(`${this.o.service}\n${text ?? jsonText(input)}`).slice(0, 32);
    } catch {
      return undefined;
    }
  }

  /** Measures a failed invocation (Invocations + Errors) and writes its record. */
  private failed(inv: Invocation, tuple: VersionTuple, kind: FailureKind, input: I, error: unknown, details: string[] = [], degraded = false) {
    inv.measured = true;
    if (inv.gate) return; // see Invocation.gate
    const latencyMs = this.now() - inv.startedAt;
    this.emit(tuple, inv.requestId, { ...ZERO, error: true, latencyMs, degraded, ...this.clusterKeyOf(input) }, inv.assignment);
    this.record([kind], {
      requestId: inv.requestId,
      startedAt: inv.startedAt,
      tuple,
      assignment: inv.assignment,
      measurements: { latencyMs },
      input,
      error: errorParts(error),
      details,
    });
  }

  private checkOutput(config: ReleaseConfigDocument, validate: ContractValidator, output: unknown): string[] {
    const errors: string[] = [];
    let json: string | undefined;
    try {
      json = JSON.stringify(output);
    } catch (e) {
      errors.push(`output cannot be serialised as JSON (${messageOf(e)}); Lambda could not return it`);
    }
    const max = config.outputContract.maxBytes;
    const limit = max === undefined ? LAMBDA_SYNC_RESPONSE_MAX_BYTES : Math.min(max, LAMBDA_SYNC_RESPONSE_MAX_BYTES);
    // UTF-8 needs at most 3 bytes per UTF-16 unit: count bytes only when the text could be over a limit.
    if (json !== undefined && json.length * 3 > limit) {
      const size = Buffer.byteLength(json, 'utf8');
      if (size > LAMBDA_SYNC_RESPONSE_MAX_BYTES)
        errors.push(`output is ${size} bytes, over Lambda's ${LAMBDA_SYNC_RESPONSE_MAX_BYTES}-byte (6 MB) synchronous response limit`);
      if (max !== undefined && size > max) errors.push(`output is ${size} bytes, over outputContract.maxBytes ${max}`);
    }
    try {
      if (!validate(output)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
    } catch (e) {
      errors.push(`output could not be validated: ${messageOf(e)}`);
    }
    return errors;
  }

  /** Ports written before assignment existed see the same two-argument call as before. */
  private stamp(tuple: VersionTuple, requestId: string, assignment: ConfigAssignment | undefined) {
    if (assignment) this.o.telemetry.stamp(tuple, requestId, assignment);
    else this.o.telemetry.stamp(tuple, requestId);
  }

  private emit(tuple: VersionTuple, requestId: string, m: InvocationMeasurements, assignment: ConfigAssignment | undefined) {
    try {
      if (assignment) this.o.telemetry.invocation(tuple, requestId, m, assignment);
      else this.o.telemetry.invocation(tuple, requestId, m);
    } catch (e) {
      // Never turn an answer into an error because a metric could not be written; say so on stderr.
      console.error(JSON.stringify({ level: 'ERROR', message: `ai-release: could not write the invocation metrics: ${messageOf(e)}`, requestId }));
    }
  }

  /**
   * Writes an evaluation sample when this answer is drawn (the decision hashes the request id). Never throws, never
   * calls anything but the log: the evaluator runs off the hot path. During a config release the assignment gives the
   * arm and the share, and the canary is oversampled (issue 17 B) so both arms give comparable counts; the sample
   * records the chance that a sampled answer was the canary's, which the judge bets at. The code canary is told apart
   * by its executed version and sampled at the base rate (the runtime does not know the alias's weights); its
   * pair-only samples are drawn only on the version the share document announces, when it announces one.
   */
  private sampleForEvaluation(
    evaluation: EvaluationConfig,
    inv: Invocation,
    tuple: VersionTuple,
    inputText: string,
    result: ReadResult<O>,
    owned: OwnedChecks = {},
  ): void {
    try {
      const { arm, share } = samplingArm(inv.assignment);
      const rate = armSamplingRate(evaluation.samplingRate, arm, share);
      const codePairs = codePairsAllowed(inv.codeCanary, this.o.codeVersion, inv.startedAt);
      const draw = pairingDraw(inv.requestId, rate, pairSamplingRate(evaluation), arm, share, codePairs, pairSamplingRate(evaluation, 'config'));
      if (draw === undefined || !this.o.telemetry.sample) return;
      // What the sample is built from, read now: primitives and references (no copies). The invocation's own mutable
      // state (inv) is not read later; the answer text of an answer without evidence is the output's JSON taken now,
      // since the output goes back to the caller, whose code may change it before Lambda posts it.
      const e = result.evaluation;
      const answer = typeof e?.answer === 'string' ? e.answer : jsonText(result.output);
      const { requestId, startedAt } = inv;
      const conversationId = share !== undefined && inv.assignment ? inv.assignment.unit : undefined;
      const { inputTokens, outputTokens } = result;
      const passages = e?.passages;
      const citations = e?.citations;
      const toolCalls = e?.toolCalls;
      const stopReason = e?.stopReason;
      const guardrailTrace = e?.guardrailTrace;
      const build = () => {
        // The guardrail's contextual grounding scores, when the service handed its trace (read only for a drawn answer).
        const guardrail = guardrailTrace === undefined ? undefined : guardrailScores(guardrailTrace);
        const sample = buildEvaluationSample(
          {
            service: this.o.service,
            requestId,
            time: new Date(startedAt),
            tuple,
            functionVersion: this.o.codeVersion,
            arm,
            // The randomization unit (a conversation's keyed hash): the judge bets once per unit on the config plane.
            ...(conversationId !== undefined ? { conversationId } : {}),
            // JSON of the input: the evaluator replays it as the invocation payload of a shadow answer.
            input: inputText,
            answer,
            passages,
            citations,
            toolCalls,
            stopReason,
            inputTokens,
            outputTokens,
            // The checks the runtime owns (writeChecks): the evaluator leaves them out of a scored sample's result line.
            ...(owned.names && !draw.pairOnly ? { runtimeChecks: owned.names } : {}),
          },
          draw.rate,
          this.redactor,
          share !== undefined && !draw.pairOnly ? sampledCanaryShare(evaluation.samplingRate, share) : undefined,
          draw.pairOnly,
        );
        this.o.telemetry.sample?.(guardrail ? { ...sample, guardrail } : sample);
      };
      // Deferred: a throw is counted and logged by the queue (never the caller's: the response is posted).
      if (this.o.deferEvaluationLines) this.after.defer(build, 'the evaluation sample', { requestId });
      else build();
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'ERROR', message: `ai-release: could not write the evaluation sample: ${messageOf(e)}`, requestId: inv.requestId }),
      );
    }
  }

  /**
   * Computes the section's deterministic checks on this answer and writes its check-result line, when the check
   * sampler draws it (issue 17 A/E, h9-checks: string scans, no model call, nothing but the log). Returns the checks
   * the runtime owns under this config (whether or not this answer was drawn), for the sample. Never throws.
   */
  private writeChecks(
    evaluation: EvaluationConfig,
    inv: Invocation,
    tuple: VersionTuple,
    inputText: string,
    result: ReadResult<O>,
    caseId: string | undefined,
  ): OwnedChecks {
    const owned: OwnedChecks = {};
    try {
      const checks = runtimeChecksOf(evaluation);
      if (!checks || !this.o.telemetry.checks) return owned;
      owned.names = checks.names;
      if (!checkDrawn(inv.requestId, checks.rate)) return owned;
      // Read now, as the sample's (sampleForEvaluation): primitives and references, the answer text taken now.
      const e = result.evaluation;
      const { share } = samplingArm(inv.assignment);
      const { requestId, startedAt } = inv;
      const unit = share !== undefined && inv.assignment ? inv.assignment.unit : undefined;
      const answer = typeof e?.answer === 'string' ? e.answer : jsonText(result.output);
      const passages = e?.passages;
      const citations = e?.citations;
      const write = () => {
        try {
          this.o.telemetry.checks?.(
            checkResultLine(checks, {
              service: this.o.service,
              requestId,
              at: startedAt,
              functionVersion: this.o.codeVersion,
              config: tuple.config,
              ...(unit !== undefined ? { unit, share } : {}),
              ...(caseId !== undefined ? { caseId } : {}),
              input: inputText,
              answer,
              passages,
              citations,
            }),
          );
        } catch (err) {
          // Not written: the sample (built after this, in the same order) leaves the checks to the evaluator.
          owned.names = undefined;
          throw err;
        }
      };
      if (this.o.deferEvaluationLines) this.after.defer(write, 'the check results', { requestId });
      else write();
      return owned;
    } catch (e) {
      console.error(JSON.stringify({ level: 'ERROR', message: `ai-release: could not write the check results: ${messageOf(e)}`, requestId: inv.requestId }));
      owned.names = undefined;
      return owned;
    }
  }

  private record(kinds: FailureKind[], r: Omit<Parameters<typeof buildFailureRecord>[0], 'kinds' | 'service'>) {
    const options = { redactor: this.redactor, maxFieldChars: this.o.maxFieldChars ?? 4096 };
    let record: FailureRecord;
    try {
      record = buildFailureRecord({ ...r, kinds, service: this.o.service }, options);
    } catch {
      // An input or output that cannot be turned into text (a throwing toJSON on a null-prototype object…).
      record = buildFailureRecord(
        { ...r, input: textOf(r.input), output: r.output === undefined ? undefined : textOf(r.output), kinds, service: this.o.service },
        options,
      );
    }
    try {
      this.o.telemetry.failure(record);
    } catch (e) {
      console.error(JSON.stringify({ level: 'ERROR', message: `ai-release: could not write the failure record: ${messageOf(e)}`, requestId: r.requestId }));
    }
  }

  /**
   * What Lambda gets when the invocation fails: the same error, its message (and the message in its stack) redacted,
   * since Lambda returns it to the caller and logs it. A value that is not an Error becomes one.
   */
  private forLambda(e: unknown): Error {
    const { name, message } = errorParts(e);
    const clean = this.redactor(message);
    if (e instanceof Error) {
      try {
        const frames = typeof e.stack === 'string' ? e.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
        e.message = clean;
        e.stack = [`${name}: ${clean}`, ...frames].join('\n');
        if (e.message === clean) return e;
      } catch {
        // frozen, or a getter-only message: a fresh error below
      }
    }
    const out = new Error(clean);
    out.name = name;
    return out;
  }

  private budget(context: InvocationContext): number {
    let remaining: unknown;
    try {
      remaining = context.getRemainingTimeInMillis?.();
    } catch {
      remaining = undefined;
    }
    const total = typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : (this.o.defaultTimeoutMs ?? 30_000);
    return total - (this.o.timeoutMarginMs ?? 500);
  }

  private codeTuple() {
    return { service: this.o.service, codeVersion: this.o.codeVersion, ...(this.o.codeHash ? { codeHash: this.o.codeHash } : {}) };
  }

  private unavailableTuple(config: string): VersionTuple {
    return {
      ...this.codeTuple(),
      config,
      prompt: 'unavailable',
      model: 'unavailable',
      retrieval: 'unavailable',
      tools: 'unavailable',
      outputContract: 'unavailable',
      evaluation: 'unavailable',
      degrade: 'unavailable',
    };
  }

  private lastTuple?: { config: unknown; flags: unknown; tuple: VersionTuple };

  /** The tuple, recomputed only when the served config or flags object changes (the cache serves the same object). */
  private tuple(config: ReleaseConfigDocument, flags: ServedConfig | undefined): VersionTuple {
    if (this.lastTuple && this.lastTuple.config === config && this.lastTuple.flags === flags?.content) return this.lastTuple.tuple;
    // From the content, never from the source's version: the extension reports AppConfig's version number, the data
    // API the version label, so the same flags would be stamped two ways and their metrics split by fetch path.
    const degradeLabel = flags ? degradeLabelOf(flags.content) : 'unavailable';
    const sections = config._release?.sections ?? {};
    const label = (s: string) => {
      const l = (sections[s] as { label?: unknown } | undefined)?.label;
      return typeof l === 'string' ? l : 'none';
    };
    const tuple: VersionTuple = {
      ...this.codeTuple(),
      config: config._release?.label ?? 'unlabelled',
      prompt: label('prompt'),
      model: label('model'),
      retrieval: label('retrieval'),
      tools: label('tools'),
      outputContract: label('outputContract'),
      evaluation: label('evaluation'),
      degrade: degradeLabel,
    };
    this.lastTuple = { config, flags: flags?.content, tuple };
    return tuple;
  }
}

const ZERO: InvocationMeasurements = {
  error: false,
  latencyMs: 0,
  costUsd: 0,
  inputTokens: 0,
  outputTokens: 0,
  safetyViolation: false,
  contractViolation: false,
  degraded: false,
};

/** A handler's result, read defensively: every number is usable as a metric, every problem named. */
interface ReadResult<O> {
  readonly output: O;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
  readonly modelId?: string;
  readonly quality?: number;
  readonly safety?: { readonly violated: boolean; readonly reasons: string[] };
  readonly contract?: { readonly violated: boolean; readonly reasons: string[] };
  readonly degraded: boolean;
  readonly evaluation?: AnswerEvidence;
  /** What was wrong with the result (bad usage numbers…): counted as an error, the output is still served. */
  readonly problems: string[];
}

function readResult<O>(raw: unknown): ReadResult<O> {
  if (typeof raw !== 'object' || raw === null) throw new AiResultError(`the AI handler returned ${show(raw)}`);
  try {
    const r = raw as Record<string, unknown>;
    if (!('output' in r)) throw new AiResultError('the AI handler returned an object without an output key');
    const problems: string[] = [];
    let inputTokens = 0;
    let outputTokens = 0;
    let modelId: string | undefined;
    let cacheReadInputTokens: number | undefined;
    let cacheWriteInputTokens: number | undefined;
    const usage = r.usage;
    if (usage !== undefined) {
      if (typeof usage !== 'object' || usage === null) problems.push(`usage is ${show(usage)}; expected { inputTokens, outputTokens, modelId? }`);
      else {
        const u = usage as Record<string, unknown>;
        const count = (key: string) => {
          const v = u[key];
          if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
          problems.push(`usage.${key} is ${show(v)}; report token counts as finite numbers >= 0 (cost is unmeasured)`);
          return 0;
        };
        inputTokens = count('inputTokens');
        outputTokens = count('outputTokens');
        // Optional: only models with prompt caching report them.
        if (u.cacheReadInputTokens !== undefined) cacheReadInputTokens = count('cacheReadInputTokens');
        if (u.cacheWriteInputTokens !== undefined) cacheWriteInputTokens = count('cacheWriteInputTokens');
        if (typeof u.modelId === 'string') modelId = u.modelId;
        else if (u.modelId !== undefined) problems.push(`usage.modelId is ${show(u.modelId)}; expected the model id string`);
      }
    }
    let quality: number | undefined;
    if (r.quality !== undefined) {
      if (typeof r.quality === 'number' && Number.isFinite(r.quality) && r.quality >= 0 && r.quality <= 1) quality = r.quality;
      else problems.push(`quality is ${show(r.quality)}; expected a number from 0 to 1`);
    }
    const flag = (key: 'safety' | 'contract'): { violated: boolean; reasons: string[] } | undefined => {
      if (r[key] === undefined) return undefined;
      const s = r[key] as { violated?: unknown; reasons?: unknown } | null;
      if (typeof s !== 'object' || s === null || typeof s.violated !== 'boolean') {
        problems.push(`${key} is ${show(r[key])}; expected { violated: boolean, reasons? }`);
        return undefined;
      }
      return { violated: s.violated, reasons: Array.isArray(s.reasons) ? s.reasons.map((x) => (typeof x === 'string' ? x : messageOf(x))) : [] };
    };
    const safety = flag('safety');
    const contract = flag('contract');
    if (r.degraded !== undefined && typeof r.degraded !== 'boolean') problems.push(`degraded is ${show(r.degraded)}; expected true or false`);
    const read: { -readonly [K in keyof ReadResult<O>]: ReadResult<O>[K] } = {
      output: r.output as O,
      inputTokens,
      outputTokens,
      cacheReadInputTokens,
      cacheWriteInputTokens,
      modelId,
      quality,
      safety,
      contract,
      degraded: r.degraded === true,
      problems,
    };
    // Set after the literal, not spread into it (the spread's slow path, per request); absent when not evidence.
    const evaluation = r.evaluation;
    if (evaluation && typeof evaluation === 'object') read.evaluation = evaluation as AnswerEvidence;
    return read;
  } catch (e) {
    if (e instanceof AiResultError) throw e;
    throw new AiResultError(`the AI handler's result could not be read (${messageOf(e)})`);
  }
}

/** A value as a problem message shows it: strings quoted, NaN and -1 as such. */
function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Name and message of anything thrown, read without ever throwing. */
function errorParts(e: unknown): { name: string; message: string } {
  let name = 'Error';
  try {
    const n = (e as { name?: unknown } | null | undefined)?.name;
    if (typeof n === 'string' && n !== '') name = n;
    else if (typeof e !== 'object' || e === null || !(e instanceof Error)) name = e === null ? 'null' : `thrown ${typeof e}`;
  } catch {
    name = 'thrown value';
  }
  return { name, message: messageOf(e) };
}

function jsonText(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? textOf(v);
  } catch {
    return textOf(v);
  }
}

function textOf(v: unknown): string {
  return `[not serialisable: ${messageOf(v)}]`;
}

/** Whether the invoker asks as the regression gate (ClientContext `custom`, as the Node.js runtime passes it). */
function asksForGateVerdict(context: InvocationContext): boolean {
  try {
    const cc = context?.clientContext;
    const v = cc?.custom?.[GATE_CLIENT_CONTEXT_KEY] ?? cc?.Custom?.[GATE_CLIENT_CONTEXT_KEY];
    return v === '1' || v === true;
  } catch {
    return false;
  }
}

function requestIdOf(context: InvocationContext, startedAt: number): string {
  try {
    const id = context?.awsRequestId;
    return typeof id === 'string' && id !== '' ? id : `local-${startedAt}`;
  } catch {
    return `local-${startedAt}`;
  }
}

/**
 * The degrade flags' label in the version tuple: `degrade-<12 hex of the canonical content hash>`, the same whichever
 * path (extension or data API) served the flags, and the same for the same switch positions after a redeploy.
 */
export function degradeLabelOf(content: unknown): string {
  try {
    return `degrade-${contentHash(content ?? null).slice(0, SHORT_HASH_LENGTH)}`;
  } catch {
    return 'degrade-unhashable';
  }
}

function readDegrade(doc: DegradeFlagsDocument | undefined): DegradeState {
  if (!doc) return NO_DEGRADE;
  const on = (flag: string) => doc[flag]?.enabled === true;
  const state = {
    useFallbackModel: on(DEGRADE_FLAGS.USE_FALLBACK_MODEL),
    disableTools: on(DEGRADE_FLAGS.DISABLE_TOOLS),
    disableRetrieval: on(DEGRADE_FLAGS.DISABLE_RETRIEVAL),
    staticAnswer: on(DEGRADE_FLAGS.STATIC_ANSWER) ? (doc[DEGRADE_FLAGS.STATIC_ANSWER]?.message ?? '') : undefined,
  };
  return { ...state, active: state.useFallbackModel || state.disableTools || state.disableRetrieval || state.staticAnswer !== undefined };
}

function pricingFor(model: ModelConfig, modelId: string) {
  return model.fallback && modelId === model.fallback.modelId ? model.fallback.pricing : model.pricing;
}

/**
 * An AbortController made on first use: the signal a handler reads is the controller's; an abort before anyone read it
 * is kept and applied when the signal is made, so a signal read after the deadline is already aborted with its reason.
 */
class LazyAbort {
  private controller?: AbortController;
  private aborted = false;
  private reason: unknown;

  public get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  public abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/**
 * Runs the handler until the deadline; at the deadline the signal fires (so model calls stop) and the wait ends. The
 * deadline is one of the process's (deadlines.ts: one timer for all of them, not a setTimeout per request).
 */
function withDeadline<T>(start: () => T | Promise<T>, ms: number, controller: LazyAbort): Promise<T> {
  if (ms <= 0) {
    const e = new AiTimeoutError(0);
    controller.abort(e);
    return Promise.reject(e);
  }
  return new Promise<T>((resolve, reject) => {
    // One settlement: whichever of the answer and the deadline comes first (as Promise.race), the deadline dropped after.
    const deadline = deadlines.watch(ms, () => {
      const e = new AiTimeoutError(ms);
      controller.abort(e);
      reject(e);
    });
    let work: Promise<T>;
    try {
      work = Promise.resolve(start());
    } catch (e) {
      deadlines.done(deadline);
      reject(e);
      return;
    }
    work.then(
      (v) => {
        deadlines.done(deadline);
        resolve(v);
      },
      (e) => {
        deadlines.done(deadline);
        reject(e);
      },
    );
  });
}

/** Whether `a` is an older answer of the config cache than `b` (answers without a generation are never older). */
function olderThan(a: ServedConfig, b: ServedConfig): boolean {
  return a.generation !== undefined && b.generation !== undefined && a.generation < b.generation;
}

/**
 * The release config a replay is served with: tools declaring `sideEffects: 'write'` removed, so a gate replay or a
 * shadow answer (known failing inputs, replayed without a caller) can never write anything. Read-only tools stay: the
 * replay must answer as live traffic would.
 */
export function withoutSideEffectTools(config: ReleaseConfigDocument): ReleaseConfigDocument {
  const tools = config.tools?.tools;
  if (!tools?.some((t) => t.sideEffects === 'write')) return config;
  return { ...config, tools: { ...config.tools, tools: tools.filter((t) => t.sideEffects !== 'write') } } as ReleaseConfigDocument;
}
