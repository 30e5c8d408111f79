/**
 * The canary judge engine's outputs on fixed seeds, for the pin test (test/judge-engine-pin.test.ts, h11-simjudge):
 * every speed-up of the engine (lambda/judge/judge.ts) or the generator (lambda/judge/simulate.ts) must leave every
 * e-value, every verdict and every byte of the persisted state as it was. Each case drives the engine exactly as
 * `simulateRelease` does (one update a minute at the observed share) and digests, per minute, the decision and the
 * evidence, and at the end the whole JSON state (reservoirs, PRNG, after-traffic references, cluster sets). JSON
 * prints a double's shortest round-trip form, so equal digests mean bit-identical numbers.
 *
 * The cases cover each path of the engine: counts with clusters (case and conversation), folded retries, the value
 * bets at a known share (unit `cluster`) and by permutation at the observed share, the tolerance (default and strict),
 * the pooled reservoir past its cap (20 rps), the after-traffic phase (gross test, two-sample replay, conformal
 * ranks), a regression that fires, the environment switch bets (unit `environment`) and the evaluation metrics
 * through the real wiring (lib/drill/evaluation-world.ts). Regenerate the fixture only for a change that is MEANT to
 * change outputs: `UPDATE_JUDGE_PIN=1 npx jest test/judge-engine-pin.test.ts` (and say so).
 */
import { createHash } from 'node:crypto';
import { runEvalWorld } from '../lib/drill/evaluation-world';
import { codeSteps } from '../lib/rollout/canary-plan';
import { concludeJudge, newJudgeState, type JudgeObservation, type JudgeState, updateJudge } from '../lambda/judge/judge';
import { mulberry32, type Regression, type Schedule, type SimulationOptions, shareAt, type TrafficModel, TrafficGenerator } from '../lambda/judge/simulate';
import { BALANCED_50_20, CANARY_10_5, GOOD_WORLD, canarySchedule, linearSchedule, runScenario } from './judge-sim';

export interface PinResult {
  readonly name: string;
  /** What a reader can check by eye: the decision, its minute, the metric, the conclusion. */
  readonly summary: string;
  /** sha256 of the per-minute decisions and evidence and the final state (JSON). */
  readonly digest: string;
}

function sha(x: unknown): string {
  return createHash('sha256').update(JSON.stringify(x)).digest('hex');
}

function observedShare(obs: readonly JudgeObservation[]): number {
  if (obs.length === 0) return 0;
  let c = 0;
  for (const o of obs) if (o.version === 'canary') c++;
  return c / obs.length;
}

/**
 * Whether the simulated cases update the state in place (as lambda/judge/simulate.ts does) or on copies (as the
 * wiring does); the test runs them both ways against one fixture.
 */
export const PIN_IN_PLACE = { value: true };

/** simulateRelease, keeping every minute's evidence and the final state. */
function release(
  name: string,
  seed: number,
  schedule: Schedule,
  traffic: TrafficModel,
  regression: Regression,
  options: SimulationOptions,
  inPlace = PIN_IN_PLACE.value,
): PinResult {
  const gen = new TrafficGenerator(seed, traffic, regression, schedule.endMinute);
  let state: JudgeState = newJudgeState(options.judge);
  const clusterBy = options.clusterBy ?? 'case';
  const trace: unknown[] = [];
  for (let minute = -(options.baselineMinutes ?? 0); minute < 0; minute++) {
    const r = updateJudge(state, { canaryShare: 0, observations: gen.minute(minute, 0, clusterBy) }, { inPlace });
    state = r.state;
    trace.push([minute, r.decision, r.evidence]);
  }
  let summary = 'no regression';
  for (let minute = 0; minute < schedule.endMinute; minute++) {
    const nominal = shareAt(schedule, minute);
    const obs = gen.minute(minute, nominal, clusterBy);
    if (obs.length === 0) continue;
    const r = updateJudge(state, { canaryShare: observedShare(obs), observations: obs }, { inPlace });
    state = r.state;
    trace.push([minute, r.decision, r.evidence]);
    if (r.decision === 'regression') {
      summary = `regression at minute ${minute} (${r.evidence.find((e) => e.eValue >= e.threshold)?.metric})`;
      break;
    }
  }
  return { name: `${name} #${seed}`, summary: `${summary}; ${concludeJudge(state)}`, digest: sha([trace, state]) };
}

/** unit `environment`: 6 environments switching one after another, one of them slower and erring more (not the release). */
function environmentRelease(seed: number): PinResult {
  const rand = mulberry32(seed);
  let state = newJudgeState({ unit: 'environment', alpha: 0.2 });
  const trace: unknown[] = [];
  const envs = 6;
  for (let b = 0; b < 12; b++) {
    const obs: JudgeObservation[] = [];
    for (let j = 0; j < 20; j++)
      for (let e = 0; e < envs; e++) {
        const isNew = b > e + 2 || (b === e + 2 && j >= 10);
        obs.push({
          version: isNew ? 'canary' : 'stable',
          at: b * 60_000 + j * 3000 + e * 10,
          error: rand() < (e === 1 ? 0.2 : 0.03),
          safety: rand() < 0.01,
          contract: rand() < 0.02,
          latencyMs: (e === 1 ? 1500 : 1000) * Math.exp(0.4 * (rand() - 0.5)),
          costUsd: 0.002 * (1 + rand()),
          quality: rand(),
          environment: `env-${e}`,
        });
      }
    const r = updateJudge(state, { canaryShare: observedShare(obs), observations: obs });
    state = r.state;
    trace.push([b, r.decision, r.evidence]);
  }
  return { name: `unit environment, 6 switching environments #${seed}`, summary: concludeJudge(state), digest: sha([trace, state]) };
}

