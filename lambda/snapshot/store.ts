/**
 * The object store port of the regression store (S3 in Lambda, s3rver in tests, anything in the CLI), and the retry
 * policy every call goes through. Pure: no AWS SDK import.
 */

export interface StoredObject {
  readonly body: string;
  /** The object's entity tag, for a conditional write back (`ifMatch`). */
  readonly etag?: string;
}

/** `ifNoneMatch: '*'`: create only; `ifMatch`: replace only the version read. S3 answers 412 otherwise. */
export type PutCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

export interface PutOptions {
  readonly condition?: PutCondition;
  /** Object tags (the lifecycle rule for old candidates selects on one). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ObjectStore {
  get(key: string): Promise<StoredObject | undefined>;
  exists(key: string): Promise<boolean>;
  /** `precondition-failed` when the condition did not hold (the object exists, or changed since it was read). */
  put(key: string, body: string, options?: PutOptions): Promise<'written' | 'precondition-failed'>;
  delete(key: string): Promise<void>;
  /** Every key under the prefix. */
  list(prefix: string): Promise<string[]>;
}

export interface RetryPolicy {
  /** Attempts per call, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 3000 */
  readonly maxDelayMs?: number;
  /** Milliseconds left before the caller must give up (Lambda's remaining time less a margin). @default unbounded */
  readonly remainingMs?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Which errors are worth another attempt. @default isRetryableError */
  readonly retryable?: (e: unknown) => boolean;
}

const RETRYABLE_NAMES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/**
 * Throttling (503 SlowDown, 429), server errors (5xx) and dropped connections are retried; anything else (403 access
 * denied, 400 bad request) fails at once, because waiting would not change it. Reads the AWS SDK v3 error shape
 * (`name`, `$metadata.httpStatusCode`, `$retryable`) without importing the SDK.
 */
export function isRetryableError(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const err = e as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (err.name && RETRYABLE_NAMES.has(err.name)) return true;
  return err.code !== undefined && RETRYABLE_CODES.has(err.code);
}

/** Counters of what the retry layer did, for the handler's log line and the benchmark. */
export interface RetryStats {
  calls: number;
  retries: number;
}

/**
 * Wraps a store so every call is retried on retryable errors with exponential backoff and full jitter
 * (delay = random × min(maxDelay, base × 2^attempt)), as the AWS Architecture Blog's "Exponential Backoff and Jitter"
 * recommends. When attempts or time run out the last error is thrown: the caller fails the invocation, and Lambda
 * retries it or hands the event to the on-failure destination intact.
 */
export function withRetries(store: ObjectStore, policy: RetryPolicy = {}, stats: RetryStats = { calls: 0, retries: 0 }): ObjectStore & { stats: RetryStats } {
  const maxAttempts = policy.maxAttempts ?? 6;
  const base = policy.baseDelayMs ?? 100;
  const cap = policy.maxDelayMs ?? 3000;
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = policy.random ?? Math.random;
  const retryable = policy.retryable ?? isRetryableError;
  const run = async <T>(op: () => Promise<T>): Promise<T> => {
    stats.calls += 1;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!retryable(e) || attempt + 1 >= maxAttempts) throw e;
        const delay = Math.floor(random() * Math.min(cap, base * 2 ** attempt));
        if (policy.remainingMs && policy.remainingMs() < delay) throw e;
        stats.retries += 1;
        await sleep(delay);
      }
    }
  };
  return {
    stats,
    get: (key) => run(() => store.get(key)),
    exists: (key) => run(() => store.exists(key)),
    put: (key, body, options) => run(() => store.put(key, body, options)),
    delete: (key) => run(() => store.delete(key)),
    list: (prefix) => run(() => store.list(prefix)),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time; the first failure is thrown after the others settle. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.e;
  return out;
}
