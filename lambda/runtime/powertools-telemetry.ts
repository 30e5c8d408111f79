import { randomBytes } from 'node:crypto';
import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { MetricResolution, Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  ASSIGNMENT_KEY,
  JUDGE_CLUSTER_FIELD,
  type ConfigAssignment,
  DIMENSION,
  METRIC,
  METRIC_NAMESPACE,
  METRIC_UNIT,
  type FailureRecord,
  type MetricName,
  type VersionTuple,
} from '../shared/contract';
import type { CheckResultLine, EvaluationSample } from '../shared/evaluation';
import type { InvocationMeasurements, TelemetryPort } from './ai-runtime';
import { recordLine, withoutEmpty } from './sample-line';
import { alcLevelFromEnv, type LambdaLogLevel, levelRank, POWERTOOLS_THRESHOLD, RECORD_MINIMUM_LEVEL, recordLevel } from './record-level';

const UNIT: Record<string, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
};

/**
 * `,"key":value` as JSON.stringify writes a property (numbers as it writes them: NaN and ±Infinity as null), or
 * nothing for a value it omits (undefined, a function). `key` is the text before the value: `,"name":`.
 */
function field(key: string, value: unknown): string {
  if (typeof value === 'number') return `${key}${Number.isFinite(value) ? String(value) : 'null'}`;
  const text = JSON.stringify(value);
  return text === undefined ? '' : key + text;
}

/** Whether every field of the tuple the EMF document writes reads the same in `a` and `b`. */
function sameEmfFields(a: VersionTuple, b: VersionTuple): boolean {
  return (
    a.config === b.config &&
    a.prompt === b.prompt &&
    a.model === b.model &&
    a.retrieval === b.retrieval &&
    a.tools === b.tools &&
    a.outputContract === b.outputContract &&
    a.degrade === b.degrade &&
    a.codeHash === b.codeHash &&
    a.evaluation === b.evaluation &&
    a.codeVersion === b.codeVersion
  );
}

/** The EMF document's text up to its Timestamp's value, and from there to its metric definitions. */
const EMF_HEAD = '{"_aws":{"Timestamp":';
const EMF_DIRECTIVE = `,"CloudWatchMetrics":[${JSON.stringify({ Namespace: METRIC_NAMESPACE, Dimensions: [[DIMENSION.SERVICE], [DIMENSION.SERVICE, DIMENSION.VERSION]] }).slice(0, -1)},"Metrics":`;
const EMF_CASE_ID = `,${JSON.stringify(JUDGE_CLUSTER_FIELD.CASE_ID)}:`;
const EMF_ASSIGNMENT = {
  arm: `,${JSON.stringify(`${ASSIGNMENT_KEY}Arm`)}:`,
  share: `,${JSON.stringify(`${ASSIGNMENT_KEY}Share`)}:`,
  releaseKey: `,${JSON.stringify(`${ASSIGNMENT_KEY}ReleaseKey`)}:`,
  unit: `,${JSON.stringify(`${ASSIGNMENT_KEY}Unit`)}:`,
  unitKind: `,${JSON.stringify(`${ASSIGNMENT_KEY}UnitKind`)}:`,
  fallback: `,${JSON.stringify(`${ASSIGNMENT_KEY}Fallback`)}:`,
};
const valueKey = (name: MetricName) => `,${JSON.stringify(name)}:`;
const EMF_INVOCATIONS = `${valueKey(METRIC.INVOCATIONS)}1`;
const EMF_VALUE = {
  latency: valueKey(METRIC.LATENCY),
  cost: valueKey(METRIC.COST_USD),
  input: valueKey(METRIC.INPUT_TOKENS),
  output: valueKey(METRIC.OUTPUT_TOKENS),
  quality: valueKey(METRIC.QUALITY_SCORE),
};
const EMF_EVENT = {
  error: `${valueKey(METRIC.ERRORS)}1`,
  safety: `${valueKey(METRIC.SAFETY_VIOLATIONS)}1`,
  contract: `${valueKey(METRIC.CONTRACT_VIOLATIONS)}1`,
  degraded: `${valueKey(METRIC.DEGRADED)}1`,
};

