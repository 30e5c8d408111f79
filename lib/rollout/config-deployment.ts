import { ArnFormat, CustomResource, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import { ConfigRollout } from './config-rollout';
import { libraryFunction } from '../private/library-function';
import { platformRole } from '../private/platform-role';

/**
 * The longest config rollout (deployment duration + final bake) a release may use. The deployer answers
 * CloudFormation only when AppConfig has finished, from one Lambda invocation (at most 15 minutes); 3 minutes are
 * kept for a deployment already running in the environment to finish and for the answer itself. With the config
 * gate, the candidate deployment and the gate's replay come out of the same 12 minutes.
 */
export const MAX_CONFIG_ROLLOUT_MINUTES = 12;
/**
 * What staging the candidate takes at most: an instant deployment to an environment with no monitors is COMPLETE at
 * the first poll (10 s); a minute leaves room for a candidate deployment of a previous release still finishing.
 */
export const CANDIDATE_STAGE_SECONDS = 60;
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
  /** The candidate environment a gated release is staged in. @default none: the release cannot be gated */
  readonly candidateEnvironment?: appconfig.CfnEnvironment;
  /** The service (the gate's request names it). @default none */
  readonly serviceName?: string;
  /** The version's label (passed to the gate for its report). @default none */
  readonly versionLabel?: string;
}

/** Reviewers a deployer may already invoke (by construct path). */
const REVIEW_GRANTS = new WeakMap<lambda.IFunction, Set<string>>();

/** How the config gate is connected (ReleaseConfigDeployment.connectGate). */
export interface ConfigGateConnection {
  /** The regression gate function; the deployer invokes it synchronously with a ConfigGateRequest. */
  readonly function: lambda.IFunction;
  /** The gate function's timeout: the longest a replay can take, counted in the deployment's time budget. */
  readonly timeout: Duration;
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
  private gateConnection?: ConfigGateConnection;
  private reviewer?: lambda.IFunction;
  private readonly props: ReleaseConfigDeploymentProps;
  private readonly rolloutMinutes: number;

