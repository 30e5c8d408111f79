/**
 * CloudWatch metric math, the pointwise subset alarms use, evaluated one period (timestamp) at a time.
 *
 * Rules implemented (CloudWatch User Guide, "Using metric math" — metric-math-syntax and using-IF-expressions):
 *   - Arithmetic `+ - * /` (and unary minus): a value missing in one time series is treated as 0 when the other
 *     has one; a division by zero drops the data point (missing). A timestamp no input series has stays missing.
 *   - Comparison `== != <= >= < >` and logical `AND && OR ||`: 1 (true) or 0 (false); between two series a value
 *     missing in one is treated as 0; against a scalar, a missing value stays missing.
 *   - `IF(cond, a, b)`: cond missing -> dropped; cond true -> a (0 when a is a series without that point);
 *     cond false -> b (dropped when b is a series without that point or b is omitted).
 *   - `FILL(ts, S)`: a missing value becomes S (every period of the evaluation range exists in the request).
 *   - `ABS`, `CEIL`, `FLOOR`: pointwise; missing stays missing.
 *   - `MAX([a, b, ...])` / `MIN([...])` over an array of time series: one time series, at each timestamp the largest
 *     (smallest) of the values present there; missing where none has a value (an assumption: the User Guide says
 *     MAX and MIN of a time-series array return a time series, not how a point missing in one member counts). The
 *     combined guardrail alarm uses MAX; its terms are present at the same timestamps (wherever the invocations
 *     are), so the missing rule does not decide it.
 * Functions that look across time (AVG/SUM/MAX of one series, RATE, DIFF, FILL with REPEAT/LINEAR, SEARCH…) are
 * refused with an UnsupportedExpressionError: the drill says "not simulated" rather than guess.
 */

/** A value at one timestamp: a number, or missing (`undefined`). */
export type Point = number | undefined;

export class UnsupportedExpressionError extends Error {}

type Node =
  | { t: 'num'; v: number }
  | { t: 'id'; name: string }
  | { t: 'neg'; a: Node }
  | { t: 'bin'; op: string; a: Node; b: Node }
  | { t: 'call'; fn: string; args: Node[] }
  | { t: 'array'; items: Node[] };

/** A parsed expression: the ids it reads and a pointwise evaluator. */
export interface MetricExpression {
  readonly source: string;
  readonly ids: readonly string[];
  /** Evaluates one timestamp; `values[id]` is that query's value there (undefined: missing). */
  evaluate(values: Readonly<Record<string, Point>>): Point;
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||==|!=|<=|>=|[-+*/()<>,^[\]]))/y;

