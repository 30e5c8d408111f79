/**
 * Whether the service function's log settings could still drop the lines the release loop reads (evaluation samples,
 * failure records, the EMF document): the release policy's `records-survive-log-level` rule, read at synth from the
 * function as synthesized (its LoggingConfig and environment; L1 edits included).
 *
 * The runtime writes these lines beside Powertools' level test, at a level Lambda's advanced logging controls keep
 * (lambda/runtime/record-level.ts), so POWERTOOLS_LOG_LEVEL and ApplicationLogLevel WARN or ERROR lose nothing. What
 * it cannot fix from inside the function, and this rule names:
 *
 * - ApplicationLogLevel FATAL, for a handler that gives the runtime its own Powertools Logger (PowertoolsTelemetry
 *   `logger`): the lines go through that Logger's API, whose strictest level it writes as `CRITICAL`, not one of
 *   Lambda's levels, which Lambda counts as INFO and drops.
 * - POWERTOOLS_LOG_LEVEL (or LOG_LEVEL) SILENT without ALC, for the same handler: its Logger writes nothing at all.
 * - POWERTOOLS_DEV with the JSON log format: Powertools then writes through the global console, which Lambda wraps
 *   into its own JSON line with the record as a string in `message` (at the console method's level): the
 *   subscription filters' `$.type` is not at the top level any more, and no record is delivered.
 */
import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { type LambdaLogLevel, lambdaLogLevel, levelRank } from '../../lambda/runtime/record-level';
import type { ReleasePolicyRule } from './release-policy';

/** What of a function's log settings decides whether its record lines arrive. Plain data. */
export interface FunctionLogSettings {
  /** LoggingConfig ApplicationLogLevel as synthesized. @default none (Lambda filters no application line) */
  readonly applicationLogLevel?: string;
  /** LoggingConfig LogFormat as synthesized (`JSON` or `Text`). @default Text (Lambda's default) */
  readonly logFormat?: string;
  /** The environment variables Powertools' Logger reads: POWERTOOLS_LOG_LEVEL, LOG_LEVEL, POWERTOOLS_DEV. */
  readonly env: Readonly<Record<string, string>>;
}

/** The function's log settings as synthesized; a value that is still a token (known only at deploy) is left out. */
export function functionLogSettings(fn: lambda.Function): FunctionLogSettings {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const stack = Stack.of(fn);
  const logging = (stack.resolve(cfn.loggingConfig) ?? {}) as { applicationLogLevel?: unknown; logFormat?: unknown };
  const vars = ((stack.resolve(cfn.environment) ?? {}) as { variables?: Record<string, unknown> }).variables ?? {};
  const env: Record<string, string> = {};
  for (const k of ['POWERTOOLS_LOG_LEVEL', 'LOG_LEVEL', 'POWERTOOLS_DEV']) if (typeof vars[k] === 'string') env[k] = vars[k] as string;
  return {
    ...(typeof logging.applicationLogLevel === 'string' ? { applicationLogLevel: logging.applicationLogLevel } : {}),
    ...(typeof logging.logFormat === 'string' ? { logFormat: logging.logFormat } : {}),
    env,
  };
}

/** Powertools' truthy values for a boolean variable (its getBooleanFromEnv with extendedParsing). */
const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);

/**
 * Every way the settings could still drop the records, each naming the setting and the fix. Empty when the records
 * arrive in every configuration the runtime supports (ALC at WARN or ERROR, POWERTOOLS_LOG_LEVEL up to CRITICAL).
 */
export function recordDropRisks(s: FunctionLogSettings): string[] {
  const out: string[] = [];
  const alc: LambdaLogLevel | undefined = lambdaLogLevel(s.applicationLogLevel);
  const json = (s.logFormat ?? 'Text').toUpperCase() === 'JSON';
  if (alc === 'FATAL')
    out.push(
      'LoggingConfig ApplicationLogLevel is FATAL: the runtime writes its evaluation samples, failure records and metrics at FATAL, which Lambda keeps, ' +
        "but a handler that gives the runtime its own Powertools Logger (PowertoolsTelemetry's `logger` option) has them written as CRITICAL, which is not one of Lambda's levels: " +
        'Lambda counts it as INFO and drops it, and the evaluator, the judge and the regression set go empty. ' +
        'Fix: set the application log level to ERROR or lower (lambda.Function applicationLogLevelV2: ApplicationLogLevel.ERROR), or let the runtime use its own Logger',
    );
  // Powertools obeys ALC before its own variables: POWERTOOLS_LOG_LEVEL only decides without an application log level.
  const powertools = (s.env.POWERTOOLS_LOG_LEVEL ?? '').trim() || (s.env.LOG_LEVEL ?? '').trim();
  if (alc === undefined && powertools === 'SILENT') {
    const name = (s.env.POWERTOOLS_LOG_LEVEL ?? '').trim() ? 'POWERTOOLS_LOG_LEVEL' : 'LOG_LEVEL';
    out.push(
      `${name} is SILENT: the runtime's own Logger still writes the evaluation samples and failure records, but a handler that gives the runtime its own Powertools Logger ` +
        "(PowertoolsTelemetry's `logger` option) writes nothing at all, and the evaluator, the judge and the regression set go empty. " +
        `Fix: set ${name} to CRITICAL or lower, or let the runtime use its own Logger`,
    );
  }
  if (json && TRUTHY.has((s.env.POWERTOOLS_DEV ?? '').trim().toLowerCase()))
    out.push(
      'POWERTOOLS_DEV is set with the JSON log format: Powertools then writes through the global console, which Lambda wraps into its own JSON line with each record as a string in `message` ' +
        `(at the console method's level${alc !== undefined && levelRank(alc) > levelRank('ERROR') ? `, which ${alc} drops` : ''}), ` +
        "so the subscription filters' `$.type` no longer matches and no sample or failure record is delivered. Fix: remove POWERTOOLS_DEV from the deployed function's environment (it is for local runs)",
    );
  return out;
}

/** Warns when the service function's log settings could still drop its evaluation samples, failure records or metrics. */
export const RULE_RECORDS_SURVIVE_LOG_LEVEL: ReleasePolicyRule = {
  id: 'records-survive-log-level',
  severity: 'warning',
  description:
    "The service function's log settings (LoggingConfig ApplicationLogLevel, POWERTOOLS_LOG_LEVEL, POWERTOOLS_DEV) let its evaluation samples, failure records and metrics reach the log group.",
  check: (f) => (f.logging ? recordDropRisks(f.logging) : []),
};
