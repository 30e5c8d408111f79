import { ArnFormat, CfnResource, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import { nagText } from '../private/nag-text';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
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
  CANARY_JUDGE_INPUT_SOURCE,
  CANARY_JUDGE_TICK_PARAMETER,
  DIMENSION,
  JUDGE_DIMENSION_PLANE,
  JUDGE_DIMENSION_PLATFORM,
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
import { type EvaluationConfig, enabledChecks, pairsOn } from '../../lambda/shared/evaluation';
import { GUARDRAIL_CRITERIA } from '../../lambda/shared/guardrail-scores';
import { scoreKey } from '../../lambda/shared/score-keys';
import { DEFAULT_TOLERANCE } from '../../lambda/judge/judge';
import { libraryFunction } from '../private/library-function';
import { checkedName, namePrefix, physicalName, shortPrefix } from '../private/physical-names';
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
   * `environment` when AppConfig's rollout decides (it tells execution environments: the judge bets on which
   * environments switched, lambda/judge/environments.ts); `request` judges AppConfig's rollout per request, which
   * blames environments' own differences on the release (kept for comparison).
   * @default 'request'
   */
  readonly configUnit?: 'request' | 'cluster' | 'environment';
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
 * (live answers carry no reference answer, so it is never scored live), the deterministic checks the section runs
 * (h8-detjudge: each a pass rate, canary against stable, by the same rank test, in the same family; every check has
 * a key of its own, so a `refusal` rubric and the refusal check `refusal-phrase` are judged apart: lambda/shared/
 * score-keys.ts), the guardrail's scores (`guardrail-groundedness`, `guardrail-relevance`) when `guardrailScores` is
 * on, and the paired outcomes unless `paired` is false.
 */
export function judgedEvaluationMetrics(evaluation: EvaluationConfig): { criteria: string[]; paired: boolean } {
  const rubrics = evaluation.rubrics.map((r) => r.criterion).filter((c) => c !== 'correctness');
  const checks = enabledChecks(evaluation.deterministic);
  // The guardrail's contextual grounding scores, when the section asks (keys of their own: score-keys.ts).
  const guardrail = evaluation.guardrailScores === true ? GUARDRAIL_CRITERIA.map((c) => scoreKey({ criterion: c, source: 'guardrail' })) : [];
  return { criteria: [...rubrics, ...checks, ...guardrail], paired: pairsOn(evaluation) };
}

/** The tick function and its invoke role of one host (a platform, or one judge), and the bucket its records are read from. */
interface TickHost {
  readonly function: lambda.Function;
  readonly role: iam.IRole;
  readonly bucket: s3.IBucket;
}
const TICK_HOSTS = new WeakMap<Construct, TickHost>();

