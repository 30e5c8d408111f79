import { type AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-appconfig';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DeploymentHistory, GateRecords } from './check';

/** Gate reports in the regression store. NoSuchKey is "no record"; any other error is thrown (the check refuses). */
export function s3GateRecords(s3: S3Client, bucket: string): GateRecords {
  return {
    location: `s3://${bucket}`,
    async read(key, signal) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
        return await out.Body!.transformToString();
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}

/**
 * How many of the environment's most recent deployments are looked through: one page, newest first ("in descending
 * deployment number order", AppConfig API reference, ListDeployments; MaxResults 1–50). The version a stack rollback
 * restores is the one live just before the failed release, so it is among the newest; an older version without a
 * gate record is refused (release it again with cdk deploy).
 */
export const RECENT_DEPLOYMENTS = 25;
/** At most this many matching COMPLETE deployments are read in full (GetDeployment) to confirm their profile. */
export const MAX_CONFIRMATIONS = 3;

/**
 * The environment's recent deployment history. The list's summaries carry the version and state but no profile id, so
 * a COMPLETE one of the version is read in full to confirm its profile (version numbers are per profile). Every call
 * carries the check's abort signal.
 */
export function appConfigHistory(client: AppConfigClient): DeploymentHistory {
  return {
    async servedComplete(application, environment, profile, version, signal) {
      const out = await client.send(new ListDeploymentsCommand({ ApplicationId: application, EnvironmentId: environment, MaxResults: RECENT_DEPLOYMENTS }), {
        abortSignal: signal,
      });
      const matches = (out.Items ?? []).filter((d) => d.State === 'COMPLETE' && d.ConfigurationVersion === version && d.DeploymentNumber !== undefined);
      for (const d of matches.slice(0, MAX_CONFIRMATIONS)) {
        const full = await client.send(
          new GetDeploymentCommand({ ApplicationId: application, EnvironmentId: environment, DeploymentNumber: d.DeploymentNumber }),
          { abortSignal: signal },
        );
        if (full.ConfigurationProfileId === profile && full.State === 'COMPLETE') return true;
      }
      return false;
    },
  };
}
