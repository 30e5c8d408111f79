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
import type { EvaluationSample } from '../shared/evaluation';
import type { InvocationMeasurements, TelemetryPort } from './ai-runtime';

const UNIT: Record<string, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
};

/** The message of an evaluation sample's log line. */
const SAMPLE_MESSAGE = 'AI evaluation sample';

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
  console?: { info?: (line: string) => void };
  logIndentation?: unknown;
}

/**
 * Whether `value` is plain JSON data (strings, numbers, booleans, null, undefined, plain objects and arrays, no cycle,
 * no toJSON, no key Powertools' merge skips): data for which Powertools' deep copy and its JSON replacer (Errors,
 * bigints, circular references) change nothing, so `JSON.stringify` alone writes what the Logger writes.
 * `budget.nodes` bounds the walk (a cycle or a huge value exhausts it, and the line goes through the Logger's API).
 */
function plainJson(value: unknown, depth: number, budget: { nodes: number }): boolean {
  if (--budget.nodes < 0 || depth > 32) return false;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') return true;
  if (t !== 'object') return false; // a bigint, a function, a symbol
  if (value === null) return true;
  const v = value as Record<string, unknown>;
  if (v.toJSON !== undefined) return false;
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v)) {
    if (proto !== Array.prototype) return false;
    for (let i = 0; i < v.length; i++) if (!plainJson((v as unknown as unknown[])[i], depth + 1, budget)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v) {
    if (k === '__proto__' || k === 'constructor' || !plainJson(v[k], depth + 1, budget)) return false;
  }
  return true;
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

  constructor(service: string, options: { logger?: Logger; metrics?: Metrics; direct?: boolean } = {}) {
    this.logger = options.logger ?? new Logger({ serviceName: service });
    this.metrics = options.metrics ?? new Metrics({ namespace: METRIC_NAMESPACE, serviceName: service });
    this.direct = options.direct ?? options.metrics === undefined;
    this.directLog = options.direct ?? options.logger === undefined;
    this.service = service;
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
    const defs: { Name: MetricName; Unit: string; StorageResolution: number }[] = [];
    const values: Record<string, number> = {};
    const add = (name: MetricName, value: number) => {
      defs.push({ Name: name, Unit: UNIT[METRIC_UNIT[name]], StorageResolution: MetricResolution.High });
      values[name] = value;
    };
    add(METRIC.INVOCATIONS, 1);
    add(METRIC.LATENCY, m.latencyMs);
    add(METRIC.COST_USD, m.costUsd);
    add(METRIC.INPUT_TOKENS, m.inputTokens);
    add(METRIC.OUTPUT_TOKENS, m.outputTokens);
    if (m.qualityScore !== undefined) add(METRIC.QUALITY_SCORE, m.qualityScore);
    if (m.error) add(METRIC.ERRORS, 1);
    if (m.safetyViolation) add(METRIC.SAFETY_VIOLATIONS, 1);
    if (m.contractViolation) add(METRIC.CONTRACT_VIOLATIONS, 1);
    if (m.degraded) add(METRIC.DEGRADED, 1);
    const doc: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [[DIMENSION.SERVICE], [DIMENSION.SERVICE, DIMENSION.VERSION]], Metrics: defs }],
      },
      requestId,
      config: tuple.config,
      prompt: tuple.prompt,
      model: tuple.model,
      retrieval: tuple.retrieval,
      tools: tuple.tools,
      outputContract: tuple.outputContract,
      degrade: tuple.degrade,
    };
    if (tuple.codeHash) doc.codeHash = tuple.codeHash;
    if (tuple.evaluation) doc.evaluation = tuple.evaluation;
    if (m.caseId) doc[JUDGE_CLUSTER_FIELD.CASE_ID] = m.caseId;
    if (assignment) {
      doc[`${ASSIGNMENT_KEY}Arm`] = assignment.arm;
      doc[`${ASSIGNMENT_KEY}Share`] = String(assignment.share);
      doc[`${ASSIGNMENT_KEY}ReleaseKey`] = assignment.releaseKey;
      doc[`${ASSIGNMENT_KEY}Unit`] = assignment.unit;
      doc[`${ASSIGNMENT_KEY}UnitKind`] = assignment.unitKind;
      if (assignment.fallback) doc[`${ASSIGNMENT_KEY}Fallback`] = assignment.fallback;
    }
    doc[DIMENSION.SERVICE] = this.service;
    doc[DIMENSION.VERSION] = tuple.codeVersion;
    Object.assign(doc, values);
    // The console Powertools writes through (its own Console on stdout, or the global one in POWERTOOLS_DEV mode).
    own.console.log(JSON.stringify(doc));
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

  public failure(record: FailureRecord): void {
    // Top-level keys, so a subscription filter `{ $.type = "ai-release.failure" }` matches the line. Powertools
    // owns the `service` key and writes the same service name there.
    const { service: _service, ...rest } = record;
    this.logger.warn({ message: `AI failure: ${record.kinds.join(', ')}`, ...rest });
  }

  public sample(sample: EvaluationSample): void {
    // Top-level keys, like a failure record, so the evaluator's filter `{ $.type = "ai-release.evaluation-sample" }` matches.
    // The direct line skips the sample's `service` key itself (no copy of the sample without it: h8-hotpath).
    if (this.directLog && this.infoDirect(SAMPLE_MESSAGE, sample, 'service')) return;
    const { service: _service, ...rest } = sample;
    this.logger.info({ message: SAMPLE_MESSAGE, ...rest });
  }

  /**
   * What `logger.info({ message, ...attributes })` writes (Logger.processLogItem and printLog) for the adapter's own
   * Logger, without its per-key work on the attributes: the envelope is the Logger's own item for the message alone,
   * the attributes are set on it top-level (a key the persistent keys also have keeps its place and takes the line's
   * value, as Powertools' merge does), top-level empty values (undefined, '', null) are dropped as printLog drops
   * them, and the line is one JSON.stringify, written through the Logger's console. Powertools' deep copy and JSON
   * replacer change nothing on plain JSON data (checked: plainJson); anything else goes through the API. Returns false,
   * having written nothing, when it cannot do exactly that: then the caller goes through the Logger's API.
   */
  private infoDirect(message: string, attributes: object, skip?: string): boolean {
    const own = this.logger as unknown as LoggerInternals;
    const write = own.console?.info;
    const indentation = own.logIndentation;
    if (typeof own.createAndPopulateLogItem !== 'function' || typeof own.shouldBufferLog !== 'function') return false;
    if (typeof write !== 'function' || typeof indentation !== 'number') return false;
    const level = this.logger.level;
    if (typeof level !== 'number') return false;
    // A line Powertools would buffer (log buffering on, an X-Ray trace id present) is left to it.
    if (own.shouldBufferLog('trace-id', LogLevelThreshold.INFO)) return false;
    const attrs = attributes as Readonly<Record<string, unknown>>;
    const keys = Object.keys(attrs);
    for (const k of keys) if (k !== skip && ENVELOPE_KEYS.has(k)) return false;
    // Below the Logger's level (POWERTOOLS_LOG_LEVEL, ALC, debug sampling): Powertools writes nothing, nor does this.
    if (LogLevelThreshold.INFO < level) return true;
    const envelope = own.createAndPopulateLogItem(LogLevelThreshold.INFO, message, [])?.getAttributes?.();
    if (typeof envelope !== 'object' || envelope === null) return false;
    const item = envelope as Record<string, unknown>;
    for (const k of keys) if (k !== skip) item[k] = attrs[k];
    const budget = { nodes: 4096 };
    let empty = false;
    for (const k in item) {
      const v = item[k];
      if (v === '' || v === null) empty = true;
      else if (!plainJson(v, 0, budget)) return false;
    }
    // undefined values JSON.stringify leaves out itself; a copy only when there is an '' or a null to drop.
    let line = item;
    if (empty) {
      line = {};
      for (const k in item) if (item[k] !== '' && item[k] !== null) line[k] = item[k];
    }
    write.call(own.console, JSON.stringify(line, null, indentation));
    return true;
  }

  public warn(message: string, extra: Record<string, unknown> = {}): void {
    this.logger.warn({ message, ...extra });
  }
}
