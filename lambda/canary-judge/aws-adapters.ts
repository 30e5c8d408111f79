/**
 * The judge's ports over the AWS SDK: thin translations, no decisions. Shapes follow the API references (CloudWatch
 * Logs StartQuery / GetQueryResults, CodeDeploy ListDeployments / GetDeployment / PutLifecycleEventHookExecutionStatus,
 * CloudWatch PutMetricData, S3 GetObject / PutObject, AppConfig GetHostedConfigurationVersion / ListDeployments /
 * GetDeployment).
 */
import {
  type AppConfigClient,
  GetDeploymentCommand as AppConfigGetDeploymentCommand,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand as AppConfigListDeploymentsCommand,
} from '@aws-sdk/client-appconfig';
import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetDeploymentTargetsCommand,
  type CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { JUDGE_DIMENSION_PLANE, JUDGE_METRIC, type JudgeRecord, METRIC_NAMESPACE, DIMENSION } from '../shared/contract';
import { lambdaAppSpecContent, parseLambdaAppSpec } from '../shared/appspec';
import type { Clock, ConfigDeploymentInfo, ConfigDeploymentsPort, ConfigVersionsPort, DeploymentsPort, LogsPort, StatePort, VerdictPort } from './canary-judge';
import { QUERY_ROW_LIMIT } from './samples';

/** Logs Insights: start the query, poll its results until Complete (queries run asynchronously). */
export function insightsLogs(logs: CloudWatchLogsClient, logGroupName: string, clock: Clock, pollMs = 500): LogsPort {
  return {
    async query(queryString, startSec, endSec, deadline) {
      const { queryId } = await logs.send(new StartQueryCommand({ logGroupName, queryString, startTime: startSec, endTime: endSec, limit: QUERY_ROW_LIMIT }));
      if (!queryId) throw new Error('StartQuery returned no queryId');
      for (;;) {
        const out = await logs.send(new GetQueryResultsCommand({ queryId }));
        if (out.status === 'Complete') return (out.results ?? []) as readonly { field?: string; value?: string }[][];
        if (out.status && !['Scheduled', 'Running'].includes(out.status)) throw new Error(`Logs Insights query ${queryId} ended ${out.status}`);
        if (clock.now() + pollMs >= deadline) throw new Error(`Logs Insights query ${queryId} was still ${out.status ?? 'running'} at the deadline`);
        await clock.sleep(pollMs);
      }
    },
  };
}

export function codeDeployments(cd: CodeDeployClient, applicationName: string, deploymentGroupName: string): DeploymentsPort {
  return {
    async inProgress() {
      const out = await cd.send(new ListDeploymentsCommand({ applicationName, deploymentGroupName, includeOnlyStatuses: ['InProgress'] }));
      return out.deployments ?? [];
    },
    async describe(deploymentId) {
      const info = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
      const v = parseLambdaAppSpec(lambdaAppSpecContent(deploymentId, info?.revision));
      const trafficStartedAt = await allowTrafficStart(cd, deploymentId);
      return {
        id: deploymentId,
        current: v.currentVersion,
        target: v.targetVersion,
        ...(info?.createTime ? { createdAt: new Date(info.createTime).getTime() } : {}),
        ...(trafficStartedAt !== undefined ? { trafficStartedAt } : {}),
        ...(info?.rollbackInfo?.rollbackTriggeringDeploymentId ? { rollbackOf: info.rollbackInfo.rollbackTriggeringDeploymentId } : {}),
      };
    },
    async answerHook(deploymentId, lifecycleEventHookExecutionId, status) {
      await cd.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId, status }));
    },
  };
}

/** When the Lambda target's AllowTraffic lifecycle event started (ListDeploymentTargets, BatchGetDeploymentTargets). */
async function allowTrafficStart(cd: CodeDeployClient, deploymentId: string): Promise<number | undefined> {
  const targetIds = (await cd.send(new ListDeploymentTargetsCommand({ deploymentId }))).targetIds ?? [];
  if (targetIds.length === 0) return undefined;
  const out = await cd.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: targetIds.slice(0, 25) }));
  for (const t of out.deploymentTargets ?? []) {
    const allow = t.lambdaTarget?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'AllowTraffic');
    if (allow?.startTime) return new Date(allow.startTime).getTime();
  }
  return undefined;
}

export function s3State(s3: S3Client, bucket: string): StatePort {
  return {
    async load(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const record = JSON.parse(await out.Body!.transformToString()) as JudgeRecord;
        if (record.schemaVersion !== 1) throw new Error(`s3://${bucket}/${key} has schemaVersion ${record.schemaVersion}; this judge reads 1`);
        return record;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
    async save(key, record) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${JSON.stringify(record)}\n`, ContentType: 'application/json' }));
    },
  };
}

export function verdictMetric(cw: CloudWatchClient, service: string, clock: Clock): VerdictPort {
  return {
    async publish(plane, value) {
      await cw.send(
        new PutMetricDataCommand({
          Namespace: METRIC_NAMESPACE,
          MetricData: [
            {
              MetricName: JUDGE_METRIC.VERDICT,
              Dimensions: [
                { Name: DIMENSION.SERVICE, Value: service },
                { Name: JUDGE_DIMENSION_PLANE, Value: plane },
              ],
              Value: value,
              Unit: 'None',
              // High resolution: the verdict alarm uses the release alarms' 10-second period.
              StorageResolution: 1,
              Timestamp: new Date(clock.now()),
            },
          ],
        }),
      );
    },
  };
}

export function hostedConfigLabels(appConfig: AppConfigClient, applicationId: string): ConfigVersionsPort {
  return {
    async label(profileId, version) {
      const out = await appConfig.send(
        new GetHostedConfigurationVersionCommand({ ApplicationId: applicationId, ConfigurationProfileId: profileId, VersionNumber: Number(version) }),
      );
      if (!out.VersionLabel) throw new Error(`hosted configuration version ${version} of profile ${profileId} has no VersionLabel; AiServiceConfig stamps one`);
      return out.VersionLabel;
    },
  };
}

/** AppConfig deployments states in which the rollout still runs (DEPLOYING, then BAKING until it completes). */
const ROLLING = new Set(['DEPLOYING', 'BAKING']);

/** The live environment's config rollouts in progress: ListDeployments (newest first), then GetDeployment for the profile. */
export function appConfigDeployments(appConfig: AppConfigClient, applicationId: string, environmentId: string, profileId: string): ConfigDeploymentsPort {
  return {
    async inProgress() {
      // One deployment runs per environment at a time; the first page (newest first) holds it.
      const items =
        (await appConfig.send(new AppConfigListDeploymentsCommand({ ApplicationId: applicationId, EnvironmentId: environmentId, MaxResults: 10 }))).Items ?? [];
      const out: ConfigDeploymentInfo[] = [];
      for (const item of items) {
        if (!item.State || !ROLLING.has(item.State) || item.DeploymentNumber === undefined) continue;
        const d = await appConfig.send(
          new AppConfigGetDeploymentCommand({ ApplicationId: applicationId, EnvironmentId: environmentId, DeploymentNumber: item.DeploymentNumber }),
        );
        if (d.ConfigurationProfileId !== profileId || !d.ConfigurationVersion) continue;
        out.push({
          environmentId,
          deploymentNumber: item.DeploymentNumber,
          profileId,
          version: d.ConfigurationVersion,
          ...(d.VersionLabel ? { label: d.VersionLabel } : {}),
          ...(d.StartedAt ? { startedAt: new Date(d.StartedAt).getTime() } : {}),
        });
      }
      return out;
    },
  };
}
