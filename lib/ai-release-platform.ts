import { Names, Stack, Validations } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';
import { restrictKeyGrantsToAwsServices } from './key-policy';
import type { ConfigRollout } from './config-rollout';
import { RegressionStore, type RegressionStoreProps } from './regression-store';

/** One platform per stack: services that name none find the one the stack already has. */
const PLATFORMS = new WeakMap<Stack, AiReleasePlatform>();

export interface AiReleasePlatformProps {
  /**
   * Name of the AppConfig application that holds every service's configs in this stack.
   * @default the stack name
   */
  readonly applicationName?: string;
  /**
   * Where release alarms and failed or stopped code deployments are announced.
   * @default a KMS-encrypted, SSL-only topic created on first use
   */
  readonly notificationTopic?: sns.ITopic;
  /** The regression store (bucket and snapshot function), created when the first service collects snapshots. @default see RegressionStoreProps */
  readonly regressionStore?: RegressionStoreProps;
}

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
  private readonly strategies = new Map<string, appconfig.CfnDeploymentStrategy>();
  private readonly props: AiReleasePlatformProps;
  private _topic?: sns.ITopic;
  private _codeDeployApp?: codedeploy.LambdaApplication;
  private _codeDeployRole?: iam.Role;
  private _monitorRole?: iam.Role;
  private _regressionStore?: RegressionStore;

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
    this.application = new appconfig.CfnApplication(this, 'Application', {
      name: props.applicationName ?? stack.stackName,
      description: 'Release configs of the AI services in this stack (cdk-ai-release)',
    });
    this.applicationId = this.application.ref;
    this.props = props;
  }

  /** The topic release alarms and deployment failures go to. */
  public get notificationTopic(): sns.ITopic {
    if (this.props.notificationTopic) return this.props.notificationTopic;
    if (!this._topic) {
      const stack = Stack.of(this);
      const key = new kms.Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Encrypts the AI release notifications topic' });
      // CloudWatch alarms and EventBridge publish to the encrypted topic.
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
      restrictKeyGrantsToAwsServices(key);
      this._topic = new sns.Topic(this, 'Notifications', { masterKey: key, enforceSSL: true, displayName: 'AI release alarms and deployments' });
    }
    return this._topic;
  }

  /** The CodeDeploy application every service's deployment group belongs to. */
  public get codeDeployApplication(): codedeploy.LambdaApplication {
    if (!this._codeDeployApp) {
      this._codeDeployApp = new codedeploy.LambdaApplication(this, 'CodeDeploy');
      // Failed and stopped code deployments are news: announce them on the topic.
      new events.Rule(this, 'CodeDeployFailures', {
        description: 'Failed or stopped AI service code deployments',
        eventPattern: {
          source: ['aws.codedeploy'],
          detailType: ['CodeDeploy Deployment State-change Notification'],
          detail: { application: [this._codeDeployApp.applicationName], state: ['FAILURE', 'STOP'] },
        },
        targets: [new targets.SnsTopic(this.notificationTopic)],
      });
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
