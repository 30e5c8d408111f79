import { CfnResource, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';
import { restrictKeyGrantsToAwsServices } from './private/key-policy';
import { namePrefix } from './private/physical-names';
import type { ConfigRollout } from './rollout/config-rollout';
import { RegressionStore, type RegressionStoreProps } from './learning/regression-store';
import { ReleaseEvaluator } from './learning/release-evaluator';

/** AppConfig API reference, CreateApplication: Name has a length of 1 to 64. */
const APPLICATION_NAME_MAX = 64;

/**
 * AppConfig's quota of environments per application: "Environments: 20 max per application" (AppConfig API reference,
 * ServiceQuotaExceededException; adjustable in Service Quotas). Each service has 3 (live release, degrade,
 * candidate), so one platform (one application) holds at most 6 services at the default.
 */
export const APPCONFIG_ENVIRONMENTS_PER_APPLICATION = 20;

/**
 * The stack name when it is a literal that fits (unchanged for existing stacks, so their application is not
 * renamed). A nested stack's name is only known at deploy (`<parent>-<logical id>-<GUID>`, well over 64 characters),
 * and a top-level stack name may have up to 128: both get a unique name from the construct path instead.
 */
function defaultApplicationName(platform: Construct): string {
  const stackName = Stack.of(platform).stackName;
  if (!Token.isUnresolved(stackName) && stackName.length <= APPLICATION_NAME_MAX) return stackName;
  return Names.uniqueResourceName(platform, { maxLength: APPLICATION_NAME_MAX, separator: '-' });
}

/** One platform per stack: services that name none find the one the stack already has. */
const PLATFORMS = new WeakMap<Stack, AiReleasePlatform>();

export interface AiReleasePlatformProps {
  /**
   * Name of the AppConfig application that holds every service's configs in this stack: 1 to 64 characters.
   * @default the stack name when it is known at synth and at most 64 characters; otherwise (a nested stack, or a
   * longer stack name) a unique name of at most 64 characters made from the construct path
   */
  readonly applicationName?: string;
  /**
   * Where release alarms and failed or stopped code deployments are announced.
   * @default a KMS-encrypted, SSL-only topic created on first use
   */
  readonly notificationTopic?: sns.ITopic;
  /** The regression store (bucket and snapshot function), created when the first service collects snapshots. @default see RegressionStoreProps */
  readonly regressionStore?: RegressionStoreProps;
  /**
   * The account's AppConfig quota of environments per application, checked at synth: each service adds 3 environments
   * (live release, degrade, candidate) to this platform's one application, and a stack over the quota would fail at
   * deploy with ServiceQuotaExceededException. Raise it here only after raising the quota in Service Quotas.
   * @default 20 (APPCONFIG_ENVIRONMENTS_PER_APPLICATION)
   */
  readonly appConfigEnvironmentQuota?: number;
  /**
   * Give each service an AppConfig application of its own (3 environments in each) instead of sharing the platform's.
   * The platform then holds as many services as AppConfig's applications quota allows (100 per account and Region),
   * not 6 (20 environments per application). Turning it on for deployed services moves their environments, profiles
   * and hosted versions to new applications (CloudFormation replaces them; retained hosted versions stay behind in
   * the old application): set it when the platform is created.
   * @default false (one shared application)
   */
  readonly applicationPerService?: boolean;
  /**
   * The account's AppConfig quota of applications per Region, checked at synth over every application of the app.
   * @default 100 (APPCONFIG_APPLICATIONS_PER_ACCOUNT)
   */
  readonly appConfigApplicationQuota?: number;
}

/** AppConfig's quota of applications: "Applications: 100 max" (AppConfig API reference, ServiceQuotaExceededException). */
export const APPCONFIG_APPLICATIONS_PER_ACCOUNT = 100;

/**
 * What the AI services of one stack share: the AppConfig application and the deployment strategies. A platform
 * stack holds many services, and each shared resource is one fewer per service. Each service still gets its own
 * AppConfig environment, because alarms act as monitors per environment and AppConfig runs one deployment per
 * environment at a time: sharing it would let one service's alarm roll back another's config.
 */
export class AiReleasePlatform extends Construct {
  /** The platform of the stack `scope` is in: the one created there, or one with defaults created on first use. */
  public static of(scope: IConstruct): AiReleasePlatform {
    const stack = Stack.of(scope);
    return PLATFORMS.get(stack) ?? new AiReleasePlatform(stack, 'AiReleasePlatform');
  }

  public readonly application: appconfig.CfnApplication;
  /** The AppConfig application id (a deploy-time token). */
  public readonly applicationId: string;
  /** Whether each service has an AppConfig application of its own (AiReleasePlatformProps.applicationPerService). */
  public readonly applicationPerService: boolean;
  private readonly strategies = new Map<string, appconfig.CfnDeploymentStrategy>();
  private readonly props: AiReleasePlatformProps;
  private _topic?: sns.ITopic;
  private _codeDeployApp?: codedeploy.LambdaApplication;
  private _codeDeployRole?: iam.Role;
  private _monitorRole?: iam.Role;
  private _regressionStore?: RegressionStore;
  private _evaluator?: ReleaseEvaluator;

  constructor(scope: Construct, id: string, props: AiReleasePlatformProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const existing = PLATFORMS.get(stack);
    if (existing) {
      throw new Error(
        `stack ${stack.stackName} already has an AiReleasePlatform (${existing.node.path}); create one per stack, before the services, or use AiReleasePlatform.of(scope)`,
      );
    }
    PLATFORMS.set(stack, this);
    if (props.applicationName !== undefined && !Token.isUnresolved(props.applicationName)) {
      const n = props.applicationName.length;
      if (n < 1 || n > APPLICATION_NAME_MAX)
        throw new Error(
          `applicationName "${props.applicationName}" has ${n} characters; an AppConfig application name has 1 to at most ${APPLICATION_NAME_MAX} (CreateApplication: Name). Shorten it, or leave it out to use the stack name`,
        );
    }
    this.application = new appconfig.CfnApplication(this, 'Application', {
      name: props.applicationName ?? defaultApplicationName(this),
      description: 'Release configs of the AI services in this stack (cdk-ai-release)',
    });
    this.applicationId = this.application.ref;
    this.applicationPerService = props.applicationPerService ?? false;
    this.props = props;
    const quota = props.appConfigEnvironmentQuota ?? APPCONFIG_ENVIRONMENTS_PER_APPLICATION;
    if (!Number.isInteger(quota) || quota < 1) {
      throw new Error(
        `appConfigEnvironmentQuota ${quota} is not a positive whole number; set it to the account's AppConfig quota of environments per application (default ${APPCONFIG_ENVIRONMENTS_PER_APPLICATION})`,
      );
    }
    this.node.addValidation({ validate: () => this.environmentQuotaProblems(quota) });
    const appQuota = props.appConfigApplicationQuota ?? APPCONFIG_APPLICATIONS_PER_ACCOUNT;
    this.node.addValidation({ validate: () => this.applicationQuotaProblems(appQuota) });
  }

  /** The AppConfig application an environment (or a profile) belongs to (the platform's, or a service's own). */
  public applicationOf(environment: { readonly applicationId: string }): appconfig.CfnApplication {
    const found = this.node.root.node
      .findAll()
      .find(
        (c): c is appconfig.CfnApplication =>
          CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::AppConfig::Application' && (c as CfnResource).ref === environment.applicationId,
      );
    return found ?? this.application;
  }

  /** Every AppConfig application of the app counts against one account's quota (the app deploys to one, usually). */
  private applicationQuotaProblems(quota: number): string[] {
    const apps = this.node.root.node.findAll().filter((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::AppConfig::Application');
    if (apps.length <= quota) return [];
    return [
      `${apps.length} AppConfig applications in this app exceed AppConfig's quota of ${quota} applications per account and Region (CreateApplication would fail with ServiceQuotaExceededException). With applicationPerService each service has one: deploy the services to more than one account or Region, or raise the quota in Service Quotas and set appConfigApplicationQuota`,
    ];
  }

  /** The environments of this platform's application, grouped by the construct that made them (one per service). */
  private environmentQuotaProblems(quota: number): string[] {
    // Services may live in other stacks (the platform-stack-plus-service-stacks layout): count them all.
    const envs = this.node.root.node
      .findAll()
      .filter(
        (c): c is CfnResource =>
          CfnResource.isCfnResource(c) &&
          c.cfnResourceType === 'AWS::AppConfig::Environment' &&
          (c as unknown as { applicationId?: unknown }).applicationId === this.applicationId,
      );
    if (envs.length <= quota) return [];
    const owners = [...new Set(envs.map((e) => e.node.scope?.node.path ?? e.node.path))];
    return [
      `${envs.length} AppConfig environments in this platform's application exceed AppConfig's quota of ${quota} environments per application (CreateEnvironment would fail with ServiceQuotaExceededException): ${owners.length} services (${owners.join(', ')}), 3 environments each (live release, degrade, candidate), so one platform holds at most ${Math.floor(quota / 3)}. Set applicationPerService on the AiReleasePlatform (each service gets an AppConfig application of its own; applications are the binding quota then, 100 per account), split the services across platforms, or raise the quota in Service Quotas and set appConfigEnvironmentQuota`,
    ];
  }

  /**
   * ARN pattern of every alarm the library names in this platform's stack: release alarms, composites and the cost
   * guard alarm are all named `<stack name>-<service>-…` (release-alarms.ts, ai-release.ts). The topic and its key
   * let CloudWatch publish on behalf of these alarms only.
   */
  public get alarmArnPattern(): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${namePrefix(this)}-*`;
  }

  /**
   * The topic release alarms and deployment failures go to.
   *
   * The topic policy CDK writes (SSL-only, plus EventBridge) replaces SNS's default policy, so every publisher is
   * allowed here explicitly, each scoped to its source (SNS developer guide, "Amazon SNS access control case
   * examples": service principals with `aws:SourceArn` / `aws:SourceAccount`):
   * - `cloudwatch.amazonaws.com`, for this stack's alarms only (`alarmArnPattern`) in this account;
   * - `events.amazonaws.com`, for the CodeDeploy-failure rule only (its ARN), in this account.
   * The key follows: CloudWatch may use it for the same alarms. EventBridge gets no source condition on the key,
   * because the SNS developer guide (sns-key-management, "compatibility with AWS services") says `aws:SourceAccount`
   * and `aws:SourceArn` are not supported in a KMS key policy for EventBridge-to-encrypted-topic delivery: with them,
   * every failure notification would be dropped silently. The topic policy is where EventBridge is scoped.
   *
   * A topic passed as `notificationTopic` gets the two topic statements when it is defined in this app; if that
   * creates its policy, SNS's default policy no longer applies to it, so allow your other publishers there too. An
   * imported topic is left alone: allow `cloudwatch.amazonaws.com` for `alarmArnPattern`, and `events.amazonaws.com`,
   * in its policy (and its key's) yourself.
   */
  public get notificationTopic(): sns.ITopic {
    if (!this._topic) {
      const stack = Stack.of(this);
      const fromOurAlarms = {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': this.alarmArnPattern },
      };
      let topic = this.props.notificationTopic;
      if (!topic) {
        const key = new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Encrypts the AI release notifications topic' });
        // The services that publish to the encrypted topic need the key, as the SNS developer guide's key policy for
        // AWS event sources shows it: without source conditions. SNS documents aws:SourceAccount / aws:SourceArn as
        // unsupported in a key policy for EventBridge, and nothing documents that CloudWatch's KMS request carries
        // them; a condition the request lacks would drop every notification silently. Who may publish is decided by
        // the topic policy below, which is scoped to this stack's alarms and rule; the key alone publishes nothing.
        key.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: 'AwsEventSourcesToEncryptedTopic',
            principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
          }),
        );
        restrictKeyGrantsToAwsServices(key);
        topic = new sns.Topic(this, 'Notifications', { masterKey: key, enforceSSL: true, displayName: 'AI release alarms and deployments' });
      }
      // On a topic you brought: added when it is defined in this app (a no-op for an imported one, whose policy is yours).
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsOfThisStack',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: fromOurAlarms,
        }),
      );
      this._topic = topic;
    }
    return this._topic;
  }

  /** The CodeDeploy application every service's deployment group belongs to. */
  public get codeDeployApplication(): codedeploy.LambdaApplication {
    if (!this._codeDeployApp) {
      this._codeDeployApp = new codedeploy.LambdaApplication(this, 'CodeDeploy');
      // Failed and stopped code deployments are news: announce them on the topic.
      const topic = this.notificationTopic;
      const rule = new events.Rule(this, 'CodeDeployFailures', {
        description: 'Failed or stopped AI service code deployments',
        eventPattern: {
          source: ['aws.codedeploy'],
          detailType: ['CodeDeploy Deployment State-change Notification'],
          detail: { application: [this._codeDeployApp.applicationName], state: ['FAILURE', 'STOP'] },
        },
      });
      // Not targets.SnsTopic: it lets events.amazonaws.com publish for any rule of any account. This rule only.
      rule.addTarget({ bind: () => ({ arn: topic.topicArn }) });
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CodeDeployFailureRule',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account }, ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
        }),
      );
    }
    return this._codeDeployApp;
  }

  /** One CodeDeploy service role for every deployment group of the stack (one fewer resource per service). */
  public get codeDeployRole(): iam.Role {
    if (!this._codeDeployRole) {
      this._codeDeployRole = new iam.Role(this, 'CodeDeployRole', {
        assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRoleForLambdaLimited')],
        description: 'Lets CodeDeploy shift traffic on the AI services live aliases',
      });
      Validations.of(this._codeDeployRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason:
          "AWSCodeDeployRoleForLambdaLimited is AWS's maintained minimum for CodeDeploy on Lambda (alias updates, alarm reads, hook invocation of functions it is granted).",
      });
    }
    return this._codeDeployRole;
  }

  /**
   * One role AppConfig assumes to read the alarms that roll configs back.
   *
   * `cloudwatch:DescribeAlarms` returns a composite alarm only when the permission is scoped to `*` (CloudWatch
   * API reference, DescribeAlarms: "You can't return information about composite alarms if your
   * cloudwatch:DescribeAlarms permission has a narrower scope"); the monitors are composite alarms, so an ARN-scoped
   * statement would let AppConfig read nothing and treat the monitor as failing. aws-cdk made the same change in
   * aws-cdk#29171. The action is read-only and the role is assumable only by AppConfig.
   */
  public get monitorRole(): iam.Role {
    if (!this._monitorRole) {
      this._monitorRole = new iam.Role(this, 'AppConfigMonitorRole', {
        assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
        description: 'Lets AppConfig read the alarms that roll AI service configs back',
      });
      this._monitorRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
      Validations.of(this._monitorRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:DescribeAlarms returns composite alarms (the AppConfig monitors) only when scoped to "*" (CloudWatch API reference); it is read-only and the role is assumable only by AppConfig.',
      });
    }
    return this._monitorRole;
  }

  /** The platform's regression store: one bucket and one snapshot function for every service of the stack. */
  public get regressionStore(): RegressionStore {
    this._regressionStore ??= new RegressionStore(this, 'RegressionStore', this.props.regressionStore);
    return this._regressionStore;
  }

  /**
   * The platform's evaluator, created with the first service whose release config has an `evaluation` section. Its
   * low scores are written as quality failure records to its own log, which the snapshot function collects like a
   * service's, so they become regression-case candidates.
   */
  public get evaluator(): ReleaseEvaluator {
    if (!this._evaluator) {
      const store = this.regressionStore;
      this._evaluator = new ReleaseEvaluator(this, 'Evaluator', {
        bucket: store.bucket,
        key: store.bucket.encryptionKey,
        failedDeliveries: store.failedDeliveries,
      });
      store.subscribe(this._evaluator, this._evaluator.logGroup);
      // The services' evaluation samples reach the snapshot function through their log group's one filter.
      store.forwardSamplesTo(this._evaluator.function);
    }
    return this._evaluator;
  }

  /** The deployment strategy for a rollout, one per distinct rollout in the stack. */
  public strategyFor(rollout: ConfigRollout): appconfig.CfnDeploymentStrategy {
    const found = this.strategies.get(rollout.key);
    if (found) return found;
    const id = `Strategy-${rollout.key}`;
    const strategy = new appconfig.CfnDeploymentStrategy(this, id, {
      name: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).slice(0, 40) + `-${rollout.key}`.slice(0, 24),
      description: `cdk-ai-release: ${rollout.describe()}`,
      growthType: rollout.growthType,
      growthFactor: rollout.stepPercent,
      deploymentDurationInMinutes: rollout.deploymentDurationMinutes,
      finalBakeTimeInMinutes: rollout.finalBakeMinutes,
      replicateTo: 'NONE',
    });
    this.strategies.set(rollout.key, strategy);
    return strategy;
  }
}
