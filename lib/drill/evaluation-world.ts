/**
 * A simulated release as the evaluator sees it, judged through the real wiring (issue 17 Tests): requests at a stated
 * rate on a canary schedule, answers sampled by the runtime's rates (with canary oversampling on the config plane),
 * scored on two criteria by an evaluator whose results arrive with a delay, paired comparisons in both orders by an
 * evaluator that may prefer the first position, written as the evaluator's `ai-release.evaluation-result` lines and
 * read by `judgeEvaluations` (Logs Insights query, sample-time windows, settle time) into the real engine, once a
 * minute like the schedule. Shared by test/judge-evaluation-sim.test.ts (few seeds), bench/evaluation-judge.ts and the
 * drill's stale-index scenario (lib/drill/stale-index.ts).
 *
 * Traffic as production has it, not only i.i.d.:
 * - `drifting-mix`: the inputs get harder over the release (both versions' scores fall together) while the share
 *   ramps up, so time, share and score move together;
 * - `shared-latency`: a slow retrieval backend for 10 minutes: both versions' answers get worse and the evaluator's
 *   results arrive later (some after the judge's settle time, so they are never judged);
 * - `retries`: a fifth of the requests repeat a recent input (same case id, same difficulty): clustered inputs.
 */
import { DEFAULT_EVALUATION_MAX_WAIT_MS, EVALUATION_SETTLE_MS, judgeEvaluations } from '../../lambda/canary-judge/evaluations';
import { ENGINE } from '../../lambda/canary-judge/engine';
import type { QueryRow, Sides } from '../../lambda/canary-judge/samples';
import { combineOrders } from '../../lambda/judge/paired';
import { mulberry32, normal } from '../../lambda/judge/simulate';
import { armSamplingRate } from '../../lambda/runtime/evaluation-sampler';
import type { JudgeRecord } from '../../lambda/shared/contract';
import { CHECK_RESULT_TYPE, type CheckResultLine, EVALUATION_RESULT_TYPE, type EvaluationResultLine, type PairedOutcome } from '../../lambda/shared/evaluation';

export type EvalDisturbance = 'none' | 'drifting-mix' | 'shared-latency' | 'retries';

/**
 * The example's five deterministic checks (example/support-assistant/release-config/evaluation.yaml) with plausible
 * pass rates, for `checks`: one place for the benches and the simulation tests that judge them.
 */
export const EXAMPLE_CHECKS = {
  'citation-validity': { pass: 0.95 },
  'refusal-phrase': { pass: 0.97 },
  'language-match': { pass: 0.99 },
  length: { pass: 0.995 },
  'forbidden-pattern': { pass: 0.999 },
} as const;

