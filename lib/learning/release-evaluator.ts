import { Arn, ArnFormat, Duration, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { appConfigReadStatement } from '../config/config-grants';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GATE_ALIAS_NAME, LEARNING_ENV } from '../../lambda/shared/contract';
import { EVALUATION_SAMPLE_TYPE, EVALUATOR_ENV, evaluationKey, evaluationLedgerKey } from '../../lambda/shared/evaluation';
import type { ServiceLocation } from '../../lambda/evaluator/aws-adapters';
import { libraryFunction } from '../private/library-function';

/** The subscription filter's name on every service log group that has an evaluation section. */
export const EVALUATION_FILTER_NAME = 'cdk-ai-release-evaluation';

export interface ReleaseEvaluatorProps {
  /** The regression store's bucket: scored samples and the spend ledgers live there. */
  readonly bucket: s3.IBucket;
  /** The bucket's KMS key, when it has one. @default the bucket is S3-managed encrypted */
  readonly key?: kms.IKey;
  /**
   * Samples scored at once per delivery. Each makes one Converse call per rubric (and four more for a paired canary
   * sample), so this bounds the evaluator's Bedrock request rate. @default 4
   */
  readonly concurrency?: number;
  /** @default 5 minutes */
  readonly timeout?: Duration;
  /**
   * A KMS key for the evaluator's log group (its key policy must let CloudWatch Logs use it). @default CloudWatch
   * Logs' own encryption at rest
   */
  readonly logEncryptionKey?: kms.IKey;
  /** Where deliveries that failed every attempt go (the regression store's failed-deliveries queue). @default none */
  readonly failedDeliveries?: sqs.IQueue;
}

/** One service the evaluator scores. */
export interface EvaluatedService {
  readonly serviceName: string;
  /** The service function's log group: the runtime writes evaluation samples there. */
  readonly logGroup: logs.ILogGroup;
  /** The service function (its versions are replayed for paired comparisons). */
  readonly function: lambda.IFunction;
  /** The alias callers invoke; the evaluator may read it (which version is stable) but never invoke it. */
  readonly liveAlias: lambda.IAlias;
  /** Where the service's LIVE release config is: the evaluator scores with the stable version's rubric. */
  readonly appConfig: { readonly applicationId: string; readonly environmentId: string; readonly profileId: string };
  /** Evaluator model ids or inference profile ids the service's evaluation section may name. */
  readonly evaluatorModelIds: readonly string[];
  /**
   * Give the log group a subscription filter of its own for the samples (`cdk-ai-release-evaluation`). An
   * `AiReleasePlatform` sets false: its regression store's one filter per service log group carries the samples too,
   * and the snapshot function forwards them here (CloudWatch Logs allows 2 filters per log group; the other is the
   * user's).
   * @default true
   */
  readonly subscribe?: boolean;
}

/**
 * The evaluator: one function per platform, off the hot path. Scores sampled answers with deterministic checks and
 * the evaluator model (Bedrock Converse, structured output), compares canary and stable answers to the same input in
 * both orders, enforces each service's evaluation budget, and publishes per-version metrics the canary judge and the
 * review read. Low scores become regression-case candidates through the snapshot pipeline (`subscribeSnapshots`).
 */
export class ReleaseEvaluator extends Construct {
  public readonly function: lambda.Function;
  public readonly logGroup: logs.LogGroup;
  private readonly services: Record<string, ServiceLocation> = {};

