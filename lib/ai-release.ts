import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, attachCustomSynthesis, CfnOutput, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  DEFAULT_STATIC_ANSWER,
  DEGRADE_FLAGS,
  GATE_ALIAS_NAME,
  METRIC,
  type ModelConfig,
  type OutputContractConfig,
  type JudgeTolerance,
  type ReleaseLocators,
} from '../lambda/shared/contract';
import { AiReleasePlatform } from './ai-release-platform';
import { AiServiceConfig, type ConnectGateOptions, type DegradeFlagState } from './config/ai-service-config';
import { renderCanaryCard } from './rollout/canary-card';
import { attachPostHook, CanaryJudge, type CanaryJudgeOptions } from './judge/canary-judge';
import { ConfigRollout } from './rollout/config-rollout';
import { ConfigShare, type ConfigShareProps } from './rollout/config-share';
import { claimServiceName } from './private/service-names';
import { namePrefix } from './private/physical-names';
import { platformRole } from './private/platform-role';
import { FALSE_FIRE_KINDS, releaseFalseFire, synthesizedRateAlarm, validateBaseRates, type BaseRates } from './rollout/false-fire';
import { ReleaseAlarms, synthesizedTiming, type ReleaseAlarmOptions } from './rollout/release-alarms';
import type { ReleaseConfigSource } from './config/release-config-source';
import { ReleaseManifestRecorder } from './config/release-manifest-recorder';
import { ReleaseReview } from './learning/release-review';
import { RegressionGate, type RegressionGateOptions } from './learning/regression-gate';
import {
  DEFAULT_POLICY_RULES,
  evaluatePolicy,
  judgeablePeriodSeconds,
  type PolicyResult,
  type PolicyWaiver,
  type ReleaseFacts,
  type ReleasePolicyRule,
} from './rollout/release-policy';
import { type CanaryPlanOptions, codeSteps, planCanary, planTolerance, schedulePower } from './rollout/canary-plan';
import { type ReleaseCost, releaseCost } from './rollout/release-cost';
import { buildCostGuard, type CostGuardOptions } from './rollout/cost-guard';
import { buildReleaseDashboard } from './rollout/release-dashboard';
import { TrafficShift } from './rollout/traffic-shift';
import { DEFAULT_TIMING, formatSeconds, planeWorstCase, type PlaneWorstCase, type TimingAssumptions } from './rollout/worst-case';
import type { ReleaseEvaluator } from './learning/release-evaluator';
import type { EvaluationConfig } from '../lambda/shared/evaluation';

/** How long the config deployer waits for the regression gate's report on a new config version. */
export const CONFIG_GATE_TIMEOUT = Duration.minutes(5);

/** The order a release that changes both planes rolls them out in, one at a time (see AiRelease). */
export const PLANE_ORDER: readonly ('code' | 'config')[] = ['code', 'config'];