/**
 * The directive's Metrics array for one set of metrics, in the order they are added (viaPowertools): the five every
 * invocation writes, then QualityScore (bit 1), Errors (2), SafetyViolations (4), ContractViolations (8), Degraded
 * (16); each high-resolution (StorageResolution 1: the 10-second alarms).
 */
function emfDefinitions(mask: number): string {
  const names: MetricName[] = [METRIC.INVOCATIONS, METRIC.LATENCY, METRIC.COST_USD, METRIC.INPUT_TOKENS, METRIC.OUTPUT_TOKENS];
  if (mask & 1) names.push(METRIC.QUALITY_SCORE);
  if (mask & 2) names.push(METRIC.ERRORS);
  if (mask & 4) names.push(METRIC.SAFETY_VIOLATIONS);
  if (mask & 8) names.push(METRIC.CONTRACT_VIOLATIONS);
  if (mask & 16) names.push(METRIC.DEGRADED);
  return JSON.stringify(names.map((name) => ({ Name: name, Unit: UNIT[METRIC_UNIT[name]], StorageResolution: MetricResolution.High })));
}

/** Every set's Metrics array, by its bits: 32 short strings made once per process. */
const EMF_DEFINITIONS: readonly string[] = Array.from({ length: 32 }, (_, mask) => emfDefinitions(mask));

/** The message of an evaluation sample's log line. */
/** Drawn once per execution environment (module scope): the environment id when Lambda gives no log stream name. */
const INIT_ENVIRONMENT = `env-${randomBytes(8).toString('hex')}`;
const SAMPLE_MESSAGE = 'AI evaluation sample';
/** The message of a check-result line written through the Logger (when the compact line cannot be). */
const CHECKS_MESSAGE = 'AI check results';

/**
 * Attribute keys the direct line leaves to Powertools: the ones its Logger drops with a warning (its ReservedKeys, not
 * exported) and the other keys of its envelope (the Lambda context's, the X-Ray id), into which it deep-merges.
 */
const ENVELOPE_KEYS = new Set([
  'level',
  'message',
  'sampling_rate',
  'service',
  'timestamp',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'xray_trace_id',
  'tenant_id',
]);

/**
 * The Logger's members the direct line uses: its own envelope (the protected createAndPopulateLogItem: level, message,
 * timestamp with its time-zone handling, service, Lambda context, sampling rate, X-Ray id, persistent and temporary
 * keys), its buffering test (protected shouldBufferLog), and what its printLog writes with (its console and JSON
 * indentation). Optional: should an upgrade rename one, the line goes through `logger.info`.
 */
interface LoggerInternals {
  createAndPopulateLogItem?: (level: number, input: string, extra: unknown[]) => { getAttributes?: () => unknown } | undefined;
  shouldBufferLog?: (traceId: string | undefined, level: number) => boolean;
  console?: { info?: (line: string) => void; warn?: (line: string) => void; error?: (line: string) => void };
  logIndentation?: unknown;
}

/** The console method Powertools' printLog writes a level with (CRITICAL, Lambda's FATAL, through `error`). */
function consoleMethod(level: LambdaLogLevel): 'info' | 'warn' | 'error' {
  const rank = levelRank(level);
  return rank >= levelRank('ERROR') ? 'error' : rank >= levelRank('WARN') ? 'warn' : 'info';
}

/** The Logger method that writes at `threshold` (a Powertools LogLevelThreshold, INFO or above). */
function loggerMethod(threshold: number): 'info' | 'warn' | 'error' | 'critical' {
  if (threshold >= LogLevelThreshold.CRITICAL) return 'critical';
  if (threshold >= LogLevelThreshold.ERROR) return 'error';
  if (threshold >= LogLevelThreshold.WARN) return 'warn';
  return 'info';
}

