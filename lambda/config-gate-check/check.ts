/**
 * The live environment's gate check: an AppConfig PRE_START_DEPLOYMENT extension action that refuses any release
 * config version without a passing config-gate record, so a deployment started from the console or the CLI cannot
 * skip the gate that `cdk deploy` runs (README "Config gate").
 *
 * "PRE_* action points ... can also respond to an error and prevent an action from happening" (AppConfig User
 * Guide, "Creating a custom AWS AppConfig extension"): handler.ts throws the refusal's reason.
 *
 * The rule, in order:
 * 1. a passing record for this version (gates/<service>/config-<version>.json, verdict passed or passed-empty, about
 *    this service, the config plane and this version) allows it;
 * 2. a version this environment already served to COMPLETE allows it: CloudFormation's stack rollback redeploys the
 *    previous release (it was live), and versions live before the gate existed have no record;
 * 3. anything else is refused: a failing record with its summary, no record with where it was looked for.
 * The association's parameters name the service and the one profile this environment serves; another profile is
 * refused (degrade flags have their own environment, which has no gate). A broken association or an unreadable store
 * refuses too: the check fails closed.
 *
 * Latency budget. PRE_* actions are synchronous: AppConfig waits for the answer before the deployment starts, only a
 * few seconds (the AppConfig User Guide pages on custom extensions name no figure; an AWS sample says about 3 s), and a
 * timed-out check on a stack rollback's redeploy would leave the stack in UPDATE_ROLLBACK_FAILED. So the whole check
 * answers within CHECK_BUDGET_MS (2 s; the function's timeout is 3 s): the S3 read of the record first (at most
 * RECORD_BUDGET_MS), the history lookup only when the record does not pass, in what is left, both with abort signals.
 * At the budget the check fails closed, naming what timed out: a new version is refused. A rollback does not depend on
 * the slow path: the version it goes back to passed the gate when it was released, so its record allows it in one
 * GetObject; only versions live before the gate existed need the history, which reads one page of the environment's
 * most recent deployments (aws-adapters.ts), where the version a rollback restores always is.
 *
 * Pure: the store and the deployment history are ports.
 */
import { configGateReleaseKey, GATE_CHECK_PARAMETER, type GateReport, gateKeys } from '../shared/contract';

/** The request AppConfig sends a Lambda action at PRE_START_DEPLOYMENT (the fields this check reads). */
export interface PreStartDeploymentEvent {
  readonly InvocationId?: string;
  readonly Type?: string;
  readonly Parameters?: Readonly<Record<string, string>>;
  readonly Application?: { readonly Id: string; readonly Name?: string };
  readonly Environment?: { readonly Id: string; readonly Name?: string };
  readonly ConfigurationProfile?: { readonly Id: string; readonly Name?: string };
  readonly DeploymentNumber?: number | string;
  /** The hosted version number being deployed. */
  readonly ConfigurationVersion?: string;
  readonly Description?: string | null;
}

/** Port: the regression store's gate reports. */
export interface GateRecords {
  /** Where reports live, for messages (`s3://bucket`). */
  readonly location: string;
  /** The object's text, or undefined when there is no such object. Throws when the store cannot be read or `signal` aborts. */
  read(key: string, signal: AbortSignal): Promise<string | undefined>;
}

/** Port: what the environment has served. */
export interface DeploymentHistory {
  /** True when a recent deployment of this profile's version to the environment ended COMPLETE. Throws when `signal` aborts. */
  servedComplete(application: string, environment: string, profile: string, version: string, signal: AbortSignal): Promise<boolean>;
}

export type Decision = { readonly allow: true; readonly reason: string } | { readonly allow: false; readonly reason: string };

/** The whole check answers within this, milliseconds (see the module comment). */
export const CHECK_BUDGET_MS = 2000;
/** The S3 read of the gate record gets at most this much of it, so the history lookup keeps the rest. */
export const RECORD_BUDGET_MS = 1000;

export interface CheckOptions {
  /** @default CHECK_BUDGET_MS */
  readonly budgetMs?: number;
  /** @default RECORD_BUDGET_MS */
  readonly recordBudgetMs?: number;
  readonly now?: () => number;
}

/** Thrown (as the abort reason) when a lookup runs out of its share of the budget. */
export class CheckTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

/**
 * Runs `work` with a signal that aborts after `ms`, and stops waiting then even if the port ignores the signal: the
 * check never waits longer than its budget.
 */
