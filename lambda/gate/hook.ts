import { type ConfigGateRequest, GATE_ALIAS_NAME, type GateReport } from '../shared/contract';
import { isRollbackCreator } from '../shared/deployment-creator';
import { buildReport, type GateEvaluationPorts, type GateRun, type GateSettings, gateMetricLine, runGate, writeReport } from './gate';
import type { Clock, CodeCanaryPort, DeploymentPort, DeploymentTarget, GateStore, Invoker, LogSink } from './ports';
import { type ServiceGate, type SettingsSource, serviceGateForDeployment, serviceGateForRequest } from './service-settings';

/** CodeDeploy's lifecycle hook event (Lambda compute platform). */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export interface HookPorts {
  readonly store: GateStore;
  readonly invoker: Invoker;
  readonly deployments: DeploymentPort;
  readonly clock: Clock;
  readonly log: LogSink;
  /** Resolves after `ms`; the gate's own watchdog. */
  readonly sleep: (ms: number) => Promise<void>;
  /** The evaluator (RegressionGate `evaluation`): judges cases with a reference answer or rubric floors. @default none */
  readonly evaluation?: GateEvaluationPorts;
  /** Announces the version under test as the code canary (assigned config canaries). @default none: not announced */
  readonly codeCanary?: CodeCanaryPort;
}

export interface HookOptions {
  readonly service: string;
  /** The service function's name (GATE_ENV.TARGET_FUNCTION). */
  readonly targetFunction: string;
  /** The deployment group this gate is the hook of; a deployment of another group is refused. @default not checked */
  readonly deploymentGroup?: { readonly application: string; readonly name: string };
  readonly settings: GateSettings;
  /** Absolute time (ms) by which CodeDeploy must have been answered: Lambda's remaining time less a margin. */
  readonly answerBy: number;
  /** Kept free for writing the report after the replays end. @default 5000 */
  readonly reportReserveMs?: number;
  /** The traffic shift's length, seconds: how long the code canary is announced after the hook answers. @default 0 */
  readonly codeCanaryShiftSeconds?: number;
}

/** Slack on the code canary's announcement beyond the traffic shift: CodeDeploy's own steps, a late last shift. */
export const CODE_CANARY_SLACK_SECONDS = 60;
/** Longest an announcement may hold up the hook; past it, the hook goes on (pairs are missed, nothing fails). */
const ANNOUNCE_WAIT_MS = 5000;

export function isHookEvent(e: unknown): e is HookEvent {
  const h = e as Partial<HookEvent> | null;
  return typeof h?.DeploymentId === 'string' && typeof h?.LifecycleEventHookExecutionId === 'string';
}

export function isConfigGateRequest(e: unknown): e is ConfigGateRequest {
  return (e as Partial<ConfigGateRequest> | null)?.kind === 'ai-release.config-gate';
}

/**
 * The BeforeAllowTraffic hook. Whatever happens — pass, fail, its own error, a store or target that hangs — it
 * answers CodeDeploy (PutLifecycleEventHookExecutionStatus) before `answerBy`: a hook that never reports stalls the
 * deployment for an hour. Returns the status sent.
 */
