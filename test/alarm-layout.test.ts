/**
 * alarms.layout: one combined metric-math alarm per plane ('combined', the default) against one alarm per guardrail
 * ('perMetric'). What is pinned: the combined alarm's math within CloudWatch's limits, its description, where it acts
 * (CodeDeploy, the AppConfig monitors, no composite in between), the false-fire chance of "any term in M of N
 * periods" (closed form, checked by simulation), the worst case, and how the review names the guardrail that crossed.
 */
import { Duration } from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';
import { alarmInfo } from '../lambda/review/aws-adapters';
import { guardrailCrossings } from '../lambda/review/facts';
import { parseGuardrailTerm } from '../lambda/shared/guardrail-terms';
import { rng } from '../lib/drill/traffic';
import { alarmFalseFire, combinedBreachProbability, combinedFalseFire, rateBreachProbability } from '../lib/rollout/false-fire';
import { falseFireFixes } from '../lib/rollout/release-policy';
import { testApp, testRelease } from './helpers';

type Json = any;
const alarmsOf = (t: Json) => Object.entries<Json>(t.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

describe("layout 'combined' (the default): one alarm per plane", () => {
  const { r, stack, template } = testRelease();
  const t = template().toJSON();
  const guardrails = alarmsOf(t).filter(([id]) => id.includes('guardrails'));
  const byName = (suffix: string) => guardrails.find(([, a]) => a.Properties.AlarmName.endsWith(suffix))?.[1].Properties;

  test("two guardrail alarms, MAX of the terms above 1, within CloudWatch's 10 metrics and 10 expressions", () => {
    expect(guardrails).toHaveLength(2);
    expect(r.alarms.guardrailAlarms()).toHaveLength(2);
    for (const [suffix, metrics, terms] of [
      ['-version-guardrails', 9, 7],
      ['-service-guardrails', 7, 6],
    ] as const) {
      const p = byName(suffix);
      expect(p).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        DatapointsToAlarm: 2,
        EvaluationPeriods: 3,
        TreatMissingData: 'notBreaching',
      });
      expect(p.Metrics.filter((m: Json) => m.MetricStat)).toHaveLength(metrics);
      const expressions = p.Metrics.filter((m: Json) => m.Expression);
      expect(expressions).toHaveLength(terms + 1);
      expect(expressions.filter((m: Json) => m.ReturnData !== false).map((m: Json) => m.Expression)).toEqual([
        `MAX([${expressions
          .filter((m: Json) => m.ReturnData === false)
          .map((m: Json) => m.Id)
          .join(', ')}])`,
      ]);
      // Every metric at the alarm's 10-second period (CloudWatch requires one period).
      expect(new Set(p.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Period))).toEqual(new Set([10]));
    }
    // Each guardrail once, pointing at its plane's alarm, with its term there.
    expect(r.alarms.alarms.map((a) => `${a.plane}:${a.term}`)).toEqual([
      'code:error_rate',
      'code:p99_latency',
      'code:cost_per_request',
      'code:quality',
      'code:safety_rate',
      'code:contract_rate',
      'code:canary_vs_stable',
      'config:error_rate',
      'config:p99_latency',
      'config:cost_per_request',
      'config:quality',
      'config:safety_rate',
      'config:contract_rate',
    ]);
  });

  test('each term reads back as its guardrail with its own threshold (what the review and the false-fire figure use)', () => {
    const p = byName('-version-guardrails');
    const terms = p.Metrics.filter((m: Json) => m.Expression && m.ReturnData === false).map((m: Json) => parseGuardrailTerm(m.Id, m.Expression));
    expect(terms).toEqual([
      { id: 'error_rate', kind: 'error-rate', threshold: 0.05, comparison: '>' },
      { id: 'p99_latency', kind: 'p99-latency', threshold: 15000, comparison: '>' },
      { id: 'cost_per_request', kind: 'cost-per-request', threshold: 0.05, comparison: '>' },
      { id: 'quality', kind: 'quality', threshold: 0.5, comparison: '<' },
      { id: 'safety_rate', kind: 'safety-rate', threshold: 0.01, comparison: '>' },
      { id: 'contract_rate', kind: 'contract-rate', threshold: 0.02, comparison: '>' },
      { id: 'canary_vs_stable', kind: 'canary-vs-stable', threshold: 0.02, comparison: '>' },
    ]);
    expect(parseGuardrailTerm('expr_1', 'MAX([a])')).toBeUndefined();
    expect(() => parseGuardrailTerm('error_rate', 'err / inv')).toThrow('guardrail term "error_rate": cannot read its threshold');
  });

  test('a threshold of 0 becomes an indicator term (no division by zero)', () => {
    const { template: z } = testRelease({ alarms: { maxSafetyViolationRate: 0 } });
    const p = alarmsOf(z().toJSON()).find(([, a]) => a.Properties.AlarmName.endsWith('-version-guardrails'))?.[1].Properties;
    const safety = p.Metrics.find((m: Json) => m.Id === 'safety_rate');
    expect(safety.Expression).toBe('IF(inv >= 5 AND safety / inv > 0, 2, 0)');
    expect(parseGuardrailTerm('safety_rate', safety.Expression)?.threshold).toBe(0);
  });

  test('the description lists every term with its threshold, the action, and fits AlarmDescription (1024 characters)', () => {
    for (const suffix of ['-version-guardrails', '-service-guardrails']) {
      const d: string = byName(suffix).AlarmDescription;
      expect(d.length).toBeLessThanOrEqual(1024);
      for (const term of ['error_rate = errors / invocations / 0.05', 'p99_latency = p99 latency / 15000 ms', 'quality = (1 - average quality) / (1 - 0.5)'])
        expect(d).toContain(term);
      expect(d).toContain('Which term crossed');
      expect(d).toMatch(suffix.includes('version') ? /CodeDeploy rolls the live alias back/ : /AppConfig rolls back/);
    }
    expect(byName('-version-guardrails').AlarmDescription).toContain('canary_vs_stable = ');
  });

  test('CodeDeploy takes the code alarms, AppConfig monitors the config alarms directly: no ConfigRollback composite', () => {
    const id = (a: { node: { defaultChild?: unknown } }) => stack.getLogicalId(a.node.defaultChild as never);
    const [group] = Object.values<Json>(t.Resources).filter((x) => x.Type === 'AWS::CodeDeploy::DeploymentGroup');
    expect(group.Properties.AlarmConfiguration.Alarms).toEqual(r.alarms.rollbackAlarms('code').map((a) => ({ Name: { Ref: id(a) } })));
    const env = Object.values<Json>(t.Resources).find((x) => x.Type === 'AWS::AppConfig::Environment' && x.Properties.Monitors);
    expect(env.Properties.Monitors.map((m: Json) => m.AlarmArn)).toEqual(r.alarms.rollbackAlarms('config').map((a) => ({ 'Fn::GetAtt': [id(a), 'Arn'] })));
    expect(env.Properties.Monitors).toHaveLength(2); // of AppConfig's 5 per environment
    const composites = Object.values<Json>(t.Resources).filter((x) => x.Type === 'AWS::CloudWatch::CompositeAlarm');
    expect(composites.map((c) => c.Properties.AlarmName)).toEqual(['Rel-assistant-release']);
    expect(r.alarms.configComposite).toBeUndefined();
    // The notification composite still hears every metric alarm.
    for (const a of r.alarms.metricAlarms) expect(JSON.stringify(composites[0].Properties.AlarmRule)).toContain(id(a));
    // The live alias waits for the code alarm (it watches the new version's number).
    const [alias] = Object.values<Json>(t.Resources).filter((x) => x.Type === 'AWS::Lambda::Alias' && x.Properties.Name === 'live');
    expect(alias.DependsOn).toEqual(expect.arrayContaining([id(r.alarms.guardrailAlarms('code')[0])]));
  });

  test("layout 'perMetric' keeps one alarm per guardrail and the composite monitor; a bad layout names the field", () => {
    const { r: per, template: pt } = testRelease({ alarms: { layout: 'perMetric' } });
    const json = pt().toJSON();
    expect(alarmsOf(json).filter(([id]) => /AlarmsVersion|AlarmsService/.test(id) && !id.includes('canaryverdict'))).toHaveLength(13);
    expect(per.alarms.configMonitors).toEqual([per.alarms.configComposite]);
    expect(per.alarms.alarms.every((a) => a.term === undefined)).toBe(true);
    expect(() => testRelease({ alarms: { layout: 'one' as never } })).toThrow(
      `alarms.layout must be 'combined' (one alarm per plane, the default) or 'perMetric' (one alarm per guardrail), got "one"`,
    );
  });

  test("the worst case is the combined alarm's, the same as one alarm per guardrail with the same window", () => {
    const { r: per } = testRelease({ alarms: { layout: 'perMetric' } });
    expect(r.worstCase.code.alarms.map((a) => a.name)).toEqual(['Version-guardrails']);
    expect(r.worstCase.config.alarms.map((a) => a.name)).toEqual(['Service-guardrails']);
    expect(r.worstCase.code.seconds).toBe(per.worstCase.code.seconds);
    expect(r.worstCase.config.seconds).toBe(per.worstCase.config.seconds);
    expect(r.worstCase.code.seconds).toBe((2 + 1) * 10 + 10 + 10 + 30);
  });
});

