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

/** Port: where configs come from (the AppConfig Lambda extension, the AppConfig data API, a test double). */
export interface ConfigFetcher {
  fetch(profile: string): Promise<FetchedConfig>;
}

export interface ServedConfig {
  readonly content: unknown;
  readonly version?: string;
  /** True when the last refresh failed and this is the last good config. */
  readonly stale: boolean;
  /** The refresh error, when stale. */
  readonly error?: Error;
}

/** No config has ever been fetched in this execution environment, and fetching failed. */
export class ConfigUnavailableError extends Error {
  constructor(
    public readonly profile: string,
    cause: unknown,
  ) {
    super(
      `cannot read config profile ${profile}: ${(cause as Error)?.message ?? cause}. ` +
        'Check that the function has appconfig:StartConfigurationSession/GetLatestConfiguration (AiServiceConfig.bind) ' +
        'and, when the AppConfig Lambda extension is used, that its layer is attached.',
    );
    this.name = 'ConfigUnavailableError';
  }
}

export class ConfigCache {
  private readonly entries = new Map<string, { served: FetchedConfig; fetchedAt: number; inflight?: Promise<void> }>();

  constructor(
    private readonly fetcher: ConfigFetcher,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The config of a profile: cached while fresh, refreshed after the TTL, last good on refresh failure. */
  public async get(profile: string): Promise<ServedConfig> {
    const entry = this.entries.get(profile);
    const now = this.now();
    if (entry && now - entry.fetchedAt < this.ttlMs) return { ...entry.served, stale: false };
    try {
      const served = await this.fetcher.fetch(profile);
      this.entries.set(profile, { served, fetchedAt: this.now() });
      return { ...served, stale: false };
    } catch (e) {
      if (!entry) throw new ConfigUnavailableError(profile, e);
      // Keep serving the last good config, and do not hammer a failing source: retry after one more TTL.
      entry.fetchedAt = now;
      return { ...entry.served, stale: true, error: e as Error };
    }
  }
}