export interface EvalWorldOptions {
  readonly seed: number;
  readonly rps: number;
  /** The canary steps before full traffic (share, minutes). */
  readonly steps: readonly { readonly share: number; readonly minutes: number }[];
  /** Judged minutes after full traffic (the AfterAllowTraffic hook's bound). @default 10 */
  readonly afterMinutes?: number;
  readonly plane: 'code' | 'config';
  /** The evaluation section's sampling rate. */
  readonly samplingRate: number;
  /** Config plane: oversample the canary (the runtime knows the share). @default true */
  readonly oversample?: boolean;
  /** Chance the (honest) evaluator prefers the stable answer of a pair of an affected input: 0.5 for a good release. */
  readonly pairedLoss: number;
  /**
   * How much lower the canary's affected answers score on average (scale points), for every criterion or per
   * criterion; 0 for a good release.
   */
  readonly scoreDrop: number | Readonly<Record<string, number>>;
  /** Share of the canary's answers the fault touches (the others answer like stable: pairs 50/50). @default 1 */
  readonly affectedShare?: number;
  /** Chance one comparison picks the first answer shown whatever the answers. @default 0 */
  readonly positionBias?: number;
  readonly disturbance?: EvalDisturbance;
  /** `drifting-mix`: +1 the inputs get harder over the release, -1 easier. @default 1 */
  readonly driftSign?: 1 | -1;
  /** Control: the lines carry the traffic share instead of the sampled share (wrong under oversampling). */
  readonly naiveShare?: boolean;
  /** Control: one comparison only, the canary shown second (position bias then leans on "stable"). */
  readonly oneOrder?: boolean;
  readonly alpha?: number;
  /** Criteria judged and scored. @default groundedness, relevance */
  readonly criteria?: readonly string[];
  readonly paired?: boolean;
  /**
   * Answer-dependent delays (h7-judgeev): each answer has a length z ~ N(0, 1); its result arrives `delayMs` × max(0, z)
   * later and it scores `scoreLift` × z higher on every criterion, alike on both versions (long answers score later).
   * @default none
   */
  readonly lengthEffect?: { readonly delayMs: number; readonly scoreLift: number };
  /**
   * How the judge waits: `wait` (the judge as built: each window until all its samples' results arrived, at most the
   * bound) or `settle` (control, the judge before h7-judgeev: each window read once, 120 s after it ends, without
   * knowing which samples were taken; later results are never judged). @default 'wait'
   */
  readonly reader?: 'wait' | 'settle';
  /** The judge's evaluationMaxWait in ms. @default DEFAULT_EVALUATION_MAX_WAIT_MS */
  readonly maxWaitMs?: number;
  /**
   * The release-time pairing rate (evaluation.paired.samplingRate): canary answers drawn by it alone are paired, not
   * scored (their result lines carry no scores), and only while the canary serves a share below 100 % (the evaluator
   * pairs a code canary only while the alias routes it a weight; the config runtime only during a release).
   * @default the samplingRate (pairs only what scoring draws)
   */
  readonly pairSamplingRate?: number;
  /**
   * Code plane: seconds from the first shift during which the runtime does not yet know it is the canary (the share
   * document's announcement still propagating, h8-codepairs): its answers are not drawn pair-only then (answers the
   * scoring sampler draws are still paired: the evaluator tells the canary from the alias). @default 0
   */
  readonly pairLagSeconds?: number;
  /**
   * Deterministic checks (h8-detjudge), judged with the criteria: per check, the share of answers that pass (`pass`)
   * and of the canary's affected answers (`canaryPass`, default `pass`). Outcomes are 0/1 scores of every scoring
   * sample (not pair-only ones, as the evaluator), clustered like production: a retry repeats its input's outcome, a
   * harder input fails more often (`checkDrift` per unit of difficulty, so the drifting mix moves both arms), and the
   * shared slowdown fails 10 points more on both. @default none
   */
  readonly checks?: Readonly<Record<string, { readonly pass: number; readonly canaryPass?: number }>>;
  /** How much more often a check fails per unit of input difficulty, on both versions. @default 0.04 */
  readonly checkDrift?: number;
  /**
   * The runtime computes the `checks` itself (h9-checks, evaluation.checkSamplingRate): on this share of ALL answers,
   * the same on both versions, written as check-result lines the judge reads from the service's log group at once
   * (no evaluator delay); the evaluator's result lines then carry no check scores. Outcomes as above (a retry repeats
   * its input's). Drawn from a random stream of its own, so the evaluator's samples are those of the world without.
   * @default none: the checks are scored on evaluation samples only (h8-detjudge)
   */
  readonly runtimeChecks?: { readonly rate: number };
  /**
   * The guardrail's contextual grounding scores (h11-eval17, evaluation.guardrailScores): every scoring sample with
   * something retrieved carries `guardrail-groundedness` and `guardrail-relevance` (0..1, two decimals, as Bedrock's
   * trace gives them) and the judge judges both keys with the other criteria. Drawn from a random stream of their own,
   * so the world without them keeps its streams. @default none
   */
  readonly guardrail?: GuardrailWorld;
  /**
   * Execution environments for every score (h12-envscore): each request is served by one of `perVersion` environments
   * of its version (code plane: nested in the version; config plane: shared by both arms), drawn at random; each has
   * its own latent offsets ~ N(0, σ): `rubric` on both rubric criteria (scale points, before rounding), `guardrail` on
   * both guardrail scores (as GuardrailWorld.environments, which this replaces when both are set), `checks` on every
   * check's pass probability (a degraded retrieval connection fails citations more). Result and check lines name their
   * environment (as the evaluator and the judge's query name a line's log stream) unless `stamp` is false (the control:
   * the engine then cannot fold by environment). @default none
   */
  readonly environments?: WorldEnvironments;
}

