/**
 * The config plane of one release, as a CloudFormation custom resource behind aws-cdk-lib's Provider framework:
 * deploys one hosted version of a service's release config with its rollout strategy and answers CloudFormation only
 * when AppConfig has finished.
 *
 * Why not AWS::AppConfig::Deployment: that resource only starts a deployment (CloudFormation template reference),
 * so a code canary and a config rollout of one release run at the same time, and a stack rollback deletes the new
 * deployment resource without redeploying the previous config. Here:
 * - onEvent (Create / Update) runs the checks and the gate and starts the deployment; isComplete, asked by the
 *   framework every queryInterval for up to its totalTimeout (CloudFormation waits at most an hour for a custom
 *   resource), waits for COMPLETE; ROLLED_BACK (an alarm fired), REVERTED (a person stopped it) or a spent time
 *   budget fail the resource, so CloudFormation rolls the whole stack back. A rollout longer than one Lambda
 *   invocation (15 minutes), such as AppConfig's Canary10Percent20Minutes (20 + 10 minutes), is waited for;
 * - a stack rollback sends Update with the previous properties: the previous version is redeployed with the
 *   instant strategy (it was live for every client before the release), so both planes end on the previous release;
 *   unless AppConfig already restored it (the release's deployment ended ROLLED_BACK or REVERTED), then nothing is
 *   deployed again;
 * - a request whose version is already live or already rolling out (a repeated or late delivery, or the resource
 *   created anew) follows that deployment instead of starting a second one; with a marker store, a repeated delivery
 *   of one request is recognised by its marker (written with If-None-Match) and follows the first one's deployment;
 * - Delete does nothing: what clients get is whatever was last deployed (the hosted versions are removed by the
 *   profile's version cleanup, version-cleanup.ts).
 *
 * The config gate (README "Config gate"): when the resource names a gate function, a release first deploys the new
 * version to the candidate environment (instant: the runtime reads it only through the `gate` alias), then asks the
 * gate to replay the regression cases through that alias, and starts the live rollout only on a passing report. A
 * failing report, or a gate that errs, fails the resource with the report's one-line summary: `cdk deploy` stops
 * with it and CloudFormation leaves the previous release. A stack rollback is not gated: the previous version was
 * live before (the live environment's gate check allows versions it has already served).
 *
 * The assigned config canary (AiRelease `configCanary: 'assigned'`, the resource names a ShareController): the version
 * is staged in the candidate environment (instant) and gated as above, then handed to the service's share controller
 * with a start request carrying this CloudFormation request's id; the live environment is not deployed by the
 * deployer at all. isComplete follows the controller's record (share/<service>/current.json): `promoted` (the
 * controller deployed the version to the live environment, all at once, and set the share back to 0) succeeds;
 * `rolled-back` (an alarm, the judge's regression, a person, a failed promotion: share 0 at the runtime's next poll)
 * fails the resource, so CloudFormation rolls the stack back, and that rollback finds the live environment still on
 * the previous version (its latest deployment, COMPLETE) and deploys nothing. A stack rollback that finds the
 * abandoned version still on traffic sets its share to 0 first. A repeated or late delivery of the request is a no-op
 * at the controller (the request id), whatever the release's phase by then. The first release of a profile (nothing
 * deployed to the live environment yet) has no live config to compare with or fall back to: it goes live with the
 * rollout strategy, as without the controller.
 *
 * Pure: AppConfig, the gate, the share controller, the clock and sleeping are ports.
 */
import type {
  ConfigGateRequest,
  ConfigGateStoppedCase,
  ConfigGateStoppedEvent,
  GateReport,
  ShareControllerRecord,
  ShareControllerStarted,
  ShareControllerStartEvent,
} from '../shared/contract';
import { CONFIG_GATE_STOPPED_KIND, CONFIG_GATE_STOPPED_MAX_CASES, GATE_ALIAS_NAME, gateKeys, markerKey } from '../shared/contract';
import { eventId, type MarkerStore, take } from '../shared/idempotency';

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
  /** The gate function (ARN). When set, a release is gated; CandidateEnvironment and Service are then required. */
  readonly GateFunction?: string;
  /** The SSM parameter holding the service's gate settings, for a gate shared by a platform's services (ConfigGateRequest.settingsParameter). */
  readonly GateSettings?: string;
  /** The candidate environment the gate replays the new version from. */
  readonly CandidateEnvironment?: string;
  readonly Service?: string;
  /** The version's label (`_release` meta), passed to the gate for its report. */
  readonly ConfigLabel?: string;
  /** Seconds the deployer waits for the gate's answer before it fails the release (the gate's share of the budget). */
  readonly GateTimeoutSeconds?: string;
  /** The platform's review function (name), when reviews are on: asked for the review of a release the gate stopped. */
  readonly ReviewFunction?: string;
  /** The bucket of the request markers (markers/config-deployer/…), when the platform has its store. */
  readonly MarkerBucket?: string;
  /**
   * The service's share controller (function name), when its config canary is assigned (AiRelease `configCanary:
   * 'assigned'`): a release is staged in CandidateEnvironment, gated, and handed to the controller, which moves the
   * share and promotes; the live environment is deployed only by the promotion. CandidateEnvironment, Service,
   * ShareBucket and CandidateContentHash are then required.
   */
  readonly ShareController?: string;
  /** The bucket of the controller's records (share/<service>/current.json), read to follow the release. */
  readonly ShareBucket?: string;
  /** `_release.contentHash` of Version: the runtime assigns to the candidate only while it serves exactly this. */
  readonly CandidateContentHash?: string;
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

