import { ArnFormat, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { AiReleasePlatform } from './ai-release-platform';
import { ConfigRollout } from './config-rollout';
import { libraryFunction } from './private/library-function';

/**
 * The longest config rollout (deployment duration + final bake) a release may use. The deployer answers
 * CloudFormation only when AppConfig has finished, from one Lambda invocation (at most 15 minutes); 3 minutes are
 * kept for a deployment already running in the environment to finish and for the answer itself.
 */
export const MAX_CONFIG_ROLLOUT_MINUTES = 12;
/** The deployer's Lambda timeout: Lambda's maximum. */
const DEPLOYER_TIMEOUT = Duration.minutes(15);
/** What the handler keeps back to answer CloudFormation (lambda/config-deployer/handler.ts). */
const ANSWER_MARGIN_SECONDS = 30;

export interface ReleaseConfigDeploymentProps {
  readonly platform: AiReleasePlatform;
  readonly environment: appconfig.CfnEnvironment;
  readonly profile: appconfig.CfnConfigurationProfile;
  readonly version: appconfig.CfnHostedConfigurationVersion;
  readonly rollout: ConfigRollout;
  readonly description: string;
}

/**
 * The config plane of a release: deploys one hosted version of the release config with its rollout, and succeeds
 * only when AppConfig reports it COMPLETE (see lambda/config-deployer). A rolled-back or overdue rollout fails the
 * stack update, and CloudFormation's rollback redeploys the previous version, instantly. One resource with a stable
 * logical id: a new version is an Update, so a stack rollback is an Update back (a replaced resource would be
 * deleted on rollback, which would leave the new config live).
 */
export class ReleaseConfigDeployment extends Construct {
  /** The deployer function of the stack: one per platform. */
  public static deployerOf(platform: AiReleasePlatform): lambda.Function {
    const existing = platform.node.tryFindChild('ConfigDeployer') as lambda.Function | undefined;
    if (existing) return existing;
    const fn = libraryFunction(platform, 'ConfigDeployer', {
      handler: 'config-deployer',
      timeout: DEPLOYER_TIMEOUT,
      description: 'cdk-ai-release: deploys a release config with its rollout and waits for AppConfig to finish (custom resource)',
    });
    // CloudFormation invokes custom resources asynchronously; a retry would start a second deployment. The handler
    // never throws; it answers FAILED instead.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the config deployer write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          'The config deployer calls only the AppConfig API and the CloudFormation response URL, over TLS; it holds no data and needs no network isolation.',
      },
    );
    return fn;
  }

  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ReleaseConfigDeploymentProps) {
    super(scope, id);
    const minutes = props.rollout.deploymentDurationMinutes + props.rollout.finalBakeMinutes;
    if (minutes > MAX_CONFIG_ROLLOUT_MINUTES) {
      throw new Error(
        `config rollout "${props.rollout.describe()}" takes ${minutes} minutes (deploymentDuration + finalBake), over the ${MAX_CONFIG_ROLLOUT_MINUTES} a release may use: ` +
          `the config plane is deployed and waited for from one Lambda invocation (15 minutes at most); shorten deploymentDuration or finalBake (ConfigRollout.DEFAULT takes 5)`,
      );
    }
    const platform = props.platform;
    const stack = Stack.of(this);
    const fn = ReleaseConfigDeployment.deployerOf(platform);
    const strategy = platform.strategyFor(props.rollout);
    const instant = platform.strategyFor(ConfigRollout.INSTANT);
    const appId = platform.applicationId;
    const arn = (resourceName: string) =>
      stack.formatArn({ service: 'appconfig', resource: 'application', resourceName: `${appId}${resourceName}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const strategyArn = (s: appconfig.CfnDeploymentStrategy) =>
      stack.formatArn({ service: 'appconfig', resource: 'deploymentstrategy', resourceName: s.ref, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const envArn = arn(`/environment/${props.environment.ref}`);
    // Resource types from the Service Authorization Reference: StartDeployment needs application, environment,
    // configuration profile and strategy; Get/Stop need application, environment and deployment; List needs
    // application and environment.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:StartDeployment'],
        resources: [arn(''), envArn, arn(`/configurationprofile/${props.profile.ref}`), strategyArn(strategy), strategyArn(instant)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:GetDeployment', 'appconfig:StopDeployment', 'appconfig:ListDeployments'],
        resources: [arn(''), envArn, `${envArn}/deployment/*`],
      }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(platform.application)}>/environment/<${stack.getLogicalId(props.environment)}>/deployment/*]`,
      reason: 'Deployment numbers are assigned by AppConfig; the wildcard covers the deployments of this one release-config environment.',
    });

    const budgetSeconds = Math.min(minutes * 60 + 120, DEPLOYER_TIMEOUT.toSeconds() - ANSWER_MARGIN_SECONDS);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::AiReleaseConfigDeployment',
      // A lost answer fails the resource shortly after the deployer's own timeout instead of CloudFormation's hour.
      serviceTimeout: DEPLOYER_TIMEOUT.plus(Duration.minutes(1)),
      properties: {
        Application: appId,
        Environment: props.environment.ref,
        Profile: props.profile.ref,
        Version: props.version.attrVersionNumber,
        Strategy: strategy.ref,
        RollbackStrategy: instant.ref,
        Description: props.description,
        BudgetSeconds: String(budgetSeconds),
      },
    });
    // The role's grants must exist before the first call.
    this.resource.node.addDependency(fn);
  }
}
