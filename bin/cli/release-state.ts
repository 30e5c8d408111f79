import { GetDeploymentCommand as GetAppConfigDeployment, ListDeploymentsCommand as ListAppConfigDeployments } from '@aws-sdk/client-appconfig';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { parse as parseYaml } from 'yaml';
import {
  compositeAlarmNames,
  judgeCannotJudgeAlarmName,
  MANIFEST_COMPONENTS,
  RELEASE_ALARM_KINDS,
  type ReleasePlane,
  releaseAlarmName,
} from '../../lambda/shared/contract';
import { type AwsClients, aws } from './aws';
import type { LocatedService } from './locate';

/** CodeDeploy states of a deployment that has not ended (CodeDeploy API reference, DeploymentStatus). */
export const CODE_ACTIVE = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] as const;
/** AppConfig states of a deployment that has not ended (AppConfig API reference, DeploymentState). */
export const CONFIG_ACTIVE = ['VALIDATING', 'DEPLOYING', 'BAKING', 'ROLLING_BACK'] as const;

/** How a deployment ended, or that it has not. */
export type DeploymentOutcome = 'in-progress' | 'promoted' | 'rolled-back' | 'stopped' | 'failed';

export interface CodeDeploymentState {
  readonly id: string;
  readonly status: string;
  readonly outcome: DeploymentOutcome;
  readonly deploymentConfig: string;
  /** `canary 10 % for 5 min`, `linear 10 % every 1 min`, `all at once`. */
  readonly schedule: string;
  readonly from?: string;
  readonly to?: string;
  /** Share of `live` traffic on the new version, percent (from the alias's routing). */
  readonly trafficPercent?: number;
  /** `1/2` for the canary step, `3/10` for linear. */
  readonly step?: string;
  /** Seconds until all traffic is shifted (estimated from the schedule and the deployment's start). */
  readonly secondsLeft?: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Why it failed or rolled back, as CodeDeploy says it. */
  readonly message?: string;
  /** The lifecycle event running now (`BeforeAllowTraffic`: the pre-traffic hook, e.g. the regression gate). */
  readonly lifecycleEvent?: string;
}

export interface ConfigDeploymentState {
  readonly environment: 'release' | 'degrade';
  readonly number: number;
  readonly state: string;
  readonly outcome: DeploymentOutcome;
  readonly percentage: number;
  readonly version: string;
  readonly label?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMinutes: number;
  readonly bakeMinutes: number;
  /** Seconds of the final bake left (BAKING), or of rollout plus bake (DEPLOYING). */
  readonly secondsLeft?: number;
  /** The rollback's cause, from the event log (the alarm ARN or the user). */
  readonly message?: string;
}

export interface AlarmState {
  readonly name: string;
  readonly plane: ReleasePlane | 'composite' | 'cost-guard' | 'judge';
  readonly state: string;
  readonly since?: string;
  readonly reason?: string;
}

/** Where a service's release stands: deployments on both planes, alarms, and what is served. */
export interface ReleaseStatus {
  readonly service: string;
  readonly stack: string;
  readonly at: string;
  readonly releaseId: string;
  /** The deployed version tuple (labels), from the deployed manifest. */
  readonly tuple: Readonly<Record<string, string>>;
  readonly served: { readonly alias: string; readonly version?: string; readonly weights: Readonly<Record<string, number>> };
  readonly code?: CodeDeploymentState;
  readonly config?: ConfigDeploymentState;
  readonly degrade?: ConfigDeploymentState;
  readonly alarms: readonly AlarmState[];
  /** `in-progress` while a deployment on either plane runs; else how the latest one ended, `idle` with none. */
  readonly phase: DeploymentOutcome | 'idle';
}

