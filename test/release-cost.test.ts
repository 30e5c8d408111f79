import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiRelease, evaluatePolicy, ReleaseConfigSource, renderCanaryCard } from '../lib';
import { type PriceKey, type PriceTable, releaseCost, US_EAST_1_PRICES } from '../lib/rollout/release-cost';
import { inlineFunction, testApp, validConfig } from './helpers';

const KEYS: PriceKey[] = [
  'alarmStandardPerMetricMonth',
  'alarmHighResolutionPerMetricMonth',
  'alarmCompositePerMonth',
  'customMetricPerMonth',
  'logsIngestionPerGB',
  'logsInsightsScannedPerGB',
  'lambdaRequestsPerMillion',
  'lambdaGbSecond',
];
/** Every price 0 except one at 1: each line's quantity comes out alone. */
const only = (k: PriceKey): PriceTable => ({
  region: 'test',
  date: '2026-12-07',
  prices: Object.fromEntries(KEYS.map((x) => [x, { usd: x === k ? 1 : 0, unit: '', source: 'test' }])) as PriceTable['prices'],
});
const GB = 1024 ** 3;
const MONTH_S = 730 * 3600;
const base = {
  requestsPerSecond: 10,
  highResolutionAlarmMetrics: 15,
  standardAlarmMetrics: 2,
  compositeAlarms: 2,
  metricNames: 10,
  releasesPerMonth: 20,
  releaseHours: 1,
  runtimeBytesPerRequest: 1000,
  powertoolsBytesPerRequest: 800,
  judgeRunsPerMonth: 43_800,
  judgeWindowMinutes: 1,
  baselineMinutes: 30,
  snapshotInvocations: 100,
  functionMemoryMb: 1024,
  functionSeconds: 2,
};
const line = (c: ReturnType<typeof releaseCost>, prefix: string) => c.lines.find((l) => l.item.startsWith(prefix))?.usd;

