import Ajv, { type ValidateFunction } from 'ajv';
import {
  DEGRADE_FLAGS,
  type DegradeFlagsDocument,
  type FailureKind,
  type FailureRecord,
  type FallbackModelConfig,
  type ModelConfig,
  type ReleaseConfigDocument,
  type VersionTuple,
} from '../shared/contract';
import { sha256Hex } from '../shared/canonical-json';
import { ConfigUnavailableError, type ServedConfig } from './config-cache';
import { buildFailureRecord } from './failure-record';
import { redact as defaultRedactor, type Redactor } from './redact';

/** Port: where the two configs of this service come from (a ConfigCache over the extension or data API). */
export interface ConfigPort {
  get(profile: string): Promise<ServedConfig>;
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
}

/** Port: logs and metrics. The Powertools adapter writes EMF and JSON log lines to stdout. */
export interface TelemetryPort {
  /** One EMF document per invocation, dimensioned by service and by service + version. */
  invocation(tuple: VersionTuple, requestId: string, m: InvocationMeasurements): void;
  failure(record: FailureRecord): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  /** Stamps the tuple on every later log line of this invocation. */
  stamp(tuple: VersionTuple, requestId: string): void;
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
}

/** What the service's handler returns. */
export interface AiResult<O> {
  readonly output: O;
  /** Token usage of the model call(s); the model id decides which price applies (primary or fallback). */
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number; readonly modelId?: string };
  /** The service's own quality score of this answer, 0..1. */
  readonly quality?: number;
  /** Set when a guardrail intervened or the service judged the answer unsafe. */
  readonly safety?: { readonly violated: boolean; readonly reasons?: readonly string[] };
  /** Set when the service degraded on its own (e.g. retrieval failed and it answered without). */
  readonly degraded?: boolean;
}

export type AiHandler<I, O> = (input: I, ctx: AiContext) => Promise<AiResult<O>>;

/** The part of the Lambda context the runtime reads. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
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
   * The answer to serve when the config cannot be read on a cold start (there is no last good config).
   * @default none: the invocation fails with ConfigUnavailableError
   */
  readonly degradedAnswer?: (input: I, reason: Error) => O;
}

/** Thrown when the handler does not finish before the invocation's deadline. */
export class AiTimeoutError extends Error {
  constructor(ms: number) {
    super(`the AI handler did not finish within ${ms} ms; raise the function timeout or lower model.parameters.maxTokens`);
    this.name = 'AiTimeoutError';
  }
}

const NO_DEGRADE: DegradeState = { useFallbackModel: false, disableTools: false, disableRetrieval: false, active: false };

/**
 * Wraps an AI service handler: reads its configs, stamps the version tuple on logs and metrics, measures latency,
 * tokens, cost, quality, safety and the output contract, and writes one redacted failure record when something
 * went wrong. The hot path does no I/O of its own but two log writes (EMF and, on failure, the record).
 */
