/**
 * The props of AiRelease (re-exported from ai-release.ts, where they always were): what a platform team states about
 * one service. Each option is read by the part of the release that owns it (see lib/ai-release.ts).
 */
import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { EvaluatorAgreement } from '../lambda/shared/evaluator-agreement';
import type { AiReleasePlatform } from './ai-release-platform';
import type { DegradeFlagState } from './config/ai-service-config';
import type { ReleaseConfigSource } from './config/release-config-source';
import type { CanaryJudgeOptions } from './judge/canary-judge';
import type { RegressionGateOptions } from './learning/regression-gate';
import type { CanaryPlanOptions } from './rollout/canary-plan';
import type { ConfigRollout } from './rollout/config-rollout';
import type { ConfigShareProps } from './rollout/config-share';
import type { CostGuardOptions } from './rollout/cost-guard';
import type { BaseRates } from './rollout/false-fire';
import type { ReleaseAlarmOptions } from './rollout/release-alarms';
import type { PolicyWaiver, ReleasePolicyRule } from './rollout/release-policy';
import type { TrafficShift } from './rollout/traffic-shift';
import type { TimingAssumptions } from './rollout/worst-case';

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
   * How many releases a month the service ships, by plane, for the card's cost of the release machinery: a code
   * release adds a second version's per-version metric series for its hour, a config release adds none.
   * Each count must be a number of at least 0.
   * @default { code: 20, config: 0 } (every release costed as a code release: an upper bound)
   */
  readonly releasesPerMonth?: { readonly code?: number; readonly config?: number };
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
   * function's log group (`function.logGroup`) delivers them to the platform's snapshot function. It is the library's
   * only filter on that log group (evaluation samples share it): CloudWatch Logs allows 2 per log group, so one stays
   * free for your own. Turn this (and `evaluation`) off where both are taken.
   * @default true
   */
  readonly snapshots?: boolean;
  /**
   * Score sampled answers with the platform's evaluator when the release config has an `evaluation` section: the
   * samples share the snapshot subscription filter on the function's log group (one filter for both kinds), and the
   * snapshot function forwards them to the evaluator. Set false to keep the section (it is still versioned and
   * diffed) without the evaluator.
   * @default true
   */
  readonly evaluation?: boolean;
  /**
   * The evaluator's agreement with people's labels as measured from the regression store: the JSON
   * `cdk-ai-release regression agreement <service> --json` prints. Shown on the canary card; the release policy's
   * `evaluator-agreement` rule warns when it is unknown, measured on too few labels, or low.
   * @default unknown (the policy warns when the service's answers are evaluated)
   */
  readonly evaluatorAgreement?: EvaluatorAgreement;
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
   *   The config deployer stages each release in the candidate environment, gates it, and hands it to the share
   *   controller; the stack update succeeds when the controller has promoted it and fails (CloudFormation rolls
   *   back) when it was rolled back. Needs the service function to run the library's runtime (AssigningRuntime),
   *   which reads the share; a function that does not keeps every conversation on live.
   * @default 'appconfig' — whether the function runs the library's runtime cannot be known at synth
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
  /**
   * Requests per conversation on the assigned config canary (`configCanary: 'assigned'`): the judge bets one unit
   * per conversation (its first request's values, its first failure), so the config plan and the warning on the
   * assigned schedule count conversations, not requests. 1 when callers send no conversation id. The code plane
   * ignores it.
   * @default 4 (DEFAULT_CONVERSATION_TURNS; the card says the length was assumed)
   */
  readonly meanConversationTurns?: number;
  /**
   * Share of the evaluator's paired comparisons that are decided (both orders prefer the same answer): the paired
   * preference's power scales with it. An evaluator that picks the first answer shown 70 % of the time whatever the
   * answers decides 0.3. Used when the release config has an evaluation section with paired comparisons.
   * @default 1 (no position bias, no ties)
   */
  readonly decidedPairShare?: number;
}

/** Options of an assigned config canary (AiReleaseProps.configCanary). */
export type AssignedConfigCanaryOptions = Pick<ConfigShareProps, 'schedule' | 'clientLag'>;

// The cost guard's options live with the cost guard; re-exported here, where they always were.
export type { CostGuardOptions } from './rollout/cost-guard';
