/**
 * The canary judge of one service as AiRelease wires it: the schedule judges both planes and publishes its verdict
 * (the verdict alarms roll back; the config tick reads the stored verdict), and after full traffic the
 * AfterAllowTraffic hook judges on and fails the deployment on a regression. Owns the ordering that puts the hook and
 * the tick in place before the first release they judge. Built inside the AiRelease (`scope`), so its construct id is
 * the one it always had.
 */
import type { JudgeTolerance } from '../../lambda/shared/contract';
import { planTolerance } from '../rollout/canary-plan';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import type { AiServiceConfig } from '../config/ai-service-config';
import { platformRole } from '../private/platform-role';
import type { ReleaseAlarms } from '../rollout/release-alarms';
import { attachPostHook, CanaryJudge, dependOnSchedule } from './canary-judge';

export interface JudgeWiring {
  readonly platform: AiReleasePlatform;
  readonly config: AiServiceConfig;
  readonly alarms: ReleaseAlarms;
  readonly alias: lambda.Alias;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
}

/** The judge's value tolerance: as stated in canaryJudge, else half of the canary plan's minimum regressions. */
export function judgeTolerance(props: AiReleaseProps): JudgeTolerance {
  const stated = typeof props.canaryJudge === 'object' ? props.canaryJudge.tolerance : undefined;
  return { ...planTolerance(props.canaryPlan?.minRegressions), ...stated };
}

/** The judge, unless `canaryJudge` is false. */
export function wireCanaryJudge(scope: Construct, props: AiReleaseProps, w: JudgeWiring): CanaryJudge | undefined {
  if (props.canaryJudge === false) return undefined;
  const judge = new CanaryJudge(scope, 'CanaryJudge', {
    ...(typeof props.canaryJudge === 'object' ? props.canaryJudge : {}),
    tolerance: judgeTolerance(props),
    serviceName: props.serviceName,
    logGroup: props.function.logGroup,
    bucket: w.platform.regressionStore.bucket,
    deploymentGroup: w.deploymentGroup,
    appConfigApplicationId: w.config.applicationId,
    configProfileId: w.config.profile.ref,
    environment: w.config.environment,
    period: w.alarms.period,
    // AppConfig's own rollout tells execution environments, so they are its randomization unit (issue 16 B3).
    configUnit: (props.configCanary ?? 'appconfig') === 'appconfig' ? 'environment' : 'cluster',
    // An assigned release has no AppConfig rollout to start the judge: it judges from the share controller's record.
    assignedReleases: (props.configCanary ?? 'appconfig') !== 'appconfig',
    tickHost: w.platform,
    notificationTopic: w.platform.notificationTopic,
  });
  attachPostHook(judge, w.deploymentGroup);
  // As for the regression gate: CloudFormation must update the hook (its code, role and role policy) and the
  // CodeDeploy role's policy that lets CodeDeploy invoke it before the alias update starts the deployment.
  w.alias.node.addDependency(judge.function, platformRole(scope, w.platform.codeDeployRole));
  // The hook finds the deployment's service in the pointer the schedule leaves: the rule (with this release's settings
  // as its input) is in place before the alias update starts the deployment; with shared rules (the flat layout),
  // every rule of the platform is.
  dependOnSchedule(judge, w.alias);
  // The first config release is judged too: the tick association exists before it starts.
  w.config.deployment.node.addDependency(judge.association);
  return judge;
}