const world = (name: string) => {
  const w = GOOD_WORLD.find((x) => x.name.startsWith(name));
  if (!w) throw new Error(`no GOOD_WORLD scenario ${name}`);
  return w;
};

/** Every case, in order. */
export async function pinResults(only: { readonly simulatedOnly?: boolean; readonly first?: number } = {}): Promise<PinResult[]> {
  const out: PinResult[] = [];
  const sims: (() => PinResult)[] = [];
  const conv = world('config plane per conversation');
  const retries = world('callers retry');
  const envs = world('code plane: 3 execution');
  const perEnv = world('config plane via AppConfig');
  const slow = world('shared latency ×1.5');
  const grow = world('traffic doubles');
  const mix = world('drifting mix');
  const alpha = (o: SimulationOptions | undefined, a: number): SimulationOptions => ({ ...o, judge: { alpha: a, ...o?.judge } });
  sims.push(() => release('good, i.i.d., 10 % for 5 min, 30-min baseline', 7001, CANARY_10_5, { rps: 5 }, {}, { baselineMinutes: 30 }));
  sims.push(() => release(retries.name, 7002, CANARY_10_5, retries.traffic(CANARY_10_5), {}, { baselineMinutes: 5, ...alpha(retries.options, 0.2) }));
  sims.push(() => release(conv.name, 7003, CANARY_10_5, conv.traffic(CANARY_10_5), {}, { baselineMinutes: 5, ...alpha(conv.options, 0.2) }));
  sims.push(() => release(envs.name, 7004, BALANCED_50_20, envs.traffic(BALANCED_50_20), {}, { baselineMinutes: 5, ...alpha(envs.options, 0.2) }));
  sims.push(() => release(perEnv.name, 7005, CANARY_10_5, perEnv.traffic(CANARY_10_5), {}, { baselineMinutes: 5, ...alpha(perEnv.options, 0.2) }));
  sims.push(() => release(slow.name, 7006, CANARY_10_5, slow.traffic(CANARY_10_5), {}, { baselineMinutes: 5, ...alpha(slow.options, 0.2) }));
  sims.push(() => release(grow.name, 7007, BALANCED_50_20, { ...grow.traffic(BALANCED_50_20), retries: 5 }, {}, { baselineMinutes: 5, judge: { alpha: 0.2 } }));
  sims.push(() => release(mix.name, 7008, linearSchedule(10, 3), mix.traffic(linearSchedule(10, 3)), {}, { baselineMinutes: 10, clusterBy: 'none' }));
  sims.push(() => release('errors ×3, 50 % for 20 min', 9001, canarySchedule(50, 20), { rps: 5 }, { errorFactor: 3 }, { baselineMinutes: 10 }));
  sims.push(() =>
    release(
      'p50 +20 %, strict tolerance, 10 % for 5 min',
      2001,
      CANARY_10_5,
      { rps: 5 },
      { latencyFactor: 1.2 },
      { judge: { tolerance: { latencyMs: 0, costUsd: 0, quality: 0 } } },
    ),
  );
  sims.push(() =>
    release(
      '20 rps, 3 environments σ 5 %, 50 % for 20 min, strict',
      5201,
      canarySchedule(50, 20, 1),
      { rps: 20, environments: { perVersion: 3, errorSpread: 0, latencySpread: 0.05 } },
      {},
      {
        baselineMinutes: 5,
        judge: { tolerance: { latencyMs: 0, costUsd: 0, quality: 0 } },
      },
    ),
  );
  sims.push(() =>
    release(
      '30 % errors on both versions: the gross rule after full traffic, 10 % for 1 min',
      3001,
      canarySchedule(10, 1, 12),
      { rps: 5, baseErrorRate: 0.3 },
      {},
      { baselineMinutes: 10 },
    ),
  );
  for (const run of sims.slice(0, only.first ?? sims.length)) out.push(run());
  if (only.simulatedOnly) return out;
  out.push(environmentRelease(11));
  // The i.i.d. driver of test/judge-sim.ts (a second generator).
  const iid = runScenario(2002, { rps: 5, latencyFactor: 1.2, baselineMinutes: 30, options: { tolerance: { latencyMs: 0 } } });
  out.push({ name: 'test/judge-sim.ts runScenario, p50 +20 % strict #2002', summary: `${iid.conclusion}, ${iid.firstMetric ?? '-'}`, digest: sha(iid) });
  // The evaluation metrics through the real wiring: code plane (request unit) and config plane (cluster unit).
  const ev = { rps: 5, samplingRate: 0.05, pairedLoss: 0.7, scoreDrop: 0.3, positionBias: 0.3, alpha: 0.2 } as const;
  const code = await runEvalWorld({ ...ev, seed: 101, plane: 'code', steps: codeSteps('linear', 5, 3), disturbance: 'retries' });
  out.push({ name: 'evaluation world, code plane, retries #101', summary: `caught ${code.caughtAtMinute ?? '-'}`, digest: sha(code) });
  const config = await runEvalWorld({
    ...ev,
    seed: 201,
    plane: 'config',
    steps: [
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 15 },
    ],
    disturbance: 'drifting-mix',
  });
  out.push({ name: 'evaluation world, config plane, drifting mix #201', summary: `caught ${config.caughtAtMinute ?? '-'}`, digest: sha(config) });
  return out;
}
