/**
 * The review's evaluation view (issue 17 E): per version, the evaluator's scores per criterion with intervals, the
 * paired wins / losses / ties, the worst pairs (redacted), and the behaviour fingerprint — answer length, refusal
 * rate, tool calls per answer, citation rate, stop reasons, tokens — canary against stable, each shift tested and the
 * family corrected (Holm). Pure: it reads the evaluator's stored results (evaluations/<service>/samples/*.json,
 * `{ sample, result, evaluation }`, written by lambda/evaluator/delivery.ts), no SDK.
 *
 * Which test per field:
 * - answer length (characters), tool calls per answer, input and output tokens: Mann–Whitney rank test (two-sided,
 *   normal approximation with the tie correction): no assumption on the shape (lengths are skewed, counts discrete);
 * - refusal rate (the deterministic refusal check, `refusal-phrase`; not the refusal rubric's scores), citation rate (answers citing at least one passage): the
 *   two-proportion z test (pooled, two-sided);
 * - stop reasons: Pearson's chi-square test of homogeneity (2 × K categories, K − 1 degrees of freedom).
 * The seven p-values are adjusted by Holm's step-down method: the chance that any field is called shifted when none
 * is stays ≤ alpha (0.05).
 *
 * Clustering: samples with one input (the case id) count once per arm — retries of one request and a bot repeating
 * a question would otherwise count as independent evidence. Time: the runtime oversamples the canary so both arms
 * give comparable counts over the same time; the comparison is concurrent, so a traffic mix that drifts during the
 * release moves both arms alike.
 *
 * Which rubric: only scores given by the stable rubric are shown (the section label stored with each result). When
 * the release changes the rubric, the review says "what good means changed", and scores by the new rubric are
 * counted but not shown.
 */
import type { EvaluationResult } from '../evaluator/evaluator';
export type { FingerprintRow, ReviewEvaluation, ScoreInterval };
import type { FingerprintRow, ReviewEvaluation, ScoreInterval } from '../shared/contract';
import type { EvaluationSample } from '../shared/evaluation';
import { lgamma } from '../judge/stats';
import { LEGACY_REFUSAL_CHECK, REFUSAL_CHECK, scoreKey, upgradeStoredScore } from '../shared/score-keys';

/** One stored evaluation (the evaluator writes it once per sample). */
export interface StoredEvaluation {
  readonly sample: EvaluationSample;
  readonly result: EvaluationResult;
  /** The evaluation section's label that scored it (the live one at the time). */
  readonly evaluation: string | null;
}

export interface ReviewEvaluationOptions {
  /** ISO-8601 window of the release. */
  readonly start: string;
  readonly end: string;
  /** Code plane: the new version (canary = samples it answered; the runtime cannot tell on the code plane). */
  readonly canaryVersion?: string;
  /** The stable rubric's label (the previous manifest's evaluation section); undefined: whatever scored. */
  readonly stableRubric?: string;
  /** The manifest diff's meaningChanged of the evaluation section, when the release changed it. */
  readonly meaningChanged?: string;
  /** @default 0.05 */
  readonly alpha?: number;
  /** @default 5 */
  readonly worstPairs?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Tests.

/** Standard normal upper tail, P(Z > z) (Abramowitz–Stegun 7.1.26 on erfc; absolute error below 1.5e-7). */
export function normalUpper(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Mann–Whitney two-sided p-value (normal approximation, tie-corrected, continuity-corrected). */
export function mannWhitney(a: readonly number[], b: readonly number[]): { u: number; pValue: number } {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: Number.NaN, pValue: 1 };
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const n = all.length;
  let r1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k].g === 0) r1 += rank;
    i = j + 1;
  }
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u, pValue: 1 };
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, pValue: Math.min(1, 2 * normalUpper(z)) };
}

/** Two-proportion z test (pooled), two-sided. */
export function twoProportion(x1: number, n1: number, x2: number, n2: number): { pValue: number } {
  if (n1 === 0 || n2 === 0) return { pValue: 1 };
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { pValue: 1 };
  return { pValue: Math.min(1, 2 * normalUpper(Math.abs(x1 / n1 - x2 / n2) / se)) };
}

