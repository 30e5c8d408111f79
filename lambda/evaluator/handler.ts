import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { LEARNING_ENV } from '../shared/contract';
import { deadline, logFailures } from '../shared/sdk-deadline';
import { EVALUATOR_ENV, evaluationLedgerKey } from '../shared/evaluation';
import { s3Store } from '../snapshot/s3-store';
import type { CloudWatchLogsEvent } from '../snapshot/snapshot';
import { withRetries } from '../snapshot/store';
import { bedrockModel, lambdaShadow, liveEvaluations, type ServiceLocation, s3Ledger } from './aws-adapters';
import { evaluateDelivery } from './delivery';
import { evaluationMetricLines } from './metrics';
import { evaluationResultLine } from './result-line';

// Module scope: built once per execution environment. Throttling is retried by the evaluator's own backoff.
const bucket = process.env[LEARNING_ENV.BUCKET];
if (!bucket) throw new Error(`environment variable ${LEARNING_ENV.BUCKET} is not set; the evaluator function is created by ReleaseEvaluator`);
const services = JSON.parse(process.env[EVALUATOR_ENV.SERVICES] ?? '{}') as Record<string, ServiceLocation>;
const concurrency = Number(process.env[EVALUATOR_ENV.CONCURRENCY] ?? '4');
const s3 = logFailures(new S3Client(deadline(10_000, { maxAttempts: 1 })));
const bedrock = logFailures(new BedrockRuntimeClient(deadline(60_000, { maxAttempts: 1 })));
const lambdaClient = logFailures(new LambdaClient(deadline(60_000)));
const appconfig = logFailures(new AppConfigDataClient(deadline(5_000)));
const live = liveEvaluations(appconfig, services);
const model = bedrockModel(bedrock, 30_000);
const shadow = lambdaShadow(lambdaClient, services, 30_000);

interface Context {
  getRemainingTimeInMillis(): number;
}

/** Invoked asynchronously by CloudWatch Logs with evaluation samples; errors go to the on-failure destination. */
export async function handler(event: CloudWatchLogsEvent, context: Context) {
  const store = withRetries(s3Store(s3, bucket as string), { remainingMs: () => context.getRemainingTimeInMillis() - 3000 });
  const outcome = await evaluateDelivery(event, {
    evaluator: (service) => ({
      model,
      shadow,
      // One ledger per service: its budget is the service's own.
      ledger: s3Ledger(store, evaluationLedgerKey(service)),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      now: () => new Date(),
    }),
    liveEvaluation: live,
    store,
    // No releaseKey: the release in progress is told from the samples' version tuples (budget.ts), the day cap
    // always applies.
    publish: (result, sample, logStream) => {
      for (const line of evaluationMetricLines(result, sample, Date.now())) console.log(line);
      // What the canary judge reads (Logs Insights on this function's log group).
      console.log(JSON.stringify(evaluationResultLine(result, sample, logStream)));
    },
    writeFailureRecord: (record) => console.log(JSON.stringify(record)),
    concurrency,
  });
  console.log(JSON.stringify({ message: 'evaluation delivery', ...outcome, rejected: outcome.rejected.length }));
  return { evaluated: outcome.evaluated };
}