export async function within<T>(what: string, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const error = new CheckTimeoutError(what, Math.max(0, Math.round(ms)));
  if (ms <= 0) {
    controller.abort(error);
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function check(event: PreStartDeploymentEvent, records: GateRecords, history: DeploymentHistory, options: CheckOptions = {}): Promise<Decision> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const budgetMs = options.budgetMs ?? CHECK_BUDGET_MS;
  const refuse = (reason: string): Decision => ({ allow: false, reason: `config gate check: ${reason}` });
  const service = event?.Parameters?.[GATE_CHECK_PARAMETER.SERVICE];
  const gatedProfile = event?.Parameters?.[GATE_CHECK_PARAMETER.PROFILE];
  if (!service || !gatedProfile) {
    return refuse(
      `the extension association has no "${GATE_CHECK_PARAMETER.SERVICE}" or "${GATE_CHECK_PARAMETER.PROFILE}" parameter; it is made by AiServiceConfig (connectGate), do not associate this extension by hand`,
    );
  }
  const application = event.Application?.Id;
  const environment = event.Environment?.Id;
  const profile = event.ConfigurationProfile?.Id;
  const version = event.ConfigurationVersion;
  if (!application || !environment || !profile || !version) {
    return refuse(
      `the request names no Application.Id, Environment.Id, ConfigurationProfile.Id or ConfigurationVersion (got ${Object.keys(event ?? {}).join(', ')})`,
    );
  }
  if (profile !== gatedProfile) {
    return refuse(
      `environment ${environment} serves only the release config profile ${gatedProfile} of ${service}, not profile ${profile}; degrade flags go to the service's degrade environment`,
    );
  }
  const what = `version ${version} of ${service}'s release config`;
  const key = gateKeys(service, configGateReleaseKey(version)).json;
  // An unreadable store does not refuse yet: a version this environment already served is allowed without its record
  // (a stack rollback must never be refused because S3 answered badly).
  let text: string | undefined;
  let readError: string | undefined;
  try {
    text = await within('the gate record read', Math.min(options.recordBudgetMs ?? RECORD_BUDGET_MS, budgetMs), (signal) => records.read(key, signal));
  } catch (e) {
    readError = `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
  }
  let report: GateReport | undefined;
  let unusable: string | undefined;
  if (text !== undefined) {
    try {
      report = JSON.parse(text) as GateReport;
    } catch {
      unusable = 'it is not JSON';
    }
    if (report) unusable = recordProblem(report, service, version);
    if (!unusable && report && (report.verdict === 'passed' || report.verdict === 'passed-empty')) {
      return { allow: true, reason: `${what} passed the config gate (${report.verdict}): ${report.summary}` };
    }
  }
  // The history only when the record does not pass, in what is left of the budget; a failure there is "not known
  // to have been served" (fail closed), reported with the refusal.
  let historyError: string | undefined;
  let served = false;
  try {
    served = await within('the deployment history lookup', budgetMs - (now() - startedAt), (signal) =>
      history.servedComplete(application, environment, profile, version, signal),
    );
  } catch (e) {
    historyError = `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
  }
  if (served) {
    return {
      allow: true,
      reason: `${what} was already served by environment ${environment} (a deployment of it completed): a rollback or a redeploy of a live version`,
    };
  }
  const where = `${records.location}/${key}`;
  const unknown = historyError ? `; whether environment ${environment} served it is unknown (${historyError})` : '';
  if (readError) return refuse(`cannot read the gate record of ${what} (${where}): ${readError}${unknown}; refusing`);
  if (text === undefined) {
    if (historyError) {
      return refuse(
        `${what} has no config gate record (${where})${unknown}; refusing (retry the deployment, or release it with cdk deploy, which replays the regression cases through the gate alias first)`,
      );
    }
    return refuse(
      `${what} has no config gate record (${where}) and was not served by environment ${environment} in its recent deployments; release it with cdk deploy, which replays the regression cases through the gate alias first`,
    );
  }
  if (unusable) return refuse(`the gate record of ${what} (${where}) is not usable: ${unusable}; release it again with cdk deploy`);
  return refuse(`${what} FAILED the config gate: ${report!.summary} (${where})`);
}

function recordProblem(r: GateReport, service: string, version: string): string | undefined {
  if (!r || typeof r !== 'object') return 'it is not an object';
  if (r.schemaVersion !== 1) return `schemaVersion ${String(r.schemaVersion)}, expected 1`;
  if (r.service !== service) return `it is about service "${String(r.service)}"`;
  if (r.plane !== 'config') return `it is a ${String(r.plane)}-plane report`;
  if (r.target?.configVersion !== undefined && r.target.configVersion !== version) return `it replayed version ${r.target.configVersion}`;
  if (typeof r.summary !== 'string') return 'it has no summary';
  return undefined;
}