/** Port: the regression gate, invoked synchronously; resolves with its report, rejects when it could not answer. */
export type InvokeGate = (request: ConfigGateRequest) => Promise<GateReport>;

/**
 * Port: asks the platform's reviewer for the review of a release the gate stopped (an asynchronous invoke: resolves
 * once Lambda queued the event). A stopped release never starts a live deployment, so no AppConfig action reviews it.
 */
export type AskReview = (event: ConfigGateStoppedEvent) => Promise<void>;

/**
 * Port: the service's share controller (an assigned config canary) and its record. start and rollback are synchronous
 * invokes (the controller's answer, or its error); current reads share/<service>/current.json.
 */
export interface ShareControlPort {
  start(event: ShareControllerStartEvent): Promise<ShareControllerStarted>;
  /** Share 0 for that release, now (the controller ignores it when that release is not ramping or promoting). */
  rollback(releaseKey: string, reason: string): Promise<void>;
  /** The controller's record of the release in progress or the last one; undefined when none ever ran. */
  current(): Promise<ShareControllerRecord | undefined>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
  readonly physicalResourceId: string;
  readonly data?: {
    readonly DeploymentNumber?: string;
    readonly Version?: string;
    readonly Direction?: string;
    /** The gate's verdict and report key, when the release was gated. */
    readonly GateVerdict?: string;
    readonly GateReport?: string;
  };
}

/** The running states: AppConfig refuses a second deployment in the environment while one is in any of them. */
export const RUNNING_STATES: readonly string[] = ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'];

const REQUIRED: readonly (keyof ConfigDeploymentProps)[] = ['Application', 'Environment', 'Profile', 'Version', 'Strategy', 'RollbackStrategy'];

/** Marks the event of an isComplete call: the onEvent answer's Data always carries it (handler.ts dispatches on it). */
export const PHASE_KEY = 'AiReleasePhase';

/**
 * What onEvent hands to isComplete (the Provider framework passes onEvent's answer, Data included, to every
 * isComplete call, and merges isComplete's Data over it in the answer to CloudFormation). Strings: CloudFormation
 * attributes.
 */
export interface WaitData {
  readonly [PHASE_KEY]: 'wait';
  /** Nothing to wait for: isComplete answers complete at once. */
  readonly Done?: 'true';
  /** A repeated delivery of a request another invocation took: isComplete follows that one through its marker. */
  readonly Duplicate?: 'true';
  /** The request's marker key, when markers are on. */
  readonly Marker?: string;
  readonly Environment?: string;
  readonly DeploymentNumber?: string;
  /** Epoch milliseconds after which a still running rollout is stopped and the resource failed. */
  readonly Deadline?: string;
  readonly BudgetSeconds?: string;
  /** The deployment, for messages. */
  readonly What?: string;
  readonly Version?: string;
  readonly Direction?: string;
  readonly Reason?: string;
  readonly GateVerdict?: string;
  readonly GateReport?: string;
  /** The release was handed to the share controller: isComplete follows its record, not a live deployment. */
  readonly Share?: 'true';
  /** The controller's release key of this release. */
  readonly ReleaseKey?: string;
}

export interface OnEventAnswer {
  readonly PhysicalResourceId: string;
  readonly Data: WaitData;
}

export interface IsCompleteAnswer {
  readonly IsComplete: boolean;
  /** Only when complete (the framework refuses Data with IsComplete false). */
  readonly Data?: Readonly<Record<string, string>>;
}

/** The resource failed: the framework answers FAILED with this message (handler.ts caps its size). */
export class ConfigDeploymentFailed extends Error {
  /** What is known of the failed step (the gate's verdict and report, a deployment number), for the log. */
  public readonly data?: Readonly<Record<string, string>>;
  constructor(message: string, data?: Readonly<Record<string, string>>) {
    super(message);
    this.name = 'ConfigDeploymentFailed';
    if (data) this.data = data;
  }
}

/** The request as the Provider framework passes it to onEvent and isComplete. */
export interface ProviderEvent extends CustomResourceEvent {
  readonly RequestId?: string;
  readonly StackId?: string;
  readonly Data?: WaitData;
}

/**
 * The config plane's whole time budget when the resource states none: what CloudFormation waits for a custom resource
 * (ServiceTimeout, at most 3600 s) less the queue age the framework's asynchronous invoke may reach (5 min, its
 * EventInvokeConfig) and a 5-minute margin for the framework's own calls and the answer.
 */
export const DEFAULT_TOTAL_BUDGET_SECONDS = 50 * 60;

export interface OnEventOptions {
  /** Milliseconds this invocation may spend before it must answer (from the Lambda context, minus a margin). */
  readonly budgetMs: number;
  /** The whole operation's budget when the resource has no BudgetSeconds. @default DEFAULT_TOTAL_BUDGET_SECONDS */
  readonly totalBudgetMs?: number;
  /** How often to poll while waiting inside onEvent (the gate's stage, a running deployment). @default 10 s */
  readonly pollMs?: number;
  /** The gate, when the resource names one (handler.ts invokes the GateFunction). */
  readonly invokeGate?: InvokeGate;
  /** The reviewer, when the resource names one (handler.ts invokes the ReviewFunction asynchronously). */
  readonly askReview?: AskReview;
  /** Where requests are marked as taken (the MarkerBucket property); without it, a repeat is caught by adoption only. */
  readonly markers?: MarkerStore;
  /** The share controller, when the resource names one (handler.ts invokes the ShareController). */
  readonly share?: ShareControlPort;
}

export interface IsCompleteOptions {
  /** How often the framework asks (queryInterval): a rollout that cannot finish before the next ask is stopped now. */
  readonly pollMs?: number;
  readonly markers?: MarkerStore;
  readonly share?: ShareControlPort;
}

