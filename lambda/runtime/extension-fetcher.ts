import * as http from 'node:http';
import type { ConfigFetcher, FetchedConfig } from './config-cache';

/**
 * Reads configs from the AWS AppConfig Lambda extension, which serves them on loopback and polls AppConfig in the
 * background. No AWS SDK, one keep-alive connection.
 */
export class ExtensionFetcher implements ConfigFetcher {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    private readonly application: string,
    private readonly environment: string,
    private readonly port = 2772,
    private readonly timeoutMs = 1000,
    private readonly host = '127.0.0.1',
  ) {}

  public fetch(profile: string): Promise<FetchedConfig> {
    const path = `/applications/${encodeURIComponent(this.application)}/environments/${encodeURIComponent(this.environment)}/configurations/${encodeURIComponent(profile)}`;
    return new Promise((resolve, reject) => {
      const req = http.get({ host: this.host, port: this.port, path, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new Error(`AppConfig extension answered ${res.statusCode} for ${path}: ${body.slice(0, 200)}`));
            return;
          }
          try {
            const version = res.headers['configuration-version'];
            resolve({ content: JSON.parse(body), version: typeof version === 'string' ? version : undefined });
          } catch (e) {
            reject(new Error(`AppConfig extension returned non-JSON for ${path}: ${(e as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`AppConfig extension did not answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
    });
  }
}

/** Tries the extension, falls back to another source (the data API) when the extension cannot be reached. */
export class FallbackFetcher implements ConfigFetcher {
  private primaryDownUntil = 0;

  constructor(
    private readonly primary: ConfigFetcher,
    private readonly secondary: ConfigFetcher,
    private readonly retryPrimaryAfterMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  public async fetch(profile: string): Promise<FetchedConfig> {
    if (this.now() >= this.primaryDownUntil) {
      try {
        return await this.primary.fetch(profile);
      } catch {
        this.primaryDownUntil = this.now() + this.retryPrimaryAfterMs;
      }
    }
    return this.secondary.fetch(profile);
  }
}