/**
 * Telemetry through Powertools: EMF with StorageResolution 1 (10-second alarms need high-resolution metrics), and
 * JSON log lines that carry the version tuple.
 */
export class PowertoolsTelemetry implements TelemetryPort {
  public readonly logger: Logger;
  private readonly metrics: Metrics;
  /**
   * The EMF document is written directly (one JSON.stringify, one console write) when the Metrics instance is the
   * adapter's own: the same bytes Powertools writes for the same calls (test/runtime-emf-direct.test.ts), without its
   * ~25 store calls per request. A caller's own Metrics instance (options.metrics) is always driven through its API.
   */
  private readonly direct: boolean;
  /**
   * The evaluation sample's line is written directly (its attributes set on the Logger's own envelope, one
   * JSON.stringify, one write) when the Logger is the adapter's own: the same bytes `logger.info` writes
   * (test/runtime-sample-direct.test.ts), without its per-key reserved-key checks and deep merge of the whole sample
   * (~35 µs of a sampled request). A caller's own Logger (options.logger: its formatter, replacer, buffering) is always
   * driven through its API.
   */
  private readonly directLog: boolean;
  private readonly service: string;
  /**
   * The level Lambda's advanced logging controls keep (AWS_LAMBDA_LOG_LEVEL, read once): the sample and failure lines
   * carry at least it, and above INFO the EMF document carries it too, so that ALC does not drop them.
   */
  private readonly alcLevel: LambdaLogLevel | undefined;
  /**
   * The execution environment writing the lines (JUDGE_CLUSTER_FIELD.ENVIRONMENT): AWS_LAMBDA_LOG_STREAM_NAME, one log
   * stream per execution environment (Lambda's defined runtime environment variables; OpenTelemetry's faas.instance
   * for Lambda is the log stream name), else an id drawn once here. AppConfig's own rollout tells environments, so
   * the judge needs it to bet on which environments switched (lambda/judge/environments.ts).
   */
  private readonly environment: string;
  /** The environment's field of every EMF document, serialized once. */
  private readonly emfEnvironment: string;

  /**
   * @param options.env where AWS_LAMBDA_LOG_LEVEL is read from. @default process.env
   */
  constructor(service: string, options: { logger?: Logger; metrics?: Metrics; direct?: boolean; env?: Readonly<Record<string, string | undefined>> } = {}) {
    this.logger = options.logger ?? new Logger({ serviceName: service });
    this.metrics = options.metrics ?? new Metrics({ namespace: METRIC_NAMESPACE, serviceName: service });
    this.direct = options.direct ?? options.metrics === undefined;
    this.directLog = options.direct ?? options.logger === undefined;
    this.service = service;
    this.alcLevel = alcLevelFromEnv(options.env ?? process.env);
    this.environment = (options.env ?? process.env).AWS_LAMBDA_LOG_STREAM_NAME || INIT_ENVIRONMENT;
    this.emfEnvironment = field(`,${JSON.stringify(JUDGE_CLUSTER_FIELD.ENVIRONMENT)}:`, this.environment);
    // Our dimension names, not Powertools' default `service`: [Service] and [Service, Version].
    this.metrics.clearDefaultDimensions();
    this.metrics.setDefaultDimensions({ [DIMENSION.SERVICE]: service });
  }

  public stamp(tuple: VersionTuple, requestId: string, assignment?: ConfigAssignment): void {
    // The key is reset on every invocation: an unassigned one after an assigned one carries no stale arm.
    this.logger.appendKeys({ version: tuple, requestId });
    if (assignment) this.logger.appendKeys({ [ASSIGNMENT_KEY]: { ...assignment } });
    else this.logger.removeKeys([ASSIGNMENT_KEY]);
  }