/** What the marker of a request records, for a repeated delivery to follow. */
interface MarkerRecord {
  readonly state: 'taken' | 'started' | 'failed';
  readonly at: string;
  readonly data?: WaitData;
  readonly reason?: string;
}

/**
 * Create / Update / Delete of a config deployment (the Provider framework's onEvent): everything up to the start of
 * the live deployment (checks, the gate's candidate stage and replay, waiting for a deployment already running in
 * the environment), within this one invocation. Waiting for the rollout itself is isComplete's, polled by the
 * framework for up to an hour. Throws ConfigDeploymentFailed to fail the resource.
 */
export async function onEvent(event: ProviderEvent, appconfig: AppConfigPort, clock: Clock, options: OnEventOptions): Promise<OnEventAnswer> {
  const props = event.ResourceProperties;
  const physicalResourceId = event.PhysicalResourceId ?? `${props?.Application}/${props?.Environment}/${props?.Profile}`;
  const answer = (data: Omit<WaitData, typeof PHASE_KEY>): OnEventAnswer => ({
    PhysicalResourceId: physicalResourceId,
    Data: { [PHASE_KEY]: 'wait', ...data },
  });
  // Nothing to undo: clients keep the last deployed config (the hosted versions are removed by their own cleanup).
  if (event.RequestType === 'Delete') return answer({ Done: 'true', Direction: 'delete' });

  const missing = REQUIRED.filter((k) => typeof props?.[k] !== 'string' || props[k] === '');
  if (missing.length > 0) throw new ConfigDeploymentFailed(`config deployment: missing properties ${missing.join(', ')}`);
  if (!/^\d+$/.test(props.Version)) throw new ConfigDeploymentFailed(`config deployment: Version must be a hosted version number, got "${props.Version}"`);

  // A repeated delivery of this very request: follow the invocation that took it, never deploy twice.
  let marker: string | undefined;
  if (options.markers && event.RequestId) {
    const key = markerKey('config-deployer', eventId(event.StackId, event.LogicalResourceId, event.RequestId));
    try {
      const taken = await take(options.markers, key, JSON.stringify({ state: 'taken', at: new Date(clock.now()).toISOString() } satisfies MarkerRecord));
      if (!taken.first) return answer({ Duplicate: 'true', Marker: key, Version: props.Version });
      marker = key;
    } catch (e) {
      // The store is unreachable: go on (a repeat is then caught by adoption below), and say so.
      console.error(
        JSON.stringify({ message: 'config deployment: could not write the request marker; continuing', key, error: String((e as Error)?.message ?? e) }),
      );
    }
  }
  const record = async (r: Omit<MarkerRecord, 'at'>) => {
    if (!marker || !options.markers) return;
    await options.markers.write(marker, JSON.stringify({ ...r, at: new Date(clock.now()).toISOString() })).catch((e: unknown) => {
      console.error(
        JSON.stringify({
          message: 'config deployment: could not record the outcome in the request marker',
          key: marker,
          error: String((e as Error)?.message ?? e),
        }),
      );
    });
  };
  try {
    const data = await begin(event, appconfig, clock, options);
    const out = answer({ ...data, ...(marker ? { Marker: marker } : {}) });
    await record({ state: 'started', data: out.Data });
    return out;
  } catch (e) {
    await record({ state: 'failed', reason: (e as Error)?.message ?? String(e) });
    throw e;
  }
}