/**
 * The statistical canary judge of one service: one function, shared by up to SERVICES_PER_JUDGE_FUNCTION services of
 * its host (the platform; `function`), started three ways. The service's settings are its schedule rule's input.
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
   * One per judge host (with `tickHost`, the platform: every CanaryJudge of the host returns the same alarm, in the
   * host's stack, watching the metric's Platform dimension); alone, the judge's own.
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
  private readonly hostScope: Construct;
  /**
   * This service's settings document: the schedule rule's input (`{ source, settings }`), which the shared judge
   * function reads instead of an environment of its own; the schedule leaves it for the AfterAllowTraffic hook.
   */
  private readonly settings: Record<string, string>;
  /** The IAM policy in this service's stack for what only it has, when the judge function's role is in another. */
  private servicePolicy?: iam.Policy;
  /** The value tests' tolerance in force (every field resolved). */
  public readonly tolerance: Required<JudgeTolerance>;

  constructor(scope: Construct, id: string, props: CanaryJudgeProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    this.hostScope = props.tickHost ?? this;
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

    // One judge function per host (the platform, or this judge alone): its settings per service come with the
    // service's schedule event, as the rule's constant input (Lambda's 4 KB of environment cannot hold fifty services).
    const host = judgeHost(props.tickHost ?? this, props.bucket, Stack.of(props.tickHost ?? this) === stack);
    this.function = host.function;
    this.settings = {
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
      ...(props.assignedReleases ? { [CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD]: shareRecordKey(props.serviceName) } : {}),
    };
    const fn = this.function;

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
    // What only this service has: its log group (both ARN forms: the log group, and its streams as IAM policies
    // usually name it) and, with an application of its own, that application. Everything the library names (the
    // platform's CodeDeploy application's groups, judge/* records, share/*/current.json) is granted once by the host.
    this.grantOnHost(host, props.logGroup, [logGroupArn, `${logGroupArn}:*`], 'logs');
    this.grantOnHost(host, props.environment, [appArn, `${appArn}/*`], 'appconfig');
    host.grantDeploymentGroups(props.deploymentGroup);

    // Not targets.LambdaFunction: it adds a Lambda permission per rule. The host has one, for every rule whose name
    // starts with its prefix. A missed minute is replaced by the next one: no retries, no stale events.
    // Rendered at synth, not when the target is added (RuleTargetInput.fromObject resolves at once): judgeEvaluations
    // adds the evaluator's settings later.
    const input: events.RuleTargetInput = {
      bind: () => ({ input: Lazy.string({ produce: () => stack.toJsonString({ source: CANARY_JUDGE_INPUT_SOURCE, settings: this.settings }) }) }),
    };
    const retryPolicy = { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 };
    // In the host's stack (the flat layout) the service's target joins a schedule rule the host's services share (five
    // targets per rule, scheduleRuleOf); in another stack (nested, a stack per service) it has a rule of its own, as
    // the rule would otherwise make the host's stack reference the service's.
    const grouped = props.tickHost !== undefined && Stack.of(props.tickHost) === stack;
    this.schedule = grouped
      ? scheduleRuleOf(props.tickHost!, host, props.serviceName)
      : new events.Rule(this, 'WhileDeploying', {
          ruleName: judgeRuleName(host, props.serviceName),
          description: `${props.serviceName}: runs the canary judge every minute; it exits at once unless a code deployment or a config rollout is in progress`,
          schedule: events.Schedule.rate(Duration.minutes(1)),
        });
    // Each target is its own invocation with its own constant Input (EventBridge API Reference, Target: "Input: Valid
    // JSON text passed to the target"), so a shared rule runs each service's judge with that service's settings.
    // Target Id: the service's name on a shared rule (unique per rule: the app refuses two services of one name).
    if (grouped) SCHEDULE_HOST_OF.set(this, props.tickHost!);
    // Two releases of one name are AiRelease's error at synth, naming both construct paths (a clearer one than any
    // here): until then the second target gets an id of its own so construction goes on to that error.
    const seen = grouped ? (SCHEDULE_GROUPS.get(props.tickHost!) ?? []).flatMap((g) => g.services).filter((x) => x === props.serviceName).length : 0;
    const targetId = seen > 1 ? `${props.serviceName}-${seen}` : props.serviceName;
    this.schedule.addTarget({
      bind: () => ({ ...(grouped ? { id: targetId } : {}), arn: fn.functionArn, input, retryPolicy }),
    });

    // AT_DEPLOYMENT_TICK: a small function of its own (AppConfig waits only a few seconds, and a timeout rolls the
    // config back), one per tick host; this service's live environment gets an association naming the service.
    const tick = tickHost(props.tickHost ?? this, props.bucket);
    this.tickFunction = tick.function;
    this.tickHostScope = props.tickHost ?? this;
    this.environment = props.environment;
    const action: ReleaseAction = {
      kind: 'canary-judge',
      points: ['AT_DEPLOYMENT_TICK'],
      name: 'canary-judge',
      description: "Reads the canary judge's stored verdict of the config rollout",
      function: tick.function,
      role: tick.role,
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

    this.cannotJudgeAlarm = cannotJudgeAlarm(props.tickHost ?? this, fn, props.notificationTopic);
  }

  /**
   * Grants the shared judge function `arns` for what only this service has (its log group, its own AppConfig
   * application). When `owner` is in the function's stack, the ARNs join the host's one statement for that kind (one
   * statement for all services: IAM's 10,240 characters per role hold fifty); otherwise they go in an `iam.Policy` in
   * this service's stack attached to the host's role, so the platform stack never references a service stack.
   */
  private grantOnHost(host: JudgeHost, owner: Construct, arns: string[], kind: 'logs' | 'appconfig'): void {
    if (Stack.of(owner) === Stack.of(host.function)) {
      host.addResources(kind, arns);
      return;
    }
    this.servicePolicy ??= new iam.Policy(this, 'Grants', { roles: [host.function.role as iam.IRole] });
    const actions = kind === 'logs' ? ['logs:StartQuery'] : JUDGE_APPCONFIG_READS;
    this.servicePolicy.addStatements(new iam.PolicyStatement({ actions, resources: arns }));
    for (const a of arns) {
      const text = nagText(Stack.of(this), a);
      if (text && a.endsWith('*'))
        Validations.of(this.servicePolicy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${text}]`,
          reason:
            kind === 'logs'
              ? "Scoped wildcard: the log streams of this service's log group (the canary judge's Logs Insights queries)."
              : "Scoped wildcard, read only: this service's own AppConfig application (its environments' deployments and its profiles' hosted versions, numbered by AppConfig).",
        });
    }
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
    this.settings[JUDGE_ENV.EVALUATION_LOG_GROUP] = evaluatorLogGroup.logGroupName;
    this.settings[JUDGE_ENV.EVALUATION_METRICS] = names.join(',');
    this.settings[JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS] = String(this.evaluationMaxWait.toSeconds());
    // A second query, on the evaluator's log group only (both ARN forms, as for the service's).
    const host = (JUDGE_HOSTS.get(this.hostScope) ?? []).find((h) => h.function === this.function);
    if (host) this.grantOnHost(host, evaluatorLogGroup, [arn, `${arn}:*`], 'logs');
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
/** The one cannot-judge alarm of each judge host, and the judge functions (shards) whose errors it sums. */
const CANNOT_JUDGE_ALARMS = new WeakMap<Construct, { alarm: cloudwatch.Alarm; functions: lambda.IFunction[]; topic?: sns.ITopic }>();

/**
 * The cannot-judge alarm of a judge host (issue 15-E: one per platform, not one per service): the judge's
 * cannot-judge metric under the host's Platform dimension (every service's failed updates, both planes) plus the
 * errors of every judge function of the host. It pages and never rolls back, so one alarm loses nothing a per-service
 * one gave: the judge's log line and its record judge/<service>/ name the service.
 */
function cannotJudgeAlarm(host: Construct, fn: lambda.IFunction, topic?: sns.ITopic): cloudwatch.Alarm {
  const known = CANNOT_JUDGE_ALARMS.get(host);
  if (known) {
    if (!known.functions.includes(fn)) known.functions.push(fn);
    if (topic && !known.topic) {
      known.alarm.addAlarmAction(new cwActions.SnsAction(topic));
      known.topic = topic;
    }
    return known.alarm;
  }
  const platform = namePrefix(host);
  const minute = Duration.minutes(1);
  const cannot = new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: JUDGE_METRIC.CANNOT_JUDGE,
    dimensionsMap: { [JUDGE_DIMENSION_PLATFORM]: platform },
    statistic: 'Maximum',
    period: minute,
  });
  const alarm = new cloudwatch.Alarm(host, 'CanaryJudgeCannotJudge', {
    // The platform's name prefix (a literal, also in a nested stack), which its topic policy allows.
    alarmName: physicalName('alarm', judgeCannotJudgeAlarmName(platform)),
    alarmDescription:
      'The canary judge could not judge a release in progress on this platform (its updates fail, its samples cannot be used, or a judge function errors). ' +
      "The release goes on, watched only by the fixed-threshold alarms; nothing rolls back on this alarm. The judge's log line and its record judge/<service>/ in the regression store name the service; " +
      `the metric ${METRIC_NAMESPACE}/${JUDGE_METRIC.CANNOT_JUDGE} with dimensions ${DIMENSION.SERVICE} and ${JUDGE_DIMENSION_PLANE} says which service and plane.`,
    metric: new cloudwatch.MathExpression({
      expression: 'FILL(cannot, 0) + FILL(errors, 0)',
      usingMetrics: { cannot, errors: fn.metricErrors({ period: minute, statistic: 'Sum' }) },
      period: minute,
      label: 'cannot judge',
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const entry: { alarm: cloudwatch.Alarm; functions: lambda.IFunction[]; topic?: sns.ITopic } = { alarm, functions: [fn], topic };
  CANNOT_JUDGE_ALARMS.set(host, entry);
  // A host with more than one judge function (more services than one judges): the errors of each, rendered at synth
  // (the L2 alarm renders its metric when it is built, before the later functions exist).
  const stack = Stack.of(host);
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  cfn.metrics = Lazy.any({
    produce: () => {
      const errors = entry.functions.map((f, i) => ({
        id: i === 0 ? 'errors' : `errors${i + 1}`,
        metricStat: {
          metric: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: [{ name: 'FunctionName', value: f.functionName }] },
          period: 60,
          stat: 'Sum',
        },
        returnData: false,
      }));
      return stack.resolve([
        { id: 'expr_1', expression: ['FILL(cannot, 0)', ...errors.map((e) => `FILL(${e.id}, 0)`)].join(' + '), label: 'cannot judge', returnData: true },
        {
          id: 'cannot',
          metricStat: {
            metric: { namespace: METRIC_NAMESPACE, metricName: JUDGE_METRIC.CANNOT_JUDGE, dimensions: [{ name: JUDGE_DIMENSION_PLATFORM, value: platform }] },
            period: 60,
            stat: 'Maximum',
          },
          returnData: false,
        },
        ...errors,
      ]);
    },
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
 * Makes the judge's (shared) function the group's AfterAllowTraffic hook: names it in the alias's UpdatePolicy and
 * grants the group's role lambda:InvokeFunction on the function and its versions (`<arn>:*`), since
 * AWSCodeDeployRoleForLambdaLimited only invokes functions named CodeDeployHook_*. The hook finds the deployment's
 * service in the pointer the schedule leaves (judge/_deployments/<id>.json).
 */
export function attachPostHook(judge: CanaryJudge, group: codedeploy.LambdaDeploymentGroup): void {
  // Not group.addPostHook(fn): it grants the hook's role PutLifecycleEventHookExecutionStatus on this group, a
  // statement per service on the shared role that would also make the platform stack reference a service stack. The
  // host grants it once for the application's groups; here only the alias's UpdatePolicy names the hook.
  setAfterAllowTrafficHook(group, HOOK_NAMES.get(judge.function) ?? judge.function.functionName);
  const codeDeployRole = group.role;
  codeDeployRole.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [judge.function.functionArn, `${judge.function.functionArn}:*`] }),
  );
  const id = Stack.of(judge.function).getLogicalId(judge.function.node.defaultChild as CfnElement);
  Validations.of(group.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${id}.Arn>:*]`,
    reason:
      'CodeDeploy invokes the canary judge as the AfterAllowTraffic hook; the wildcard covers the versions and aliases of that one function (as LambdaDeploymentGroup.addPostHook grants it).',
  });
}

