import * as http from 'node:http';
import { APPCONFIG_EXTENSION_CLIENT_MARGIN_MS } from '../shared/contract';
import { abortReason, type ConfigFetcher, type FetchedConfig, type FetchOptions } from './config-cache';

/** The AppConfig environment to read a profile from: one for every profile, or chosen per profile. */
export type EnvironmentFor = string | ((profile: string) => string);

/** Longest part of an extension's error body kept in the error message. */
const MAX_BODY_CHARS = 1000;

/**
 * The extension answered, but not with a usable config (a 4xx/5xx, a body that is not JSON). The extension is up and
 * has said what is wrong (a missing permission, an unknown profile, AppConfig's own error): the answer is reported with
 * its status and body, not hidden behind a second fetch path that would most likely fail the same way.
 */
export class ExtensionAnswerError extends Error {
  public readonly extensionUp = true;
  constructor(
    message: string,
    /** The HTTP status, when the extension answered with an error status. */
    public readonly status?: number,
    /** The start of the extension's answer (at most 1000 characters). */
    public readonly body?: string,
  ) {
    super(message);
    this.name = 'ExtensionAnswerError';
  }
}

/** The extension did not answer within the client's deadline: treated like an unreachable extension. */
export class ExtensionTimeoutError extends Error {
  public readonly code = 'ETIMEDOUT';
  constructor(path: string, ms: number) {
    super(`AppConfig extension did not answer ${path} within ${ms} ms`);
    this.name = 'ExtensionTimeoutError';
  }
}

/** Socket-level failures that mean the extension cannot be reached (not running, crashed, or hung). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNABORTED']);

/**
 * True for the failures after which the data API is worth trying: the extension could not be reached or did not answer
 * in time. Anything else (an HTTP error, a body that is not JSON, a bug) is the extension's answer and is reported.
 */
export function isExtensionUnreachable(e: unknown): boolean {
  try {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    // Node reports a server that closed the connection before answering as "socket hang up" with ECONNRESET;
    // older versions give the message alone.
    return (e as { message?: unknown } | null)?.message === 'socket hang up';
  } catch {
    return false;
  }
}

/**
 * The extension client's own deadline: longer than the extension's poll timeout
 * (`AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS`, how long the extension itself waits for AppConfig on a cache miss),
 * or the client would give up while the extension is still fetching and fall back for no reason.
 */
export const EXTENSION_TIMEOUT_MARGIN_MS = APPCONFIG_EXTENSION_CLIENT_MARGIN_MS;

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
    /** @default the extension's default poll timeout (3000 ms) plus EXTENSION_TIMEOUT_MARGIN_MS */
    private readonly timeoutMs = 3000 + EXTENSION_TIMEOUT_MARGIN_MS,
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
    const timer = setTimeout(() => deadline.abort(new ExtensionTimeoutError(path, this.timeoutMs)), this.timeoutMs);
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
            const shown = body.slice(0, MAX_BODY_CHARS);
            reject(new ExtensionAnswerError(`AppConfig extension answered ${res.statusCode} for ${path}: ${shown || '(empty body)'}`, res.statusCode, shown));
            return;
          }
          try {
            const version = res.headers['configuration-version'];
            resolve({ content: JSON.parse(body), version: typeof version === 'string' ? version : undefined });
          } catch (e) {
            reject(
              new ExtensionAnswerError(
                `AppConfig extension returned non-JSON for ${path}: ${(e as Error).message}; body: ${body.slice(0, MAX_BODY_CHARS)}`,
                res.statusCode,
                body.slice(0, MAX_BODY_CHARS),
              ),
            );
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
 * Tries the extension, falls back to another source (the data API) only when the extension cannot be reached: a
 * connection failure or a timeout, which also declares it down for `retryPrimaryAfterMs`. An answer from a reachable
 * extension, error or not, is the answer: an HTTP error is thrown with its status and body, never hidden behind the
 * data API (which would most likely fail the same way, slower, and cost an AppConfig call per request).
 */
export class FallbackFetcher implements ConfigFetcher {
  private primaryDownUntil = 0;

  constructor(
    private readonly primary: ConfigFetcher,
    private readonly secondary: ConfigFetcher,
    private readonly retryPrimaryAfterMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Which primary failures justify the secondary. @default isExtensionUnreachable */
    private readonly unreachable: (e: unknown) => boolean = isExtensionUnreachable,
  ) {}

  public async fetch(profile: string, options: FetchOptions = {}): Promise<FetchedConfig> {
    if (this.now() >= this.primaryDownUntil) {
      try {
        return await this.primary.fetch(profile, options);
      } catch (e) {
        // The caller gave up: nothing is known about the extension, and nobody waits for the data API.
        if (options.signal?.aborted) throw e;
        if (!this.unreachable(e)) throw e;
        this.primaryDownUntil = this.now() + this.retryPrimaryAfterMs;
      }
    }
    return this.secondary.fetch(profile, options);
  }
}
