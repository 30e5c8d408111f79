import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AiReleasePlatform } from './ai-release-platform';
import type { AiReleaseProps } from './ai-release-props';
import { AiServiceConfig, type ConnectGateOptions } from './config/ai-service-config';
import { recordManifest } from './config/manifest-wiring';
import type { ReleaseManifestRecorder } from './config/release-manifest-recorder';
import type { CanaryJudge } from './judge/canary-judge';
import { wireCanaryJudge } from './judge/judge-wiring';
import { wireConfigGate, wireRegressionGate } from './learning/gate-wiring';
import { wireReview, wireSnapshotsAndEvaluation } from './learning/learning-wiring';
import type { RegressionGate } from './learning/regression-gate';
import type { ReleaseEvaluator } from './learning/release-evaluator';
import type { ReleaseReview } from './learning/release-review';
import { namePrefix } from './private/physical-names';
import { claimServiceName } from './private/service-names';
import { claimStackCapacity } from './private/stack-capacity';
import { buildAliases, buildCodeDeployment } from './rollout/code-plane';
import { wireConfigCanary } from './rollout/config-canary';
import type { ConfigShare } from './rollout/config-share';
import { buildCostGuard } from './rollout/cost-guard';
import { checkEvaluatorAgreement } from './rollout/evaluator-trust';
import type { ReleaseAlarms } from './rollout/release-alarms';
import { attachCanaryCard, attachPolicyCheck } from './rollout/release-checks';
import type { ReleaseCost } from './rollout/release-cost';
import { buildReleaseDashboard } from './rollout/release-dashboard';
import { ReleaseFactSheet } from './rollout/release-facts';
import type { PolicyResult, ReleaseFacts } from './rollout/release-policy';
import { buildServiceAlarms, connectAlarmActions } from './rollout/service-alarms';
import { TrafficShift } from './rollout/traffic-shift';
import type { PlaneWorstCase } from './rollout/worst-case';

