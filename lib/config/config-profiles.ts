/**
 * What a service's configs are: the release-config profile (all sections, validated by AppConfig with the shipped
 * JSON Schema) and the degrade feature-flags profile, their hosted versions, and what happens to the versions when
 * they are superseded, when a first create fails and on `cdk destroy` (retain, or a cleanup before the profile).
 * Built inside the AiServiceConfig (`scope`), so its construct ids are the ones they always had.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import { physicalName } from '../private/physical-names';
import { ReleaseConfigDeployment } from '../rollout/config-deployment';
import { RELEASE_CONFIG_SCHEMA } from './private/validate-release-config';

export interface ConfigProfilesProps {
  readonly serviceName: string;
  readonly platform: AiReleasePlatform;
  readonly applicationId: string;
  /** The hosted release config, canonical JSON with its `_release` block. */
  readonly releaseContent: string;
  readonly versionLabel: string;
  /** The degrade flags document, canonical JSON. */
  readonly degradeContent: string;
  readonly degradeLabel: string;
  /** AiServiceConfigProps.versionHistoryRemovalPolicy. */
  readonly historyPolicy: RemovalPolicy;
}

export interface ConfigProfiles {
  readonly profile: appconfig.CfnConfigurationProfile;
  readonly hostedVersion: appconfig.CfnHostedConfigurationVersion;
  readonly degradeProfile: appconfig.CfnConfigurationProfile;
  readonly degradeVersion: appconfig.CfnHostedConfigurationVersion;
}

export function buildConfigProfiles(scope: Construct, p: ConfigProfilesProps): ConfigProfiles {
  const { serviceName, applicationId, historyPolicy } = p;
  // Release config: one profile, all sections, validated by AppConfig with the shipped schema.
  const profile = new appconfig.CfnConfigurationProfile(scope, 'ReleaseConfigProfile', {
    applicationId,
    name: physicalName('appConfigProfile', serviceName, 'release'),
    locationUri: 'hosted',
    type: 'AWS.Freeform',
    description: `Prompt, model, retrieval, tools and output contract of ${serviceName}`,
    validators: [{ type: 'JSON_SCHEMA', content: JSON.stringify(RELEASE_CONFIG_SCHEMA) }],
  });
  const hostedVersion = new appconfig.CfnHostedConfigurationVersion(scope, 'ReleaseConfigVersion', {
    applicationId,
    configurationProfileId: profile.ref,
    content: p.releaseContent,
    contentType: 'application/json',
    versionLabel: p.versionLabel,
    description: `${serviceName} release config ${p.versionLabel}`,
  });
  hostedVersion.applyRemovalPolicy(historyPolicy);

  // Degrade flags: a feature-flags profile, deployed with the instant strategy.
  const degradeProfile = new appconfig.CfnConfigurationProfile(scope, 'DegradeProfile', {
    applicationId,
    name: physicalName('appConfigProfile', serviceName, 'degrade'),
    locationUri: 'hosted',
    type: 'AWS.AppConfig.FeatureFlags',
    description: `Emergency degrade switches of ${serviceName}: fallback model, no tools, no retrieval, static answer`,
  });
  const degradeVersion = new appconfig.CfnHostedConfigurationVersion(scope, 'DegradeVersion', {
    applicationId,
    configurationProfileId: degradeProfile.ref,
    content: p.degradeContent,
    contentType: 'application/json',
    versionLabel: p.degradeLabel,
    description: `${serviceName} degrade flags ${p.degradeLabel}`,
  });
  degradeVersion.applyRemovalPolicy(historyPolicy);
  // One cleanup for both profiles (issue 15 E; the cost guard writes degrade versions CloudFormation never created:
  // the cleanup removes them too).
  retainOrCleanUp(scope, p.platform, [profile, degradeProfile], [hostedVersion, degradeVersion], historyPolicy);
  return { profile, hostedVersion, degradeProfile, degradeVersion };
}

/**
 * Makes `cdk destroy` and the rollback of a failed first create end clean (docs: "Destroy and failed first
 * deploys"). AppConfig refuses to delete a profile that still has hosted versions. RETAIN keeps the whole chain (the
 * profiles too); any other policy gets ONE cleanup resource for the service's profiles that every version of them
 * depends on, so that CloudFormation, deleting in reverse dependency order, runs it after the versions and before
 * the profiles. The profiles share their application and their other replacing properties are constants, so they
 * are only ever replaced together (the cleanup refuses an update that replaces one alone: version-cleanup.ts).
 */
function retainOrCleanUp(
  scope: Construct,
  platform: AiReleasePlatform,
  profiles: readonly appconfig.CfnConfigurationProfile[],
  versions: readonly appconfig.CfnHostedConfigurationVersion[],
  policy: RemovalPolicy,
): void {
  if (policy === RemovalPolicy.RETAIN) {
    for (const profile of profiles) profile.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return;
  }
  const cleanup = ReleaseConfigDeployment.versionCleanup(scope, 'ConfigVersions', platform, profiles);
  for (const version of versions) version.node.addDependency(cleanup);
}
