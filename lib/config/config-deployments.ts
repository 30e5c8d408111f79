/**
 * How a service's configs are deployed: the degrade flags with the instant strategy (an AWS::AppConfig::Deployment
 * whose logical id carries the content hash), and the release config through the ReleaseConfigDeployment custom
 * resource, which waits for the rollout and fails when an alarm rolls it back. Built inside the AiServiceConfig
 * (`scope`), so its construct ids are the ones they always had.
 */
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type { Construct } from 'constructs';
import { contentHash } from '../../lambda/shared/canonical-json';
import type { AiReleasePlatform } from '../ai-release-platform';
import { ConfigRollout } from '../rollout/config-rollout';
import { ReleaseConfigDeployment } from '../rollout/config-deployment';
import type { ConfigEnvironments } from './config-environments';
import type { ConfigProfiles } from './config-profiles';

export interface ConfigDeploymentsProps {
  readonly serviceName: string;
  readonly platform: AiReleasePlatform;
  readonly applicationId: string;
  readonly environments: ConfigEnvironments;
  readonly profiles: ConfigProfiles;
  readonly rollout: ConfigRollout;
  readonly versionLabel: string;
  readonly degradeLabel: string;
  /** sha256 of the degrade flags document. */
  readonly degradeHash: string;
}

export function buildConfigDeployments(
  scope: Construct,
  p: ConfigDeploymentsProps,
): { readonly degradeDeployment: appconfig.CfnDeployment; readonly deployment: ReleaseConfigDeployment } {
  // Degrade deployment: the logical id carries the content (and strategy) hash, so an unchanged state is the same
  // resource (no new deployment), and a changed one is a new resource rather than an in-place replacement,
  // which AppConfig rejects ("Deployment number 1 already exists", aws-cdk#18745). The hash is computed from
  // resolved content, never from tokens, so it is stable across synths (aws-cdk#28782).
  const instant = p.platform.strategyFor(ConfigRollout.INSTANT);
  const degradeDeployment = new appconfig.CfnDeployment(scope, `DegradeDeployment${shortId(p.degradeHash, ConfigRollout.INSTANT.key)}`, {
    applicationId: p.applicationId,
    environmentId: p.environments.degradeEnvironment.ref,
    configurationProfileId: p.profiles.degradeProfile.ref,
    configurationVersion: p.profiles.degradeVersion.attrVersionNumber,
    deploymentStrategyId: instant.ref,
    description: `${p.serviceName} degrade flags ${p.degradeLabel}`,
  });
  // The release config is not an AWS::AppConfig::Deployment, which only starts a rollout: a custom resource
  // that succeeds when the rollout is COMPLETE and fails when an alarm rolls it back, so the config plane can
  // be ordered after the code plane and a failed release rolls both back (see ReleaseConfigDeployment).
  const deployment = new ReleaseConfigDeployment(scope, 'ReleaseConfigDeployment', {
    platform: p.platform,
    environment: p.environments.environment,
    profile: p.profiles.profile,
    version: p.profiles.hostedVersion,
    rollout: p.rollout,
    description: `${p.serviceName} release config ${p.versionLabel}`,
    candidateEnvironment: p.environments.candidateEnvironment,
    serviceName: p.serviceName,
    versionLabel: p.versionLabel,
  });
  return { degradeDeployment, deployment };
}

function shortId(hash: string, strategyKey: string): string {
  return contentHash({ hash, strategyKey }).slice(0, 8).toUpperCase();
}
