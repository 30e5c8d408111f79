/**
 * Graded degradation: when the service's cost alarm fires, switch it to the fallback model by deploying the degrade
 * flags with `useFallbackModel` on. Pure logic behind a small port; the handler wires AppConfig.
 *
 * Every attempt is idempotent (it reads what is hosted and what is deployed before it writes), so an attempt can be
 * repeated in the handler (a deployment already running in the environment: AppConfig answers ConflictException)
 * and by Lambda's asynchronous retries without creating a version or a deployment twice.
 */
import { DEGRADE_FLAGS } from '../shared/contract';

/** The part of a CloudWatch alarm-action event (Lambda action) the guard reads. */
export interface AlarmEvent {
  /** When CloudWatch sent the event (ISO 8601). */
  readonly time?: string;
  readonly alarmData?: {
    readonly alarmName?: string;
    /** `timestamp`: when the alarm entered this state (ISO 8601). */
    readonly state?: { readonly value?: string; readonly reason?: string; readonly timestamp?: string };
  };
}

/** Port: the alarm's state now (CloudWatch DescribeAlarms); undefined when the alarm is not found. */
export type AlarmStateLookup = (alarmName: string) => Promise<string | undefined>;

/**
 * An event older than this is checked against the alarm's state now before the guard acts: Lambda keeps retrying a
 * throttled asynchronous event for up to its maximum event age (Lambda Developer Guide, "Asynchronous invocation"), and
 * a cost alarm back to OK by then needs no degrade.
 */
export const FRESH_EVENT_MS = 2 * 60_000;

/** Port: the degrade profile in AppConfig. */
export interface DegradeStore {
  /** The latest hosted version of the degrade flags: number and the full feature-flags document. */
  latest(): Promise<{ version: number; document: FeatureFlagsDocument }>;
  /** Creates a hosted version, returns its number. The CLI's `degrade` passes its own description. */
  create(document: FeatureFlagsDocument, label: string, description?: string): Promise<number>;
  /** The version of the degrade flags deployed (or deploying) in the environment, if any. */
  deployedVersion(): Promise<number | undefined>;
  /** Deploys a version with the instant strategy; returns the deployment number. */
  deploy(version: number, description: string): Promise<string>;
}

/**
 * An error of the store the guard understands. `retryable`: trying again later can succeed (another deployment is
 * running in the environment, throttling, a 5xx); otherwise (access denied, a bad request) it cannot.
 */
export class StoreError extends Error {
  constructor(
    message: string,
    public readonly code: string,
    public readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface FeatureFlagsDocument {
  readonly version: string;
  readonly flags: Readonly<Record<string, unknown>>;
  readonly values: Readonly<Record<string, { readonly enabled?: boolean } & Record<string, unknown>>>;
}

export type GuardOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'already-degraded'; readonly version: number; readonly attempts: number }
  | { readonly action: 'deployed'; readonly version: number; readonly deploymentNumber: string; readonly attempts: number };

/** Backoff between attempts: exponential with full jitter, capped (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export interface RetryPolicy {
  /** Upper bound of the first wait. @default 2000 */
  readonly firstDelayMs: number;
  /** Each wait's upper bound grows by this factor. @default 2 */
  readonly factor: number;
  /** Largest wait. @default 30000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 2000, factor: 2, maxDelayMs: 30_000 };

export interface GuardOptions {
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ x < 1. @default Math.random */
  readonly random?: () => number;
  /** No attempt starts after this time (epoch ms): the handler passes its own deadline, minus a margin. @default no limit */
  readonly deadline?: number;
  readonly retry?: RetryPolicy;
  /** Is the work still wanted: the alarm's state now, asked for events older than FRESH_EVENT_MS. @default not asked */
  readonly alarmState?: AlarmStateLookup;
}

/** What the guard leaves behind when it gives up: logged, and the error message the on-failure destination carries. */
export interface GiveUpRecord {
  readonly type: 'ai-release.cost-guard.gave-up';
  readonly alarm: string;
  /** The degrade version it tried to deploy, when it got that far. */
  readonly version?: number;
  readonly attempts: number;
  readonly waitedMs: number;
  readonly retryable: boolean;
  readonly lastError: { readonly name: string; readonly code?: string; readonly message: string };
  /** What a person should do now. */
  readonly action: string;
}

