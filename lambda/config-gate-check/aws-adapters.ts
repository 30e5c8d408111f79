import { type AppConfigClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-appconfig';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DeploymentHistory, GateRecords } from './check';

/** Gate reports in the regression store. NoSuchKey is "no record"; any other error is thrown (the check refuses). */
export function s3GateRecords(s3: S3Client, bucket: string): GateRecords {
  return {
    location: `s3://${bucket}`,
    async read(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToString();
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}

/** Pages of the environment's deployments looked through, newest first (50 each). */
const MAX_PAGES = 10;

/**
 * The environment's deployment history. The list's summaries carry the version and state but no profile id, so each
 * COMPLETE one of the version is read in full to confirm its profile (version numbers are per profile).
 */
export function appConfigHistory(client: AppConfigClient): DeploymentHistory {
  return {
    async servedComplete(application, environment, profile, version) {
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await client.send(new ListDeploymentsCommand({ ApplicationId: application, EnvironmentId: environment, MaxResults: 50, NextToken: token }));
        for (const d of out.Items ?? []) {
          if (d.State !== 'COMPLETE' || d.ConfigurationVersion !== version || d.DeploymentNumber === undefined) continue;
          const full = await client.send(
            new GetDeploymentCommand({ ApplicationId: application, EnvironmentId: environment, DeploymentNumber: d.DeploymentNumber }),
          );
          if (full.ConfigurationProfileId === profile && full.State === 'COMPLETE') return true;
        }
        token = out.NextToken;
        if (!token) return false;
      }
      return false;
    },
  };
}
