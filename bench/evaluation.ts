/**
 * Paired vs unpaired: how many evaluation samples each needs to catch the same quality regression.
 *
 *   npx tsx bench/evaluation.ts [seeds=400]
 *
 * Model: input i has a difficulty d_i ~ N(0, 1) (inputs differ far more than versions do); a version's answer has
 * latent quality q = d_i + e (e ~ N(0, 0.3)), the canary's lowered by δ. The evaluator scores q on a 1..5 scale
 * (round(3 + q), clamped) and, for a pair, prefers the answer whose q plus its own noise (N(0, 0.25) per reading) is
 * higher, asked in both orders (a tie when the orders disagree, or the readings are within 0.05).
 * - Paired: the sign test of lambda/judge/paired.ts on canary samples (each with both arms replayed on its input).
 * - Unpaired: the canary judge's own rank test (lambda/judge/judge.ts, metric quality) on scores of canary and stable
 *   samples arriving 50/50, which is what the runtime's oversampling gives during a canary.
 * Both at α = 0.01, looked at after every 10 samples; a seed that does not detect within the cap counts as the cap.
 */
import { combineOrders, newPairedState, pairedVerdict, updatePaired } from '../lambda/judge/paired';
import { newJudgeState, updateJudge } from '../lambda/judge/judge';
import { rng } from '../lib/drill/traffic';

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const ALPHA = 0.01;
const CAP = 4000;
const STEP = 10;

function pairedSamplesToDetect(seed: number, delta: number): { n: number; lossRate: number } {
  const r = rng(seed);
  let s = newPairedState();
  for (let n = STEP; n <= CAP; n += STEP) {
    const batch = Array.from({ length: STEP }, (_, j) => {
      const d = normal(r);
      const qc = d + 0.3 * normal(r) - delta;
      const qs = d + 0.3 * normal(r);
      const read = (a: number, b: number): 'A' | 'B' | 'tie' => {
        const x = a + 0.25 * normal(r);
        const y = b + 0.25 * normal(r);
        return Math.abs(x - y) < 0.05 ? 'tie' : x > y ? 'A' : 'B';
      };
      return { caseId: `c${n}-${j}`, outcome: combineOrders(read(qc, qs), read(qs, qc)) };
    });
    s = updatePaired(s, batch);
    const v = pairedVerdict(s, ALPHA);
    if (v.regression) return { n, lossRate: v.lossRate ?? 0 };
  }
  return { n: CAP, lossRate: pairedVerdict(s, ALPHA).lossRate ?? 0 };
}

function unpairedSamplesToDetect(seed: number, delta: number): number {
  const r = rng(seed);
  let state = newJudgeState({ alpha: ALPHA, metrics: ['quality'], notWorseOn: [] });
  let at = 0;
  for (let n = STEP; n <= CAP; n += STEP) {
    const observations = Array.from({ length: STEP }, () => {
      const canary = r() < 0.5;
      const q = normal(r) + 0.3 * normal(r) - (canary ? delta : 0);
      return {
        version: canary ? ('canary' as const) : ('stable' as const),
        at: (at += 1000),
        error: false,
        safety: false,
        contract: false,
        quality: Math.min(5, Math.max(1, Math.round(3 + q))),
      };
    });
    const out = updateJudge(state, { canaryShare: 0.5, observations });
    state = out.state;
    if (out.decision === 'regression') return n;
  }
  return CAP;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const seeds = Number(process.argv[2] ?? 400);
const started = Date.now();
console.log(`paired vs unpaired, ${seeds} seeds per row, α = ${ALPHA}, cap ${CAP} samples`);
console.log('delta  loss-rate  paired-median  paired-p90  unpaired-median  unpaired-p90  ratio(median)');
for (const delta of [0.1, 0.2, 0.3]) {
  const paired = Array.from({ length: seeds }, (_, i) => pairedSamplesToDetect(1 + i, delta));
  const unpaired = Array.from({ length: seeds }, (_, i) => unpairedSamplesToDetect(100_000 + i, delta));
  const pm = quantile(
    paired.map((p) => p.n),
    0.5,
  );
  const um = quantile(unpaired, 0.5);
  const loss = paired.reduce((s, p) => s + p.lossRate, 0) / paired.length;
  console.log(
    `${delta.toFixed(1)}    ${(100 * loss).toFixed(0)} %       ${String(pm).padStart(6)}         ${String(
      quantile(
        paired.map((p) => p.n),
        0.9,
      ),
    ).padStart(5)}       ${String(um).padStart(6)}           ${String(quantile(unpaired, 0.9)).padStart(5)}        ${(um / pm).toFixed(1)}x`,
  );
}
// A good release: how often each fires (both must stay under α).
let pairedFalse = 0;
let unpairedFalse = 0;
for (let i = 0; i < seeds; i++) {
  if (pairedSamplesToDetect(500_000 + i, 0).n < CAP) pairedFalse++;
  if (unpairedSamplesToDetect(600_000 + i, 0) < CAP) unpairedFalse++;
}
console.log(`good release (δ = 0): paired fired ${pairedFalse}/${seeds}, unpaired fired ${unpairedFalse}/${seeds} (bound α = ${ALPHA})`);
console.log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
