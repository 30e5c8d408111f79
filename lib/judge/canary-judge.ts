import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { nagText } from '../private/nag-text';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  CANARY_JUDGE_BASELINE_ENV,
  CANARY_JUDGE_CONFIG_ENV,
  CANARY_JUDGE_ENV,
  CANARY_JUDGE_TICK_PARAMETER,
  DIMENSION,
  JUDGE_DIMENSION_PLANE,
  JUDGE_ENV,
  JUDGE_METRIC,
  judgeCannotJudgeAlarmName,
  JUDGE_STATE_PREFIX,
  CANARY_JUDGE_ASSIGNED_ENV,
  shareKey,
  type JudgeTolerance,
  LEARNING_ENV,
  METRIC_NAMESPACE,
} from '../../lambda/shared/contract';
import { type EvaluationConfig, pairsOn } from '../../lambda/shared/evaluation';
import { DEFAULT_TOLERANCE } from '../../lambda/judge/judge';
import { libraryFunction } from '../private/library-function';
import { namePrefix, physicalName } from '../private/physical-names';
import { invokeOnly, addPlatformReleaseAction, addReleaseAction, type ReleaseAction, releaseExtensionAssociationOf } from '../config/release-extension';

/** The share controller's current record of a service (lambda/share-controller/aws-adapters.ts currentKey). */
const shareRecordKey = (service: string) => shareKey(service, 'current');

/** How the canary judge runs. */
export interface CanaryJudgeOptions {
  /**
   * The false-rollback bound: the probability that a release no worse than the stable one is ever judged a
   * regression, however often the judge looks.
   * @default 0.01
   */
  readonly alpha?: number;
  /**
   * How long the AfterAllowTraffic hook keeps judging at 100 % traffic before it concludes (no regression shown, or
   * inconclusive). Lambda runs at most 15 minutes and the hook answers before its own timeout, so at most 13 minutes.
   * @default Duration.minutes(10)
   */
  readonly afterTrafficBound?: Duration;
  /**
   * How much stable traffic before a release the judge reads as the baseline the after-traffic tests compare the new
   * version against (once per release, at its first update; `Duration.minutes(0)` reads none). At most 60 minutes:
   * the read has a 20-second budget inside the first update, and a longer window at a busy service would not fit.
   * @default Duration.minutes(30)
   */
  readonly baselineWindow?: Duration;
  /**
   * The longest a window of evaluation samples waits for its outstanding results after it ends, before the judge counts
   * what arrived (results later still are counted as late in the record, not judged). The bound used is twice the 99th
   * percentile of the evaluator's delays measured in the release, at least 1 minute, at most this. The
   * AfterAllowTraffic hook does not answer on a conclusion while samples taken before full traffic are outstanding:
   * at most this + 75 s (the 60 s window, the 15 s ingestion lag) + 30 s (the poll), within `afterTrafficBound`.
   * Only used with evaluation results (`judgeEvaluations`). From 1 minute to `afterTrafficBound`.
   * @default Duration.minutes(5), or `afterTrafficBound` when that is shorter
   */
  readonly evaluationMaxWait?: Duration;
  /**
   * How much worse the canary may be on each value metric before the judge's concurrent test rolls it back: the test
   * asks "is the canary worse by MORE than this" (latency and cost relative, quality absolute). Differences far below
   * the smallest regression the team must catch (between execution environments, which on the code plane ride on
   * their version's label) cannot roll a release back; a real regression smaller than this is not rolled back either.
   * Fields left out take their default; 0 is the strict test.
   * @default { latencyMs: 0.1, costUsd: 0.1, quality: 0.025 } — in AiRelease, half of `canaryPlan.minRegressions`
   *   (p50Increase and qualityDrop; defaults 0.2 and 0.05)
   */
  readonly tolerance?: JudgeTolerance;
}