/** Reads where the release of a located service stands. `now` is epoch ms. */
export async function readReleaseStatus(clients: AwsClients, located: LocatedService, now: number): Promise<ReleaseStatus> {
  const { locators, manifest, service } = located;
  const [served, code, config, degrade, alarms] = await Promise.all([
    readAlias(clients, locators.function, locators.alias),
    readCodeDeployment(clients, locators.codeDeploy.application, locators.codeDeploy.deploymentGroup),
    readConfigDeployment(clients, locators.appConfig.application, locators.appConfig.environment, 'release', now),
    readConfigDeployment(clients, locators.appConfig.application, locators.appConfig.degradeEnvironment, 'degrade', now),
    readAlarms(clients, locators.stack, service),
  ]);
  const withTraffic = code ? codeTraffic(code.state, code.schedule, served, now) : undefined;
  return {
    service,
    stack: locators.stack,
    at: new Date(now).toISOString(),
    releaseId: manifest.releaseId,
    tuple: {
      ...Object.fromEntries(MANIFEST_COMPONENTS.map((c) => [c, manifest.components[c]?.label ?? 'none'])),
      config: manifest.configLabel,
      degrade: manifest.degradeLabel,
    },
    served,
    ...(withTraffic ? { code: withTraffic } : {}),
    ...(config ? { config } : {}),
    ...(degrade ? { degrade } : {}),
    alarms,
    phase: phaseOf([withTraffic, config, degrade]),
  };
}

/**
 * What `rollback` needs and nothing more: the code deployment and the release config's deployment. An emergency lever
 * must not fail on a read it can do without, so the alias (for the traffic share shown) is best effort.
 */
export async function readRollbackTargets(
  clients: AwsClients,
  located: LocatedService,
  now: number,
): Promise<{ code?: CodeDeploymentState; config?: ConfigDeploymentState }> {
  const { locators } = located;
  const [served, code, config] = await Promise.all([
    readAlias(clients, locators.function, locators.alias).catch(() => ({ alias: locators.alias, weights: {} })),
    readCodeDeployment(clients, locators.codeDeploy.application, locators.codeDeploy.deploymentGroup),
    readConfigDeployment(clients, locators.appConfig.application, locators.appConfig.environment, 'release', now),
  ]);
  return { ...(code ? { code: codeTraffic(code.state, code.schedule, served, now) } : {}), ...(config ? { config } : {}) };
}

/**
 * How one deployment seen earlier stands now, by its watch key (`code:<id>`, `config:<number>`, `degrade:<number>`):
 * for a deployment that is no longer the latest (CloudFormation's rollback started another one).
 */
