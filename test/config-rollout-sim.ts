/**
 * Issue 16-F (and the table row "config plane: 3 execution environments that differ a little, share
 * observed"): a config release through AppConfig's own rollout (configCanary 'appconfig', the default), judged by the
 * REAL wiring (lambda/canary-judge/canary-judge.ts runSchedule, one invocation a minute) and the REAL engine
 * (lambda/canary-judge/engine.ts), over a synthetic log stream behind the fake Logs Insights port.
 *
 * Model (stated, not measured): `environments` warm execution environments, each with a uniform hash u; AppConfig's
 * exponential rollout (ConfigRollout.DEFAULT: 10 % doubling every 36 s to 100 % at 144 s, deployment duration 180 s,
 * bake 120 s) tells a client the new config once its percentage reaches 100·u; the client takes it at its extension's
 * next poll (15 s, AiServiceConfig.bind's interval, own phase). Requests arrive as a Poisson stream, each on a random
 * environment, with base errors 1 % and log-normal latency (median 1,200 ms, σ 0.5); each environment's own error and
 * latency factors (log-normal, σ `errorSpread`, `latencySpread`) apply to whichever config it serves. A bad release
 * multiplies the new config's errors by `errorFactor`. The judge runs every minute from the rollout's start (period
 * `periodMs`, each invocation ends 50 s into its minute) while the rollout is DEPLOYING or BAKING; its stored verdict
 * is what AT_DEPLOYMENT_TICK answers, so a regression stored before the bake ends is a rollback.
 */
import { type JudgeSettings, runSchedule } from '../lambda/canary-judge/canary-judge';
import { ENGINE } from '../lambda/canary-judge/engine';
import type { JudgeEngine } from '../lambda/canary-judge/engine-port';
import { mulberry32, normal } from '../lambda/judge/simulate';
import { configJudgeReleaseKey, judgeKey } from '../lambda/shared/contract';
import { fakePorts, type Line, T0 } from './canary-judge-fakes';

export interface ConfigRolloutWorld {
  readonly rps: number;
  readonly environments: number;
  /** Log-normal σ of each environment's error factor. @default 0 */
  readonly errorSpread?: number;
  /** Log-normal σ of each environment's latency factor. @default 0 */
  readonly latencySpread?: number;
  /** The new config's error factor (1: a good release). @default 1 */
  readonly errorFactor?: number;
  /** The judge's period (JudgeSettings.periodMs). @default 10,000 */
  readonly periodMs?: number;
  /**
   * Log-normal σ of each environment's share of the traffic (Lambda keeps busy environments busy): a busy environment
   * shows its switch sooner than an idle one, the one way switch times can depend on outcomes. @default 0 (even)
   */
  readonly trafficSpread?: number;
  /** Its error factor grows as traffic^κ (busy environments err more under the null). @default 0 */
  readonly errorTrafficExponent?: number;
  /** The extension's poll interval (s). @default 15 */
  readonly pollSeconds?: number;
  /**
   * The judge's config unit, as the construct sets it: `environment` for configCanary 'appconfig' (issue 16 B3, the
   * default since h10-envcluster); `request`, the per-request bets it replaced (a comparison row).
   * @default 'environment'
   */
  readonly configUnit?: 'request' | 'environment';
}

export interface ConfigRolloutOutcome {
  /** A regression was stored before the bake ended: AppConfig rolled the release back. */
  readonly rolledBack: boolean;
  /** Schedule minutes that ended in an error (the old failure: every minute after a share-1 batch threw). */
  readonly failedMinutes: number;
  /** Batches the engine was given at share 1 (what used to switch it to the after-traffic phase). */
  readonly shareOneBatches: number;
  /** Engine updates that threw. */
  readonly engineThrows: number;
  /** Cannot-judge datapoints published (value 1). */
  readonly cannotJudge: number;
  /** Samples judged (canary + stable) and set aside, from the record. */
  readonly judged: number;
  readonly setAside: number;
  /** Schedule minutes in which the judge fed the engine at least one batch. */
  readonly judgingMinutes: number;
  /** Minutes the judge ran while the rollout was in progress. */
  readonly minutes: number;
  /** Environment switch bets settled (unit `environment`), from the record's clusters. */
  readonly switchBets: number;
  /** The largest concurrent e-value in the record's last evidence (any metric). */
  readonly maxEValue: number;
  /** At least one environment had taken the new config while another still served the old one (something to compare). */
  readonly mixed: boolean;
  /**
   * Judge-period windows of the rollout (before the bake) holding requests of the new config only: the hazard of
   * issue 16-F (each one used to switch the engine to its after-traffic phase for good).
   */
  readonly oneSidedWindows: number;
}