/** What the judge reads of an AppConfig application (its environments' rollouts, its profiles' version labels). */
const JUDGE_APPCONFIG_READS = ['appconfig:ListDeployments', 'appconfig:GetDeployment', 'appconfig:GetHostedConfigurationVersion'];

/** The one judge function of a host (a platform, or one judge), its grants, and the rule names it may be run by. */
interface JudgeHost {
  readonly function: lambda.Function;
  /** How many services this function judges. */
  services: number;
  /** Its capacity used, in units of JUDGE_CAPACITY_UNITS (judgeHost). */
  units: number;
  readonly bucket: s3.IBucket;
  /** The prefix of every schedule rule's name that may invoke the function (its one Lambda permission). */
  readonly rulePrefix: string;
  addResources(kind: 'logs' | 'appconfig', arns: readonly string[]): void;
  grantDeploymentGroups(group: codedeploy.ILambdaDeploymentGroup): void;
}
const JUDGE_HOSTS = new WeakMap<Construct, JudgeHost[]>();
/** The literal name of each host's judge function (the AfterAllowTraffic hook of every service of the host). */
const HOOK_NAMES = new WeakMap<lambda.IFunction, string>();

/**
 * A service's schedule rule name: `<host prefix>-judge-<service>` (EventBridge rule names: at most 64 of
 * `[.-_A-Za-z0-9]`, PutRule). The host prefix is the stack's name prefix when it is at most 17 characters, else its
 * first 8 and a hash: a service name has at most 40, so every name fits and every rule of one host shares the prefix.
 */
