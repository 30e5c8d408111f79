/**
 * AT_DEPLOYMENT_TICK: the config plane's one synchronous answer. Its own module, importing only the contract, so the
 * tick-only bundle (lambda/canary-judge-tick, issue 15-A5) loads the S3 client and this, nothing else: AppConfig
 * waits about 3 s for an extension and rolls the deployment back on a timeout or an error at an AT_* action point.
 *
 * Routing never guesses: the tick's service comes from the extension association's parameters
 * (CANARY_JUDGE_TICK_PARAMETER, set by CanaryJudge on the live environment's association), else from the function's
 * own service; an event that is not a tick, or names no environment, or no service, is answered CONTINUE with the
 * reason logged. Nothing here throws to AppConfig.
 */
import { CANARY_JUDGE_TICK_PARAMETER, configJudgeReleaseKey, type JudgeRecord, judgeKey } from '../shared/contract';

/**
 * The tick's budget for reading the stored verdict: AppConfig waits about 3 s for an extension and rolls the
 * deployment back on a timeout (AWS's Datadog tick sample: "AppConfig will wait 3s for an extn so we need to
 * hustle"); the tick only reads the stored verdict, and answers CONTINUE when that read takes longer than this,
 * leaving room for a cold start.
 */
export const TICK_BUDGET_MS = 1500;

/** What an AppConfig extension action sends a Lambda function (the fields read; AppConfig User Guide, custom extensions). */
export interface AppConfigEvent {
  readonly InvocationId?: string;
  readonly Type?: string;
  readonly Parameters?: Readonly<Record<string, string>>;
  readonly Application?: { readonly Id: string };
  readonly Environment?: { readonly Id: string };
  readonly ConfigurationProfile?: { readonly Id: string };
  readonly DeploymentNumber?: number | string;
  readonly ConfigurationVersion?: string;
}

/** The AT_DEPLOYMENT_TICK payload (AppConfig User Guide, custom extension Lambda payloads): the fields used. */
export interface TickEvent extends AppConfigEvent {
  readonly Type: 'AtDeploymentTick';
  readonly ApplicationId?: string;
  readonly EnvironmentId?: string;
  readonly ConfigurationProfileId?: string;
  readonly DeploymentNumber: number | string;
  readonly ConfigurationVersion: string;
  readonly PercentageComplete?: number | string;
}

export function isTickEvent(e: unknown): e is TickEvent {
  return (e as { Type?: unknown } | null)?.Type === 'AtDeploymentTick';
}

/**
 * Any AppConfig extension invocation, by its shape: a Type string with the application or environment it concerns,
 * or the association's Parameters. Such an event must never get an error back at an AT_* action point.
 */
export function isAppConfigEvent(e: unknown): e is AppConfigEvent {
  const x = e as AppConfigEvent | null;
  if (typeof x !== 'object' || x === null) return false;
  return (
    (typeof x.Type === 'string' && (x.Application !== undefined || x.Environment !== undefined || x.InvocationId !== undefined)) ||
    typeof x.Parameters === 'object'
  );
}

/**
 * What the extension action returns at AT_DEPLOYMENT_TICK. AWS's own tick extension samples answer
 * `{"Directive": "ROLL_BACK", "Description": "..."}` to roll the deployment back and `{"Directive": "CONTINUE"}`
 * otherwise (aws-samples/aws-appconfig-tick-extn-for-datadog, lambda/index.py; and
 * aws-samples/sample-aws-appconfig-tick-extn-for-newrelic).
 */
export type TickResponse = { readonly Directive: 'CONTINUE' } | { readonly Directive: 'ROLL_BACK'; readonly Description: string };

/** The tick's ports: the judge records' store and a log line. */
export interface TickPorts {
  readonly state: { load(key: string): Promise<JudgeRecord | undefined> };
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
}

const CONTINUE: TickResponse = { Directive: 'CONTINUE' };
const TIMED_OUT = Symbol('timed out');

/**
 * AT_DEPLOYMENT_TICK: the tick judges nothing itself: the schedule judges the rollout and stores its verdict; the
 * tick reads that record (one S3 GetObject) within `budgetMs` and answers ROLL_BACK only when the stored verdict is a
 * regression. A slow read, a missing record, an event that is not a tick or any error answers CONTINUE, with the
 * reason logged: a judge crash never rolls a config back (the fixed-threshold alarms remain the safety net).
 * `s.service`: the function's own service, used when the association names none.
 */
export async function runConfigTick(event: unknown, ports: TickPorts, s: { readonly service?: string }, budgetMs: number): Promise<TickResponse> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const carryOn = (why: string, extra: Record<string, unknown> = {}) => {
    ports.log(`canary judge: ${why}; the rollout continues`, extra);
    return CONTINUE;
  };
  try {
    if (!isTickEvent(event))
      return carryOn('not an AT_DEPLOYMENT_TICK event (nothing to answer but CONTINUE)', { type: (event as AppConfigEvent | null)?.Type });
    const environmentId = event.Environment?.Id ?? event.EnvironmentId;
    if (!environmentId) return carryOn('the event names no Environment.Id');
    const service = event.Parameters?.[CANARY_JUDGE_TICK_PARAMETER.SERVICE] ?? s.service;
    if (!service) return carryOn(`the extension association sets no "${CANARY_JUDGE_TICK_PARAMETER.SERVICE}" parameter`, { environmentId });
    const key = judgeKey(service, configJudgeReleaseKey(environmentId, event.DeploymentNumber));
    const record = await Promise.race([
      ports.state.load(key),
      new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), budgetMs);
      }),
    ]);
    if (record === TIMED_OUT) return carryOn('the judge record did not arrive within the tick budget', { key, budgetMs });
    if (record?.verdict !== 'regression') return CONTINUE;
    const worst = [...(record.evidence as readonly { metric: string; eValue: number; threshold: number }[])].sort(
      (a, b) => b.eValue / b.threshold - a.eValue / a.threshold,
    )[0];
    return {
      Directive: 'ROLL_BACK',
      Description:
        `canary judge: config ${record.canary} regressed${worst ? ` on ${worst.metric} (e-value ${round(worst.eValue)} >= ${round(worst.threshold)})` : ''}; rolling back`.slice(
          0,
          1000,
        ),
    };
  } catch (e) {
    ports.log('canary judge failed at AT_DEPLOYMENT_TICK; the rollout continues (no evidence of a regression)', { error: String(e) });
    return CONTINUE;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : x);
