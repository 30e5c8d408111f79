/**
 * The share document as the assigning runtime reads it (issue 16 C5): with no TTL of its own while a release runs,
 * so a rollback to share 0 reaches the next request as soon as the AppConfig extension has polled it — one poll
 * interval, not one poll plus the runtime's TTL. Pure: the fetch is a port (the extension on localhost:2772).
 *
 * - While the last good document has a share above 0 (a release runs), every `get` reads through: one loopback
 *   HTTP GET per invocation, answered from the extension's own cache (it calls AppConfig only when its poll interval
 *   has passed). bench/share-read.ts measures what that read costs.
 * - With no release (share 0 or no document yet), the document is kept for `idleTtlMs` like any config: a release's
 *   start may wait one TTL more; a rollback never does (it can only happen while the share is above 0).
 * - A failed read keeps the last good document and is not retried for `retryAfterMs` (default the idle TTL), so an
 *   extension that is down (the fetcher then falls back to the AppConfig data API) is not called per request.
 */
import type { ConfigPort } from './ai-runtime';
import { type ConfigFetcher, ConfigUnavailableError, type FetchOptions, type ServedConfig } from './config-cache';

export interface ShareReaderOptions {
  /** How long a document with share 0 (no release) is kept. @default 5000 (the runtime's config TTL) */
  readonly idleTtlMs?: number;
  /** How long after a failed read the last good document is served without trying again. @default idleTtlMs */
  readonly retryAfterMs?: number;
  readonly now?: () => number;
}

export class ShareReader implements ConfigPort {
  private last?: { content: unknown; version?: string; at: number };
  private failedAt = Number.NEGATIVE_INFINITY;
  private failure?: Error;
  private inflight?: Promise<ServedConfig>;
  private readonly idleTtlMs: number;
  private readonly retryAfterMs: number;
  private readonly now: () => number;
  /** Reads that went to the fetcher (tests and the bench count them). */
  public reads = 0;

  constructor(
    private readonly fetcher: ConfigFetcher,
    options: ShareReaderOptions = {},
  ) {
    this.idleTtlMs = options.idleTtlMs ?? 5000;
    this.retryAfterMs = options.retryAfterMs ?? this.idleTtlMs;
    this.now = options.now ?? Date.now;
  }

  /** The document when it may be served without a read: no release runs and it is younger than the idle TTL, or a read failed lately. */
  public fresh(_profile: string): ServedConfig | undefined {
    if (!this.last) return undefined;
    const now = this.now();
    if (now - this.failedAt < this.retryAfterMs) return { content: this.last.content, version: this.last.version, stale: true, error: this.failure };
    if (!releaseRuns(this.last.content) && now - this.last.at < this.idleTtlMs) return { content: this.last.content, version: this.last.version, stale: false };
    return undefined;
  }

  public async get(profile: string, options: FetchOptions = {}): Promise<ServedConfig> {
    const cached = this.fresh(profile);
    if (cached) return cached;
    // Concurrent invocations in one environment (Lambda sends one at a time; tests and other hosts may not) share a read.
    this.inflight ??= this.read(profile, options).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async read(profile: string, options: FetchOptions): Promise<ServedConfig> {
    this.reads++;
    try {
      const got = await this.fetcher.fetch(profile, options);
      this.last = { content: got.content, version: got.version, at: this.now() };
      this.failedAt = Number.NEGATIVE_INFINITY;
      this.failure = undefined;
      return { content: got.content, version: got.version, stale: false };
    } catch (e) {
      this.failedAt = this.now();
      this.failure = e instanceof Error ? e : new Error(String(e));
      if (!this.last) throw new ConfigUnavailableError(profile, e);
      return { content: this.last.content, version: this.last.version, stale: true, error: this.failure };
    }
  }
}

/** A share document whose share is above 0: a release runs, and a rollback must be seen at once. */
function releaseRuns(content: unknown): boolean {
  const share = (content as { share?: unknown } | null | undefined)?.share;
  return typeof share === 'number' && share > 0;
}
