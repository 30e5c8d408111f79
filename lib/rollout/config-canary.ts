/**
 * How config canaries reach traffic for one service (AiReleaseProps.configCanary): AppConfig's rollout strategy, or
 * (`'assigned'`, issue 16 C) the runtime's per-conversation assignment, whose switch lives in its own AppConfig
 * environment and whose controller rolls back on the same alarms the AppConfig environment monitors. Built inside
 * the AiRelease (`scope`), so its construct id is the one it always had.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import type { AiServiceConfig } from '../config/ai-service-config';
import { ConfigShare } from './config-share';
import type { ReleaseAlarms } from './release-alarms';

/** The assigned canary's switch and controller, or undefined for AppConfig's own rollout. */
export function wireConfigCanary(
  scope: Construct,
  props: AiReleaseProps,
  w: { readonly platform: AiReleasePlatform; readonly config: AiServiceConfig; readonly alarms: ReleaseAlarms; readonly function: lambda.Function },
): ConfigShare | undefined {
  const canary = props.configCanary ?? 'appconfig';
  if (canary !== 'appconfig' && canary !== 'assigned' && (typeof canary !== 'object' || canary === null)) {
    throw new Error(`configCanary must be 'appconfig', 'assigned' or the assigned canary's options, got ${JSON.stringify(canary)}`);
  }
  if (canary === 'appconfig') return undefined;
  const share = new ConfigShare(scope, 'ConfigShare', {
    platform: w.platform,
    config: w.config,
    alarms: w.alarms.configMonitors,
    bucket: w.platform.regressionStore.bucket,
    ...(typeof canary === 'object' ? canary : {}),
  });
  share.bind(w.function, { extension: props.appConfigExtensionLayer !== undefined });
  // The deployer hands each gated release to the controller; the controller exists before the first release.
  w.config.deployment.connectShare({
    function: share.function,
    bucket: w.platform.regressionStore.bucket,
    contentHash: w.config.contentHash,
    seconds: share.longestReleaseSeconds,
  });
  w.config.deployment.node.addDependency(share);
  return share;
}
