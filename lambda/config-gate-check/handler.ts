import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { S3Client } from '@aws-sdk/client-s3';
import { GATE_CHECK_ENV } from '../shared/contract';
import { appConfigHistory, s3GateRecords } from './aws-adapters';
import { check, type PreStartDeploymentEvent } from './check';
import { deadline, logFailures } from '../shared/sdk-deadline';

const bucket = process.env[GATE_CHECK_ENV.BUCKET];
const records = bucket ? s3GateRecords(logFailures(new S3Client(deadline(1000, { maxAttempts: 2 }))), bucket) : undefined;
const history = appConfigHistory(logFailures(new AppConfigClient(deadline(1000, { maxAttempts: 2 }))));

/**
 * AppConfig's PRE_START_DEPLOYMENT action on a service's live environment. Returns nothing (the content is not
 * changed) when the version may start; throws the refusal, which stops the deployment before it starts.
 */
export async function handler(event: PreStartDeploymentEvent): Promise<void> {
  if (!records) throw new Error(`config gate check: ${GATE_CHECK_ENV.BUCKET} is not set; the function is made by AiServiceConfig.connectGate`);
  const decision = await check(event, records, history).catch((e: unknown) => ({
    allow: false as const,
    reason: `config gate check: could not decide (${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}); refusing`,
  }));
  console.log(
    JSON.stringify({
      message: 'config gate check',
      allow: decision.allow,
      reason: decision.reason,
      environment: event?.Environment?.Id,
      version: event?.ConfigurationVersion,
      deploymentNumber: event?.DeploymentNumber,
    }),
  );
  if (!decision.allow) throw new Error(decision.reason);
}