async function begin(event: ProviderEvent, appconfig: AppConfigPort, clock: Clock, options: OnEventOptions): Promise<Omit<WaitData, typeof PHASE_KEY>> {
  const props = event.ResourceProperties;
  const old = event.RequestType === 'Update' ? event.OldResourceProperties : undefined;
  const sameTarget = old !== undefined && old.Environment === props.Environment && old.Profile === props.Profile;
  if (sameTarget && old.Version === props.Version) {
    // Only the strategy or description changed: the version is already what clients get.
    return { Done: 'true', Version: props.Version, Direction: 'unchanged' };
  }
  // Hosted version numbers only grow (a changed config is a new version), so an Update to a lower number is
  // CloudFormation restoring the previous release during a stack rollback.
  const rollback = sameTarget && /^\d+$/.test(old.Version) && Number(props.Version) < Number(old.Version);
  const assigned = typeof props.ShareController === 'string' && props.ShareController !== '';
  // The abandoned release's share first: it is what puts conversations on the abandoned version.
  if (rollback && assigned) await abandonShare(props, old!, options.share);
  const last = await appconfig.latest(props.Environment);
  if (rollback) {
    // AppConfig already put the previous version back when an alarm rolled the release back (ROLLED_BACK) or it was
    // reverted (REVERTED): that is usually why CloudFormation is rolling back. Deploying the previous version again
    // would be judged by the alarm that is still in ALARM, and a FAILED answer now leaves the stack in
    // UPDATE_ROLLBACK_FAILED. So only a release that COMPLETED (a later resource failed) or is still running is undone.
    // The release never reached the live environment (its gate failed, or its start was refused): the previous
    // version is what the environment still serves.
    if (last && last.profile === props.Profile && last.version === props.Version && last.state === 'COMPLETE') {
      return {
        Done: 'true',
        DeploymentNumber: String(last.number),
        Version: props.Version,
        Direction: 'rollback',
        Reason: `deployment #${last.number} of version ${last.version} is the environment's latest and COMPLETE; nothing to roll back`,
      };
    }
    if (last && last.profile === props.Profile && last.version === old?.Version && (last.state === 'ROLLED_BACK' || last.state === 'REVERTED')) {
      return {
        Done: 'true',
        DeploymentNumber: String(last.number),
        Version: props.Version,
        Direction: 'rollback',
        Reason: `deployment #${last.number} of version ${last.version} ended ${last.state}; AppConfig already serves the previous version`,
      };
    }
  } else if (last && last.profile === props.Profile && last.version === props.Version && (last.state === 'COMPLETE' || RUNNING_STATES.includes(last.state))) {
    // Is the work still wanted? This version is already live, or already rolling out (a repeated or late delivery
    // of this request, or the resource created anew): follow that deployment instead of starting a second one.
    if (last.state === 'COMPLETE') {
      return {
        Done: 'true',
        DeploymentNumber: String(last.number),
        Version: props.Version,
        Direction: 'release',
        Reason: `version ${props.Version} is already live (deployment #${last.number} COMPLETE); nothing deployed`,
      };
    }
  }

  const strategy = rollback ? props.RollbackStrategy : props.Strategy;
  const totalMs =
    props.BudgetSeconds && /^\d+$/.test(props.BudgetSeconds)
      ? Number(props.BudgetSeconds) * 1000
      : (options.totalBudgetMs ?? DEFAULT_TOTAL_BUDGET_SECONDS * 1000);
  const startedAt = clock.now();
  const overall = startedAt + totalMs;
  // This invocation's own limit: the waits inside onEvent (stage, gate, a running deployment) end by it.
  const deadline = Math.min(overall, startedAt + options.budgetMs);
  const pollMs = options.pollMs ?? 10_000;
  const what = (env: string) => `version ${props.Version} of profile ${props.Profile} in environment ${env}`;
  const wait = (deploymentNumber: number, gated: Partial<WaitData> = {}) => ({
    Environment: props.Environment,
    DeploymentNumber: String(deploymentNumber),
    Deadline: String(overall),
    BudgetSeconds: String(Math.round(totalMs / 1000)),
    What: what(props.Environment),
    Version: props.Version,
    Direction: rollback ? 'rollback' : 'release',
    ...gated,
  });
  // (Assigned: a live deployment of this version is the controller's promotion; the controller's record is followed.)
  // Through the share controller only when there is a live config to compare with and fall back to: the first
  // release of a profile (nothing deployed to the live environment yet) goes live with the rollout strategy, as ever.
  const viaShare = assigned && !rollback && last !== undefined;
  if (!viaShare && !rollback && last && last.profile === props.Profile && last.version === props.Version && RUNNING_STATES.includes(last.state)) {
    return wait(last.number);
  }
  if (viaShare) {
    const missing = (['CandidateEnvironment', 'Service', 'ShareBucket', 'CandidateContentHash'] as const).filter(
      (k) => typeof props[k] !== 'string' || props[k] === '',
    );
    if (missing.length > 0)
      throw new ConfigDeploymentFailed(
        `config deployment: ShareController is set but ${missing.join(', ')} is missing; an assigned config canary needs them all`,
      );
    if (!options.share) throw new ConfigDeploymentFailed('config deployment: ShareController is set but the deployer has no way to invoke it');
  }

  // The gate: candidate environment, then the replay, before anything reaches the live environment.
  let gated: Partial<WaitData> = {};
  if (!rollback && props.GateFunction) {
    const gate = await runGate(props, appconfig, clock, { deadline, pollMs, invokeGate: options.invokeGate });
    if (!gate.ok) {
      if (gate.stopped && options.askReview) await askForReview(options.askReview, props, gate.stopped, clock);
      throw new ConfigDeploymentFailed(gate.reason, {
        Version: props.Version,
        ...(gate.deploymentNumber !== undefined ? { DeploymentNumber: String(gate.deploymentNumber) } : {}),
        ...(gate.data ?? {}),
      });
    }
    gated = gate.data;
  }

  if (viaShare) {
    // Ungated: the candidate environment still has to serve the version before any conversation is assigned to it.
    if (!props.GateFunction) {
      const staged = await startAndWait(appconfig, clock, {
        env: props.CandidateEnvironment!,
        profile: props.Profile,
        version: props.Version,
        strategy: props.RollbackStrategy,
        description: `${props.Description ?? 'release config'} (candidate of the assigned config canary)`,
        abandon: () => false,
        deadline,
        pollMs,
        budgetMs: deadline - clock.now(),
        what: what(props.CandidateEnvironment!),
      });
      if (!staged.ok) throw new ConfigDeploymentFailed(`assigned config canary: could not stage version ${props.Version}: ${staged.reason}`);
    }
    const started = await startShare(props, options.share!, clock, {
      request: event.RequestId ? eventId(event.StackId, event.LogicalResourceId, event.RequestId) : undefined,
      deadline,
      pollMs,
    });
    return {
      Share: 'true',
      ReleaseKey: started.releaseKey,
      Environment: props.Environment,
      Deadline: String(overall),
      BudgetSeconds: String(Math.round(totalMs / 1000)),
      What: `the assigned config canary of version ${props.Version} of profile ${props.Profile}`,
      Version: props.Version,
      Direction: 'release',
      ...(started.repeated
        ? { Reason: `the share controller already runs release ${started.releaseKey} of this version (${started.phase}); following it` }
        : {}),
      ...gated,
    };
  }

  const env = props.Environment;
  const started = await startDeployment(appconfig, clock, {
    env,
    profile: props.Profile,
    version: props.Version,
    strategy,
    description: `${props.Description ?? 'release config'}${rollback ? ' (stack rollback: back to the previous version, instant)' : ''}`,
    // The release CloudFormation is abandoning (the failed one, on a rollback) is stopped, which reverts it.
    abandon: (d) => rollback && d.profile === props.Profile && d.version === old?.Version && d.state !== 'ROLLING_BACK',
    deadline,
    pollMs,
    what: what(env),
  });
  if (!started.ok) throw new ConfigDeploymentFailed(started.reason);
  return wait(started.deploymentNumber, gated);
}