export interface CanaryJudgeProps extends CanaryJudgeOptions {
  readonly serviceName: string;
  /** The service function's log group, where the runtime writes one EMF line per invocation. */
  readonly logGroup: logs.ILogGroup;
  /** The regression store: the judge keeps its evidence under `judge/<service>/`. */
  readonly bucket: s3.IBucket;
  /** The service's deployment group: the schedule judges its deployments in progress. */
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  /** The AppConfig application, release-config profile and live environment (config plane). */
  readonly appConfigApplicationId: string;
  readonly configProfileId: string;
  readonly environment: appconfig.CfnEnvironment;
  /** Time between judge updates: the release alarms' period. */
  readonly period: Duration;
  /**
   * The config plane's randomization unit: `cluster` when the runtime assigns each conversation to live or candidate
   * (AiRelease `configCanary: 'assigned'`), so the judge bets once per conversation at the share it was assigned with;
   * `request` when AppConfig's rollout decides (per execution environment, judged per request).
   * @default 'request'
   */
  readonly configUnit?: 'request' | 'cluster';
  /**
   * Judge the service's assigned config canaries (AiRelease `configCanary: 'assigned'`): the schedule reads the share
   * controller's record (share/<service>/current.json) and, while a release is ramping, judges it every period and
   * stores the verdict where the controller reads it (judge/<service>/<releaseKey>.json): a regression sets the share
   * to 0. No AppConfig rollout runs meanwhile, so nothing else would start the judge for it.
   * @default false
   */
  readonly assignedReleases?: boolean;
  /**
   * Where the one AT_DEPLOYMENT_TICK function shared by several services lives (AiRelease passes its
   * AiReleasePlatform): the tick is then an action of the host's release extension, beside the gate check and the
   * review, and each service's live environment has one association for all of them (config/release-extension.ts).
   * Every judge of one host must keep its records in the same bucket.
   * @default this CanaryJudge (a tick function and extension of its own)
   */
  readonly tickHost?: Construct;
  /**
   * Where the cannot-judge alarm pages (AiRelease: the platform's notification topic). It never rolls back.
   * @default no alarm action
   */
  readonly notificationTopic?: sns.ITopic;
}

/**
 * The evaluation metrics a service's evaluation section gives the judge: its rubrics' criteria except `correctness`
 * (live answers carry no reference answer, so it is never scored live), and the paired outcomes unless `paired` is
 * false. Deterministic checks are not judged (they are reported by the evaluator's metrics and the review).
 */
export function judgedEvaluationMetrics(evaluation: EvaluationConfig): { criteria: string[]; paired: boolean } {
  return { criteria: evaluation.rubrics.map((r) => r.criterion).filter((c) => c !== 'correctness'), paired: pairsOn(evaluation) };
}

/** The tick function and its invoke role of one host (a platform, or one judge), and the bucket its records are read from. */
interface TickHost {
  readonly function: lambda.Function;
  readonly role: iam.IRole;
  readonly bucket: s3.IBucket;
}
const TICK_HOSTS = new WeakMap<Construct, TickHost>();

/**
 * The statistical canary judge of one service: one function, started three ways.
 *
 * - Code plane, during the traffic shift, and config plane, during a rollout: an EventBridge rule every minute. An
 *   invocation with nothing in progress lists the group's deployments and the live environment's config deployments
 *   and exits (two API calls); otherwise it judges every alarm period until the end of its minute, stores each
 *   verdict in the release's record and publishes the verdict metric. A schedule rather than the deployment's start event: a
 *   missed or late event would leave a canary unjudged, one invocation cannot cover a linear shift longer than
 *   Lambda's 15 minutes, and a crashed invocation is simply replaced a minute later.
 * - Code plane, after full traffic: the deployment group's AfterAllowTraffic hook (`LambdaDeploymentGroup.addPostHook`,
 *   done by AiRelease).
 * - Config plane: an AT_DEPLOYMENT_TICK action on the live release environment (a small function of its own) that only reads
 *   the rollout's stored verdict: AppConfig waits about 3 s for an extension, too little for a Logs Insights query.
 */