// The props, and the constants that always lived here, are re-exported from their parts.
export * from './ai-release-props';
export { CONFIG_GATE_TIMEOUT } from './learning/gate-wiring';
export { PLANE_ORDER } from './rollout/code-plane';

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
  /**
   * The platform's release dashboard that holds this service's section (a header, its alarms' states, its metrics by
   * version, its guardrails): one per AiReleasePlatform, in the platform's stack, shared by its services (issue 15-E;
   * before, one dashboard per service in the service's scope). A platform with more sections than 500 widgets hold
   * has a second dashboard: this is the one with this service's section.
   */
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly manifest: ReleaseManifestRecorder;
  public readonly trafficShift: TrafficShift;
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

  private readonly sheet: ReleaseFactSheet;

  constructor(scope: Construct, id: string, props: AiReleaseProps) {
    super(scope, id);
    const platform = props.platform ?? AiReleasePlatform.of(this);
    const stack = Stack.of(this);
    this.serviceName = props.serviceName;
    claimServiceName(this, props.serviceName);
    claimStackCapacity(this, props.serviceName);
    this.trafficShift = props.trafficShift ?? TrafficShift.CANARY_10_PERCENT_5_MINUTES;
    const budget = props.rollbackBudget ?? Duration.minutes(10);
    const budgetSeconds = budget.toSeconds({ integral: false });
    if (budgetSeconds < 30 || budgetSeconds > 3600) {
      throw new Error(`rollbackBudget must be between 30 seconds and 1 hour, got ${budget.toHumanString()}; the seed's promise is 10 minutes`);
    }

    // The versioned config (AppConfig), wired to the function: environment, read access, Bedrock and tool grants.
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

    // Code plane and alarms (rollout/code-plane.ts, rollout/service-alarms.ts): `live` and `gate` aliases, the alarms
    // on the new version, the CodeDeploy group they roll back, code before config; the composite is the config monitor.
    const aliases = buildAliases(this, props.serviceName, props.function);
    this.alias = aliases.alias;
    this.gateAlias = aliases.gateAlias;
    const alarms = buildServiceAlarms(this, props, { platform, config: this.config, version: aliases.version.version, trafficShift: this.trafficShift });
    this.alarms = alarms.alarms;
    this.deploymentGroup = buildCodeDeployment(this, { platform, aliases, alarms: this.alarms, trafficShift: this.trafficShift, config: this.config });
    connectAlarmActions(this.alarms, this.config, platform);

    // Graded degradation (rollout/cost-guard.ts) and how config canaries reach traffic (rollout/config-canary.ts).
    if (props.costGuard) this.costGuard = buildCostGuard(this, this, platform, stack, props.costGuard, props.config);
    this.configShare = wireConfigCanary(this, props, { platform, config: this.config, alarms: this.alarms, function: props.function });

    // Judged, gated, learned from (judge/judge-wiring.ts, learning/learning-wiring.ts, learning/gate-wiring.ts).
    const wiring = { platform, config: this.config, alarms: this.alarms, alias: this.alias, deploymentGroup: this.deploymentGroup };
    this.canaryJudge = wireCanaryJudge(this, props, wiring);
    if (props.evaluatorAgreement) checkEvaluatorAgreement(props.evaluatorAgreement);
    this.evaluator = wireSnapshotsAndEvaluation(this, props, { ...wiring, canaryJudge: this.canaryJudge });
    this.regressionGate = wireRegressionGate(this, props, wiring);
    // Code-plane pairs only on the code canary, only during its release (issue 17 D): the pre-traffic hook announces
    // it in the share document. Without a share document or a hook, every answer stays a pair candidate (priced).
    if (this.configShare && this.regressionGate)
      this.configShare.announceCodeCanaries(this.regressionGate, props.function, this.trafficShift.totalMinutes * 60);
    this.review = wireReview(this, props, wiring);

    // What synth says and writes (rollout/release-facts.ts, rollout/release-checks.ts, config/manifest-wiring.ts).
    this.sheet = new ReleaseFactSheet(this, props, budgetSeconds, alarms.periodFromTraffic);
    attachPolicyCheck(this, budgetSeconds);
    this.manifest = recordManifest(this, this, platform, props, budgetSeconds);
    // The shared gate reads this service's settings from the manifest parameter: in place before the deployment starts.
    if (this.regressionGate?.settingsParameter) this.alias.node.addDependency(this.manifest.parameter);
    // The platform's dashboard, with a section for this service (issue 15-E: one per platform, not per service).
    this.dashboard = buildReleaseDashboard(platform, this, namePrefix(platform));

    new CfnOutput(this, 'LiveAliasArn', { value: this.alias.functionArn, description: `${props.serviceName}: invoke this (the live alias), not the function` });

    this.cardFileName = `${props.serviceName}.canary-card.md`;
    attachCanaryCard(this, props.policyRules);
  }

  /**
   * Gates this service's config releases with a regression gate function (README "Config gate"): lets it, and only
   * it, invoke the `gate` alias, and connects it to the config plane (candidate stage, replay, live rollout only on a
   * passing report; the live environment refuses unpassed versions).
   */
  public connectConfigGate(gate: lambda.IFunction, options: ConnectGateOptions = {}): void {
    wireConfigGate(this.config, gate, options);
    this.gateAlias.grantInvoke(gate);
  }

  /**
   * Worst case from a first bad request to rollback start, per plane, computed from the alarms as they will be
   * synthesized (escape-hatch edits included).
   */
  public get worstCase(): { readonly code: PlaneWorstCase; readonly config: PlaneWorstCase } {
    return this.sheet.worstCase();
  }

  /** What this release is, as the policy and the strategy card see it. */
  public get facts(): ReleaseFacts {
    return this.sheet.facts();
  }

  /**
   * What the release machinery adds per month at `requestsPerSecond` (issue 16 E), counted from the alarms as
   * synthesized under this construct (each metric of a metric-math alarm counts; periods under 60 s are high resolution).
   */
  public releaseCostAt(requestsPerSecond: number): ReleaseCost {
    return this.sheet.releaseCostAt(requestsPerSecond);
  }

  /** The count alarms' false-fire chances on a good release at `requestsPerSecond`, from the alarms as synthesized. */
  public falseFireAt(requestsPerSecond: number): NonNullable<ReleaseFacts['falseFire']> {
    return this.sheet.falseFireAt(requestsPerSecond);
  }

  /** The release policy's verdict on this release. */
  public get policy(): PolicyResult {
    return this.sheet.policy();
  }
}
