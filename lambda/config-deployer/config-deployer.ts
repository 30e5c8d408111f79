/**
 * The config plane of one release, as a CloudFormation custom resource: deploys one hosted version of a service's
 * release config with its rollout strategy and answers CloudFormation only when AppConfig has finished.
 *
 * Why not AWS::AppConfig::Deployment: that resource only starts a deployment (CloudFormation template reference),
 * so a code canary and a config rollout of one release run at the same time, and a stack rollback deletes the new
 * deployment resource without redeploying the previous config. Here:
 * - Create / Update start the deployment and wait for COMPLETE; ROLLED_BACK (an alarm fired), REVERTED (a person
 *   stopped it) or a spent time budget fail the resource, so CloudFormation rolls the whole stack back;
 * - a stack rollback sends Update with the previous properties: the previous version is redeployed with the
 *   instant strategy (it was live for every client before the release), so both planes end on the previous release;
 *   unless AppConfig already restored it (the release's deployment ended ROLLED_BACK or REVERTED), then nothing is
 *   deployed again;
 * - Delete does nothing: hosted versions are retained, and what clients get is whatever was last deployed.
 *
 * Pure: AppConfig, the clock and sleeping are ports.
 */

/** The resource's properties, as CloudFormation passes them (strings). */
export interface ConfigDeploymentProps {
  readonly Application: string;
  readonly Environment: string;
  readonly Profile: string;
  /** Hosted version number to deploy. */
  readonly Version: string;
  /** The rollout strategy for a release. */
  readonly Strategy: string;
  /** The strategy for going back to a previous version during a stack rollback (instant: it was live before). */
  readonly RollbackStrategy: string;
  readonly Description?: string;
  /** Seconds this deployment may take in all (waiting for a running one included) before it is stopped and failed. */
  readonly BudgetSeconds?: string;
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ConfigDeploymentProps & { readonly ServiceToken?: string };
  readonly OldResourceProperties?: ConfigDeploymentProps;
  readonly PhysicalResourceId?: string;
  readonly LogicalResourceId?: string;
}

export type DeploymentState = 'BAKING' | 'VALIDATING' | 'DEPLOYING' | 'COMPLETE' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'REVERTED' | string;

export interface DeploymentInfo {
  readonly number: number;
  readonly state: DeploymentState;
  readonly profile?: string;
  readonly version?: string;
  readonly percentageComplete?: number;
  /** The event log, newest first as AppConfig returns it. */
  readonly events?: readonly { readonly type?: string; readonly triggeredBy?: string; readonly description?: string }[];
}

/** Port: the AppConfig control plane, for one application. */
export interface AppConfigPort {
  /** Starts a deployment; throws an error named `ConflictException` when another one runs in the environment. */
  start(p: { environment: string; profile: string; version: string; strategy: string; description: string }): Promise<number>;
  get(environment: string, deploymentNumber: number): Promise<DeploymentInfo>;
  /** Deployments of the environment that are still running (DEPLOYING, BAKING, VALIDATING, ROLLING_BACK). */
  running(environment: string): Promise<DeploymentInfo[]>;
  /** The newest deployment of the environment, whatever its state; undefined when there is none. */
  latest(environment: string): Promise<DeploymentInfo | undefined>;
  /** Stops a running deployment (AppConfig rolls it back) or reverts a COMPLETE one within 72 hours. */
  stop(environment: string, deploymentNumber: number): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
  readonly physicalResourceId: string;
  readonly data?: { readonly DeploymentNumber?: string; readonly Version?: string; readonly Direction?: string };
}

/** The running states: AppConfig refuses a second deployment in the environment while one is in any of them. */
export const RUNNING_STATES: readonly string[] = ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'];

const REQUIRED: readonly (keyof ConfigDeploymentProps)[] = ['Application', 'Environment', 'Profile', 'Version', 'Strategy', 'RollbackStrategy'];

export interface HandleOptions {
  /** Milliseconds the handler may spend before it must answer (from the Lambda context, minus a margin). */
  readonly budgetMs: number;
  /** How often to poll a deployment. @default 10 s */
  readonly pollMs?: number;
}