  public invocation(tuple: VersionTuple, requestId: string, m: InvocationMeasurements, assignment?: ConfigAssignment): void {
    // An empty or non-string version is one Powertools drops with a warning: left to Powertools to say so.
    if (this.direct && typeof tuple.codeVersion === 'string' && tuple.codeVersion !== '') this.writeDirect(tuple, requestId, m, assignment);
    else this.viaPowertools(tuple, requestId, m, assignment);
  }

  /**
   * The document Powertools' serializeMetrics builds for the calls of viaPowertools, key for key in its order:
   * `_aws` (Timestamp, the directive: namespace, dimension sets [Service] and [Service, Version], metric definitions),
   * then the metadata in the order added, the dimensions, the metric values.
   */
  private writeDirect(tuple: VersionTuple, requestId: string, m: InvocationMeasurements, assignment?: ConfigAssignment): void {
    // Powertools' own members (isDisabled, console): should an upgrade rename them, the API path writes the document.
    const own = this.metrics as unknown as { isDisabled?: () => boolean; console?: { log?: (line: string) => void } };
    if (typeof own.isDisabled !== 'function' || typeof own.console?.log !== 'function') {
      this.viaPowertools(tuple, requestId, m, assignment);
      return;
    }
    if (own.isDisabled()) return;
    // The document as text (h12-hot): what JSON.stringify writes for the object Powertools builds, key for key, with
    // the parts that never change per tuple or per set of metrics serialized once (emfParts, emfDefinitions); only the
    // request's own values are serialized per request (field: JSON.stringify's text for each, keys it omits omitted).
    const mask =
      (m.qualityScore !== undefined ? 1 : 0) | (m.error ? 2 : 0) | (m.safetyViolation ? 4 : 0) | (m.contractViolation ? 8 : 0) | (m.degraded ? 16 : 0);
    const defs = EMF_DEFINITIONS[mask];
    const parts = this.emfParts(tuple);
    const now = Date.now();
    let line = `${EMF_HEAD}${now}${EMF_DIRECTIVE}${defs}}]}`;
    const keep = this.emfLevel();
    if (keep) line += `,"level":${JSON.stringify(keep)},"timestamp":${JSON.stringify(new Date(now).toISOString())}`;
    line += field(',"requestId":', requestId) + parts.meta;
    if (m.caseId) line += field(EMF_CASE_ID, m.caseId);
    line += this.emfEnvironment;
    if (assignment) {
      line +=
        field(EMF_ASSIGNMENT.arm, assignment.arm) +
        field(EMF_ASSIGNMENT.share, String(assignment.share)) +
        field(EMF_ASSIGNMENT.releaseKey, assignment.releaseKey) +
        field(EMF_ASSIGNMENT.unit, assignment.unit) +
        field(EMF_ASSIGNMENT.unitKind, assignment.unitKind);
      if (assignment.fallback) line += field(EMF_ASSIGNMENT.fallback, assignment.fallback);
    }
    line += parts.dimensions + EMF_INVOCATIONS;
    line +=
      field(EMF_VALUE.latency, m.latencyMs) +
      field(EMF_VALUE.cost, m.costUsd) +
      field(EMF_VALUE.input, m.inputTokens) +
      field(EMF_VALUE.output, m.outputTokens);
    if (mask & 1) line += field(EMF_VALUE.quality, m.qualityScore);
    if (m.error) line += EMF_EVENT.error;
    if (m.safetyViolation) line += EMF_EVENT.safety;
    if (m.contractViolation) line += EMF_EVENT.contract;
    if (m.degraded) line += EMF_EVENT.degraded;
    // The console Powertools writes through (its own Console on stdout, or the global one in POWERTOOLS_DEV mode).
    own.console.log(`${line}}`);
  }

  private lastEmfParts?: { tuple: VersionTuple; seen: VersionTuple; meta: string; dimensions: string };