export interface AiReleaseProps {
  /** The service's name: lower-case letters, digits and dashes, at most 40 characters. */
  readonly serviceName: string;
  /** The service's function. Callers invoke its `live` alias (`release.alias`). */
  readonly function: lambda.Function;
  /** The release config: prompt, model, retrieval, tools, output contract. */
  readonly config: ReleaseConfigSource;
  /**
   * How a new code version takes traffic.
   * @default TrafficShift.CANARY_10_PERCENT_5_MINUTES
   */
  readonly trafficShift?: TrafficShift;
  /**
   * How a new config version reaches clients.
   * @default ConfigRollout.DEFAULT
   */
  readonly configRollout?: ConfigRollout;
  /** @default every degrade switch off */
  readonly degrade?: DegradeFlagState;
  /** Thresholds and windows of the release alarms. @default see ReleaseAlarmOptions */
  readonly alarms?: ReleaseAlarmOptions;
  /**
   * The longest acceptable worst case from a fault's first bad request to rollback start. Synth fails above it.
   * @default Duration.minutes(10)
   */
  readonly rollbackBudget?: Duration;
  /** Delays the worst case assumes. @default DEFAULT_TIMING */
  readonly timing?: TimingAssumptions;
  /**
   * The service's typical traffic, requests per second. When given, the release policy checks that the first canary
   * step can be judged (on average at least twice `alarms.minInvocations` per alarm period), and when
   * `alarms.period` is not given, the shortest alarm period that meets it is chosen.
   * @default not stated: the check is skipped, alarms use 10-second periods, and the card says so
   */
  readonly expectedRequestsPerSecond?: number;
  /**
   * The fraction of requests that fail in each way on a GOOD release. With `expectedRequestsPerSecond`, the release
   * policy computes each fixed-threshold count alarm's chance of rolling back a good release (closed form,
   * lib/rollout/false-fire.ts) and warns above 1 % per release (`falseFireRule({ severity: 'error' })` refuses instead).
   * @default { errorRate: 0.01, safetyRate: 0.001, contractRate: 0.005 }
   */
  readonly baseRates?: BaseRates;
  /** Who owns the service (on the strategy card). @default none */
  readonly owner?: string;
  /** Who is paged (on the strategy card). @default none */
  readonly onCall?: string;
  /** Release policy rules. @default DEFAULT_POLICY_RULES */
  readonly policyRules?: readonly ReleasePolicyRule[];
  /** Rules set aside for this service, each with a written reason. @default none */
  readonly policyWaivers?: readonly PolicyWaiver[];
  /** The AppConfig Lambda extension layer for the function's region and architecture. @default none (data API) */
  readonly appConfigExtensionLayer?: lambda.ILayerVersion;
  /** Let the function call Bedrock models and guardrails (see AiServiceConfig.grantInvokeModels). @default true */
  readonly grantBedrock?: boolean;
  /**
   * Grant the function exactly the IAM permissions the tools of the release config declare
   * (`tools.tools[].permissions`; see AiServiceConfig.grantToolPermissions). Turn off to grant tool access yourself.
   * @default true
   */
  readonly grantToolPermissions?: boolean;
  /** @default AiReleasePlatform.of(this) */
  readonly platform?: AiReleasePlatform;
  /**
   * Graded degradation: a cost-guard alarm on the service's cost per request triggers a small function that deploys
   * the degrade flags with `useFallbackModel` on (AppConfig StartDeployment, instant strategy). Needs `model.fallback`.
   * @default off
   */
  readonly costGuard?: CostGuardOptions;
  /**
   * A review (复盘) of every release on either plane, written to the regression store and announced on the topic
   * (see ReleaseReview). Set to false to turn it off.
   * @default true
   */
  readonly releaseReview?: boolean;
  /** Where reviews are written. @default the platform's regression store */
  readonly reviewBucket?: s3.IBucket;
  /**
   * Collect the service's failure records into the platform's regression store: a subscription filter on the
   * function's log group (`function.logGroup`) delivers them to the platform's snapshot function. CloudWatch Logs
   * allows 2 subscription filters per log group; turn this off where both are taken.
   * @default true
   */
  readonly snapshots?: boolean;
  /**
   * Score sampled answers with the platform's evaluator when the release config has an `evaluation` section: a
   * second subscription filter on the function's log group (samples only) feeds it. Set false to keep the section
   * (it is still versioned and diffed) without the evaluator, e.g. where the log group's second filter is taken.
   * @default true
   */
  readonly evaluation?: boolean;
  /**
   * The regression gate: the accepted regression cases are replayed against every new code version before it gets
   * traffic (the deployment group's BeforeAllowTraffic hook), and against candidate configs through the `gate` alias.
   * `false` turns it off, which the release policy refuses unless waived (`policyWaivers: [{ rule: 'regression-gate', reason }]`).
   * @default true (RegressionGate defaults)
   */
  readonly regressionGate?: boolean | RegressionGateOptions;
  /**
   * The statistical canary judge (CanaryJudge): judges the new version against the stable one while a code deployment
   * runs, after full traffic (the AfterAllowTraffic hook) and at each config deployment tick; its verdict alarms join
   * each plane's rollback alarms. Set to false to turn it off.
   * @default on, with CanaryJudgeOptions' defaults
   */
  readonly canaryJudge?: boolean | CanaryJudgeOptions;
  /**
   * How a new config version reaches traffic during its canary.
   * - `'appconfig'`: AppConfig's rollout strategy (`configRollout`), per client (execution environment): the share of
   *   requests on the new config is neither known nor randomized, and a conversation can switch configs mid-dialogue.
   * - `'assigned'` (or its options): the runtime assigns each conversation to live or candidate by a keyed hash with a
   *   share the share controller moves step by step (ConfigShare); rollback is share 0 at the next poll.
   * @default 'appconfig' — until the config deployer hands a gated version to the share controller (see
   *   docs/config-canary.md, "Wiring the deployer"), 'assigned' sets up the runtime, the switch and the
   *   controller, and a release is started with the controller's start event
   */
  readonly configCanary?: 'appconfig' | 'assigned' | AssignedConfigCanaryOptions;
  /**
   * The canary plan (issue 16 D): with `expectedRequestsPerSecond` and the canary judge on, the schedule that gives the
   * judge `power` against each minimum regression before full rollout is computed at synth and shown on the card, and
   * the release policy warns (rule `canary-reaches-planned-power`) when `trafficShift` does not reach it. The base
   * error rate is `baseRates.errorRate`.
   * @default { power: 0.9, maxMinutes: 60, maxFirstStepPercent: 10, minRegressions: errors x2, p50 +20 %, quality -0.05 }
   */
  readonly canaryPlan?: CanaryPlanProps;
}