  constructor(scope: Construct, id: string, props: ReleaseConfigDeploymentProps) {
    super(scope, id);
    this.props = props;
    const minutes = props.rollout.deploymentDurationMinutes + props.rollout.finalBakeMinutes;
    this.rolloutMinutes = minutes;
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
    const appId = props.environment.applicationId;
    const arn = (resourceName: string) =>
      stack.formatArn({ service: 'appconfig', resource: 'application', resourceName: `${appId}${resourceName}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const strategyArn = (s: appconfig.CfnDeploymentStrategy) =>
      stack.formatArn({ service: 'appconfig', resource: 'deploymentstrategy', resourceName: s.ref, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const envArn = arn(`/environment/${props.environment.ref}`);
    // Resource types from the Service Authorization Reference: StartDeployment needs application, environment,
    // configuration profile and strategy; Get/Stop need application, environment and deployment; List needs
    // application and environment.
    // From a service in another stack, these grants live in that stack (platform-role.ts).
    const deployerRole = platformRole(this, fn);
    deployerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:StartDeployment'],
        resources: [arn(''), envArn, arn(`/configurationprofile/${props.profile.ref}`), strategyArn(strategy), strategyArn(instant)],
      }),
    );
    deployerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:GetDeployment', 'appconfig:StopDeployment', 'appconfig:ListDeployments'],
        resources: [arn(''), envArn, `${envArn}/deployment/*`],
      }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(platform.applicationOf(props.environment))}>/environment/<${stack.getLogicalId(props.environment)}>/deployment/*]`,
      reason: 'Deployment numbers are assigned by AppConfig; the wildcard covers the deployments of this one release-config environment.',
    });

    // The gate's share of the budget is known only once it is connected (connectGate): read at synth.
    const budgetSeconds = () =>
      Math.min(minutes * 60 + 120 + (this.gateConnection ? this.gateSeconds() : 0), DEPLOYER_TIMEOUT.toSeconds() - ANSWER_MARGIN_SECONDS);
    const gated = (produce: () => string | undefined) => Lazy.string({ produce: () => (this.gateConnection ? produce() : undefined) });
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
        BudgetSeconds: Lazy.string({ produce: () => String(budgetSeconds()) }),
        // Absent (undefined) until a gate is connected: an ungated release deploys straight to the live environment.
        GateFunction: gated(() => this.gateConnection!.function.functionName),
        CandidateEnvironment: gated(() => props.candidateEnvironment!.ref),
        Service: gated(() => props.serviceName),
        ConfigLabel: gated(() => props.versionLabel),
        GateTimeoutSeconds: gated(() => String(this.gateConnection!.timeout.toSeconds())),
        // Absent until a reviewer is connected (connectReview): a release the gate stops is then reviewed too.
        ReviewFunction: Lazy.string({ produce: () => this.reviewer?.functionName }),
      },
    });
    // The role's grants must exist before the first call.
    this.resource.node.addDependency(fn, deployerRole);
  }

  /** The connected gate, if any. */
  public get gate(): ConfigGateConnection | undefined {
    return this.gateConnection;
  }

  /**
   * Gates every release of this config: the new version is staged in the candidate environment, the gate replays
   * the regression cases through the `gate` alias, and the live rollout starts only on a passing report. The
   * candidate stage, the gate's timeout and the rollout must fit the deployer's budget together (a synth error
   * otherwise, with the numbers).
   */
  public connectGate(gate: ConfigGateConnection): void {
    if (this.gateConnection) throw new Error(`a config gate is already connected to ${this.node.path}; connect one gate function per service`);
    const { candidateEnvironment, serviceName } = this.props;
    if (!candidateEnvironment || !serviceName) {
      throw new Error(
        `${this.node.path} has no candidateEnvironment or serviceName: a gated release is staged in the service's candidate environment (AiServiceConfig makes it)`,
      );
    }
    const seconds = gate.timeout.toSeconds();
    const total = CANDIDATE_STAGE_SECONDS + seconds + this.rolloutMinutes * 60;
    if (total > MAX_CONFIG_ROLLOUT_MINUTES * 60) {
      throw new Error(
        `the config gate of ${serviceName} does not fit the config plane's time budget: candidate stage ${CANDIDATE_STAGE_SECONDS} s + gate timeout ${seconds} s + rollout ${this.rolloutMinutes * 60} s = ${total} s, over ${MAX_CONFIG_ROLLOUT_MINUTES * 60} s ` +
          `(the deployer waits for all three from one Lambda invocation of 15 minutes). Lower the gate's timeout (fewer cases or more concurrency) or shorten the config rollout`,
      );
    }
    this.gateConnection = gate;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    // The unqualified function only (the deployer invokes it by name), not `<arn>:*` as grantInvoke would.
    const deployerRole = platformRole(this, fn);
    deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [gate.function.functionArn] }));
    const stack = Stack.of(this);
    const arn = (resourceName: string) =>
      stack.formatArn({
        service: 'appconfig',
        resource: 'application',
        resourceName: `${this.props.environment.applicationId}${resourceName}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const candidateArn = arn(`/environment/${candidateEnvironment.ref}`);
    // Staging: StartDeployment (instant strategy, already granted with the application, profile and strategy) on the
    // candidate environment, and waiting for it.
    deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['appconfig:StartDeployment'], resources: [candidateArn] }));
    deployerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:GetDeployment', 'appconfig:StopDeployment', 'appconfig:ListDeployments'],
        resources: [candidateArn, `${candidateArn}/deployment/*`],
      }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(this.props.platform.applicationOf(candidateEnvironment))}>/environment/<${stack.getLogicalId(candidateEnvironment)}>/deployment/*]`,
      reason: 'Deployment numbers are assigned by AppConfig; the wildcard covers the deployments of one candidate environment.',
    });
  }

  /**
   * Connects the platform's review function: when the config gate stops a release (failed, erred or timed out), the
   * deployer asks it for that release's review with an asynchronous invoke, since no live deployment will.
   */
  public connectReview(reviewer: lambda.IFunction): void {
    if (this.reviewer) throw new Error(`a review function is already connected to ${this.node.path}; connect the platform's reviewer once`);
    this.reviewer = reviewer;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    // One deployer and one reviewer per platform: one grant, on the unqualified function it invokes by name.
    const granted = REVIEW_GRANTS.get(fn) ?? new Set<string>();
    if (!granted.has(reviewer.node.path)) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [reviewer.functionArn] }));
      granted.add(reviewer.node.path);
      REVIEW_GRANTS.set(fn, granted);
    }
  }

  private gateSeconds(): number {
    return CANDIDATE_STAGE_SECONDS + (this.gateConnection?.timeout.toSeconds() ?? 0);
  }
}
