import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  type GetLatestConfigurationCommandOutput,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import type { ConfigFetcher, FetchedConfig, FetchOptions } from './config-cache';
import type { EnvironmentFor } from './extension-fetcher';

export { AppConfigDataClient };

/**
 * Errors after which the session token is no longer usable. AppConfig: "Each configuration token is only valid for
 * one call to GetLatestConfiguration"; "If a GetLatestConfiguration call uses an expired token, the system returns
 * BadRequestException" (AppConfig Data API reference, GetLatestConfiguration). A throttled or failed call did not
 * use the token, so it is kept: starting a new session on every throttle would only add calls to a throttled API.
 */
const TOKEN_SPENT = new Set(['BadRequestException', 'ResourceNotFoundException']);

interface Session {
  token?: string;
  nextPollAt: number;
  last?: FetchedConfig;
  /** Sequence of the call whose answer `last` holds: an older call's answer never replaces a newer one's. */
  seq: number;
}

/**
 * Reads configs with the AppConfig data API (StartConfigurationSession / GetLatestConfiguration): the fallback when
 * the extension is not attached. Keeps one session per profile, honours the poll interval AppConfig asks for, and
 * keeps the last content (GetLatestConfiguration returns an empty body when nothing changed).
 */
export class DataApiFetcher implements ConfigFetcher {
  private readonly sessions = new Map<string, Session>();
  private calls = 0;

  constructor(
    private readonly client: AppConfigDataClient,
    private readonly application: string,
    private readonly environment: EnvironmentFor,
    private readonly pollIntervalSeconds = 15,
    private readonly now: () => number = Date.now,
  ) {}

  public async fetch(profile: string, options: FetchOptions = {}): Promise<FetchedConfig> {
    const environment = typeof this.environment === 'function' ? this.environment(profile) : this.environment;
    const key = `${environment}\n${profile}`;
    let s = this.sessions.get(key);
    if (s?.last && this.now() < s.nextPollAt) return s.last;
    const send = { abortSignal: options.signal };
    if (!s?.token) {
      const started = await this.client.send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: this.application,
          EnvironmentIdentifier: environment,
          ConfigurationProfileIdentifier: profile,
          RequiredMinimumPollIntervalInSeconds: this.pollIntervalSeconds,
        }),
        send,
      );
      s = { token: started.InitialConfigurationToken, nextPollAt: 0, last: s?.last, seq: s?.seq ?? 0 };
      this.sessions.set(key, s);
    }
    const seq = ++this.calls;
    const token = s.token;
    let out: GetLatestConfigurationCommandOutput;
    try {
      out = await this.client.send(new GetLatestConfigurationCommand({ ConfigurationToken: token }), send);
    } catch (e) {
      if (TOKEN_SPENT.has((e as Error)?.name) && s.token === token) s.token = undefined; // start a new session next time
      throw e;
    }
    if (seq < s.seq) return s.last as FetchedConfig;
    s.seq = seq;
    s.token = out.NextPollConfigurationToken;
    s.nextPollAt = this.now() + (out.NextPollIntervalInSeconds ?? this.pollIntervalSeconds) * 1000;
    const body = out.Configuration && out.Configuration.length > 0 ? Buffer.from(out.Configuration).toString('utf8') : '';
    if (body === '') {
      if (!s.last)
        throw new Error(`AppConfig returned no content for profile ${profile} on a new session; is a configuration deployed to environment ${environment}?`);
      return s.last;
    }
    s.last = { content: JSON.parse(body), version: out.VersionLabel };
    return s.last;
  }
}