export function parseMetricExpression(source: string): MetricExpression {
  const tokens: { kind: 'num' | 'word' | 'op'; text: string }[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < source.length) {
    if (/^\s*$/.test(source.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(source);
    if (!m) throw new UnsupportedExpressionError(`metric math "${source}": cannot read "${source.slice(pos).trim().slice(0, 20)}"`);
    tokens.push(m[1] ? { kind: 'num', text: m[1] } : m[2] ? { kind: 'word', text: m[2] } : { kind: 'op', text: m[3] });
    pos = TOKEN.lastIndex;
  }
  let i = 0;
  const peek = () => tokens[i];
  const take = (text?: string) => {
    const tok = tokens[i];
    if (!tok || (text !== undefined && tok.text.toUpperCase() !== text)) {
      throw new UnsupportedExpressionError(`metric math "${source}": expected ${text ?? 'more'} at token ${i + 1}`);
    }
    i++;
    return tok;
  };
  const isOp = (...ops: string[]) => {
    const tok = peek();
    return tok !== undefined && (tok.kind === 'op' || tok.kind === 'word') && ops.includes(tok.text.toUpperCase());
  };
  const binary = (next: () => Node, ops: string[]) => (): Node => {
    let a = next();
    while (isOp(...ops)) {
      const op = take().text.toUpperCase();
      a = { t: 'bin', op: op === '&&' ? 'AND' : op === '||' ? 'OR' : op, a, b: next() };
    }
    return a;
  };
  const primary = (): Node => {
    const tok = take();
    if (tok.kind === 'num') return { t: 'num', v: Number(tok.text) };
    if (tok.text === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (tok.text === '-') return { t: 'neg', a: primary() };
    if (tok.text === '[') {
      const items: Node[] = [or()];
      while (peek()?.text === ',') {
        take(',');
        items.push(or());
      }
      take(']');
      return { t: 'array', items };
    }
    if (tok.kind === 'word') {
      if (peek()?.text === '(') {
        take('(');
        const args: Node[] = [];
        if (peek()?.text !== ')') {
          args.push(or());
          while (peek()?.text === ',') {
            take(',');
            args.push(or());
          }
        }
        take(')');
        return { t: 'call', fn: tok.text, args };
      }
      return { t: 'id', name: tok.text };
    }
    throw new UnsupportedExpressionError(`metric math "${source}": unexpected "${tok.text}"`);
  };
  const mul = binary(primary, ['*', '/']);
  const add = binary(mul, ['+', '-']);
  const cmp = binary(add, ['==', '!=', '<=', '>=', '<', '>']);
  const and = binary(cmp, ['AND', '&&']);
  const or = binary(and, ['OR', '||']);
  const root = or();
  if (i !== tokens.length) throw new UnsupportedExpressionError(`metric math "${source}": unexpected "${tokens[i].text}"`);

  const ids = new Set<string>();
  // Whether a node is a time series (depends on a query) or a scalar: the missing-value rules differ.
  const series = (n: Node): boolean =>
    n.t === 'id'
      ? true
      : n.t === 'num'
        ? false
        : n.t === 'neg'
          ? series(n.a)
          : n.t === 'bin'
            ? series(n.a) || series(n.b)
            : n.t === 'array'
              ? n.items.some(series)
              : n.args.some(series);
  const check = (n: Node): void => {
    if (n.t === 'id') ids.add(n.name);
    else if (n.t === 'neg') check(n.a);
    else if (n.t === 'bin') {
      check(n.a);
      check(n.b);
    } else if (n.t === 'array') throw new UnsupportedExpressionError(`metric math "${source}": an array is simulated only as the argument of MAX or MIN`);
    else if (n.t === 'call') {
      const fn = n.fn.toUpperCase();
      if ((fn === 'MAX' || fn === 'MIN') && n.args.length === 1 && n.args[0].t === 'array') n.args[0].items.forEach(check);
      else if (fn === 'IF' && (n.args.length === 2 || n.args.length === 3)) n.args.forEach(check);
      else if (fn === 'FILL' && n.args.length === 2 && !series(n.args[1])) n.args.forEach(check);
      else if (['ABS', 'CEIL', 'FLOOR'].includes(fn) && n.args.length === 1) n.args.forEach(check);
      else
        throw new UnsupportedExpressionError(
          `metric math "${source}": ${fn}(${n.args.length} arguments) is not simulated (the drill evaluates IF, FILL(ts, number), ABS, CEIL, FLOOR, MAX and MIN of an array, and arithmetic, comparison and logical operators)`,
        );
    }
  };
  check(root);

  const ev = (n: Node, v: Readonly<Record<string, Point>>): Point => {
    switch (n.t) {
      case 'num':
        return n.v;
      case 'id':
        if (!(n.name in v)) throw new UnsupportedExpressionError(`metric math "${source}": no query with id "${n.name}"`);
        return v[n.name];
      case 'neg': {
        const a = ev(n.a, v);
        return a === undefined ? undefined : -a;
      }
      case 'bin': {
        let a = ev(n.a, v);
        let b = ev(n.b, v);
        if (a === undefined && b === undefined) return undefined;
        if (a === undefined || b === undefined) {
          // Series against series: the missing side counts as 0. Series against a scalar: stays missing.
          const otherIsSeries = a === undefined ? series(n.b) : series(n.a);
          if (!otherIsSeries) return undefined;
          a ??= 0;
          b ??= 0;
        }
        switch (n.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return a * b;
          case '/':
            return b === 0 ? undefined : a / b;
          case '==':
            return a === b ? 1 : 0;
          case '!=':
            return a !== b ? 1 : 0;
          case '<=':
            return a <= b ? 1 : 0;
          case '>=':
            return a >= b ? 1 : 0;
          case '<':
            return a < b ? 1 : 0;
          case '>':
            return a > b ? 1 : 0;
          case 'AND':
            return a !== 0 && b !== 0 ? 1 : 0;
          case 'OR':
            return a !== 0 || b !== 0 ? 1 : 0;
          default:
            throw new UnsupportedExpressionError(`metric math "${source}": operator ${n.op} is not simulated`);
        }
      }
      case 'array':
        throw new UnsupportedExpressionError(`metric math "${source}": an array outside MAX or MIN`);
      case 'call': {
        const fn = n.fn.toUpperCase();
        if (fn === 'MAX' || fn === 'MIN') {
          const items = (n.args[0] as { t: 'array'; items: Node[] }).items.map((x) => ev(x, v)).filter((x): x is number => x !== undefined);
          return items.length === 0 ? undefined : fn === 'MAX' ? Math.max(...items) : Math.min(...items);
        }
        if (fn === 'IF') {
          const c = ev(n.args[0], v);
          if (c === undefined) return undefined;
          const branch = c !== 0 ? n.args[1] : n.args[2];
          if (!branch) return undefined;
          const r = ev(branch, v);
          // A true condition with a series lacking the point gives 0; a false one drops it.
          return r === undefined && c !== 0 && series(branch) ? 0 : r;
        }
        const a = ev(n.args[0], v);
        if (fn === 'FILL') return a ?? ev(n.args[1], v);
        if (a === undefined) return undefined;
        return fn === 'ABS' ? Math.abs(a) : fn === 'CEIL' ? Math.ceil(a) : Math.floor(a);
      }
    }
  };
  return { source, ids: [...ids], evaluate: (values) => ev(root, values) };
}
