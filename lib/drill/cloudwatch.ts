/**
 * CloudWatch alarm evaluation, as documented, for the drill. Pure.
 *
 * Rules implemented and their sources (Amazon CloudWatch User Guide unless noted):
 *   1. Each period of P seconds gives one datapoint (the metric or the metric-math result over that period).
 *      High-resolution alarms (P of 10 or 30 s) need high-resolution metrics; other periods are multiples of 60 s
 *      ("High-resolution alarms").
 *   2. An alarm is evaluated on a cadence: every 10 s for periods under a minute, every 60 s otherwise (the same
 *      rule `lib/rollout/worst-case.ts` uses). A datapoint is visible once its period has ended and the metric ingestion
 *      delay (`timing.metricIngestionSeconds`, an assumption) has passed; the drill evaluates complete periods only.
 *   3. M of N ("Evaluating an alarm"): Datapoints to Alarm (M) of the last Evaluation Periods (N) datapoints must
 *      breach — not necessarily consecutive. Otherwise the alarm is OK. DatapointsToAlarm defaults to N.
 *   4. Missing data ("How alarm state is evaluated when data is missing"): CloudWatch retrieves more datapoints
 *      than N — the evaluation range; the drill uses N + 2, as in the guide's tables (N = 3 retrieves 5).
 *      - range has >= N real datapoints: the most recent N real ones are evaluated; TreatMissingData is not used;
 *      - fewer: missing ones are filled per TreatMissingData, as few as possible (N evaluated in all):
 *        `breaching` fills breaching, `notBreaching` fills good;
 *        `missing`: all missing -> INSUFFICIENT_DATA; with a non-breaching real point it is judged on the real
 *        points (ALARM only when M of them breach); with only breaching real points: ALARM when the oldest lies
 *        before the last N periods, else INSUFFICIENT_DATA (this reproduces every row of the guide's two tables);
 *        `ignore`: as `missing`, but where `missing` gives INSUFFICIENT_DATA or relies only on breaching real
 *        points, the current state is kept ("Retain current state" in the tables).
 *   5. Metric math: see ./expression.ts.
 *   6. Composite alarms: the rule (ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE, AND, OR, NOT, parentheses)
 *      is re-evaluated whenever a child changes state; true -> ALARM, false -> OK ("Create a composite alarm").
 */
import type { Point } from './expression';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';
export type ComparisonOperator = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = [
  'GreaterThanThreshold',
  'GreaterThanOrEqualToThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
export const TREAT_MISSING: readonly TreatMissingData[] = ['missing', 'notBreaching', 'breaching', 'ignore'];

export interface AlarmRule {
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  /** N */
  readonly evaluationPeriods: number;
  /** M */
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

export function breaches(value: number, comparison: ComparisonOperator, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/** How many datapoints one evaluation retrieves (rule 4). */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + 2;
}

/**
 * One evaluation (rules 3 and 4). `range` holds the datapoints of the evaluation range, oldest first (missing =
 * undefined), at most `evaluationRange(N)` long; `current` is the state kept by `ignore`.
 */
export function evaluateAlarm(range: readonly Point[], rule: AlarmRule, current: AlarmState): AlarmState {
  const n = rule.evaluationPeriods;
  const m = rule.datapointsToAlarm;
  const real = range.filter((p): p is number => p !== undefined);
  const breach = (v: number) => breaches(v, rule.comparison, rule.threshold);
  if (real.length >= n) return real.slice(-n).filter(breach).length >= m ? 'ALARM' : 'OK';
  const bad = real.filter(breach).length;
  switch (rule.treatMissingData) {
    case 'breaching':
      return bad + (n - real.length) >= m ? 'ALARM' : 'OK';
    case 'notBreaching':
      return bad >= m ? 'ALARM' : 'OK';
    case 'missing':
    case 'ignore': {
      const keep = rule.treatMissingData === 'ignore';
      if (real.length === 0) return keep ? current : 'INSUFFICIENT_DATA';
      if (bad < real.length) return bad >= m ? 'ALARM' : 'OK';
      // Only breaching real points.
      if (keep) return current;
      let oldest = 0;
      while (range[oldest] === undefined) oldest++;
      return oldest < range.length - n ? 'ALARM' : 'INSUFFICIENT_DATA';
    }
  }
}

/** A composite alarm rule, parsed: which children it reads, and its value for their states. */
export interface CompositeRule {
  readonly source: string;
  readonly children: readonly string[];
  test(states: (child: string) => AlarmState): boolean;
}

type RuleNode =
  | { t: 'const'; v: boolean }
  | { t: 'state'; state: AlarmState; child: string }
  | { t: 'not'; a: RuleNode }
  | { t: 'and' | 'or'; a: RuleNode; b: RuleNode };

/** Parses `ALARM("a") OR (OK(b) AND NOT INSUFFICIENT_DATA("c"))`; children are named as written. */
export function parseCompositeRule(source: string): CompositeRule {
  const re = /\s*(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"([^"]*)"|([^()\s"]+))\s*\)|\s*(AND|OR|NOT|TRUE|FALSE|\(|\))/iy;
  const tokens: { kind: 'state' | 'word'; text: string; child?: string }[] = [];
  let pos = 0;
  while (pos < source.length && !/^\s*$/.test(source.slice(pos))) {
    re.lastIndex = pos;
    const m = re.exec(source);
    if (!m) throw new Error(`composite alarm rule: cannot read "${source.slice(pos).trim().slice(0, 30)}"`);
    tokens.push(m[1] ? { kind: 'state', text: m[1].toUpperCase(), child: m[2] ?? m[3] } : { kind: 'word', text: m[4].toUpperCase() });
    pos = re.lastIndex;
  }
  let i = 0;
  const children = new Set<string>();
  const atom = (): RuleNode => {
    const tok = tokens[i++];
    if (!tok) throw new Error(`composite alarm rule "${source}": ends too early`);
    if (tok.kind === 'state') {
      children.add(tok.child as string);
      return { t: 'state', state: tok.text as AlarmState, child: tok.child as string };
    }
    if (tok.text === 'NOT') return { t: 'not', a: atom() };
    if (tok.text === 'TRUE' || tok.text === 'FALSE') return { t: 'const', v: tok.text === 'TRUE' };
    if (tok.text === '(') {
      const e = or();
      if (tokens[i++]?.text !== ')') throw new Error(`composite alarm rule "${source}": missing )`);
      return e;
    }
    throw new Error(`composite alarm rule "${source}": unexpected ${tok.text}`);
  };
  const and = (): RuleNode => {
    let a = atom();
    while (tokens[i]?.text === 'AND') {
      i++;
      a = { t: 'and', a, b: atom() };
    }
    return a;
  };
  const or = (): RuleNode => {
    let a = and();
    while (tokens[i]?.text === 'OR') {
      i++;
      a = { t: 'or', a, b: and() };
    }
    return a;
  };
  const root = or();
  if (i !== tokens.length) throw new Error(`composite alarm rule "${source}": unexpected ${tokens[i].text}`);
  const ev = (n: RuleNode, s: (c: string) => AlarmState): boolean =>
    n.t === 'const'
      ? n.v
      : n.t === 'state'
        ? s(n.child) === n.state
        : n.t === 'not'
          ? !ev(n.a, s)
          : n.t === 'and'
            ? ev(n.a, s) && ev(n.b, s)
            : ev(n.a, s) || ev(n.b, s);
  return { source, children: [...children], test: (s) => ev(root, s) };
}