export class CanaryJudge extends Construct {
  public readonly function: lambda.Function;
  public readonly schedule: events.Rule;
  /** The AT_DEPLOYMENT_TICK function: a small bundle of its own, one per tick host (issue 15-A5). */
  public readonly tickFunction: lambda.Function;
  /**
   * The extension whose AT_DEPLOYMENT_TICK action is the tick: with a tick host (AiRelease: the platform), the host's
   * release extension, which also carries the gate check and the review (config/release-extension.ts); read it after
   * the service is built (the extension follows the live environment's set of actions).
   */
  public get extension(): appconfig.CfnExtension {
    return releaseExtensionAssociationOf(this.tickHostScope, this.environment)!.extension;
  }
  private readonly tickHostScope: Construct;
  private readonly environment: appconfig.CfnEnvironment;
  /**
   * Pages (notificationTopic) when the judge cannot judge a release in progress: its updates fail, its samples cannot
   * be used, or the function itself errors. Never a rollback: it is in no composite, no deployment group, no monitor.
   */
  public readonly cannotJudgeAlarm: cloudwatch.Alarm;
  /** The live environment's association that runs the tick (with a tick host, its one association with the host's release extension). */
  public readonly association: appconfig.CfnExtensionAssociation;
  public readonly afterTrafficBound: Duration;
  public readonly baselineWindow: Duration;
  /** The longest an evaluation window waits for its outstanding results (`evaluationMaxWait`). */
  public readonly evaluationMaxWait: Duration;
  /** The evaluation metrics judged in the family (`judgeEvaluations`); empty: none. */
  public get evaluationMetrics(): readonly string[] {
    return this.judgedEvaluation;
  }
  private judgedEvaluation: string[] = [];

  private readonly serviceName: string;
  /** The value tests' tolerance in force (every field resolved). */
  public readonly tolerance: Required<JudgeTolerance>;

  constructor(scope: Construct, id: string, props: CanaryJudgeProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    const stack = Stack.of(this);
    const alpha = props.alpha ?? 0.01;
    if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 0.5)
      throw new Error(`canaryJudge.alpha must be a probability above 0 and below 0.5, got ${alpha}; 0.01 is the default`);
    this.afterTrafficBound = props.afterTrafficBound ?? Duration.minutes(10);
    const boundS = this.afterTrafficBound.toSeconds();
    const periodS = props.period.toSeconds();
    if (boundS < 60 || boundS > 13 * 60) {
      throw new Error(
        `canaryJudge.afterTrafficBound must be from 1 to 13 minutes, got ${this.afterTrafficBound.toHumanString()}: the hook runs in one Lambda invocation (at most 15 minutes) and answers CodeDeploy before its timeout`,
      );
    }

    this.evaluationMaxWait = props.evaluationMaxWait ?? Duration.seconds(Math.min(300, boundS));
    const waitS = this.evaluationMaxWait.toSeconds();
    if (!(waitS >= 60 && waitS <= boundS))
      throw new Error(
        `canaryJudge.evaluationMaxWait must be from 1 minute to afterTrafficBound (${this.afterTrafficBound.toHumanString()}), got ${this.evaluationMaxWait.toHumanString()}: the AfterAllowTraffic hook waits for outstanding evaluation results within its bound`,
      );

