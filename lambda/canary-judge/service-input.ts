/**
 * One judge function serves every service of a platform (issue 15 E): a service's settings arrive with its schedule
 * event (the rule's constant input), and the AfterAllowTraffic hook, whose event carries only the deployment and hook
 * execution ids, finds them in the pointer the schedule left for that deployment. Pure: no SDK.
 */
import { CANARY_JUDGE_INPUT_SOURCE, type CanaryJudgeServiceInput } from '../shared/contract';
import type { Clock, DeploymentsPort } from './canary-judge';

/** The deployment pointers (judge/_deployments/<id>.json): the service settings of a code deployment in progress. */
export interface PointerPort {
  read(deploymentId: string): Promise<Readonly<Record<string, string>> | undefined>;
  write(deploymentId: string, settings: Readonly<Record<string, string>>): Promise<void>;
}

export function isServiceInput(e: unknown): e is CanaryJudgeServiceInput {
  const x = e as Partial<CanaryJudgeServiceInput> | null;
  return x?.source === CANARY_JUDGE_INPUT_SOURCE;
}

/** The settings map of a schedule event; throws naming the field when it is not a map of strings. */
export function serviceSettings(e: CanaryJudgeServiceInput): Readonly<Record<string, string>> {
  const s = (e as { settings?: unknown }).settings;
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    throw new Error(`the canary judge's schedule input has no settings object (got ${JSON.stringify(s)}); the rule is made by CanaryJudge`);
  for (const [k, v] of Object.entries(s))
    if (typeof v !== 'string') throw new Error(`the canary judge's schedule input: settings.${k} must be a string, got ${JSON.stringify(v)}`);
  return s as Record<string, string>;
}

/**
 * The group's deployments port, leaving a pointer to `settings` for every deployment it finds in progress, so the
 * AfterAllowTraffic hook of that deployment knows whose it is. A pointer that cannot be written is logged, never fatal
 * to the schedule (the hook then waits, and answers Succeeded unjudged if none appears).
 */
export function withPointers(
  deployments: DeploymentsPort,
  pointers: PointerPort,
  settings: Readonly<Record<string, string>>,
  log: (message: string, extra?: Record<string, unknown>) => void,
): DeploymentsPort {
  return {
    ...deployments,
    async inProgress() {
      const ids = await deployments.inProgress();
      await Promise.all(
        ids.map((id) =>
          pointers.write(id, settings).catch((e) => log('canary judge: could not write the deployment pointer', { deploymentId: id, error: String(e) })),
        ),
      );
      return ids;
    },
  };
}

/**
 * The settings of the service whose deployment `deploymentId` is, from its pointer; waits up to `waitMs` for the
 * schedule (every minute) to write it, polling every `pollMs`. Undefined when none appeared in time.
 */
export async function awaitPointer(
  pointers: PointerPort,
  deploymentId: string,
  clock: Clock,
  waitMs: number,
  pollMs = 5_000,
): Promise<Readonly<Record<string, string>> | undefined> {
  const until = clock.now() + waitMs;
  for (;;) {
    const found = await pointers.read(deploymentId).catch(() => undefined);
    if (found) return found;
    if (clock.now() + pollMs > until) return undefined;
    await clock.sleep(pollMs);
  }
}