/**
 * Whether the rollout onEvent started has ended (the Provider framework's isComplete, asked every queryInterval):
 * COMPLETE succeeds; ROLLED_BACK (an alarm) or REVERTED (a person) fails the resource, so CloudFormation rolls the
 * stack back; a rollout still running at the deadline is stopped (AppConfig reverts it) and fails.
 */
export async function isComplete(event: ProviderEvent, appconfig: AppConfigPort, clock: Clock, options: IsCompleteOptions = {}): Promise<IsCompleteAnswer> {
  let data = event.Data;
  if (data?.[PHASE_KEY] !== 'wait') throw new ConfigDeploymentFailed('config deployment: isComplete called without the onEvent answer (Data.AiReleasePhase)');
  if (data.Duplicate === 'true') {
    // Follow the invocation that took this request: the same deployment, so both answer CloudFormation alike.
    const text = data.Marker && options.markers ? await options.markers.read(data.Marker) : undefined;
    if (text === undefined) return { IsComplete: false };
    const rec = JSON.parse(text) as MarkerRecord;
    if (rec.state === 'failed') throw new ConfigDeploymentFailed(rec.reason ?? 'config deployment: the first delivery of this request failed');
    if (rec.state !== 'started' || !rec.data) return { IsComplete: false };
    data = rec.data;
  }
  const result = (d: WaitData): Record<string, string> =>
    Object.fromEntries(
      (['DeploymentNumber', 'Version', 'Direction', 'GateVerdict', 'GateReport'] as const).filter((k) => d[k] !== undefined).map((k) => [k, d[k] as string]),
    );
  if (data.Done === 'true') return { IsComplete: true, Data: result(data) };
  if (data.Share === 'true') return shareComplete(data, clock, options, result);
  const env = data.Environment;
  const number = Number(data.DeploymentNumber);
  if (!env || !Number.isInteger(number)) throw new ConfigDeploymentFailed('config deployment: the onEvent answer names no Environment or DeploymentNumber');
  const what = data.What ?? `deployment #${number}`;
  const d = await appconfig.get(env, number);
  if (d.state === 'COMPLETE') return { IsComplete: true, Data: result(data) };
  if (d.state === 'ROLLED_BACK' || d.state === 'REVERTED') {
    throw new ConfigDeploymentFailed(`config deployment #${number} of ${what} ended ${d.state}: ${rollbackCause(d)}; AppConfig restored the previous version`);
  }
  const deadline = Number(data.Deadline);
  if (Number.isFinite(deadline) && clock.now() + (options.pollMs ?? 0) > deadline) {
    const { state, percentageComplete } = d;
    // A release that did not finish in time must not keep rolling out while CloudFormation rolls back.
    await appconfig.stop(env, number).catch(() => undefined);
    throw new ConfigDeploymentFailed(
      `config deployment #${number} of ${what} was still ${state} (${percentageComplete ?? '?'} %) after ${data.BudgetSeconds ?? '?'} s, its time budget; stopped it (AppConfig reverts to the previous version). Shorten the config rollout (deploymentDuration + finalBake) or look for what kept it running`,
    );
  }
  return { IsComplete: false };
}

export interface HandleOptions extends OnEventOptions {}

/**
 * The whole operation as the Provider framework runs it: onEvent, then isComplete every `pollMs` until it answers
 * complete or fails, as one Outcome. For callers that want the end result in one call (tests, the drill); the deployed
 * function is invoked by the framework, step by step.
 */
export async function handle(event: ProviderEvent, appconfig: AppConfigPort, clock: Clock, options: HandleOptions): Promise<Outcome> {
  const props = event.ResourceProperties;
  const physicalResourceId = event.PhysicalResourceId ?? `${props?.Application}/${props?.Environment}/${props?.Profile}`;
  const pollMs = options.pollMs ?? 10_000;
  const failed = (e: unknown, data?: Outcome['data']): Outcome => {
    if (!(e instanceof ConfigDeploymentFailed)) throw e;
    const known = data ?? e.data;
    return { status: 'FAILED', physicalResourceId, reason: e.message, ...(known ? { data: known } : {}) };
  };
  let started: OnEventAnswer;
  try {
    started = await onEvent(event, appconfig, clock, { totalBudgetMs: options.budgetMs, ...options });
  } catch (e) {
    return failed(e);
  }
  if (event.RequestType === 'Delete') return { status: 'SUCCESS', physicalResourceId: started.PhysicalResourceId };
  const waitEvent: ProviderEvent = { ...event, PhysicalResourceId: started.PhysicalResourceId, Data: started.Data };
  for (;;) {
    let done: IsCompleteAnswer;
    try {
      done = await isComplete(waitEvent, appconfig, clock, { pollMs, markers: options.markers, ...(options.share ? { share: options.share } : {}) });
    } catch (e) {
      const d = started.Data;
      return failed(e, {
        Version: props.Version,
        ...(d.DeploymentNumber ? { DeploymentNumber: d.DeploymentNumber } : {}),
        ...(d.GateVerdict ? { GateVerdict: d.GateVerdict, GateReport: d.GateReport } : {}),
      });
    }
    if (done.IsComplete) {
      return {
        status: 'SUCCESS',
        physicalResourceId: started.PhysicalResourceId,
        ...(started.Data.Reason ? { reason: started.Data.Reason } : {}),
        data: done.Data ?? {},
      };
    }
    await clock.sleep(pollMs);
  }
}