export interface WorldEnvironments {
  readonly perVersion: number;
  readonly rubric?: number;
  readonly guardrail?: number;
  readonly checks?: number;
  /** @default true */
  readonly stamp?: boolean;
}

/**
 * How the guardrail's scores behave in the world (h11-eval17). Scores are the logistic of a latent value: a base,
 * less `difficulty` × the input's difficulty (the drifting mix moves both arms), less `slowdown` while the shared
 * slowdown lasts (retrieval timeouts return fewer passages: both arms' answers less grounded), plus the execution
 * environment's offset, plus noise. A retry repeats its input's noise (same question, same passages: the same score).
 */
export interface GuardrailWorld {
  /** Share of answers with nothing retrieved: no grounding source, no scores. @default 0.1 */
  readonly noRetrievalShare?: number;
  /**
   * Share of answers built from a tool's result (not sent as a grounding source: groundedness scores low however
   * right the answer is); grows by 0.05 per unit of difficulty, so the drifting mix moves it on both arms. @default 0.15
   */
  readonly toolShare?: number;
  /**
   * Execution environments: each version's answers come from `perVersion` environments (code plane: nested in the
   * version, so an environment's offset rides on its version's label; config plane: shared by both arms), each with a
   * latent offset ~ N(0, `spread`) on both scores (a degraded connection to the vector store, a cold cache).
   * @default none
   */
  readonly environments?: { readonly perVersion: number; readonly spread: number };
  /** Latent drop of the canary's AFFECTED answers (`affectedShare`), per score. @default none */
  readonly canaryDrop?: { readonly groundedness?: number; readonly relevance?: number };
}

export const GUARDRAIL_KEYS = ['guardrail-groundedness', 'guardrail-relevance'] as const;

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const twoDecimals = (x: number) => Math.round(x * 100) / 100;

export interface EvalWorldOutcome {
  /** Minutes from the first shift to the first regression verdict; undefined: none. */
  readonly caughtAtMinute?: number;
  readonly beforeFull: boolean;
  readonly fullAtMinute: number;
  /** Samples, canary samples, and results the judge never read (they arrived after the settle time). */
  readonly samples: number;
  readonly canarySamples: number;
  readonly pairs: number;
  /** Which evaluation metrics had fired by the end. */
  readonly fired: readonly string[];
  /** Results judged; results that arrived after their window closed (by side); samples outstanding at a close. */
  readonly judged: number;
  readonly late: { readonly canary: number; readonly stable: number };
  readonly outstanding: number;
  readonly windowsAtBound: number;
  /** Each evaluation metric's e-value at the end, as a share of its threshold (log10). */
  readonly evidence: Readonly<Record<string, number>>;
  /** The runtime's check-result lines written (runtimeChecks), and the judge record's size in bytes at the end. */
  readonly checkLines: number;
  readonly recordBytes: number;
}

const START = Date.parse('2026-12-07T10:00:00.000Z');
const LOG_VISIBLE_MS = 5_000;

/** The share at minute m of the schedule (1 after it). */
function shareAt(steps: EvalWorldOptions['steps'], minute: number): number {
  let t = 0;
  for (const s of steps) {
    if (minute < t + s.minutes) return s.share;
    t += s.minutes;
  }
  return 1;
}