  /**
   * The tuple's fields of the EMF document (config … degrade, codeHash, evaluation) and its dimensions' values
   * (Service, Version), serialized once per tuple: the runtime stamps one tuple object per served config version.
   * Kept while every field reads the same (a handler may change the tuple object it was handed).
   */
  private emfParts(tuple: VersionTuple): { meta: string; dimensions: string } {
    const last = this.lastEmfParts;
    if (last && last.tuple === tuple && sameEmfFields(last.seen, tuple)) return last;
    let meta =
      field(',"config":', tuple.config) +
      field(',"prompt":', tuple.prompt) +
      field(',"model":', tuple.model) +
      field(',"retrieval":', tuple.retrieval) +
      field(',"tools":', tuple.tools) +
      field(',"outputContract":', tuple.outputContract) +
      field(',"degrade":', tuple.degrade);
    if (tuple.codeHash) meta += field(',"codeHash":', tuple.codeHash);
    if (tuple.evaluation) meta += field(',"evaluation":', tuple.evaluation);
    const dimensions = field(`,${JSON.stringify(DIMENSION.SERVICE)}:`, this.service) + field(`,${JSON.stringify(DIMENSION.VERSION)}:`, tuple.codeVersion);
    this.lastEmfParts = { tuple, seen: { ...tuple }, meta, dimensions };
    return this.lastEmfParts;
  }

  private viaPowertools(tuple: VersionTuple, requestId: string, m: InvocationMeasurements, assignment?: ConfigAssignment): void {
    const metrics = this.metrics;
    // An empty set publishes the default dimensions alone ([Service]); the second adds the executed version.
    metrics.addDimensions({});
    metrics.addDimensions({ [DIMENSION.VERSION]: tuple.codeVersion });
    const add = (name: MetricName, value: number) => metrics.addMetric(name, UNIT[METRIC_UNIT[name]], value, MetricResolution.High);
    add(METRIC.INVOCATIONS, 1);
    add(METRIC.LATENCY, m.latencyMs);
    add(METRIC.COST_USD, m.costUsd);
    add(METRIC.INPUT_TOKENS, m.inputTokens);
    add(METRIC.OUTPUT_TOKENS, m.outputTokens);
    if (m.qualityScore !== undefined) add(METRIC.QUALITY_SCORE, m.qualityScore);
    // Event counters only when they happened: the alarms use Sum, for which a missing datapoint and a 0 agree,
    // and each metric left out is ~1 µs less on every request.
    if (m.error) add(METRIC.ERRORS, 1);
    if (m.safetyViolation) add(METRIC.SAFETY_VIOLATIONS, 1);
    if (m.contractViolation) add(METRIC.CONTRACT_VIOLATIONS, 1);
    if (m.degraded) add(METRIC.DEGRADED, 1);
    // Above INFO, ALC keeps the document only with a level it keeps and an RFC 3339 timestamp (emfLevel).
    const keep = this.emfLevel();
    if (keep) {
      metrics.addMetadata('level', keep);
      metrics.addMetadata('timestamp', new Date(Date.now()).toISOString());
    }
    // The tuple rides along as metadata: searchable in Logs Insights, no dimension cardinality.
    metrics.addMetadata('requestId', requestId);
    metrics.addMetadata('config', tuple.config);
    metrics.addMetadata('prompt', tuple.prompt);
    metrics.addMetadata('model', tuple.model);
    metrics.addMetadata('retrieval', tuple.retrieval);
    metrics.addMetadata('tools', tuple.tools);
    metrics.addMetadata('outputContract', tuple.outputContract);
    metrics.addMetadata('degrade', tuple.degrade);
    if (tuple.codeHash) metrics.addMetadata('codeHash', tuple.codeHash);
    if (tuple.evaluation) metrics.addMetadata('evaluation', tuple.evaluation);
    // The judge's cluster key: retries of one input share it (JUDGE_CLUSTER_FIELD.CASE_ID).
    if (m.caseId) metrics.addMetadata(JUDGE_CLUSTER_FIELD.CASE_ID, m.caseId);
    // The execution environment (AppConfig's rollout unit).
    metrics.addMetadata(JUDGE_CLUSTER_FIELD.ENVIRONMENT, this.environment);
    // The config canary arm (assigned canaries): metadata, so the judge can count by arm and by conversation in Logs
    // Insights without a dimension per conversation. Flat keys: Logs Insights reads `assignmentArm` directly.
    if (assignment) {
      metrics.addMetadata(`${ASSIGNMENT_KEY}Arm`, assignment.arm);
      metrics.addMetadata(`${ASSIGNMENT_KEY}Share`, String(assignment.share));
      metrics.addMetadata(`${ASSIGNMENT_KEY}ReleaseKey`, assignment.releaseKey);
      metrics.addMetadata(`${ASSIGNMENT_KEY}Unit`, assignment.unit);
      metrics.addMetadata(`${ASSIGNMENT_KEY}UnitKind`, assignment.unitKind);
      if (assignment.fallback) metrics.addMetadata(`${ASSIGNMENT_KEY}Fallback`, assignment.fallback);
    }
    metrics.publishStoredMetrics();
  }