describe('release cost arithmetic, one price at a time', () => {
  test.each<[PriceKey, string, number]>([
    ['alarmHighResolutionPerMetricMonth', 'alarms, high', 15],
    ['alarmStandardPerMetricMonth', 'alarms, standard', 2],
    ['alarmCompositePerMonth', 'composite', 2],
    // live version's 10 series all month + 20 releases x 10 series x 1 h of 730
    ['customMetricPerMonth', 'custom metric', 10 + (20 * 10) / 730],
    // (1000 - 800) bytes beyond Powertools x requests
    ['logsIngestionPerGB', 'log ingestion', (200 * 10 * MONTH_S) / GB],
    // each judge run scans one minute of runtime logs; each release reads 30 baseline minutes
    ['logsInsightsScannedPerGB', 'Logs Insights', (1000 * 600 * (43_800 + 20 * 30)) / GB],
    // judge runs + 2 hooks and 1 review per release + snapshot
    ['lambdaRequestsPerMillion', 'function invocations', (43_800 + 60 + 100) / 1e6],
    ['lambdaGbSecond', 'function invocations', (43_800 + 60 + 100) * 1 * 2],
  ])('%s: %s', (k, prefix, expected) => {
    expect(line(releaseCost(base, only(k)), prefix)).toBeCloseTo(expected, 6);
  });

  test("how many series a release creates: the runtime's per-version names (a config release none: no config-label dimension), and the judge's verdict series for the release's hours", () => {
    const c = releaseCost({ ...base, judgeSeriesPerRelease: 1 }, only('customMetricPerMonth'));
    // 20 releases x 1 series x 1 h of 730
    expect(line(c, 'canary judge verdict series')).toBeCloseTo(20 / 730, 9);
    expect(c.lines.find((l) => l.item === 'canary judge verdict series')?.quantity).toBe('0.027 series-months (1 per release for 1 h)');
    const perVersion = c.lines.find((l) => l.item.startsWith('custom metric'))?.quantity ?? '';
    expect(perVersion).toContain('adds 10 for 1 h');
    expect(perVersion).toContain('a config release adds none');
    // without a judge there is no such line, and the total is the per-version series alone
    const none = releaseCost(base, only('customMetricPerMonth'));
    expect(none.lines.some((l) => l.item === 'canary judge verdict series')).toBe(false);
    expect(c.totalUsd - none.totalUsd).toBeCloseTo(20 / 730, 9);
    expect(() => releaseCost({ ...base, judgeSeriesPerRelease: -1 })).toThrow(/judgeSeriesPerRelease must be a number of at least 0/);
  });

  test('the release mix: only code releases add per-version series; config releases add none, everything else counts both planes', () => {
    // 4 code and 26 config releases a month: 10 names all month + 4 x 10 x 1 h of 730 (not 30 x 10).
    const mixed = releaseCost({ ...base, releasesPerMonth: 30, codeReleasesPerMonth: 4 }, only('customMetricPerMonth'));
    expect(line(mixed, 'custom metric')).toBeCloseTo(10 + (4 * 10) / 730, 9);
    expect(mixed.lines.find((l) => l.item.startsWith('custom metric'))?.quantity).toBe(
      '10.05 series-months (10 names for the live version; 4 code releases a month each add 10 for 1 h; 26 config releases add none — the config label is no dimension)',
    );
    // Config only: the per-version line is the live version's series alone, as for a service that never releases.
    const configOnly = releaseCost({ ...base, releasesPerMonth: 30, codeReleasesPerMonth: 0 }, only('customMetricPerMonth'));
    expect(line(configOnly, 'custom metric')).toBe(10);
    // Unstated: every release a code release (today's upper bound), and the text says so.
    const unstated = releaseCost({ ...base, releasesPerMonth: 30 }, only('customMetricPerMonth'));
    expect(line(unstated, 'custom metric')).toBeCloseTo(10 + (30 * 10) / 730, 9);
    expect(unstated.lines.find((l) => l.item.startsWith('custom metric'))?.quantity).toContain('an upper bound');
    // The judge's series, the baseline scans and the reviews count every release, whichever plane.
    const judged = (code: number) =>
      releaseCost({ ...base, releasesPerMonth: 30, codeReleasesPerMonth: code, judgeSeriesPerRelease: 1 }, only('customMetricPerMonth'));
    expect(line(judged(0), 'canary judge verdict series')).toBeCloseTo(30 / 730, 9);
    expect(line(releaseCost({ ...base, releasesPerMonth: 30, codeReleasesPerMonth: 0 }, only('logsInsightsScannedPerGB')), 'Logs Insights')).toBeCloseTo(
      line(releaseCost({ ...base, releasesPerMonth: 30 }, only('logsInsightsScannedPerGB')), 'Logs Insights') as number,
      9,
    );
    expect(() => releaseCost({ ...base, releasesPerMonth: 3, codeReleasesPerMonth: 4 })).toThrow(
      /codeReleasesPerMonth \(4\) is more than releasesPerMonth \(3\)/,
    );
    expect(() => releaseCost({ ...base, codeReleasesPerMonth: -1 })).toThrow(/codeReleasesPerMonth must be a number of at least 0/);
  });

  test('the Powertools-only comparison: its log bytes and its per-service series; the ratio divides the two totals', () => {
    const logs = releaseCost(base, only('logsIngestionPerGB'));
    expect(logs.powertoolsUsd).toBeCloseTo((800 * 10 * MONTH_S) / GB, 6);
    const c = releaseCost(base);
    expect(c.ratio).toBeCloseTo(c.totalUsd / c.powertoolsUsd, 12);
    expect(c.totalUsd).toBeCloseTo(
      c.lines.reduce((a, l) => a + l.usd, 0),
      12,
    );
  });

  test('a runtime that writes less than Powertools adds no log cost; evaluation calls are a zero placeholder', () => {
    const c = releaseCost({ ...base, runtimeBytesPerRequest: 700 }, only('logsIngestionPerGB'));
    expect(line(c, 'log ingestion')).toBe(0);
    // The evaluation's model calls are their own block (test/evaluation-cost.test.ts), never a zero line here.
    expect(c.lines.find((l) => l.item.startsWith('evaluation'))).toBeUndefined();
  });

  test('more traffic: the log line grows linearly, alarms do not; the ratio falls', () => {
    const a = releaseCost({ ...base, requestsPerSecond: 10 });
    const b = releaseCost({ ...base, requestsPerSecond: 100 });
    expect(line(b, 'log ingestion')).toBeCloseTo(10 * (line(a, 'log ingestion') ?? 0), 6);
    expect(line(b, 'alarms, high')).toBe(line(a, 'alarms, high'));
    expect(b.ratio).toBeLessThan(a.ratio);
  });

  test('the price table has a date, and a source URL on a pricing page for every price', () => {
    expect(US_EAST_1_PRICES.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const k of KEYS) expect(US_EAST_1_PRICES.prices[k].source).toMatch(/^https:\/\/aws\.amazon\.com\/(cloudwatch|lambda)\/pricing\/$/);
  });

  test.each([
    [{ requestsPerSecond: 0 }, /requestsPerSecond must be a positive number/],
    [{ highResolutionAlarmMetrics: -1 }, /highResolutionAlarmMetrics must be a number of at least 0, got -1/],
  ])('bad input %p is refused, naming the field', (bad, re) => expect(() => releaseCost({ ...base, ...bad })).toThrow(re));
});

