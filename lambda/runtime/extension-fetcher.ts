import * as http from 'node:http';
import { abortReason, type ConfigFetcher, type FetchedConfig, type FetchOptions } from './config-cache';

/** The AppConfig environment to read a profile from: one for every profile, or chosen per profile. */
export type EnvironmentFor = string | ((profile: string) => string);

/**
 * The extension answered, but not with a usable config (a 4xx/5xx, a body that is not JSON). The extension is up:
 * this says nothing about the other profile, so it must not send every profile to the data API.
 */
export class ExtensionAnswerError extends Error {
  public readonly extensionUp = true;
  constructor(message: string) {
    super(message);
    this.name = 'ExtensionAnswerError';
  }
}

/**
 * Reads configs from the AWS AppConfig Lambda extension, which serves them on loopback and polls AppConfig in the
 * background. No AWS SDK, keep-alive connections. `timeoutMs` bounds the whole request (connect, headers, and a body
 * that drips), not only idle time.
 */
export class ExtensionFetcher implements ConfigFetcher {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    private readonly application: string,
    private readonly environment: EnvironmentFor,
    private readonly port = 2772,
    private readonly timeoutMs = 1000,
    private readonly host = '127.0.0.1',
  ) {}

  /** `/applications/<app>/environments/<env>/configurations/<profile>`, the extension's path. */
  public path(profile: string): string {
    const env = typeof this.environment === 'function' ? this.environment(profile) : this.environment;
    return `/applications/${encodeURIComponent(this.application)}/environments/${encodeURIComponent(env)}/configurations/${encodeURIComponent(profile)}`;
  }

  public fetch(profile: string, options: FetchOptions = {}): Promise<FetchedConfig> {
    const path = this.path(profile);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`AppConfig extension did not answer ${path} within ${this.timeoutMs} ms`)), this.timeoutMs);
    const signals = options.signal ? [deadline.signal, options.signal] : [deadline.signal];
    const signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    // A keep-alive socket the extension closed at the wrong moment fails once with ECONNRESET; that is not the
    // extension being down. Retry once on a fresh socket (Node's documented pattern, request.reusedSocket).
    return this.get(path, signal)
      .catch((e: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        if (e.code === 'ECONNRESET' && e.reusedSocket && !signal.aborted) return this.get(path, signal);
        throw e;
      })
      .finally(() => clearTimeout(timer));
  }

  private get(path: string, signal: AbortSignal): Promise<FetchedConfig> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      const req = http.get({ host: this.host, port: this.port, path, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          signal.removeEventListener('abort', onAbort);
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new ExtensionAnswerError(`AppConfig extension answered ${res.statusCode} for ${path}: ${body.slice(0, 200)}`));
            return;
          }
          try {
            const version = res.headers['configuration-version'];
            resolve({ content: JSON.parse(body), version: typeof version === 'string' ? version : undefined });
          } catch (e) {
            reject(new ExtensionAnswerError(`AppConfig extension returned non-JSON for ${path}: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      const onAbort = () => {
        // Reject with the deadline's own reason: a destroyed response may report a bare "aborted".
        reject(abortReason(signal));
        req.destroy(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        signal.removeEventListener('abort', onAbort);
        e.reusedSocket = req.reusedSocket;
        reject(e);
      });
    });
  }
}

/**
 * Tries the extension, falls back to another source (the data API) when the extension cannot be reached. Only a
 * connection failure or a timeout declares the extension down (for `retryPrimaryAfterMs`); a bad answer for one
 * profile falls back for that request alone.
 */
export class FallbackFetcher implements ConfigFetcher {
  private primaryDownUntil = 0;

  constructor(
    private readonly primary: ConfigFetcher,
    private readonly secondary: ConfigFetcher,
    private readonly retryPrimaryAfterMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  public async fetch(profile: string, options: FetchOptions = {}): Promise<FetchedConfig> {
    if (this.now() >= this.primaryDownUntil) {
      try {
        return await this.primary.fetch(profile, options);
      } catch (e) {
        // The caller gave up: nothing is known about the extension, and nobody waits for the data API.
        if (options.signal?.aborted) throw e;
        if (!(e as { extensionUp?: boolean })?.extensionUp) this.primaryDownUntil = this.now() + this.retryPrimaryAfterMs;
      }
    }
    return this.secondary.fetch(profile, options);
  }
}
