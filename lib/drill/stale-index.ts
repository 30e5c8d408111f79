/**
 * The drill's stale-index scenario (issue 17 G): the seed's own incident. A retrieval index update serves outdated
 * passages for a share of the questions; the answers are fluent, error-free, on time, cite what was retrieved, and are
 * wrong. Today's alarms see nothing (the `stale-index` fault of lib/drill/traffic.ts changes no measured value); the
 * evaluator can tell:
 * - groundedness does not move (the answer IS supported by the passages it was given: they are stale);
 * - relevance drops on the affected answers (the rubric asks for the current policy, "not an outdated procedure"), by
 *   `relevanceDrop` scale points on average;
 * - a paired comparison on the same input sees the stable answer (current passages) beside the stale one and prefers
 *   the stable answer on an affected input with chance `pairedLoss`; unaffected inputs are a coin flip.
 * How often the judge catches it, and how fast, is measured through the judge's real wiring and engine
 * (lib/drill/evaluation-world.ts): by the paired comparison alone, by the unpaired scores alone, and by both as the
 * example configures them. The effect sizes are assumptions, stated here and on every printed row.
 */
import { type EvalWorldOptions, runEvalWorld } from './evaluation-world';
import type { DrillModel } from './template';

export interface StaleIndexEffect {
  /** Share of questions answered from stale passages. @default 0.3 (DEFAULT_FAULT_SIZE['stale-index']) */
  readonly staleShare: number;
  /** Mean relevance drop of an affected answer, scale points (1..5 scale). @default 1 */
  readonly relevanceDrop: number;
  /** Chance the evaluator prefers the stable answer of an affected pair. @default 0.85 */
  readonly pairedLoss: number;
}

export const DEFAULT_STALE_INDEX: StaleIndexEffect = { staleShare: 0.3, relevanceDrop: 1, pairedLoss: 0.85 };

export interface StaleIndexOptions {
  /** Requests per second (the example states 5). */
  readonly ratePerSecond: number;
  /** The evaluation section's sampling rate. */
  readonly samplingRate: number;
  /** Its release-time pairing rate (`paired.samplingRate`). @default the samplingRate (pairs only what scoring draws) */
  readonly pairSamplingRate?: number;
  /** The canary schedule (share, minutes) before full traffic. */
  readonly steps: readonly { readonly share: number; readonly minutes: number }[];
  /** Minutes judged after full traffic (the config bake, or the AfterAllowTraffic hook's bound). */
  readonly afterMinutes: number;
  readonly plane: 'code' | 'config';
  readonly runs: number;
  readonly effect?: Partial<StaleIndexEffect>;
  /** Chance one comparison picks the first answer shown. @default 0 */
  readonly positionBias?: number;
  /** The false-rollback bound. @default 0.01 */
  readonly alpha?: number;
}

export interface StaleIndexDetection {
  /**
   * `paired`: paired outcomes only; `scores`: groundedness and relevance only (each alone takes the evaluation
   * metrics' whole α share); `both`: as the example configures them (half to paired, a quarter per criterion).
   */
  readonly by: 'paired' | 'scores' | 'both';
  readonly runs: number;
  /** Share of runs caught while the stable version still served (before full traffic). */
  readonly beforeFull: number;
  /** Share of runs caught within the judged time (before full, or in the bake / after-traffic minutes). */
  readonly caught: number;
  /** Median minutes from the first shift to the verdict, among the runs caught; undefined: none. */
  readonly medianMinutes?: number;
  readonly fullAtMinute: number;
  /** Canary samples and canary pairs per run (averages). */
  readonly canarySamples: number;
}

/** The canary steps of a drill model's plane as (share, minutes); the last step at 100 % ends them. */
export function stepsOfModel(model: DrillModel, plane: 'code' | 'config'): { steps: { share: number; minutes: number }[]; afterMinutes: number } {
  const d = plane === 'code' ? model.codeDeploy : model.appConfig;
  if (!d) throw new Error(`the template has no ${plane === 'code' ? 'CodeDeploy deployment group' : 'AppConfig deployment'} to drill`);
  const steps: { share: number; minutes: number }[] = [];
  for (let i = 0; i < d.steps.length; i++) {
    const [at, pct] = d.steps[i];
    if (pct >= 100) break;
    const next = i + 1 < d.steps.length ? d.steps[i + 1][0] : d.fullAtSeconds;
    steps.push({ share: pct / 100, minutes: (next - at) / 60 });
  }
  const end = plane === 'config' && model.appConfig ? model.appConfig.endSeconds : d.fullAtSeconds + 600;
  return { steps, afterMinutes: Math.max(0, (end - d.fullAtSeconds) / 60) };
}

export async function drillStaleIndex(o: StaleIndexOptions): Promise<StaleIndexDetection[]> {
  const e = { ...DEFAULT_STALE_INDEX, ...o.effect };
  for (const [k, v] of Object.entries(e))
    if (!(Number.isFinite(v) && v >= 0 && (k === 'relevanceDrop' || v <= 1)))
      throw new Error(`stale-index effect ${k} must be ${k === 'relevanceDrop' ? 'a number of scale points, 0 or more' : 'from 0 to 1'}, got ${v}`);
  if (!(Number.isInteger(o.runs) && o.runs >= 1)) throw new Error(`runs must be a whole number >= 1, got ${o.runs}`);
  const base: Omit<EvalWorldOptions, 'seed'> = {
    rps: o.ratePerSecond,
    steps: o.steps,
    afterMinutes: o.afterMinutes,
    plane: o.plane,
    samplingRate: o.samplingRate,
    ...(o.pairSamplingRate !== undefined ? { pairSamplingRate: o.pairSamplingRate } : {}),
    pairedLoss: e.pairedLoss,
    scoreDrop: { groundedness: 0, relevance: e.relevanceDrop },
    affectedShare: e.staleShare,
    positionBias: o.positionBias ?? 0,
    alpha: o.alpha ?? 0.01,
  };
  const variants = [
    ['paired', { criteria: [], paired: true }],
    ['scores', { criteria: ['groundedness', 'relevance'], paired: false }],
    ['both', { criteria: ['groundedness', 'relevance'], paired: true }],
  ] as const;
  const out: StaleIndexDetection[] = [];
  for (const [by, v] of variants) {
    let before = 0;
    let caught = 0;
    let canary = 0;
    let fullAtMinute = 0;
    const minutes: number[] = [];
    for (let seed = 1; seed <= o.runs; seed++) {
      // `criteria` is what is scored and judged: the paired variant scores none.
      const r = await runEvalWorld({ ...base, ...v, seed });
      fullAtMinute = r.fullAtMinute;
      canary += r.canarySamples;
      if (r.caughtAtMinute !== undefined) {
        caught++;
        minutes.push(r.caughtAtMinute);
      }
      if (r.beforeFull) before++;
    }
    minutes.sort((a, b) => a - b);
    out.push({
      by,
      runs: o.runs,
      beforeFull: before / o.runs,
      caught: caught / o.runs,
      ...(minutes.length > 0 ? { medianMinutes: minutes[Math.floor(minutes.length / 2)] } : {}),
      fullAtMinute,
      canarySamples: canary / o.runs,
    });
  }
  return out;
}