describe('false fire of "any term in M of N periods" (closed form)', () => {
  const rates = { errorRate: 0.01, safetyRate: 0.001, contractRate: 0.005 };

  test("one term alone is that guardrail's own alarm", () => {
    for (const mu of [5, 20, 60])
      expect(combinedBreachProbability([{ kind: 'error-rate', threshold: 0.05, minInvocations: 5 }], mu, 0, rates)).toBeCloseTo(
        rateBreachProbability(mu, 0.01, 0.05, 5),
        12,
      );
  });

  test('error, contract and canary-vs-stable together, against a seeded simulation of the same period', () => {
    const terms = [
      { kind: 'error-rate' as const, threshold: 0.2, minInvocations: 5 },
      { kind: 'contract-rate' as const, threshold: 0.15, minInvocations: 5 },
      { kind: 'canary-vs-stable' as const, threshold: 0.12, minInvocations: 5 },
    ];
    const r = { errorRate: 0.06, safetyRate: 0, contractRate: 0.04 };
    const [muC, muS] = [8, 40];
    const exact = combinedBreachProbability(terms, muC, muS, r);
    const rand = rng(20261207);
    const poisson = (mu: number) => {
      let k = 0;
      for (let p = Math.exp(-mu), s = p, u = rand(); u > s; k++) {
        p *= mu / (k + 1);
        s += p;
      }
      return k;
    };
    const binomial = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    };
    const trials = 100_000;
    let hits = 0;
    for (let i = 0; i < trials; i++) {
      const nc = poisson(muC);
      const ns = poisson(muS);
      const ec = binomial(nc, r.errorRate);
      const cc = binomial(nc, r.contractRate);
      const es = binomial(ns, r.errorRate);
      const guarded = nc >= 5;
      const breach = guarded && (ec / nc > 0.2 || cc / nc > 0.15 || (ns >= 5 && ec / nc - es / ns > 0.12));
      if (breach) hits++;
    }
    const p = hits / trials;
    const sd = Math.sqrt((exact * (1 - exact)) / trials);
    expect(Math.abs(p - exact)).toBeLessThan(4 * sd);
    // The union is more than the largest single term: the terms are not the same event.
    const single = Math.max(...terms.map((t) => combinedBreachProbability([t], muC, muS, r)));
    expect(exact).toBeGreaterThan(single * 1.2);
  });

  test("the example app: its code plane's 2 of 2 60-second periods keep the combined alarm under 1 % on the linear schedule; 2 of 3 would not", () => {
    const { release: ex } = new ExampleStack(testApp(), 'Ex');
    const ff = ex.falseFireAt(5);
    const code = ff.combined?.find((c) => c.plane === 'code');
    expect(code?.name).toBe('Version-guardrails');
    const codeTerms = ff.alarms.filter((a) => a.plane === 'code');
    expect(codeTerms.map((a) => [a.periodSeconds, a.datapointsToAlarm, a.evaluationPeriods])).toEqual(Array(4).fill([60, 2, 2]));
    expect(ff.alarms.filter((a) => a.plane === 'config').map((a) => [a.periodSeconds, a.datapointsToAlarm, a.evaluationPeriods])).toEqual(
      Array(3).fill([10, 3, 3]),
    );
    const alone = ff.results.filter((r) => r.plane === 'code').map((r) => r.probability);
    for (const p of alone) expect(p).toBeLessThan(0.01);
    // 0.80 % over the 57-minute linear schedule (bench/RESULTS.md § h8-period)
    expect(Math.abs((code?.probability ?? 1) - 0.008)).toBeLessThan(0.0005);
    expect(ff.combined?.find((c) => c.plane === 'config')?.probability).toBeLessThan(0.00001);
    // The policy has nothing to say about it (bin/example-stack.ts: EXAMPLE_CODE_ALARM_WINDOW, 2 of 2).
    expect((ex.policy.warnings ?? []).filter((w) => w.rule === 'alarm-false-fire')).toEqual([]);
    // The same terms at 2 of 3: a breach of one guardrail and one of another count toward one 2 of 3, so the
    // combined alarm fires more often than the four alone added together, and over the policy's 1 %.
    const twoOfThree = codeTerms.map((a) => ({ ...a, datapointsToAlarm: 2, evaluationPeriods: 3 }));
    const at2 = combinedFalseFire(twoOfThree, ff.traffic, ff.baseRates).probability;
    expect(Math.abs(at2 - 0.0135)).toBeLessThan(0.0005);
    const alone2 = twoOfThree.map((t) => alarmFalseFire(t, ff.traffic, ff.baseRates).probability);
    expect(at2).toBeGreaterThan(alone2.reduce((x, y) => x + y, 0));
    // 3 of 3 would be quieter still (0.03 %), but (3 + 1) x 60 s do not fit the 3-minute first step: the policy refuses it.
    const threeOfThree = codeTerms.map((a) => ({ ...a, datapointsToAlarm: 3, evaluationPeriods: 3 }));
    expect(combinedFalseFire(threeOfThree, ff.traffic, ff.baseRates).probability).toBeLessThan(0.0005);
    const refused = new ExampleStack(testApp(), 'Ex3', { codeAlarmWindow: { datapointsToAlarm: 3, evaluationPeriods: 3 } }).release.policy;
    expect(refused.violations.map((v) => v.message)).toContainEqual(
      expect.stringContaining('code plane: the first canary step lasts 180 s, shorter than the 240 s'),
    );
  });

  test('the policy names the combined alarm, its figure, each term alone, and fixes that fit', () => {
    const { r } = testRelease({ expectedRequestsPerSecond: 20, alarms: { period: Duration.seconds(10) } });
    const w = (r.policy.warnings ?? []).filter((x) => x.rule === 'alarm-false-fire').map((x) => x.message);
    expect(w).toHaveLength(2);
    const code = w.find((m) => m.startsWith('alarm Version-guardrails (code plane, any of error-rate > 0.05'));
    expect(code).toMatch(/rolls back a good release with probability 0\.\d{3} per release at 20 requests\/s/);
    expect(code).toMatch(/each term alone: error-rate 0\.\d{3}, safety-rate 0\.\d{3}, contract-rate 0\.\d{3}, canary-vs-stable 0\.\d{3}/);
    const fixes = [...(code ?? '').split('fix (')[1].matchAll(/\((0\.\d{3})\)/g)].map((m) => Number(m[1]));
    expect(fixes.length).toBeGreaterThan(0);
    for (const f of fixes) expect(f).toBeLessThanOrEqual(0.01);
  });

  test("the fixes name the alarm's plane, and the window fix brings that plane's alarm under the limit", () => {
    const { r } = testRelease({ expectedRequestsPerSecond: 20, alarms: { period: Duration.seconds(10) } });
    const w = (r.policy.warnings ?? []).filter((x) => x.rule === 'alarm-false-fire').map((x) => x.message);
    const code = w.find((m) => m.startsWith('alarm Version-guardrails')) ?? '';
    const config = w.find((m) => m.startsWith('alarm Service-guardrails')) ?? '';
    expect(code).toMatch(/alarms\.code\.datapointsToAlarm \d of alarms\.code\.evaluationPeriods \d/);
    expect(code).not.toContain('alarms.config.');
    expect(config).toMatch(/alarms\.config\.datapointsToAlarm \d of alarms\.config\.evaluationPeriods \d/);
    expect(config).not.toContain('alarms.code.');
    // Taking the code plane's window fix as alarms.code: that plane's warning goes, the config plane's stays.
    const [, m, n] = code.match(/alarms\.code\.datapointsToAlarm (\d) of alarms\.code\.evaluationPeriods (\d)/) ?? [];
    const fixed = testRelease({
      expectedRequestsPerSecond: 20,
      alarms: { period: Duration.seconds(10), code: { datapointsToAlarm: Number(m), evaluationPeriods: Number(n) } },
    }).r;
    const after = (fixed.policy.warnings ?? []).filter((x) => x.rule === 'alarm-false-fire').map((x) => x.message);
    expect(after.some((x) => x.startsWith('alarm Version-guardrails'))).toBe(false);
    expect(after.some((x) => x.startsWith('alarm Service-guardrails'))).toBe(true);
  });

  test('one falseFireFixes for both layouts: one term alone, or a combined alarm (several terms need combined: true)', () => {
    const { r } = testRelease({ expectedRequestsPerSecond: 20, alarms: { period: Duration.seconds(10) } });
    const ff = r.falseFireAt(20);
    const terms = ff.alarms.filter((a) => a.plane === 'code');
    expect(() => falseFireFixes(terms, ff.traffic, ff.baseRates, 0.01)).toThrow('pass { combined: true }');
    const combined = falseFireFixes(terms, ff.traffic, ff.baseRates, 0.01, { combined: true });
    const error = terms.find((t) => t.kind === 'error-rate');
    if (!error) throw new Error('no error-rate term');
    const alone = falseFireFixes([error], ff.traffic, ff.baseRates, 0.01);
    // each figure is what it claims: recomputed the way it was found
    for (const fixes of [combined, alone]) {
      expect(fixes.length).toBeGreaterThan(0);
      for (const f of fixes) expect(Number(f.match(/\((0\.\d{3})\)$/)?.[1])).toBeLessThanOrEqual(0.01);
    }
    const win = alone.find((f) => f.startsWith('alarms.code.datapointsToAlarm'));
    const [, m, n] = win?.match(/datapointsToAlarm (\d) of alarms\.code\.evaluationPeriods (\d) \((0\.\d{3})\)/) ?? [];
    expect(alarmFalseFire({ ...error, datapointsToAlarm: Number(m), evaluationPeriods: Number(n) }, ff.traffic, ff.baseRates).probability).toBeLessThanOrEqual(
      0.01,
    );
    // the combined alarm needs at least the window its noisiest term alone needs
    const cw = combined.find((f) => f.startsWith('alarms.code.datapointsToAlarm'));
    if (cw) expect(Number(cw.match(/datapointsToAlarm (\d)/)?.[1])).toBeGreaterThanOrEqual(Number(m));
  });
});

