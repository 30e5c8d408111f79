/**
 * The constructs and the pure modules usable from code: `import { AiRelease } from 'cdk-ai-release'`.
 * Start with {@link AiRelease}; the concept pages are under docs/ (docs/constructs.md first).
 *
 * @module cdk-ai-release
 */
// (The doc comment above stays first in the file: typedoc reads a file's leading doc comment as its module's.)
// Loading the library makes its user errors print as one message with the fix, no stack trace (see user-errors).
import './private/user-errors';
export * from './ai-release-platform';
export * from './config/ai-service-config';
export * from './rollout/config-rollout';
export {
  CANDIDATE_STAGE_SECONDS,
  type ConfigGateConnection,
  type ConfigShareConnection,
  MAX_CONFIG_ROLLOUT_MINUTES,
  ReleaseConfigDeployment,
  type ReleaseConfigDeploymentProps,
} from './rollout/config-deployment';
export { ConfigGateCheck, type ConfigGateCheckProps } from './learning/config-gate-check';
export { CONFIG_GATE_ENV, GATE_CHECK_PARAMETER, GATE_REPLAY_FAILURE_TYPE, GATE_SERVICE_SUFFIX, configGateReleaseKey } from '../lambda/shared/contract';
export * from './config/release-config-source';
export * from '../lambda/shared/release-manifest';
export * from './config/release-manifest-recorder';
export { RELEASE_CONFIG_SCHEMA, validateReleaseConfig } from './config/private/validate-release-config';
export type { ConfigProblem } from './config/private/config-problem';
export { DEGRADE_FLAGS, ENV, CONFIG_SECTIONS } from '../lambda/shared/contract';
export type { ReleaseManifest, ManifestComponent, ReleaseConfigMeta } from '../lambda/shared/contract';
export type { JudgeTolerance } from '../lambda/shared/contract';
export * from './ai-release';
export * from './rollout/traffic-shift';
export {
  codeSteps,
  DEFAULT_CONVERSATION_TURNS,
  DEFAULT_MIN_REGRESSIONS,
  planCanary,
  planTolerance,
  schedulePower,
  type CanaryPlan,
  type CanaryPlanOptions,
  type CodePlan,
  type EvaluationPlan,
  type PairedReach,
  type PlanEvaluation,
  type PlanEvaluationCost,
  type Plane,
  type MinimumRegressions,
  type PlanStep,
  type PlanTraffic,
  type RegressionPower,
  type ReleaseSpend,
  type SchedulePower,
} from './rollout/canary-plan';
export {
  releaseCost,
  US_EAST_1_PRICES,
  type CostLine,
  type PriceTable,
  type ReleaseCost,
  type ReleaseCostInputs,
  type SteadyPairSampling,
} from './rollout/release-cost';
export * from './rollout/release-alarms';
export * from './rollout/release-policy';
export * from './rollout/worst-case';
export * from './rollout/false-fire';
export { renderCanaryCard } from './rollout/canary-card';
export { evaluatorAgreementRule, RULE_EVALUATOR_AGREEMENT, type EvaluatorAgreementRuleOptions } from './rollout/evaluator-trust';
export { type FunctionLogSettings, RULE_RECORDS_SURVIVE_LOG_LEVEL, recordDropRisks } from './rollout/log-level-policy';
export { describeAgreement, type EvaluatorAgreement, type HumanLabel, type HumanLabelValue, type LabelSet } from '../lambda/shared/evaluator-agreement';
export type { ScoredSampleRef } from '../lambda/shared/sample-labels';
export { METRIC, METRIC_NAMESPACE, DIMENSION, FAILURE_RECORD_TYPE } from '../lambda/shared/contract';
export { restrictKeyGrantsToAwsServices } from './private/key-policy';
export { CODE_RELEASE_END_STATES, CONFIG_RELEASE_END_ACTION_POINTS, ReleaseReview, type ReleaseReviewProps } from './learning/release-review';
export { renderReviewMarkdown } from '../lambda/review/render-markdown';
export { parseReleaseReview } from '../lambda/review/read';
export { renderChartSvg, type ChartInput } from '../lambda/review/render-svg';
export type { ReleaseReview as ReleaseReviewRecord, ReleaseOutcome, ReleasePlane, ReviewTimelineEntry } from '../lambda/shared/contract';
export * from './learning/regression-store';
export * from './learning/regression-cases';
export { STORE_PREFIX, CASE_STATES, LEARNING_ENV } from '../lambda/shared/contract';
export type { RegressionCase, CaseExpectation, CaseState, CaseTransition, FailureRecord } from '../lambda/shared/contract';
export { toolGrants, toolWildcards, type ToolGrant, type ToolWildcard } from './private/tool-permissions';
export type { ToolConfig } from '../lambda/shared/contract';
export * from './config/model-lifecycle';
export { RegressionGate, type RegressionGateOptions, type RegressionGateProps } from './learning/regression-gate';
export { renderGateMarkdown } from '../lambda/gate/render-markdown';
export { GATE_ALIAS_NAME, GATE_CANDIDATE_MODES, GATE_METRIC, gateKeys } from '../lambda/shared/contract';
export type { GateReport, GateCaseResult, GateCandidateMode, ConfigGateRequest } from '../lambda/shared/contract';
export { attachPostHook, CanaryJudge, type CanaryJudgeOptions, type CanaryJudgeProps } from './judge/canary-judge';
export { JUDGE_METRIC, JUDGE_DIMENSION_PLANE, JUDGE_DIMENSION_PLATFORM, judgeKey } from '../lambda/shared/contract';
export type { JudgeRecord, JudgeVerdict, ReviewJudge } from '../lambda/shared/contract';
export { ConfigShare, type ConfigShareProps } from './rollout/config-share';
export { DEFAULT_SHARE_SCHEDULE, type ShareStep } from '../lambda/share-controller/controller';
export { CONFIG_CANARY_MODES, SHARE_ENV, shareKey } from '../lambda/shared/contract';
export type {
  CanaryShareDocument,
  CodeCanaryState,
  ConfigAssignment,
  ConfigCanaryMode,
  ShareControllerRecord,
  ShareControllerStartEvent,
} from '../lambda/shared/contract';
export { EVALUATION_FILTER_NAME, ReleaseEvaluator, type EvaluatedService, type ReleaseEvaluatorProps } from './learning/release-evaluator';
export { EVALUATION_CRITERIA, EVALUATION_METRIC, EVALUATION_SAMPLE_TYPE } from '../lambda/shared/evaluation';
export type { EvaluationConfig, EvaluationRubric, EvaluationSample, CriterionScore, PairedOutcome, PairedSampling } from '../lambda/shared/evaluation';
// The regression gate's evaluator and the review's evaluation view (issue 17 E, h5-evgate).
export type { RegressionGateEvaluationOptions } from './learning/regression-gate';
export type { GateReplayPass, GateEvaluationSummary, ReviewEvaluation, FingerprintRow } from '../lambda/shared/contract';