export function judgeRuleName(host: { readonly rulePrefix: string }, service: string): string {
  return checkedName('eventRule', `${host.rulePrefix}${service}`);
}

/**
 * Targets per schedule rule: "Each rule can have up to five (5) targets associated with it at one time" (EventBridge
 * API Reference, PutTargets; aws-cdk-lib's Rule refuses a sixth at synth).
 */
export const JUDGE_TARGETS_PER_RULE = 5;

/**
 * The name of a host's n-th shared schedule rule: `<host prefix>-judge-_schedule-<n>`. It starts with the host's rule
 * prefix (the judge function's one permission, `InvokedBySchedules`, matches `rule/<prefix>-judge-*`) and can never be
 * a service's own rule name (`<prefix>-judge-<service>`, service names `[a-z][a-z0-9-]*`, never a `_`): a stack that
 * moves from per-service rules to shared ones creates the new rules before it deletes the old ones, and CloudFormation
 * cannot create a custom-named rule under a name that still exists.
 */
export function judgeScheduleRuleName(host: { readonly rulePrefix: string }, n: number): string {
  return checkedName('eventRule', `${host.rulePrefix}_schedule-${n}`);
}

/** The shared schedule rules of each host (the flat layout), in order, with the services whose targets each carries. */
const SCHEDULE_GROUPS = new WeakMap<Construct, { rule: events.Rule; services: string[] }[]>();
/** What waits for every shared schedule rule of a host (the services' aliases): also the rules made after it. */
const SCHEDULE_DEPENDENTS = new WeakMap<Construct, Construct[]>();
/** The host whose shared schedule rules run a judge (absent: the judge has a rule of its own). */
const SCHEDULE_HOST_OF = new WeakMap<CanaryJudge, Construct>();

