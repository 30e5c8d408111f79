export * from './ai-release-platform';
export * from './ai-service-config';
export * from './config-rollout';
export {
  CANDIDATE_STAGE_SECONDS,
  type ConfigGateConnection,
  MAX_CONFIG_ROLLOUT_MINUTES,
  ReleaseConfigDeployment,
  type ReleaseConfigDeploymentProps,
} from './config-deployment';
export { ConfigGateCheck, type ConfigGateCheckProps } from './config-gate-check';
export { CONFIG_GATE_ENV, GATE_CHECK_PARAMETER, GATE_REPLAY_FAILURE_TYPE, GATE_SERVICE_SUFFIX, configGateReleaseKey } from '../lambda/shared/contract';
export * from './release-config-source';
export * from './release-manifest';
export * from './release-manifest-recorder';
export { RELEASE_CONFIG_SCHEMA, validateReleaseConfig } from './private/validate-release-config';
export type { ConfigProblem } from './private/config-problem';
export { DEGRADE_FLAGS, ENV, CONFIG_SECTIONS } from '../lambda/shared/contract';
export type { ReleaseManifest, ManifestComponent, ReleaseConfigMeta } from '../lambda/shared/contract';
export * from './ai-release';
export * from './traffic-shift';
export * from './release-alarms';
export * from './release-policy';
export * from './worst-case';
export * from './false-fire';
export { renderCanaryCard } from './canary-card';
export { METRIC, METRIC_NAMESPACE, DIMENSION, FAILURE_RECORD_TYPE } from '../lambda/shared/contract';
export { restrictKeyGrantsToAwsServices } from './key-policy';
export { CODE_RELEASE_END_STATES, CONFIG_RELEASE_END_ACTION_POINTS, ReleaseReview, type ReleaseReviewProps } from './release-review';
export { renderReviewMarkdown } from '../lambda/review/render-markdown';
export { parseReleaseReview } from '../lambda/review/read';
export { renderChartSvg, type ChartInput } from '../lambda/review/render-svg';
export type { ReleaseReview as ReleaseReviewRecord, ReleaseOutcome, ReleasePlane, ReviewTimelineEntry } from '../lambda/shared/contract';
export * from './regression-store';
export * from './regression-cases';
export { STORE_PREFIX, CASE_STATES, LEARNING_ENV } from '../lambda/shared/contract';
export type { RegressionCase, CaseExpectation, CaseState, CaseTransition, FailureRecord } from '../lambda/shared/contract';
export { toolGrants, toolWildcards, type ToolGrant, type ToolWildcard } from './private/tool-permissions';
export type { ToolConfig } from '../lambda/shared/contract';
export * from './model-lifecycle';
export { RegressionGate, type RegressionGateOptions, type RegressionGateProps } from './regression-gate';
export { renderGateMarkdown } from '../lambda/gate/render-markdown';
export { GATE_ALIAS_NAME, GATE_CANDIDATE_MODES, GATE_METRIC, gateKeys } from '../lambda/shared/contract';
export type { GateReport, GateCaseResult, GateCandidateMode, ConfigGateRequest } from '../lambda/shared/contract';
export { attachPostHook, CanaryJudge, type CanaryJudgeOptions, type CanaryJudgeProps } from './canary-judge';
export { JUDGE_METRIC, JUDGE_DIMENSION_PLANE, judgeKey } from '../lambda/shared/contract';
export type { JudgeRecord, JudgeVerdict, ReviewJudge } from '../lambda/shared/contract';