  /**
   * The EMF document's own `level` when ALC keeps only levels above INFO (WARN, ERROR, FATAL): a JSON line without a
   * `level` counts as INFO to Lambda and is dropped there, and with it every metric the alarms read. Undefined at INFO or without ALC (the
   * document stays Powertools' own, byte for byte).
   */
  private emfLevel(): LambdaLogLevel | undefined {
    return this.alcLevel !== undefined && levelRank(this.alcLevel) > levelRank('INFO') ? this.alcLevel : undefined;
  }

  public failure(record: FailureRecord): void {
    // Top-level keys, so a subscription filter `{ $.type = "ai-release.failure" }` matches the line. Powertools
    // owns the `service` key and writes the same service name there.
    const { service: _service, ...rest } = record;
    this.record(RECORD_MINIMUM_LEVEL.failure, `AI failure: ${record.kinds.join(', ')}`, rest);
  }

  public sample(sample: EvaluationSample): void {
    // Top-level keys, like a failure record, so the evaluator's filter `{ $.type = "ai-release.evaluation-sample" }` matches.
    // The sample's `service` key is skipped, not copied away (no copy of the sample without it: h8-hotpath).
    this.record(RECORD_MINIMUM_LEVEL.sample, SAMPLE_MESSAGE, sample, 'service');
  }

  /**
   * One check-result line (lambda/runtime/runtime-checks.ts): compact, without the Logger's envelope (its Lambda
   * context, X-Ray id and tuple keys would triple the line on every answer), one JSON.stringify written through the
   * console Powertools writes the EMF document with. Above INFO it carries the level and timestamp ALC keeps, as the EMF
   * document does. When Powertools' console is not reachable, the line goes through the Logger at INFO.
   */
  public checks(line: CheckResultLine): void {
    const own = this.metrics as unknown as { console?: { log?: (text: string) => void } };
    const keep = this.emfLevel();
    const out = keep ? { level: keep, timestamp: new Date(line.sampleAt).toISOString(), ...line } : line;
    if (this.direct && typeof own.console?.log === 'function') own.console.log(JSON.stringify(out));
    else this.record(RECORD_MINIMUM_LEVEL.sample, CHECKS_MESSAGE, line, 'service');
  }