/** Thrown when the guard stops trying. Its message is the record as JSON, so the destination payload carries it. */
export class CostGuardGaveUp extends Error {
  constructor(public readonly record: GiveUpRecord) {
    super(JSON.stringify(record));
    this.name = 'CostGuardGaveUp';
  }
}

/** The flags document with the fallback switch on; `changed` is false when it already was. */
export function withFallbackOn(doc: FeatureFlagsDocument): { changed: boolean; document: FeatureFlagsDocument } {
  const flag = DEGRADE_FLAGS.USE_FALLBACK_MODEL;
  if (!(flag in (doc.flags ?? {}))) throw new Error(`the degrade profile has no "${flag}" flag; was it created by AiServiceConfig?`);
  if (doc.values?.[flag]?.enabled === true) return { changed: false, document: doc };
  return { changed: true, document: { ...doc, values: { ...doc.values, [flag]: { ...doc.values?.[flag], enabled: true } } } };
}

/** Upper bound of the wait before attempt `n + 1` (n ≥ 1). */
export function backoffCapMs(n: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * policy.factor ** (n - 1));
}

export async function guard(event: AlarmEvent, store: DegradeStore, options: GuardOptions = {}): Promise<GuardOutcome> {
  const state = event.alarmData?.state?.value;
  if (state !== 'ALARM') return { action: 'ignored', reason: `alarm state is ${state ?? 'unknown'}, not ALARM` };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const policy = options.retry ?? DEFAULT_RETRY;
  const alarm = event.alarmData?.alarmName ?? 'cost alarm';
  const started = now();
  // A late (or repeated, retried) delivery: act only if the alarm is still in ALARM. A failed lookup acts anyway: the
  // alarm did fire, and a degrade is undone by hand, while a missed one keeps costing.
  const since = Date.parse(event.alarmData?.state?.timestamp ?? event.time ?? '');
  const ageMs = Number.isFinite(since) ? started - since : undefined;
  if (options.alarmState && event.alarmData?.alarmName && (ageMs === undefined || ageMs > FRESH_EVENT_MS)) {
    const current = await options.alarmState(event.alarmData.alarmName).catch(() => undefined);
    if (current !== undefined && current !== 'ALARM') {
      const age = ageMs === undefined ? 'at an unknown time' : `${Math.round(ageMs / 60_000)} min ago`;
      return { action: 'ignored', reason: `stale event: ${alarm} entered ALARM ${age} and is ${current} now; nothing to degrade` };
    }
  }
  let version: number | undefined;

  const attempt = async (n: number): Promise<GuardOutcome> => {
    const latest = await store.latest();
    const next = withFallbackOn(latest.document);
    if (next.changed) {
      const stamp = new Date(now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
      version = await store.create(next.document, `cost-guard-${stamp}`);
    } else {
      // The newest version has the fallback on: made by a person, or by an earlier attempt that could not deploy.
      version = latest.version;
      if ((await store.deployedVersion()) === version) return { action: 'already-degraded', version, attempts: n };
    }
    const deploymentNumber = await store.deploy(version, `cost guard: ${alarm} in ALARM; switching to the fallback model`);
    return { action: 'deployed', version, deploymentNumber, attempts: n };
  };

  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      const retryable = e instanceof StoreError && e.retryable;
      const wait = Math.floor(random() * backoffCapMs(n, policy));
      const outOfTime = options.deadline !== undefined && now() + wait >= options.deadline;
      if (!retryable || outOfTime) {
        throw new CostGuardGaveUp({
          type: 'ai-release.cost-guard.gave-up',
          alarm,
          ...(version !== undefined ? { version } : {}),
          attempts: n,
          waitedMs: now() - started,
          retryable,
          lastError: { name: errorName(e), ...(e instanceof StoreError ? { code: e.code } : {}), message: errorMessage(e) },
          action: retryable
            ? 'The degrade environment stayed busy (or AppConfig throttled) for the whole attempt. Lambda retries the event asynchronously; if this record reached the notification topic, every retry failed: deploy the degrade flags with useFallbackModel on by hand (AppConfig console or start-deployment with the instant strategy), then find what kept the environment busy.'
            : 'This error does not go away by waiting (permissions, a missing profile or flag, a bad request). Deploy the degrade flags with useFallbackModel on by hand now, then fix the cause named in lastError.',
        });
      }
      await sleep(wait);
    }
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

function errorMessage(e: unknown): string {
  try {
    return e instanceof Error ? String(e.message) : String(e);
  } catch {
    return 'unreadable error';
  }
}