/** What the canary plan must catch, and how the traffic looks beyond its rate. */
export interface CanaryPlanProps extends CanaryPlanOptions {
  /** σ of log latency (0.5 puts p90 at 1.9 × p50). @default 0.5 */
  readonly latencyLogSigma?: number;
  /** Standard deviation of the quality score. @default 0.1 */
  readonly qualitySd?: number;
  /** Share of requests carrying a quality score. @default 1 */
  readonly qualityCoverage?: number;
  /**
   * Failing requests per failing input (callers' retries of one input): the judge counts a cluster once, so the plan
   * bets on errorRate / meanClusterSize events per request. 1: independent failures.
   * @default 1
   */
  readonly meanClusterSize?: number;
}

/** Options of an assigned config canary (AiReleaseProps.configCanary). */
export type AssignedConfigCanaryOptions = Pick<ConfigShareProps, 'schedule' | 'clientLag'>;

// The cost guard's options live with the cost guard; re-exported here, where they always were.
export type { CostGuardOptions } from './rollout/cost-guard';

/**
 * One AI service, released under control: versioned config (AppConfig), a canaried `live` alias (CodeDeploy), release
 * alarms on the runtime's high-resolution metrics, automatic rollback on both planes, a dashboard, the release
 * manifest and the canary strategy card — with the worst case from a bad request to rollback computed at synth and
 * held to the rollback budget.
 */
export class AiRelease extends Construct {
  public readonly serviceName: string;
  public readonly config: AiServiceConfig;
  public readonly alias: lambda.Alias;
  /**
   * The `gate` alias: the same version as `live` (not shifted by CodeDeploy), through which the runtime reads the
   * candidate config environment. Only the gate function may invoke it (connectConfigGate).
   */
  public readonly gateAlias: lambda.Alias;
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  public readonly alarms: ReleaseAlarms;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly manifest: ReleaseManifestRecorder;
  public readonly trafficShift: TrafficShift;
  private readonly props: AiReleaseProps;
  private readonly budgetSeconds: number;
  private readonly periodFromTraffic: boolean;
  /** File name of the strategy card in the cloud assembly. */
  public readonly cardFileName: string;
  /** The cost guard function and its alarm, when `costGuard` is set. */
  public readonly costGuard?: { readonly function: lambda.Function; readonly alarm: cloudwatch.Alarm; readonly maxCostPerRequestUsd: number };
  /** The release review of this service, unless turned off. */
  public readonly review?: ReleaseReview;
  /** The regression gate (the pre-traffic hook; the config plane invokes its function with a ConfigGateRequest). */
  public readonly regressionGate?: RegressionGate;
  /** The canary judge of this service, unless turned off. */
  public readonly canaryJudge?: CanaryJudge;
  /** The platform's evaluator, when this service's release config has an `evaluation` section. */
  public readonly evaluator?: ReleaseEvaluator;
  /** The assigned config canary's switch and controller, when `configCanary` is 'assigned'. */
  public readonly configShare?: ConfigShare;