export async function runCodeHook(event: HookEvent, ports: HookPorts, o: HookOptions): Promise<{ status: 'Succeeded' | 'Failed'; report?: GateReport }> {
  const startedAt = ports.clock.now();
  const releaseKey = `code-${event.DeploymentId}`;
  const reserve = o.reportReserveMs ?? 5000;
  let target: GateReport['target'] = { functionName: o.targetFunction, qualifier: 'unknown' };
  let settled = false;
  // The code canary (issue 17 D): best effort, bounded, never the gate's verdict; kept inside the answer deadline.
  let announced: string | undefined;
  const shiftSeconds = Math.max(0, o.codeCanaryShiftSeconds ?? 0);
  const announce = async (version: string, forSeconds: number): Promise<void> => {
    const port = ports.codeCanary;
    if (!port) return;
    const ms = Math.min(ANNOUNCE_WAIT_MS, Math.max(0, o.answerBy - ports.clock.now() - 1000));
    try {
      const r = await Promise.race([port.announce(version, releaseKey, forSeconds).then(() => 'done' as const), ports.sleep(ms).then(() => 'late' as const)]);
      if (r === 'late') ports.log(JSON.stringify({ level: 'WARN', message: 'code canary not announced in time: its pairs are drawn late', version }));
    } catch (e) {
      ports.log(JSON.stringify({ level: 'WARN', message: 'code canary not announced: its pairs are not drawn', version, error: String(e).slice(0, 300) }));
    }
  };

  const work = async (): Promise<{ status: 'Succeeded' | 'Failed'; report?: GateReport }> => {
    const d = await ports.deployments.target(event.DeploymentId);
    // A rollback is never gated: blocking one would leave the bad version live (lambda/shared/deployment-creator.ts).
    if (isRollbackCreator(d.creator)) {
      ports.log(JSON.stringify({ level: 'INFO', message: 'rollback deployment: not gated', deploymentId: event.DeploymentId, creator: d.creator }));
      return { status: 'Succeeded' };
    }
    target = { functionName: o.targetFunction, qualifier: d.targetVersion };
    const g = o.deploymentGroup;
    if (g && d.deploymentGroup !== undefined && (d.application !== g.application || d.deploymentGroup !== g.name))
      throw new Error(`deployment ${event.DeploymentId} belongs to ${d.application}/${d.deploymentGroup}, not to the gated group ${g.application}/${g.name}`);
    if (!sameFunction(d.functionName, o.targetFunction))
      throw new Error(
        `the deployment moves ${d.functionName}, not the gated function ${o.targetFunction}; is this gate the pre-traffic hook of another group?`,
      );
    // Before the replays: the new version's environments (the replays start the first) read the share document at
    // their start, so they know they are the canary when traffic arrives. Held until the hook's own deadline plus the
    // shift; narrowed to the shift when the hook answers Succeeded, ended when it answers Failed.
    announced = d.targetVersion;
    await announce(d.targetVersion, Math.max(0, (o.answerBy - ports.clock.now()) / 1000) + shiftSeconds + CODE_CANARY_SLACK_SECONDS);
    const run: GateRun = { service: o.service, plane: 'code', releaseKey, target, deadline: o.answerBy - reserve };
    const report = await runGate(run, o.settings, ports);
    if (!settled) await writeReport(ports.store, report);
    return { status: report.verdict === 'failed' ? 'Failed' : 'Succeeded', report };
  };

  const failedReport = (error: string, deadlineReached: boolean): GateReport =>
    errorReport(
      { service: o.service, plane: 'code', releaseKey, target, deadline: o.answerBy },
      o.settings,
      startedAt,
      ports.clock.now(),
      error,
      deadlineReached,
    );

  let outcome: { status: 'Succeeded' | 'Failed'; report?: GateReport };
  const watchdog = ports.sleep(Math.max(0, o.answerBy - ports.clock.now())).then(() => 'deadline' as const);
  try {
    const r = await Promise.race([work(), watchdog]);
    if (r === 'deadline') {
      settled = true;
      const report = failedReport('the gate did not finish before its own deadline (a store or the target hung); answered Failed', true);
      await bestEffort(ports, () => writeReport(ports.store, report), reserve / 2);
      outcome = { status: 'Failed', report };
    } else outcome = r;
  } catch (e) {
    settled = true;
    const report = failedReport(`${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`.slice(0, 500), false);
    await bestEffort(ports, () => writeReport(ports.store, report), Math.min(reserve / 2, Math.max(0, o.answerBy - ports.clock.now())));
    outcome = { status: 'Failed', report };
  }
  settled = true;
  if (outcome.report) ports.log(gateMetricLine(outcome.report, ports.clock.now()));
  ports.log(
    JSON.stringify({
      level: outcome.status === 'Succeeded' ? 'INFO' : 'WARN',
      message: 'gate answered',
      status: outcome.status,
      summary: outcome.report?.summary,
    }),
  );
  // The code canary's window from now: the shift that starts with a Succeeded answer; none after Failed.
  if (announced !== undefined) await announce(announced, outcome.status === 'Succeeded' ? shiftSeconds + CODE_CANARY_SLACK_SECONDS : 0);
  // The one call that must happen: errors here propagate (Lambda retries the asynchronous hook invocation).
  await ports.deployments.answer(event.DeploymentId, event.LifecycleEventHookExecutionId, outcome.status);
  return outcome;
}

/**
 * The config plane's request (a synchronous invoke): replays through the `gate` alias against the candidate config
 * and returns the report, written under `config-<configVersion>`. Never throws for a gate failure: the caller reads
 * the verdict; a bad request throws (it names the field).
 */
