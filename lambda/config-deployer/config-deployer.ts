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
 * The config gate (README "Config gate"): when the resource names a gate function, a release first deploys the new
 * version to the candidate environment (instant: the runtime reads it only through the `gate` alias), then asks the
 * gate to replay the regression cases through that alias, and starts the live rollout only on a passing report. A
 * failing report, or a gate that errs, fails the resource with the report's one-line summary: `cdk deploy` stops
 * with it and CloudFormation leaves the previous release. A stack rollback is not gated: the previous version was
 * live before (the live environment's gate check allows versions it has already served).
 *
 * Pure: AppConfig, the gate, the clock and sleeping are ports.
 */
import type { ConfigGateRequest, ConfigGateStoppedCase, ConfigGateStoppedEvent, GateReport } from '../shared/contract';
import { CONFIG_GATE_STOPPED_KIND, CONFIG_GATE_STOPPED_MAX_CASES, GATE_ALIAS_NAME, gateKeys } from '../shared/contract';

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
  /** The candidate environment the gate replays the new version from. */
  readonly CandidateEnvironment?: string;
  readonly Service?: string;
  /** The version's label (`_release` meta), passed to the gate for its report. */
  readonly ConfigLabel?: string;
  /** Seconds the deployer waits for the gate's answer before it fails the release (the gate's share of the budget). */
  readonly GateTimeoutSeconds?: string;
  /** The platform's review function (name), when reviews are on: asked for the review of a release the gate stopped. */
  readonly ReviewFunction?: string;
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

export interface HandleOptions {
  /** Milliseconds the handler may spend before it must answer (from the Lambda context, minus a margin). */
  readonly budgetMs: number;
  /** How often to poll a deployment. @default 10 s */
  readonly pollMs?: number;
  /** The gate, when the resource names one (handler.ts invokes the GateFunction). */
  readonly invokeGate?: InvokeGate;
  /** The reviewer, when the resource names one (handler.ts invokes the ReviewFunction asynchronously). */
  readonly askReview?: AskReview;
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
    // The release never reached the live environment (its gate failed, or its start was refused): the previous
    // version is what the environment still serves.
    if (last && last.profile === props.Profile && last.version === props.Version && last.state === 'COMPLETE') {
      return {
        status: 'SUCCESS',
        physicalResourceId,
        reason: `deployment #${last.number} of version ${last.version} is the environment's latest and COMPLETE; nothing to roll back`,
        data: { DeploymentNumber: String(last.number), Version: props.Version, Direction: 'rollback' },
      };
    }
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
  const what = (env: string) => `version ${props.Version} of profile ${props.Profile} in environment ${env}`;
  const fail = (reason: string, deploymentNumber?: number, extra: Outcome['data'] = {}): Outcome => ({
    status: 'FAILED',
    physicalResourceId,
    reason,
    data: { Version: props.Version, ...(deploymentNumber !== undefined ? { DeploymentNumber: String(deploymentNumber) } : {}), ...extra },
  });

  // The gate: candidate environment, then the replay, before anything reaches the live environment.
  let gated: Outcome['data'] = {};
  if (!rollback && props.GateFunction) {
    const gate = await runGate(props, appconfig, clock, { deadline, pollMs, invokeGate: options.invokeGate });
    if (!gate.ok) {
      if (gate.stopped && options.askReview) await askForReview(options.askReview, props, gate.stopped, clock);
      return fail(gate.reason, gate.deploymentNumber, gate.data);
    }
    gated = gate.data;
  }

  const env = props.Environment;
  const deployed = await startAndWait(appconfig, clock, {
    env,
    profile: props.Profile,
    version: props.Version,
    strategy,
    description: `${props.Description ?? 'release config'}${rollback ? ' (stack rollback: back to the previous version, instant)' : ''}`,
    // The release CloudFormation is abandoning (the failed one, on a rollback) is stopped, which reverts it.
    abandon: (d) => rollback && d.profile === props.Profile && d.version === old?.Version && d.state !== 'ROLLING_BACK',
    deadline,
    pollMs,
    budgetMs,
    what: what(env),
  });
  if (!deployed.ok) return fail(deployed.reason, deployed.deploymentNumber, gated);
  return {
    status: 'SUCCESS',
    physicalResourceId,
    data: { DeploymentNumber: String(deployed.deploymentNumber), Version: props.Version, Direction: rollback ? 'rollback' : 'release', ...gated },
  };
}

type Step = { ok: true; deploymentNumber: number } | { ok: false; reason: string; deploymentNumber?: number };

/**
 * Starts one deployment and waits for it to end. AppConfig runs one deployment per environment: deployments that
 * `abandon` selects are stopped (which reverts them); any other running deployment is waited for, within the budget.
 */
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
  const { env, pollMs, deadline, what } = p;
  let number: number | undefined;
  while (number === undefined) {
    const running = await appconfig.running(env);
    const abandoned = running.filter(p.abandon);
    for (const d of abandoned) await appconfig.stop(env, d.number);
    const others = running.filter((d) => !abandoned.includes(d));
    if (others.length === 0) {
      try {
        number = await appconfig.start({ environment: env, profile: p.profile, version: p.version, strategy: p.strategy, description: p.description });
        break;
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
      // A release that did not finish in time must not keep rolling out while CloudFormation rolls back.
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
  | { ok: true; data: NonNullable<Outcome['data']> }
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
