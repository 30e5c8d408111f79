/**
 * At which level the runtime writes the lines the release loop reads (evaluation samples, failure records, the EMF
 * document), so that neither filter between the runtime and CloudWatch Logs drops them:
 *
 * - Powertools' Logger drops a line below its level (AWS_LAMBDA_LOG_LEVEL first, then the constructor, then
 *   POWERTOOLS_LOG_LEVEL / LOG_LEVEL): the runtime writes these lines beside the Logger's level test, not through it.
 * - Lambda's advanced logging controls (LoggingConfig ApplicationLogLevel, JSON log format only) drop an application
 *   line whose `level` ranks below the configured one; a line without a valid `level` or without a valid RFC 3339
 *   `timestamp` counts as INFO (docs/incoming/h8-loglevel.md quotes the Lambda documentation). Lambda tells the
 *   function the configured level in AWS_LAMBDA_LOG_LEVEL: the lines carry at least that level.
 *
 * Pure: no AWS SDK, no Powertools import. The synth-side check (lib/rollout/release-policy.ts) reads the same table.
 */

/** Lambda's application log levels, most detailed first (LoggingConfig ApplicationLogLevel, AWS_LAMBDA_LOG_LEVEL). */
export const LAMBDA_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LambdaLogLevel = (typeof LAMBDA_LOG_LEVELS)[number];

/** The level each record is written at when nothing filters above it: a sample is INFO, a failure record WARN. */
export const RECORD_MINIMUM_LEVEL = { sample: 'INFO', failure: 'WARN' } as const satisfies Record<string, LambdaLogLevel>;

/** Lambda's level named by `value` (any case, as AWS_LAMBDA_LOG_LEVEL or a template gives it), or undefined. */
export function lambdaLogLevel(value: unknown): LambdaLogLevel | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.trim().toUpperCase();
  return (LAMBDA_LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LambdaLogLevel) : undefined;
}

/** Position of a level in LAMBDA_LOG_LEVELS (TRACE 0 … FATAL 5). */
export function levelRank(level: LambdaLogLevel): number {
  return LAMBDA_LOG_LEVELS.indexOf(level);
}

/**
 * The level a record line carries: its own minimum, raised to the level Lambda keeps (`alcLevel`, the function's
 * AWS_LAMBDA_LOG_LEVEL) when that is higher. Without ALC (text format, or JSON at INFO) the minimum.
 */
export function recordLevel(minimum: LambdaLogLevel, alcLevel: LambdaLogLevel | undefined): LambdaLogLevel {
  return alcLevel !== undefined && levelRank(alcLevel) > levelRank(minimum) ? alcLevel : minimum;
}

/**
 * The function's ALC level as the runtime reads it once at start: AWS_LAMBDA_LOG_LEVEL, which Lambda sets when the
 * function's LoggingConfig has an ApplicationLogLevel. Undefined when it is unset or not one of Lambda's levels.
 */
export function alcLevelFromEnv(env: Readonly<Record<string, string | undefined>>): LambdaLogLevel | undefined {
  return lambdaLogLevel(env.AWS_LAMBDA_LOG_LEVEL);
}

/** Powertools' Logger thresholds (its LogLevelThreshold) for Lambda's levels: FATAL is its CRITICAL. */
export const POWERTOOLS_THRESHOLD: Readonly<Record<LambdaLogLevel, number>> = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, FATAL: 24 };