/**
 * Hands the staged (and gated) version to the share controller. The request id makes a repeated or late delivery of
 * this CloudFormation request a no-op at the controller (ShareControllerStartEvent.request), whatever the release's
 * phase by then. The controller runs one look at a time (reserved concurrency 1): a start that meets a look is
 * throttled and tried again until the deadline.
 */
async function startShare(
  props: ConfigDeploymentProps,
  share: ShareControlPort,
  clock: Clock,
  o: { request: string | undefined; deadline: number; pollMs: number },
): Promise<ShareControllerStarted> {
  const event: ShareControllerStartEvent = {
    kind: 'ai-release.share-start',
    candidateVersion: props.Version,
    candidateContentHash: props.CandidateContentHash!,
    ...(props.ConfigLabel ? { candidateLabel: props.ConfigLabel } : {}),
    ...(o.request ? { request: o.request } : {}),
  };
  for (;;) {
    try {
      const started = await share.start(event);
      if (started?.action !== 'started' || typeof started.releaseKey !== 'string' || started.releaseKey === '')
        throw new ConfigDeploymentFailed(
          `assigned config canary: the share controller answered ${JSON.stringify(started)?.slice(0, 200)}, not a started release`,
        );
      return started;
    } catch (e) {
      if (e instanceof ConfigDeploymentFailed) throw e;
      const name = (e as { name?: string })?.name;
      if (name === 'TooManyRequestsException' && clock.now() + o.pollMs <= o.deadline) {
        await clock.sleep(o.pollMs);
        continue;
      }
      throw new ConfigDeploymentFailed(
        `assigned config canary of version ${props.Version} of ${props.Service} was not started: ${(e as Error)?.message ?? String(e)}; the live environment was not touched`,
      );
    }
  }
}

/** A stack rollback abandons the release: if the controller still has it on traffic, its share goes to 0 first. */
async function abandonShare(props: ConfigDeploymentProps, old: ConfigDeploymentProps, share: ShareControlPort | undefined): Promise<void> {
  const fix = `set it by hand: invoke ${props.ShareController} with {"kind":"ai-release.share-rollback"}`;
  if (!share) throw new ConfigDeploymentFailed(`config deployment: ShareController is set but the deployer has no way to invoke it; ${fix}`);
  let current: ShareControllerRecord | undefined;
  try {
    current = await share.current();
    if (!current || (current.phase !== 'ramping' && current.phase !== 'promoting') || current.candidateVersion !== old.Version) return;
    await share.rollback(current.releaseKey, `stack rollback: CloudFormation restores version ${props.Version}`);
  } catch (e) {
    throw new ConfigDeploymentFailed(
      `stack rollback: could not set the share of version ${old.Version}${current ? ` (release ${current.releaseKey})` : ''} to 0: ${(e as Error)?.message ?? String(e)}; ${fix}, then continue the rollback`,
    );
  }
}

/**
 * Whether the share controller's release has ended: promoted (the live environment serves the version, the share is
 * 0) completes; rolled back (an alarm, the judge's regression, a person, a failed promotion) fails the resource, so
 * CloudFormation rolls the stack back (the live environment still serves the previous version). A release still
 * ramping at the deadline is rolled back to share 0 and fails.
 */
async function shareComplete(
  data: WaitData,
  clock: Clock,
  options: IsCompleteOptions,
  result: (d: WaitData) => Record<string, string>,
): Promise<IsCompleteAnswer> {
  const share = options.share;
  const key = data.ReleaseKey;
  if (!share || !key) throw new ConfigDeploymentFailed('config deployment: following an assigned config canary needs the share controller and the release key');
  const what = data.What ?? `release ${key}`;
  const rec = await share.current();
  if (rec && rec.releaseKey !== key)
    throw new ConfigDeploymentFailed(
      `${what}: the share controller now runs release ${rec.releaseKey} (version ${rec.candidateVersion}, ${rec.phase}), not ${key}; someone started another release. Deploy again once it has ended`,
    );
  if (rec?.phase === 'promoted') {
    const n = rec.promotion?.deploymentNumber;
    return { IsComplete: true, Data: { ...result(data), ReleaseKey: key, ...(n !== undefined ? { DeploymentNumber: String(n) } : {}) } };
  }
  if (rec?.phase === 'rolled-back') {
    const peak = Math.max(0, ...rec.history.map((h) => h.share));
    throw new ConfigDeploymentFailed(
      `${what} (release ${key}) was rolled back after reaching ${Math.round(peak * 100)} %: ${rec.reason ?? 'no reason recorded'}; the share is 0 and the live environment still serves the previous version`,
      { ReleaseKey: key, ...(data.Version ? { Version: data.Version } : {}) },
    );
  }
  const deadline = Number(data.Deadline);
  if (Number.isFinite(deadline) && clock.now() + (options.pollMs ?? 0) > deadline) {
    await share.rollback(key, `the config plane's time budget (${data.BudgetSeconds ?? '?'} s) ran out`).catch(() => undefined);
    throw new ConfigDeploymentFailed(
      `${what} (release ${key}) was still ${rec?.phase ?? 'not recorded'} at ${Math.round((rec?.share ?? 0) * 100)} % after ${data.BudgetSeconds ?? '?'} s, its time budget; set its share to 0. Shorten the share schedule or look for what kept it from ending`,
      { ReleaseKey: key },
    );
  }
  return { IsComplete: false };
}

type Start = { ok: true; deploymentNumber: number } | { ok: false; reason: string };

