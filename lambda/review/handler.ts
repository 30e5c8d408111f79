import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { LEARNING_ENV, REVIEW_ENV } from '../shared/contract';
import {
  cloudWatchAlarms,
  cloudWatchMetrics,
  deploymentsPort,
  s3Cases,
  s3Evaluations,
  s3JudgeRecords,
  s3Store,
  snsNotifier,
  ssmManifestHistory,
} from './aws-adapters';
import type { ReviewPorts } from './ports';
import { runReview } from './review';
import { storeEvaluatorTrust } from './evaluator-trust';
import { s3Store as objectStore } from '../snapshot/s3-store';
import { deadline, logFailures } from '../shared/sdk-deadline';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the review function is created by ReleaseReview`);
  return v;
};
const bucket = need(LEARNING_ENV.BUCKET);
const stack = need(REVIEW_ENV.STACK);
const manifestPath = process.env[REVIEW_ENV.MANIFEST_PATH] || stack;
// The services whose code deployments come through the platform's one rule, by deployment group.
const deploymentGroups = JSON.parse(process.env[REVIEW_ENV.DEPLOYMENT_GROUPS] || '{}') as Record<string, string>;
const s3 = logFailures(new S3Client(deadline(10_000)));
const cw = new CloudWatchClient({});
const ports: ReviewPorts = {
  deployments: deploymentsPort(logFailures(new CodeDeployClient(deadline(10_000))), logFailures(new AppConfigClient(deadline(10_000)))),
  manifests: ssmManifestHistory(new SSMClient({}), manifestPath),
  alarms: cloudWatchAlarms(cw),
  metrics: cloudWatchMetrics(cw),
  cases: s3Cases(s3, bucket),
  store: s3Store(s3, bucket),
  notifier: snsNotifier(new SNSClient({}), need(LEARNING_ENV.TOPIC_ARN)),
  clock: { now: () => Date.now(), sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)) },
  judge: s3JudgeRecords(s3, bucket),
  // The evaluator's results (issue 17 E): scores, pairs and the behaviour fingerprint of the release.
  evaluations: s3Evaluations(s3, bucket),

  evaluatorTrust: storeEvaluatorTrust(objectStore(s3, bucket)),
};

/** CodeDeploy state changes (EventBridge) and AppConfig ON_DEPLOYMENT_COMPLETE / ON_DEPLOYMENT_ROLLED_BACK. */
export async function handler(event: unknown) {
  const result = await runReview(event, ports, { stack, manifestPath, deploymentGroups });
  const summary =
    result.status === 'written'
      ? { key: result.review.objects.json, outcome: result.review.outcome, partial: result.review.partial, announced: result.announced }
      : result.status === 'exists'
        ? { key: result.key }
        : { reason: result.reason };
  console.log(JSON.stringify({ message: 'release review', status: result.status, ...summary }));
  return { status: result.status };
}