export async function handle(event: CustomResourceEvent, appconfig: AppConfigPort, clock: Clock, options: HandleOptions): Promise<Outcome> {
  const props = event.ResourceProperties;
  const physicalResourceId = event.PhysicalResourceId ?? `${props?.Application}/${props?.Environment}/${props?.Profile}`;
  // Nothing to undo: hosted versions are retained and clients keep the last deployed config.
  if (event.RequestType === 'Delete') return { status: 'SUCCESS', physicalResourceId };

  const missing = REQUIRED.filter((k) => typeof props?.[k] !== 'string' || props[k] === '');
  if (missing.length > 0) return { status: 'FAILED', physicalResourceId, reason: `config deployment: missing properties ${missing.join(', ')}` };
  if (!/^\d+$/.test(props.Version))
    return { status: 'FAILED', physicalResourceId, reason: `config deployment: Version must be a hosted version number, got "${props.Version}"` };

  const old = event.RequestType === 'Update' ? event.OldResourceProperties : undefined;
  const sameTarget = old !== undefined && old.Environment === props.Environment && old.Profile === props.Profile;
  if (sameTarget && old.Version === props.Version) {
    // Only the strategy or description changed: the version is already what clients get.
    return { status: 'SUCCESS', physicalResourceId, data: { Version: props.Version, Direction: 'unchanged' } };
  }
  // Hosted version numbers only grow (a changed config is a new version), so an Update to a lower number is
  // CloudFormation restoring the previous release during a stack rollback.
  const rollback = sameTarget && /^\d+$/.test(old.Version) && Number(props.Version) < Number(old.Version);
  if (rollback) {
    // AppConfig already put the previous version back when an alarm rolled the release back (ROLLED_BACK) or it was
    // reverted (REVERTED): that is usually why CloudFormation is rolling back. Deploying the previous version again
    // would be judged by the alarm that is still in ALARM, and a FAILED answer now leaves the stack in
    // UPDATE_ROLLBACK_FAILED. So only a release that COMPLETED (a later resource failed) or is still running is undone.
    const last = await appconfig.latest(props.Environment);
    if (last && last.profile === props.Profile && last.version === old?.Version && (last.state === 'ROLLED_BACK' || last.state === 'REVERTED')) {
      return {
        status: 'SUCCESS',
        physicalResourceId,
        reason: `deployment #${last.number} of version ${last.version} ended ${last.state}; AppConfig already serves the previous version`,
        data: { DeploymentNumber: String(last.number), Version: props.Version, Direction: 'rollback' },
      };
    }
  }
  const strategy = rollback ? props.RollbackStrategy : props.Strategy;
  const budgetMs = Math.min(options.budgetMs, props.BudgetSeconds && /^\d+$/.test(props.BudgetSeconds) ? Number(props.BudgetSeconds) * 1000 : Infinity);
  const deadline = clock.now() + budgetMs;
  const pollMs = options.pollMs ?? 10_000;
  const env = props.Environment;
  const what = `version ${props.Version} of profile ${props.Profile} in environment ${env}`;
  const fail = (reason: string, deploymentNumber?: number): Outcome => ({
    status: 'FAILED',
    physicalResourceId,
    reason,
    data: { Version: props.Version, ...(deploymentNumber !== undefined ? { DeploymentNumber: String(deploymentNumber) } : {}) },
  });

  // AppConfig runs one deployment per environment. The release CloudFormation is abandoning (the failed one, on a
  // rollback) is stopped, which reverts it; any other running deployment is waited for, within the budget.
  let number: number | undefined;
  while (number === undefined) {
    const running = await appconfig.running(env);
    const abandoned = rollback ? running.filter((d) => d.profile === props.Profile && d.version === old?.Version && d.state !== 'ROLLING_BACK') : [];
    for (const d of abandoned) await appconfig.stop(env, d.number);
    const others = running.filter((d) => !abandoned.includes(d));
    if (others.length === 0) {
      try {
        number = await appconfig.start({
          environment: env,
          profile: props.Profile,
          version: props.Version,
          strategy,
          description: `${props.Description ?? 'release config'}${rollback ? ' (stack rollback: back to the previous version, instant)' : ''}`,
        });
        break;
      } catch (e) {
        if ((e as { name?: string }).name !== 'ConflictException') throw e;
        // Another deployment started between the look and the start: wait for it like any other.
      }
    }
    if (clock.now() + pollMs > deadline) {
      const d = others[0];
      return fail(
        d
          ? `cannot deploy ${what}: deployment #${d.number} (version ${d.version ?? '?'} of profile ${d.profile ?? '?'}) is still ${d.state} and AppConfig runs one deployment per environment at a time; wait for it to finish or stop it (aws appconfig stop-deployment), then deploy again`
          : `cannot deploy ${what}: AppConfig kept reporting a conflicting deployment; retry the deployment`,
      );
    }
    await clock.sleep(pollMs);
  }

  for (;;) {
    const d = await appconfig.get(env, number);
    if (d.state === 'COMPLETE') {
      return {
        status: 'SUCCESS',
        physicalResourceId,
        data: { DeploymentNumber: String(number), Version: props.Version, Direction: rollback ? 'rollback' : 'release' },
      };
    }
    if (d.state === 'ROLLED_BACK' || d.state === 'REVERTED') {
      return fail(`config deployment #${number} of ${what} ended ${d.state}: ${rollbackCause(d)}; AppConfig restored the previous version`, number);
    }
    if (clock.now() + pollMs > deadline) {
      const { state, percentageComplete } = d;
      // A release that did not finish in time must not keep rolling out while CloudFormation rolls back.
      await appconfig.stop(env, number).catch(() => undefined);
      return fail(
        `config deployment #${number} of ${what} was still ${state} (${percentageComplete ?? '?'} %) after ${Math.round(budgetMs / 1000)} s, its time budget; stopped it (AppConfig reverts to the previous version). Shorten the config rollout (deploymentDuration + finalBake) or look for what kept it running`,
        number,
      );
    }
    await clock.sleep(pollMs);
  }
}

/** Who or what rolled a deployment back, from its event log: the alarm ARN when an alarm did. */
export function rollbackCause(d: DeploymentInfo): string {
  const ev = (d.events ?? []).find((e) => e.type === 'ROLLBACK_STARTED') ?? (d.events ?? []).find((e) => e.triggeredBy === 'CLOUDWATCH_ALARM');
  if (!ev) return d.state === 'REVERTED' ? 'it was stopped before it finished' : 'no rollback event recorded';
  const by = ev.triggeredBy === 'CLOUDWATCH_ALARM' ? 'an alarm' : ev.triggeredBy === 'USER' ? 'a person' : (ev.triggeredBy ?? 'unknown').toLowerCase();
  return `rolled back by ${by}${ev.description ? ` (${ev.description})` : ''}`;
}
