import { ArnFormat, type CfnElement, CustomResource, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { markerKey, SHARE_STATE_PREFIX } from '../../lambda/shared/contract';
import type { AiReleasePlatform } from '../ai-release-platform';
import { ConfigRollout } from './config-rollout';
import { libraryFunction } from '../private/library-function';
import { platformRole } from '../private/platform-role';

/**
 * How long CloudFormation waits for a custom resource at most: "The value must be an integer from 1 to 3600. The
 * default value is 3600 seconds (1 hour)" (AWS::CloudFormation::CustomResource, ServiceTimeout).
 */
export const CUSTOM_RESOURCE_MAX_SECONDS = 3600;
/**
 * How long a CloudFormation request may wait in the queue of the framework's asynchronous invoke before Lambda drops
 * it (EventInvokeConfig MaximumEventAgeInSeconds). Lambda retries a throttled event for up to its maximum event age
 * (6 hours by default; Lambda Developer Guide, "Asynchronous invocation"): a request older than this is no longer one
 * CloudFormation can wait out with a rollout, so it is dropped instead of acted on late.
 */
export const REQUEST_MAX_AGE = Duration.minutes(5);
/**
 * The config plane's whole time budget: the gate's stage and replay, waiting for a deployment already running, and the
 * rollout. CloudFormation's hour, less the request's queue age (5 min) and 5 minutes for the framework's own calls,
 * the last poll and the answer.
 */
export const CONFIG_PLANE_BUDGET_SECONDS = 50 * 60;
/** Kept in the budget for a deployment already running in the environment to finish (the deployer waits for it). */
const RUNNING_DEPLOYMENT_SECONDS = 120;
/**
 * The longest config rollout (deployment duration + final bake) a release may use: the budget less the wait for a
 * running deployment. AppConfig's predefined AppConfig.Canary10Percent20Minutes (20 minutes + 10 of bake) fits;
 * AppConfig.Linear20PercentEvery6Minutes (30 + 30) does not.
 */
export const MAX_CONFIG_ROLLOUT_MINUTES = (CONFIG_PLANE_BUDGET_SECONDS - RUNNING_DEPLOYMENT_SECONDS) / 60;
/**
 * What staging the candidate takes at most: an instant deployment to an environment with no monitors is COMPLETE at
 * the first poll (10 s); a minute leaves room for a candidate deployment of a previous release still finishing.
 */
export const CANDIDATE_STAGE_SECONDS = 60;
/** The deployer's Lambda timeout: Lambda's maximum. onEvent (checks, gate, start) runs in one invocation. */
const DEPLOYER_TIMEOUT = Duration.minutes(15);
/** What the handler keeps back to answer the framework (lambda/config-deployer/handler.ts). */
const ANSWER_MARGIN_SECONDS = 30;
/** onEvent keeps this after the gate for the live deployment's start (a running deployment, a conflict). */
const START_SECONDS = 60;
/** The longest gate a release may connect: stage + gate + start must fit one onEvent invocation. */
export const MAX_GATE_SECONDS = DEPLOYER_TIMEOUT.toSeconds() - ANSWER_MARGIN_SECONDS - START_SECONDS - CANDIDATE_STAGE_SECONDS;
/** How often the framework asks isComplete (lambda/config-deployer/handler.ts QUERY_INTERVAL_MS). */
export const QUERY_INTERVAL = Duration.seconds(15);

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

/** How the config gate is connected (ReleaseConfigDeployment.connectGate). */
export interface ConfigGateConnection {
  /** The regression gate function; the deployer invokes it synchronously with a ConfigGateRequest. */
  readonly function: lambda.IFunction;
  /** The gate function's timeout: the longest a replay can take, counted in the deployment's time budget. */
  readonly timeout: Duration;
  /**
   * The SSM parameter holding the service's gate settings, for a gate function shared by a platform's services: sent
   * with each ConfigGateRequest. @default none (the gate function reads its own environment)
   */
  readonly settingsParameter?: string;
}

/** The gate functions each deployer role may already invoke (ReleaseConfigDeployment.connectGate). */
const INVOKE_GRANTS = new WeakMap<iam.IRole, Set<lambda.IFunction>>();

/** How an assigned config canary's share controller is connected (ReleaseConfigDeployment.connectShare). */
export interface ConfigShareConnection {
  /** The service's share controller; the deployer invokes it synchronously with its start and rollback requests. */
  readonly function: lambda.IFunction;
  /** Where the controller keeps its records (share/<service>/current.json): the deployer follows the release there. */
  readonly bucket: s3.IBucket;
  /** `_release.contentHash` of the version: the runtime assigns to the candidate only while it serves exactly this. */
  readonly contentHash: string;
  /** The longest a release through the controller takes (ConfigShare.longestReleaseSeconds), counted in the budget. */
  readonly seconds: number;
}

/**
 * The config plane of a release: deploys one hosted version of the release config with its rollout, and succeeds
 * only when AppConfig reports it COMPLETE (see lambda/config-deployer). A rolled-back or overdue rollout fails the
 * stack update, and CloudFormation's rollback redeploys the previous version, instantly. One resource with a stable
 * logical id: a new version is an Update, so a stack rollback is an Update back (a replaced resource would be
 * deleted on rollback, which would leave the new config live).
 *
 * The deployer runs behind aws-cdk-lib's Provider framework: onEvent (one Lambda invocation, 15 minutes at most)
 * checks, gates and starts the deployment; isComplete is asked every QUERY_INTERVAL until the rollout ends, for up
 * to the config plane's budget (CONFIG_PLANE_BUDGET_SECONDS), inside CloudFormation's one hour for a custom resource.
 * So rollouts of up to MAX_CONFIG_ROLLOUT_MINUTES (AppConfig's Canary10Percent20Minutes shape among them) can be
 * waited for; a longer one is refused at synth.
 */
export class ReleaseConfigDeployment extends Construct {
  /** The deployer function of the platform: one per platform, the user handler of both the onEvent and isComplete roles. */
  public static deployerOf(platform: AiReleasePlatform): lambda.Function {
    const existing = platform.node.tryFindChild('ConfigDeployer') as lambda.Function | undefined;
    if (existing) return existing;
    const fn = libraryFunction(platform, 'ConfigDeployer', {
      handler: 'config-deployer',
      timeout: DEPLOYER_TIMEOUT,
      description: 'cdk-ai-release: deploys a release config with its rollout and waits for AppConfig to finish (custom resource provider)',
    });
    // The framework invokes it synchronously; no asynchronous invoke may ever retry it (a retry would deploy twice).
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the config deployer write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          'The config deployer calls only the AppConfig API, S3 (its request markers) and Lambda (the gate and the reviewer), over TLS; it holds no data and needs no network isolation.',
      },
    );
    return fn;
  }

  /**
   * The platform's custom resource provider for config deployments and hosted-version cleanups: the Provider
   * framework with the deployer as onEvent and isComplete.
   */
  public static providerOf(platform: AiReleasePlatform): cr.Provider {
    const existing = platform.node.tryFindChild('ConfigDeployerProvider') as cr.Provider | undefined;
    if (existing) return existing;
    const fn = ReleaseConfigDeployment.deployerOf(platform);
    const provider = new cr.Provider(platform, 'ConfigDeployerProvider', {
      onEventHandler: fn,
      isCompleteHandler: fn,
      queryInterval: QUERY_INTERVAL,
      // The backstop: the deployer's own deadline (BudgetSeconds from onEvent's start) stops the rollout first.
      totalTimeout: Duration.seconds(CONFIG_PLANE_BUDGET_SECONDS),
    });
    // CloudFormation invokes the framework's entry function asynchronously. No retry (a second onEvent would start a
    // second deployment; repeated deliveries are caught by the deployer's request marker), and no request older than
    // REQUEST_MAX_AGE: CloudFormation's hour could no longer cover a rollout started that late.
    const entry = provider.node.findChild('framework-onEvent') as lambda.Function;
    entry.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: REQUEST_MAX_AGE });
    const frameworkReason =
      "aws-cdk-lib's custom resource provider framework (custom-resources.Provider): its functions only relay CloudFormation requests to the config deployer and poll it; their code, runtime and roles are the framework's.";
    const stack = Stack.of(platform);
    const arnOf = (c: IConstruct) => `<${stack.getLogicalId(c.node.defaultChild as CfnElement)}.Arn>`;
    const isCompleteFn = provider.node.findChild('framework-isComplete');
    const onTimeoutFn = provider.node.findChild('framework-onTimeout');
    Validations.of(provider).acknowledge(
      // grantInvoke adds the version wildcard of each function the framework invokes.
      ...[fn, isCompleteFn, onTimeoutFn].map((f) => ({
        id: `AwsSolutions-IAM5[Resource::${arnOf(f)}:*]`,
        reason: `${frameworkReason} grantInvoke on the function it calls adds that function's version wildcard (<arn>:*).`,
      })),
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${frameworkReason} The managed policy only lets them write their own logs.`,
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: `${frameworkReason} They call only Lambda, Step Functions and the CloudFormation response URL.`,
      },
      { id: 'AwsSolutions-SF1', reason: `${frameworkReason} Its waiter state machine only polls isComplete; every answer is logged by the config deployer.` },
      { id: 'AwsSolutions-SF2', reason: `${frameworkReason} Its waiter is two Lambda tasks; X-Ray would trace the framework's polling, not the rollout.` },
      {
        id: 'cdk-validator-cfnguard::step_functions_state_machine_logging_enabled_check',
        reason: `${frameworkReason} Its waiter state machine only polls isComplete; every answer is logged by the config deployer.`,
      },
      {
        id: 'cdk-validator-cfnguard::step_functions_state_machine_tracing_enabled_check',
        reason: `${frameworkReason} Its waiter is two Lambda tasks; tracing would follow the framework's polling, not the rollout.`,
      },
    );
    return provider;
  }

  /**
   * The hosted-version cleanup of a service's profiles, one resource for all of them (lambda/config-deployer/
   * version-cleanup.ts): on delete, removes every hosted version left under each profile (retained ones and those the
   * cost guard wrote), so the profiles themselves can be deleted. Every hosted version resource of the profiles must
   * depend on it (AiServiceConfig does that), so that CloudFormation deletes it after them and before the profiles.
   * The profiles must share one application.
   */
  public static versionCleanup(
    scope: Construct,
    id: string,
    platform: AiReleasePlatform,
    profiles: readonly appconfig.CfnConfigurationProfile[],
  ): CustomResource {
    const provider = ReleaseConfigDeployment.providerOf(platform);
    const fn = ReleaseConfigDeployment.deployerOf(platform);
    // One statement per application, whatever the number of services on it: the platform's, in the platform's
    // stack; with applicationPerService each service's own, granted from the service's stack (platform-role.ts), so
    // the platform's stack never refers to a service's application. Service Authorization Reference:
    // ListHostedConfigurationVersions needs the application and the profile; DeleteHostedConfigurationVersion the
    // hosted version (application/…/configurationprofile/…/hostedconfigurationversion/…).
    const application = platform.applicationOf(profiles[0]);
    const shared = application === platform.application;
    const grantScope = shared ? platform : scope;
    once(fn, shared ? 'version-cleanup' : `version-cleanup-${application.node.addr}`, () => {
      const stack = Stack.of(grantScope);
      const app = stack.formatArn({
        service: 'appconfig',
        resource: 'application',
        resourceName: application.ref,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      platformRole(grantScope, fn).addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['appconfig:ListHostedConfigurationVersions', 'appconfig:DeleteHostedConfigurationVersion'],
          resources: [app, `${app}/configurationprofile/*`],
        }),
      );
      const reason =
        'Hosted version numbers are assigned by AppConfig (and the cost guard adds versions), and every service has two profiles: the cleanup deletes every version of the profiles of this application when the stack deletes them.';
      const appId = `arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(application)}>`;
      Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::${appId}/configurationprofile/*]`, reason });
    });
    const resource = new CustomResource(scope, id, {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AiReleaseConfigVersions',
      serviceTimeout: Duration.minutes(15),
      // The profiles of one service, release config first (the physical id names them in this order).
      properties: { Application: profiles[0].applicationId, ConfigurationProfiles: profiles.map((p) => p.ref) },
    });
    resource.node.addDependency(fn);
    return resource;
  }

  public readonly resource: CustomResource;
  private gateConnection?: ConfigGateConnection;
  private shareConnection?: ConfigShareConnection;
  private reviewer?: lambda.IFunction;
  private candidateGranted = false;
  private markerBucket?: s3.IBucket;
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
          `CloudFormation waits at most ${CUSTOM_RESOURCE_MAX_SECONDS / 60} minutes for the config plane's custom resource, and ${CONFIG_PLANE_BUDGET_SECONDS / 60} of them are the config plane's budget (${RUNNING_DEPLOYMENT_SECONDS / 60} kept for a deployment already running). ` +
          `Shorten deploymentDuration or finalBake (AppConfig's Canary10Percent20Minutes shape, ConfigRollout.CANARY_10_PERCENT_20_MINUTES, takes 30), or roll longer configs out outside the stack (aws appconfig start-deployment with your strategy), where no CloudFormation wait applies`,
      );
    }
    const platform = props.platform;
    const stack = Stack.of(this);
    const fn = ReleaseConfigDeployment.deployerOf(platform);
    const provider = ReleaseConfigDeployment.providerOf(platform);
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
      Math.min(this.planeSeconds() + RUNNING_DEPLOYMENT_SECONDS + (this.gateConnection ? this.gateSeconds() : 0), CONFIG_PLANE_BUDGET_SECONDS);
    const gated = (produce: () => string | undefined) => Lazy.string({ produce: () => (this.gateConnection ? produce() : undefined) });
    // The candidate environment and the service: for the gate's stage and for an assigned canary's candidate.
    const staged = (produce: () => string | undefined) => Lazy.string({ produce: () => (this.gateConnection || this.shareConnection ? produce() : undefined) });
    const shared = (produce: () => string | undefined) => Lazy.string({ produce: () => (this.shareConnection ? produce() : undefined) });
    // Logical id "Rollout", not the former "Resource": CloudFormation refuses to change a custom resource's
    // ServiceToken in place ("Modifying service token is not allowed"), and the token is now the provider's.
    this.resource = new CustomResource(this, 'Rollout', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AiReleaseConfigDeployment',
      // CloudFormation's maximum: the framework answers within the config plane's budget (and the request's queue age).
      serviceTimeout: Duration.seconds(CUSTOM_RESOURCE_MAX_SECONDS),
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
        CandidateEnvironment: staged(() => props.candidateEnvironment!.ref),
        Service: staged(() => props.serviceName),
        ConfigLabel: staged(() => props.versionLabel),
        GateTimeoutSeconds: gated(() => String(this.gateConnection!.timeout.toSeconds())),
        // Absent unless the gate is shared by the platform's services: the service's settings are read there.
        GateSettings: Lazy.string({ produce: () => this.gateConnection?.settingsParameter }),
        // Absent until a reviewer is connected (connectReview): a release the gate stops is then reviewed too.
        ReviewFunction: Lazy.string({ produce: () => this.reviewer?.functionName }),
        // Absent until a marker bucket is connected (connectMarkers): repeated deliveries are then recognised.
        MarkerBucket: Lazy.string({ produce: () => this.markerBucket?.bucketName }),
        // Absent until a share controller is connected (connectShare): a release is then an assigned config canary.
        ShareController: shared(() => this.shareConnection!.function.functionName),
        ShareBucket: shared(() => this.shareConnection!.bucket.bucketName),
        CandidateContentHash: shared(() => this.shareConnection!.contentHash),
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
   * candidate stage and the gate run in the deployer's onEvent invocation (15 minutes), and with the rollout they
   * must fit the config plane's budget (a synth error otherwise, with the numbers).
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
    if (seconds > MAX_GATE_SECONDS) {
      throw new Error(
        `the config gate of ${serviceName} has a timeout of ${seconds} s, over the ${MAX_GATE_SECONDS} s a gate may take: the candidate stage (${CANDIDATE_STAGE_SECONDS} s), the gate and the start of the rollout (${START_SECONDS} s) run in one invocation of the deployer (${DEPLOYER_TIMEOUT.toSeconds()} s, less ${ANSWER_MARGIN_SECONDS} s to answer). Lower the gate's timeout (fewer cases or more concurrency)`,
      );
    }
    const plane = this.planeSeconds();
    const total = CANDIDATE_STAGE_SECONDS + seconds + plane + RUNNING_DEPLOYMENT_SECONDS;
    if (total > CONFIG_PLANE_BUDGET_SECONDS) {
      const what = this.shareConnection ? `assigned canary ${plane} s` : `rollout ${plane} s`;
      throw new Error(
        `the config gate of ${serviceName} does not fit the config plane's time budget: candidate stage ${CANDIDATE_STAGE_SECONDS} s + gate timeout ${seconds} s + ${what} + ${RUNNING_DEPLOYMENT_SECONDS} s for a running deployment = ${total} s, over ${CONFIG_PLANE_BUDGET_SECONDS} s ` +
          `(CloudFormation waits at most an hour for the config plane). Lower the gate's timeout (fewer cases or more concurrency) or shorten the ${this.shareConnection ? 'share schedule' : 'config rollout'}`,
      );
    }
    this.gateConnection = gate;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    // The unqualified function only (the deployer invokes it by name), not `<arn>:*` as grantInvoke would.
    const deployerRole = platformRole(this, fn);
    // Once per role and gate function: a gate shared by a platform's services is connected once per service.
    const granted = INVOKE_GRANTS.get(deployerRole) ?? new Set<lambda.IFunction>();
    if (!granted.has(gate.function))
      deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [gate.function.functionArn] }));
    INVOKE_GRANTS.set(deployerRole, granted.add(gate.function));
    this.grantCandidate();
  }

  /** Staging in the candidate environment (the gate's and an assigned canary's): one grant per deployment. */
  private grantCandidate(): void {
    if (this.candidateGranted) return;
    this.candidateGranted = true;
    const candidateEnvironment = this.props.candidateEnvironment!;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    const deployerRole = platformRole(this, fn);
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
    once(fn, `invoke:${reviewer.node.path}`, () =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [reviewer.functionArn] })),
    );
  }

  /**
   * Connects the bucket of the deployer's request markers (markers/config-deployer/…, written with If-None-Match): a
   * CloudFormation request delivered twice is then recognised and follows the first delivery's deployment instead
   * of running the gate and the start again. Without it a repeat is still caught when it finds its version already
   * rolling out, but the gate may replay once more.
   */
  public connectMarkers(bucket: s3.IBucket): void {
    if (this.markerBucket) throw new Error(`a marker bucket is already connected to ${this.node.path}; connect the platform's store once`);
    this.markerBucket = bucket;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    once(fn, `markers:${bucket.node.path}`, () => {
      const objects = bucket.arnForObjects(markerKey('config-deployer', '*'));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
      // A marker not written yet (a conditional write still in flight, 409; a repeat polled before the first wrote)
      // must read as 404, which S3 answers only to a caller that may list the bucket ("If you don't have the
      // s3:ListBucket permission, Amazon S3 returns an HTTP status code 403", GetObject API reference): without it
      // the repeat's isComplete threw instead of waiting. No s3:prefix condition: S3 documents the 404 for
      // "s3:ListBucket permission on the bucket" and nothing for a conditional grant.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
      bucket.encryptionKey?.grantEncryptDecrypt(fn);
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>/markers/config-deployer/*.json]`,
        reason: "One marker per CloudFormation request, named by a hash of its ids: the wildcard covers the deployer's own marker prefix only.",
      });
    });
  }

  /**
   * Makes every release of this config an assigned config canary (AiRelease `configCanary: 'assigned'`): the version
   * is staged in the candidate environment (and gated, when a gate is connected), then handed to the share controller
   * with a start request naming this CloudFormation request; the resource follows the controller's record and
   * succeeds when the release is promoted (the live environment serves it, the share is back to 0) or fails when it
   * was rolled back (share 0; the live environment never changed), so CloudFormation rolls the stack back. A stack
   * rollback sets a release still on traffic to share 0 before it restores the live environment.
   */
  public connectShare(share: ConfigShareConnection): void {
    if (this.shareConnection) throw new Error(`a share controller is already connected to ${this.node.path}; connect one per service`);
    const { candidateEnvironment, serviceName } = this.props;
    if (!candidateEnvironment || !serviceName) {
      throw new Error(
        `${this.node.path} has no candidateEnvironment or serviceName: an assigned config canary's candidate is staged in the service's candidate environment (AiServiceConfig makes it)`,
      );
    }
    if (!/^[0-9a-f]{16,}$/.test(share.contentHash))
      throw new Error(`connectShare of ${serviceName}: contentHash "${share.contentHash}" is not a content hash; pass AiServiceConfig.contentHash`);
    const total = share.seconds + RUNNING_DEPLOYMENT_SECONDS + (this.gateConnection ? this.gateSeconds() : CANDIDATE_STAGE_SECONDS);
    if (total > CONFIG_PLANE_BUDGET_SECONDS) {
      throw new Error(
        `the assigned config canary of ${serviceName} takes up to ${share.seconds} s (its share schedule, the controller's looks, promotion and client lag); with the candidate stage and gate (${this.gateConnection ? this.gateSeconds() : CANDIDATE_STAGE_SECONDS} s) and ${RUNNING_DEPLOYMENT_SECONDS} s for a running deployment that is ${total} s, over the config plane's ${CONFIG_PLANE_BUDGET_SECONDS} s ` +
          `(CloudFormation waits at most an hour). Shorten the schedule's holdSeconds`,
      );
    }
    this.shareConnection = share;
    const fn = ReleaseConfigDeployment.deployerOf(this.props.platform);
    const deployerRole = platformRole(this, fn);
    // The unqualified controller (invoked by name), never another service's: start and rollback requests.
    deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [share.function.functionArn] }));
    // Its current record only (share/<service>/current.json); ListBucket so a first read is a 404 rather than a 403.
    deployerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [share.bucket.arnForObjects(`${SHARE_STATE_PREFIX}/${serviceName}/current.json`)] }),
    );
    deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [share.bucket.bucketArn] }));
    if (share.bucket.encryptionKey)
      deployerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [share.bucket.encryptionKey.keyArn] }));
    this.grantCandidate();
  }

  /**
   * What the config plane's budget leaves an assigned config canary (its share schedule, the controller's looks,
   * promotion and client lag), seconds: the budget less a running deployment and the candidate stage with the gate
   * (as connected now). The canary plan caps the config schedule it recommends by it.
   */
  public get assignedReleaseBudgetSeconds(): number {
    return CONFIG_PLANE_BUDGET_SECONDS - RUNNING_DEPLOYMENT_SECONDS - (this.gateConnection ? this.gateSeconds() : CANDIDATE_STAGE_SECONDS);
  }

  /** The connected share controller, if any. */
  public get share(): ConfigShareConnection | undefined {
    return this.shareConnection;
  }

  /** What the release itself takes after the stage and the gate: the AppConfig rollout, or the assigned canary. */
  private planeSeconds(): number {
    return this.shareConnection ? this.shareConnection.seconds : this.rolloutMinutes * 60;
  }

  private gateSeconds(): number {
    return CANDIDATE_STAGE_SECONDS + (this.gateConnection?.timeout.toSeconds() ?? 0);
  }
}

/** Grants a deployer already holds (by key), so one grant per platform whatever the number of services. */
const GRANTS = new WeakMap<lambda.IFunction, Set<string>>();
function once(fn: lambda.IFunction, key: string, grant: () => void): void {
  const done = GRANTS.get(fn) ?? new Set<string>();
  if (done.has(key)) return;
  grant();
  done.add(key);
  GRANTS.set(fn, done);
}
