/**
 * The release manifest of one service as AiRelease records it: the config's components and the code, the release's
 * facts (read at synth, from the alarms as synthesized: the worst case per plane) and the locators the CLI finds the
 * deployed parts by. Built inside the AiRelease (`scope`), so its construct id is the one it always had.
 */
import type { Construct } from 'constructs';
import type { ReleaseLocators } from '../../lambda/shared/contract';
import type { AiRelease } from '../ai-release';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import { namePrefix } from '../private/physical-names';
import { PLANE_ORDER } from '../rollout/code-plane';
import { ConfigRollout } from '../rollout/config-rollout';
import { degradeFacts } from '../rollout/release-facts';
import { ReleaseManifestRecorder } from './release-manifest-recorder';

export function recordManifest(
  scope: Construct,
  r: AiRelease,
  platform: AiReleasePlatform,
  props: AiReleaseProps,
  budgetSeconds: number,
): ReleaseManifestRecorder {
  return new ReleaseManifestRecorder(scope, 'Manifest', {
    config: r.config,
    function: props.function,
    // Getters: read when the manifest is computed, at synth, from the alarms as synthesized.
    facts: Object.defineProperties(
      {
        trafficShift: r.trafficShift.describe(),
        rollbackBudgetSeconds: budgetSeconds,
        rolloutOrder: `${PLANE_ORDER.join(', then ')}, one at a time`,
        ...degradeFacts(r.config.degradeState),
        ...(props.owner ? { owner: props.owner } : {}),
      } as Record<string, string | number | boolean>,
      {
        worstCaseCodeSeconds: { enumerable: true, get: () => r.worstCase.code.seconds },
        worstCaseConfigSeconds: { enumerable: true, get: () => r.worstCase.config.seconds },
      },
    ),
    locators: locators(r, platform, props),
    // The platform's shared gate reads this service's settings here (learning/gate-wiring.ts).
    ...(r.regressionGate?.settingsParameter ? { gate: r.regressionGate.settingsDocument } : {}),
  });
}

/** Where the deployed parts are, for the CLI (deploy-time names and ids; see ReleaseLocators). */
function locators(r: AiRelease, platform: AiReleasePlatform, props: AiReleaseProps): ReleaseLocators {
  // The store exists when snapshots or reviews use it; reading `platform.regressionStore` otherwise would create one.
  const usesStore = (props.snapshots ?? true) || (r.review !== undefined && props.reviewBucket === undefined);
  return {
    stack: namePrefix(platform),
    function: props.function.functionName,
    alias: r.alias.aliasName,
    codeDeploy: { application: r.deploymentGroup.application.applicationName, deploymentGroup: r.deploymentGroup.deploymentGroupName },
    appConfig: {
      application: r.config.applicationId,
      environment: r.config.environmentId,
      profile: r.config.profile.ref,
      degradeEnvironment: r.config.degradeEnvironmentId,
      degradeProfile: r.config.degradeProfile.ref,
      instantStrategy: platform.strategyFor(ConfigRollout.INSTANT).ref,
    },
    ...(usesStore ? { store: platform.regressionStore.bucket.bucketName } : {}),
    ...(r.review && props.reviewBucket ? { reviews: props.reviewBucket.bucketName } : {}),
  };
}
