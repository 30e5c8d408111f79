import { type AlarmState, evaluateAlarm, parseCompositeRule, type TreatMissingData } from '../lib/drill/cloudwatch';
import { parseMetricExpression, type Point, UnsupportedExpressionError } from '../lib/drill/expression';

/** `0 - X - X` as in the CloudWatch User Guide's tables: 0 good, X breaching, - missing (threshold 1, ">"). */
const points = (s: string): Point[] => s.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 2 : 0));
const rule = (m: number, n: number, treatMissingData: TreatMissingData) => ({
  threshold: 1,
  comparison: 'GreaterThanThreshold' as const,
  evaluationPeriods: n,
  datapointsToAlarm: m,
  treatMissingData,
});
const KEEP = 'retain';
const order: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

describe('alarm evaluation with missing data, row by row from the CloudWatch User Guide', () => {
  // "How alarm state is evaluated when data is missing": columns MISSING, IGNORE, BREACHING, NOT BREACHING.
  const threeOfThree: [string, string[]][] = [
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', KEEP, 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - - - X', ['INSUFFICIENT_DATA', KEEP, 'ALARM', 'OK']],
    ['X - - - -', ['ALARM', KEEP, 'ALARM', 'OK']],
  ];
  const twoOfThree: [string, string[]][] = [
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - X', ['INSUFFICIENT_DATA', KEEP, 'ALARM', 'OK']],
  ];
  for (const [m, table] of [
    [3, threeOfThree],
    [2, twoOfThree],
  ] as const) {
    test.each(table)(`${m} of 3: %s`, (data, expected) => {
      order.forEach((treat, i) => {
        for (const current of ['OK', 'ALARM'] as AlarmState[]) {
          const want = expected[i] === KEEP ? current : expected[i];
          expect([treat, current, evaluateAlarm(points(data), rule(m, 3, treat), current)]).toEqual([treat, current, want]);
        }
      });
    });
  }

  test('M of N need not be consecutive, and only the last N real datapoints count', () => {
    expect(evaluateAlarm(points('X X 0 X 0'), rule(2, 3, 'notBreaching'), 'OK')).toBe('OK'); // last 3: 0 X 0
    expect(evaluateAlarm(points('0 0 X 0 X'), rule(2, 3, 'notBreaching'), 'OK')).toBe('ALARM');
    expect(evaluateAlarm(points('X X X 0 0'), rule(2, 3, 'notBreaching'), 'ALARM')).toBe('OK');
  });

  test('comparison operators and thresholds', () => {
    const r = { ...rule(1, 1, 'notBreaching'), threshold: 0.5 };
    expect(evaluateAlarm([0.5], { ...r, comparison: 'GreaterThanThreshold' }, 'OK')).toBe('OK');
    expect(evaluateAlarm([0.5], { ...r, comparison: 'GreaterThanOrEqualToThreshold' }, 'OK')).toBe('ALARM');
    expect(evaluateAlarm([0.4], { ...r, comparison: 'LessThanThreshold' }, 'OK')).toBe('ALARM');
    expect(evaluateAlarm([0.5], { ...r, comparison: 'LessThanThreshold' }, 'OK')).toBe('OK');
    expect(evaluateAlarm([0.5], { ...r, comparison: 'LessThanOrEqualToThreshold' }, 'OK')).toBe('ALARM');
  });
});