export async function deploymentOutcome(clients: AwsClients, located: LocatedService, key: string): Promise<DeploymentOutcome> {
  const [plane, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (plane === 'code') {
    const d = (await aws(`codedeploy:GetDeployment ${id}`, () => clients.codeDeploy.send(new GetDeploymentCommand({ deploymentId: id })))).deploymentInfo;
    return codeOutcome(d?.status ?? 'unknown', d?.rollbackInfo?.rollbackMessage, d?.errorInformation?.code);
  }
  const { appConfig } = located.locators;
  const environment = plane === 'degrade' ? appConfig.degradeEnvironment : appConfig.environment;
  const d = await aws(`appconfig:GetDeployment ${appConfig.application}/${environment}/${id}`, () =>
    clients.appConfig.send(new GetAppConfigDeployment({ ApplicationId: appConfig.application, EnvironmentId: environment, DeploymentNumber: Number(id) })),
  );
  return configOutcome(String(d.State ?? 'unknown'));
}

/** Deployments read at most by `outcomesSince`, per plane. */
const SINCE_MAX = 20;

/**
 * The code and release-config deployments started at or after `since`, by watch key, with their outcomes: what
 * `status --watch --since` judges, so a release that rolled back before the watch began (CloudFormation then put the
 * previous release back, successfully) still ends the watch as rolled back.
 */
export async function outcomesSince(clients: AwsClients, located: LocatedService, since: Date): Promise<Map<string, DeploymentOutcome>> {
  const { codeDeploy, appConfig } = located.locators;
  const found = new Map<string, DeploymentOutcome>();
  const ids = await aws(`codedeploy:ListDeployments ${codeDeploy.application}/${codeDeploy.deploymentGroup}`, () =>
    clients.codeDeploy.send(
      new ListDeploymentsCommand({
        applicationName: codeDeploy.application,
        deploymentGroupName: codeDeploy.deploymentGroup,
        createTimeRange: { start: since },
      }),
    ),
  );
  for (const id of (ids.deployments ?? []).slice(0, SINCE_MAX)) found.set(`code:${id}`, await deploymentOutcome(clients, located, `code:${id}`));
  const list = await aws(`appconfig:ListDeployments ${appConfig.application}/${appConfig.environment}`, () =>
    clients.appConfig.send(new ListAppConfigDeployments({ ApplicationId: appConfig.application, EnvironmentId: appConfig.environment, MaxResults: SINCE_MAX })),
  );
  for (const d of list.Items ?? []) {
    if (d.DeploymentNumber !== undefined && d.StartedAt && d.StartedAt.getTime() >= since.getTime()) {
      found.set(`config:${d.DeploymentNumber}`, configOutcome(String(d.State)));
    }
  }
  return found;
}

/** In progress when either plane runs; else the outcome of the deployment that ended last. */
export function phaseOf(deployments: readonly ({ outcome: DeploymentOutcome; endedAt?: string; startedAt?: string } | undefined)[]): ReleaseStatus['phase'] {
  const present = deployments.filter((d): d is NonNullable<typeof d> => d !== undefined);
  if (present.some((d) => d.outcome === 'in-progress')) return 'in-progress';
  const last = present.sort((a, b) => (a.endedAt ?? a.startedAt ?? '').localeCompare(b.endedAt ?? b.startedAt ?? '')).pop();
  return last?.outcome ?? 'idle';
}

async function readAlias(clients: AwsClients, functionName: string, alias: string): Promise<ReleaseStatus['served']> {
  const out = await aws(`lambda:GetAlias ${functionName}:${alias}`, () =>
    clients.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })),
  );
  const extra = out.RoutingConfig?.AdditionalVersionWeights ?? {};
  const extraTotal = Object.values(extra).reduce((a, b) => a + b, 0);
  const weights: Record<string, number> = {};
  if (out.FunctionVersion) weights[out.FunctionVersion] = round1((1 - extraTotal) * 100);
  for (const [v, w] of Object.entries(extra)) weights[v] = round1(w * 100);
  return { alias, ...(out.FunctionVersion ? { version: out.FunctionVersion } : {}), weights };
}

