/**
 * What an AI service's handler links in: `import { createAiRuntime } from 'cdk-ai-release/runtime'`.
 * It reads the release config, stamps the version tuple on every log line and metric, checks the output contract and
 * writes redacted failure records (docs/runtime.md).
 *
 * @module cdk-ai-release/runtime
 */
// (The doc comment above stays first in the file: typedoc reads a file's leading doc comment as its module's.)
import {
  APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS,
  APPCONFIG_EXTENSION_ENV,
  CONFIG_GATE_ENV,
  ENV,
  GATE_SERVICE_SUFFIX,
  RUNTIME_ENV,
  SHARE_ENV,
} from '../shared/contract';
import { AiRuntime, type AiRuntimeOptions, type ConfigPort, type InvocationContext, type TelemetryPort } from './ai-runtime';
import { AssigningRuntime } from './assigning-runtime';
import { deferralSafe } from './after-response';
import { ConfigCache, type ConfigFetcher } from './config-cache';
import { EXTENSION_TIMEOUT_MARGIN_MS, type EnvironmentFor, ExtensionFetcher, FallbackFetcher } from './extension-fetcher';
import { GateReplayTelemetry, GateSelectingRuntime } from './gate-selection';
import { PowertoolsTelemetry } from './powertools-telemetry';
import { ShareReader } from './share-reader';

export * from './ai-runtime';
export {
  ConfigCache,
  ConfigTimeoutError,
  ConfigUnavailableError,
  type ConfigCacheOptions,
  type ConfigFetcher,
  type FetchedConfig,
  type FetchOptions,
} from './config-cache';
export { InvalidConfigError } from './config-check';
export { createRedactor, type RedactionPattern, type RedactedCut, redact, redactAndCut, redactError } from './redact';
export { PowertoolsTelemetry } from './powertools-telemetry';
export { AfterResponse, afterResponse, deferralSafe } from './after-response';
export {
  EXTENSION_TIMEOUT_MARGIN_MS,
  ExtensionAnswerError,
  ExtensionFetcher,
  ExtensionTimeoutError,
  FallbackFetcher,
  isExtensionUnreachable,
  type EnvironmentFor,
} from './extension-fetcher';
export { GateReplayTelemetry, GateSelectingRuntime, invokedThroughGate, qualifierOf } from './gate-selection';
export { AssigningRuntime, type AssigningRuntimeOptions } from './assigning-runtime';
export { ShareReader, type ShareReaderOptions } from './share-reader';
export type { CodeCanarySignal } from './evaluation-sampler';
export {
  assign,
  type AssignmentUnit,
  conversationShare,
  defaultConversationId,
  defaultConversationStart,
  MAX_CONVERSATION_ID_CHARS,
  NO_RELEASE,
  shareAt,
  shareDocumentProblems,
  startFromConversationId,
  unitPosition,
} from './assignment';

/** What createAiRuntime returns: one runtime, or one per config environment chosen per invocation (gate alias). */
export type ServiceRuntime<I, O> = Pick<AiRuntime<I, O>, 'handler' | 'invoke'>;

export interface CreateAiRuntimeOptions<I, O> extends Partial<Omit<AiRuntimeOptions<I, O>, 'config' | 'telemetry'>> {
  /** Where configs come from. @default the AppConfig extension, falling back to the data API */
  readonly fetcher?: ConfigFetcher;
  readonly config?: ConfigPort;
  readonly telemetry?: TelemetryPort;
  /** The environment to read; tests pass their own. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Config of invocations through the `gate` alias (candidate environment). @default read like `config`, from the candidate environment */
  readonly candidateConfig?: ConfigPort;
  /** Telemetry of invocations through the `gate` alias. @default GateReplayTelemetry (Service `<service>#gate`) */
  readonly candidateTelemetry?: TelemetryPort;
  /**
   * Assigned config canaries (ConfigShare): the caller's conversation id. One conversation stays on one config for
   * the whole release. @default input.conversationId, input.sessionId or the ClientContext's custom.conversationId;
   * without one, each request is assigned on its own
   */
  readonly conversationId?: (input: I, context: InvocationContext) => string | undefined;
  /** Assigned config canaries: when the caller's conversation started (see AssigningRuntimeOptions). @default input.conversationStartedAt */
  readonly conversationStartedAt?: (input: I, context: InvocationContext) => number | undefined;
  /** Assigned config canaries: read a conversation's start from a UUIDv7 or ULID conversation id when the caller gives none. @default true */
  readonly readStartFromConversationId?: boolean;
  /** Assigned config canaries: where the share document comes from. @default read like `config`, from the share environment */
  readonly shareConfig?: ConfigPort;
  /** Assigned config canaries: the candidate arm's config. @default read like `config`, from the candidate environment */
  readonly assignedCandidateConfig?: ConfigPort;
}

