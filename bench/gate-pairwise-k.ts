/**
 * The config gate's pairwise comparison with k answers per side (issue 17 E, h7-evaluator). Prints, per world, the
 * gate's failure rate predicted exactly from the stated rule and the rate observed over G gate runs through the real
 * runGate (test/gate-pairwise-world.ts: position-biased evaluator, uneven cases, fakes only at the ports), for k = 1
 * (one answer per side, the rule before) and k = 3, 5; and the cost: evaluator calls and replays per case, USD per gate.
 *
 *   npx tsx bench/gate-pairwise-k.ts [gatesGood=1000] [gatesBad=500]
 */
import * as os from 'node:os';
import { pairwiseGate, type PairwiseWorld, predictedFailRate } from '../test/gate-pairwise-world';

const say = (line: string) => process.stdout.write(`${line}\n`);
const G_GOOD = Number(process.argv[2] ?? 1000);
const G_BAD = Number(process.argv[3] ?? 500);

async function row(label: string, w: PairwiseWorld, gates: number) {
  let failed = 0;
  let calls = 0;
  let invocations = 0;
  let usd = 0;
  const t = Date.now();
  for (let seed = 1; seed <= gates; seed++) {
    const r = await pairwiseGate(w, seed);
    if (r.report.evaluation?.paired?.failed) failed++;
    calls += r.modelCalls;
    invocations += r.invocations;
    usd += r.report.evaluation?.spentUsd ?? 0;
  }
  const p = predictedFailRate(w);
  const sd = Math.sqrt((p * (1 - p)) / gates);
  say(
    `${label.padEnd(34)} | ${String(w.cases).padStart(5)} | ${w.k} | ${String(w.pairwise?.alpha ?? 0.01).padStart(5)} | ${(p * 100).toFixed(2).padStart(9)} % | ${String(failed).padStart(4)}/${gates} = ${((failed / gates) * 100).toFixed(2).padStart(6)} % (±${(2 * sd * 100).toFixed(2)}) | ${(calls / gates / w.cases).toFixed(1).padStart(5)} | ${(invocations / gates / w.cases).toFixed(1).padStart(5)} | ${(usd / gates).toFixed(3)} | ${((Date.now() - t) / 1000).toFixed(0)} s`,
  );
}

(async () => {
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  say('evaluator: answers A on 40 % of calls whatever the answers, else the truly better one (A 70 % of the time on alike answers)');
  say('uneven: each case its own t_c = P(live answer better) uniform in mean ± 0.3; alike: t_c = mean for every case');
  say('rule: maxLossRate 0.6 and sign test p < alpha over cases; k answers per side, answer i against answer i in both orders, case to the side that won more');
  say(
    'world                              | cases | k | alpha | predicted   | observed (±2 sd of the prediction)        | calls/case | replays/case | USD/gate | wall',
  );
  for (const spread of [0.3, 0]) {
    const kind = spread ? 'uneven' : 'alike';
    for (const cases of [20, 50])
      for (const k of [1, 3, 5]) await row(`good (t 0.5, ${kind})`, { cases, k, meanLoss: 0.5, spread, bias: 0.4 }, k === 5 ? Math.min(G_GOOD, 500) : G_GOOD);
    for (const cases of [20, 50]) for (const k of [1, 3, 5]) await row(`loses 60 % of pairs (${kind})`, { cases, k, meanLoss: 0.6, spread, bias: 0.4 }, G_BAD);
  }
  // A stricter alpha, for a false-failure rate that makes "0 of 200 good gates" the expected outcome, and its price.
  for (const cases of [20, 50]) {
    await row(
      'good (t 0.5, uneven), alpha 0.001',
      { cases, k: 3, meanLoss: 0.5, spread: 0.3, bias: 0.4, pairwise: { maxLossRate: 0.6, alpha: 0.001 } },
      G_GOOD,
    );
    await row('loses 60 % (uneven), alpha 0.001', { cases, k: 3, meanLoss: 0.6, spread: 0.3, bias: 0.4, pairwise: { maxLossRate: 0.6, alpha: 0.001 } }, G_BAD);
  }
})().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