export async function runConfigGate(
  req: ConfigGateRequest,
  ports: Omit<HookPorts, 'deployments'>,
  o: Omit<HookOptions, 'targetFunction'> & { targetFunction: string },
): Promise<GateReport> {
  if (req.service !== o.service) throw new Error(`ConfigGateRequest.service is "${req.service}", but this gate serves "${o.service}"`);
  if (typeof req.configVersion !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(req.configVersion))
    throw new Error(`ConfigGateRequest.configVersion must be the hosted configuration version number, got ${JSON.stringify(req.configVersion)}`);
  if (req.qualifier !== GATE_ALIAS_NAME)
    throw new Error(`ConfigGateRequest.qualifier must be "${GATE_ALIAS_NAME}" (the alias serving the candidate config), got ${JSON.stringify(req.qualifier)}`);
  const startedAt = ports.clock.now();
  const reserve = o.reportReserveMs ?? 5000;
  const target: GateReport['target'] = {
    functionName: o.targetFunction,
    qualifier: req.qualifier,
    configVersion: req.configVersion,
    ...(req.configLabel ? { configLabel: req.configLabel } : {}),
  };
  // The caller's deadline, when it is earlier than this function's own: the deployer stops waiting then.
  const answerBy = typeof req.answerBy === 'number' && Number.isFinite(req.answerBy) ? Math.min(o.answerBy, req.answerBy) : o.answerBy;
  const run: GateRun = { service: o.service, plane: 'config', releaseKey: `config-${req.configVersion}`, target, deadline: answerBy - reserve };
  let settled = false;
  const failed = (error: string, deadlineReached: boolean) => errorReport(run, o.settings, startedAt, ports.clock.now(), error, deadlineReached);
  const work = async () => {
    const report = await runGate(run, o.settings, ports);
    if (!settled) await writeReport(ports.store, report);
    return report;
  };
  let report: GateReport;
  try {
    const r = await Promise.race([work(), ports.sleep(Math.max(0, o.answerBy - ports.clock.now())).then(() => 'deadline' as const)]);
    settled = true;
    if (r === 'deadline') {
      report = failed('the gate did not finish before its own deadline (a store or the target hung)', true);
      await bestEffort(ports, () => writeReport(ports.store, report), reserve / 2);
    } else report = r;
  } catch (e) {
    settled = true;
    report = failed(`${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`.slice(0, 500), false);
    await bestEffort(ports, () => writeReport(ports.store, report), reserve / 2);
  }
  ports.log(gateMetricLine(report, ports.clock.now()));
  return report;
}

/** `name`, `name:qualifier` or a function ARN, compared by the function name. */
function sameFunction(a: string, b: string): boolean {
  const name = (x: string) => (x.startsWith('arn:') ? x.split(':')[6] : x.split(':')[0]);
  return name(a) === name(b);
}

/** Runs `f` for at most `ms`; a failure or hang is logged, never thrown (the answer comes first). */
async function bestEffort(ports: Pick<HookPorts, 'sleep' | 'log'>, f: () => Promise<void>, ms: number): Promise<void> {
  try {
    const r = await Promise.race([f().then(() => 'done' as const), ports.sleep(ms).then(() => 'late' as const)]);
    if (r === 'late') ports.log(JSON.stringify({ level: 'WARN', message: 'gate report not written in time' }));
  } catch (e) {
    ports.log(JSON.stringify({ level: 'WARN', message: 'gate report not written', error: String(e) }));
  }
}

/** The report of a gate run that failed before or while replaying: no case results, the error, Failed. */
function errorReport(run: GateRun, settings: GateSettings, startedAt: number, endedAt: number, error: string, deadlineReached: boolean): GateReport {
  return buildReport(run, settings, { startedAt, endedAt, results: [], totals: { blocking: 0, reported: 0 }, sampled: false, deadlineReached, error });
}

/** What a gate function shared by a platform's services needs before it knows the service (issue 15 E). */
export interface SharedHookPorts {
  readonly deployments: DeploymentPort;
  readonly settings: SettingsSource;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly sleep: (ms: number) => Promise<void>;
}

/** CodeDeploy is answered this long before a service's own gate timeout. */
export const SERVICE_ANSWER_MARGIN_MS = 10_000;