    this.tolerance = { ...DEFAULT_TOLERANCE, ...props.tolerance };
    for (const [k, v] of Object.entries(this.tolerance)) {
      const max = k === 'quality' ? 0.5 : 1;
      if (!(k in DEFAULT_TOLERANCE)) throw new Error(`canaryJudge.tolerance.${k} is unknown; use latencyMs, costUsd or quality`);
      if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < max))
        throw new Error(
          `canaryJudge.tolerance.${k} must be from 0 to below ${max} (${k === 'quality' ? 'an absolute drop of the score' : 'a relative increase: 0.1 = +10 %'}), got ${v}; the default is half the canary plan's minimum regression`,
        );
    }

    this.baselineWindow = props.baselineWindow ?? Duration.minutes(30);
    const baselineS = this.baselineWindow.toSeconds();
    if (!(baselineS >= 0 && baselineS <= 60 * 60)) {
      throw new Error(
        `canaryJudge.baselineWindow must be from 0 to 60 minutes, got ${this.baselineWindow.toHumanString()}: the judge reads it within a 20-second budget at the release's first update; Duration.minutes(30) is the default`,
      );
    }

    this.function = libraryFunction(this, 'Function', {
      handler: 'canary-judge',
      // The hook judges for the bound, then answers; two minutes cover the last query and the answer's retries.
      timeout: Duration.seconds(Math.min(15 * 60, boundS + 120)),
      description: `${props.serviceName}: canary judge (anytime-valid sequential tests of the new version against the stable one)`,
      environment: {
        [CANARY_JUDGE_ENV.SERVICE]: props.serviceName,
        [CANARY_JUDGE_ENV.CODEDEPLOY_APPLICATION]: props.deploymentGroup.application.applicationName,
        [CANARY_JUDGE_ENV.DEPLOYMENT_GROUP]: props.deploymentGroup.deploymentGroupName,
        [CANARY_JUDGE_ENV.APPCONFIG_APPLICATION]: props.appConfigApplicationId,
        [CANARY_JUDGE_ENV.CONFIG_PROFILE]: props.configProfileId,
        [CANARY_JUDGE_CONFIG_ENV.ENVIRONMENT]: props.environment.ref,
        [CANARY_JUDGE_ENV.PERIOD_SECONDS]: String(periodS),
        [JUDGE_ENV.ALPHA]: String(alpha),
        [JUDGE_ENV.AFTER_TRAFFIC_BOUND_SECONDS]: String(boundS),
        [CANARY_JUDGE_BASELINE_ENV.WINDOW_SECONDS]: String(baselineS),
        [JUDGE_ENV.LOG_GROUP]: props.logGroup.logGroupName,
        [JUDGE_ENV.CONFIG_UNIT]: props.configUnit ?? 'request',
        [JUDGE_ENV.TOLERANCE]: JSON.stringify(this.tolerance),
        [LEARNING_ENV.BUCKET]: props.bucket.bucketName,
        ...(props.assignedReleases ? { [CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD]: shareRecordKey(props.serviceName) } : {}),
      },
    });
    const fn = this.function;
    // Lambda's own retries of asynchronous invocations (two by default) come only after a function error: a timeout,
    // running out of memory, or a failed init, since the handler catches everything else. For the schedule a retry
    // would run beside the next minute's invocation on the same record (read, judge, write: a window counted twice).
    // The AfterAllowTraffic hook is invoked asynchronously by CodeDeploy too; it answers before its timeout on every
    // path it handles, and a hook that crashes unanswered is failed by CodeDeploy at the hook's time limit (the
    // deployment rolls back). A retry would only repeat the crash, so none. The tick is synchronous: not affected.
    fn.configureAsyncInvoke({ retryAttempts: 0 });

    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: props.logGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const appArn = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: props.appConfigApplicationId,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const profileArn = `${appArn}/configurationprofile/${props.configProfileId}`;
    const environmentArn = `${appArn}/environment/${props.environment.ref}`;
    const statements = [
      // The service's log group only (both ARN forms: the log group, and its streams as IAM policies usually name it).
      new iam.PolicyStatement({ actions: ['logs:StartQuery'], resources: [logGroupArn, `${logGroupArn}:*`] }),
      // The Service Authorization Reference lists resource type log-group for GetQueryResults, but the request carries
      // only a query id, and how IAM matches a log group to it is not documented (grants scoped to the log group are
      // reported to fail). "*" works either way; it reads only results of queries whose id the caller holds, and the
      // judge's queries are started on its own log group (StartQuery is scoped).
      new iam.PolicyStatement({ actions: ['logs:GetQueryResults'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['codedeploy:ListDeployments', 'codedeploy:GetDeployment'], resources: [props.deploymentGroup.deploymentGroupArn] }),
      // When the canary's traffic started (its AllowTraffic lifecycle event): read-only, and the Service Authorization
      // Reference lists no resource type for these two.
      new iam.PolicyStatement({ actions: ['codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets'], resources: ['*'] }),
      // PutMetricData has no resource type: allowed on "*" for the AiRelease namespace only.
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/${props.serviceName}/*`)],
      }),
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
      // Config rollouts in progress on the live environment (the schedule judges them): ListDeployments needs the
      // application and environment, GetDeployment the deployment too (Service Authorization Reference).
      new iam.PolicyStatement({ actions: ['appconfig:ListDeployments'], resources: [appArn, environmentArn] }),
      new iam.PolicyStatement({ actions: ['appconfig:GetDeployment'], resources: [appArn, environmentArn, `${environmentArn}/deployment/*`] }),
      new iam.PolicyStatement({
        actions: ['appconfig:GetHostedConfigurationVersion'],
        resources: [appArn, profileArn, `${profileArn}/hostedconfigurationversion/*`],
      }),
    ];
    // The share controller's current record only (the release on traffic), read only.
    if (props.assignedReleases)
      statements.push(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(shareRecordKey(props.serviceName))] }));
    for (const s of statements) fn.addToRolePolicy(s);
    props.bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');

    this.schedule = new events.Rule(this, 'WhileDeploying', {
      description: `${props.serviceName}: runs the canary judge every minute; it exits at once unless a code deployment or a config rollout is in progress`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // A missed minute is replaced by the next one: no retries, no stale events.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    // AT_DEPLOYMENT_TICK: a small function of its own (AppConfig waits only a few seconds, and a timeout rolls the
    // config back), one per tick host; this service's live environment gets an association naming the service.
    const host = tickHost(props.tickHost ?? this, props.bucket);
    this.tickFunction = host.function;
    this.tickHostScope = props.tickHost ?? this;
    this.environment = props.environment;
    const action: ReleaseAction = {
      kind: 'canary-judge',
      points: ['AT_DEPLOYMENT_TICK'],
      name: 'canary-judge',
      description: "Reads the canary judge's stored verdict of the config rollout",
      function: host.function,
      role: host.role,
      parameters: { [CANARY_JUDGE_TICK_PARAMETER.SERVICE]: { required: true, description: 'The AI service whose config rollouts this association judges' } },
    };
    const values = { [CANARY_JUDGE_TICK_PARAMETER.SERVICE]: props.serviceName };
    // AT_DEPLOYMENT_TICK: with a tick host (the platform), the action joins the live environment's one association
    // with the host's release extension; alone, the judge has an extension and an association of its own. An error
    // here rolls the rollout back (AppConfig User Guide, custom extensions: AT_* action points), so the tick never
    // throws (lambda/canary-judge/tick.ts).
    this.association = (
      props.tickHost
        ? addPlatformReleaseAction(props.tickHost, props.environment, action, values)
        : addReleaseAction(
            { scope: this, extensionName: () => physicalName('appConfigExtension', namePrefix(this), props.serviceName, 'canary-judge') },
            props.environment,
            action,
            values,
            { scope: this, id: 'TickAssociation' },
          )
    ).association;

    this.cannotJudgeAlarm = cannotJudgeAlarm(this, namePrefix(props.tickHost ?? this), props.serviceName, fn, props.notificationTopic);

    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the canary judge write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          'The canary judge calls only AWS APIs (CloudWatch Logs, CodeDeploy, CloudWatch, S3, AppConfig) over TLS with IAM auth; it needs no network isolation.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'logs:GetQueryResults: the request names only a query id, and the queries are started on the service log group only; cloudwatch:PutMetricData (conditioned on the AiRelease namespace) and the read-only codedeploy:ListDeploymentTargets / BatchGetDeploymentTargets have no resource type; every other action is scoped.',
      },
      ...nagWildcards(stack, props, logGroupArn, profileArn, environmentArn),
    );
  }

  /**
   * Judges the platform evaluator's results as metrics of the family (issue 17 E): the scores of `criteria` (rank
   * tests) and, with `paired`, the paired outcomes (sign test), together one metric's share of the false-rollback
   * bound. The judge reads the evaluator's `ai-release.evaluation-result` lines with Logs Insights on the evaluator's
   * log group, beside the service's: `logs:StartQuery` on that log group only. Call once.
   */
  public judgeEvaluations(evaluatorLogGroup: logs.ILogGroup, metrics: { readonly criteria: readonly string[]; readonly paired: boolean }): void {
    if (this.judgedEvaluation.length > 0)
      throw new Error(`the canary judge of ${this.serviceName} already judges evaluation results; call judgeEvaluations once`);
    const names = [...metrics.criteria, ...(metrics.paired ? ['paired'] : [])];
    if (names.length === 0) throw new Error('judgeEvaluations needs at least one criterion or paired: true (nothing to judge)');
    for (const c of metrics.criteria)
      if (!/^[a-z][a-z0-9-]{0,39}$/.test(c) || c === 'paired')
        throw new Error(`judgeEvaluations: criterion "${c}" is not a criterion name (lower-case letters, digits and dashes, e.g. groundedness)`);
    const stack = Stack.of(this);
    const arn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: evaluatorLogGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.function.addEnvironment(JUDGE_ENV.EVALUATION_LOG_GROUP, evaluatorLogGroup.logGroupName);
    this.function.addEnvironment(JUDGE_ENV.EVALUATION_METRICS, names.join(','));
    this.function.addEnvironment(JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS, String(this.evaluationMaxWait.toSeconds()));
    // A second query, on the evaluator's log group only (both ARN forms, as for the service's).
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['logs:StartQuery'], resources: [arn, `${arn}:*`] }));
    const wildcard = nagText(stack, `${arn}:*`);
    if (wildcard)
      Validations.of(this.function).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${wildcard}]`,
        reason: "Scoped wildcard: the log streams of the platform evaluator's log group (Logs Insights queries of its evaluation results).",
      });
    this.judgedEvaluation = names.map((n) => `evaluation:${n}`);
  }
}

/**
 * The one AT_DEPLOYMENT_TICK function and the role AppConfig assumes to invoke it, of `scope` (a platform shared by its services, or one judge).
 * The function only reads judge records (s3:GetObject under judge/), from the one bucket every judge of the host uses.
 */
function tickHost(scope: Construct, bucket: s3.IBucket): TickHost {
  const known = TICK_HOSTS.get(scope);
  if (known) {
    if (known.bucket !== bucket)
      throw new Error('every canary judge of one tickHost must keep its records in the same bucket: the tick function reads one regression store');
    return known;
  }
  const stack = Stack.of(scope);
  const fn = libraryFunction(scope, 'CanaryJudgeTick', {
    handler: 'canary-judge-tick',
    description:
      'cdk-ai-release: answers AppConfig AT_DEPLOYMENT_TICK from the canary judge record of the rollout (ROLL_BACK on a regression, CONTINUE otherwise)',
    // AppConfig waits about 3 s: the tick reads for at most 1.5 s; 5 s lets a cold start finish its answer. Lambda
    // gives CPU in proportion to memory, and a cold start is CPU-bound (bench/cold-start.ts): 1,024 MB.
    timeout: Duration.seconds(5),
    memorySize: 1024,
    environment: { [LEARNING_ENV.BUCKET]: bucket.bucketName },
  });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`)] }));
  // ListBucket so a tick before the first verdict reads a 404 (CONTINUE), not a 403.
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  bucket.encryptionKey?.grant(fn, 'kms:Decrypt');
  // AT_DEPLOYMENT_TICK is synchronous: AppConfig invokes with lambda:InvokeFunction, through this role.
  // Inline, not a policy resource of its own (one fewer resource; the policy exists with the role).
  const role = new iam.Role(scope, 'CanaryJudgeTickRole', {
    assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
    description: 'Lets AppConfig run the canary judge tick at each config deployment tick',
    inlinePolicies: invokeOnly(fn, ['lambda:InvokeFunction']),
  });
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "AWSLambdaBasicExecutionRole only lets the canary judge tick write its own logs; it is AWS's maintained minimum for Lambda.",
    },
    {
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason: 'The canary judge tick calls only S3 (GetObject of a judge record) over TLS with IAM auth; it needs no network isolation.',
    },
    ...(nagText(stack, bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`))
      ? [
          {
            id: `AwsSolutions-IAM5[Resource::${nagText(stack, bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`))}]`,
            reason: "Scoped wildcard, read only: the judge records (judge/<service>/<release>.json) of the host's services; the service comes with each tick.",
          },
        ]
      : []),
  );
  const out = { function: fn, role, bucket };
  TICK_HOSTS.set(scope, out);
  return out;
}

