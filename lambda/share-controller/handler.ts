import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import { LEARNING_ENV, SHARE_CONTROLLER_ENV as E } from '../shared/contract';
import { appConfigLive, appConfigShare, describeAlarmStates, s3Records } from './aws-adapters';
import { type ControllerEvent, type ControllerPorts, type ControllerSettings, DEFAULT_SHARE_SCHEDULE, handle, parseSchedule } from './controller';
import { deadline, logFailures } from '../shared/sdk-deadline';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the share controller function is created by ConfigShare`);
  return v;
};
const lag = Number(process.env[E.CLIENT_LAG_SECONDS] ?? 20);
if (!Number.isFinite(lag) || lag < 0)
  throw new Error(`environment variable ${E.CLIENT_LAG_SECONDS} must be seconds, 0 or more, got "${process.env[E.CLIENT_LAG_SECONDS]}"`);

const settings: ControllerSettings = {
  service: need(E.SERVICE),
  schedule: process.env[E.SCHEDULE] ? parseSchedule(process.env[E.SCHEDULE] as string) : DEFAULT_SHARE_SCHEDULE,
  alarmNames: (process.env[E.ALARMS] ?? '').split(',').filter((n) => n !== ''),
  clientLagSeconds: lag,
};
const ids = {
  application: need(E.APPLICATION),
  shareEnvironment: need(E.SHARE_ENVIRONMENT),
  shareProfile: need(E.SHARE_PROFILE),
  liveEnvironment: need(E.LIVE_ENVIRONMENT),
  configProfile: need(E.CONFIG_PROFILE),
  strategy: need(E.STRATEGY),
};
const appConfig = logFailures(new AppConfigClient(deadline(10_000)));
const cloudWatch = new CloudWatchClient({});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ports: ControllerPorts = {
  share: appConfigShare(appConfig, ids, sleep),
  live: appConfigLive(appConfig, ids),
  alarms: (names) => describeAlarmStates(cloudWatch, names),
  ...s3Records(logFailures(new S3Client(deadline(10_000))), need(LEARNING_ENV.BUCKET), settings.service),
  now: () => Date.now(),
  log: (message, extra = {}) => console.log(JSON.stringify({ level: 'INFO', message, service: settings.service, ...extra })),
};

/**
 * One look per event: the minute schedule and every state change of a safety-net alarm (EventBridge) are ticks; a
 * start or rollback request names itself. Errors are thrown, so a failed look shows in the function's Errors metric
 * and the next tick looks again.
 */
export async function handler(event: unknown): Promise<unknown> {
  const kind = (event as { kind?: unknown } | null)?.kind;
  const e: ControllerEvent =
    kind === 'ai-release.share-start' || kind === 'ai-release.share-rollback' || kind === 'ai-release.code-canary'
      ? (event as ControllerEvent)
      : { kind: 'tick', reason: String((event as { 'detail-type'?: unknown } | null)?.['detail-type'] ?? 'schedule') };
  const out = await handle(e, ports, settings);
  ports.log('share controller', { event: e.kind, ...out });
  return out;
}
