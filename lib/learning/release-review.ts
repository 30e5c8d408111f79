import { ArnFormat, type CfnElement, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { nagText } from '../private/nag-text';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { JUDGE_STATE_PREFIX, LEARNING_ENV, REVIEW_ENV, REVIEW_SERVICE_PARAMETER, STORE_PREFIX } from '../../lambda/shared/contract';
import { AiReleasePlatform } from '../ai-release-platform';
import { libraryFunction } from '../private/library-function';
import { namePrefix } from '../private/physical-names';
import { manifestStackPath } from '../config/release-manifest-recorder';
import { addPlatformReleaseAction, invokeOnly } from '../config/release-extension';

/** The CodeDeploy states that end a release (CodeDeploy User Guide, "Monitoring deployments with Amazon EventBridge"). */
export const CODE_RELEASE_END_STATES = ['SUCCESS', 'FAILURE', 'STOP'] as const;
/** The AppConfig action points that end a release (AppConfig User Guide, "Creating a custom AWS AppConfig extension"). */
export const CONFIG_RELEASE_END_ACTION_POINTS = ['ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK'] as const;

export interface ReleaseReviewProps {
  readonly serviceName: string;
  /** The regression store: reviews are written under `reviews/<service>/`, cases read from `cases/<service>/` (and candidates in their batch, via `index/`). */
  readonly bucket: s3.IBucket;
  /** The service's CodeDeploy deployment group (code plane). */
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  /** The service's release-config environment (config plane). Not the degrade environment: a switch is no release. */
  readonly environment: appconfig.CfnEnvironment;
  /** @default AiReleasePlatform.of(this) */
  readonly platform?: AiReleasePlatform;
}

/**
 * A review (复盘) of every release of one service, on either plane: the end of a CodeDeploy deployment of its group
 * (EventBridge) and of an AppConfig deployment to its release environment (an extension association) invoke the
 * platform's review function, which writes `reviews/<service>/<releaseKey>.json|.md|.svg` once per release and
 * announces it on the notification topic.
 */
export class ReleaseReview extends Construct {
  /**
   * The review function of a platform: one for every service of the stack (the service arrives with each event).
   * Created on first use; every service must use the same store.
   */
  public static reviewerOf(platform: AiReleasePlatform, bucket: s3.IBucket): lambda.Function {
    const existing = platform.node.tryFindChild('ReleaseReviewer') as lambda.Function | undefined;
    if (existing) {
      const bound = REVIEWER_BUCKET.get(existing);
      if (bound !== bucket) {
        throw new Error(
          `the platform's review function already writes to bucket ${bound?.node.path}; every ReleaseReview of a platform uses the same regression store (got ${bucket.node.path})`,
        );
      }
      return existing;
    }
    const stack = Stack.of(platform);
    const manifestPath = manifestStackPath(stack);
    const topic = platform.notificationTopic;
    const fn = libraryFunction(platform, 'ReleaseReviewer', {
      handler: 'review',
      // Lookups, up to a minute's wait for a rollback in progress, three writes and one publish.
      timeout: Duration.minutes(3),
      description: 'cdk-ai-release: writes the review of every release (what changed, timeline, metrics, samples, conclusion)',
      environment: {
        [LEARNING_ENV.BUCKET]: bucket.bucketName,
        [LEARNING_ENV.TOPIC_ARN]: topic.topicArn,
        [REVIEW_ENV.STACK]: namePrefix(stack),
        [REVIEW_ENV.MANIFEST_PATH]: manifestPath,
        // The services the platform's one code-deployment rule serves, by deployment group (ReleaseReview).
        [REVIEW_ENV.DEPLOYMENT_GROUPS]: Lazy.string({ produce: () => JSON.stringify(Object.fromEntries(groupsOf(fn))) }),
      },
    });
    REVIEWER_BUCKET.set(fn, bucket);
    fn.node.addValidation({ validate: () => deploymentGroupsEnvProblems(groupsOf(fn)) });
    // EventBridge, AppConfig and the config deployer invoke asynchronously: a review that still fails after Lambda's
    // retries is announced on the topic with its event, never lost silently. A review is still wanted hours late (it
    // is the record of the release), so events are kept for Lambda's maximum age, stated rather than defaulted; a
    // repeated or late delivery writes nothing twice: the review's JSON is written with If-None-Match and an existing
    // one answers "exists" (lambda/review/review.ts), so it is announced once.
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new destinations.SnsDestination(topic) });

    const arn = (service: string, resource: string, resourceName: string, sep = ArnFormat.SLASH_RESOURCE_NAME) =>
      stack.formatArn({ service, resource, resourceName, arnFormat: sep });
    const appScope = platform.applicationPerService ? '*' : platform.applicationId;
    const statements = [
      // Code plane: the deployment and its rollback deployment (resource: the deployment group), and the traffic
      // routing of its deployment config (predefined CodeDeployDefault.* or the stack's own).
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeployment'],
        resources: [arn('codedeploy', 'deploymentgroup', `${platform.codeDeployApplication.applicationName}/*`, ArnFormat.COLON_RESOURCE_NAME)],
      }),
      new iam.PolicyStatement({
        actions: ['codedeploy:GetDeploymentConfig'],
        resources: [arn('codedeploy', 'deploymentconfig', '*', ArnFormat.COLON_RESOURCE_NAME)],
      }),
      // Config plane: GetDeployment needs application, environment and deployment (Service Authorization Reference).
      new iam.PolicyStatement({
        actions: ['appconfig:GetDeployment'],
        // With an application per service (applicationPerService), the services' applications: read only.
        resources: [
          arn('appconfig', 'application', appScope),
          arn('appconfig', 'application', `${appScope}/environment/*`),
          arn('appconfig', 'application', `${appScope}/environment/*/deployment/*`),
        ],
      }),
      // The manifests of this stack's services (ReleaseManifestRecorder's parameters).
      new iam.PolicyStatement({ actions: ['ssm:GetParameterHistory'], resources: [arn('ssm', 'parameter', `cdk-ai-release/${manifestPath}/*`)] }),
      // This stack's alarms (ReleaseAlarms names them `<stack>-<service>-…`).
      new iam.PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DescribeAlarmHistory'],
        resources: [arn('cloudwatch', 'alarm', `${namePrefix(stack)}-*`, ArnFormat.COLON_RESOURCE_NAME)],
      }),
      // GetMetricData requires no resource type (the Service Authorization Reference lists only an optional dataset).
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      // Cases to read, reviews to check and write; nothing else in the store.
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      // index/ and batches/: a candidate seen in one delivery only lives in its batch object, listed by the index.
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          bucket.arnForObjects(`${STORE_PREFIX.CASES}/*`),
          bucket.arnForObjects(`${STORE_PREFIX.INDEX}/*`),
          bucket.arnForObjects(`${STORE_PREFIX.BATCHES}/*`),
          bucket.arnForObjects(`${STORE_PREFIX.REVIEWS}/*`),
          // The release's gate report, linked from the review when it exists (HeadObject).
          bucket.arnForObjects(`${STORE_PREFIX.GATES}/*`),
          // The canary judge's verdict of each release (CanaryJudge).
          bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`),
          // The evaluator's scored samples (the review's scores, pairs and behaviour fingerprint), its ledger (whether
          // sampling stopped) and people's labels (the evaluator's agreement, issue 17 F). evaluations/<service>/…, read only.
          bucket.arnForObjects('evaluations/*'),
        ],
      }),
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${STORE_PREFIX.REVIEWS}/*`)] }),
    ];
    for (const s of statements) fn.addToRolePolicy(s);
    bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
    topic.grantPublish(fn);

    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the review function write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          'The review function calls only AWS APIs (CodeDeploy, AppConfig, SSM, CloudWatch, S3, SNS) over TLS with IAM auth; it needs no network isolation.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudwatch:GetMetricData requires no resource type (Service Authorization Reference: only an optional dataset), so it is granted on "*"; every other action is scoped.',
      },
    );
    // The other wildcards cover names this stack owns or ids AWS assigns: one function reviews every service.
    const app = platform.applicationPerService ? '*' : `<${stack.getLogicalId(platform.application)}>`;
    const cdApp = `<${stack.getLogicalId(platform.codeDeployApplication.node.defaultChild as CfnElement)}>`;
    const prefix = 'arn:<AWS::Partition>';
    const region = '<AWS::Region>:<AWS::AccountId>';
    const bucketArn = nagTextOrThrow(stack, bucket.bucketArn);
    const wildcards: [string, string][] = [
      [`${prefix}:codedeploy:${region}:deploymentgroup:${cdApp}/*`, "the deployment groups of the platform's CodeDeploy application (one per service)"],
      [
        `${prefix}:codedeploy:${region}:deploymentconfig:*`,
        'deployment configs are read-only; a group may use a predefined CodeDeployDefault.* config or the stack’s own',
      ],
      [`${prefix}:appconfig:${region}:application/${app}/environment/*`, "the environments of the platform's AppConfig application (one per service)"],
      [`${prefix}:appconfig:${region}:application/${app}/environment/*/deployment/*`, 'deployment numbers are assigned by AppConfig'],
      [`${prefix}:ssm:${region}:parameter/cdk-ai-release/${manifestPath}/*`, "this stack's release-manifest parameters (ReleaseManifestRecorder)"],
      // The alarm names' prefix is a literal in nested stacks too (physical-names.ts), so the acknowledgment names it.
      [`${prefix}:cloudwatch:${region}:alarm:${namePrefix(stack)}-*`, "this stack's alarms (ReleaseAlarms names them <stack>-<service>-…); read only"],
      [`${bucketArn}/${STORE_PREFIX.CASES}/*`, 'the regression cases, read (never written) to count the samples of a release'],
      [`${bucketArn}/${STORE_PREFIX.INDEX}/*`, 'the case indexes, read (never written): they list the candidates that live in a batch object'],
      [`${bucketArn}/${STORE_PREFIX.BATCHES}/*`, 'the redacted batch objects, read (never written): a candidate seen in one delivery lives there'],
      [`${bucketArn}/${STORE_PREFIX.REVIEWS}/*`, 'the reviews, one object per release and format'],
      [`${bucketArn}/${STORE_PREFIX.GATES}/*`, 'the gate reports, checked (never written) to link the release’s report'],
      [`${bucketArn}/${JUDGE_STATE_PREFIX}/*`, "the canary judge's records, read (never written) for the verdict of each release"],
      [
        `${bucketArn}/evaluations/*`,
        "the evaluator's scored samples (redacted), its ledgers and people's labels, read (never written) for the release's scores, pairs, behaviour fingerprint, the evaluator's agreement and the budget stop",
      ],
    ];
    Validations.of(fn).acknowledge(
      ...wildcards.map(([resource, why]) => ({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason: `Scoped wildcard: ${why}.` })),
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: "Publishing to the KMS-encrypted notification topic needs a data key from the topic's key (Topic.grantPublish); the grant names that one key.",
      },
    );
    return fn;
  }

  /**
   * The role AppConfig assumes to invoke the review function when a config deployment ends (one per platform). The
   * review is one of the platform's release actions (config/release-extension.ts): ON_DEPLOYMENT_COMPLETE and
   * ON_DEPLOYMENT_ROLLED_BACK, invoked asynchronously, their errors ignored by AppConfig (User Guide, custom extensions).
   */
  public static extensionRoleOf(platform: AiReleasePlatform, fn: lambda.IFunction): iam.IRole {
    const existing = platform.node.tryFindChild('ReleaseReviewExtensionRole') as iam.Role | undefined;
    if (existing) return existing;
    // The role AppConfig assumes to invoke the function (AppConfig User Guide, "Configuring permissions for a custom
    // AWS AppConfig extension"): lambda:InvokeFunction serves PRE_* action points, lambda:InvokeAsync ON_* ones.
    // Inline, not a policy resource of its own (one fewer resource; the policy exists with the role).
    const role = new iam.Role(platform, 'ReleaseReviewExtensionRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: 'Lets AppConfig invoke the release review function when a config deployment ends',
      inlinePolicies: invokeOnly(fn, ['lambda:InvokeFunction', 'lambda:InvokeAsync']),
    });
    return role;
  }

  /**
   * The rule that sends the end of the service's code deployments to the review function: the platform's one rule
   * (every deployment group of the platform's CodeDeploy application; the group names the service) when the service is
   * in the platform's stack, else a rule of the service's own that adds the service to the event.
   */
  public readonly rule: events.Rule;

  /**
   * The platform's one rule for the end of code deployments (SUCCESS, FAILURE, STOP) of its CodeDeploy application,
   * to the review function, the event as EventBridge delivers it. Every service's deployment group belongs to that
   * application (code-plane.ts), so `detail.application` selects them all; the reviewer finds the service by
   * `detail.deploymentGroup` (REVIEW_ENV.DEPLOYMENT_GROUPS) and ignores groups it does not know (services in other
   * stacks, reviewed through their own rule).
   */
  public static codeDeploymentRuleOf(platform: AiReleasePlatform, fn: lambda.IFunction): events.Rule {
    const existing = platform.node.tryFindChild('ReleaseReviewCodeDeployments') as events.Rule | undefined;
    if (existing) return existing;
    return new events.Rule(platform, 'ReleaseReviewCodeDeployments', {
      description: 'The end of each code deployment of the AI services in this stack, for their release reviews',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { application: [platform.codeDeployApplication.applicationName], state: [...CODE_RELEASE_END_STATES] },
      },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });
  }
  /** The live environment's one association with the platform's release extension: the end of each config deployment reaches the review through it. */
  public readonly association: appconfig.CfnExtensionAssociation;
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: ReleaseReviewProps) {
    super(scope, id);
    const platform = props.platform ?? AiReleasePlatform.of(this);
    this.function = ReleaseReview.reviewerOf(platform, props.bucket);
    const group = props.deploymentGroup;

    // One rule per platform where the reviewer can tell the service from the deployment group: the group is in the
    // reviewer's stack (its name is a Ref there; from another stack it would be a reference from the platform's stack
    // to the service's, a cycle) and in the platform's CodeDeploy application (what the rule selects).
    if (Stack.of(group) === Stack.of(this.function) && group.application === platform.codeDeployApplication) {
      const groups = groupsOf(this.function);
      groups.set(group.deploymentGroupName, props.serviceName);
      this.rule = ReleaseReview.codeDeploymentRuleOf(platform, this.function);
    } else this.rule = this.serviceRule(props.serviceName, group);

    // The end of each config deployment to the live environment: the review's actions on the environment's one
    // association with the platform's release extension (shared with the gate check and the judge's tick).
    this.association = addPlatformReleaseAction(
      platform,
      props.environment,
      {
        kind: 'release-review',
        points: CONFIG_RELEASE_END_ACTION_POINTS,
        name: 'release-review',
        description: 'Write the review of the release that ended',
        function: this.function,
        role: ReleaseReview.extensionRoleOf(platform, this.function),
        parameters: { [REVIEW_SERVICE_PARAMETER]: { required: true, description: 'The AI service whose live environment this association serves' } },
      },
      { [REVIEW_SERVICE_PARAMETER]: props.serviceName },
    ).association;
  }

  /** A rule of the service's own (a service outside the reviewer's stack): its group's deployments, with the service. */
  private serviceRule(serviceName: string, group: codedeploy.ILambdaDeploymentGroup): events.Rule {
    return new events.Rule(this, 'DeploymentEnded', {
      description: `${serviceName}: the end of a code deployment, for its release review`,
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { application: [group.application.applicationName], deploymentGroup: [group.deploymentGroupName], state: [...CODE_RELEASE_END_STATES] },
      },
      targets: [
        new targets.LambdaFunction(this.function, {
          // The documented event, plus the service it belongs to (one review function serves the platform).
          event: events.RuleTargetInput.fromObject({
            version: events.EventField.fromPath('$.version'),
            id: events.EventField.eventId,
            'detail-type': events.EventField.detailType,
            source: events.EventField.source,
            account: events.EventField.account,
            time: events.EventField.time,
            region: events.EventField.region,
            detail: events.EventField.fromPath('$.detail'),
            service: serviceName,
          }),
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }
}

const REVIEWER_BUCKET = new WeakMap<lambda.IFunction, s3.IBucket>();
const REVIEWER_GROUPS = new WeakMap<lambda.IFunction, Map<string, string>>();

/** The deployment groups (name → service) whose code deployments reach a reviewer through the platform's rule. */
function groupsOf(fn: lambda.IFunction): Map<string, string> {
  const groups = REVIEWER_GROUPS.get(fn) ?? new Map<string, string>();
  REVIEWER_GROUPS.set(fn, groups);
  return groups;
}

/** Lambda quotas: "Function environment variables: 4 KB", all variables of the function together. */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** CodeDeploy API reference, CreateDeploymentGroup: deploymentGroupName is at most 100 characters. */
const DEPLOYMENT_GROUP_NAME_MAX = 100;

/**
 * The group map is a deploy-time value (CloudFormation names the groups): bound it by the longest group name, and
 * leave 1 KB of the 4 KB for the reviewer's other variables. A flat stack reaches its 500 resources at about 14
 * services, far below this bound (about 20 with 30-character service names).
 */
function deploymentGroupsEnvProblems(groups: Map<string, string>): string[] {
  const bound = 2 + [...groups.values()].reduce((n, service) => n + DEPLOYMENT_GROUP_NAME_MAX + service.length + 6, 0);
  if (bound <= LAMBDA_ENVIRONMENT_BYTES - 1024) return [];
  return [
    `the review function's map of ${groups.size} deployment groups may take up to ${bound} bytes of its environment (Lambda allows ${LAMBDA_ENVIRONMENT_BYTES} in all): put some services in stacks of their own (a NestedStack each), whose reviews come through a rule of their own`,
  ];
}

/** nagText, or an error: a store whose ARN cdk-nag would print otherwise cannot be acknowledged. */
function nagTextOrThrow(stack: Stack, value: string): string {
  const t = nagText(stack, value);
  if (t === undefined)
    throw new Error(`cannot name ${JSON.stringify(stack.resolve(value))} in a cdk-nag acknowledgment; pass a bucket defined in this stack or imported by ARN`);
  return t;
}