/**
 * The cannot-judge alarm (issue 16-F): the judge's CanaryJudgeCannotJudge metric (both planes) plus the judge
 * function's own errors (a timeout, out of memory, a failed init: the handler catches everything else), per minute,
 * in 2 of 3 minutes. Missing data is not breaching (no release, nothing to say). It pages and never rolls back.
 */
function cannotJudgeAlarm(scope: Construct, prefix: string, service: string, fn: lambda.Function, topic?: sns.ITopic): cloudwatch.Alarm {
  const minute = Duration.minutes(1);
  const plane = (p: 'code' | 'config') =>
    new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: JUDGE_METRIC.CANNOT_JUDGE,
      dimensionsMap: { [DIMENSION.SERVICE]: service, [JUDGE_DIMENSION_PLANE]: p },
      statistic: 'Maximum',
      period: minute,
    });
  const alarm = new cloudwatch.Alarm(scope, 'CannotJudge', {
    // The platform's name prefix (a literal, also in a nested stack), which its topic policy allows.
    alarmName: physicalName('alarm', judgeCannotJudgeAlarmName(prefix, service)),
    alarmDescription:
      `${service}: the canary judge could not judge a release in progress (its updates fail, its samples cannot be used, or the judge function errors). ` +
      `The release goes on, watched only by the fixed-threshold alarms; nothing rolls back on this alarm. See the judge's log and its record judge/${service}/ in the regression store.`,
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(code, 0) + FILL(config, 0) + FILL(errors, 0)',
      usingMetrics: { code: plane('code'), config: plane('config'), errors: fn.metricErrors({ period: minute, statistic: 'Sum' }) },
      period: minute,
      label: 'cannot judge',
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (topic) alarm.addAlarmAction(new cwActions.SnsAction(topic));
  else
    Validations.of(alarm).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
      reason: 'No notification topic was given to this CanaryJudge; AiRelease gives it the platform topic.',
    });
  return alarm;
}