async function readCodeDeployment(
  clients: AwsClients,
  application: string,
  group: string,
): Promise<{ state: CodeDeploymentState; schedule: Schedule } | undefined> {
  const cd = clients.codeDeploy;
  const active = await aws(`codedeploy:ListDeployments ${application}/${group}`, () =>
    cd.send(new ListDeploymentsCommand({ applicationName: application, deploymentGroupName: group, includeOnlyStatuses: [...CODE_ACTIVE] })),
  );
  let id = active.deployments?.[0];
  if (!id) {
    const info = await aws(`codedeploy:GetDeploymentGroup ${application}/${group}`, () =>
      cd.send(new GetDeploymentGroupCommand({ applicationName: application, deploymentGroupName: group })),
    );
    id = info.deploymentGroupInfo?.lastAttemptedDeployment?.deploymentId;
  }
  if (!id) return undefined;
  const deploymentId = id;
  const d = (await aws(`codedeploy:GetDeployment ${deploymentId}`, () => cd.send(new GetDeploymentCommand({ deploymentId })))).deploymentInfo ?? {};
  const configName = d.deploymentConfigName ?? 'unknown';
  const routing = (
    await aws(`codedeploy:GetDeploymentConfig ${configName}`, () => cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: configName })))
  ).deploymentConfigInfo?.trafficRoutingConfig;
  const schedule = scheduleOf(routing);
  const versions = appSpecVersions(d.revision?.appSpecContent?.content ?? d.revision?.string?.content);
  const status = d.status ?? 'unknown';
  const target = (CODE_ACTIVE as readonly string[]).includes(status) ? await lambdaTarget(clients, deploymentId) : undefined;
  const running = target?.lifecycleEvents?.find((e) => e.status === 'InProgress')?.lifecycleEventName;
  // Traffic starts to shift when AllowTraffic starts, after the pre-traffic hook: the schedule runs from there.
  const shiftStart = target?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'AllowTraffic')?.startTime;
  const startedAt = (shiftStart ?? d.startTime ?? d.createTime)?.toISOString();
  const state: CodeDeploymentState = {
    id: deploymentId,
    status,
    outcome: codeOutcome(status, d.rollbackInfo?.rollbackMessage, d.errorInformation?.code),
    deploymentConfig: configName,
    schedule: schedule.describe,
    ...versions,
    ...(startedAt ? { startedAt } : {}),
    ...(d.completeTime ? { endedAt: d.completeTime.toISOString() } : {}),
    ...(d.rollbackInfo?.rollbackMessage || d.errorInformation?.message ? { message: d.rollbackInfo?.rollbackMessage ?? d.errorInformation?.message } : {}),
    ...(running ? { lifecycleEvent: running } : {}),
  };
  return { state, schedule };
}

/**
 * The Lambda target of a running deployment: its lifecycle events (hooks, AllowTraffic) and their times. Best effort:
 * without it (a role lacking the two read actions) the schedule runs from the deployment's start.
 */
async function lambdaTarget(clients: AwsClients, deploymentId: string) {
  try {
    const ids = await clients.codeDeploy.send(new ListDeploymentTargetsCommand({ deploymentId }));
    const targetId = ids.targetIds?.[0];
    if (!targetId) return undefined;
    return (await clients.codeDeploy.send(new GetDeploymentTargetCommand({ deploymentId, targetId }))).deploymentTarget?.lambdaTarget;
  } catch {
    return undefined;
  }
}

/** Adds the traffic share, step and time left from the alias's routing and the schedule. */
function codeTraffic(rest: CodeDeploymentState, schedule: Schedule, served: ReleaseStatus['served'], now: number): CodeDeploymentState {
  if (rest.outcome !== 'in-progress') return rest;
  // Before AllowTraffic starts (the pre-traffic hook runs), the whole schedule is still ahead.
  const beforeTraffic = rest.lifecycleEvent === 'BeforeAllowTraffic';
  const started = rest.startedAt && !beforeTraffic ? Date.parse(rest.startedAt) : now;
  const secondsLeft = Math.max(0, Math.round((started + schedule.totalMinutes * 60_000 - now) / 1000));
  if (served.version === undefined || !rest.to) return { ...rest, secondsLeft }; // no alias read or no target version: share unknown
  const trafficPercent = served.weights[rest.to] ?? 0;
  const step = schedule.steps > 1 ? `${Math.min(schedule.steps, Math.max(1, Math.round(trafficPercent / schedule.stepPercent)))}/${schedule.steps}` : undefined;
  return { ...rest, trafficPercent, ...(step ? { step } : {}), secondsLeft };
}

interface Schedule {
  readonly describe: string;
  readonly totalMinutes: number;
  /** Traffic steps before 100 %, plus the last. */
  readonly steps: number;
  readonly stepPercent: number;
}