describe('the review names the guardrail that crossed', () => {
  const described = {
    AlarmName: 'Rel-assistant-version-guardrails',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanThreshold',
    Metrics: [
      { Id: 'expr_1', Expression: 'MAX([error_rate, quality, contract_rate])', ReturnData: true },
      { Id: 'error_rate', Expression: 'IF(inv >= 5, err / inv / 0.05, 0)', ReturnData: false },
      { Id: 'quality', Expression: 'IF(inv >= 5, (1 - FILL(q, 1)) / 0.5, 0)', ReturnData: false },
      { Id: 'contract_rate', Expression: 'IF(inv >= 5, contract / inv / 0.02, 0)', ReturnData: false },
      { Id: 'inv', MetricStat: { Metric: { MetricName: 'Invocations' }, Period: 10, Stat: 'Sum' }, ReturnData: false },
    ],
  };

  test('DescribeAlarms of a combined alarm: its guard, period and terms', () => {
    expect(alarmInfo(described as never)).toEqual({
      name: 'Rel-assistant-version-guardrails',
      threshold: 1,
      comparison: '>',
      periodSeconds: 10,
      minInvocations: 5,
      terms: [
        { id: 'error_rate', kind: 'error-rate', threshold: 0.05, comparison: '>' },
        { id: 'quality', kind: 'quality', threshold: 0.5, comparison: '<' },
        { id: 'contract_rate', kind: 'contract-rate', threshold: 0.02, comparison: '>' },
      ],
    });
  });

  test('recomputed from the series: contract crossed first, then errors; quality never (an unscored period is no breach)', () => {
    const ts = ['2026-12-07T12:00:00Z', '2026-12-07T12:00:10Z', '2026-12-07T12:00:20Z', '2026-12-07T12:00:30Z'];
    const series = (values: number[], at = ts) => ({ timestamps: at, values });
    const data = {
      s_inv: series([20, 20, 20, 3]),
      s_err: series([0, 0, 3, 3]), // 15 % at 12:00:20 (term 3); 12:00:30 is under the guard
      s_contract: series([0, 1, 1, 0]), // 5 % from 12:00:10 (term 2.5)
      s_q: series([0.9, 0.8], ts.slice(0, 2)), // scored in two periods only, above the floor
    };
    const info = alarmInfo(described as never)!;
    const crossed = guardrailCrossings(info.terms ?? [], info.minInvocations, data);
    expect(crossed.map((c) => [c.term, c.periods, c.firstAt])).toEqual([
      ['contract_rate', 2, '2026-12-07T12:00:10Z'],
      ['error_rate', 1, '2026-12-07T12:00:20Z'],
      ['quality', 0, undefined],
    ]);
    expect(crossed[0].peak).toBeCloseTo(2.5, 12);
    expect(crossed[1].peak).toBeCloseTo(3, 12);
    expect(crossed[2].peak).toBeCloseTo(0.4, 12);
  });
});