/**
 * The runtime, wired from the environment that `AiServiceConfig.bind(fn)` sets. Call it once at module scope:
 *
 *   const runtime = createAiRuntime<Question, Answer>({ degradedAnswer: () => STATIC });
 *   export const handler = runtime.handler(async (input, ctx) => ({ output, usage, quality }));
 */
export function createAiRuntime<I, O>(options: CreateAiRuntimeOptions<I, O> = {}): ServiceRuntime<I, O> {
  const env = options.env ?? process.env;
  const need = (key: string) => {
    const v = env[key];
    if (!v) throw new Error(`environment variable ${key} is not set; wire the function with AiServiceConfig.bind(fn)`);
    return v;
  };
  const service = options.service ?? need(ENV.SERVICE);
  const application = need(ENV.APPCONFIG_APPLICATION);
  const environment = need(ENV.APPCONFIG_ENVIRONMENT);
  const ttlSeconds = Number(env[RUNTIME_ENV.CONFIG_TTL_SECONDS] ?? 5);
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
    throw new Error(
      `environment variable ${RUNTIME_ENV.CONFIG_TTL_SECONDS} must be a number of seconds, got "${env[RUNTIME_ENV.CONFIG_TTL_SECONDS]}"; AiServiceConfig.bind sets it from configTtl`,
    );
  }
  const extension = extensionTiming(env);
  // With the extension, one read may wait for the extension's own fetch from AppConfig (a cache miss): the read's
  // deadline covers that, plus a moment for the data API should the extension turn out unreachable.
  const configTimeoutMs = Number(env[RUNTIME_ENV.CONFIG_TIMEOUT_MS] ?? (extension ? extension.clientTimeoutMs + EXTENSION_TIMEOUT_MARGIN_MS : 2000));
  if (!Number.isFinite(configTimeoutMs) || configTimeoutMs <= 0) {
    throw new Error(
      `environment variable ${RUNTIME_ENV.CONFIG_TIMEOUT_MS} must be a positive number of milliseconds, got "${env[RUNTIME_ENV.CONFIG_TIMEOUT_MS]}"`,
    );
  }
  const releaseProfile = options.releaseProfile ?? need(ENV.CONFIG_PROFILE);
  const degradeProfile = options.degradeProfile ?? need(ENV.DEGRADE_PROFILE);
  // The degrade flags live in their own AppConfig environment (no monitors, so no alarm can block a switch);
  // functions bound before that split have only the release environment.
  const degradeEnvironment = env[ENV.DEGRADE_ENVIRONMENT] || environment;
  // Assigned config canaries (ConfigShare.bind): the share document lives in an environment of its own.
  const shareEnvironment = env[SHARE_ENV.ENVIRONMENT];
  const shareProfile = env[SHARE_ENV.PROFILE];
  const environmentFor = (profile: string) =>
    profile === degradeProfile ? degradeEnvironment : shareProfile && profile === shareProfile && shareEnvironment ? shareEnvironment : environment;
  const fetcher = options.fetcher ?? defaultFetcher(env, application, environmentFor, extension);
  const build = (config: ConfigPort, telemetry: TelemetryPort) =>
    new AiRuntime<I, O>({
      ...options,
      service,
      releaseProfile,
      degradeProfile,
      configTimeoutMs: options.configTimeoutMs ?? configTimeoutMs,
      codeVersion: options.codeVersion ?? env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
      codeHash: options.codeHash ?? env[RUNTIME_ENV.CODE_HASH],
      // After the response where that is established safe (after-response.ts): the Lambda Node.js runtime, one
      // invocation at a time per environment.
      deferEvaluationLines: options.deferEvaluationLines ?? deferralSafe(env),
      config,
      telemetry,
    });
  const telemetry = options.telemetry ?? new PowertoolsTelemetry(service);
  const liveRuntime = build(options.config ?? new ConfigCache(fetcher, ttlSeconds * 1000, { refreshTimeoutMs: configTimeoutMs }), telemetry);
  // The config gate (README "Config gate"): through the `gate` alias, the release config comes from the candidate
  // environment; the degrade flags stay those of the degrade environment. A runtime of its own, so no cache or last
  // good config is ever shared between the two.
  const candidateEnvironment = env[CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT];
  if (!candidateEnvironment) return liveRuntime;
  const candidateFor = (profile: string) => (profile === degradeProfile ? degradeEnvironment : candidateEnvironment);
  // Assigned config canaries: live traffic is split between the live config and the candidate by conversation; the
  // candidate arm is live traffic (same service, same telemetry), with its own cache and last good config.
  let live: ServiceRuntime<I, O> & Pick<AiRuntime<I, O>, 'invoke'> = liveRuntime;
  if (shareEnvironment && shareProfile) {
    const candidateConfig =
      options.assignedCandidateConfig ??
      new ConfigCache(options.fetcher ?? defaultFetcher(env, application, candidateFor, extension), ttlSeconds * 1000, { refreshTimeoutMs: configTimeoutMs });
    live = new AssigningRuntime<I, O>({
      live: liveRuntime,
      candidate: build(candidateConfig, telemetry),
      // No TTL of its own while a release runs (share-reader.ts): a rollback is seen one extension poll after it is deployed.
      share: options.shareConfig ?? new ShareReader(fetcher, { idleTtlMs: ttlSeconds * 1000 }),
      shareProfile,
      candidateConfig,
      releaseProfile,
      telemetry,
      conversationId: options.conversationId,
      conversationStartedAt: options.conversationStartedAt,
      readStartFromConversationId: options.readStartFromConversationId,
      // A step counts for conversations that start one extension poll (+ 5 s of clock skew) after it.
      stepSettleMs: (pollSecondsOf(env) + 5) * 1000,
      codeCanaries: env[SHARE_ENV.CODE_CANARY] === '1',
    });
  }
  const replayTelemetry = () => {
    const t = new PowertoolsTelemetry(`${service}${GATE_SERVICE_SUFFIX}`);
    return new GateReplayTelemetry(t, (line) => t.logger.warn(line as { message: string }));
  };
  const candidate = () =>
    build(
      options.candidateConfig ??
        new ConfigCache(options.fetcher ?? defaultFetcher(env, application, candidateFor, extension), ttlSeconds * 1000, { refreshTimeoutMs: configTimeoutMs }),
      options.candidateTelemetry ?? replayTelemetry(),
    );
  return new GateSelectingRuntime(live, candidate);
}