/** The deployment config's traffic routing (GetDeploymentConfig: trafficRoutingConfig). */
export function scheduleOf(
  routing:
    | {
        type?: string;
        timeBasedCanary?: { canaryPercentage?: number; canaryInterval?: number };
        timeBasedLinear?: { linearPercentage?: number; linearInterval?: number };
      }
    | undefined,
): Schedule {
  if (routing?.type === 'TimeBasedCanary' && routing.timeBasedCanary) {
    const pct = routing.timeBasedCanary.canaryPercentage ?? 0;
    const interval = routing.timeBasedCanary.canaryInterval ?? 0;
    return { describe: `canary ${pct} % for ${interval} min`, totalMinutes: interval, steps: 2, stepPercent: pct || 100 };
  }
  if (routing?.type === 'TimeBasedLinear' && routing.timeBasedLinear) {
    const pct = routing.timeBasedLinear.linearPercentage ?? 100;
    const interval = routing.timeBasedLinear.linearInterval ?? 0;
    const steps = Math.ceil(100 / pct);
    return { describe: `linear ${pct} % every ${interval} min`, totalMinutes: (steps - 1) * interval, steps, stepPercent: pct };
  }
  return { describe: 'all at once', totalMinutes: 0, steps: 1, stepPercent: 100 };
}

/** CurrentVersion and TargetVersion from a Lambda AppSpec (JSON or YAML). */
export function appSpecVersions(content: string | undefined): { from?: string; to?: string } {
  if (!content) return {};
  let spec: { Resources?: Record<string, { Properties?: { CurrentVersion?: unknown; TargetVersion?: unknown } }>[] };
  try {
    spec = parseYaml(content); // YAML is a superset of JSON: one parser for both AppSpec forms
  } catch {
    return {};
  }
  for (const entry of spec?.Resources ?? []) {
    for (const r of Object.values(entry ?? {})) {
      const p = r?.Properties;
      if (p)
        return {
          ...(p.CurrentVersion !== undefined ? { from: String(p.CurrentVersion) } : {}),
          ...(p.TargetVersion !== undefined ? { to: String(p.TargetVersion) } : {}),
        };
    }
  }
  return {};
}

/** CodeDeploy's status as an outcome: a failed deployment whose rollback ran is `rolled-back`. */
export function codeOutcome(status: string, rollbackMessage?: string, errorCode?: string): DeploymentOutcome {
  if ((CODE_ACTIVE as readonly string[]).includes(status)) return 'in-progress';
  if (status === 'Succeeded') return 'promoted';
  if (status === 'Stopped') return errorCode === 'ALARM_ACTIVE' ? 'rolled-back' : 'stopped';
  if (status === 'Failed') return rollbackMessage || errorCode === 'ALARM_ACTIVE' || errorCode === 'DEPLOYMENT_GROUP_MISSING' ? 'rolled-back' : 'failed';
  return 'failed';
}

