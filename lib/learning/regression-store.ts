import { ArnFormat, CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { FAILURE_RECORD_TYPE, LEARNING_ENV, MARKER_PREFIX, STORE_PREFIX } from '../../lambda/shared/contract';
import { EVALUATION_SAMPLE_TYPE } from '../../lambda/shared/evaluation';
import { CANDIDATE_REFRESH_DAYS, CANDIDATE_TAG } from '../../lambda/snapshot/cases';
import { SNAPSHOT_ENV } from '../../lambda/snapshot/snapshot';
import { libraryFunction } from '../private/library-function';

/** CloudWatch Logs allows two subscription filters per log group (PutSubscriptionFilter; not adjustable). */
export const SUBSCRIPTION_FILTERS_PER_LOG_GROUP = 2;

/** The subscription filter's name on every service log group. */
export const FAILURE_FILTER_NAME = 'cdk-ai-release-failures';

/** The record kinds a service log group's one subscription filter matches. */
export interface SubscribedKinds {
  /** Failure records (the runtime's `ai-release.failure` lines), stored as regression case candidates. @default true */
  readonly failures?: boolean;
  /** Evaluation samples (`ai-release.evaluation-sample` lines), forwarded to the platform's evaluator. @default false */
  readonly evaluationSamples?: boolean;
}

export interface RegressionStoreProps {
  /**
   * What happens to the bucket (and its access-log bucket) when the stack deletes it. The regression set is the
   * memory of every incident: keep it unless you mean to lose it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Encrypt with this KMS key (the snapshot function is granted encrypt/decrypt). @default S3-managed keys (SSE-S3) */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long a candidate case is kept after its last write. A candidate that keeps failing is rewritten at least every
   * 7 days, so this expires only candidates no longer seen; accepted and retired cases never expire.
   * @default Duration.days(90)
   */
  readonly candidateExpiry?: Duration;
  /** How long replaced and deleted versions are kept (versioning is on). @default Duration.days(30) */
  readonly noncurrentVersionExpiry?: Duration;
  /** How long the per-delivery batch objects (every redacted record) are kept. @default Duration.days(90) */
  readonly batchRetention?: Duration;
  /** How long the server access logs are kept. @default Duration.days(365) */
  readonly accessLogRetention?: Duration;
}

/**
 * The regression store of one platform: a hardened, versioned S3 bucket holding the regression cases, the snapshot
 * batches, the case index and the release reviews (layout in lambda/shared/contract.ts), and the one snapshot
 * function that turns failure records from every service's log group into candidate cases.
 *
 * Delivery: a CloudWatch Logs subscription filter per service log group (`subscribe`) invokes the snapshot function
 * asynchronously (Lambda Developer Guide, "Using Lambda with CloudWatch Logs"). A failed invocation is retried twice
 * by Lambda, and the event is kept for up to 6 hours; after that it goes, intact, to the on-failure queue
 * (`failedDeliveries`), from which it can be replayed.
 */
export class RegressionStore extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly snapshotFunction: lambda.Function;
  /** Deliveries the snapshot function failed to store after Lambda's retries, with the original event. */
  public readonly failedDeliveries: sqs.Queue;
  private readonly subscribed: logs.ILogGroup[] = [];

  constructor(scope: Construct, id: string, props: RegressionStoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const candidateExpiry = props.candidateExpiry ?? Duration.days(90);
    const candidateDays = candidateExpiry.toDays();
    if (candidateDays <= CANDIDATE_REFRESH_DAYS) {
      throw new Error(
        `candidateExpiry must be longer than ${CANDIDATE_REFRESH_DAYS} days (live candidates are rewritten that often), got ${candidateExpiry.toHumanString()}`,
      );
    }

    // Server access logs cannot go to a bucket encrypted with SSE-KMS, so the log bucket uses SSE-S3.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: props.accessLogRetention ?? Duration.days(365), noncurrentVersionExpiration: Duration.days(1) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'This bucket receives the regression store server access logs; logging it into itself would loop.' },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
        reason: 'This bucket receives the regression store server access logs; logging it into itself would loop.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Nothing reacts to new access log objects; they are read on investigation.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason: 'Access logs expire by lifecycle (accessLogRetention); Object Lock would forbid that expiry.',
      },
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiry ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'expired-delete-markers', expiredObjectDeleteMarker: true },
        // Candidates sit under cases/<service>/candidate/: a prefix cannot select them, their tag can.
        { id: 'old-candidates', tagFilters: { ...CANDIDATE_TAG }, expiration: candidateExpiry },
        { id: 'old-batches', prefix: `${STORE_PREFIX.BATCHES}/`, expiration: props.batchRetention ?? Duration.days(90) },
        // Request markers of asynchronously invoked functions (lambda/shared/idempotency.ts): needed only while a
        // repeat of their event can still arrive (hours at most), kept a week.
        { id: 'old-markers', prefix: `${MARKER_PREFIX}/`, expiration: Duration.days(7) },
      ],
    });

    Validations.of(this.bucket).acknowledge(
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Nothing reacts to object events: cases are fed by log subscriptions and read by the gate, the review and the CLI.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason:
          'Cases are rewritten, promoted and retired by design, and candidates expire by lifecycle; versioning keeps every prior version for noncurrentVersionExpiry instead.',
      },
      ...(props.encryptionKey
        ? []
        : [
            {
              id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
              reason: 'SSE-S3 by default (no key policy to manage); pass encryptionKey to use SSE-KMS.',
            },
          ]),
    );

    // Server access logging through a bucket policy for the logging service, not the log-delivery ACL (ACLs stay
    // disabled: BucketOwnerEnforced). S3 User Guide, "Enabling Amazon S3 server access logging".
    const logPrefix = 'regression-store/';
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogsBucket.bucketName,
      logFilePrefix: logPrefix,
    };
    this.accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogsBucket.arnForObjects(`${logPrefix}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': this.bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    this.failedDeliveries = new sqs.Queue(this, 'FailedDeliveries', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dlqReason = 'This queue is itself the on-failure destination of the snapshot function; a queue behind it would hold the same events.';
    Validations.of(this.failedDeliveries).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: dlqReason },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: dlqReason },
    );

    this.snapshotFunction = libraryFunction(this, 'Snapshot', {
      handler: 'snapshot',
      description: 'cdk-ai-release: stores failure records from service log groups as regression case candidates',
      timeout: Duration.minutes(1),
      memorySize: 256,
      environment: { [LEARNING_ENV.BUCKET]: this.bucket.bucketName, [SNAPSHOT_ENV.CANDIDATE_EXPIRY_DAYS]: String(candidateDays) },
    });
    // Async invoke: 2 retries (the maximum), events kept up to 6 hours (the maximum) while S3 recovers, then the queue.
    const queue = this.failedDeliveries;
    this.snapshotFunction.configureAsyncInvoke({
      // Not SqsDestination: it also grants GetQueueAttributes and GetQueueUrl; Lambda needs only sqs:SendMessage on
      // the queue (Lambda Developer Guide, "Adding a destination": execution role permissions).
      onFailure: { bind: () => ({ destination: queue.queueArn }) },
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.snapshotFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    this.grantSnapshot(this.snapshotFunction, props.encryptionKey);

    this.node.addValidation({ validate: () => this.checkFilterQuota() });
  }

  /**
   * Subscribes the snapshot function to a service's log group with ONE filter (`cdk-ai-release-failures`) matching the
   * record kinds asked for: failure records (`{ $.type = "ai-release.failure" }`), evaluation samples, or both
   * (`{ ($.type = "ai-release.failure") || ($.type = "ai-release.evaluation-sample") }`). Samples are forwarded by the
   * snapshot function to the evaluator (`forwardSamplesTo`). CloudWatch Logs allows 2 subscription filters per log
   * group (PutSubscriptionFilter): the library takes one, the other is the user's (a log shipper, a SIEM). If the log
   * group already has two, creating this one fails at deploy (synth says so when they are in the app); turn snapshots
   * and evaluation off for that service, or merge the other two first.
   *
   * No Lambda permission per log group: one per snapshot function (`logsPermission`) lets CloudWatch Logs invoke it
   * for the log groups of this account and Region.
   */
  public subscribe(scope: Construct, logGroup: logs.ILogGroup, kinds: SubscribedKinds = {}): logs.SubscriptionFilter {
    const failures = kinds.failures ?? true;
    const samples = kinds.evaluationSamples ?? false;
    if (!failures && !samples)
      throw new Error(`subscribe(${logGroup.node.path}): neither failure records nor evaluation samples asked for; do not subscribe the log group`);
    const failure = logs.FilterPattern.stringValue('$.type', '=', FAILURE_RECORD_TYPE);
    const sample = logs.FilterPattern.stringValue('$.type', '=', EVALUATION_SAMPLE_TYPE);
    const filter = new logs.SubscriptionFilter(scope, 'FailureSnapshots', {
      logGroup,
      destination: new logsDestinations.LambdaDestination(this.snapshotFunction, { addPermissions: false }),
      filterPattern: failures && samples ? logs.FilterPattern.any(failure, sample) : failures ? failure : sample,
      // The name it always had: a renamed filter is replaced, and CloudFormation creates the new one before it deletes
      // the old, which on a log group already at 2 filters fails the update.
      filterName: FAILURE_FILTER_NAME,
    });
    // PutSubscriptionFilter checks that CloudWatch Logs may invoke the destination: the permission first.
    filter.node.addDependency(this.logsPermission);
    this.subscribed.push(logGroup);
    return filter;
  }

  /**
   * The one Lambda permission of the snapshot function for CloudWatch Logs: any log group of this account and Region
   * (`SourceArn` `arn:<partition>:logs:<region>:<account>:log-group:*`, which Lambda checks with `ArnLike`, so the
   * wildcard covers `<name>:*`, the ARN CloudWatch Logs invokes with; `SourceAccount` this account). One statement
   * instead of one per service keeps a resource per service out of the stack and the function's resource policy far
   * below Lambda's 20 KB; the service log groups are the user's, so no name pattern narrower than this is known.
   */
  private get logsPermission(): lambda.CfnPermission {
    if (!this._logsPermission) {
      const stack = Stack.of(this);
      this.snapshotFunction.addPermission('FromServiceLogGroups', {
        principal: new iam.ServicePrincipal('logs.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceArn: stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        sourceAccount: stack.account,
      });
      this._logsPermission = this.snapshotFunction.permissionsNode.findChild('FromServiceLogGroups') as lambda.CfnPermission;
      Validations.of(this._logsPermission).acknowledge({
        id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
        reason:
          'Not public: the principal is logs.amazonaws.com, SourceAccount is this account and SourceArn the log groups of this account and Region. Both are deploy-time values (AWS::AccountId, AWS::Region), which the rule accepts only as a literal string or a reference to a resource of the template.',
      });
    }
    return this._logsPermission;
  }

  private _logsPermission?: lambda.CfnPermission;

  /**
   * Forwards the evaluation samples that reach the snapshot function (a service log group's one filter) to the
   * evaluator, asynchronously (Invoke, InvocationType Event): its name in the environment, and invoke on it (the
   * unqualified function only) in the snapshot role.
   */
  public forwardSamplesTo(evaluator: lambda.IFunction): void {
    if (this._forwardsTo) throw new Error(`${this.node.path} already forwards evaluation samples to ${this._forwardsTo.node.path}; one evaluator per platform`);
    this._forwardsTo = evaluator;
    this.snapshotFunction.addEnvironment(SNAPSHOT_ENV.EVALUATOR_FUNCTION, evaluator.functionName);
    this.snapshotFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [evaluator.functionArn] }));
  }

  private _forwardsTo?: lambda.IFunction;

  /**
   * Read access to the cases and the index (the gate, the CLI): every accepted and retired case, and every candidate
   * seen in more than one delivery, is an object. A candidate seen in one delivery only lives in its batch object,
   * which this grant does not cover (batches hold every redacted record); listing those needs read on `batches/*` too.
   */
  public grantReadCases(grantee: iam.IGrantable): iam.Grant {
    this.bucket.grantRead(grantee, `${STORE_PREFIX.INDEX}/*`);
    return this.bucket.grantRead(grantee, `${STORE_PREFIX.CASES}/*`);
  }

  private grantSnapshot(fn: lambda.Function, key?: kms.IKey): void {
    const objects = [STORE_PREFIX.BATCHES, STORE_PREFIX.CASES, STORE_PREFIX.INDEX].map((p) => this.bucket.arnForObjects(`${p}/*`));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: objects }));
    // PutObject with a Tagging header also needs s3:PutObjectTagging (candidate objects carry the lifecycle tag).
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObjectTagging'], resources: [this.bucket.arnForObjects(`${STORE_PREFIX.CASES}/*`)] }));
    // A missing key answers 404 (not 403) only to a caller that may list the bucket: "not stored yet" must be
    // told from "denied" (S3 API reference, HeadObject / GetObject permissions).
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    key?.grantEncryptDecrypt(fn);
    const stack = Stack.of(this);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(fn).acknowledge(
      ...[STORE_PREFIX.BATCHES, STORE_PREFIX.CASES, STORE_PREFIX.INDEX].map((p) => ({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}/*]`,
        reason: `Object keys under ${p}/ are content hashes and delivery keys chosen at run time; the wildcard is limited to that prefix of the regression store.`,
      })),
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the snapshot function write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: 'The snapshot function calls only S3 over TLS with IAM auth (SSL-only bucket policy); it needs no network isolation.',
      },
    );
  }

  /** Fails synth when a subscribed log group carries more filters in this app than CloudWatch Logs allows. */
  private checkFilterQuota(): string[] {
    // Services may live in other stacks than the platform (platform-role.ts): look through the whole app, and compare
    // each name as its own stack resolves it (the same logical id in two nested stacks is two log groups).
    const filters = this.node.root.node
      .findAll()
      .filter((c: IConstruct): c is logs.CfnSubscriptionFilter => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Logs::SubscriptionFilter');
    const errors: string[] = [];
    for (const lg of this.subscribed) {
      const key = (scope: IConstruct, value: string) => `${Stack.of(scope).node.path} ${JSON.stringify(Stack.of(scope).resolve(value))}`;
      const name = key(lg, lg.logGroupName);
      const on = filters.filter((f) => key(f, f.logGroupName) === name);
      if (on.length > SUBSCRIPTION_FILTERS_PER_LOG_GROUP) {
        errors.push(
          `log group ${lg.node.path} has ${on.length} subscription filters (${on.map((f) => f.node.path).join(', ')}); CloudWatch Logs allows ${SUBSCRIPTION_FILTERS_PER_LOG_GROUP} per log group. Remove one, or set snapshots: false (and evaluation: false) on the service's AiRelease`,
        );
      }
    }
    return errors;
  }
}