export class AiRuntime<I, O> {
  private readonly now: () => number;
  private readonly redactor: Redactor;
  private readonly ajv = new Ajv({ allErrors: false, strict: false, logger: false });
  /** Output-contract validators by config label: compiled once per config version, never per request. */
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly o: AiRuntimeOptions<I, O>) {
    this.now = o.now ?? Date.now;
    this.redactor = o.redactor ?? defaultRedactor;
  }

  /** A Lambda handler around the service's handler. */
  public handler(fn: AiHandler<I, O>): (input: I, context?: InvocationContext) => Promise<O> {
    return (input, context) => this.invoke(fn, input, context);
  }

  public async invoke(fn: AiHandler<I, O>, input: I, context: InvocationContext = {}): Promise<O> {
    const startedAt = this.now();
    const requestId = context.awsRequestId ?? `local-${startedAt}`;
    const budgetMs = (context.getRemainingTimeInMillis?.() ?? this.o.defaultTimeoutMs ?? 30_000) - (this.o.timeoutMarginMs ?? 500);

    // Wait for both: nothing may run on after the answer (Lambda freezes the environment between invocations).
    const [releaseResult, flagsResult] = await Promise.allSettled([this.o.config.get(this.o.releaseProfile), this.o.config.get(this.o.degradeProfile)]);
    if (releaseResult.status === 'rejected') return this.configUnavailable(input, releaseResult.reason as Error, requestId, startedAt);
    const release = releaseResult.value;
    // Without the degrade flags the service runs undegraded: the switches are for emergencies, not a dependency.
    const flags = flagsResult.status === 'fulfilled' ? flagsResult.value : undefined;
    if (flagsResult.status === 'rejected')
      this.o.telemetry.warn('degrade flags unavailable: running without them', { error: (flagsResult.reason as Error)?.message });
    if (release.stale) this.o.telemetry.warn('serving the last good release config: refresh failed', { error: release.error?.message });

    const config = release.content as ReleaseConfigDocument;
    const degrade = readDegrade(flags?.content as DegradeFlagsDocument | undefined);
    const tuple = this.tuple(config, flags);
    this.o.telemetry.stamp(tuple, requestId);
    const model = degrade.useFallbackModel && config.model.fallback ? config.model.fallback : config.model;
    const ctx: AiContext = {
      requestId,
      config,
      model: { ...model, guardrail: config.model.guardrail },
      degrade,
      tuple,
      remainingMs: () => budgetMs - (this.now() - startedAt),
    };

    let result: AiResult<O>;
    try {
      result = await withDeadline(fn(input, ctx), budgetMs);
    } catch (e) {
      const kind: FailureKind = e instanceof AiTimeoutError ? 'timeout' : 'error';
      const latencyMs = this.now() - startedAt;
      this.o.telemetry.invocation(tuple, requestId, { ...ZERO, error: true, latencyMs, degraded: degrade.active });
      this.record([kind], { requestId, startedAt, tuple, measurements: { latencyMs }, input, error: e });
      throw e;
    }

    const latencyMs = this.now() - startedAt;
    const inputTokens = result.usage?.inputTokens ?? 0;
    const outputTokens = result.usage?.outputTokens ?? 0;
    const pricing = pricingFor(config.model, result.usage?.modelId ?? model.modelId);
    const costUsd = (inputTokens / 1000) * pricing.inputPer1kTokensUsd + (outputTokens / 1000) * pricing.outputPer1kTokensUsd;

    const kinds: FailureKind[] = [];
    const details: string[] = [];
    const contractErrors = this.checkContract(config, release, result.output);
    if (contractErrors.length > 0) {
      kinds.push('contract');
      details.push(...contractErrors.map((m) => `contract: ${m}`));
    }
    if (result.safety?.violated) {
      kinds.push('safety');
      details.push(...(result.safety.reasons ?? ['safety violation']).map((r) => `safety: ${r}`));
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
      error: false,
      latencyMs,
      costUsd,
      inputTokens,
      outputTokens,
      qualityScore: result.quality,
      safetyViolation: kinds.includes('safety'),
      contractViolation: kinds.includes('contract'),
      degraded: degrade.active || result.degraded === true,
    };
    this.o.telemetry.invocation(tuple, requestId, measurements);
    if (kinds.length > 0) {
      this.record(kinds, {
        requestId,
        startedAt,
        tuple,
        measurements: { latencyMs, inputTokens, outputTokens, costUsd, qualityScore: result.quality },
        input,
        output: result.output,
        details,
      });
    }
    return result.output;
  }

  private configUnavailable(input: I, error: Error, requestId: string, startedAt: number): O {
    const tuple: VersionTuple = {
      ...this.codeTuple(),
      config: 'unavailable',
      prompt: 'unavailable',
      model: 'unavailable',
      retrieval: 'unavailable',
      tools: 'unavailable',
      outputContract: 'unavailable',
      degrade: 'unavailable',
    };
    this.o.telemetry.stamp(tuple, requestId);
    const latencyMs = this.now() - startedAt;
    const degraded = this.o.degradedAnswer !== undefined;
    this.o.telemetry.invocation(tuple, requestId, { ...ZERO, error: true, latencyMs, degraded });
    this.record(['error'], {
      requestId,
      startedAt,
      tuple,
      measurements: { latencyMs },
      input,
      error,
      details: [degraded ? 'served the degraded answer' : 'no degraded answer configured'],
    });
    if (!this.o.degradedAnswer) throw error instanceof ConfigUnavailableError ? error : new ConfigUnavailableError(this.o.releaseProfile, error);
    return this.o.degradedAnswer(input, error);
  }

  private checkContract(config: ReleaseConfigDocument, release: ServedConfig, output: unknown): string[] {
    const key = config._release?.contentHash ?? release.version ?? 'unlabelled';
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(config.outputContract.schema);
      // Keep the current and the previous config's validators: a rollout flips between two versions.
      if (this.validators.size >= 2) this.validators.delete(this.validators.keys().next().value as string);
      this.validators.set(key, validate);
    }
    const errors: string[] = [];
    if (!validate(output)) errors.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`));
    const max = config.outputContract.maxBytes;
    if (max !== undefined) {
      const size = Buffer.byteLength(JSON.stringify(output) ?? '', 'utf8');
      if (size > max) errors.push(`output is ${size} bytes, over outputContract.maxBytes ${max}`);
    }
    return errors;
  }

  private record(kinds: FailureKind[], r: Omit<Parameters<typeof buildFailureRecord>[0], 'kinds' | 'service'>) {
    this.o.telemetry.failure(
      buildFailureRecord({ ...r, kinds, service: this.o.service }, { redactor: this.redactor, maxFieldChars: this.o.maxFieldChars ?? 4096 }),
    );
  }

  private codeTuple() {
    return { service: this.o.service, codeVersion: this.o.codeVersion, ...(this.o.codeHash ? { codeHash: this.o.codeHash } : {}) };
  }

  private lastTuple?: { config: unknown; flags: unknown; tuple: VersionTuple };

  /** The tuple, recomputed only when the served config or flags object changes (the cache serves the same object). */
  private tuple(config: ReleaseConfigDocument, flags: ServedConfig | undefined): VersionTuple {
    if (this.lastTuple && this.lastTuple.config === config && this.lastTuple.flags === flags?.content) return this.lastTuple.tuple;
    const degradeLabel = flags ? (flags.version ? `v${flags.version}` : `sha-${sha256Hex(JSON.stringify(flags.content)).slice(0, 8)}`) : 'unavailable';
    const sections = config._release?.sections ?? {};
    const label = (s: string) => sections[s]?.label ?? 'none';
    const tuple: VersionTuple = {
      ...this.codeTuple(),
      config: config._release?.label ?? 'unlabelled',
      prompt: label('prompt'),
      model: label('model'),
      retrieval: label('retrieval'),
      tools: label('tools'),
      outputContract: label('outputContract'),
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

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return Promise.reject(new AiTimeoutError(0));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AiTimeoutError(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