async function readConfigDeployment(
  clients: AwsClients,
  application: string,
  environment: string,
  which: 'release' | 'degrade',
  now: number,
): Promise<ConfigDeploymentState | undefined> {
  const list = await aws(`appconfig:ListDeployments ${application}/${environment}`, () =>
    clients.appConfig.send(new ListAppConfigDeployments({ ApplicationId: application, EnvironmentId: environment, MaxResults: 5 })),
  );
  // "Lists the deployments for an environment in descending deployment number order" (AppConfig API reference,
  // ListDeployments): the first item is the latest deployment.
  const latest = list.Items?.[0];
  if (latest?.DeploymentNumber === undefined) return undefined;
  const number = latest.DeploymentNumber;
  const d = await aws(`appconfig:GetDeployment ${application}/${environment}/${number}`, () =>
    clients.appConfig.send(new GetAppConfigDeployment({ ApplicationId: application, EnvironmentId: environment, DeploymentNumber: number })),
  );
  const state = String(d.State ?? latest.State ?? 'unknown');
  const durationMinutes = d.DeploymentDurationInMinutes ?? latest.DeploymentDurationInMinutes ?? 0;
  const bakeMinutes = d.FinalBakeTimeInMinutes ?? latest.FinalBakeTimeInMinutes ?? 0;
  const events = d.EventLog ?? [];
  const at = (type: string) => events.find((e) => e.EventType === type)?.OccurredAt;
  const startedAt = (d.StartedAt ?? latest.StartedAt)?.toISOString();
  const endedAt = (d.CompletedAt ?? latest.CompletedAt)?.toISOString();
  let secondsLeft: number | undefined;
  if (state === 'BAKING') {
    const bakeStart = at('BAKE_TIME_STARTED')?.getTime() ?? now;
    secondsLeft = Math.max(0, Math.round((bakeStart + bakeMinutes * 60_000 - now) / 1000));
  } else if (state === 'DEPLOYING' || state === 'VALIDATING') {
    const start = startedAt ? Date.parse(startedAt) : now;
    secondsLeft = Math.max(0, Math.round((start + (durationMinutes + bakeMinutes) * 60_000 - now) / 1000));
  }
  const rollback = events.find((e) => e.EventType === 'ROLLBACK_STARTED');
  const label = (d as { VersionLabel?: string }).VersionLabel ?? (latest as { VersionLabel?: string }).VersionLabel;
  return {
    environment: which,
    number,
    state,
    outcome: configOutcome(state),
    percentage: d.PercentageComplete ?? latest.PercentageComplete ?? 0,
    version: d.ConfigurationVersion ?? latest.ConfigurationVersion ?? '',
    ...(label ? { label } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
    durationMinutes,
    bakeMinutes,
    ...(secondsLeft !== undefined ? { secondsLeft } : {}),
    ...(rollback ? { message: `${rollback.TriggeredBy ?? 'unknown'}: ${rollback.Description ?? 'rollback started'}` } : {}),
  };
}

/** AppConfig's state as an outcome. REVERTED: a completed deployment taken back (StopDeployment with AllowRevert). */
export function configOutcome(state: string): DeploymentOutcome {
  if ((CONFIG_ACTIVE as readonly string[]).includes(state)) return 'in-progress';
  if (state === 'COMPLETE') return 'promoted';
  if (state === 'ROLLED_BACK' || state === 'REVERTED') return 'rolled-back';
  return 'failed';
}

/** Every alarm the library names for a service (release-alarms.ts and ai-release.ts), in one DescribeAlarms call. */
export function alarmNamesOf(stack: string, service: string): { name: string; plane: AlarmState['plane'] }[] {
  const composite = compositeAlarmNames(stack, service);
  return [
    ...(['code', 'config'] as const).flatMap((plane) => RELEASE_ALARM_KINDS.map((kind) => ({ name: releaseAlarmName(stack, service, plane, kind), plane }))),
    { name: composite.config, plane: 'composite' as const },
    { name: composite.any, plane: 'composite' as const },
    { name: `${stack}-${service}-cost-guard`.slice(0, 255), plane: 'cost-guard' as const },
    // The canary judge could not judge a release in progress (pages only, never rolls back).
    // One per platform (issue 15-E): named by the platform's prefix, which is `stack` when the platform shares the stack.
    { name: judgeCannotJudgeAlarmName(stack), plane: 'judge' as const },
  ];
}

async function readAlarms(clients: AwsClients, stack: string, service: string): Promise<AlarmState[]> {
  const wanted = alarmNamesOf(stack, service);
  const plane = new Map(wanted.map((w) => [w.name, w.plane]));
  const out = await aws('cloudwatch:DescribeAlarms', () =>
    clients.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: wanted.map((w) => w.name), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })),
  );
  const all = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
  const order = new Map(wanted.map((w, i) => [w.name, i]));
  return all
    .filter((a) => a.AlarmName && plane.has(a.AlarmName))
    .sort((a, b) => order.get(a.AlarmName!)! - order.get(b.AlarmName!)!)
    .map((a) => ({
      name: a.AlarmName!,
      plane: plane.get(a.AlarmName!)!,
      state: String(a.StateValue ?? 'unknown'),
      ...(a.StateUpdatedTimestamp ? { since: a.StateUpdatedTimestamp.toISOString() } : {}),
      ...(a.StateReason ? { reason: a.StateReason } : {}),
    }));
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