/**
 * The extension's timing when it is used (not turned off): its poll timeout, and the client's deadline derived from
 * it (poll timeout + EXTENSION_TIMEOUT_MARGIN_MS), so the client never gives up while the extension is still
 * fetching from AppConfig on a cache miss.
 */
function extensionTiming(env: NodeJS.ProcessEnv): { pollTimeoutMs: number; clientTimeoutMs: number } | undefined {
  if (env[RUNTIME_ENV.USE_EXTENSION] === 'false') return undefined;
  const raw = env[APPCONFIG_EXTENSION_ENV.POLL_TIMEOUT_MILLIS];
  const pollTimeoutMs = raw === undefined || raw === '' ? APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS : Number(raw);
  if (!Number.isFinite(pollTimeoutMs) || pollTimeoutMs <= 0) {
    throw new Error(
      `environment variable ${APPCONFIG_EXTENSION_ENV.POLL_TIMEOUT_MILLIS} must be a positive number of milliseconds, got "${raw}"; AiServiceConfig.bind sets it from extensionPollTimeout`,
    );
  }
  return { pollTimeoutMs, clientTimeoutMs: pollTimeoutMs + EXTENSION_TIMEOUT_MARGIN_MS };
}

function defaultFetcher(
  env: NodeJS.ProcessEnv,
  application: string,
  environment: EnvironmentFor,
  extension: { clientTimeoutMs: number } | undefined,
): ConfigFetcher {
  // The SDK client is loaded on first use only: with the extension attached it is never needed, and loading it
  // at module scope would add tens of milliseconds to every cold start.
  let loaded: Promise<ConfigFetcher> | undefined;
  const dataApi: ConfigFetcher = {
    fetch: async (profile, options) => {
      loaded ??= import('./data-api-fetcher').then((m) => new m.DataApiFetcher(new m.AppConfigDataClient({}), application, environment));
      return (await loaded).fetch(profile, options);
    },
  };
  if (!extension) return dataApi;
  const port = Number(env[RUNTIME_ENV.EXTENSION_PORT] ?? 2772);
  return new FallbackFetcher(new ExtensionFetcher(application, environment, port, extension.clientTimeoutMs), dataApi);
}

/** The AppConfig extension's poll interval as the function's environment sets it (AiServiceConfig.bind), else its default 45 s. */
function pollSecondsOf(env: NodeJS.ProcessEnv): number {
  const v = Number(env[APPCONFIG_EXTENSION_ENV.POLL_INTERVAL_SECONDS]);
  return Number.isFinite(v) && v > 0 ? v : 45;
}