const BASE_ERRORS = 0.01;
const MEDIAN_MS = 1200;
const STEP_S = 36;
const DURATION_S = 180;
const BAKE_S = 120;

/** AppConfig's percentage `s` seconds into ConfigRollout.DEFAULT (10 %, doubling every 36 s, 100 % from 144 s). */
export function defaultRolloutPercent(s: number): number {
  if (s < 0) return 0;
  return Math.min(100, 10 * 2 ** Math.floor(s / STEP_S));
}

/** One config release, seeded. */
export async function simulateConfigRollout(seed: number, w: ConfigRolloutWorld): Promise<ConfigRolloutOutcome> {
  const rand = mulberry32(seed * 7919 + 17);
  const poll = w.pollSeconds ?? 15;
  const envs = Array.from({ length: w.environments }, (_, i) => {
    const u = rand();
    const phase = rand() * poll;
    // Told at the first step whose percentage reaches 100·u; taken at the next poll after that.
    let told = 0;
    while (defaultRolloutPercent(told) < 100 * u) told += STEP_S;
    const takes = phase + Math.ceil((told - phase) / poll) * poll;
    return {
      id: `env-${i}`,
      switchAt: T0 + Math.max(0, takes) * 1000,
      errorFactor: Math.exp((w.errorSpread ?? 0) * normal(rand)),
      latencyFactor: Math.exp((w.latencySpread ?? 0) * normal(rand)),
    };
  });
  // Uneven traffic, drawn only when asked for, so the even worlds keep their random streams and figures.
  const weights = w.trafficSpread ? envs.map(() => Math.exp((w.trafficSpread ?? 0) * normal(rand))) : undefined;
  if (weights) envs.forEach((e, i) => (e.errorFactor *= weights[i] ** (w.errorTrafficExponent ?? 0)));
  const totalWeight = weights?.reduce((a, b) => a + b, 0) ?? 0;
  const pick = () => {
    if (!weights) return envs[Math.floor(rand() * envs.length)];
    let r = rand() * totalWeight;
    for (let i = 0; i < envs.length; i++) if ((r -= weights[i]) <= 0) return envs[i];
    return envs[envs.length - 1];
  };
  const end = T0 + (DURATION_S + BAKE_S) * 1000;
  const lines: Line[] = [];
  for (let t = T0 - 60_000 + (-Math.log(1 - rand()) * 1000) / w.rps; t < end + 60_000; t += (-Math.log(1 - rand()) * 1000) / w.rps) {
    const e = pick();
    const isNew = t >= e.switchAt;
    const p = BASE_ERRORS * e.errorFactor * (isNew ? (w.errorFactor ?? 1) : 1);
    lines.push({
      at: Math.floor(t),
      version: '7',
      config: isNew ? 'cfg-new' : 'cfg-old',
      error: rand() < p,
      latencyMs: Math.round(MEDIAN_MS * e.latencyFactor * Math.exp(0.5 * normal(rand))),
      caseId: `c${seed}-${lines.length}`,
      environment: e.id,
    });
  }
  let shareOneBatches = 0;
  let engineThrows = 0;
  let fedThisMinute = false;
  const engine: JudgeEngine = {
    ...ENGINE,
    updateJudge: (state, batch) => {
      if (batch.canaryShare === 1) shareOneBatches++;
      fedThisMinute = true;
      try {
        return ENGINE.updateJudge(state, batch);
      } catch (err) {
        engineThrows++;
        throw err;
      }
    },
  };
  const rollout = { environmentId: 'env1', deploymentNumber: 3, profileId: 'prof1', version: '9', label: 'cfg-new', startedAt: T0 };
  const f = fakePorts({ lines, engine, rollouts: [] });
  const s: JudgeSettings = {
    service: 'svc',
    alpha: 0.01,
    periodMs: w.periodMs ?? 10_000,
    afterTrafficBoundMs: 600_000,
    configUnit: w.configUnit ?? 'environment',
  };
  const key = judgeKey('svc', configJudgeReleaseKey('env1', 3));
  let failedMinutes = 0;
  let judgingMinutes = 0;
  let minutes = 0;
  let rolledBack = false;
  for (let m = T0; m < end; m += 60_000) {
    const sec = (m - T0) / 1000;
    // What ListDeployments/GetDeployment say at the minute's start.
    f.rollouts.splice(0, f.rollouts.length, {
      ...rollout,
      percentageComplete: defaultRolloutPercent(sec),
      ...(sec >= DURATION_S ? { fullAt: T0 + DURATION_S * 1000 } : {}),
    });
    f.clock.t = m;
    fedThisMinute = false;
    const out = await runSchedule(f.ports, s, Math.min(m + 50_000, end));
    minutes++;
    if (out.error) failedMinutes++;
    if (fedThisMinute) judgingMinutes++;
    if (f.state.objects.get(key)?.verdict === 'regression') {
      rolledBack = true;
      break;
    }
  }
  const r = f.state.objects.get(key);
  const period = s.periodMs;
  let oneSidedWindows = 0;
  for (let a = T0; a < T0 + DURATION_S * 1000; a += period) {
    const inWindow = lines.filter((l) => l.at >= a && l.at < a + period);
    if (inWindow.length > 0 && inWindow.every((l) => l.config === 'cfg-new')) oneSidedWindows++;
  }
  const switches = envs.map((e) => e.switchAt).sort((a, b) => a - b);
  return {
    rolledBack,
    failedMinutes,
    shareOneBatches,
    engineThrows,
    cannotJudge: f.verdict.health.filter((h) => h.value === 1).length,
    judged: r ? r.samples.canary + r.samples.stable : 0,
    setAside: r?.unused?.samples ?? 0,
    switchBets: r?.clusters?.switchBets ?? 0,
    maxEValue: Math.max(1, ...((r?.evidence ?? []) as { test?: string; eValue: number }[]).filter((e) => e.test !== 'gross').map((e) => e.eValue)),
    judgingMinutes,
    minutes,
    mixed: switches[0] < end && switches[0] < switches[switches.length - 1],
    oneSidedWindows,
  };
}