/**
 * Starts one deployment. AppConfig runs one deployment per environment: deployments that `abandon` selects are
 * stopped (which reverts them); any other running deployment is waited for, up to the deadline.
 */
async function startDeployment(
  appconfig: AppConfigPort,
  clock: Clock,
  p: {
    env: string;
    profile: string;
    version: string;
    strategy: string;
    description: string;
    abandon: (d: DeploymentInfo) => boolean;
    deadline: number;
    pollMs: number;
    what: string;
  },
): Promise<Start> {
  const { env, pollMs, deadline, what } = p;
  for (;;) {
    const running = await appconfig.running(env);
    const abandoned = running.filter(p.abandon);
    for (const d of abandoned) await appconfig.stop(env, d.number);
    const others = running.filter((d) => !abandoned.includes(d));
    // The very version is already rolling out here (a repeated delivery that got past the marker, or none is
    // connected): follow it rather than queue a second deployment of it behind it.
    const same = others.find((d) => d.profile === p.profile && d.version === p.version && d.state !== 'ROLLING_BACK');
    if (same) return { ok: true, deploymentNumber: same.number };
    if (others.length === 0) {
      try {
        const number = await appconfig.start({ environment: env, profile: p.profile, version: p.version, strategy: p.strategy, description: p.description });
        return { ok: true, deploymentNumber: number };
      } catch (e) {
        if ((e as { name?: string }).name !== 'ConflictException') throw e;
        // Another deployment started between the look and the start: wait for it like any other.
      }
    }
    if (clock.now() + pollMs > deadline) {
      const d = others[0];
      return {
        ok: false,
        reason: d
          ? `cannot deploy ${what}: deployment #${d.number} (version ${d.version ?? '?'} of profile ${d.profile ?? '?'}) is still ${d.state} and AppConfig runs one deployment per environment at a time; wait for it to finish or stop it (aws appconfig stop-deployment), then deploy again`
          : `cannot deploy ${what}: AppConfig kept reporting a conflicting deployment; retry the deployment`,
      };
    }
    await clock.sleep(pollMs);
  }
}

type Step = { ok: true; deploymentNumber: number } | { ok: false; reason: string; deploymentNumber?: number };

/** Starts one deployment and waits for it to end, within the deadline (the gate's candidate stage: instant, no monitors). */
async function startAndWait(
  appconfig: AppConfigPort,
  clock: Clock,
  p: {
    env: string;
    profile: string;
    version: string;
    strategy: string;
    description: string;
    abandon: (d: DeploymentInfo) => boolean;
    deadline: number;
    pollMs: number;
    budgetMs: number;
    what: string;
  },
): Promise<Step> {
  const started = await startDeployment(appconfig, clock, p);
  if (!started.ok) return started;
  const number = started.deploymentNumber;
  const { env, pollMs, deadline, what } = p;
  for (;;) {
    const d = await appconfig.get(env, number);
    if (d.state === 'COMPLETE') return { ok: true, deploymentNumber: number };
    if (d.state === 'ROLLED_BACK' || d.state === 'REVERTED') {
      return {
        ok: false,
        reason: `config deployment #${number} of ${what} ended ${d.state}: ${rollbackCause(d)}; AppConfig restored the previous version`,
        deploymentNumber: number,
      };
    }
    if (clock.now() + pollMs > deadline) {
      const { state, percentageComplete } = d;
      await appconfig.stop(env, number).catch(() => undefined);
      return {
        ok: false,
        reason: `config deployment #${number} of ${what} was still ${state} (${percentageComplete ?? '?'} %) after ${Math.round(p.budgetMs / 1000)} s, its time budget; stopped it (AppConfig reverts to the previous version). Shorten the config rollout (deploymentDuration + finalBake) or look for what kept it running`,
        deploymentNumber: number,
      };
    }
    await clock.sleep(pollMs);
  }
}

type GateStep =
  | { ok: true; data: { GateVerdict: string; GateReport: string } }
  /** `stopped`: the gate step itself failed (verdict, error, timeout): the review is asked for with it. */
  | { ok: false; reason: string; deploymentNumber?: number; data?: Outcome['data']; stopped?: ConfigGateStoppedEvent['gate'] };

