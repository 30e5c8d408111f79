/**
 * Config as the runtime serves it: fetched through a port, cached per execution environment for a TTL, and
 * kept when a refresh fails, so a flaky config endpoint never takes a warm service down. Pure: no I/O here.
 */

/** One fetch of one configuration profile. */
export interface FetchedConfig {
  /** Parsed JSON content. */
  readonly content: unknown;
  /** The version as the source reports it (AppConfig version number or label), when it does. */
  readonly version?: string;
}

/** What a caller gives a fetch: a signal that fires when nobody waits for the answer any more. */
export interface FetchOptions {
  readonly signal?: AbortSignal;
}

/** Port: where configs come from (the AppConfig Lambda extension, the AppConfig data API, a test double). */
export interface ConfigFetcher {
  fetch(profile: string, options?: FetchOptions): Promise<FetchedConfig>;
}

export interface ServedConfig {
  readonly content: unknown;
  readonly version?: string;
  /** True when the last refresh failed and this is the last good config. */
  readonly stale: boolean;
  /** The refresh error, when stale. */
  readonly error?: Error;
  /**
   * Order of the answer within this cache: higher is newer (by refresh start). A caller that keeps a "last good"
   * copy replaces it only with an equal or higher generation, so a slower read that resumes late never puts an older
   * config back. Absent from ports that do not order their answers.
   */
  readonly generation?: number;
}

/** No config has ever been fetched in this execution environment, and fetching failed. */
export class ConfigUnavailableError extends Error {
  constructor(
    public readonly profile: string,
    cause: unknown,
  ) {
    super(
      `cannot read config profile ${profile}: ${messageOf(cause)}. ` +
        'Check that the function has appconfig:StartConfigurationSession/GetLatestConfiguration (AiServiceConfig.bind) ' +
        'and, when the AppConfig Lambda extension is used, that its layer is attached.',
    );
    this.name = 'ConfigUnavailableError';
  }
}

/** A config fetch that did not finish in time. */
export class ConfigTimeoutError extends Error {
  constructor(
    public readonly profile: string,
    ms: number,
  ) {
    super(`reading config profile ${profile} did not finish within ${ms} ms`);
    this.name = 'ConfigTimeoutError';
  }
}

export interface ConfigCacheOptions {
  /** Longest one refresh may take, extension and data API together. @default 2000 */
  readonly refreshTimeoutMs?: number;
  readonly now?: () => number;
}

interface Entry {
  served?: FetchedConfig & { readonly generation: number };
  /** `served` as a fresh answer, made once per refresh: the hot path hands out this one object, no copy per request. */
  fresh?: ServedConfig;
  fetchedAt: number;
  /** Sequence number of the refresh whose answer is stored: a later-started refresh always wins. */
  seq: number;
  inflight?: Refresh;
}

interface Refresh {
  readonly seq: number;
  readonly promise: Promise<FetchedConfig>;
  readonly controller: AbortController;
  waiters: number;
}

export class ConfigCache {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshTimeoutMs: number;
  private readonly now: () => number;
  private seq = 0;

  constructor(
    private readonly fetcher: ConfigFetcher,
    private readonly ttlMs: number,
    options: ConfigCacheOptions | (() => number) = {},
  ) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.refreshTimeoutMs = o.refreshTimeoutMs ?? 2000;
    this.now = o.now ?? Date.now;
  }

  /** The cached config when it is still fresh, synchronously (the hot path: no promise, no timer, no signal). */
  public fresh(profile: string): ServedConfig | undefined {
    const entry = this.entries.get(profile);
    return entry?.fresh && this.now() - entry.fetchedAt < this.ttlMs ? entry.fresh : undefined;
  }

  /**
   * The config of a profile: cached while fresh, refreshed after the TTL, last good on refresh failure.
   * Concurrent callers share one refresh; each stops waiting when its own signal fires.
   */
  public async get(profile: string, options: FetchOptions = {}): Promise<ServedConfig> {
    let entry = this.entries.get(profile);
    const now = this.now();
    if (entry?.fresh && now - entry.fetchedAt < this.ttlMs) return entry.fresh;
    if (!entry) {
      entry = { fetchedAt: now, seq: 0 };
      this.entries.set(profile, entry);
    }
    const refresh = entry.inflight ?? this.refresh(profile, entry);
    try {
      const served = await waitFor(refresh, options.signal);
      return { ...served, stale: false };
    } catch (e) {
      // A newer answer may have landed meanwhile (another caller's refresh); serve it rather than fail.
      if (!entry.served) throw new ConfigUnavailableError(profile, e);
      return { ...entry.served, stale: true, error: e as Error };
    }
  }

  private refresh(profile: string, entry: Entry): Refresh {
    const seq = ++this.seq;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ConfigTimeoutError(profile, this.refreshTimeoutMs)), this.refreshTimeoutMs);
    timer.unref?.();
    const promise = raceSignal(this.fetcher.fetch(profile, { signal: controller.signal }), controller.signal)
      .then((served) => {
        // An older request's answer never replaces a newer one's. Ordered by request start, not by version
        // number: an AppConfig rollback legitimately serves a lower version.
        if (seq > entry.seq) {
          entry.served = { ...served, generation: seq };
          entry.fresh = { ...entry.served, stale: false };
          entry.seq = seq;
          entry.fetchedAt = this.now();
        }
        return entry.served ?? served;
      })
      .catch((e: unknown) => {
        // Keep serving the last good config, and do not hammer a failing source: retry after one more TTL.
        if (entry.served) entry.fetchedAt = this.now();
        throw e;
      })
      .finally(() => {
        clearTimeout(timer);
        if (entry.inflight === refresh) entry.inflight = undefined;
      });
    promise.catch(() => undefined); // waiters handle it; never an unhandled rejection
    const refresh: Refresh = { seq, promise, controller, waiters: 0 };
    entry.inflight = refresh;
    return refresh;
  }
}

/** Waits for a shared refresh until the caller's signal fires; the refresh is aborted when its last waiter leaves. */
function waitFor(refresh: Refresh, signal: AbortSignal | undefined): Promise<FetchedConfig> {
  refresh.waiters++;
  const leave = () => {
    refresh.waiters--;
    if (refresh.waiters === 0 && !refresh.controller.signal.aborted) refresh.controller.abort(signal?.reason);
  };
  if (!signal) return refresh.promise.finally(() => refresh.waiters--);
  if (signal.aborted) {
    leave();
    return Promise.reject(abortReason(signal));
  }
  return new Promise<FetchedConfig>((resolve, reject) => {
    const onAbort = () => {
      leave();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    refresh.promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        refresh.waiters--;
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        refresh.waiters--;
        reject(e);
      },
    );
  });
}

/** Settles with the work, or rejects as soon as the signal fires (for sources that ignore it). */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(`aborted: ${messageOf(r)}`);
}

/** The message of anything thrown, without ever throwing itself (null-prototype objects, throwing getters). */
export function messageOf(e: unknown): string {
  try {
    const m = (e as { message?: unknown } | null | undefined)?.message;
    if (typeof m === 'string') return m;
  } catch {
    return '(the thrown value has a message that cannot be read)';
  }
  try {
    if (typeof e === 'string') return e;
    const json = JSON.stringify(e);
    if (json !== undefined) return json;
  } catch {
    // fall through
  }
  try {
    return String(e);
  } catch {
    return Object.prototype.toString.call(e);
  }
}