/** Regularized upper incomplete gamma Q(a, x) (Numerical Recipes 6.2: series below a + 1, continued fraction above). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const gln = lgamma(a);
  if (x < a + 1) {
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let i = 0; i < 10_000; i++) {
      ap++;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - gln);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - gln) * h;
}

/** Pearson's chi-square test of homogeneity of two samples over categories. */
export function chiSquareHomogeneity(a: readonly string[], b: readonly string[]): { statistic: number; df: number; pValue: number } {
  const cats = [...new Set([...a, ...b])];
  if (a.length === 0 || b.length === 0 || cats.length < 2) return { statistic: 0, df: 0, pValue: 1 };
  const n = a.length + b.length;
  let chi = 0;
  for (const c of cats) {
    const oa = a.filter((x) => x === c).length;
    const ob = b.filter((x) => x === c).length;
    const col = oa + ob;
    const ea = (a.length * col) / n;
    const eb = (b.length * col) / n;
    chi += (oa - ea) ** 2 / ea + (ob - eb) ** 2 / eb;
  }
  const df = cats.length - 1;
  return { statistic: chi, df, pValue: Math.min(1, gammaQ(df / 2, chi / 2)) };
}

/** Holm's step-down adjustment: adjusted p-values in the input's order. */
export function holm(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(ps.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p));
    out[i] = running;
  });
  return out;
}

/** The mean of clustered values with a cluster-robust 95 % interval (clusters = inputs). */
export function clusteredMean(values: readonly { readonly cluster: string; readonly x: number }[]): ScoreInterval | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const mean = values.reduce((s, v) => s + v.x, 0) / n;
  const sums = new Map<string, number>();
  for (const v of values) sums.set(v.cluster, (sums.get(v.cluster) ?? 0) + (v.x - mean));
  const g = sums.size;
  const se = g > 1 ? Math.sqrt((g / (g - 1)) * [...sums.values()].reduce((s, r) => s + r * r, 0)) / n : Number.NaN;
  const half = 1.96 * se;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n, mean: r(mean), low: Number.isFinite(half) ? r(mean - half) : Number.NaN, high: Number.isFinite(half) ? r(mean + half) : Number.NaN };
}