  constructor(scope: Construct, id: string, props: AiReleaseProps) {
    super(scope, id);
    const platform = props.platform ?? AiReleasePlatform.of(this);
    const stack = Stack.of(this);
    this.serviceName = props.serviceName;
    claimServiceName(this, props.serviceName);
    this.trafficShift = props.trafficShift ?? TrafficShift.CANARY_10_PERCENT_5_MINUTES;
    const budget = props.rollbackBudget ?? Duration.minutes(10);
    const budgetSeconds = budget.toSeconds({ integral: false });
    if (budgetSeconds < 30 || budgetSeconds > 3600) {
      throw new Error(`rollbackBudget must be between 30 seconds and 1 hour, got ${budget.toHumanString()}; the seed's promise is 10 minutes`);
    }

    this.config = new AiServiceConfig(this, 'Config', {
      serviceName: props.serviceName,
      source: props.config,
      platform,
      rollout: props.configRollout,
      degrade: props.degrade,
    });
    this.config.bind(props.function, { appConfigExtensionLayer: props.appConfigExtensionLayer });
    if (props.grantBedrock ?? true) this.config.grantInvokeModels(props.function);
    if (props.grantToolPermissions ?? true) this.config.grantToolPermissions(props.function);

    // Code plane: callers use `live`; CodeDeploy moves it between versions.
    const version = props.function.currentVersion;
    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version,
      description: `${props.serviceName}: the version callers get; CodeDeploy shifts it`,
    });

    // The config gate replays cases through this alias (README "Config gate"). No grant here: connectConfigGate
    // lets the gate function, and nothing else, invoke it.
    this.gateAlias = new lambda.Alias(this, 'GateAlias', {
      aliasName: GATE_ALIAS_NAME,
      version,
      description: `${props.serviceName}: the config gate's replays only (reads the candidate config environment)`,
    });

    const model = this.config.config.model as ModelConfig;
    const contract = this.config.config.outputContract as OutputContractConfig;
    // A canary that can really be judged: with the traffic stated and no period given, the shortest period at which
    // the first canary step averages twice the invocation guard (the worst case follows from what is synthesized).
    if (props.expectedRequestsPerSecond !== undefined) positiveRps(props.expectedRequestsPerSecond);
    validateBaseRates(props.baseRates);
    const chosenPeriod =
      props.alarms?.period === undefined && props.expectedRequestsPerSecond !== undefined && this.trafficShift.steps.length >= 2
        ? Duration.seconds(judgeablePeriodSeconds(props.expectedRequestsPerSecond, this.trafficShift.firstStepPercent, props.alarms?.minInvocations ?? 5))
        : undefined;
    this.periodFromTraffic = chosenPeriod !== undefined;
    this.alarms = new ReleaseAlarms(this, 'Alarms', {
      serviceName: props.serviceName,
      version: version.version,
      configDefaults: { maxCostPerRequestUsd: model.maxCostPerRequestUsd, qualityFloor: contract.qualityFloor },
      // Named from the platform's stack: its topic policy and reviewer allow alarms `<its prefix>-*` (physical-names.ts).
      namePrefix: namePrefix(platform),
      runbookHint: `dashboard ${namePrefix(platform)}-${props.serviceName}`,
      judgeVerdict: props.canaryJudge !== false,
      ...props.alarms,
      ...(chosenPeriod ? { period: chosenPeriod } : {}),
    });
    const codeAlarms = this.alarms.byPlane('code');
    const groupAlarms = [...codeAlarms, ...this.alarms.verdictAlarms.filter((v) => v.plane === 'code')].map((a) => a.alarm);
    if (groupAlarms.length > 10) throw new Error(`CodeDeploy takes at most 10 alarms per deployment group, got ${groupAlarms.length}`);

    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      application: platform.codeDeployApplication,
      alias: this.alias,
      deploymentConfig: this.trafficShift.bind(platform),
      alarms: groupAlarms,
      role: platformRole(this, platform.codeDeployRole),
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    // The alarms watch `Version = <new version>`: CloudFormation must update them before the alias update starts the
    // canary, or the first minutes of a canary would be judged by alarms still watching the old version.
    // The deployment group names its alarms by literal name, which carries no dependency: add it.
    this.alias.node.addDependency(...codeAlarms.map((a) => a.alarm));
    this.deploymentGroup.node.addDependency(...codeAlarms.map((a) => a.alarm));

    // One plane at a time: code first, then config. The alias update returns only when CodeDeploy has finished the
    // canary (CodeDeployLambdaAliasUpdate), and the config deployment waits for it, so each plane's alarms judge one
    // change. A failed canary fails the alias update before the config starts; a config rolled back by its alarms
    // fails the config deployment, and CloudFormation's rollback takes the alias back and redeploys the previous
    // config (ReleaseConfigDeployment). A config-only release has no alias change and starts at once.
    this.config.deployment.node.addDependency(this.alias);
    // The gate replays the candidate config on the release's code: the gate alias is on the new version first.
    this.config.deployment.node.addDependency(this.gateAlias);

    // Config plane: one composite alarm over the service-wide alarms is the AppConfig monitor.
    this.config.addMonitor(this.alarms.configComposite);
    this.alarms.anyComposite.addAlarmAction(new cwActions.SnsAction(platform.notificationTopic));

    if (props.costGuard) this.costGuard = buildCostGuard(this, this, platform, stack, props.costGuard, props.config);

    // Config canaries assigned per conversation (issue 16 C): the switch lives in its own AppConfig environment and the
    // controller rolls back on the same composite the AppConfig monitor uses, so both paths answer the same alarms.
    const canary = props.configCanary ?? 'appconfig';
    if (canary !== 'appconfig' && canary !== 'assigned' && (typeof canary !== 'object' || canary === null)) {
      throw new Error(`configCanary must be 'appconfig', 'assigned' or the assigned canary's options, got ${JSON.stringify(canary)}`);
    }
    if (canary !== 'appconfig') {
      this.configShare = new ConfigShare(this, 'ConfigShare', {
        platform,
        config: this.config,
        alarms: [this.alarms.configComposite],
        bucket: platform.regressionStore.bucket,
        ...(typeof canary === 'object' ? canary : {}),
      });
      this.configShare.bind(props.function, { extension: props.appConfigExtensionLayer !== undefined });
    }

    // The canary judge: the schedule judges both planes and publishes its verdict (the verdict alarms above roll back;
    // the config tick reads the stored verdict),
    // and after full traffic the AfterAllowTraffic hook judges on and fails the deployment on a regression.
    if (props.canaryJudge !== false) {
      this.canaryJudge = new CanaryJudge(this, 'CanaryJudge', {
        ...(typeof props.canaryJudge === 'object' ? props.canaryJudge : {}),
        tolerance: this.judgeTolerance(props),
        serviceName: props.serviceName,
        logGroup: props.function.logGroup,
        bucket: platform.regressionStore.bucket,
        deploymentGroup: this.deploymentGroup,
        appConfigApplicationId: this.config.applicationId,
        configProfileId: this.config.profile.ref,
        environment: this.config.environment,
        period: this.alarms.period,
        configUnit: (props.configCanary ?? 'appconfig') === 'appconfig' ? 'request' : 'cluster',
        tickHost: platform,
        notificationTopic: platform.notificationTopic,
      });
      attachPostHook(this.canaryJudge, this.deploymentGroup);
      // As for the regression gate: CloudFormation must update the hook (its code, role and role policy) and the
      // CodeDeploy role's policy that lets CodeDeploy invoke it before the alias update starts the deployment.
      this.alias.node.addDependency(this.canaryJudge.function, platformRole(this, platform.codeDeployRole));
      // The first config release is judged too: the tick association exists before it starts.
      this.config.deployment.node.addDependency(this.canaryJudge.association);
    }

    // Learning half: failure records become regression case candidates (RegressionStore).
    if (props.snapshots ?? true) platform.regressionStore.subscribe(this, props.function.logGroup);
    // Quality measured, not self-reported: sampled answers go to the platform's evaluator, scored with the live
    // (stable) rubric; low scores come back as regression-case candidates.
    const evaluation = this.config.config.evaluation as EvaluationConfig | undefined;
    if (evaluation && (props.evaluation ?? true)) {
      this.evaluator = platform.evaluator;
      this.evaluator.addService(this, {
        serviceName: props.serviceName,
        logGroup: props.function.logGroup,
        function: props.function,
        liveAlias: this.alias,
        appConfig: { applicationId: this.config.applicationId, environmentId: this.config.environment.ref, profileId: this.config.profile.ref },
        evaluatorModelIds: [evaluation.evaluatorModel.modelId],
      });
    }

    // No version reaches traffic unpassed: the gate is the pre-traffic hook. CloudFormation must update the gate (its
    // code, environment and role policy) before the alias update starts the deployment that invokes it.
    if (props.regressionGate !== false) {
      this.regressionGate = new RegressionGate(this, 'Gate', {
        serviceName: props.serviceName,
        function: props.function,
        bucket: platform.regressionStore.bucket,
        deploymentGroup: this.deploymentGroup,
        ...(typeof props.regressionGate === 'object' ? props.regressionGate : {}),
      });
      this.alias.node.addDependency(this.regressionGate.function);
      // The same function gates the config plane: candidate config, replay through the `gate` alias, then live. Its
      // share of the deployer's 12-minute budget is bounded here; the request tells it when to stop (answerBy).
      // (RegressionGate already lets it invoke every qualifier of the function, the gate alias included.)
      this.wireConfigGate(this.regressionGate.function, { timeout: CONFIG_GATE_TIMEOUT });
      // It replays versions and the gate alias, never the callers' alias: their traffic and alarms are not its to touch.
      // (Named from the function, not the alias resource: the alias already depends on the gate.)
      this.regressionGate.function.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['lambda:InvokeFunction'],
          resources: [`${props.function.functionArn}:${this.alias.aliasName}`],
        }),
      );
    }

    // Every release gets its review: the end of a code deployment (EventBridge) or of a config deployment (AppConfig
    // extension) writes reviews/<service>/<release>.json|.md|.svg to the regression store.
    if (props.releaseReview ?? true) {
      this.review = new ReleaseReview(this, 'Review', {
        serviceName: props.serviceName,
        bucket: props.reviewBucket ?? platform.regressionStore.bucket,
        deploymentGroup: this.deploymentGroup,
        environment: this.config.environment,
        platform,
      });
      // The first config release (at stack creation) is reviewed too: the association exists before it starts.
      this.config.deployment.node.addDependency(this.review.association);
      // A release the config gate stops never deploys live, so the deployer asks the reviewer for its review.
      this.config.deployment.connectReview(this.review.function);
    }
    // The deployer marks each CloudFormation request it takes in the platform's store (If-None-Match), so a repeated
    // delivery follows the first instead of gating and starting again; only where the store exists anyway.
    if ((props.snapshots ?? true) || props.canaryJudge !== false || (this.review !== undefined && props.reviewBucket === undefined)) {
      this.config.deployment.connectMarkers(platform.regressionStore.bucket);
    }

    this.props = props;
    this.budgetSeconds = budgetSeconds;
    // Policy violations fail synth, every message at once. Evaluated at synth, from the alarms as synthesized.
    let announced = false;
    this.node.addValidation({
      validate: () => {
        const policy = this.policy;
        if (!announced) {
          announced = true;
          for (const w of policy.waived)
            Annotations.of(this).addWarningV2(`cdk-ai-release:waived-${w.rule}`, `release policy "${w.rule}" waived for ${props.serviceName}: ${w.reason}`);
          (policy.warnings ?? []).forEach((w, i) =>
            Annotations.of(this).addWarningV2(`cdk-ai-release:${w.rule}-${i}`, `release policy "${w.rule}" (service ${props.serviceName}): ${w.message}`),
          );
          const wc = this.worstCase;
          Annotations.of(this).addInfo(
            `${props.serviceName}: worst case from a first bad request to rollback start: code ${formatSeconds(wc.code.seconds)}, config ${formatSeconds(wc.config.seconds)} (budget ${formatSeconds(budgetSeconds)})`,
          );
        }
        return policy.violations.map((v) => `release policy "${v.rule}" (service ${props.serviceName}): ${v.message}`);
      },
    });

    this.manifest = new ReleaseManifestRecorder(this, 'Manifest', {
      config: this.config,
      function: props.function,
      // Getters: read when the manifest is computed, at synth, from the alarms as synthesized.
      facts: Object.defineProperties(
        {
          trafficShift: this.trafficShift.describe(),
          rollbackBudgetSeconds: budgetSeconds,
          rolloutOrder: `${PLANE_ORDER.join(', then ')}, one at a time`,
          ...degradeFacts(this.config.degradeState),
          ...(props.owner ? { owner: props.owner } : {}),
        } as Record<string, string | number | boolean>,
        {
          worstCaseCodeSeconds: { enumerable: true, get: () => this.worstCase.code.seconds },
          worstCaseConfigSeconds: { enumerable: true, get: () => this.worstCase.config.seconds },
        },
      ),
      locators: this.locators(platform, props),
    });

    this.dashboard = buildReleaseDashboard(this, this, namePrefix(platform));

    new CfnOutput(this, 'LiveAliasArn', { value: this.alias.functionArn, description: `${props.serviceName}: invoke this (the live alias), not the function` });

    this.cardFileName = `${props.serviceName}.canary-card.md`;
    attachCustomSynthesis(this, {
      onSynthesize: (session) => {
        const facts = this.facts;
        fs.writeFileSync(
          path.join(session.outdir, this.cardFileName),
          renderCanaryCard(facts, evaluatePolicy(facts, props.policyRules ?? DEFAULT_POLICY_RULES)),
        );
      },
    });
  }

  /**
   * Gates this service's config releases with a regression gate function (README "Config gate"): lets it, and only
   * it, invoke the `gate` alias, and connects it to the config plane (candidate stage, replay, live rollout only on a
   * passing report; the live environment refuses unpassed versions).
   */
  public connectConfigGate(gate: lambda.IFunction, options: ConnectGateOptions = {}): void {
    this.wireConfigGate(gate, options);
    this.gateAlias.grantInvoke(gate);
  }

  private wireConfigGate(gate: lambda.IFunction, options: ConnectGateOptions): void {
    this.config.connectGate(gate, options);
    // The gate may invoke the alias before the deployer asks it to (its role's policy is a child of the function).
    this.config.deployment.node.addDependency(gate);
  }

  /**
   * Worst case from a first bad request to rollback start, per plane, computed from the alarms as they will be
   * synthesized (escape-hatch edits included).
   */
  public get worstCase(): { readonly code: PlaneWorstCase; readonly config: PlaneWorstCase } {
    return {
      code: planeWorstCase(
        'code',
        this.alarms.byPlane('code').map((a) => synthesizedTiming(a.alarm)),
        this.props.timing,
      ),
      config: planeWorstCase(
        'config',
        this.alarms.byPlane('config').map((a) => synthesizedTiming(a.alarm)),
        this.props.timing,
      ),
    };
  }

  /** What this release is, as the policy and the strategy card see it. */
  public get facts(): ReleaseFacts {
    const props = this.props;
    const rollout = this.config.rollout;
    const codeAlarms = this.alarms.byPlane('code');
    return {
      serviceName: props.serviceName,
      stackName: Stack.of(this).stackName,
      owner: props.owner,
      onCall: props.onCall,
      code: { describe: this.trafficShift.describe(), firstStepPercent: this.trafficShift.firstStepPercent, steps: this.trafficShift.steps },
      config: {
        describe: rollout.describe(),
        firstStepPercent: rollout.steps[0],
        steps: rollout.steps,
        stepIntervalSeconds: rollout.stepIntervalSeconds,
        finalBakeMinutes: rollout.finalBakeMinutes,
      },
      alarms: this.alarms.alarms.map((a) => ({
        kind: a.kind,
        plane: a.plane,
        name: a.alarm.node.id,
        watches: a.watches,
        comparison: a.comparison,
        threshold: a.threshold,
        unit: a.unit,
      })),
      verdictAlarms: this.alarms.verdictAlarms.map((v) => ({ plane: v.plane, name: v.alarm.node.id })),
      alarmWindow: { ...pick(synthesizedTiming(codeAlarms[0].alarm)), minInvocations: this.alarms.minInvocations, periodFromTraffic: this.periodFromTraffic },
      worstCase: this.worstCase,
      timing: { ...DEFAULT_TIMING, ...props.timing },
      planeOrder: PLANE_ORDER,
      rollbackBudgetSeconds: this.budgetSeconds,
      degrade: {
        switches: Object.values(DEGRADE_FLAGS),
        state: degradeState(this.config.degradeState),
        staticAnswerMessage: this.config.degradeState.staticAnswerMessage ?? DEFAULT_STATIC_ANSWER,
        application: this.config.application.name,
        environment: `${props.serviceName}-degrade`,
        profile: `${props.serviceName}-degrade`,
        ...(this.costGuard ? { costGuardMaxCostPerRequestUsd: this.costGuard.maxCostPerRequestUsd } : {}),
      },
      waivers: props.policyWaivers ?? [],
      regressionGate: this.regressionGate !== undefined,
      ...(props.expectedRequestsPerSecond !== undefined
        ? { expectedRequestsPerSecond: props.expectedRequestsPerSecond, falseFire: this.falseFireAt(props.expectedRequestsPerSecond) }
        : {}),
      ...(this.canaryPlanFacts ? { canaryPlan: this.canaryPlanFacts } : {}),
      ...(props.expectedRequestsPerSecond !== undefined ? { releaseCost: this.releaseCostAt(props.expectedRequestsPerSecond) } : {}),
      models: this.config.modelFindings,
    };
  }

  /**
   * What the release machinery adds per month at `requestsPerSecond` (issue 16 E), counted from the alarms as
   * synthesized under this construct (each metric of a metric-math alarm counts; periods under 60 s are high resolution).
   */
  public releaseCostAt(requestsPerSecond: number): ReleaseCost {
    let high = 0;
    let standard = 0;
    let composite = 0;
    for (const c of this.node.findAll()) {
      if (!CfnResource.isCfnResource(c)) continue;
      if (c.cfnResourceType === 'AWS::CloudWatch::CompositeAlarm') composite++;
      if (c.cfnResourceType !== 'AWS::CloudWatch::Alarm') continue;
      const a = c as cloudwatch.CfnAlarm;
      const queries = Array.isArray(a.metrics) ? (a.metrics as cloudwatch.CfnAlarm.MetricDataQueryProperty[]) : [];
      const stats = queries.map((q) => q.metricStat as cloudwatch.CfnAlarm.MetricStatProperty | undefined).filter((m) => m !== undefined);
      const periods = stats.length > 0 ? stats.map((m) => Number(m.period)) : [Number(a.period ?? 60)];
      for (const period of periods)
        if (period < 60) high++;
        else standard++;
    }
    return releaseCost({
      requestsPerSecond,
      highResolutionAlarmMetrics: high,
      standardAlarmMetrics: standard,
      compositeAlarms: composite,
      metricNames: Object.keys(METRIC).length,
    });
  }

  /** The judge's value tolerance: as stated in canaryJudge, else half of the canary plan's minimum regressions. */
  private judgeTolerance(props: AiReleaseProps): JudgeTolerance {
    const stated = typeof props.canaryJudge === 'object' ? props.canaryJudge.tolerance : undefined;
    return { ...planTolerance(props.canaryPlan?.minRegressions), ...stated };
  }

  private plannedCache?: ReleaseFacts['canaryPlan'] | null;
  /** The canary plan at the stated traffic, computed once (about 50 ms), when the traffic is stated and the judge is on. */
  private get canaryPlanFacts(): ReleaseFacts['canaryPlan'] {
    if (this.plannedCache !== undefined) return this.plannedCache ?? undefined;
    const props = this.props;
    if (props.expectedRequestsPerSecond === undefined || props.canaryJudge === false) {
      this.plannedCache = null;
      return undefined;
    }
    const cp = props.canaryPlan ?? {};
    const traffic = {
      requestsPerSecond: props.expectedRequestsPerSecond,
      errorRate: props.baseRates?.errorRate ?? 0.01,
      ...(cp.latencyLogSigma !== undefined ? { latencyLogSigma: cp.latencyLogSigma } : {}),
      ...(cp.qualitySd !== undefined ? { qualitySd: cp.qualitySd } : {}),
      ...(cp.qualityCoverage !== undefined ? { qualityCoverage: cp.qualityCoverage } : {}),
      ...(cp.meanClusterSize !== undefined ? { meanClusterSize: cp.meanClusterSize } : {}),
    };
    // The judge's α sets the threshold the plan must reach.
    const alpha = typeof props.canaryJudge === 'object' ? props.canaryJudge.alpha : undefined;
    const options: CanaryPlanOptions = { ...cp, judge: { ...cp.judge, ...(alpha !== undefined ? { alpha } : {}), tolerance: this.judgeTolerance(props) } };
    const ts = this.trafficShift;
    const steps = ts.kind === 'all-at-once' ? [] : codeSteps(ts.kind, ts.firstStepPercent, ts.intervalMinutes);
    const share = this.configShare?.schedule;
    const configSteps = share?.map((x) => ({ share: x.percent / 100, minutes: x.holdSeconds / 60 }));
    this.plannedCache = {
      traffic,
      plan: planCanary(traffic, options),
      current: { ...schedulePower(steps, traffic, options), describe: ts.describe() },
      ...(share && configSteps
        ? {
            configCurrent: {
              ...schedulePower(configSteps, traffic, options),
              describe: `assigned share ${share.map((x) => `${x.percent} % for ${x.holdSeconds} s`).join(', then ')}`,
            },
          }
        : {}),
    };
    return this.plannedCache;
  }

  /** Where the deployed parts are, for the CLI (deploy-time names and ids; see ReleaseLocators). */
  private locators(platform: AiReleasePlatform, props: AiReleaseProps): ReleaseLocators {
    // The store exists when snapshots or reviews use it; reading `platform.regressionStore` otherwise would create one.
    const usesStore = (props.snapshots ?? true) || (this.review !== undefined && props.reviewBucket === undefined);
    return {
      stack: namePrefix(platform),
      function: props.function.functionName,
      alias: this.alias.aliasName,
      codeDeploy: { application: this.deploymentGroup.application.applicationName, deploymentGroup: this.deploymentGroup.deploymentGroupName },
      appConfig: {
        application: this.config.applicationId,
        environment: this.config.environmentId,
        profile: this.config.profile.ref,
        degradeEnvironment: this.config.degradeEnvironmentId,
        degradeProfile: this.config.degradeProfile.ref,
        instantStrategy: platform.strategyFor(ConfigRollout.INSTANT).ref,
      },
      ...(usesStore ? { store: platform.regressionStore.bucket.bucketName } : {}),
      ...(this.review && props.reviewBucket ? { reviews: props.reviewBucket.bucketName } : {}),
    };
  }

  /** The count alarms' false-fire chances on a good release at `requestsPerSecond`, from the alarms as synthesized. */
  public falseFireAt(requestsPerSecond: number): NonNullable<ReleaseFacts['falseFire']> {
    const rollout = this.config.rollout;
    const traffic = {
      requestsPerSecond,
      codeSteps: this.trafficShift.steps,
      configWatchedSeconds: rollout.stepIntervalSeconds * rollout.steps.length + rollout.finalBakeMinutes * 60,
    };
    const baseRates = validateBaseRates(this.props.baseRates);
    const alarms = this.alarms.alarms.filter((a) => FALSE_FIRE_KINDS.includes(a.kind)).map((a) => synthesizedRateAlarm(a.kind, a.plane, a.alarm));
    return { traffic, baseRates, alarms, results: releaseFalseFire(alarms, traffic, baseRates) };
  }

  /** The release policy's verdict on this release. */
  public get policy(): PolicyResult {
    return evaluatePolicy(this.facts, this.props.policyRules ?? DEFAULT_POLICY_RULES);
  }
}

function positiveRps(rps: number): number {
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`expectedRequestsPerSecond must be a positive number, got ${rps}`);
  return rps;
}

/** The deployed state of each degrade switch, on = true. */
function degradeState(state: DegradeFlagState): Record<string, boolean> {
  return Object.fromEntries(Object.values(DEGRADE_FLAGS).map((flag) => [flag, state[flag] === true]));
}

/** The degrade switches as manifest facts: `degrade.useFallbackModel: false`, … */
function degradeFacts(state: DegradeFlagState): Record<string, boolean> {
  return Object.fromEntries(Object.entries(degradeState(state)).map(([flag, on]) => [`degrade.${flag}`, on]));
}

function pick(t: { periodSeconds: number; datapointsToAlarm: number; evaluationPeriods: number }) {
  return { periodSeconds: t.periodSeconds, datapointsToAlarm: t.datapointsToAlarm, evaluationPeriods: t.evaluationPeriods };
}