describe('AiRelease: the cost on the card, counted from the synthesized alarms', () => {
  const app = testApp();
  const stack = new Stack(app, 'Rel');
  const r = new AiRelease(stack, 'Assistant', {
    serviceName: 'assistant',
    function: inlineFunction(stack),
    config: ReleaseConfigSource.fromObject(validConfig()),
    expectedRequestsPerSecond: 5,
  });
  const facts = r.facts;

  test('alarm metrics and composites match the template', () => {
    // The service's alarms: the platform's one cannot-judge alarm (issue 15-E) is shared by its services, not on a card.
    const all = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    const alarms = all.filter((x) => x.Properties.AlarmName !== 'Rel-canary-judge-cannot-judge');
    expect(all.length - alarms.length).toBe(1);
    const metrics = alarms.reduce(
      (a, x) => a + (x.Properties.Metrics ? x.Properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).length : 1),
      0,
    );
    const composites = Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::CompositeAlarm')).length;
    const c = facts.releaseCost;
    if (!c) throw new Error('no cost');
    const n = (prefix: string) => Number(c.lines.find((l) => l.item.startsWith(prefix))?.quantity.split(' ')[0]);
    expect(n('alarms, high') + n('alarms, standard')).toBe(metrics);
    expect(n('composite')).toBe(composites);
    // the judge is on by default: its verdict series is on the card
    expect(c.lines.find((l) => l.item === 'canary judge verdict series')?.quantity).toBe('0.027 series-months (1 per release for 1 h)');
  });

  test('releasesPerMonth on the props: a config-heavy mix costs fewer per-version series on the card; a bad count names the field', () => {
    const make = (id: string, releasesPerMonth?: { code?: number; config?: number }) => {
      const mixStack = new Stack(testApp(), `CostMix${id}`);
      return new AiRelease(mixStack, 'Assistant', {
        serviceName: 'assistant',
        function: inlineFunction(mixStack),
        config: ReleaseConfigSource.fromObject(validConfig()),
        expectedRequestsPerSecond: 5,
        ...(releasesPerMonth ? { releasesPerMonth } : {}),
      }).facts.releaseCost;
    };
    const perVersion = (c: ReturnType<typeof make>) => c?.lines.find((l) => l.item.startsWith('custom metric'));
    const unstated = perVersion(make('A'));
    const mixed = perVersion(make('B', { code: 2, config: 40 }));
    expect(unstated?.quantity).toContain('an upper bound');
    expect(mixed?.quantity).toContain('2 code releases a month');
    expect(mixed?.quantity).toContain('40 config releases add none');
    expect(mixed!.usd).toBeLessThan(unstated!.usd);
    // The default is today's assumption: 20 a month, all code.
    expect(perVersion(make('C', { code: 20 }))?.usd).toBeCloseTo(unstated!.usd, 9);
    expect(() => make('D', { code: -2 })).toThrow(/releasesPerMonth.code is -2; it must be a number of releases a month of at least 0/);
  });

  test('the card states the monthly cost and the ratio to a Powertools-only service', () => {
    const card = renderCanaryCard(facts, evaluatePolicy(facts, []));
    expect(card).toContain('## What the release machinery costs (per month)');
    expect(card).toMatch(/\*\*\d+\.\d\d x\*\* what the service already pays for its logs and metrics/);
    expect(card).not.toContain('not built yet (issue 17)');
  });
});