/**
 * The shared schedule rule a service of `scope` in the host's stack joins: the host's last one while it has fewer than
 * JUDGE_TARGETS_PER_RULE targets, else a new one (ids JudgeSchedule, JudgeSchedule2, ... under the host). One rule
 * instead of one per service: 15 services take 3 resources, not 15 (CloudFormation: 500 resources per stack).
 */
function scheduleRuleOf(scope: Construct, host: JudgeHost, service: string): events.Rule {
  const groups = SCHEDULE_GROUPS.get(scope) ?? [];
  SCHEDULE_GROUPS.set(scope, groups);
  let last = groups.at(-1);
  if (!last || last.services.length >= JUDGE_TARGETS_PER_RULE) {
    const n = groups.length + 1;
    const services: string[] = [];
    const rule = new events.Rule(scope, n === 1 ? 'JudgeSchedule' : `JudgeSchedule${n}`, {
      ruleName: judgeScheduleRuleName(host, n),
      description: Lazy.string({
        produce: () =>
          `Runs the canary judge every minute for ${services.join(', ')} (one target each, named by service); each exits at once unless a code deployment or a config rollout of its service is in progress`,
      }),
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    for (const d of SCHEDULE_DEPENDENTS.get(scope) ?? []) d.node.addDependency(rule);
    last = { rule, services };
    groups.push(last);
  }
  last.services.push(service);
  return last.rule;
}

/**
 * Makes `dependent` (a service's alias) wait for the rule that runs `judge` and, when that is a shared rule of the
 * host, for every shared rule of the host, those made later included: when services are added or removed, a service's
 * target can move from one shared rule to another, and no deployment must start while a rule of the host is still
 * being updated (for that minute the service could be judged twice, or not at all).
 */
export function dependOnSchedule(judge: CanaryJudge, dependent: Construct): void {
  dependent.node.addDependency(judge.schedule);
  const scope = SCHEDULE_HOST_OF.get(judge);
  if (!scope) return;
  for (const g of SCHEDULE_GROUPS.get(scope) ?? []) dependent.node.addDependency(g.rule);
  SCHEDULE_DEPENDENTS.set(scope, [...(SCHEDULE_DEPENDENTS.get(scope) ?? []), dependent]);
}

/**
 * Services per judge function when each is in another stack than the function (a nested stack, or a stack of its
 * own). IAM allows 10,240 characters of inline policies per role in total (IAM quotas, "Role policy size", the
 * aggregate of its inline policies; an AWS::IAM::Policy is one), and each service adds its log group (and, with an
 * application of its own, that application) to the role: measured about 550 characters per service with the service
 * in a stack of its own (its own Policy document), beside about 1,100 of the function's own statements
 * (bench/judge-policy-size.ts: 7,667 characters for 12 nested services). Twelve keep such a role under 8,200.
 */
export const SERVICES_PER_JUDGE_FUNCTION = 12;

/**
 * Services per judge function when they are in the function's own stack (the flat layout): their ARNs join the
 * role's statements, about 330 characters each (bench/judge-policy-size.ts; h8-gate measured 20 flat services on one
 * role, bench/RESULTS.md), so twenty keep the role under the same 8,200. A function's capacity is shared: a service in
 * its stack takes 1/20 of it, one in another stack 1/12, and a service joins the host's last function while it fits.
 */
export const SERVICES_PER_JUDGE_FUNCTION_SAME_STACK = 20;

/** A function's capacity in units: 60 = 12 × 5 = 20 × 3 (a service in another stack takes 5, one in its stack 3). */
const JUDGE_CAPACITY_UNITS = 60;
const unitsOf = (sameStack: boolean) => JUDGE_CAPACITY_UNITS / (sameStack ? SERVICES_PER_JUDGE_FUNCTION_SAME_STACK : SERVICES_PER_JUDGE_FUNCTION);

/**
 * The judge function a new service of `scope` joins: the host's last one while the service fits in its capacity
 * (SERVICES_PER_JUDGE_FUNCTION services in other stacks, SERVICES_PER_JUDGE_FUNCTION_SAME_STACK in its own), else a
 * new one (ids CanaryJudge, CanaryJudge2, ...: the first keeps the id it has with one service).
 */
function judgeHost(scope: Construct, bucket: s3.IBucket, sameStack: boolean): JudgeHost {
  const shards = JUDGE_HOSTS.get(scope) ?? [];
  const last = shards.at(-1);
  if (last && last.bucket !== bucket)
    throw new Error('every canary judge of one host must keep its records in the same bucket: the judge function writes one regression store');
  const units = unitsOf(sameStack);
  if (last && last.units + units <= JUDGE_CAPACITY_UNITS) {
    last.services++;
    last.units += units;
    return last;
  }
  const host = newJudgeHost(scope, bucket, shards.length + 1);
  host.units = units;
  JUDGE_HOSTS.set(scope, [...shards, host]);
  return host;
}

function newJudgeHost(scope: Construct, bucket: s3.IBucket, shard: number): JudgeHost {
  const suffix = shard === 1 ? '' : String(shard);
  const stack = Stack.of(scope);
  const prefix = shortPrefix(namePrefix(scope), 17);
  const functionName = physicalName('lambdaFunction', namePrefix(scope), `canary-judge${suffix ? `-${suffix}` : ''}`);
  const fn = libraryFunction(scope, `CanaryJudge${suffix}`, {
    handler: 'canary-judge',
    // A literal name: service stacks name it as the AfterAllowTraffic hook without a cross-stack reference.
    functionName,
    // The hook judges for the bound (at most 13 minutes), then answers; two minutes cover the last query and the
    // answer's retries. The hook's own bound is each service's (its settings), so the function has Lambda's maximum.
    timeout: Duration.minutes(15),
    description:
      'cdk-ai-release: the canary judge of every service on this platform (anytime-valid sequential tests of the new version against the stable one)',
    environment: { [LEARNING_ENV.BUCKET]: bucket.bucketName, [JUDGE_ENV.PLATFORM]: namePrefix(scope) },
  });
  // Lambda's own retries of asynchronous invocations (two by default) come only after a function error: a timeout,
  // running out of memory, or a failed init, since the handler catches everything else. For the schedule a retry
  // would run beside the next minute's invocation on the same record (read, judge, write: a window counted twice).
  // The AfterAllowTraffic hook is invoked asynchronously by CodeDeploy too; it answers before its timeout on every
  // path it handles, and a hook that crashes unanswered is failed by CodeDeploy at the hook's time limit (the
  // deployment rolls back). A retry would only repeat the crash, so none. The tick is synchronous: not affected.
  fn.configureAsyncInvoke({ retryAttempts: 0 });
  const rulePrefix = `${prefix}-judge-`;
  // One permission for every service's schedule rule: EventBridge invokes with the rule's ARN as aws:SourceArn, which
  // Lambda's resource policy matches with ArnLike (wildcards allowed), in this account only.
  fn.addPermission('InvokedBySchedules', {
    principal: new iam.ServicePrincipal('events.amazonaws.com'),
    action: 'lambda:InvokeFunction',
    sourceArn: stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${rulePrefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    sourceAccount: stack.account,
  });
  Validations.of(fn.node.findChild('InvokedBySchedules')).acknowledge({
    id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
    reason:
      "Not public: the service principal events.amazonaws.com with SourceAccount (the stack's account, Ref AWS::AccountId) and SourceArn (this platform's schedule rules, rule/<prefix>-judge-*); the rule's static check reads neither a pseudo parameter nor an Fn::Join as set.",
  });

  const startQuery = new iam.PolicyStatement({ actions: ['logs:StartQuery'] });
  const appConfigReads = new iam.PolicyStatement({ actions: JUDGE_APPCONFIG_READS });
  const groups = new iam.PolicyStatement({
    actions: ['codedeploy:ListDeployments', 'codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
  });
  const seen = new Set<string>();
  const once = (arn: string) => {
    const k = JSON.stringify(stack.resolve(arn));
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
  const statements = [
    // The Service Authorization Reference lists resource type log-group for GetQueryResults, but the request carries
    // only a query id, and how IAM matches a log group to it is not documented (grants scoped to the log group are
    // reported to fail). "*" works either way; it reads only results of queries whose id the caller holds, and the
    // judge's queries are started on the services' log groups only (StartQuery is scoped).
    new iam.PolicyStatement({ actions: ['logs:GetQueryResults'], resources: ['*'] }),
    // When the canary's traffic started (its AllowTraffic lifecycle event): read-only, and the Service Authorization
    // Reference lists no resource type for these two.
    new iam.PolicyStatement({ actions: ['codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets'], resources: ['*'] }),
    // PutMetricData has no resource type: allowed on "*" for the AiRelease namespace only.
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }),
    // The services' judge records (judge/<service>/...) and the deployment pointers (judge/_deployments/).
    new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`)] }),
    new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    // The share controllers' current records only (the release on traffic of an assigned config canary), read only.
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(shareRecordKey('*'))] }),
  ];
  for (const st of statements) fn.addToRolePolicy(st);
  let added = { logs: false, appconfig: false, groups: false };
  bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
  const host: JudgeHost = {
    function: fn,
    services: 1,
    units: 0,
    bucket,
    rulePrefix,
    addResources(kind, arns) {
      const st = kind === 'logs' ? startQuery : appConfigReads;
      const fresh = arns.filter(once);
      if (fresh.length === 0) return;
      st.addResources(...fresh);
      if (!added[kind]) fn.addToRolePolicy(st);
      added = { ...added, [kind]: true };
    },
    grantDeploymentGroups(group) {
      // Every deployment group of the group's CodeDeploy application (the platform's, shared by its services): the
      // schedule lists and reads them, the AfterAllowTraffic hook answers them (PutLifecycleEventHookExecutionStatus
      // is scoped to the deployment group, as CDK's addPostHook grants it).
      const arn = stack.formatArn({
        service: 'codedeploy',
        resource: 'deploymentgroup',
        resourceName: `${group.application.applicationName}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      if (!once(arn)) return;
      groups.addResources(arn);
      if (!added.groups) fn.addToRolePolicy(groups);
      added = { ...added, groups: true };
    },
  };
  const text = (v: string) => nagText(stack, v);
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
        "logs:GetQueryResults: the request names only a query id, and the queries are started on the services' log groups only; cloudwatch:PutMetricData (conditioned on the AiRelease namespace) and the read-only codedeploy:ListDeploymentTargets / BatchGetDeploymentTargets have no resource type; every other action is scoped.",
    },
    ...[
      [
        bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/*`),
        'Scoped wildcard: the judge records of the platform services (judge/<service>/<release>.json) and its deployment pointers.',
      ],
      [bucket.arnForObjects(shareRecordKey('*')), "Scoped wildcard, read only: each service's share-controller current record (share/<service>/current.json)."],
    ]
      .filter(([arn]) => text(arn))
      .map(([arn, reason]) => ({ id: `AwsSolutions-IAM5[Resource::${text(arn)}]`, reason })),
  );
  // The wildcards the services add (log streams, their AppConfig applications, the CodeDeploy application's groups),
  // acknowledged as they are printed once the resources are known.
  fn.node.addValidation({
    validate: () => {
      for (const arn of [...startQuery.resources, ...appConfigReads.resources, ...groups.resources]) {
        const t = arn.endsWith('*') ? text(arn) : undefined;
        if (t)
          Validations.of(fn).acknowledge({
            id: `AwsSolutions-IAM5[Resource::${t}]`,
            reason:
              'Scoped wildcard, read only but for hook answers: the log streams of a service log group, the sub-resources (environments, deployments, profiles, hosted versions: numbered by AppConfig) of an AppConfig application the library made, or the deployment groups of the platform CodeDeploy application.',
          });
      }
      return [];
    },
  });
  HOOK_NAMES.set(fn, functionName);
  return host;
}

/** Names `functionName` as the AfterAllowTraffic hook in the UpdatePolicy of the alias `group` deploys. */
function setAfterAllowTrafficHook(group: codedeploy.LambdaDeploymentGroup, functionName: string): void {
  const groupRef = (group.node.defaultChild as CfnResource).ref;
  const stack = Stack.of(group);
  const alias = stack.node
    .findAll()
    .filter((c): c is lambda.CfnAlias => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Lambda::Alias')
    .find((a) => a.cfnOptions.updatePolicy?.codeDeployLambdaAliasUpdate?.deploymentGroupName === groupRef);
  const update = alias?.cfnOptions.updatePolicy?.codeDeployLambdaAliasUpdate;
  if (!alias || !update) throw new Error(`attachPostHook: no alias in stack ${stack.stackName} is deployed by the deployment group ${group.node.path}`);
  if (Token.isUnresolved(update.afterAllowTrafficHook) && stack.resolve(update.afterAllowTrafficHook))
    throw new Error(`attachPostHook: the deployment group ${group.node.path} already has an AfterAllowTraffic hook`);
  alias.cfnOptions.updatePolicy = { ...alias.cfnOptions.updatePolicy, codeDeployLambdaAliasUpdate: { ...update, afterAllowTrafficHook: functionName } };
}