  /**
   * One record line (a sample or a failure record), at `minimum` raised to the level ALC keeps (recordLevel), written
   * whatever the Logger's own level: these lines are the release loop's data (the evaluator, the judge's evaluation
   * metrics, the regression set read them), not diagnostics a log level should silence. The adapter's own Logger:
   * directly (lineDirect). A caller's Logger, or a line the direct path cannot write exactly: through the Logger's
   * API at the record's level or the Logger's, whichever is higher (the Logger writes nothing below its level), so
   * POWERTOOLS_LOG_LEVEL up to CRITICAL still writes it; SILENT does not (the release policy warns).
   */
  private record(minimum: LambdaLogLevel, message: string, attributes: object, skip?: string): void {
    const level = recordLevel(minimum, this.alcLevel);
    if (this.directLog && this.lineDirect(level, message, attributes, skip)) return;
    const own = this.logger.level;
    const threshold = Math.max(POWERTOOLS_THRESHOLD[level], typeof own === 'number' && own < LogLevelThreshold.SILENT ? own : 0);
    const rest: Record<string, unknown> = { ...attributes };
    if (skip !== undefined) delete rest[skip];
    this.logger[loggerMethod(threshold)]({ message, ...rest });
  }

  /**
   * What `logger.info({ message, ...attributes })` (`warn`, `error` for those levels; `critical` for FATAL, with
   * the `level` Lambda knows, FATAL, instead of Powertools' CRITICAL) writes (Logger.processLogItem and printLog) for
   * the adapter's own Logger, without its level test and its per-key work on the attributes: the envelope is the
   * Logger's own item for the message alone,
   * the attributes are set on it top-level (a key the persistent keys also have keeps its place and takes the line's
   * value, as Powertools' merge does), top-level empty values (undefined, '', null) are dropped as printLog drops
   * them, and the line is one JSON.stringify, written through the Logger's console. Powertools' deep copy and JSON
   * replacer change nothing on plain JSON data (checked: plainJson); anything else goes through the API. Returns false,
   * having written nothing, when it cannot do exactly that: then the caller goes through the Logger's API.
   */
  private lineDirect(level: LambdaLogLevel, message: string, attributes: object, skip?: string): boolean {
    const own = this.logger as unknown as LoggerInternals;
    const method = consoleMethod(level);
    const write = own.console?.[method];
    const indentation = own.logIndentation;
    if (typeof own.createAndPopulateLogItem !== 'function' || typeof own.shouldBufferLog !== 'function') return false;
    if (typeof write !== 'function' || typeof indentation !== 'number') return false;
    const threshold = POWERTOOLS_THRESHOLD[level];
    // A line Powertools would buffer (log buffering on, an X-Ray trace id present) is left to it.
    if (own.shouldBufferLog('trace-id', threshold)) return false;
    const attrs = attributes as Readonly<Record<string, unknown>>;
    const keys = Object.keys(attrs);
    for (const k of keys) if (k !== skip && ENVELOPE_KEYS.has(k)) return false;
    // No test of the Logger's level (POWERTOOLS_LOG_LEVEL, ALC, debug sampling): the record is written at any of them.
    const envelope = own.createAndPopulateLogItem(threshold, message, [])?.getAttributes?.();
    if (typeof envelope !== 'object' || envelope === null) return false;
    const item = envelope as Record<string, unknown>;
    if (typeof item.level !== 'string') return false;
    // Powertools names its threshold 24 CRITICAL, which is not one of Lambda's levels (a line with an unknown level
    // counts as INFO): the line says FATAL, the level ALC keeps at its strictest.
    if (level === 'FATAL') item.level = 'FATAL';
    // The compact line (Lambda's default): the envelope serialized once and the record's keys appended as text
    // (sample-line.ts, h10-hot17), one write. Undefined: a value recordLine cannot write exactly, so the Logger's API.
    if (indentation === 0) {
      const text = recordLine(item, attrs, keys, skip);
      if (text === undefined) return false;
      write.call(own.console, text);
      return true;
    }
    for (const k of keys) if (k !== skip) item[k] = attrs[k];
    const line = withoutEmpty(item, { nodes: 4096 });
    if (line === undefined) return false;
    write.call(own.console, JSON.stringify(line, null, indentation));
    return true;
  }

  public warn(message: string, extra: Record<string, unknown> = {}): void {
    this.logger.warn({ message, ...extra });
  }
}