export async function runEvalWorld(o: EvalWorldOptions): Promise<EvalWorldOutcome> {
  const r = mulberry32(o.seed * 2654435761 + 17);
  const criteria = o.criteria ?? ['groundedness', 'relevance'];
  const fullAtMinute = o.steps.reduce((n, s) => n + s.minutes, 0);
  const endMinute = fullAtMinute + (o.afterMinutes ?? 10);
  const bias = o.positionBias ?? 0;
  const dist = o.disturbance ?? 'none';
  const lines: { written: number; line: EvaluationResultLine }[] = [];
  const recent: { caseId: string; d: number; u: number[]; g?: number[] }[] = [];
  const checks = Object.entries(o.checks ?? {});
  const checkLines: CheckResultLine[] = [];
  const rk = mulberry32(o.seed * 40503 + 99);
  // The guardrail's scores (h11-eval17): a stream of their own, and each version's environments' offsets.
  const rg = mulberry32(o.seed * 69069 + 7);
  const gw = o.guardrail;
  const we: WorldEnvironments | undefined =
    o.environments ?? (gw?.environments ? { perVersion: gw.environments.perVersion, guardrail: gw.environments.spread } : undefined);
  const envs = we && gw ? { perVersion: we.perVersion, spread: we.guardrail ?? 0 } : undefined;
  const envOffsets = envs
    ? {
        canary: Array.from({ length: envs.perVersion }, () => envs.spread * normal(rg)),
        stable: Array.from({ length: envs.perVersion }, () => envs.spread * normal(rg)),
      }
    : undefined;
  // Every request's environment and the rubric's and checks' offsets (h12-envscore): a stream of their own.
  const re = mulberry32(o.seed * 2246822519 + 3);
  const offsetsOf = (sd: number | undefined) => ({
    canary: Array.from({ length: we?.perVersion ?? 0 }, () => (sd ?? 0) * normal(re)),
    stable: Array.from({ length: we?.perVersion ?? 0 }, () => (sd ?? 0) * normal(re)),
  });
  const rubricOffsets = offsetsOf(we?.rubric);
  const checkOffsets = offsetsOf(we?.checks);
  const stamp = we !== undefined && (we.stamp ?? true);
  let q = 0;
  let k = 0;
  let canarySamples = 0;
  let pairs = 0;
  for (let t = START; t < START + endMinute * 60_000; t += (-Math.log(1 - r()) / o.rps) * 1000) {
    const minute = (t - START) / 60_000;
    const s = shareAt(o.steps, minute);
    const canary = r() < s;
    // Code plane at full traffic: every request is the canary's; the stable version only answers shadow replays.
    const arm = canary ? 'canary' : 'stable';
    const known = o.plane === 'config';
    const oversample = known && (o.oversample ?? true);
    const rate = oversample ? armSamplingRate(o.samplingRate, arm, s) : o.samplingRate;
    // The input: a retry of a recent one, or a new one whose difficulty follows the mix.
    let caseId: string;
    let d: number;
    let cu: number[];
    let gu: number[] | undefined;
    if (dist === 'retries' && recent.length > 0 && r() < 0.2) {
      const x = recent[Math.floor(r() * recent.length)];
      caseId = x.caseId;
      d = x.d;
      cu = x.u;
      gu = x.g;
    } else {
      caseId = `case-${k++}`;
      d = normal(r) + (dist === 'drifting-mix' ? (o.driftSign ?? 1) * (-1 + (2 * minute) / endMinute) : 0);
      // Drawn only when checks are simulated, so worlds without them keep their random streams.
      cu = checks.map(() => r());
      // The input's guardrail draws: retrieved anything, tool answer, and the two scores' noise.
      gu = gw ? [rg(), rg(), normal(rg), normal(rg)] : undefined;
      recent.push({ caseId, d, u: cu, ...(gu ? { g: gu } : {}) });
      if (recent.length > 50) recent.shift();
    }
    // The request's environment: one of its version's (code plane) or of the shared ones (config plane).
    const envArm: 'canary' | 'stable' = o.plane === 'code' ? arm : 'stable';
    const envIndex = we ? Math.floor(re() * we.perVersion) : 0;
    const envName = o.plane === 'code' ? `env-${arm}-${envIndex}` : `env-${envIndex}`;
    const onEnv = stamp ? { environment: envName } : {};
    const checkOffset = we ? checkOffsets[envArm][envIndex] : 0;
    const rubricOffset = we ? rubricOffsets[envArm][envIndex] : 0;
    // The runtime's checks (h9-checks): on every answer it draws, before and apart from the evaluation sampler.
    const slowNow = dist === 'shared-latency' && minute >= 10 && minute < 20;
    q++;
    if (o.runtimeChecks && checks.length > 0 && rk() < o.runtimeChecks.rate) {
      const hit = canary && ((o.affectedShare ?? 1) >= 1 || rk() < (o.affectedShare ?? 1));
      const sc: Record<string, 0 | 1> = {};
      checks.forEach(([name, c], j) => {
        const p = (hit ? (c.canaryPass ?? c.pass) : c.pass) - (o.checkDrift ?? 0.04) * d - (slowNow ? 0.1 : 0) + checkOffset;
        sc[name] = cu[j] < p ? 1 : 0;
      });
      checkLines.push({
        type: CHECK_RESULT_TYPE,
        service: 'support-assistant',
        requestId: `q${q}`,
        functionVersion: o.plane === 'code' ? (canary ? '8' : '7') : '7',
        config: o.plane === 'config' ? (canary ? 'cfg-new' : 'cfg-old') : 'cfg-old',
        ...(known ? { conversationId: `conv-q${q}` } : {}),
        sampleAt: Math.floor(t),
        ...(known && s > 0 && s < 1 ? { share: s } : {}),
        ...onEnv,
        scores: sc,
      });
    }
    // One draw decides both samplers (the runtime hashes the request id once): under the arm's scoring rate the answer
    // is scored (and paired when the canary's); above it, under the canary's pairing rate, it is pair-only.
    const u = r();
    const announced = o.plane === 'config' || t - START >= (o.pairLagSeconds ?? 0) * 1000;
    const pairOnly = !(u < rate) && canary && s < 1 && (o.paired ?? true) && announced && u < Math.max(rate, o.pairSamplingRate ?? 0);
    if (!(u < rate) && !pairOnly) continue;
    const affected = canary && r() < (o.affectedShare ?? 1);
    const slow = dist === 'shared-latency' && minute >= 10 && minute < 20;
    const scores: Record<string, number> = {};
    for (const c of pairOnly ? [] : criteria) {
      const drop = affected ? (typeof o.scoreDrop === 'number' ? o.scoreDrop : (o.scoreDrop[c] ?? 0)) : 0;
      const latent = 4 - 0.8 * d - drop - (slow ? 0.8 : 0) + rubricOffset + 0.7 * normal(r);
      scores[c] = Math.min(5, Math.max(1, Math.round(latent)));
    }
    if (!pairOnly && !o.runtimeChecks)
      checks.forEach(([name, c], j) => {
        const p = (affected ? (c.canaryPass ?? c.pass) : c.pass) - (o.checkDrift ?? 0.04) * d - (slow ? 0.1 : 0) + checkOffset;
        scores[name] = cu[j] < p ? 1 : 0;
      });
    // The guardrail's scores (h11-eval17): on scoring samples with something retrieved, never on pair-only ones.
    if (gw && gu && !pairOnly && gu[0] >= (gw.noRetrievalShare ?? 0.1)) {
      const env = envOffsets ? envOffsets[envArm][envIndex] : 0;
      const tool = gu[1] < (gw.toolShare ?? 0.15) + 0.05 * d;
      const drop = affected ? (gw.canaryDrop ?? {}) : {};
      const grounded = tool ? -1 + 0.8 * gu[2] : 2.2 - 0.5 * d - (slow ? 0.6 : 0) + env - (drop.groundedness ?? 0) + 0.8 * gu[2];
      const relevant = 2.5 - 0.4 * d + env - (drop.relevance ?? 0) + 0.7 * gu[3];
      scores['guardrail-groundedness'] = twoDecimals(logistic(grounded));
      scores['guardrail-relevance'] = twoDecimals(logistic(relevant));
    }
    // Long answers score higher and their results arrive later, on both versions alike.
    const z = o.lengthEffect ? normal(r) : 0;
    if (o.lengthEffect) for (const c of criteria) scores[c] = Math.min(5, Math.max(1, Math.round(scores[c] + o.lengthEffect.scoreLift * z)));
    let paired: PairedOutcome | undefined;
    if (canary && (o.paired ?? true)) {
      // The honest preference of this pair; each comparison may instead pick the first answer shown.
      const stableBetter = r() < (affected ? o.pairedLoss : 0.5);
      const pick = (canaryShownFirst: boolean): 'A' | 'B' => {
        if (r() < bias) return 'A';
        return stableBetter === canaryShownFirst ? 'B' : 'A';
      };
      if (o.oneOrder) {
        const second = pick(false);
        paired = second === 'B' ? 'canary' : 'stable';
      } else paired = combineOrders(pick(true), pick(false));
      pairs++;
    }
    if (canary) canarySamples++;
    // The sampled share: P(canary | sampled) at this time (what the runtime records under oversampling).
    const rc = oversample ? armSamplingRate(o.samplingRate, 'canary', s) : o.samplingRate;
    const rs = oversample ? armSamplingRate(o.samplingRate, 'stable', s) : o.samplingRate;
    const sampled = s >= 1 ? 1 : (s * rc) / (s * rc + (1 - s) * rs);
    const share = o.naiveShare ? s : sampled;
    // The evaluator's delay: the subscription's delivery and one call per criterion; pairs add two shadow answers and
    // two comparisons; a slow backend slows the shadow answers too.
    const delay =
      5_000 +
      20_000 * -Math.log(1 - r()) +
      (paired ? 25_000 * -Math.log(1 - r()) : 0) +
      (slow ? 60_000 : 0) +
      (o.lengthEffect ? o.lengthEffect.delayMs * Math.max(0, z) : 0);
    const sampleAt = Math.floor(t);
    lines.push({
      written: sampleAt + delay,
      line: {
        type: EVALUATION_RESULT_TYPE,
        service: 'support-assistant',
        sampleId: `s${lines.length}`,
        caseId,
        arm: known ? arm : 'stable',
        functionVersion: o.plane === 'code' ? (canary ? '8' : '7') : '7',
        config: o.plane === 'config' ? (canary ? 'cfg-new' : 'cfg-old') : 'cfg-old',
        ...(known ? { conversationId: `conv-${lines.length}` } : {}),
        sampleAt,
        ...(known && s > 0 && s < 1 ? { share } : {}),
        ...onEnv,
        scores,
        ...(paired ? { paired } : {}),
      },
    });
  }
  return judgeWorld(
    o,
    lines,
    fullAtMinute,
    endMinute,
    canarySamples,
    pairs,
    [...criteria, ...checks.map(([name]) => name), ...(gw ? GUARDRAIL_KEYS : [])],
    checkLines,
  );
}