  constructor(scope: Construct, id: string, props: ReleaseEvaluatorProps) {
    super(scope, id);
    const concurrency = props.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 50)
      throw new Error(`ReleaseEvaluator concurrency must be an integer from 1 to 50 (got ${concurrency}); it bounds the Bedrock calls in flight`);
    // Its own log group: the snapshot function subscribes to it (low scores are failure records written there), and a
    // subscription needs a log group that exists before the first invocation.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });
    if (!props.logEncryptionKey)
      Validations.of(this.logGroup).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason:
          'The log holds scores, evaluator reasons and failure records the runtime and the evaluator already redacted; CloudWatch Logs encrypts it at rest. Pass logEncryptionKey for a customer-managed key.',
      });
    this.function = libraryFunction(this, 'Function', {
      logGroup: this.logGroup,
      handler: 'evaluator',
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: 512,
      description: 'cdk-ai-release: scores sampled answers (deterministic checks, evaluator model, paired canary comparisons) off the hot path',
      environment: {
        [LEARNING_ENV.BUCKET]: props.bucket.bucketName,
        [EVALUATOR_ENV.CONCURRENCY]: String(concurrency),
        [EVALUATOR_ENV.SERVICES]: Lazy.string({ produce: () => JSON.stringify(this.services) }),
      },
    });
    // Invoked asynchronously by CloudWatch Logs: 2 retries, and a sample older than 2 hours is no longer worth a
    // model call (the release it would inform has moved on); a repeated delivery is skipped by its result object.
    const queue = props.failedDeliveries;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(2),
      ...(queue ? { onFailure: { bind: () => ({ destination: queue.queueArn }) } } : {}),
    });
    if (queue) this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    Validations.of(this.function).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the evaluator write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: 'The evaluator calls only Bedrock, S3, AppConfig and Lambda APIs, over TLS with IAM auth; it needs no network isolation.',
      },
    );
    // "not stored yet" must be told from "denied": a missing key answers 404 only to a caller that may list.
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    props.key?.grantEncryptDecrypt(this.function);
    this.bucket = props.bucket;
  }

  private readonly bucket: s3.IBucket;

  /**
   * Scores a service's samples: grants what scoring it needs, nothing more, and (unless `subscribe` is false)
   * subscribes its log group; the subscription filter is created in `scope` (the service's own construct, so it lives
   * in the service's stack). Returns the filter, or undefined when `subscribe` is false.
   */
  public addService(scope: Construct, s: EvaluatedService): logs.SubscriptionFilter | undefined {
    if (this.services[s.serviceName]) throw new Error(`service "${s.serviceName}" is already evaluated by ${this.node.path}; add each service once`);
    const stack = Stack.of(this);
    // The evaluator's environment names each service's function and live config: from another stack that would be a
    // reference from the platform's stack to the service's, a cycle with the service's references to the platform.
    if (Stack.of(s.function) !== stack)
      throw new Error(
        `service "${s.serviceName}" (${s.function.node.path}) is in another stack than its platform's evaluator (${this.node.path}): evaluation works for services in the platform's stack for now; put the service there, or remove its evaluation section`,
      );
    this.services[s.serviceName] = {
      application: s.appConfig.applicationId,
      environment: s.appConfig.environmentId,
      profile: s.appConfig.profileId,
      functionName: s.function.functionName,
      liveAlias: s.liveAlias.aliasName,
    };
    const fn = this.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(evaluationKey(s.serviceName, '*')), this.bucket.arnForObjects(evaluationLedgerKey(s.serviceName))],
      }),
    );
    fn.addToRolePolicy(appConfigReadStatement(stack, s.appConfig.applicationId, s.appConfig.environmentId, s.appConfig.profileId));
    // Replays go to versions by number; the callers' alias and the unqualified function ($LATEST) are denied, so a
    // shadow answer can never be served as, or counted with, live traffic.
    const functionArn = s.function.functionArn;
    // GetAlias names the function and the alias in the request; the Service Authorization Reference's resource for
    // it is the function (`function:${FunctionName}`), so the alias ARN alone was denied. Both: read-only.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias'], resources: [functionArn, s.liveAlias.functionArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${functionArn}:*`] }));
    // The `gate` alias too: only the gate role may invoke it (the config gate's candidate path).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['lambda:InvokeFunction'],
        // `:$LATEST` too: `<fn>:*` above would match it if Lambda authorizes a Qualifier of $LATEST on that ARN (a
        // sample logged by an unqualified invocation carries the version "$LATEST"), which its docs do not rule out.
        resources: [s.liveAlias.functionArn, functionArn, `${functionArn}:${GATE_ALIAS_NAME}`, `${functionArn}:$LATEST`],
      }),
    );
    for (const statement of s.evaluatorModelIds.flatMap((id) => evaluatorModelStatements(stack, id))) fn.addToRolePolicy(statement);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as never);
    Validations.of(fn).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/evaluations/${s.serviceName}/samples/*.json]`,
        reason: "Sample ids are chosen at run time (one object per scored sample); the wildcard is limited to this service's evaluation samples.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(s.function.node.defaultChild as never)}.Arn>:*]`,
        reason:
          "Shadow replays invoke the stable and the canary version by number, known only at run time; the callers' alias and $LATEST are explicitly denied.",
      },
      ...s.evaluatorModelIds
        .map(routedFoundationModel)
        .filter((model) => model !== undefined)
        .map((model) => ({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${model}]`,
          reason:
            'A cross-Region inference profile routes to the named foundation model in any of its destination Regions; Bedrock authorizes the model there (Bedrock user guide, inference profile prerequisites).',
        })),
    );
    if (s.subscribe === false) return undefined;
    return new logs.SubscriptionFilter(scope, 'EvaluationSamples', {
      logGroup: s.logGroup,
      destination: new logsDestinations.LambdaDestination(fn),
      filterPattern: logs.FilterPattern.stringValue('$.type', '=', EVALUATION_SAMPLE_TYPE),
      filterName: EVALUATION_FILTER_NAME,
    });
  }
}

/** The geography prefixes of system-defined cross-Region inference profile ids (`us.anthropic…`, `global.…`). */
const PROFILE_ID = /^(us|eu|apac|us-gov|ca|jp|au|global)\.(.+)$/;
const BEDROCK_ARN = /^arn:(aws[a-z-]*):bedrock:([a-z0-9-]*):(\d{12})?:([a-z-]+)\/(.+)$/;

