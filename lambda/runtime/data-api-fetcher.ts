import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  type GetLatestConfigurationCommandOutput,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import type { ConfigFetcher, FetchedConfig } from './config-cache';

export { AppConfigDataClient };

/**
 * Reads configs with the AppConfig data API (StartConfigurationSession / GetLatestConfiguration): the fallback when
 * the extension is not attached. Keeps one session per profile, honours the poll interval AppConfig asks for, and
 * keeps the last content (GetLatestConfiguration returns an empty body when nothing changed).
 */
export class DataApiFetcher implements ConfigFetcher {
  private readonly sessions = new Map<string, { token?: string; nextPollAt: number; last?: FetchedConfig }>();

  constructor(
    private readonly client: AppConfigDataClient,
    private readonly application: string,
    private readonly environment: string,
    private readonly pollIntervalSeconds = 15,
    private readonly now: () => number = Date.now,
  ) {}

  public async fetch(profile: string): Promise<FetchedConfig> {
    let s = this.sessions.get(profile);
    if (s?.last && this.now() < s.nextPollAt) return s.last;
    if (!s || !s.token) {
      const started = await this.client.send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: this.application,
          EnvironmentIdentifier: this.environment,
          ConfigurationProfileIdentifier: profile,
          RequiredMinimumPollIntervalInSeconds: this.pollIntervalSeconds,
        }),
      );
      s = { token: started.InitialConfigurationToken, nextPollAt: 0, last: s?.last };
      this.sessions.set(profile, s);
    }
    let out: GetLatestConfigurationCommandOutput;
    try {
      out = await this.client.send(new GetLatestConfigurationCommand({ ConfigurationToken: s.token }));
    } catch (e) {
      s.token = undefined; // an expired or invalid token: start a new session next time
      throw e;
    }
    s.token = out.NextPollConfigurationToken;
    s.nextPollAt = this.now() + (out.NextPollIntervalInSeconds ?? this.pollIntervalSeconds) * 1000;
    const body = out.Configuration && out.Configuration.length > 0 ? Buffer.from(out.Configuration).toString('utf8') : '';
    if (body === '') {
      if (!s.last) throw new Error(`AppConfig returned no content for profile ${profile} on a new session; is a configuration deployed to this environment?`);
      return s.last;
    }
    s.last = { content: JSON.parse(body), version: out.VersionLabel };
    return s.last;
  }
}
