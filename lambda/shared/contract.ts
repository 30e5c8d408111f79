import type { EvaluationConfig } from './evaluation';
import type { EvaluatorAgreement } from './evaluator-agreement';

/**
 * The contract shared by the constructs (lib/) and the functions (lambda/): env var keys, section names,
 * limits and the JSON shapes of a release manifest. Import from here, never restate a name elsewhere, so a
 * construct and a handler can never drift apart.
 */

/** The sections of one service's release config, in manifest order. */
export const CONFIG_SECTIONS = ['prompt', 'model', 'retrieval', 'tools', 'outputContract', 'evaluation'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** Sections a release config must carry; the rest are optional (not every service retrieves or calls tools). */
export const REQUIRED_SECTIONS: readonly ConfigSection[] = ['prompt', 'model', 'outputContract'];

/** Key under which the hosted release config carries its own labels, so the runtime never needs a header. */
export const RELEASE_META_KEY = '_release';

/** Environment variables a service function reads to find its configs. Values are AppConfig ids. */
export const ENV = {
  SERVICE: 'AI_RELEASE_SERVICE',
  APPCONFIG_APPLICATION: 'AI_RELEASE_APPCONFIG_APPLICATION',
  APPCONFIG_ENVIRONMENT: 'AI_RELEASE_APPCONFIG_ENVIRONMENT',
  CONFIG_PROFILE: 'AI_RELEASE_CONFIG_PROFILE',
  DEGRADE_PROFILE: 'AI_RELEASE_DEGRADE_PROFILE',
  /** The AppConfig environment the degrade flags are deployed to (no monitors, so no alarm can block a switch). */
  DEGRADE_ENVIRONMENT: 'AI_RELEASE_DEGRADE_ENVIRONMENT',
} as const;

/** AppConfig's default quota for hosted configuration content. */
export const APPCONFIG_HOSTED_MAX_BYTES = 1024 * 1024;
/**
 * Lambda's limit on a synchronous invocation's response payload: "For synchronous invocations, the maximum payload
 * size is 6 MB" (Lambda API reference, Invoke). An answer over it never reaches the caller, so the runtime counts
 * it as a contract failure even when the output contract sets no maxBytes.
 */
export const LAMBDA_SYNC_RESPONSE_MAX_BYTES = 6 * 1024 * 1024;
/** AppConfig's limit on a validator's content. */
export const APPCONFIG_VALIDATOR_MAX_CHARS = 32768;
/** AppConfig's limit on a version label. */
export const APPCONFIG_VERSION_LABEL_MAX = 64;
/** Hex characters of a content hash used in labels. */
export const SHORT_HASH_LENGTH = 12;

/** The degrade feature flags every service gets (AWS.AppConfig.FeatureFlags profile). */
export const DEGRADE_FLAGS = {
  USE_FALLBACK_MODEL: 'useFallbackModel',
  DISABLE_TOOLS: 'disableTools',
  DISABLE_RETRIEVAL: 'disableRetrieval',
  STATIC_ANSWER: 'staticAnswer',
} as const;
export type DegradeFlag = (typeof DEGRADE_FLAGS)[keyof typeof DEGRADE_FLAGS];

/** What users see when the static-answer switch is on and no message was given, or no config can be read at all. */
export const DEFAULT_STATIC_ANSWER = 'The assistant is temporarily unavailable. Please try again in a few minutes.';

/** A prompt template placeholder, `{{ name }}`: one syntax for the synth-time check and the services that fill it. */
export const TEMPLATE_VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The metadata block stamped into the hosted release config. */
export interface ReleaseConfigMeta {
  readonly service: string;
  readonly label: string;
  readonly contentHash: string;
  readonly sections: Readonly<Record<string, { readonly label: string; readonly hash: string }>>;
}

/** One component of the version tuple. */
export interface ManifestComponent {
  /** Human label: the user's `version` field where given, else `<name>-<shorthash>`; `none` when absent. */
  readonly label: string;
  /** sha256 of the canonical content (hex); empty when absent. */
  readonly hash: string;
  /** The canonical content, kept in the file manifest so diffs can show lines and keys. Omitted in the compact copy. */
  readonly content?: unknown;
}

export const MANIFEST_COMPONENTS = ['code', ...CONFIG_SECTIONS] as const;
export type ManifestComponentName = (typeof MANIFEST_COMPONENTS)[number];

/** What one release is: its version tuple and where its config lives. */
export interface ReleaseManifest {
  readonly schemaVersion: 1;
  readonly service: string;
  /** sha256 over the component hashes: equal manifests, equal id. */
  readonly releaseId: string;
  readonly components: Readonly<Record<ManifestComponentName, ManifestComponent>>;
  /** The AppConfig version label of the release config (carries the short config hash). */
  readonly configLabel: string;
  readonly degradeLabel: string;
  /** Extra facts captured at synth (stack, strategy, budget…); never part of the release id. */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Runtime: metrics, version tuple and failure records. The alarm constructs build their Metric objects from these
// names, so a construct's alarm and a handler's EMF can never disagree.

/** CloudWatch namespace of every runtime metric. */
export const METRIC_NAMESPACE = 'AiRelease';

/** Dimension names. Every metric is emitted twice: per service, and per service + executed Lambda version. */
export const DIMENSION = {
  SERVICE: 'Service',
  VERSION: 'Version',
} as const;

/** Metric names and their units (CloudWatch unit names). */
export const METRIC = {
  INVOCATIONS: 'Invocations',
  ERRORS: 'Errors',
  LATENCY: 'Latency',
  COST_USD: 'CostUsd',
  INPUT_TOKENS: 'InputTokens',
  OUTPUT_TOKENS: 'OutputTokens',
  QUALITY_SCORE: 'QualityScore',
  SAFETY_VIOLATIONS: 'SafetyViolations',
  CONTRACT_VIOLATIONS: 'ContractViolations',
  DEGRADED: 'Degraded',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const METRIC_UNIT: Readonly<Record<MetricName, 'Count' | 'Milliseconds' | 'None'>> = {
  Invocations: 'Count',
  Errors: 'Count',
  Latency: 'Milliseconds',
  CostUsd: 'None',
  InputTokens: 'Count',
  OutputTokens: 'Count',
  QualityScore: 'None',
  SafetyViolations: 'Count',
  ContractViolations: 'Count',
  Degraded: 'Count',
};

/** Environment of the cost-guard function (set by AiRelease({ costGuard })). */
export const COST_GUARD_ENV = {
  APPLICATION: 'COST_GUARD_APPLICATION',
  ENVIRONMENT: 'COST_GUARD_ENVIRONMENT',
  PROFILE: 'COST_GUARD_PROFILE',
  STRATEGY: 'COST_GUARD_STRATEGY',
  /** The cost alarm's name: a late event is acted on only while the alarm is still in ALARM (DescribeAlarms). */
  ALARM_NAME: 'COST_GUARD_ALARM_NAME',
} as const;

/** Runtime tuning read from the environment (all optional). */
export const RUNTIME_ENV = {
  /** Content hash (12 hex) of the deployed code, set by ReleaseManifestRecorder. */
  CODE_HASH: 'AI_RELEASE_CODE_HASH',
  /** Seconds a fetched config is served before it is fetched again. */
  CONFIG_TTL_SECONDS: 'AI_RELEASE_CONFIG_TTL_SECONDS',
  /** Set to "false" to skip the AppConfig Lambda extension and use the data API directly. */
  USE_EXTENSION: 'AI_RELEASE_USE_EXTENSION',
  /** Port of the AppConfig Lambda extension. */
  EXTENSION_PORT: 'AWS_APPCONFIG_EXTENSION_HTTP_PORT',
  /** Longest the two config reads of one invocation may take together, milliseconds (capped by the invocation's budget). */
  CONFIG_TIMEOUT_MS: 'AI_RELEASE_CONFIG_TIMEOUT_MS',
} as const;

/** What one invocation ran with: code, config and every section. On every log line and failure record. */
export interface VersionTuple {
  readonly service: string;
  /** The executed Lambda version (`AWS_LAMBDA_FUNCTION_VERSION`). */
  readonly codeVersion: string;
  /** Content hash of the code (12 hex), when known. */
  readonly codeHash?: string;
  /** AppConfig label of the release config. */
  readonly config: string;
  readonly prompt: string;
  readonly model: string;
  readonly retrieval: string;
  readonly tools: string;
  readonly outputContract: string;
  /** Label of the evaluation section (rubrics, evaluator model): what "good" meant for this answer; `none` when absent.
   * Optional in the type so records written before the section existed still read. */
  readonly evaluation?: string;
  /** Label of the degrade flags as served. */
  readonly degrade: string;
}

export const FAILURE_KINDS = ['error', 'timeout', 'safety', 'contract', 'cost', 'quality'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Value of `type` on a failure record log line: what a subscription filter matches (`{ $.type = "..." }`). */
export const FAILURE_RECORD_TYPE = 'ai-release.failure';

/** One failed or suspect invocation, written to the log by the runtime; redacted and bounded. */
export interface FailureRecord {
  readonly type: typeof FAILURE_RECORD_TYPE;
  readonly schemaVersion: 1;
  /** The most severe kind (order of FAILURE_KINDS). */
  readonly kind: FailureKind;
  readonly kinds: readonly FailureKind[];
  readonly service: string;
  readonly requestId: string;
  /** ISO-8601 time the invocation started. */
  readonly time: string;
  readonly tuple: VersionTuple;
  readonly measurements: {
    readonly latencyMs: number;
    readonly inputTokens?: number;
    readonly outputTokens?: number;
    readonly costUsd?: number;
    readonly qualityScore?: number;
  };
  /** Redacted, size-bounded JSON text of the input and output. */
  readonly input: string;
  readonly output?: string;
  readonly error?: { readonly name: string; readonly message: string };
  /** Why the output broke its contract (ajv messages), the guardrail's reasons, the cost cap… */
  readonly details?: readonly string[];
  /** True when input or output was cut to fit. */
  readonly truncated: boolean;
  /** The config canary arm the invocation ran on, when the service's config canary is assigned (ConfigAssignment). */
  readonly assignment?: ConfigAssignment;
}

// ---------------------------------------------------------------------------------------------------------------
// The release config as served to a function (schemas/release-config.schema.json is the authority on shape).

export interface ModelParameters {
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly stopSequences?: readonly string[];
  readonly additionalModelRequestFields?: Readonly<Record<string, unknown>>;
}

export interface ModelPricing {
  readonly inputPer1kTokensUsd: number;
  readonly outputPer1kTokensUsd: number;
  /**
   * USD per 1,000 input tokens read from the prompt cache (Bedrock Converse `usage.cacheReadInputTokens`).
   * @default the input price: cost is never under-counted when the config does not say
   */
  readonly cacheReadInputPer1kTokensUsd?: number;
  /**
   * USD per 1,000 input tokens written to the prompt cache (Converse `usage.cacheWriteInputTokens`).
   * @default the input price
   */
  readonly cacheWriteInputPer1kTokensUsd?: number;
}

export interface FallbackModelConfig {
  readonly provider?: string;
  readonly modelId: string;
  readonly parameters?: ModelParameters;
  readonly pricing: ModelPricing;
}

export interface ModelConfig extends FallbackModelConfig {
  readonly version?: string;
  readonly provider: string;
  readonly maxCostPerRequestUsd?: number;
  readonly fallback?: FallbackModelConfig;
  readonly lineage?: Readonly<Record<string, string>>;
  readonly guardrail?: { readonly id: string; readonly version: string };
}

export interface PromptConfig {
  readonly version?: string;
  readonly system?: string;
  readonly template?: string;
  readonly variables?: readonly { readonly name: string; readonly description?: string; readonly required?: boolean }[];
  readonly fewShot?: readonly { readonly input: string; readonly output: string }[];
  readonly bedrockPrompt?: { readonly arn: string };
}

export interface RetrievalConfig {
  readonly version?: string;
  readonly source: { readonly type: string; readonly id: string };
  readonly indexVersion: string;
  readonly embeddingModel?: string;
  readonly topK: number;
  readonly minScore?: number;
  readonly searchType?: string;
  readonly filters?: Readonly<Record<string, unknown>>;
}

export interface ToolConfig {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
  readonly sideEffects?: 'none' | 'read' | 'write';
  readonly permissions: { readonly actions?: readonly string[]; readonly resources?: readonly string[]; readonly hosts?: readonly string[] };
}

export interface OutputContractConfig {
  readonly version?: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly maxBytes?: number;
  readonly qualityFloor?: number;
}

/** The hosted release config, as the AppConfig extension or data API returns it. */
export interface ReleaseConfigDocument {
  readonly prompt: PromptConfig;
  readonly model: ModelConfig;
  readonly retrieval?: RetrievalConfig;
  readonly tools?: { readonly version?: string; readonly tools: readonly ToolConfig[] };
  readonly outputContract: OutputContractConfig;
  readonly evaluation?: EvaluationConfig;
  readonly _release: ReleaseConfigMeta;
}

/** The degrade flags as AppConfig serves a feature-flags profile: `{ flag: { enabled, ...attributes } }`. */
export type DegradeFlagsDocument = Readonly<Record<string, { readonly enabled?: boolean; readonly message?: string } | undefined>>;

// ---------------------------------------------------------------------------------------------------------------
// The learning half: the regression store, its cases, and the release reviews. One bucket per platform, shared by
// its services. Layout (every key below is relative to the bucket root):
//
//   batches/<service>/<deliveryKey>.json        one object per snapshot delivery batch (the folded cases + records);
//                                               a candidate seen in that delivery only lives here, with no object
//   cases/<service>/candidate/<caseId>.json     a candidate seen again in a later delivery (not blocking)
//   cases/<service>/accepted/<caseId>.json      a case the gate replays and that blocks a release
//   cases/<service>/retired/<caseId>.json       a case taken out of the set, with who/why
//   index/<service>.json                        the case index: where every case lives — an entry (state, counts,
//                                               last seen) per case with an object, a bare id under its batch per
//                                               case without (rebuilt from cases/ and batches/)
//
// So the snapshot function writes per delivery one batch object, one index, and an object only for a case seen again
// (or learning a kind or version): its writes follow the deliveries and the repeating inputs, not the records.
// Promotion and retirement (lib/learning/regression-cases.ts) always write the case's object, so accepted cases — what the
// gate and the CLI read — are always objects. The key a case moved away from keeps a moved marker ({ moved: true,
// to }), which readers skip and writers follow (lambda/shared/case-index.ts, MovedMarker). Order per delivery: the
// batch object (create-only), then the index (compare-and-swap: the commit), then case objects (conditional merges).
//   reviews/<service>/<releaseKey>.json|.md|.svg  the review (复盘) of one release on one plane
//   gates/<service>/<releaseKey>.json|.md       a gate report (the regression gate)

/** Key prefixes of the regression store. */
export const STORE_PREFIX = {
  CASES: 'cases',
  BATCHES: 'batches',
  INDEX: 'index',
  REVIEWS: 'reviews',
  GATES: 'gates',
} as const;

export const CASE_STATES = ['candidate', 'accepted', 'retired'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** What the next release must do on a case's input. Every field is optional; an empty expectation means "no error". */
export interface CaseExpectation {
  /** The invocation must not fail with an error or a timeout. @default true */
  readonly noError?: boolean;
  /** The output must satisfy the service's output contract. @default true */
  readonly contractHolds?: boolean;
  /** Latency bound, milliseconds. */
  readonly maxLatencyMs?: number;
  /** Quality score at or above this floor. */
  readonly minQuality?: number;
  /** No safety flag (guardrail intervention, content filter). @default true */
  readonly noSafetyFlag?: boolean;
  /** Regular expressions (JavaScript syntax, no flags) the output text must match. */
  readonly mustMatch?: readonly string[];
  /** Regular expressions the output text must not match. */
  readonly mustNotMatch?: readonly string[];
  /**
   * A reference answer (redacted text): the gate's evaluator scores each replay's `correctness` against it, with the
   * live config's `correctness` rubric (or the scale's midpoint as the floor when `minScores` names none).
   */
  readonly reference?: string;
  /**
   * Rubric floors: the lowest evaluator score each replay must get on a criterion (on the live evaluation section's
   * scale), e.g. `{ groundedness: 4 }`. A criterion needs a rubric in the live evaluation section.
   */
  readonly minScores?: Readonly<Partial<Record<'groundedness' | 'relevance' | 'correctness' | 'safety' | 'refusal', number>>>;
  /**
   * Floors on the Bedrock guardrail's contextual grounding scores (0..1), e.g. `{ groundedness: 0.75 }`: a replay
   * whose answer the guardrail scored under a floor fails; one without that score (no grounding source, policy or
   * trace) is noted, not failed. Needs no evaluator model (lambda/shared/guardrail-scores.ts guardrailFloorCheck).
   */
  readonly minGuardrailScores?: Readonly<Partial<Record<'groundedness' | 'relevance', number>>>;
}

/** A change of a case's state, with who and why. */
export interface CaseTransition {
  readonly from: CaseState | 'new';
  readonly to: CaseState;
  readonly at: string;
  readonly by: string;
  readonly reason: string;
}

/** One failing input of one service, however many requests hit it. Versioned: readers refuse unknown versions. */
export interface RegressionCase {
  readonly schemaVersion: 1;
  /** sha256 (hex, first 32) of service + the normalized input: one failing input is one case. */
  readonly caseId: string;
  readonly service: string;
  readonly state: CaseState;
  /** The redacted input, as the runtime recorded it (JSON text). */
  readonly input: string;
  /** The bad output seen last (redacted JSON text), when there was one. */
  readonly lastOutput?: string;
  /** Every failure kind seen on this input. */
  readonly kinds: readonly FailureKind[];
  /** The version tuples it failed on (deduplicated, newest last, bounded). */
  readonly failedOn: readonly VersionTuple[];
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Failing requests folded into this case. */
  readonly count: number;
  /** Request ids of a few of those requests (bounded), for the logs. */
  readonly sampleRequestIds: readonly string[];
  readonly details?: readonly string[];
  readonly expectation: CaseExpectation;
  readonly history: readonly CaseTransition[];
}

/** Environment of the functions of the learning half. */
export const LEARNING_ENV = {
  /** The regression store bucket name. */
  BUCKET: 'AI_RELEASE_STORE_BUCKET',
  /** The SNS topic that announces reviews. */
  TOPIC_ARN: 'AI_RELEASE_TOPIC_ARN',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// The release review (复盘): one per release on one plane, written to reviews/<service>/<releaseKey>.json|.md|.svg.

/** The guardrails on the runtime's metrics, in the order ReleaseAlarms creates them (and a combined alarm's terms). */
export const GUARDRAIL_KINDS = ['error-rate', 'p99-latency', 'cost-per-request', 'quality', 'safety-rate', 'contract-rate', 'canary-vs-stable'] as const;

/** The release alarms' kinds, in the order ReleaseAlarms creates them. */
export const RELEASE_ALARM_KINDS = [
  ...GUARDRAIL_KINDS,
  // The canary judge's verdict (issue 9): ReleaseAlarms.verdictAlarms, one per plane.
  'canary-verdict',
  // A plane's guardrails in one metric-math alarm, MAX of the terms above (alarms.layout 'combined', the default).
  'guardrails',
] as const;
export type ReleaseAlarmKind = (typeof RELEASE_ALARM_KINDS)[number];

/** Name of a release alarm: `<stack>-<service>-version-<kind>` (code plane) or `-service-<kind>` (config plane). */
export function releaseAlarmName(stack: string, service: string, plane: ReleasePlane, kind: ReleaseAlarmKind): string {
  return `${stack}-${service}-${plane === 'code' ? 'version' : 'service'}-${kind}`.slice(0, 255);
}

/**
 * The canary judge's cannot-judge alarm (issue 16-F), one per judge host (the platform; issue 15-E): it pages through
 * the platform's topic and never rolls back. `platform`: the host's name prefix (its stack's name, with the path of a
 * nested stack), the value of the metric's JUDGE_DIMENSION_PLATFORM dimension.
 */
export function judgeCannotJudgeAlarmName(platform: string): string {
  return `${platform}-canary-judge-cannot-judge`.slice(0, 255);
}

/** The SSM parameter that holds a service's deployed (compact) release manifest; its history is the release history. */
export function manifestParameterName(stackPath: string, service: string): string {
  return `/cdk-ai-release/${stackPath}/${service}/release-manifest`;
}

/** Environment of the review function (one per platform; the service arrives with each event). */
export const REVIEW_ENV = {
  /** The stack name: alarm names and the manifest parameter derive from it. */
  STACK: 'AI_RELEASE_STACK_NAME',
  /** The `<stack path>` of the manifest parameters: the top-level stack's name, then the nested stacks' ids. */
  MANIFEST_PATH: 'AI_RELEASE_MANIFEST_PATH',
  /**
   * JSON `{ [deployment group name]: service }`: the services whose code deployments reach the reviewer through the
   * platform's one rule (the event carries no service; the group names it). Services in other stacks keep a rule of
   * their own that adds `service` to the event.
   */
  DEPLOYMENT_GROUPS: 'AI_RELEASE_REVIEW_DEPLOYMENT_GROUPS',
} as const;

/** The AppConfig extension parameter that names the service of an association (arrives in `Parameters`). */
export const REVIEW_SERVICE_PARAMETER = 'service';

export type ReleasePlane = 'code' | 'config';

/**
 * How a release ended. `promoted`: all traffic on the new version; `rolled-back`: an alarm or a failure took it back;
 * `stopped`: a person (or CloudFormation) stopped it; `failed`: it failed and nothing rolled back.
 */
export type ReleaseOutcome = 'promoted' | 'rolled-back' | 'stopped' | 'failed';

export interface ReviewTimelineEntry {
  /** ISO-8601. */
  readonly at: string;
  readonly event: 'deployment-start' | 'traffic-step' | 'alarm' | 'alarm-ok' | 'first-failure' | 'rollback-start' | 'rollback-end' | 'deployment-end' | 'bake';
  readonly detail: string;
}

export interface ReviewComponentChange {
  readonly component: ManifestComponentName;
  readonly change: 'added' | 'removed' | 'modified' | 'unchanged';
  readonly before: string;
  readonly after: string;
  /** Changed keys (JSON paths), when both manifests carry content; the SSM (compact) manifests carry hashes only. */
  readonly keys?: readonly string[];
  readonly warning?: string;
  /** The evaluation section: set when its rubrics, scale or evaluator model changed (what "good" means changed). */
  readonly meaningChanged?: string;
}

export interface ReviewMetricRow {
  readonly metric: 'invocations' | 'error rate' | 'p99 latency' | 'cost per request' | 'quality' | 'safety-violation rate';
  readonly unit: string;
  /** The new version (code plane) or the service during the rollout (config plane). */
  readonly candidate?: number;
  /** The previous version over the same window (code plane), or the service before the rollout (config plane). */
  readonly baseline?: number;
}

/** One release's review. Versioned: readers refuse unknown versions. */
export interface ReleaseReview {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly plane: ReleasePlane;
  /** `code-<deploymentId>` or `config-<environmentId>-<deploymentNumber>`: one review per release. */
  readonly releaseKey: string;
  readonly outcome: ReleaseOutcome;
  readonly deployment: {
    readonly id: string;
    /** As the event said it: SUCCESS / FAILURE / STOP, or COMPLETE / ROLLED_BACK. */
    readonly state: string;
    /** Lambda versions (code) or config version labels (config). */
    readonly from?: string;
    readonly to?: string;
    readonly startedAt?: string;
    readonly endedAt?: string;
  };
  readonly releaseId?: string;
  readonly previousReleaseId?: string;
  /** What changed, plane by plane, from the manifest history (SSM parameter history). */
  readonly changes?: { readonly code: readonly ReviewComponentChange[]; readonly config: readonly ReviewComponentChange[] };
  readonly timeline: readonly ReviewTimelineEntry[];
  /** The measured time from the first failure record to rollback start, against the synth-time worst case. */
  readonly timeToRollback?: {
    readonly firstFailureAt: string;
    /** Where the first failure time came from: a regression case's firstSeen, or the first failing metric period. */
    readonly firstFailureSource: 'case' | 'metric';
    readonly rollbackStartedAt: string;
    readonly measuredSeconds: number;
    readonly worstCaseSeconds?: number;
  };
  readonly metrics?: {
    readonly start: string;
    readonly end: string;
    readonly baseline: 'previous-version' | 'before-rollout';
    readonly rows: readonly ReviewMetricRow[];
  };
  /**
   * The chart's subject: the alarm that fired (or the plane's error-rate alarm); for a combined guardrail alarm, the
   * guardrail (`term`) that crossed first, against its own threshold.
   */
  readonly chart?: {
    readonly alarm: string;
    readonly term?: string;
    readonly threshold: number;
    readonly comparison: '>' | '<';
    readonly points: number;
  };
  /**
   * Which guardrails of the combined alarm that fired crossed (recomputed from the metrics, earliest first), so the
   * review says which one rolled the release back. @default none (no combined alarm fired)
   */
  readonly guardrails?: {
    readonly alarm: string;
    readonly crossed: readonly {
      readonly term: string;
      readonly kind: ReleaseAlarmKind;
      readonly threshold: number;
      readonly comparison: '>' | '<';
      readonly periods: number;
      readonly firstAt?: string;
      readonly peak: number;
    }[];
  };
  readonly samples: {
    readonly byKind: Readonly<Partial<Record<FailureKind, { readonly cases: number; readonly requests: number }>>>;
    readonly blastRadius?: { readonly invocations: number; readonly failures: number };
    readonly topCases: readonly {
      readonly caseId: string;
      readonly state: CaseState;
      readonly kinds: readonly FailureKind[];
      readonly count: number;
      readonly input: string;
    }[];
    /** Candidates whose first failure fell in this release's window, on its version. */
    readonly newCandidates: number;
  };
  /** What the canary judge concluded for this release (issue 9), when it kept a record. */
  readonly judge?: ReviewJudge;
  /** One line; the notification carries it. */
  readonly conclusion: string;
  readonly actionItems: readonly string[];
  /** Notes people add (the Markdown has a section for them). */
  readonly notes: readonly string[];
  /** True when a lookup failed; `missing` says which and why. */
  readonly partial: boolean;
  readonly missing: readonly { readonly lookup: string; readonly reason: string }[];
  readonly generatedAt: string;
  /** Keys of the three objects, relative to the bucket. */
  readonly objects: { readonly json: string; readonly md: string; readonly svg: string };
}

/** Keys of one review's objects. */
export function reviewKeys(service: string, releaseKey: string): { json: string; md: string; svg: string } {
  const base = `${STORE_PREFIX.REVIEWS}/${service}/${releaseKey}`;
  return { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
}

// ---------------------------------------------------------------------------------------------------------------
// The regression gate (issue 9): accepted cases replayed against a new code version (CodeDeploy BeforeAllowTraffic)
// and against a new config version (through the `gate` alias, before the live rollout). One report per gate run,
// written to gates/<service>/<releaseKey>.json|.md. The release review links it; the CLI's `gate show` reads it.

/** The alias through which the runtime serves the *candidate* config environment. Only the gate role invokes it. */
export const GATE_ALIAS_NAME = 'gate';

/** How candidates (cases not yet accepted) take part in a gate: not at all, reported only, or blocking like accepted ones. */
export const GATE_CANDIDATE_MODES = ['off', 'report', 'block'] as const;
export type GateCandidateMode = (typeof GATE_CANDIDATE_MODES)[number];

/** Environment of a gate function of one service (RegressionGate without a host); a shared gate reads GateServiceSettingsDocument. */
export const GATE_ENV = {
  SERVICE: 'AI_RELEASE_GATE_SERVICE',
  /** Case cap before stratified sampling (default 500). */
  CASE_CAP: 'AI_RELEASE_GATE_CASE_CAP',
  /** Concurrent invocations (default 10). */
  CONCURRENCY: 'AI_RELEASE_GATE_CONCURRENCY',
  /** Per-case timeout, milliseconds. */
  CASE_TIMEOUT_MS: 'AI_RELEASE_GATE_CASE_TIMEOUT_MS',
  /** Required pass rate of the blocking cases, 0..1 (default 1: every accepted case). */
  PASS_RATE: 'AI_RELEASE_GATE_PASS_RATE',
  /** A GateCandidateMode. */
  CANDIDATES: 'AI_RELEASE_GATE_CANDIDATES',
  /** The service function's name (the gate invokes `<name>:<version>` or `<name>:gate`). */
  TARGET_FUNCTION: 'AI_RELEASE_GATE_TARGET_FUNCTION',
  /**
   * The share controller's function name, when the code canary is announced in the share document (assigned config
   * canaries): the pre-traffic hook tells it the version under test before traffic shifts. A gate of one service
   * only; a shared gate reads it from the service's gate block (GateServiceSettingsDocument.codeCanary).
   */
  CODE_CANARY_CONTROLLER: 'AI_RELEASE_GATE_CODE_CANARY_CONTROLLER',
  /** The traffic shift's whole duration in seconds (TrafficShift.totalMinutes × 60): the announcement's length. */
  CODE_CANARY_SHIFT_SECONDS: 'AI_RELEASE_GATE_CODE_CANARY_SHIFT_SECONDS',
} as const;

/**
 * The event the config plane sends the gate function (synchronous Lambda invoke) to replay the cases through the
 * `gate` alias against a candidate config version. The CodeDeploy hook event is the other event the gate accepts.
 */
export interface ConfigGateRequest {
  readonly kind: 'ai-release.config-gate';
  readonly service: string;
  /** The hosted configuration version deployed to the candidate environment. */
  readonly configVersion: string;
  /** Its content-derived label (`_release` meta), when known. */
  readonly configLabel?: string;
  /** The qualifier to invoke: the gate alias. */
  readonly qualifier: string;
  /**
   * Epoch milliseconds by which the caller needs the report (its share of the config plane's time budget). The gate
   * stops starting replays before it, so its report arrives in time, with the cases not run counted as not passed.
   * @default the gate function's own remaining time
   */
  readonly answerBy?: number;
  /**
   * The SSM parameter holding the service's gate settings (its release manifest parameter, `gate` block): a gate
   * function shared by a platform's services reads them there (issue 15 E). @default the gate's own environment
   */
  readonly settingsParameter?: string;
}

/**
 * The tag on a service's CodeDeploy deployment group that names the SSM parameter holding its gate settings (its
 * release manifest parameter): a CodeDeploy hook event carries only DeploymentId and LifecycleEventHookExecutionId, so
 * the platform's shared gate finds the service from the deployment's group (GetDeployment, ListTagsForResource).
 */
export const GATE_SETTINGS_TAG = 'cdk-ai-release:gate-settings';

/** Environment of a gate function shared by a platform's services (beside LEARNING_ENV.BUCKET; no GATE_ENV.SERVICE). */
export const GATE_SHARED_ENV = {
  /** `arn:<partition>:codedeploy:<region>:<account>:deploymentgroup:`: the groups' ARNs for ListTagsForResource. */
  GROUP_ARN_PREFIX: 'AI_RELEASE_GATE_GROUP_ARN_PREFIX',
} as const;

/**
 * A service's gate settings as its release manifest parameter holds them (`gate`, beside `locators`, which give the
 * function, the deployment group and the live AppConfig ids). Literals, but for codeCanary.controller: the deploy-time ids are the locators'.
 */
export interface GateServiceSettingsDocument {
  readonly caseCap: number;
  readonly concurrency: number;
  readonly caseTimeoutMs: number;
  readonly passRate: number;
  readonly candidates: GateCandidateMode;
  /** The service's gate timeout (RegressionGateOptions.timeout), milliseconds: the answer comes 10 s before it. */
  readonly timeoutMs: number;
  /** Whether this service's gate is its deployment group's BeforeAllowTraffic hook. */
  readonly hook: boolean;
  /** The evaluator, when it judges this service's replays: its settings and model id. */
  readonly evaluation?: GateEvaluationSettings & { readonly modelId: string };
  /**
   * The code canary's announcement (issue 17 D, assigned config canaries): the pre-traffic hook tells this service's
   * share controller the version under test. `controller` is the controller's function name (a deploy-time name,
   * resolved by CloudFormation in the parameter); `shiftSeconds` the traffic shift's whole length
   * (TrafficShift.totalMinutes × 60). Absent: nothing is announced (the runtime draws every answer).
   */
  readonly codeCanary?: { readonly controller: string; readonly shiftSeconds: number };
}

export type GateCaseOutcome = 'passed' | 'failed' | 'not-run';

export interface GateCaseResult {
  readonly caseId: string;
  readonly state: CaseState;
  readonly kinds: readonly FailureKind[];
  /** Whether this case's failure fails the gate (accepted cases; candidates when `block`). */
  readonly blocking: boolean;
  readonly outcome: GateCaseOutcome;
  /** Why it failed or was not run, one line each (no raw output: redacted, cut). */
  readonly reasons: readonly string[];
  readonly latencyMs?: number;
  /**
   * A case the evaluator judges (a reference answer or rubric floors): it was replayed k times, and `passed` of the
   * replays met every expectation; the case passes by the stated rule (GateReplayRule).
   */
  readonly replays?: { readonly k: number; readonly run: number; readonly passed: number; readonly rule: string };
  /** Evaluator scores of the replays, per criterion: the lowest and the median over the replays scored. */
  readonly scores?: readonly { readonly criterion: string; readonly min: number; readonly median: number; readonly floor: number; readonly n: number }[];
  /**
   * Config gate, pairwise: the case's preference over its k comparisons (the candidate's answer i against the live
   * config's answer i, each judged in both orders; lambda/gate/evaluate.ts casePreference).
   */
  readonly paired?: 'candidate' | 'live' | 'tie' | 'unscored';
  /** Config gate, pairwise: the case's comparisons by outcome (wins are the candidate's). @default absent (not compared) */
  readonly pairs?: { readonly wins: number; readonly losses: number; readonly ties: number; readonly unscored: number };
}

/** How many of a case's k replays must pass: a majority (more than half), all, or at least n. */
export type GateReplayPass = 'majority' | 'all' | { readonly atLeast: number };

/** What the evaluator part of one gate run found (GateReport.evaluation). */
export interface GateEvaluationSummary {
  /** The evaluation section the replays were judged by: the LIVE config's (a release is never judged by its own rubric). */
  readonly rubric: string;
  readonly evaluatorModel: string;
  readonly replays: { readonly k: number; readonly rule: string };
  /** Cases judged by the evaluator (they carry a reference answer or rubric floors). */
  readonly evaluatedCases: number;
  /** Evaluator model spend of this run, USD, and the run's cap (RegressionGateOptions.evaluation.maxUsd). */
  readonly spentUsd: number;
  readonly capUsd: number;
  /** Set when the cap stopped model calls: the calls refused count as unscored (cases not passed). */
  readonly capReached?: boolean;
  /** Config gate, pairwise against the live config (when on). */
  readonly paired?: {
    readonly wins: number;
    readonly losses: number;
    readonly ties: number;
    readonly unscored: number;
    /** Losses over decided pairs (wins + losses). */
    readonly lossRate: number;
    readonly maxLossRate: number;
    /** One-sided sign test of "the candidate loses more than it wins" (exact binomial, ties dropped). */
    readonly pValue: number;
    readonly alpha: number;
    readonly failed: boolean;
    /** Answers compared per side and case (the gate's k), and the rule that turns a case's comparisons into its preference. @default absent (reports before h7-evaluator: one answer per side) */
    readonly perSide?: number;
    readonly rule?: string;
  };
  readonly notes: readonly string[];
}

/** One gate run's report. Versioned: readers refuse unknown versions. */
export interface GateReport {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly plane: ReleasePlane;
  /** `code-<deploymentId>` (same key as the release's review) or `config-<configVersion>`. */
  readonly releaseKey: string;
  /** What was replayed against: the new Lambda version (code) or the candidate config (config). */
  readonly target: { readonly functionName: string; readonly qualifier: string; readonly configVersion?: string; readonly configLabel?: string };
  /** `passed-empty`: no case to replay (a first release passes with a note). */
  readonly verdict: 'passed' | 'failed' | 'passed-empty';
  readonly requiredPassRate: number;
  readonly blocking: { readonly total: number; readonly selected: number; readonly passed: number; readonly failed: number; readonly notRun: number };
  readonly reported: { readonly total: number; readonly selected: number; readonly passed: number; readonly failed: number; readonly notRun: number };
  /** True when more cases than the cap existed and a stratified sample was replayed. */
  readonly sampled: boolean;
  /** True when the gate stopped at its own deadline (cases not run count as not passed). */
  readonly deadlineReached: boolean;
  /** Set when the gate itself failed (it still answered, with Failed). */
  readonly error?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  /** One line: what `cdk deploy` and the review print. */
  readonly summary: string;
  readonly cases: readonly GateCaseResult[];
  readonly objects: { readonly json: string; readonly md: string };
  /** Set when the evaluator took part (evaluated cases, or the config gate's pairwise comparison). */
  readonly evaluation?: GateEvaluationSummary;
}

/** Keys of one gate report's objects. */
export function gateKeys(service: string, releaseKey: string): { json: string; md: string } {
  const base = `${STORE_PREFIX.GATES}/${service}/${releaseKey}`;
  return { json: `${base}.json`, md: `${base}.md` };
}

/** Gate metrics (namespace METRIC_NAMESPACE, dimension Service): 1 passed / 0 failed, and the blocking pass rate. */
export const GATE_METRIC = {
  PASSED: 'GatePassed',
  PASS_RATE: 'GatePassRate',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// The canary judge (issue 9): anytime-valid sequential tests of the new version (or config) against the stable one,
// published as a verdict metric a release alarm watches, so rollback keeps its one path.

/** Verdict metric (namespace METRIC_NAMESPACE, dimensions Service + Plane): 1 = regression shown, 0 = not (yet). */
export const JUDGE_METRIC = {
  VERDICT: 'CanaryVerdict',
  /**
   * 1 each time the judge could not judge a release in progress (an update failed, or its samples could not be
   * used), published twice: dimensions Service + Plane (what the review and an operator read), and Platform alone
   * (JUDGE_DIMENSION_PLATFORM: the judge host's name prefix), which the host's one alarm watches. It pages through
   * the platform's topic and never rolls back (lib/judge/canary-judge.ts, issues 16-F and 15-E).
   */
  CANNOT_JUDGE: 'CanaryJudgeCannotJudge',
} as const;
export const JUDGE_DIMENSION_PLANE = 'Plane';
/**
 * The platform dimension of the cannot-judge metric: its value is the judge host's name prefix (JUDGE_ENV.PLATFORM),
 * unique per account and Region (the stack's name, with the path of a nested stack), so two platforms in one account
 * never share the metric or its alarm.
 */
export const JUDGE_DIMENSION_PLATFORM = 'Platform';

/** What a judge concluded. `inconclusive`: the bound passed without enough evidence either way. */
export type JudgeVerdict = 'regression' | 'no-regression-shown' | 'inconclusive' | 'continue';

/** Environment of the judge function. */
export const JUDGE_ENV = {
  /**
   * The judge host's name prefix (the function's own environment, not a service's settings): the value of the
   * cannot-judge metric's Platform dimension. Absent: the metric is published per service only.
   */
  PLATFORM: 'AI_RELEASE_JUDGE_PLATFORM',
  /** False-rollback bound (default 0.01). */
  ALPHA: 'AI_RELEASE_JUDGE_ALPHA',
  /** Seconds the after-traffic hook keeps judging at 100 % (default 600). */
  AFTER_TRAFFIC_BOUND_SECONDS: 'AI_RELEASE_JUDGE_AFTER_TRAFFIC_SECONDS',
  /** The runtime's log group, queried with Logs Insights for per-invocation EMF lines. */
  LOG_GROUP: 'AI_RELEASE_JUDGE_LOG_GROUP',
  /**
   * The config plane's randomization unit: `cluster` when the runtime assigns conversations (configCanary
   * 'assigned'), `request` otherwise (default).
   */
  CONFIG_UNIT: 'AI_RELEASE_JUDGE_CONFIG_UNIT',
  /** The platform evaluator's log group: its evaluation-result lines are judged beside the runtime's (absent: none). */
  EVALUATION_LOG_GROUP: 'AI_RELEASE_JUDGE_EVALUATION_LOG_GROUP',
  /** Comma-separated evaluation metrics judged: criteria (e.g. `groundedness`) and `paired`. */
  EVALUATION_METRICS: 'AI_RELEASE_JUDGE_EVALUATION_METRICS',
  /** Seconds an evaluation sample window waits at most for its outstanding results (default 300). */
  EVALUATION_MAX_WAIT_SECONDS: 'AI_RELEASE_JUDGE_EVALUATION_MAX_WAIT_SECONDS',

  /**
   * The value tests' tolerance, JSON of a JudgeTolerance (`{"latencyMs":0.1,"costUsd":0.1,"quality":0.025}`): the
   * canary rolls back on a value metric only when shown worse by more than this. Absent: the engine's defaults.
   */
  TOLERANCE: 'AI_RELEASE_JUDGE_TOLERANCE',
} as const;

/**
 * How much worse the canary may be on each value metric before the judge's concurrent test counts it against the
 * canary (issue 16): the test's null is "worse by at most this". Set by CanaryJudge (from the canary plan's minimum
 * regressions: half of each), read by the judge function from JUDGE_ENV.TOLERANCE.
 */
export interface JudgeTolerance {
  /** Relative increase of latency tolerated (0.1 = the canary up to 10 % slower). @default 0.1 */
  readonly latencyMs?: number;
  /** Relative increase of cost per request tolerated. @default 0.1 */
  readonly costUsd?: number;
  /** Absolute drop of the quality score tolerated (0..1 scale). @default 0.025 */
  readonly quality?: number;
}

/** Prefix of the judge's persisted state in the regression store: judge/<service>/<releaseKey>.json. */
export const JUDGE_STATE_PREFIX = 'judge';

// ---------------------------------------------------------------------------------------------------------------
// The AppConfig agent (issue 11): the AWS AppConfig Agent Lambda extension's own environment variables, set by
// AiServiceConfig.bind() and read by the runtime, so the client's deadline is derived from the extension's.
// https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-integration-lambda-extensions-config.html

export const APPCONFIG_EXTENSION_ENV = {
  /** Comma-separated `/applications/<app>/environments/<env>/configurations/<profile>` paths fetched at extension init. */
  PREFETCH_LIST: 'AWS_APPCONFIG_EXTENSION_PREFETCH_LIST',
  /** How long the extension waits for AppConfig when it refreshes its cache, milliseconds. */
  POLL_TIMEOUT_MILLIS: 'AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS',
  /** How often the extension polls AppConfig in the background, seconds (the extension's default is 45). */
  POLL_INTERVAL_SECONDS: 'AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS',
} as const;

/**
 * The extension's poll timeout when `AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS` is not set, milliseconds: "the maximum
 * amount of time … the extension waits for a response from AWS AppConfig when refreshing data in the cache", default
 * 3000 (AppConfig user guide, the extension's environment variables; the poll interval's default there is 45 s).
 */
export const APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS = 3000;

/** How much longer the runtime's extension client waits than the extension's poll timeout, milliseconds. */
export const APPCONFIG_EXTENSION_CLIENT_MARGIN_MS = 500;

// ---------------------------------------------------------------------------------------------------------------
// Regression gate, code plane and engine (h-gate): how the gate asks the runtime for its own judgment of one replay.
//
// The gate invokes the target with a Lambda ClientContext `{"custom":{"ai-release-gate":"1"}}` (base64 JSON, at most
// 3,583 bytes, passed to synchronous invocations only — Lambda API reference, Invoke). The Node.js runtime hands the
// parsed JSON to the handler as `context.clientContext`. The AiRuntime then answers `{ [GATE_RESPONSE_KEY]: verdict }`
// instead of the bare output, so the gate judges with the runtime's own contract, safety and quality checks.

/** The ClientContext `custom` key that asks the runtime for its verdict. */
export const GATE_CLIENT_CONTEXT_KEY = 'ai-release-gate';
/** The key of the runtime's answer to a gate invocation. */
export const GATE_RESPONSE_KEY = 'ai-release.gate-verdict';

/** What the runtime found on one invocation the gate made. */
export interface GateInvocationVerdict {
  readonly output: unknown;
  /** Failure kinds the runtime found (empty: a clean answer). */
  readonly kinds: readonly FailureKind[];
  /** Why (contract messages, safety reasons…), bounded. */
  readonly details: readonly string[];
  readonly latencyMs: number;
  readonly qualityScore?: number;
  readonly degraded: boolean;
  readonly tuple: VersionTuple;
  /** What the replay cost (tokens × the model's prices), when measured: the evaluator charges shadow answers to its budget. */
  readonly costUsd?: number;
  /**
   * The answer's evidence, when the service gives it (AiResult.evaluation): the gate's evaluator scores the answer
   * text with the passages it was given. Only in a gate replay's answer, never logged.
   */
  readonly evidence?: {
    readonly answer?: string;
    readonly passages?: readonly { readonly id: string; readonly text: string }[];
    readonly citations?: readonly string[];
    readonly toolCalls?: readonly { readonly name: string }[];
    readonly stopReason?: string;
    /** The answering call's guardrail trace (AnswerEvidence.guardrailTrace): the gate reads its contextual grounding scores. */
    readonly guardrailTrace?: unknown;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The review's evaluation view (issue 17 E, lambda/review/evaluation.ts): scores, pairs and the behaviour fingerprint.

export interface ScoreInterval {
  readonly n: number;
  readonly mean: number;
  /** 95 % interval of the mean, cluster-robust by input (case id). */
  readonly low: number;
  readonly high: number;
}

export interface FingerprintRow {
  readonly field: 'answer length' | 'refusal rate' | 'tool calls per answer' | 'citation rate' | 'stop reasons' | 'input tokens' | 'output tokens';
  readonly test: 'rank (Mann–Whitney)' | 'two-proportion z' | 'chi-square (homogeneity)';
  /** Medians, rates or the category mix, in words. */
  readonly canary: string;
  readonly stable: string;
  readonly pValue: number;
  /** Holm-adjusted over the family. */
  readonly adjustedP: number;
  readonly shifted: boolean;
  /**
   * How far the canary moved against stable, in words (h11-eval17): `median 400 → 560 (+40 %)` for the rank fields,
   * `5.0 % → 20.0 % (+15.0 points)` for the rates, the category whose share moved most for stop reasons
   * (`max_tokens 4.0 % → 24.0 % (+20.0 points)`). Absent in reviews written before it, and where an arm has no sample.
   */
  readonly change?: string;
}

/** What the evaluator saw of one release, canary against stable. */
export interface ReviewEvaluation {
  /** The rubric whose scores are shown (the stable one), and what changed in it, if the release changed it. */
  readonly rubric: { readonly label: string; readonly meaningChanged?: string };
  readonly samples: {
    readonly canary: number;
    readonly stable: number;
    readonly budgetSkipped: number;
    readonly otherRubric: number;
    /**
     * Of each arm's scoring samples (not pair-only), how many the model scored (the others the budget skipped, by
     * case-id hash at one rate for both arms: lambda/evaluator/budget.ts). Absent before h8-detjudge reviews.
     */
    readonly modelScored?: { readonly [arm in 'canary' | 'stable']: { readonly scored: number; readonly of: number } };
  };
  readonly scores: readonly {
    readonly criterion: string;
    readonly source: 'deterministic' | 'model' | 'guardrail';
    readonly canary?: ScoreInterval;
    readonly stable?: ScoreInterval;
  }[];
  readonly paired: { readonly wins: number; readonly losses: number; readonly ties: number; readonly unscored: number };
  /** Pairs the canary lost (the stable answer preferred in both orders): redacted input, cut, and the evaluator's reasons. */
  readonly worstPairs: readonly { readonly caseId: string; readonly input: string; readonly reasons: readonly string[] }[];
  readonly fingerprint: readonly FingerprintRow[];
  readonly alpha: number;
  readonly notes: readonly string[];
}

/** The release review's evaluation view (declaration merge: one optional field). */
export interface ReleaseReview {
  /** Set when the evaluator scored samples during the release: "what changed in behaviour". */
  readonly evaluation?: ReviewEvaluation;
}

/** The release review's link to the gate report of the same release (declaration merge: one optional field). */
export interface ReleaseReview {
  /** The gate report of this release, when the gate ran (keys relative to the bucket). */
  readonly gate?: { readonly verdict: GateReport['verdict'] | 'unknown'; readonly json: string; readonly md: string };
}

/** More environment of the gate function (set by RegressionGate). */
export const GATE_DEPLOYMENT_ENV = {
  /** The CodeDeploy application and deployment group the gate is the pre-traffic hook of: other deployments are refused. */
  APPLICATION: 'AI_RELEASE_GATE_CODEDEPLOY_APPLICATION',
  DEPLOYMENT_GROUP: 'AI_RELEASE_GATE_CODEDEPLOY_GROUP',
  /** `<function>:gate`, the qualified name the config plane replays through. */
  TARGET_GATE_ALIAS: 'AI_RELEASE_GATE_TARGET_GATE_ALIAS',
} as const;

/** Environment of the gate function when the evaluator judges replays (RegressionGateOptions.evaluation, issue 17 E). */
export const GATE_EVALUATION_ENV = {
  /** JSON GateEvaluationSettings: replays per evaluated case, the pass rule, the spend cap, the pairwise comparison. */
  SETTINGS: 'AI_RELEASE_GATE_EVALUATION',
  /** The AppConfig application, LIVE environment and release profile: the live evaluation section judges the replays. */
  APPLICATION: 'AI_RELEASE_GATE_APPCONFIG_APPLICATION',
  LIVE_ENVIRONMENT: 'AI_RELEASE_GATE_APPCONFIG_LIVE_ENVIRONMENT',
  PROFILE: 'AI_RELEASE_GATE_APPCONFIG_PROFILE',
  /** The evaluator model id the gate role may invoke (the evaluation section's inference profile at synth). */
  MODEL_ID: 'AI_RELEASE_GATE_EVALUATOR_MODEL',
} as const;

/** The gate's evaluation settings as deployed (RegressionGateOptions.evaluation with defaults filled in). */
export interface GateEvaluationSettings {
  /** Replays of each case that carries a reference answer or rubric floors. */
  readonly k: number;
  readonly pass: GateReplayPass;
  /** Most the evaluator model may cost in one gate run, USD (a cap of its own, not the evaluation section's ledger). */
  readonly maxUsd: number;
  /** Config gate: compare the candidate's answer with the live config's on every replayed case, and fail on losses. */
  readonly pairwise?: { readonly maxLossRate: number; readonly alpha: number };
}

// ---------------------------------------------------------------------------------------------------------------
// The operator CLI (issue 10): where a deployed service's moving parts are. Physical names and AppConfig ids exist
// only after deployment, so the deployed (compact) manifest in SSM carries them (CloudFormation resolves them into
// the parameter's value); the file manifest in cdk.out does not. `status`, `rollback`, `degrade` and the store
// commands read them from there. Never part of the release id: the same release in another stack is the same release.

/** Where one deployed service's deployments, configs, alarms and store are. Values are as AWS names them. */
export interface ReleaseLocators {
  /** The stack's name: release alarm names derive from it (releaseAlarmName). */
  readonly stack: string;
  /** The service function's name; callers invoke its `alias`. */
  readonly function: string;
  readonly alias: string;
  /** The CodeDeploy application and deployment group of the code plane. */
  readonly codeDeploy: { readonly application: string; readonly deploymentGroup: string };
  /** AppConfig ids: the application, the release config's environment and profile, the degrade flags' environment and profile, the instant strategy. */
  readonly appConfig: {
    readonly application: string;
    readonly environment: string;
    readonly profile: string;
    readonly degradeEnvironment: string;
    readonly degradeProfile: string;
    readonly instantStrategy: string;
  };
  /** The regression store bucket (cases, gate reports), when the service has one. */
  readonly store?: string;
  /** The bucket reviews are written to, when it is not the store. */
  readonly reviews?: string;
}

/** The deployed (compact) manifest as the SSM parameter holds it: the manifest plus the locators. */
export type DeployedReleaseManifest = ReleaseManifest & { readonly locators?: ReleaseLocators; readonly gate?: GateServiceSettingsDocument };

/** Names of the composite alarms of a service (release-alarms.ts names them so). */
export function compositeAlarmNames(stack: string, service: string): { readonly config: string; readonly any: string } {
  return { config: `${stack}-${service}-config-rollback`.slice(0, 255), any: `${stack}-${service}-release`.slice(0, 255) };
}

// ---------------------------------------------------------------------------------------------------------------
// The canary judge's wiring (issue 9, h-judge): the judge function's own environment and its persisted state. One
// function per service: a rate(1 minute) schedule (code plane), the AfterAllowTraffic hook (after full traffic) and
// the AT_DEPLOYMENT_TICK extension action (config plane).

/** Environment of the canary judge function, next to JUDGE_ENV and LEARNING_ENV.BUCKET. */
export const CANARY_JUDGE_ENV = {
  SERVICE: 'AI_RELEASE_JUDGE_SERVICE',
  /** The CodeDeploy application and deployment group of the service's `live` alias. */
  CODEDEPLOY_APPLICATION: 'AI_RELEASE_JUDGE_CODEDEPLOY_APPLICATION',
  DEPLOYMENT_GROUP: 'AI_RELEASE_JUDGE_DEPLOYMENT_GROUP',
  /** AppConfig application and release-config profile ids (the config plane's canary is the new version's label). */
  APPCONFIG_APPLICATION: 'AI_RELEASE_JUDGE_APPCONFIG_APPLICATION',
  CONFIG_PROFILE: 'AI_RELEASE_JUDGE_CONFIG_PROFILE',
  /** Seconds between judge updates while a deployment runs: the release alarms' period. */
  PERIOD_SECONDS: 'AI_RELEASE_JUDGE_PERIOD_SECONDS',
} as const;

/**
 * Parameters of the canary judge's AT_DEPLOYMENT_TICK extension, set on each live environment's association: the tick
 * function is one per platform (lambda/canary-judge-tick), and the association says whose rollout a tick is.
 */
export const CANARY_JUDGE_TICK_PARAMETER = {
  SERVICE: 'service',
} as const;

/** The judge's outcome for one release, as persisted at judge/<service>/<releaseKey>.json and read by the review. */
export interface JudgeRecord {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly plane: ReleasePlane;
  readonly releaseKey: string;
  /** What was compared: Lambda versions (code) or config labels (config). */
  readonly canary: string;
  readonly stable?: string;
  /** `canary`: judged during the traffic shift; `after-traffic`: the AfterAllowTraffic hook owns the judging. */
  readonly phase: 'canary' | 'after-traffic';
  /** End (epoch ms, exclusive) of the samples already judged: the next update starts here. */
  readonly until: number;
  readonly updates: number;
  readonly samples: { readonly canary: number; readonly stable: number };
  /** `continue` while running; a final verdict once the hook (or a regression) concluded. */
  readonly verdict: JudgeVerdict;
  readonly concludedAt?: string;
  /** The evidence of the last update (metric, e-value, threshold, both sides). */
  readonly evidence: readonly unknown[];
  /** Set when judging failed (the hook still answered; the verdict is then inconclusive). */
  readonly error?: string;
  /** The statistics engine's own state (JSON). */
  readonly engine: unknown;
  /** The stable baseline read before the release started and fed to the engine first (absent: none was read). */
  readonly baseline?: JudgeBaseline;
  /**
   * Code plane: epoch ms from which the deployment's state said all traffic was on the new version (the AllowTraffic
   * lifecycle event's end), once the engine got its first full-traffic batch. Absent while the traffic still shifts,
   * and on the config plane (judged only while both configs serve): the phase comes from the deployment, never from
   * one batch (issue 16-F).
   */
  readonly fullTrafficAt?: number;
  /** Samples the judge read but could not use, and why (each reason once). Absent: none. */
  readonly unused?: JudgeUnused;
  /** Updates that failed: the judge could not judge them (the cannot-judge metric said so). Absent: none. */
  readonly failures?: JudgeFailures;
  /** How failures were grouped into clusters (issue 16 B). Absent: a record from before clusters. */
  readonly clusters?: JudgeClusters;
  /** The evaluator's results judged as metrics of the family (issue 17 E). Absent: none are judged. */
  readonly evaluation?: JudgeEvaluation;
}

/** What a judge record says about the evaluation metrics it judged. */
export interface JudgeEvaluation {
  /** The evaluation metrics in the family: `evaluation:<criterion>` and `evaluation:paired`. */
  readonly judged: readonly string[];
  /** End (epoch ms, exclusive) of the sample times already read: the next read starts here. */
  readonly until: number;
  /** Evaluation results read (samples), score observations and paired outcomes fed to the engine. */
  readonly results: number;
  readonly scores: number;
  readonly pairs: number;
  /** Results read whose sides were neither the canary's nor the stable's (another release, the gate). */
  readonly unmatched: number;
  /**
   * Since h7-judgeev: windows closed with every sample's result (`complete`) or at the wait bound (`atBound`); samples
   * whose result had not arrived when their window closed; the wait bound last used (ms after a window's end).
   */
  readonly windows?: { readonly complete: number; readonly atBound: number };
  readonly outstanding?: number;
  readonly waitMs?: number;
  /** Results that arrived after their window closed, by side: not judged, counted (the review reads them all). */
  readonly late?: { readonly canary: number; readonly stable: number };
  /** Bookkeeping: arrival time up to which late results were counted; [window end, cut] of closed windows; delays measured ([10 s bucket, count]); the last poll. */
  readonly lateScan?: number;
  readonly cuts?: readonly (readonly [number, number])[];
  readonly delays?: readonly (readonly [number, number])[];
  readonly polledAt?: number;
  /** Since h9-checks: the runtime's check-result lines judged (their scores are counted in `scores`). */
  readonly checkLines?: number;
}

/** Samples read but not judged (e.g. a canary-only window during the shift with nothing concurrent to compare). */
export interface JudgeUnused {
  readonly samples: number;
  readonly reasons: readonly string[];
}

/** The judge's failed updates of one release: how many, the last error and when (ISO 8601). */
export interface JudgeFailures {
  readonly count: number;
  readonly last: string;
  readonly at: string;
}

// ---- Canary judge: clusters and randomization units (issue 16 B, h-judge16) ----

/** How the judge grouped failures that arrive together: what a judge record says about its clusters. */
export interface JudgeClusters {
  /**
   * The randomization unit: `request` (the code plane's weighted alias routes each invocation on its own) or
   * `cluster` (one assignment per conversation: the config plane's runtime assignment) or `environment` (AppConfig's
   * own rollout tells execution environments: the judge bets once per batch in which environments switched, on
   * which of them switched; lambda/judge/environments.ts).
   */
  readonly unit: 'request' | 'cluster' | 'environment';
  /**
   * What the cluster key was: the runtime's case id (retries of one input), the conversation id, the execution
   * environment (unit `environment`), or none.
   */
  readonly key: 'case' | 'conversation' | 'environment' | 'none';
  /** Failure events that counted (the first of their cluster) and those folded into an earlier one of their cluster. */
  readonly counted: number;
  readonly folded: number;
  /** Observations that carried a cluster key. */
  readonly keyed: number;
  /** unit `environment`: execution environments seen, and switch bets settled (each one bet on which environments switched). */
  readonly environments?: number;
  readonly switchBets?: number;
}

/**
 * Fields of the runtime's invocation line (the EMF JSON line) the judge reads for clusters, when present: the input's
 * hash (service and input as sent: retries of one input share it; the field keeps the name `caseId`), the conversation id the caller gave,
 * and the candidate share in force when the conversation was assigned (per-conversation config assignment).
 */
export const JUDGE_CLUSTER_FIELD = {
  CASE_ID: 'caseId',
  CONVERSATION_ID: 'conversationId',
  ASSIGNED_SHARE: 'assignedShare',
  /**
   * The execution environment that wrote the line: AWS_LAMBDA_LOG_STREAM_NAME (one log stream per execution
   * environment; OpenTelemetry's faas.instance for Lambda is the log stream name), else an id drawn at init.
   */
  ENVIRONMENT: 'environment',
} as const;

/** Key of a release's judge record. */
export function judgeKey(service: string, releaseKey: string): string {
  return `${JUDGE_STATE_PREFIX}/${service}/${releaseKey}.json`;
}

/** The canary judge's verdict as the review reports it. */
export interface ReviewJudge {
  /** `inconclusive` also when the release ended before the judge concluded (e.g. a threshold alarm rolled it back first). */
  readonly verdict: Exclude<JudgeVerdict, 'continue'>;
  readonly samples: { readonly canary: number; readonly stable: number };
  readonly updates: number;
  /** One line: what decided it. */
  readonly detail: string;
  /** The judge record, relative to the bucket. */
  readonly key: string;
  /** Set when the judge could not judge part of the release (failed updates, unusable samples): what, in one line. */
  readonly cannotJudge?: string;
  /**
   * Set when a before/after comparison (the new version at full traffic against the stable baseline read before the
   * release) crossed its threshold: it informs the review and never rolled back (issue 16 A). One line.
   */
  readonly beforeAfter?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The config gate (issue 9, config plane): a candidate AppConfig environment the runtime reads only when invoked
// through the `gate` alias, and a PRE_START_DEPLOYMENT extension on the live environment that refuses any version
// without a passing gate record. See README "Config gate".

/** Environment of a service function bound to its config (AiServiceConfig.bind), beside ENV. */
export const CONFIG_GATE_ENV = {
  /** The candidate environment: a release config version is deployed here, instantly, before the gate replays it. */
  CANDIDATE_ENVIRONMENT: 'AI_RELEASE_APPCONFIG_CANDIDATE_ENVIRONMENT',
} as const;

/** The key of a config gate run: its report is gates/<service>/config-<version>.json (gateKeys). */
export function configGateReleaseKey(configVersion: string): string {
  return `config-${configVersion}`;
}

/** The gate check extension's association parameters (one association per service's live environment). */
export const GATE_CHECK_PARAMETER = {
  SERVICE: 'service',
  /** The release config profile id: the only profile deployed to the live environment. */
  PROFILE: 'profile',
} as const;

/** Environment of the gate check function (one per platform). */
export const GATE_CHECK_ENV = {
  /** The regression store bucket holding gates/<service>/config-<version>.json. */
  BUCKET: 'AI_RELEASE_GATE_CHECK_BUCKET',
} as const;

/**
 * Failure records of invocations through the `gate` alias carry this type instead of FAILURE_RECORD_TYPE: a replay
 * of a regression case must not be collected as a new candidate case (the gate reports it), and its metrics use the
 * Service dimension `<service>${GATE_SERVICE_SUFFIX}`, so the live alarms never judge a replay.
 */
export const GATE_REPLAY_FAILURE_TYPE = 'ai-release.gate-replay-failure';
export const GATE_SERVICE_SUFFIX = '#gate';

// ---- Canary judge: config rollouts judged by the schedule (h-judge2) ----

/** Environment of the canary judge for the config plane: the live release environment whose rollouts it judges. */
export const CANARY_JUDGE_CONFIG_ENV = {
  ENVIRONMENT: 'AI_RELEASE_JUDGE_APPCONFIG_ENVIRONMENT',
} as const;

/**
 * Environment of the canary judge of a service whose config canary is assigned (AiRelease `configCanary: 'assigned'`):
 * the key of the share controller's current record (share/<service>/current.json). While it says `ramping`, the
 * schedule judges that release (judge/<service>/<releaseKey>.json, where the controller reads the verdict).
 */
export const CANARY_JUDGE_ASSIGNED_ENV = {
  SHARE_RECORD: 'AI_RELEASE_JUDGE_SHARE_RECORD',
} as const;

/** The judge record key of a config rollout (one per deployment number of the live environment). */
export function configJudgeReleaseKey(environmentId: string, deploymentNumber: number | string): string {
  return `config-${environmentId}-${deploymentNumber}`;
}

// ---- Canary judge: the stable baseline before a release (h-baseline) ----

/** Environment of the canary judge: how much stable traffic before a release to read as the baseline (0 = none). */
export const CANARY_JUDGE_BASELINE_ENV = {
  WINDOW_SECONDS: 'AI_RELEASE_JUDGE_BASELINE_WINDOW_SECONDS',
} as const;

/** What the judge fed the engine as the stable baseline (`canaryShare: 0` batches) before the first canary batch. */
export interface JudgeBaseline {
  /** The window read, epoch ms [from, to): `to` is the release's start. */
  readonly from: number;
  readonly to: number;
  /** Stable samples fed, and in how many batches. */
  readonly samples: number;
  readonly batches: number;
  /** Set when the read failed or ran out of time: the judge went on with what it had (possibly nothing). */
  readonly error?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The review of a config release the config gate stopped (h-gatereview). Such a release never starts a live AppConfig
// deployment, so no ON_DEPLOYMENT_* action reaches the reviewer: the config deployer invokes the platform's reviewer
// asynchronously with this event instead, and the reviewer writes a review with outcome 'stopped'.

export const CONFIG_GATE_STOPPED_KIND = 'ai-release.config-gate-stopped';

/** One failing (or not run) case of the gate report, as the review lists it. */
export interface ConfigGateStoppedCase {
  readonly caseId: string;
  readonly state: CaseState;
  readonly kinds: readonly FailureKind[];
  readonly outcome: GateCaseOutcome;
  /** One line each, already redacted and cut by the gate. */
  readonly reasons: readonly string[];
}

export interface ConfigGateStoppedEvent {
  readonly kind: typeof CONFIG_GATE_STOPPED_KIND;
  readonly service: string;
  /** The hosted version number the gate stopped. */
  readonly configVersion: string;
  readonly configLabel?: string;
  readonly gate: {
    /** Keys of the gate report (the report's own, or where the gate writes it when it did not answer). */
    readonly json: string;
    readonly md: string;
    /** `error`: the gate did not answer (function error, timeout) or its answer was unusable. */
    readonly verdict: 'failed' | 'error';
    /** The report's one-line summary, or what went wrong asking the gate. */
    readonly summary: string;
    /** Failing blocking cases first, at most CONFIG_GATE_STOPPED_MAX_CASES. */
    readonly cases?: readonly ConfigGateStoppedCase[];
  };
  /** ISO-8601: when the deployer stopped the release. */
  readonly at: string;
}

/** Cases carried in the event: an asynchronous invoke's payload is limited (Lambda quotas: 1 MB). */
export const CONFIG_GATE_STOPPED_MAX_CASES = 20;

// ---------------------------------------------------------------------------------------------------------------
// Config canaries assigned per conversation (issue 16 C, h-assign16). During a config release the runtime holds the
// live config (live environment) and the candidate (candidate environment, where the config gate staged it), and
// assigns each conversation — or request, when the caller names no conversation — by a hash keyed per release to
// the candidate with the release's current share. The share is a small JSON document in its own AppConfig
// environment (no monitors, nothing else deployed there), moved by the share controller (lambda/share-controller).

/** How a config release reaches traffic: `assigned` (runtime, per conversation) or `appconfig` (AppConfig's rollout, per client). */
export const CONFIG_CANARY_MODES = ['assigned', 'appconfig'] as const;
export type ConfigCanaryMode = (typeof CONFIG_CANARY_MODES)[number];

/** Environment of a service function whose config canary is assigned (ConfigShare.bind), beside ENV and CONFIG_GATE_ENV. */
export const SHARE_ENV = {
  /** The AppConfig environment holding the share document. */
  ENVIRONMENT: 'AI_RELEASE_APPCONFIG_SHARE_ENVIRONMENT',
  /** The share document's configuration profile. */
  PROFILE: 'AI_RELEASE_SHARE_PROFILE',
  /**
   * "1" when the code plane announces its canary in the share document (`codeCanary`, written through the share
   * controller by the regression gate's pre-traffic hook): the runtime then draws code-plane pair-only samples only
   * on the announced version, until its expiry. Unset: the runtime cannot tell its code canary and draws every answer.
   */
  CODE_CANARY: 'AI_RELEASE_SHARE_CODE_CANARY',
} as const;

/**
 * The code plane's canary, as the share document carries it (issue 17 D): the Lambda version CodeDeploy is shifting
 * traffic to, announced by the pre-traffic hook, and when the announcement lapses. Only that version draws pair-only
 * samples, only before `until`: a release that never clears it stops sampling by itself.
 */
export interface CodeCanaryState {
  /** The canary's Lambda version (AWS_LAMBDA_FUNCTION_VERSION of its execution environments). */
  readonly functionVersion: string;
  /** The code release (`code-<deploymentId>`). */
  readonly releaseKey: string;
  /** When it was written and when it lapses, epoch ms. */
  readonly at: number;
  readonly until: number;
}

/**
 * Longest a code canary announcement may run (until − at): CodeDeploy's 48-hour limit on a traffic shift plus the
 * hook's hour. A longer one is a writer's mistake and is ignored (no code-plane pairs), never honoured for days.
 */
export const CODE_CANARY_MAX_WINDOW_MS = 49 * 3600 * 1000;

/** What the pre-traffic hook sends the share controller (synchronous invoke) to announce or narrow the code canary. */
export interface CodeCanaryEvent {
  readonly kind: 'ai-release.code-canary';
  readonly functionVersion: string;
  readonly releaseKey: string;
  /** Seconds from the controller's now until the announcement lapses. */
  readonly forSeconds: number;
}

/** The share document, as the share controller deploys it and the runtime reads it. */
export interface CanaryShareDocument {
  readonly schemaVersion: 1;
  /** The release the share belongs to: the key of the assignment hash. Empty when no release runs. */
  readonly releaseKey: string;
  /** Fraction of conversations on the candidate, 0..1. 0: everyone on live (no release, rollback, promotion done). */
  readonly share: number;
  /**
   * `_release.contentHash` of the candidate this share applies to. The runtime assigns to the candidate only when the
   * candidate environment serves exactly this content; otherwise everyone stays on live (and it says so).
   */
  readonly candidateContentHash?: string;
  /** The candidate's hosted version number and label, for people and the judge. */
  readonly candidateVersion?: string;
  readonly candidateLabel?: string;
  /** Step of the controller's schedule (0-based) and when it was set (ISO-8601). */
  readonly step?: number;
  readonly at?: string;
  /**
   * The shares of this release so far, oldest first (epoch ms). A conversation that says when it started is assigned
   * with the share in force then (never above `share`), so it keeps one arm for its whole life, also across steps;
   * one that started before the release stays on live.
   */
  readonly history?: readonly { readonly at: number; readonly share: number }[];
  /** The code plane's canary while a code release shifts traffic (set only when no config release runs). */
  readonly codeCanary?: CodeCanaryState;
}

/** Which arm one invocation ran on, stamped on every log line, EMF document and failure record (`assignment`). */
export interface ConfigAssignment {
  readonly arm: 'live' | 'candidate';
  /**
   * The share the unit was assigned with: the share in force, or — for a conversation that said when it started —
   * the share in force then (never more than the current one).
   */
  readonly share: number;
  /** The release key ('' when no release runs). */
  readonly releaseKey: string;
  /**
   * 16 hex of HMAC-SHA256(releaseKey, unit id): the cluster of the judge (one conversation), never the id itself,
   * and unlinkable across releases.
   */
  readonly unit: string;
  /** `conversation`: the caller named one; `request`: it did not, the request id is the unit. */
  readonly unitKind: 'conversation' | 'request';
  /**
   * Set when the invocation was hashed to the candidate but served live: the candidate environment serves another
   * version than the share names (`candidate-mismatch`), or its config could not be read or used (`candidate-unavailable`).
   */
  readonly fallback?: 'candidate-mismatch' | 'candidate-unavailable';
}

/** Key of the assignment on a log line and a failure record, and prefix of its EMF metadata keys. */
export const ASSIGNMENT_KEY = 'assignment';

/** Environment of the share controller function (one per service). */
export const SHARE_CONTROLLER_ENV = {
  SERVICE: 'AI_RELEASE_SHARE_SERVICE',
  APPLICATION: 'AI_RELEASE_SHARE_APPLICATION',
  /** The share document's environment and profile. */
  SHARE_ENVIRONMENT: 'AI_RELEASE_SHARE_ENVIRONMENT',
  SHARE_PROFILE: 'AI_RELEASE_SHARE_PROFILE',
  /** The live environment and release config profile (promotion deploys the passed version there). */
  LIVE_ENVIRONMENT: 'AI_RELEASE_SHARE_LIVE_ENVIRONMENT',
  CONFIG_PROFILE: 'AI_RELEASE_SHARE_CONFIG_PROFILE',
  /** The instant strategy (no growth, no bake): a share move and a promotion take effect at the next poll. */
  STRATEGY: 'AI_RELEASE_SHARE_STRATEGY',
  /** Comma-separated names of the safety-net alarms: any in ALARM sets the share to 0. */
  ALARMS: 'AI_RELEASE_SHARE_ALARMS',
  /** The schedule: comma-separated `<percent>:<seconds>` steps (the last one's seconds is its minimum hold). */
  SCHEDULE: 'AI_RELEASE_SHARE_SCHEDULE',
  /** Seconds a client may lag a deployment (extension poll interval + runtime TTL): promotion waits this long. */
  CLIENT_LAG_SECONDS: 'AI_RELEASE_SHARE_CLIENT_LAG_SECONDS',
} as const;

/** Prefix of the share controller's records in the regression store: share/<service>/<releaseKey>.json. */
export const SHARE_STATE_PREFIX = 'share';

export function shareKey(service: string, releaseKey: string): string {
  return `${SHARE_STATE_PREFIX}/${service}/${releaseKey}.json`;
}

/** The release key of an assigned config canary: one per candidate version and start. */
export function assignedReleaseKey(candidateVersion: string, startedAtMs: number): string {
  return `config-assigned-${candidateVersion}-${startedAtMs.toString(36)}`;
}

/** What the share controller decided for one release, persisted at shareKey(service, releaseKey). */
export interface ShareControllerRecord {
  readonly schemaVersion: 1;
  readonly service: string;
  readonly releaseKey: string;
  readonly candidateVersion: string;
  readonly candidateLabel?: string;
  readonly candidateContentHash: string;
  /** `ramping` → `promoting` (live deployment started) → `promoted`; or `rolled-back`. */
  readonly phase: 'ramping' | 'promoting' | 'promoted' | 'rolled-back';
  /** Index into the schedule of the share in force. */
  readonly step: number;
  readonly share: number;
  /** Epoch ms the current step's share was deployed. */
  readonly stepSince: number;
  readonly startedAt: number;
  /** The live deployment of a promotion, and when it completed (epoch ms). */
  readonly promotion?: { readonly deploymentNumber?: number; readonly completedAt?: number };
  /** Why it ended (the alarm, the judge's verdict), and when (epoch ms). */
  readonly reason?: string;
  readonly endedAt?: number;
  /** Every share deployed, in order: the review's timeline. */
  readonly history: readonly { readonly at: number; readonly share: number; readonly why: string }[];
  /** The start event's `request`, when it named one: a repeat of that request is recognised whatever the phase. */
  readonly startRequest?: string;
}

/** The event that starts an assigned config canary (sent by the config deployer after the gate passed, or by a person). */
export interface ShareControllerStartEvent {
  readonly kind: 'ai-release.share-start';
  readonly candidateVersion: string;
  readonly candidateLabel?: string;
  readonly candidateContentHash: string;
  /**
   * Who asks, once per request (the config deployer: its CloudFormation request's id). A start whose request is the
   * current record's `startRequest` is a repeated or late delivery: it answers with that release and starts nothing,
   * even when the release has ended. Without it, a start of a version whose release ended starts a new release.
   */
  readonly request?: string;
}

/** The share controller's answer to a start: the release that serves it, and its phase. */
export interface ShareControllerStarted {
  readonly action: 'started';
  readonly releaseKey: string;
  readonly phase: ShareControllerRecord['phase'];
  /** True when the release was already there (a repeated start): nothing was deployed. */
  readonly repeated?: boolean;
}

/**
 * Idempotency markers of asynchronously invoked library functions (Lambda may deliver an event twice, and retries a
 * throttled one for up to its maximum event age): `markers/<function>/<id>.json` in the library's bucket, written with
 * `If-None-Match: *`; a 412 answer means the event was already taken (lambda/shared/idempotency.ts).
 */
export const MARKER_PREFIX = 'markers';
export type MarkerOwner = 'config-deployer' | 'review' | 'cost-guard';
export function markerKey(owner: MarkerOwner, id: string): string {
  return `${MARKER_PREFIX}/${owner}/${id}.json`;
}

// ---------------------------------------------------------------------------------------------------------------
// An evaluator you can trust (issue 17 F, h5-evtrust): what the review says of the evaluator's agreement with people
// and of the evaluation budget of this release (lambda/review/evaluator-trust.ts).

/** The evaluator's standing in one release's review, when the service's answers are evaluated. */
export interface ReviewEvaluatorTrust {
  /** Measured from the labels in the store when the review was written; absent: nobody labelled yet. */
  readonly agreement?: EvaluatorAgreement;
  /** One line for people (describeAgreement). */
  readonly agreementLine: string;
  /** The evaluation budget of this release, when its ledger entry was found. */
  readonly budget?: {
    /** The ledger's key of the release (the version tuple's code version and config label). */
    readonly releaseKey: string;
    readonly spentUsd: number;
    readonly perReleaseUsd?: number;
    /** When a cap first refused a sample of this release, and which: sampling stopped then. */
    readonly stoppedAt?: string;
    readonly stoppedBy?: 'release' | 'day';
    /** When the throttle first refused a sample (both arms scored at one falling rate from then on), and its lowest rate. */
    readonly throttledAt?: string;
    readonly lowestRate?: number;
  };
  /** One line for people on the budget. */
  readonly budgetLine?: string;
}

export interface ReleaseReview {
  /** The evaluator's agreement with people and this release's evaluation budget, when the service is evaluated. */
  readonly evaluatorTrust?: ReviewEvaluatorTrust;
}

// ---- Canary judge: one function per platform (issue 15 E, h7-shared) ----

/**
 * The `source` of a service's schedule event: each service's rate(1 minute) rule invokes the platform's one judge
 * function with this constant input (`{ source, settings }`), where `settings` maps the CANARY_JUDGE_ENV, JUDGE_ENV,
 * CANARY_JUDGE_CONFIG_ENV, CANARY_JUDGE_BASELINE_ENV and CANARY_JUDGE_ASSIGNED_ENV keys to the service's values (the
 * function's own environment holds only the bucket: Lambda's 4 KB of environment cannot hold fifty services).
 */
export const CANARY_JUDGE_INPUT_SOURCE = 'cdk-ai-release.canary-judge';

/** A service's settings document, as its schedule rule's input carries it. */
export interface CanaryJudgeServiceInput {
  readonly source: typeof CANARY_JUDGE_INPUT_SOURCE;
  readonly settings: Readonly<Record<string, string>>;
}

/**
 * Where the schedule leaves a code deployment's service settings for the AfterAllowTraffic hook, whose event names
 * only the deployment: judge/_deployments/<deploymentId>.json (a service name starts with a letter, so no service's
 * records are under `_deployments`).
 */
export function judgeDeploymentPointerKey(deploymentId: string): string {
  return `${JUDGE_STATE_PREFIX}/_deployments/${deploymentId}.json`;
}
