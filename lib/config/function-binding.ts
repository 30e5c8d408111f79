/**
 * How a service function is wired to its configs: the environment variables the runtime (`lambda/runtime`) reads,
 * the TTL, and optionally the AppConfig Lambda extension (poll interval, prefetch list, poll timeout and the read
 * timeout that follows from it). Deliberately no version label or content in the environment: a config change must
 * not create a new function version, or a prompt-only change would also trigger a code deployment.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  APPCONFIG_EXTENSION_CLIENT_MARGIN_MS,
  APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS,
  APPCONFIG_EXTENSION_ENV,
  RUNTIME_ENV,
} from '../../lambda/shared/contract';
import type { AiServiceConfig } from './ai-service-config';

export interface BindOptions {
  /**
   * The AWS AppConfig Lambda extension layer for the function's region and architecture (see the AppConfig docs for
   * the ARN). With it, configs are served from loopback and polled in the background.
   * @default none: the runtime calls the AppConfig data API itself
   */
  readonly appConfigExtensionLayer?: lambda.ILayerVersion;
  /**
   * How long the runtime serves a fetched config before fetching again.
   * @default Duration.seconds(5)
   */
  readonly configTtl?: Duration;
  /**
   * How often the extension polls AppConfig in the background (when the layer is attached); set explicitly, since the
   * extension's own default is 45 s. At least 15 s. The data API path polls every 15 s (AppConfig's minimum).
   * @default Duration.seconds(15)
   */
  readonly extensionPollInterval?: Duration;
  /**
   * How long the extension waits for AppConfig when it refreshes its cache (`AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS`,
   * when the layer is attached). The runtime's client waits this long plus a margin, so it never gives up on an
   * extension that is still fetching; the config read of an invocation waits a little longer still, and never past
   * the invocation's own deadline.
   * @default Duration.millis(3000), the extension's default
   */
  readonly extensionPollTimeout?: Duration;
}

/** AiServiceConfig.bind: the environment, the extension and read access of `fn`. */
export function bindFunction(config: AiServiceConfig, fn: lambda.Function, options: BindOptions = {}): void {
  const ttl = options.configTtl ?? Duration.seconds(5);
  const poll = options.extensionPollInterval ?? Duration.seconds(15);
  const ttlMs = ttl.toMilliseconds();
  if (ttlMs < 1000 || ttlMs > 300_000 || ttlMs % 1000 !== 0) {
    throw new Error(`configTtl must be whole seconds from 1 to 300, got ${ttl.toHumanString()}; it bounds how long a rolled-back config keeps being served`);
  }
  if (poll.toMilliseconds() < 15_000 || poll.toMilliseconds() % 1000 !== 0) {
    throw new Error(`extensionPollInterval must be whole seconds, at least 15 (AppConfig's minimum poll interval), got ${poll.toHumanString()}`);
  }
  for (const [k, v] of Object.entries(config.environmentVariables)) fn.addEnvironment(k, v);
  fn.addEnvironment(RUNTIME_ENV.CONFIG_TTL_SECONDS, String(ttl.toSeconds()));
  if (options.appConfigExtensionLayer) {
    fn.addLayers(options.appConfigExtensionLayer);
    // How often the extension polls AppConfig: with the TTL, the most a client lags a deployment or rollback.
    fn.addEnvironment(APPCONFIG_EXTENSION_ENV.POLL_INTERVAL_SECONDS, String(poll.toSeconds()));
    // Both profiles are fetched when the extension starts, before the function's init: the first invocation reads
    // them from the extension's cache instead of waiting on a cache miss. Comma-separated paths; ids, never names,
    // so no comma can appear inside one (AppConfig docs, "Configuring the AWS AppConfig Agent Lambda extension").
    fn.addEnvironment(APPCONFIG_EXTENSION_ENV.PREFETCH_LIST, config.prefetchPaths().join(','));
    const pollTimeoutMs = (options.extensionPollTimeout ?? Duration.millis(APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS)).toMilliseconds();
    if (!Number.isInteger(pollTimeoutMs) || pollTimeoutMs < 100 || pollTimeoutMs > 60_000) {
      throw new Error(`extensionPollTimeout must be whole milliseconds from 100 to 60000, got ${pollTimeoutMs} ms`);
    }
    fn.addEnvironment(APPCONFIG_EXTENSION_ENV.POLL_TIMEOUT_MILLIS, String(pollTimeoutMs));
    // The read of both configs may wait for the extension's own fetch (its poll timeout), then the client's margin,
    // then a moment for the data API should the extension be unreachable.
    const readMs = pollTimeoutMs + 2 * APPCONFIG_EXTENSION_CLIENT_MARGIN_MS;
    fn.addEnvironment(RUNTIME_ENV.CONFIG_TIMEOUT_MS, String(readMs));
    const fnTimeoutMs = (fn.timeout ?? Duration.seconds(3)).toMilliseconds();
    if (fnTimeoutMs <= readMs + 1000) {
      Annotations.of(fn).addWarningV2(
        'cdk-ai-release:config-read-exceeds-function-timeout',
        `the config read of ${config.serviceName} may take up to ${readMs} ms (the extension's poll timeout ${pollTimeoutMs} ms plus margins), close to or over the function's timeout of ${fnTimeoutMs} ms; raise the function's timeout or lower extensionPollTimeout. The runtime never waits past the invocation's deadline, so a cold start would answer without a config.`,
      );
    }
  } else {
    fn.addEnvironment(RUNTIME_ENV.USE_EXTENSION, 'false');
  }
  config.grantRead(fn);
}