/**
 * Makes the judge the group's AfterAllowTraffic hook. CDK grants the group's role lambda:InvokeFunction on the function
 * and its versions (`<arn>:*`), since AWSCodeDeployRoleForLambdaLimited only invokes functions named CodeDeployHook_*.
 */
export function attachPostHook(judge: CanaryJudge, group: codedeploy.LambdaDeploymentGroup): void {
  group.addPostHook(judge.function);
  const id = Stack.of(judge).getLogicalId(judge.function.node.defaultChild as CfnElement);
  Validations.of(group.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${id}.Arn>:*]`,
    reason:
      'CodeDeploy invokes the canary judge as the AfterAllowTraffic hook; the wildcard covers the versions and aliases of that one function (LambdaDeploymentGroup.addPostHook).',
  });
}

/** The scoped wildcards, as cdk-nag prints them (`<LogicalId.Arn>` for a token). */
function nagWildcards(
  stack: Stack,
  props: CanaryJudgeProps,
  logGroupArn: string,
  profileArn: string,
  environmentArn: string,
): { id: string; reason: string }[] {
  const out: { id: string; reason: string }[] = [];
  const text = (v: string) => nagText(stack, v);
  const lg = text(`${logGroupArn}:*`);
  if (lg)
    out.push({ id: `AwsSolutions-IAM5[Resource::${lg}]`, reason: "Scoped wildcard: the log streams of the service's own log group (Logs Insights queries)." });
  const objects = text(props.bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/${props.serviceName}/*`));
  if (objects)
    out.push({ id: `AwsSolutions-IAM5[Resource::${objects}]`, reason: "Scoped wildcard: the judge's own records, one per release of this service." });
  const versions = text(`${profileArn}/hostedconfigurationversion/*`);
  if (versions)
    out.push({
      id: `AwsSolutions-IAM5[Resource::${versions}]`,
      reason: 'Scoped wildcard: version numbers of the one release-config profile are assigned by AppConfig (read only).',
    });
  const deployments = text(`${environmentArn}/deployment/*`);
  if (deployments)
    out.push({
      id: `AwsSolutions-IAM5[Resource::${deployments}]`,
      reason: 'Scoped wildcard: deployment numbers of the one live environment are assigned by AppConfig (read only, GetDeployment).',
    });
  return out;
}
