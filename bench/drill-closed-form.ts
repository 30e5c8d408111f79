/**
 * The drill's Monte Carlo against its closed form, at full counts (test/drill-montecarlo.test.ts runs the same three
 * checks at 200 runs and 400 captured samples to keep `npm test` fast; this runs 2,000 and 1,000).
 *
 *   npx tsx bench/drill-closed-form.ts [runs] [samples]
 *
 * Alarm: Sum of Errors of the new version > 0, 60-second period, 1 of 1; canary 10 % for 5 minutes; no ingestion or
 * reaction delay. P(rolled back before 100 %) = 1 - exp(-5 * 0.1 * rate * 60 * p), p the error share of the new
 * version's captured outcomes. Prints observed, closed form, the difference in standard errors, and the time taken.
 */
import { captureOutcomes, type DrillScenario, monteCarlo, readDrillModel, type SimulationSetup } from '../lib/drill';
import { drillTemplate } from '../test/drill-fixtures';

const runs = Number(process.argv[2] ?? 2000);
const samples = Number(process.argv[3] ?? 1000);
const template = drillTemplate(
  { Errors: { metrics: { x: ['Errors', 'Sum', 'version'] }, threshold: 0, period: 60, m: 1, n: 1 } },
  { deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' },
);
const timing = { metricIngestionSeconds: 0, codeDeployReactionSeconds: 0 };
const closedForm = (rate: number, p: number) => 1 - Math.exp(-5 * 0.1 * rate * 60 * p);
const spike = { kind: 'error-spike' as const, size: 0.05, startSeconds: 0 };
const cases: { label: string; scenario: DrillScenario; good: boolean }[] = [
  {
    label: 'good release, 2 req/s, 1 % base errors (false rollback)',
    good: true,
    scenario: {
      name: 'good',
      plane: 'code',
      ratePerSecond: 2,
      fault: { kind: 'none', size: 0, startSeconds: 0 },
      baseline: { errorRate: 0.01 },
      phaseSeconds: 0,
    },
  },
  {
    label: 'bad release, 2 req/s, +5 % errors (caught before 100 %)',
    good: false,
    scenario: { name: 'bad', plane: 'code', ratePerSecond: 2, fault: spike, baseline: { errorRate: 0.01 }, phaseSeconds: 0 },
  },
  {
    label: 'bad release, 0.2 req/s, +5 % errors (caught before 100 %)',
    good: false,
    scenario: { name: 'low', plane: 'code', ratePerSecond: 0.2, fault: spike, baseline: { errorRate: 0.01 }, phaseSeconds: 0 },
  },
];

async function main() {
  process.stdout.write(`${runs} runs, ${samples} captured samples per class; node ${process.version}\n`);
  process.stdout.write('case | observed | closed form | difference (standard errors) | seconds\n');
  for (const c of cases) {
    const started = Date.now();
    const setup: SimulationSetup = { model: readDrillModel(template), scenario: c.scenario, timing, tailSeconds: 0 };
    const captured = await captureOutcomes(setup, samples);
    const pool = c.good ? captured.healthyNew : captured.faultyNew;
    const p = pool.filter((o) => o.values.Errors === 1).length / pool.length;
    const r = monteCarlo(setup, captured, runs);
    const observed = c.good ? r.caught / runs : r.pCaughtBeforeFull;
    const expected = closedForm(c.scenario.ratePerSecond, p);
    const se = Math.sqrt((expected * (1 - expected)) / runs);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    process.stdout.write(
      `${c.label} | ${pct(observed)} | ${pct(expected)} | ${((observed - expected) / se).toFixed(2)} | ${((Date.now() - started) / 1000).toFixed(1)}\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