export interface ConfigRolloutTally {
  readonly runs: number;
  readonly rolledBack: number;
  /** Releases with at least one failed schedule minute. */
  readonly withFailedMinute: number;
  readonly shareOneBatches: number;
  readonly engineThrows: number;
  /** Releases with at least one cannot-judge datapoint. */
  readonly withCannotJudge: number;
  /** Releases in which some minute judged (fed the engine). */
  readonly judgedAtAll: number;
  readonly mixed: number;
  readonly setAside: number;
  readonly judged: number;
  /** Releases whose traffic held at least one new-config-only window during the rollout (the hazard). */
  readonly withOneSidedWindow: number;
  /** Environment switch bets settled, over all runs. */
  readonly switchBets: number;
}

export async function tallyConfigRollouts(seeds: number, w: ConfigRolloutWorld, firstSeed = 1): Promise<ConfigRolloutTally> {
  const t = {
    runs: 0,
    rolledBack: 0,
    withFailedMinute: 0,
    shareOneBatches: 0,
    engineThrows: 0,
    withCannotJudge: 0,
    judgedAtAll: 0,
    mixed: 0,
    setAside: 0,
    judged: 0,
    withOneSidedWindow: 0,
    switchBets: 0,
  };
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const o = await simulateConfigRollout(seed, w);
    t.runs++;
    if (o.rolledBack) t.rolledBack++;
    if (o.failedMinutes > 0) t.withFailedMinute++;
    t.shareOneBatches += o.shareOneBatches;
    t.engineThrows += o.engineThrows;
    if (o.cannotJudge > 0) t.withCannotJudge++;
    if (o.judgingMinutes > 0) t.judgedAtAll++;
    if (o.mixed) t.mixed++;
    t.setAside += o.setAside;
    t.judged += o.judged;
    if (o.oneSidedWindows > 0) t.withOneSidedWindow++;
    t.switchBets += o.switchBets;
  }
  return t;
}