describe('metric math, against the CloudWatch User Guide examples', () => {
  const series = (e: string, cols: Record<string, Point[]>) => {
    const x = parseMetricExpression(e);
    const n = Object.values(cols)[0].length;
    return Array.from({ length: n }, (_, i) => x.evaluate(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v[i]]))));
  };
  const _ = undefined;
  const m1 = [1, 1, 0, 0, _];
  const m2 = [30, _, 0, 0, 30];
  const m3 = [0, 0, 20, _, 20];

  test('IF(metric1, metric2, metric3) = [30, 0, 20, -, -]', () => {
    expect(series('IF(m1, m2, m3)', { m1, m2, m3 })).toEqual([30, 0, 20, _, _]);
  });
  test('IF(metric1, 5, metric3) = [5, 5, 20, -, -]', () => {
    expect(series('IF(m1, 5, m3)', { m1, m3 })).toEqual([5, 5, 20, _, _]);
  });
  test('IF(metric1, metric2, 5) = [30, 0, 5, 5, -]', () => {
    expect(series('IF(m1, m2, 5)', { m1, m2 })).toEqual([30, 0, 5, 5, _]);
  });
  test('comparison and logical operators treat a value missing in one series as 0', () => {
    const a = [30, 20, 0, 0];
    const b = [20, _, 20, _];
    expect(series('a < b', { a, b })).toEqual([0, 0, 1, 0]);
    expect(series('a >= 30', { a })).toEqual([1, 0, 0, 0]);
    expect(series('a > 15 AND b > 15', { a, b })).toEqual([1, 0, 0, 0]);
    expect(series('a > 15 && b > 15', { a, b })).toEqual([1, 0, 0, 0]);
  });
  test('arithmetic: missing counts as 0 beside a value, division by zero drops the point, nothing stays missing', () => {
    expect(series('x / inv', { x: [_, 2, 1, _], inv: [10, 10, 0, _] })).toEqual([0, 0.2, _, _]);
    expect(series('x - 1', { x: [_, 3] })).toEqual([_, 2]);
  });
  test("the constructs' guard: IF(inv >= 5, x / inv, 0) with no errors written, too few requests, no requests", () => {
    expect(series('IF(inv >= 5, x / inv, 0)', { inv: [10, 4, _, 10], x: [_, 4, _, 1] })).toEqual([0, 0, _, 0.1]);
  });
  test('FILL gives empty periods a value; precedence and unary minus', () => {
    expect(series('FILL(x, 0) + 1', { x: [_, 2] })).toEqual([1, 3]);
    expect(series('-x + 2 * 3', { x: [1, _] })).toEqual([5, _]);
    expect(series('ABS(x - 5)', { x: [1, _] })).toEqual([4, _]);
  });
  test('MAX / MIN of an array of time series: per timestamp, over the values present; missing only where all are', () => {
    expect(series('MAX([a, b, c])', { a: [0.5, _, 2, _], b: [1.5, 0.2, _, _], c: [0, 0.1, 1, _] })).toEqual([1.5, 0.2, 2, _]);
    expect(series('MIN([a, b])', { a: [0.5, _, 2], b: [1.5, 0.2, _] })).toEqual([0.5, 0.2, 2]);
    // Members may be expressions.
    expect(series('MAX([x / inv / 0.05, lat / 100])', { x: [1, 0], inv: [10, 10], lat: [50, 150] })).toEqual([2, 1.5]);
  });
  test("the combined guardrail alarm's terms: each above 1 exactly when its own alarm would breach", () => {
    // Error rate 0.05: 1 of 20 is at the threshold (not above), 2 of 20 above; the term is the ratio over 0.05.
    const e = series('IF(inv >= 5, err / inv / 0.05, 0)', { inv: [20, 20, 4, _], err: [1, 2, 4, _] });
    expect(e[0]).toBe(1);
    expect(e[1]).toBeCloseTo(2, 12);
    expect(e.slice(2)).toEqual([0, _]);
    // Quality (lower is bad), floor 0.5: 0.4 is below the floor (term 1.2); no score sampled counts as perfect (0).
    expect(series('IF(inv >= 5, (1 - FILL(q, 1)) / 0.5, 0)', { inv: [10, 10, 10], q: [0.4, 0.6, _] }).map((x) => Math.round((x ?? -1) * 1e9) / 1e9)).toEqual([
      1.2, 0.8, 0,
    ]);
    // A threshold of 0 (any breaches) is an indicator: 2 while the value is above 0.
    expect(series('IF(inv >= 5 AND safety / inv > 0, 2, 0)', { inv: [10, 10], safety: [0, 1] })).toEqual([0, 2]);
  });
  test('functions across time are refused as not simulated, naming the function', () => {
    expect(() => parseMetricExpression('MAX(x)')).toThrow(/MAX\(1 arguments\) is not simulated/);
    expect(() => parseMetricExpression('[a, b] + 1')).toThrow(/only as the argument of MAX or MIN/);
    expect(() => parseMetricExpression('x / AVG(x)')).toThrow(UnsupportedExpressionError);
    expect(() => parseMetricExpression('RATE(x)')).toThrow(/RATE\(1 arguments\) is not simulated/);
    expect(() => parseMetricExpression('FILL(x, REPEAT)')).toThrow(/not simulated/);
    expect(() => parseMetricExpression('x +')).toThrow(UnsupportedExpressionError);
  });
});

describe('composite alarm rules', () => {
  test('ALARM / OK / INSUFFICIENT_DATA, AND / OR / NOT, parentheses, quoted ARNs', () => {
    const r = parseCompositeRule('(ALARM("arn:aws:cloudwatch:eu-west-1:1:alarm:a") OR ALARM(b)) AND NOT INSUFFICIENT_DATA("c")');
    expect(r.children).toEqual(['arn:aws:cloudwatch:eu-west-1:1:alarm:a', 'b', 'c']);
    const states = (s: Record<string, AlarmState>) => (c: string) => s[c] ?? 'OK';
    expect(r.test(states({ b: 'ALARM' }))).toBe(true);
    expect(r.test(states({ b: 'ALARM', c: 'INSUFFICIENT_DATA' }))).toBe(false);
    expect(r.test(states({}))).toBe(false);
    expect(parseCompositeRule('TRUE').test(() => 'OK')).toBe(true);
    expect(() => parseCompositeRule('ALARM(a) OR')).toThrow(/ends too early/);
  });
});
