/**
 * The learning half of one service as AiRelease wires it: failure records collected into the platform's regression
 * store (a subscription filter on the function's log group), sampled answers scored by the platform's evaluator when
 * the release config has an `evaluation` section, a review (复盘) of every release on either plane, and the
 * deployer's request markers in the store. Built inside the AiRelease (`scope`), so the construct ids are the ones
 * they always had.
 */
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { EvaluationConfig } from '../../lambda/shared/evaluation';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import type { AiServiceConfig } from '../config/ai-service-config';
import { type CanaryJudge, judgedEvaluationMetrics } from '../judge/canary-judge';
import type { ReleaseEvaluator } from './release-evaluator';
import { ReleaseReview } from './release-review';

/** Snapshots (unless off) and the evaluator (when the config has an evaluation section and it is not off). */
export function wireSnapshotsAndEvaluation(
  scope: Construct,
  props: AiReleaseProps,
  w: { readonly platform: AiReleasePlatform; readonly config: AiServiceConfig; readonly alias: lambda.Alias; readonly canaryJudge?: CanaryJudge },
): ReleaseEvaluator | undefined {
  // Learning half: failure records become regression case candidates (RegressionStore), and sampled answers go to the
  // platform's evaluator (quality measured, not self-reported), scored with the live (stable) rubric; low scores come
  // back as regression-case candidates. Both through ONE subscription filter on the service's log group (CloudWatch
  // Logs allows 2; the other is the user's): the snapshot function forwards the samples to the evaluator.
  const snapshots = props.snapshots ?? true;
  const evaluation = w.config.config.evaluation as EvaluationConfig | undefined;
  const evaluated = evaluation !== undefined && (props.evaluation ?? true);
  if (snapshots || evaluated) w.platform.regressionStore.subscribe(scope, props.function.logGroup, { failures: snapshots, evaluationSamples: evaluated });
  if (!evaluation || !evaluated) return undefined;
  const evaluator = w.platform.evaluator;
  evaluator.addService(scope, {
    subscribe: false,
    serviceName: props.serviceName,
    logGroup: props.function.logGroup,
    function: props.function,
    liveAlias: w.alias,
    appConfig: { applicationId: w.config.applicationId, environmentId: w.config.environment.ref, profileId: w.config.profile.ref },
    evaluatorModelIds: [evaluation.evaluatorModel.modelId],
  });
  // The judge reads the evaluator's results beside the runtime's (issue 17 E).
  w.canaryJudge?.judgeEvaluations(evaluator.logGroup, judgedEvaluationMetrics(evaluation));
  return evaluator;
}

/** The review of every release (unless off), and the deployer's markers where the store exists anyway. */
export function wireReview(
  scope: Construct,
  props: AiReleaseProps,
  w: { readonly platform: AiReleasePlatform; readonly config: AiServiceConfig; readonly deploymentGroup: codedeploy.LambdaDeploymentGroup },
): ReleaseReview | undefined {
  let review: ReleaseReview | undefined;
  // Every release gets its review: the end of a code deployment (EventBridge) or of a config deployment (AppConfig
  // extension) writes reviews/<service>/<release>.json|.md|.svg to the regression store.
  if (props.releaseReview ?? true) {
    review = new ReleaseReview(scope, 'Review', {
      serviceName: props.serviceName,
      bucket: props.reviewBucket ?? w.platform.regressionStore.bucket,
      deploymentGroup: w.deploymentGroup,
      environment: w.config.environment,
      platform: w.platform,
    });
    // The first config release (at stack creation) is reviewed too: the association exists before it starts.
    w.config.deployment.node.addDependency(review.association);
    // A release the config gate stops never deploys live, so the deployer asks the reviewer for its review.
    w.config.deployment.connectReview(review.function);
  }
  // The deployer marks each CloudFormation request it takes in the platform's store (If-None-Match), so a repeated
  // delivery follows the first instead of gating and starting again; only where the store exists anyway.
  if ((props.snapshots ?? true) || props.canaryJudge !== false || (review !== undefined && props.reviewBucket === undefined)) {
    w.config.deployment.connectMarkers(w.platform.regressionStore.bucket);
  }
  return review;
}
