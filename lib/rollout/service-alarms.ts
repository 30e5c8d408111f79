/**
 * The release alarms of one service as AiRelease sets them up: the traffic and base rates checked, the alarm period
 * chosen from the stated traffic when none is given (the shortest at which the first canary step can be judged), the
 * thresholds from the release config, and where the alarms act — the composite is the config plane's AppConfig
 * monitor and notifies the platform's topic. (The alarms themselves: release-alarms.ts.) Built inside the AiRelease
 * (`scope`), so the alarms' construct ids are the ones they always had.
 */
import { Duration } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import type { ModelConfig, OutputContractConfig } from '../../lambda/shared/contract';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import type { AiServiceConfig } from '../config/ai-service-config';
import { namePrefix } from '../private/physical-names';
import { validateBaseRates } from './false-fire';
import { ReleaseAlarms } from './release-alarms';
import { judgeablePeriodSeconds, watchedPercent } from './release-policy';
import type { TrafficShift } from './traffic-shift';

export interface ServiceAlarms {
  readonly alarms: ReleaseAlarms;
  /** Per plane, whether its period was chosen from `expectedRequestsPerSecond` (the card says so). */
  readonly periodFromTraffic: { readonly code: boolean; readonly config: boolean };
}

export function buildServiceAlarms(
  scope: Construct,
  props: AiReleaseProps,
  p: { readonly platform: AiReleasePlatform; readonly config: AiServiceConfig; readonly version: string; readonly trafficShift: TrafficShift },
): ServiceAlarms {
  const model = p.config.config.model as ModelConfig;
  const contract = p.config.config.outputContract as OutputContractConfig;
  // A plane that can really be judged: with the traffic stated and no period given for it (its own or the shared
  // one), the shortest period at which its alarms see, on average, twice the invocation guard per period (the worst
  // case follows from what is synthesized). The code plane needs a canary (an all-at-once shift has nothing to judge).
  const rps = props.expectedRequestsPerSecond;
  if (rps !== undefined) positiveRps(rps);
  validateBaseRates(props.baseRates);
  const minInvocations = props.alarms?.minInvocations ?? 5;
  const choose = (plane: 'code' | 'config') =>
    rps !== undefined &&
    props.alarms?.period === undefined &&
    props.alarms?.[plane]?.period === undefined &&
    (plane === 'config' || p.trafficShift.steps.length >= 2)
      ? Duration.seconds(judgeablePeriodSeconds(rps, watchedPercent(plane, p.trafficShift.firstStepPercent), minInvocations))
      : undefined;
  const chosen = { code: choose('code'), config: choose('config') };
  const alarms = new ReleaseAlarms(scope, 'Alarms', {
    serviceName: props.serviceName,
    version: p.version,
    configDefaults: { maxCostPerRequestUsd: model.maxCostPerRequestUsd, qualityFloor: contract.qualityFloor },
    // Named from the platform's stack: its topic policy and reviewer allow alarms `<its prefix>-*` (physical-names.ts).
    namePrefix: namePrefix(p.platform),
    runbookHint: `dashboard ${namePrefix(p.platform)}-${props.serviceName}`,
    judgeVerdict: props.canaryJudge !== false,
    ...props.alarms,
    ...(chosen.code ? { code: { ...props.alarms?.code, period: chosen.code } } : {}),
    ...(chosen.config ? { config: { ...props.alarms?.config, period: chosen.config } } : {}),
  });
  return { alarms, periodFromTraffic: { code: chosen.code !== undefined, config: chosen.config !== undefined } };
}

/**
 * Config plane: the AppConfig environment monitors the config plane's alarms (layout 'combined': the guardrail and
 * verdict alarms, 2 of AppConfig's 5; 'perMetric': one composite over them); any alarm notifies.
 */
export function connectAlarmActions(alarms: ReleaseAlarms, config: AiServiceConfig, platform: AiReleasePlatform): void {
  for (const monitor of alarms.configMonitors) config.addMonitor(monitor);
  alarms.anyComposite.addAlarmAction(new cwActions.SnsAction(platform.notificationTopic));
}

function positiveRps(rps: number): number {
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`expectedRequestsPerSecond must be a positive number, got ${rps}`);
  return rps;
}