/** Rejects with a clear error unless `p` settles before `answerBy`. */
async function bounded<T>(p: Promise<T>, shared: Pick<SharedHookPorts, 'sleep' | 'clock'>, answerBy: number, what: string): Promise<T> {
  const late = shared.sleep(Math.max(0, answerBy - shared.clock.now())).then(() => {
    throw new Error(`${what} did not answer before the gate's deadline`);
  });
  return Promise.race([p, late]);
}

/**
 * The BeforeAllowTraffic hook of a gate function shared by several services: finds the deployment's service
 * (service-settings.ts), then gates it as runCodeHook does, within the service's own timeout. A rollback is answered
 * Succeeded before any lookup (as a service's own gate does); a deployment whose service cannot be found — an
 * untagged or foreign group, a missing or malformed settings document — is answered Failed with the reason logged.
 */
export async function runSharedCodeHook(
  event: HookEvent,
  shared: SharedHookPorts,
  forService: (s: ServiceGate) => Omit<HookPorts, 'deployments' | 'clock' | 'log' | 'sleep'>,
  answerBy: number,
): Promise<{ status: 'Succeeded' | 'Failed'; report?: GateReport; service?: string; error?: string }> {
  const startedAt = shared.clock.now();
  let resolved: { d: DeploymentTarget; s: ServiceGate } | undefined;
  try {
    const d = await bounded(shared.deployments.target(event.DeploymentId), shared, answerBy, 'GetDeployment');
    if (isRollbackCreator(d.creator)) {
      shared.log(JSON.stringify({ level: 'INFO', message: 'rollback deployment: not gated', deploymentId: event.DeploymentId, creator: d.creator }));
      await shared.deployments.answer(event.DeploymentId, event.LifecycleEventHookExecutionId, 'Succeeded');
      return { status: 'Succeeded' };
    }
    resolved = { d, s: await bounded(serviceGateForDeployment(event.DeploymentId, d, shared.settings), shared, answerBy, 'the settings lookup') };
  } catch (e) {
    const error = `${(e as Error)?.message ?? String(e)}`.slice(0, 500);
    shared.log(
      JSON.stringify({ level: 'ERROR', message: 'gate answered Failed: the service of the deployment is unknown', deploymentId: event.DeploymentId, error }),
    );
    await shared.deployments.answer(event.DeploymentId, event.LifecycleEventHookExecutionId, 'Failed');
    return { status: 'Failed', error };
  }
  const { d, s } = resolved;
  const ports: HookPorts = {
    ...forService(s),
    // Already read: the hook does not ask CodeDeploy twice.
    deployments: { target: async () => d, answer: (id, hook, status) => shared.deployments.answer(id, hook, status) },
    clock: shared.clock,
    log: shared.log,
    sleep: shared.sleep,
  };
  const r = await runCodeHook(event, ports, {
    service: s.service,
    targetFunction: s.targetFunction,
    settings: s.settings,
    ...(s.deploymentGroup ? { deploymentGroup: s.deploymentGroup } : {}),
    // The code canary's announcement (issue 17 D): the service's gate block names its share controller and shift.
    ...(s.codeCanary ? { codeCanaryShiftSeconds: s.codeCanary.shiftSeconds } : {}),
    answerBy: Math.min(answerBy, startedAt + s.timeoutMs - SERVICE_ANSWER_MARGIN_MS),
  });
  return { ...r, service: s.service };
}

/**
 * The config plane's request to a shared gate: reads the service's settings from the request's settingsParameter
 * (service-settings.ts), then runs runConfigGate within the service's own timeout. A request whose settings cannot be
 * read throws, naming why (the deployer reports it and leaves the live environment alone).
 */
export async function runSharedConfigGate(
  req: ConfigGateRequest,
  shared: Omit<SharedHookPorts, 'deployments'>,
  forService: (s: ServiceGate) => Omit<HookPorts, 'deployments' | 'clock' | 'log' | 'sleep'>,
  answerBy: number,
): Promise<GateReport> {
  const startedAt = shared.clock.now();
  const s = await bounded(serviceGateForRequest(req, shared.settings), shared, answerBy, 'the settings lookup');
  return runConfigGate(
    req,
    { ...forService(s), clock: shared.clock, log: shared.log, sleep: shared.sleep },
    {
      service: s.service,
      targetFunction: s.targetFunction,
      settings: s.settings,
      answerBy: Math.min(answerBy, startedAt + s.timeoutMs - SERVICE_ANSWER_MARGIN_MS),
    },
  );
}
