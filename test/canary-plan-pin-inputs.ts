/**
 * The fixed inputs whose outputs test/canary-plan-pin.test.ts compares with test/fixtures/canary-plan-pin.json (taken
 * before h11-simplan's speed work: the planner's plans and the simulation's per-seed verdicts must stay bit-identical).
 * Regenerate the fixture only on purpose: `npx tsx test/canary-plan-pin-inputs.ts > test/fixtures/canary-plan-pin.json`.
 */
import { type CanaryPlanOptions, codeSteps, type PlanStep, type PlanTraffic, planCanary } from '../lib/rollout/canary-plan';
import { newJudgeState, updateJudge } from '../lambda/judge/judge';
import { type PlanScenario, SeedMemo, scheduleMinutes } from './canary-plan-sim';

export const PLAN_INPUTS: [PlanTraffic, CanaryPlanOptions][] = [
  [{ requestsPerSecond: 1 }, {}],
  [{ requestsPerSecond: 5 }, {}],
  [{ requestsPerSecond: 20 }, {}],
  [{ requestsPerSecond: 100 }, {}],
  [{ requestsPerSecond: 1 }, { maxMinutes: 10 }],
  [{ requestsPerSecond: 20 }, { maxFirstStepPercent: 10, maxMinutes: 30 }],
  [{ requestsPerSecond: 5 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } }],
  [{ requestsPerSecond: 5, meanConversationTurns: 1 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } }],
  [{ requestsPerSecond: 5, meanConversationTurns: 8 }, { minRegressions: { errorRatio: 3, p50Increase: 0.2 } }],
  [{ requestsPerSecond: 5, errorRate: 0.03, meanClusterSize: 3 }, {}],
  [{ requestsPerSecond: 5, evaluation: { samplingRate: 0.1, criteria: ['groundedness', 'relevance'] } }, {}],
  [{ requestsPerSecond: 2, evaluation: { samplingRate: 0.05, cost: { perReleaseUsd: 5, pairUsd: 0.01, scoreUsd: 0.005 } } }, { power: 0.8 }],
];

// The conversation rows run a short config schedule (safety step, then 50 % for 10 minutes) to keep this test cheap.
const conversationSteps: PlanStep[] = [
  { share: 0.1, minutes: 5 },
  { share: 0.5, minutes: 10 },
];
export const SIM_INPUTS: [string, PlanScenario, readonly PlanStep[], { unit: 'cluster' } | undefined][] = [
  ['p50 +20 %, canary 10 % 5 min', { rps: 5, latencyFactor: 1.2 }, codeSteps('canary', 10, 5), undefined],
  ['quality -0.05, linear 10 % / 1 min', { rps: 5, qualityDrop: 0.05 }, codeSteps('linear', 10, 1), undefined],
  ['errors x3, clusters of 3', { rps: 5, errorFactor: 3, clusterSize: 3 }, codeSteps('canary', 50, 10), undefined],
  ['good release, linear 10 % / 1 min', { rps: 5 }, codeSteps('linear', 10, 1), undefined],
  ['4 turns, p50 +20 %, config 10 % then 50 %', { rps: 5, conversationTurns: 4, latencyFactor: 1.2 }, conversationSteps, { unit: 'cluster' }],
  ['4 turns, errors x3, config 10 % then 50 %', { rps: 5, conversationTurns: 4, errorFactor: 3 }, conversationSteps, { unit: 'cluster' }],
];

/** Per seed: the minute (1-based) at which the engine called a regression, or 0. */
export function firstCatch(seed: number, sc: PlanScenario, steps: readonly PlanStep[], options?: { unit: 'cluster' }): number {
  let state = newJudgeState(options);
  let n = 0;
  for (const m of scheduleMinutes(seed, sc, steps)) {
    n++;
    const r = updateJudge(state, { canaryShare: m.share, observations: m.observations });
    state = r.state;
    if (r.decision === 'regression') return n;
  }
  return 0;
}

export const PIN_SEEDS = [1, 2, 3, 4, 5];

export function pinOutputs(): { plans: unknown[]; sims: Record<string, number[]> } {
  return {
    plans: PLAN_INPUTS.map(([t, o]) => planCanary(t, o)),
    sims: Object.fromEntries(SIM_INPUTS.map(([name, sc, steps, o]) => [name, PIN_SEEDS.map((s) => firstCatch(s, sc, steps, o))])),
  };
}

/**
 * SeedMemo's answers next to direct runs, on a schedule and its prefixes, in both orders (the longer run first, then
 * the shorter first): each entry is [memo power, direct power, engine runs the memo did].
 */
export function memoOutputs(): [number, number, number][] {
  const sc: PlanScenario = { rps: 5, conversationTurns: 4, errorFactor: 3 };
  const long: PlanStep[] = conversationSteps;
  const short: PlanStep[] = [
    { share: 0.1, minutes: 5 },
    { share: 0.5, minutes: 7 },
  ];
  const directPower = new Map<readonly PlanStep[], number>();
  const direct = (steps: readonly PlanStep[]) => {
    if (!directPower.has(steps)) directPower.set(steps, PIN_SEEDS.filter((s) => firstCatch(s, sc, steps, { unit: 'cluster' }) > 0).length / PIN_SEEDS.length);
    return directPower.get(steps) as number;
  };
  const out: [number, number, number][] = [];
  for (const order of [
    [long, short],
    [short, long],
  ]) {
    const memo = new SeedMemo();
    for (const steps of order) {
      const before = memo.computed;
      out.push([memo.power(PIN_SEEDS.length, PIN_SEEDS[0], sc, steps), direct(steps), memo.computed - before]);
    }
  }
  return out;
}

if (require.main === module) process.stdout.write(`${JSON.stringify(pinOutputs(), null, 1)}\n`);
