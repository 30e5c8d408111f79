/**
 * The card prices the runtime's deterministic checks (h9-checks): one check-result line per checked answer at the
 * measured bytes, the judge's reads of them during releases and the CPU time, at the stated traffic.
 */
import { MEASURED_BYTES, releaseCost, renderCostSection, runtimeCheckCost, US_EAST_1_PRICES } from '../lib/rollout/release-cost';
import type { EvaluationConfig } from '../lambda/shared/evaluation';

const GB = 1024 ** 3;
const section = (checkSamplingRate?: number): EvaluationConfig => ({
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness', instructions: 'Supported by the passages.' }],
  samplingRate: 0.005,
  budget: { perReleaseUsd: 20, perDayUsd: 50 },
  ...(checkSamplingRate !== undefined ? { checkSamplingRate } : {}),
});
const inputs = (e: EvaluationConfig) => ({
  requestsPerSecond: 5,
  highResolutionAlarmMetrics: 10,
  standardAlarmMetrics: 2,
  compositeAlarms: 1,
  metricNames: 8,
  evaluation: { config: { evaluation: e, model: { modelId: 'm', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } } } },
});

test('at 5 req/s and the default rate (a quarter): 3.29 M lines a month at the measured bytes, priced at the table', () => {
  const c = releaseCost(inputs(section())).runtimeChecks;
  if (!c) throw new Error('no runtime checks line');
  const lines = 5 * 730 * 3600 * 0.25;
  expect(c.linesPerMonth).toBe(lines);
  expect(c.bytesPerLine).toBe(MEASURED_BYTES.checkResultLine);
  expect(c.logsUsd).toBeCloseTo(((lines * MEASURED_BYTES.checkResultLine) / GB) * US_EAST_1_PRICES.prices.logsIngestionPerGB.usd, 9);
  expect(c.totalUsd).toBeCloseTo(c.logsUsd + c.scanUsd + c.cpuUsd, 12);
  // Log ingestion is the cost: the reads and the CPU time are small beside it.
  expect(c.scanUsd + c.cpuUsd).toBeLessThan(0.01 * c.logsUsd);
});

test('the rate scales the lines; 0 prices nothing and the card prints no line', () => {
  const tenth = runtimeCheckCost({ requestsPerSecond: 5, checkSamplingRate: 0.1 });
  const all = runtimeCheckCost({ requestsPerSecond: 5, checkSamplingRate: 1 });
  expect((tenth?.linesPerMonth ?? 0) * 10).toBeCloseTo(all?.linesPerMonth ?? 0, 6);
  expect(runtimeCheckCost({ requestsPerSecond: 5, checkSamplingRate: 0 })).toBeUndefined();
  const off = releaseCost(inputs(section(0)));
  expect(off.runtimeChecks).toBeUndefined();
  expect(renderCostSection(off, 5).join('\n')).not.toMatch(/Deterministic checks in the runtime/);
});

test('the card states the line with its figures', () => {
  const c = releaseCost(inputs(section()));
  const text = renderCostSection(c, 5).join('\n');
  expect(text).toMatch(
    /Deterministic checks in the runtime \(evaluation\.checkSamplingRate 0\.25\): 3,285,000 check-result lines a month \(340 B each measured: 1\.04 GB of logs, 0\.52 USD\)/,
  );
  expect(text).toContain(`**${c.runtimeChecks?.totalUsd.toFixed(2)} USD / month**, no model call.`);
  process.stdout.write(`${text.split('\n').find((l) => l.startsWith('Deterministic checks'))}\n`);
});
