/**
 * Budget skips by arm (issue 17 A, h8-detjudge): a config release whose evaluation budget runs out mid-canary, through
 * the real evaluator and ledger (lib/drill/budget-world.ts). Prints, per setting, the share of each arm's scoring
 * samples the model scored (pooled over seeds), the mean over seeds of (canary share − stable share) with its
 * standard error, when the first sample was refused and when (if ever) the ledger recorded the stop.
 *
 *   npx tsx bench/evaluation-budget-arms.ts [seeds=200]
 */
import { type BudgetWorldOptions, runBudgetWorld } from '../lib/drill/budget-world';

const SEEDS = Number(process.argv[2] ?? 200);
const say = (s: string) => process.stdout.write(`${s}\n`);

const SETTINGS: readonly [string, Omit<BudgetWorldOptions, 'seed'>][] = [
  ['example rates (0.5 % scored, 10 % canary pairs), 3 USD cap, 10 s batches', {}],
  ['same, the canary delivered one batch later', { canaryLate: true }],
  ['same, 60 s batches', { batchSeconds: 60 }],
  ['5 % scored, 10 % pairs, 8 USD cap, 10 s batches', { samplingRate: 0.05, perReleaseUsd: 8 }],
];

async function main() {
  say(`# evaluation budget by arm: ${SEEDS} seeds per setting, 5 requests/s, config plane 10 % 5 min then 50 % 55 min`);
  for (const [name, o] of SETTINGS) {
    const t = Date.now();
    const diffs: number[] = [];
    const pooled = { co: 0, cs: 0, so: 0, ss: 0 };
    let stops = 0;
    let stopSum = 0;
    let firstSum = 0;
    let firsts = 0;
    let pairsOffered = 0;
    let pairsCompared = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const x = await runBudgetWorld({ seed, ...o });
      pooled.co += x.canary.offered;
      pooled.cs += x.canary.scored;
      pooled.so += x.stable.offered;
      pooled.ss += x.stable.scored;
      if (x.canary.offered > 0 && x.stable.offered > 0) diffs.push(x.canary.scored / x.canary.offered - x.stable.scored / x.stable.offered);
      if (x.stoppedAtMinute !== undefined) {
        stops++;
        stopSum += x.stoppedAtMinute;
      }
      if (x.firstRefusalMinute !== undefined) {
        firsts++;
        firstSum += x.firstRefusalMinute;
      }
      pairsOffered += x.pairs.offered;
      pairsCompared += x.pairs.compared;
    }
    const m = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, b) => a + (b - m) ** 2, 0) / (diffs.length - 1));
    say(
      `- ${name}: model-scored canary ${((pooled.cs / pooled.co) * 100).toFixed(1)} % of ${pooled.co}, stable ${((pooled.ss / pooled.so) * 100).toFixed(1)} % of ${pooled.so}; ` +
        `mean (canary − stable) ${(m * 100).toFixed(1)} ± ${((sd / Math.sqrt(diffs.length)) * 100).toFixed(1)} points (SE; per-seed sd ${(sd * 100).toFixed(1)}); ` +
        `pairs compared ${((pairsCompared / Math.max(1, pairsOffered)) * 100).toFixed(1)} %; first refusal at minute ${firsts ? (firstSum / firsts).toFixed(1) : 'never'}; ` +
        `stop recorded in ${stops}/${SEEDS} at minute ${stops ? (stopSum / stops).toFixed(1) : '-'} (${((Date.now() - t) / 1000).toFixed(0)} s)`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
