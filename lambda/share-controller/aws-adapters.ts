/**
 * The share controller's ports over AWS: AppConfig (share document and promotion), CloudWatch (alarm states), S3
 * (its record and the judge's). Thin: every decision is in controller.ts.
 */
import {
  type AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type JudgeRecord, type JudgeVerdict, judgeKey, SHARE_STATE_PREFIX, type ShareControllerRecord, shareKey } from '../shared/contract';
import type { AlarmState, ControllerPorts, LivePort, SharePort } from './controller';

export interface ShareIds {
  readonly application: string;
  readonly shareEnvironment: string;
  readonly shareProfile: string;
  readonly liveEnvironment: string;
  readonly configProfile: string;
  readonly strategy: string;
}

/** Deployment states that hold an environment (AppConfig runs one deployment at a time per environment). */
const IN_PROGRESS = new Set(['BAKING', 'VALIDATING', 'DEPLOYING', 'ROLLING_BACK', 'REVERTING']);
const name = (e: unknown) => (e as { name?: string } | null)?.name ?? 'Error';

/**
 * The share document's store. Only the controller deploys to the share environment, with the instant strategy, so a
 * deployment there is over within seconds; should one still hold the environment (ConflictException), it is stopped
 * and the new share started: the newest share always wins, and a rollback is never kept waiting.
 */
export function appConfigShare(client: AppConfigClient, ids: ShareIds, sleep: (ms: number) => Promise<void>): SharePort {
  return {
    async deploy(doc, description) {
      const created = await client.send(
        new CreateHostedConfigurationVersionCommand({
          ApplicationId: ids.application,
          ConfigurationProfileId: ids.shareProfile,
          Content: new TextEncoder().encode(JSON.stringify(doc)),
          ContentType: 'application/json',
          Description: description.slice(0, 1024),
        }),
      );
      const start = () =>
        client.send(
          new StartDeploymentCommand({
            ApplicationId: ids.application,
            EnvironmentId: ids.shareEnvironment,
            ConfigurationProfileId: ids.shareProfile,
            ConfigurationVersion: String(created.VersionNumber),
            DeploymentStrategyId: ids.strategy,
            Description: description.slice(0, 1024),
          }),
        );
      for (let attempt = 1; ; attempt++) {
        try {
          await start();
          return;
        } catch (e) {
          if (name(e) !== 'ConflictException' || attempt >= 4) throw e;
          // Stop whatever holds the environment: an earlier share of this controller, never another release.
          const page = await client.send(new ListDeploymentsCommand({ ApplicationId: ids.application, EnvironmentId: ids.shareEnvironment, MaxResults: 10 }));
          for (const d of page.Items ?? [])
            if (d.DeploymentNumber !== undefined && IN_PROGRESS.has(d.State ?? ''))
              await client
                .send(new StopDeploymentCommand({ ApplicationId: ids.application, EnvironmentId: ids.shareEnvironment, DeploymentNumber: d.DeploymentNumber }))
                .catch(() => undefined);
          await sleep(250 * attempt);
        }
      }
    },
  };
}

/** Promotion: the passed version to the live environment, instantly (its gate check lets a passed version start). */
export function appConfigLive(client: AppConfigClient, ids: ShareIds): LivePort {
  return {
    async deploy(candidateVersion, description) {
      const out = await client.send(
        new StartDeploymentCommand({
          ApplicationId: ids.application,
          EnvironmentId: ids.liveEnvironment,
          ConfigurationProfileId: ids.configProfile,
          ConfigurationVersion: candidateVersion,
          DeploymentStrategyId: ids.strategy,
          Description: description.slice(0, 1024),
        }),
      );
      if (out.DeploymentNumber === undefined) throw new Error('AppConfig StartDeployment answered without a DeploymentNumber');
      return out.DeploymentNumber;
    },
    async state(deploymentNumber) {
      const out = await client.send(
        new GetDeploymentCommand({ ApplicationId: ids.application, EnvironmentId: ids.liveEnvironment, DeploymentNumber: deploymentNumber }),
      );
      return out.State ?? 'UNKNOWN';
    },
  };
}

/** Alarm states by name (metric and composite alarms), 100 names per call (DescribeAlarms' limit). */
export async function describeAlarmStates(client: CloudWatchClient, names: readonly string[]): Promise<ReadonlyMap<string, AlarmState>> {
  const states = new Map<string, AlarmState>();
  for (let i = 0; i < names.length; i += 100) {
    const out = await client.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])])
      if (a.AlarmName && a.StateValue) states.set(a.AlarmName, a.StateValue as AlarmState);
  }
  return states;
}

async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await out.Body?.transformToString('utf8');
    return text ? (JSON.parse(text) as T) : undefined;
  } catch (e) {
    if (name(e) === 'NoSuchKey') return undefined;
    throw e;
  }
}

/** The key of the release in progress (or the last one): share/<service>/current.json. */
export function currentKey(service: string): string {
  return `${SHARE_STATE_PREFIX}/${service}/current.json`;
}

/** The controller's record (current, and a copy per release for the review) and the judge's verdict, in S3. */
export function s3Records(s3: S3Client, bucket: string, service: string): Pick<ControllerPorts, 'load' | 'save' | 'verdict'> {
  return {
    load: () => readJson<ShareControllerRecord>(s3, bucket, currentKey(service)),
    async save(record) {
      const Body = JSON.stringify(record);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: currentKey(service), Body, ContentType: 'application/json' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: shareKey(service, record.releaseKey), Body, ContentType: 'application/json' }));
    },
    async verdict(releaseKey): Promise<JudgeVerdict | undefined> {
      return (await readJson<JudgeRecord>(s3, bucket, judgeKey(service, releaseKey)))?.verdict;
    },
  };
}