/** Asks for the stopped release's review; a failure to ask is logged and never changes the resource's answer. */
async function askForReview(ask: AskReview, props: ConfigDeploymentProps, gate: ConfigGateStoppedEvent['gate'], clock: Clock): Promise<void> {
  const event: ConfigGateStoppedEvent = {
    kind: CONFIG_GATE_STOPPED_KIND,
    service: props.Service!,
    configVersion: props.Version,
    ...(props.ConfigLabel ? { configLabel: props.ConfigLabel } : {}),
    gate,
    at: new Date(clock.now()).toISOString(),
  };
  try {
    await ask(event);
  } catch (e) {
    console.error(
      JSON.stringify({
        message: 'config gate stopped the release but the review could not be asked for',
        service: event.service,
        configVersion: event.configVersion,
        error: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`,
      }),
    );
  }
}

/** The failing and not-run cases of a report, blocking ones first, capped for the event's payload. */
function stoppedCases(report: GateReport): ConfigGateStoppedCase[] {
  const cases = Array.isArray(report.cases) ? report.cases : [];
  return cases
    .filter((c) => c && c.outcome !== 'passed')
    .sort((a, b) => Number(b.blocking) - Number(a.blocking))
    .slice(0, CONFIG_GATE_STOPPED_MAX_CASES)
    .map((c) => ({
      caseId: String(c.caseId),
      state: c.state,
      kinds: c.kinds ?? [],
      outcome: c.outcome,
      reasons: (c.reasons ?? []).slice(0, 3).map((r: string) => String(r).slice(0, 300)),
    }));
}

/** Candidate deployment (instant), then the gate's replay through the `gate` alias; ok only on a passing report. */
async function runGate(
  props: ConfigDeploymentProps,
  appconfig: AppConfigPort,
  clock: Clock,
  o: { deadline: number; pollMs: number; invokeGate?: InvokeGate },
): Promise<GateStep> {
  const missing = (['CandidateEnvironment', 'Service'] as const).filter((k) => typeof props[k] !== 'string' || props[k] === '');
  if (missing.length > 0) return { ok: false, reason: `config deployment: GateFunction is set but ${missing.join(', ')} is missing; the gate needs both` };
  if (!o.invokeGate) return { ok: false, reason: 'config deployment: GateFunction is set but the deployer has no way to invoke it' };
  const candidate = props.CandidateEnvironment!;
  const label = props.ConfigLabel ? ` (${props.ConfigLabel})` : '';
  const version = `version ${props.Version}${label}`;
  // Instant (the rollback strategy: all at once, no bake): only gate replays read this environment.
  const staged = await startAndWait(appconfig, clock, {
    env: candidate,
    profile: props.Profile,
    version: props.Version,
    strategy: props.RollbackStrategy,
    description: `${props.Description ?? 'release config'} (candidate for the config gate)`,
    abandon: () => false,
    deadline: o.deadline,
    pollMs: o.pollMs,
    budgetMs: o.deadline - clock.now(),
    what: `version ${props.Version} of profile ${props.Profile} in the candidate environment ${candidate}`,
  });
  if (!staged.ok) return { ok: false, reason: `config gate: could not stage ${version}: ${staged.reason}`, deploymentNumber: staged.deploymentNumber };

  const request: ConfigGateRequest = {
    kind: 'ai-release.config-gate',
    service: props.Service!,
    configVersion: props.Version,
    ...(props.ConfigLabel ? { configLabel: props.ConfigLabel } : {}),
    qualifier: GATE_ALIAS_NAME,
    ...(props.GateSettings ? { settingsParameter: props.GateSettings } : {}),
  };
  // Where the gate writes its report of this version (it may have, even when it did not answer in time).
  const expected = gateKeys(props.Service!, `config-${props.Version}`);
  let report: GateReport;
  try {
    report = await o.invokeGate(request);
  } catch (e) {
    const why = `did not answer: ${(e as Error)?.message ?? String(e)}`;
    return {
      ok: false,
      reason: `config gate for ${version} of ${props.Service} ${why}; the live environment was not touched. Look at the gate function's logs, then deploy again`,
      stopped: { ...expected, verdict: 'error', summary: `the config gate ${why}`.slice(0, 500) },
    };
  }
  const problem = reportProblem(report, request);
  if (problem) {
    return {
      ok: false,
      reason: `config gate for ${version} of ${props.Service} returned an unusable report: ${problem}; the live environment was not touched`,
      stopped: { ...expected, verdict: 'error', summary: `the config gate returned an unusable report: ${problem}`.slice(0, 500) },
    };
  }
  const data = { GateVerdict: report.verdict, GateReport: report.objects.json };
  if (report.verdict === 'passed' || report.verdict === 'passed-empty') return { ok: true, data };
  return {
    ok: false,
    reason: `config gate FAILED for ${version} of ${props.Service}: ${oneLine(report.summary)} (report: ${report.objects.json}); the live environment was not touched`,
    data,
    stopped: {
      json: report.objects.json,
      md: typeof report.objects.md === 'string' ? report.objects.md : expected.md,
      verdict: 'failed',
      summary: oneLine(report.summary),
      cases: stoppedCases(report),
    },
  };
}

/** What is wrong with a gate's answer, or undefined: it must be a config report about this very version. */
function reportProblem(report: GateReport, request: ConfigGateRequest): string | undefined {
  if (!report || typeof report !== 'object') return `expected a GateReport object, got ${report === null ? 'null' : typeof report}`;
  if (report.schemaVersion !== 1) return `schemaVersion ${String(report.schemaVersion)}, expected 1`;
  if (!['passed', 'failed', 'passed-empty'].includes(report.verdict)) return `verdict "${String(report.verdict)}" is none of passed, failed, passed-empty`;
  if (report.service !== request.service) return `it is about service "${String(report.service)}", not "${request.service}"`;
  if (report.plane !== 'config') return `it is a ${String(report.plane)}-plane report, expected config`;
  if (report.target?.configVersion !== undefined && report.target.configVersion !== request.configVersion) {
    return `it replayed config version ${report.target.configVersion}, not ${request.configVersion}`;
  }
  if (typeof report.summary !== 'string' || typeof report.objects?.json !== 'string') return 'summary or objects.json is missing';
  return undefined;
}

/** CloudFormation shows the reason on one line; a summary with newlines is folded. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Who or what rolled a deployment back, from its event log: the alarm ARN when an alarm did. */
export function rollbackCause(d: DeploymentInfo): string {
  const ev = (d.events ?? []).find((e) => e.type === 'ROLLBACK_STARTED') ?? (d.events ?? []).find((e) => e.triggeredBy === 'CLOUDWATCH_ALARM');
  if (!ev) return d.state === 'REVERTED' ? 'it was stopped before it finished' : 'no rollback event recorded';
  const by = ev.triggeredBy === 'CLOUDWATCH_ALARM' ? 'an alarm' : ev.triggeredBy === 'USER' ? 'a person' : (ev.triggeredBy ?? 'unknown').toLowerCase();
  return `rolled back by ${by}${ev.description ? ` (${ev.description})` : ''}`;
}
