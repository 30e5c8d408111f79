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
import { DIMENSION, JUDGE_DIMENSION_PLANE, JUDGE_DIMENSION_PLATFORM, JUDGE_METRIC, METRIC_NAMESPACE, type ReleasePlane } from '../shared/contract';
import { lambdaAppSpecContent, parseLambdaAppSpec } from '../shared/appspec';
import type { Clock, ConfigDeploymentInfo, ConfigDeploymentsPort, ConfigVersionsPort, DeploymentsPort, LogsPort, VerdictPort } from './canary-judge';
import { QUERY_ROW_LIMIT, type QueryRow } from './samples';

/** Logs Insights: start the query, poll its results until Complete (queries run asynchronously). */
export function insightsLogs(logs: CloudWatchLogsClient, logGroupName: string, clock: Clock, pollMs = 500): LogsPort {
  return {
    async query(queryString, startSec, endSec, deadline) {
      const { queryId } = await logs.send(new StartQueryCommand({ logGroupName, queryString, startTime: startSec, endTime: endSec, limit: QUERY_ROW_LIMIT }));
      if (!queryId) throw new Error('StartQuery returned no queryId');
      for (;;) {
        const out = await logs.send(new GetQueryResultsCommand({ queryId }));
        if (out.status === 'Complete') {
          // GetQueryResults returns at most 10,000 rows per call and pages the rest with nextToken (up to 100,000 per
          // query, CloudWatch Logs API reference): follow it, so a result is never silently short.
          const rows = [...((out.results ?? []) as QueryRow[])];
          for (let token = out.nextToken; token; ) {
            if (clock.now() >= deadline)
              throw new Error(`Logs Insights query ${queryId}: the deadline passed while reading its pages (${rows.length} rows read)`);
            const page = await logs.send(new GetQueryResultsCommand({ queryId, nextToken: token }));
            rows.push(...((page.results ?? []) as QueryRow[]));
            token = page.nextToken;
          }
          return rows;
        }
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
      const traffic = await allowTraffic(cd, deploymentId);
      return {
        id: deploymentId,
        current: v.currentVersion,
        target: v.targetVersion,
        ...(info?.createTime ? { createdAt: new Date(info.createTime).getTime() } : {}),
        ...(traffic.startedAt !== undefined ? { trafficStartedAt: traffic.startedAt } : {}),
        ...(traffic.completedAt !== undefined ? { trafficCompleteAt: traffic.completedAt } : {}),
        ...(info?.rollbackInfo?.rollbackTriggeringDeploymentId ? { rollbackOf: info.rollbackInfo.rollbackTriggeringDeploymentId } : {}),
        ...(info?.creator ? { creator: info.creator } : {}),
      };
    },
    async answerHook(deploymentId, lifecycleEventHookExecutionId, status) {
      await cd.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId, status }));
    },
  };
}

/**
 * The Lambda target's AllowTraffic lifecycle event (ListDeploymentTargets, BatchGetDeploymentTargets): when it
 * started (the canary's first request) and, once its status is Succeeded, when it ended (all traffic on the new
 * version: the AfterAllowTraffic hook runs after it). The deployment's own state, never inferred from samples.
 */
async function allowTraffic(cd: CodeDeployClient, deploymentId: string): Promise<{ startedAt?: number; completedAt?: number }> {
  const targetIds = (await cd.send(new ListDeploymentTargetsCommand({ deploymentId }))).targetIds ?? [];
  if (targetIds.length === 0) return {};
  const out = await cd.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: targetIds.slice(0, 25) }));
  for (const t of out.deploymentTargets ?? []) {
    const allow = t.lambdaTarget?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'AllowTraffic');
    if (!allow?.startTime) continue;
    return {
      startedAt: new Date(allow.startTime).getTime(),
      ...(allow.status === 'Succeeded' && allow.endTime ? { completedAt: new Date(allow.endTime).getTime() } : {}),
    };
  }
  return {};
}

export { s3State } from './s3-state';

/**
 * The verdict and cannot-judge metrics of `service`. With `platform` (the judge host's name prefix, JUDGE_ENV.PLATFORM)
 * the cannot-judge datum is also published under the Platform dimension alone, in the same call: the host's one
 * cannot-judge alarm watches that (issue 15-E); the per-service datum stays for the review and an operator.
 */
export function verdictMetric(cw: CloudWatchClient, service: string, clock: Clock, platform?: string): VerdictPort {
  const put = async (metricName: string, plane: ReleasePlane, value: 0 | 1, perPlatform = false) => {
    const datum = (Dimensions: { Name: string; Value: string }[]) => ({
      MetricName: metricName,
      Dimensions,
      Value: value,
      Unit: 'None' as const,
      // High resolution: the verdict alarm uses the release alarms' 10-second period.
      StorageResolution: 1,
      Timestamp: new Date(clock.now()),
    });
    await cw.send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: [
          datum([
            { Name: DIMENSION.SERVICE, Value: service },
            { Name: JUDGE_DIMENSION_PLANE, Value: plane },
          ]),
          ...(perPlatform && platform ? [datum([{ Name: JUDGE_DIMENSION_PLATFORM, Value: platform }])] : []),
        ],
      }),
    );
  };
  return {
    publish: (plane, value) => put(JUDGE_METRIC.VERDICT, plane, value),
    cannotJudge: (plane, value) => put(JUDGE_METRIC.CANNOT_JUDGE, plane, value, true),
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
        // All clients told: the bake started (the event log, newest first), or the rollout reports 100 %.
        const bake = d.EventLog?.find((e) => e.EventType === 'BAKE_TIME_STARTED')?.OccurredAt;
        const full =
          bake ??
          (d.State === 'BAKING' || (d.PercentageComplete ?? 0) >= 100 ? d.EventLog?.find((e) => e.EventType === 'PERCENTAGE_UPDATED')?.OccurredAt : undefined);
        out.push({
          environmentId,
          deploymentNumber: item.DeploymentNumber,
          profileId,
          version: d.ConfigurationVersion,
          ...(d.VersionLabel ? { label: d.VersionLabel } : {}),
          ...(d.StartedAt ? { startedAt: new Date(d.StartedAt).getTime() } : {}),
          ...(d.PercentageComplete !== undefined ? { percentageComplete: d.PercentageComplete } : {}),
          ...(full ? { fullAt: new Date(full).getTime() } : {}),
        });
      }
      return out;
    },
  };
}