async function judgeWorld(
  o: EvalWorldOptions,
  lines: { written: number; line: EvaluationResultLine }[],
  fullAtMinute: number,
  endMinute: number,
  canarySamples: number,
  pairs: number,
  criteria: readonly string[],
  checkLines: readonly CheckResultLine[] = [],
): Promise<EvalWorldOutcome> {
  let now = START;
  const stamp = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
  // Logs Insights over the evaluator's log group: what is visible by now, written in the query's time range, in its
  // sample-time window.
  const logs = {
    async query(q: string, startSec: number, endSec: number): Promise<readonly QueryRow[]> {
      const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q);
      const from = Number(m?.[1]);
      const to = Number(m?.[2]);
      const out: QueryRow[] = [];
      for (const x of lines) {
        const w = Math.floor(x.written);
        if (x.line.sampleAt >= from && x.line.sampleAt < to && x.written + LOG_VISIBLE_MS <= now && w >= startSec * 1000 && w < (endSec + 1) * 1000)
          out.push([
            { field: '@timestamp', value: stamp(w) },
            { field: '@message', value: JSON.stringify(x.line) },
          ]);
      }
      return out;
    },
  };
  // The runtime's sample lines in the service's log group (written when the answer was given).
  const samples = {
    async query(_q: string, startSec: number, endSec: number): Promise<readonly QueryRow[]> {
      const out: QueryRow[] = [];
      for (const x of lines) {
        const t = x.line.sampleAt;
        if (t + LOG_VISIBLE_MS <= now && t >= startSec * 1000 && t < (endSec + 1) * 1000)
          out.push([
            { field: '@timestamp', value: stamp(t) },
            { field: 'sampleId', value: x.line.sampleId },
            { field: 'functionVersion', value: x.line.functionVersion },
            { field: 'tuple.config', value: x.line.config },
            { field: 'time', value: new Date(t).toISOString() },
          ]);
      }
      return out;
    },
  };
  // The runtime's check lines in the service's log group (written as it answered; in answer-time order).
  const lowerBound = (at: number) => {
    let lo = 0;
    let hi = checkLines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (checkLines[mid].sampleAt < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const checkLogs = {
    async query(q: string): Promise<readonly QueryRow[]> {
      const m = /sampleAt >= (\d+) and sampleAt < (\d+)/.exec(q);
      const out: QueryRow[] = [];
      for (let i = lowerBound(Number(m?.[1])); i < checkLines.length && checkLines[i].sampleAt < Number(m?.[2]); i++) {
        const l = checkLines[i];
        if (l.sampleAt + LOG_VISIBLE_MS > now) break;
        out.push([
          { field: '@timestamp', value: stamp(l.sampleAt) },
          { field: '@message', value: JSON.stringify(l) },
        ]);
      }
      return out;
    },
  };
  const settle = o.reader === 'settle';
  const evaluation = { criteria, paired: o.paired ?? true, maxWaitMs: settle ? EVALUATION_SETTLE_MS : (o.maxWaitMs ?? DEFAULT_EVALUATION_MAX_WAIT_MS) };
  const sides: Sides = o.plane === 'code' ? { plane: 'code', canary: '8', stable: '7' } : { plane: 'config', canary: 'cfg-new', stable: 'cfg-old' };
  let record: JudgeRecord = {
    schemaVersion: 1,
    service: 'support-assistant',
    plane: o.plane,
    releaseKey: `sim-${o.seed}`,
    canary: sides.canary,
    phase: 'canary',
    until: START,
    updates: 0,
    samples: { canary: 0, stable: 0 },
    verdict: 'continue',
    evidence: [],
    engine: ENGINE.newJudgeState({ alpha: o.alpha ?? 0.01, evaluation, ...(o.plane === 'config' ? { unit: 'cluster' as const } : {}) }),
  };
  let caughtAtMinute: number | undefined;
  // Once a minute, like the schedule; after full traffic the AfterAllowTraffic hook keeps judging for afterMinutes.
  for (let m = 1; m <= endMinute + Math.ceil((EVALUATION_SETTLE_MS + 15_000) / 60_000); m++) {
    now = START + m * 60_000;
    // Past the hook's bound nothing is judged any more: results of its last minutes settle too late.
    if (m > endMinute) break;
    record = (
      await judgeEvaluations(
        { logs, ...(settle ? {} : { samples }), ...(o.runtimeChecks ? { checks: checkLogs } : {}), engine: ENGINE, now: () => now },
        'support-assistant',
        evaluation,
        sides,
        START,
        record,
        now + 50_000,
      )
    ).record;
    if (record.verdict === 'regression') {
      caughtAtMinute = m;
      break;
    }
  }
  const ev = record.evidence as { metric: string; eValue: number; threshold: number; judged?: boolean }[];
  return {
    ...(caughtAtMinute !== undefined ? { caughtAtMinute } : {}),
    beforeFull: caughtAtMinute !== undefined && caughtAtMinute <= fullAtMinute,
    fullAtMinute,
    samples: lines.length,
    canarySamples,
    pairs,
    fired: ev.filter((e) => e.metric.startsWith('evaluation:') && e.eValue >= e.threshold && e.judged !== false).map((e) => e.metric),
    judged: record.evaluation?.results ?? 0,
    late: record.evaluation?.late ?? { canary: 0, stable: 0 },
    outstanding: record.evaluation?.outstanding ?? 0,
    windowsAtBound: record.evaluation?.windows?.atBound ?? 0,
    evidence: Object.fromEntries(ev.filter((e) => e.metric.startsWith('evaluation:')).map((e) => [e.metric, Math.log10(e.eValue / e.threshold)])),
    checkLines: checkLines.length,
    recordBytes: Buffer.byteLength(JSON.stringify(record)),
  };
}
