/**
 * The config gate's pairwise comparison with k answers per side (issue 17 E, h7-evaluator): the stated rule
 * (casePreference), what one gate run calls, and the rule's rates in a world with a position-biased evaluator and
 * uneven cases (test/gate-pairwise-world.ts), against the exact rates computed from the rule. Small seed counts here;
 * the full table is bench/gate-pairwise-k.ts.
 */
import { casePreference, type PairOutcome, pairwiseRuleText } from '../lambda/gate/evaluate';
import { renderGateMarkdown } from '../lambda/gate/render-markdown';
import { caseOutcome, type PairwiseWorld, pairwiseGate, predictedFailRate } from './gate-pairwise-world';

describe('casePreference: the side that won more of the k comparisons', () => {
  test.each<[PairOutcome[], PairOutcome]>([
    [['live', 'live', 'candidate'], 'live'],
    [['live', 'tie', 'tie'], 'live'], // one decided comparison decides
    [['live', 'candidate', 'tie'], 'tie'],
    [['tie', 'tie', 'tie'], 'tie'],
    [['candidate', 'unscored', 'unscored'], 'candidate'], // unscored comparisons are dropped
    [['unscored', 'unscored', 'unscored'], 'unscored'],
    [['live'], 'live'], // k = 1: the comparison of one answer per side, as before
  ])('%j → %s', (comparisons, outcome) => {
    expect(casePreference(comparisons).outcome).toBe(outcome);
  });

  test('the counts are kept with the preference', () => {
    expect(casePreference(['live', 'tie', 'candidate', 'live', 'unscored'])).toEqual({ outcome: 'live', wins: 1, losses: 2, ties: 1, unscored: 1 });
  });
});

describe('one gate run, k = 3', () => {
  test('each case: 3 candidate answers (1 judged + 2 more), 3 live answers, 3 comparisons of 2 calls; the report states the rule', async () => {
    const w: PairwiseWorld = { cases: 5, k: 3, meanLoss: 0.5, spread: 0, bias: 0.4 };
    const { report, modelCalls, invocations } = await pairwiseGate(w, 1);
    expect(invocations).toBe(5 * 6);
    expect(modelCalls).toBe(5 * 3 * 2);
    for (const c of report.cases) {
      expect(c.pairs).toBeDefined();
      const p = c.pairs as NonNullable<typeof c.pairs>;
      expect(p.wins + p.losses + p.ties + p.unscored).toBe(3);
      expect(c.paired).toBe(casePreference([...Array(p.wins).fill('candidate'), ...Array(p.losses).fill('live'), ...Array(p.ties).fill('tie')]).outcome);
    }
    expect(report.evaluation?.paired).toMatchObject({ perSide: 3, rule: pairwiseRuleText(3) });
    expect(report.summary).toMatch(/3 answers per side and case\)/);
    expect(renderGateMarkdown(report)).toContain(`- Pairwise rule, per case: ${pairwiseRuleText(3)}; wins, losses and ties above count cases`);
  });
});

test("under the gate's spend cap: comparisons it refuses are unscored, the spend stays under it, and the report says so", async () => {
  const { report } = await pairwiseGate({ cases: 50, k: 3, meanLoss: 0.6, spread: 0.3, bias: 0.4, maxUsd: 0.3 }, 7);
  expect(report.evaluation?.capReached).toBe(true);
  expect(report.evaluation?.spentUsd).toBeLessThanOrEqual(0.3);
  const unscored = report.cases.reduce((s, c) => s + (c.pairs?.unscored ?? 0), 0);
  expect(unscored).toBeGreaterThan(0);
  expect(report.evaluation?.paired?.unscored).toBe(report.cases.filter((c) => c.paired === 'unscored').length);
});

describe('rates in the world (position bias 70 % on alike answers, uneven cases)', () => {
  test('a good candidate: the evaluator biased to the first position fails at most a few of 200 gates, at the rate the rule predicts', async () => {
    const w: PairwiseWorld = { cases: 20, k: 3, meanLoss: 0.5, spread: 0.3, bias: 0.4 };
    let failed = 0;
    for (let seed = 1; seed <= 200; seed++) if ((await pairwiseGate(w, seed)).report.evaluation?.paired?.failed) failed++;
    const predicted = predictedFailRate(w);
    // The sign test is exact, so a good candidate fails at most alpha (0.01) of the time; the rule predicts 0.41 %:
    // about 1 of 200 (0 of 200 in about 44 % of runs of 200). More than 4 of 200 has chance < 0.1 %.
    expect(predicted).toBeGreaterThan(0.003);
    expect(predicted).toBeLessThan(0.006);
    expect(failed).toBeLessThanOrEqual(4);
    if (process.env.GATE_EVAL_VERBOSE) console.log(`good candidate: ${failed}/200 gates failed, predicted ${(predicted * 100).toFixed(2)} %`);
  }, 60_000);

  test('a candidate losing 60 % of pairs: cases are lost and gates fail at the rates the rule states', async () => {
    const w: PairwiseWorld = { cases: 50, k: 3, meanLoss: 0.6, spread: 0.3, bias: 0.4 };
    const gates = 60;
    let failed = 0;
    const counts = { candidate: 0, live: 0, tie: 0, unscored: 0 };
    for (let seed = 1; seed <= gates; seed++) {
      const { report } = await pairwiseGate(w, 1000 + seed);
      if (report.evaluation?.paired?.failed) failed++;
      for (const c of report.cases) counts[c.paired ?? 'unscored']++;
    }
    // Case level, exactly from the rule: P(case lost), P(case won), averaged over the uneven cases.
    const Q = 400;
    let loss = 0;
    let win = 0;
    for (let q = 0; q < Q; q++) {
      const o = caseOutcome(3, 0.4, 0.6 + 0.3 * (2 * ((q + 0.5) / Q) - 1));
      loss += o.loss / Q;
      win += o.win / Q;
    }
    const n = gates * w.cases;
    const sd = (p: number) => Math.sqrt((p * (1 - p)) / n);
    expect(counts.unscored).toBe(0);
    expect(Math.abs(counts.live / n - loss)).toBeLessThan(4 * sd(loss));
    expect(Math.abs(counts.candidate / n - win)).toBeLessThan(4 * sd(win));
    // One answer per side would lose 36 % of cases (0.6 × 0.6) and win 24 %: k = 3 sharpens both apart.
    expect(loss - win).toBeGreaterThan(0.36 - 0.24);
    // Gate level: predicted 19.0 % at 50 cases; 60 gates is a loose check (4 sd), the bench runs 1,000.
    const predicted = predictedFailRate(w);
    expect(predicted).toBeGreaterThan(0.18);
    expect(predicted).toBeLessThan(0.2);
    expect(Math.abs(failed / gates - predicted)).toBeLessThan(4 * Math.sqrt((predicted * (1 - predicted)) / gates));
  }, 60_000);
});