/** What one evaluator model id names: the inference profile it is called through (if any) and the foundation model. */
interface EvaluatorModelTarget {
  /** The system-defined inference profile's ARN, when the id names one. */
  readonly profileArn?: string;
  /** The foundation model: its ARN, or (through a profile) its id, authorized in every destination Region. */
  readonly foundationArn: string;
}

/**
 * The foundation model a system-defined inference profile routes to, from its id (`us.anthropic.x` → `anthropic.x`) or
 * its ARN; undefined for a foundation model and anything else.
 */
export function routedFoundationModel(id: string): string | undefined {
  const arn = BEDROCK_ARN.exec(id);
  const name = arn ? (arn[4] === 'inference-profile' ? arn[5] : undefined) : id;
  return name === undefined ? undefined : PROFILE_ID.exec(name)?.[2];
}

function evaluatorModelTarget(stack: Stack, id: string, field: string): EvaluatorModelTarget {
  const foundation = (model: string, region: string) =>
    Arn.format({
      partition: stack.partition,
      service: 'bedrock',
      region,
      account: '',
      resource: 'foundation-model',
      resourceName: model,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  const arn = BEDROCK_ARN.exec(id);
  if (arn) {
    const [, , , , type, name] = arn;
    // Converse takes an ARN as its modelId too: grant what it names, not `foundation-model/arn:…`.
    if (type === 'foundation-model') return { foundationArn: id };
    const routed = type === 'inference-profile' ? PROFILE_ID.exec(name) : null;
    if (routed) return { profileArn: id, foundationArn: foundation(routed[2], '*') };
  }
  if (/^arn:/.test(id))
    throw new Error(
      `${field} "${id}": the evaluator's IAM grant cannot be derived from this ARN (an application inference profile, a provisioned or custom model does not name the foundation models Bedrock authorizes behind it); ` +
        'name a foundation model id (anthropic.claude-…), a system-defined inference profile id (us.anthropic.claude-…), or their ARN',
    );
  const geo = PROFILE_ID.exec(id);
  if (!geo) return { foundationArn: foundation(id, stack.region) };
  return {
    profileArn: stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: id, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    foundationArn: foundation(geo[2], '*'),
  };
}

/**
 * The ARNs Converse is authorized on for one evaluator model id (or ARN): a foundation model, or a system-defined
 * cross-Region inference profile (`us.…`, `eu.…`, `apac.…`, `global.…`) plus the foundation model it routes to in any
 * Region ("Prerequisites for inference profiles", Amazon Bedrock User Guide: the role needs the profile and the model;
 * `*` also matches the region-less `arn:aws:bedrock:::foundation-model/…` a global profile is authorized on).
 */
export function evaluatorModelArns(stack: Stack, id: string, field = 'evaluation.evaluatorModel.modelId'): string[] {
  const t = evaluatorModelTarget(stack, id, field);
  return t.profileArn ? [t.profileArn, t.foundationArn] : [t.foundationArn];
}

/**
 * The statements Converse with one evaluator model needs. Through an inference profile, the foundation model (in any
 * Region) is allowed only when the call comes through that profile (`bedrock:InferenceProfileArn`, the condition key
 * AWS's own cross-Region policies use, e.g. the Deadline Cloud assistant's): the grant cannot call the model directly,
 * in a Region outside the profile's geography.
 */
export function evaluatorModelStatements(stack: Stack, id: string, field = 'evaluation.evaluatorModel.modelId'): iam.PolicyStatement[] {
  const t = evaluatorModelTarget(stack, id, field);
  if (!t.profileArn) return [new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [t.foundationArn] })];
  return [
    new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [t.profileArn] }),
    new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel'],
      resources: [t.foundationArn],
      conditions: { ArnEquals: { 'bedrock:InferenceProfileArn': t.profileArn } },
    }),
  ];
}