const median = (xs: readonly number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (x: number, n: number) => (n === 0 ? 'n/a' : `${Math.round((x / n) * 1000) / 10} % of ${n}`);

/** `5.0 % → 20.0 % (+15.0 points)`: stable's share → the canary's (FingerprintRow.change). */
export function shareChange(canary: number, stable: number): string {
  const points = (canary - stable) * 100;
  return `${(stable * 100).toFixed(1)} % → ${(canary * 100).toFixed(1)} % (${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} points)`;
}

/** `median 400 → 560 (+40 %)`: stable's median → the canary's, relative where stable's is not 0; undefined without samples. */
export function medianChange(canary: readonly number[], stable: readonly number[]): string | undefined {
  if (canary.length === 0 || stable.length === 0) return undefined;
  const c = median(canary);
  const s = median(stable);
  const d = c - s;
  const rel = s !== 0 ? ` (${d >= 0 ? '+' : '−'}${Math.round(Math.abs((100 * d) / s))} %)` : d !== 0 ? ` (${d > 0 ? '+' : '−'}${Math.abs(d)})` : '';
  return `median ${s} → ${c}${rel}`;
}

/**
 * The category the canary does most more of than stable (`max_tokens 4.0 % → 24.0 % (+20.0 points)`): shares sum to
 * one, so whatever fell, something rose, and the rise names the new behaviour. Ties by name.
 */
export function mixChange(canary: readonly string[], stable: readonly string[]): string | undefined {
  if (canary.length === 0 || stable.length === 0) return undefined;
  const share = (xs: readonly string[], k: string) => xs.filter((x) => x === k).length / xs.length;
  const kinds = [...new Set([...canary, ...stable])].sort();
  let best = kinds[0];
  let bestRise = Number.NEGATIVE_INFINITY;
  for (const k of kinds) {
    const rise = share(canary, k) - share(stable, k);
    if (rise > bestRise + 1e-12) {
      best = k;
      bestRise = rise;
    }
  }
  return `${best} ${shareChange(share(canary, best), share(stable, best))}`;
}

// ---------------------------------------------------------------------------------------------------------------

/** The evaluation view of one release. */
export function reviewEvaluation(stored: readonly StoredEvaluation[], o: ReviewEvaluationOptions): ReviewEvaluation {
  // Records stored before the refusal check had a key of its own read as today's (score-keys.ts).
  const records = stored.map(upgradeStored);
  const alpha = o.alpha ?? 0.05;
  const start = Date.parse(o.start);
  const end = Date.parse(o.end);
  const notes: string[] = [];
  const inWindow = records.filter((r) => {
    const t = Date.parse(r.sample.time);
    return t >= start && t <= end;
  });
  const armOf = (r: StoredEvaluation): 'canary' | 'stable' =>
    o.canaryVersion !== undefined ? (r.sample.functionVersion === o.canaryVersion ? 'canary' : 'stable') : r.sample.arm;
  const budgetSkipped = inWindow.filter((r) => r.result.skipped).length;
  // Which share of each arm's scoring samples the model scored (pair-only samples are compared, never scored).
  const modelScoredOf = (a: 'canary' | 'stable') => {
    const of = inWindow.filter((r) => armOf(r) === a && !r.sample.pairOnly && !r.result.dropped);
    return { scored: of.filter((r) => !r.result.skipped).length, of: of.length };
  };
  const modelScored = { canary: modelScoredOf('canary'), stable: modelScoredOf('stable') };
  if (budgetSkipped > 0) {
    const throttled = inWindow.some((r) => r.result.throttled);
    notes.push(
      `${budgetSkipped} sample(s) were not scored by the model: the evaluation budget ran short (${throttled ? 'throttled by case-id hash at one rate for both arms' : 'sampling stopped'}); ` +
        `the model scored ${pct(modelScored.canary.scored, modelScored.canary.of)} of the canary's sampled answers and ${pct(modelScored.stable.scored, modelScored.stable.of)} of the stable version's`,
    );
  }

  // The stable rubric's scores only.
  // The evaluator stores the label of the section that scored (its `version`, or null). Unless the release changed
  // what good means, every score in the window is by the stable rubric; when it did, only the stable label's are shown.
  const labelOf = (r: StoredEvaluation) => r.evaluation ?? 'unlabelled';
  const rubric = o.stableRubric ?? mostCommon(inWindow.map(labelOf)) ?? 'none';
  const filterable = o.meaningChanged !== undefined && inWindow.some((r) => labelOf(r) === rubric);
  const byRubric = filterable ? inWindow.filter((r) => labelOf(r) === rubric) : inWindow;
  const otherRubric = inWindow.length - byRubric.length;
  if (otherRubric > 0) notes.push(`${otherRubric} sample(s) scored by another rubric than the stable one (${rubric}) are counted here, not shown`);
  if (o.meaningChanged)
    notes.push(
      filterable
        ? `what good means changed in this release (${o.meaningChanged}): the scores shown are by the stable rubric ${rubric}`
        : `what good means changed in this release (${o.meaningChanged}), but the stored scores do not name the stable rubric ${rubric} (give the evaluation section a \`version\`): the scores shown may mix both rubrics`,
    );

  // One sample per input and arm: clustered repeats count once (the first, by time).
  const firstPerInput = new Map<string, StoredEvaluation>();
  for (const r of [...inWindow].sort((a, b) => a.sample.time.localeCompare(b.sample.time))) {
    const k = `${armOf(r)}|${r.sample.caseId}`;
    if (!firstPerInput.has(k)) firstPerInput.set(k, r);
  }
  const unique = [...firstPerInput.values()];
  const repeats = inWindow.length - unique.length;
  if (repeats > 0) notes.push(`${repeats} repeated sample(s) of one input on one arm counted once in the fingerprint`);
  const arm = (a: 'canary' | 'stable') => unique.filter((r) => armOf(r) === a);
  const canary = arm('canary');
  const stable = arm('stable');

  // Scores per key (criterion and evaluator: the model's groundedness and the guardrail's are two rows), per arm,
  // cluster-robust by input.
  const criteria = new Map<string, { criterion: string; source: 'deterministic' | 'model' | 'guardrail' }>();
  for (const r of byRubric)
    for (const s of r.result.scores) if (!criteria.has(scoreKey(s))) criteria.set(scoreKey(s), { criterion: s.criterion, source: s.source });
  const scores = [...criteria].map(([key, { criterion, source }]) => {
    const of = (a: 'canary' | 'stable') =>
      clusteredMean(
        byRubric
          .filter((r) => armOf(r) === a)
          .flatMap((r) => r.result.scores.filter((s) => scoreKey(s) === key).map((s) => ({ cluster: r.sample.caseId, x: s.score }))),
      );
    const c = of('canary');
    const s = of('stable');
    return { criterion, source, ...(c ? { canary: c } : {}), ...(s ? { stable: s } : {}) };
  });

  // Paired comparisons: one per input (the judge's rule), from the canary samples.
  const pairs = new Map<string, StoredEvaluation>();
  for (const r of byRubric) if (armOf(r) === 'canary' && r.result.paired && !pairs.has(r.sample.caseId)) pairs.set(r.sample.caseId, r);
  const outcomes = [...pairs.values()].map((r) => r.result.paired?.outcome);
  const unscoredPairs = byRubric.filter((r) => armOf(r) === 'canary' && r.result.unscored.some((u) => u.criterion === 'paired')).length;
  const paired = {
    wins: outcomes.filter((x) => x === 'canary').length,
    losses: outcomes.filter((x) => x === 'stable').length,
    ties: outcomes.filter((x) => x === 'tie').length,
    unscored: unscoredPairs,
  };
  const lowest = (r: StoredEvaluation) => Math.min(...r.result.scores.filter((s) => s.source === 'model').map((s) => s.score), Number.POSITIVE_INFINITY);
  const worstPairs = [...pairs.values()]
    .filter((r) => r.result.paired?.outcome === 'stable')
    .sort((a, b) => lowest(a) - lowest(b) || a.sample.caseId.localeCompare(b.sample.caseId))
    .slice(0, o.worstPairs ?? 5)
    .map((r) => ({
      caseId: r.sample.caseId,
      // Redacted by the runtime before it was logged; cut for the review.
      input: r.sample.input.length > 200 ? `${r.sample.input.slice(0, 199)}…` : r.sample.input,
      reasons: (r.result.paired?.reasons ?? []).map((x) => x.slice(0, 200)),
    }));

  // The behaviour fingerprint.
  // The refusal CHECK (a refusal rubric's model score is a score row, not the rate).
  const refused = (r: StoredEvaluation) => r.result.scores.some((s) => s.criterion === REFUSAL_CHECK && s.source === 'deterministic' && s.score === 0);
  const rows: Omit<FingerprintRow, 'adjustedP' | 'shifted'>[] = [];
  const rank = (field: FingerprintRow['field'], f: (r: StoredEvaluation) => number) => {
    const a = canary.map(f);
    const b = stable.map(f);
    const change = medianChange(a, b);
    rows.push({
      field,
      test: 'rank (Mann–Whitney)',
      canary: `median ${median(a)} (n ${a.length})`,
      stable: `median ${median(b)} (n ${b.length})`,
      pValue: mannWhitney(a, b).pValue,
      ...(change ? { change } : {}),
    });
  };
  const rate = (field: FingerprintRow['field'], f: (r: StoredEvaluation) => boolean) => {
    const x1 = canary.filter(f).length;
    const x2 = stable.filter(f).length;
    rows.push({
      field,
      test: 'two-proportion z',
      canary: pct(x1, canary.length),
      stable: pct(x2, stable.length),
      pValue: twoProportion(x1, canary.length, x2, stable.length).pValue,
      ...(canary.length > 0 && stable.length > 0 ? { change: shareChange(x1 / canary.length, x2 / stable.length) } : {}),
    });
  };
  rank('answer length', (r) => [...r.sample.answer].length);
  rate('refusal rate', refused);
  rank('tool calls per answer', (r) => r.sample.toolCalls.length);
  rate('citation rate', (r) => r.sample.citations.length > 0);
  {
    const a = canary.map((r) => r.sample.stopReason ?? 'unknown');
    const b = stable.map((r) => r.sample.stopReason ?? 'unknown');
    const mix = (xs: string[]) => {
      const counts = new Map<string, number>();
      for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
      return (
        [...counts]
          .sort((p, q) => q[1] - p[1])
          .map(([k, n]) => `${k} ${Math.round((n / xs.length) * 100)} %`)
          .join(', ') || 'n/a'
      );
    };
    const change = mixChange(a, b);
    rows.push({
      field: 'stop reasons',
      test: 'chi-square (homogeneity)',
      canary: mix(a),
      stable: mix(b),
      pValue: chiSquareHomogeneity(a, b).pValue,
      ...(change ? { change } : {}),
    });
  }
  rank('input tokens', (r) => r.sample.inputTokens);
  rank('output tokens', (r) => r.sample.outputTokens);
  const adjusted = holm(rows.map((r) => r.pValue));
  const fingerprint = rows.map((r, i) => ({ ...r, pValue: round(r.pValue), adjustedP: round(adjusted[i]), shifted: adjusted[i] < alpha }));
  if (canary.length < 20 || stable.length < 20)
    notes.push(`few samples (canary ${canary.length}, stable ${stable.length}): a shift that is not shown may still be there`);

  return {
    rubric: { label: rubric, ...(o.meaningChanged ? { meaningChanged: o.meaningChanged } : {}) },
    samples: { canary: canary.length, stable: stable.length, budgetSkipped, otherRubric, modelScored },
    scores,
    paired,
    worstPairs,
    fingerprint,
    alpha,
    notes,
  };
}

function upgradeStored(r: StoredEvaluation): StoredEvaluation {
  return r.result.scores.some((s) => s.source === 'deterministic' && (s.criterion as string) === LEGACY_REFUSAL_CHECK)
    ? { ...r, result: { ...r.result, scores: r.result.scores.map(upgradeStoredScore) } }
    : r;
}

function mostCommon(xs: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

const round = (p: number) => (p < 1e-4 ? Number(p.toExponential(2)) : Math.round(p * 10_000) / 10_000);
