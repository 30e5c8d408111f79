import { textScanners } from '../lambda/runtime/redact';

/**
 * Linear-time redaction, checked on the shape of every regular expression that scans a whole text (the speed itself
 * is measured by bench/redact.ts, not here). A backtracking engine goes super-linear in two ways, and each rule
 * below closes one:
 * - nested unbounded repetition (`(a+)+`, `(?:\.[a-z]+)*\.[a-z]{2,}`): exponential or polynomial backtracking.
 *   Rule 1: no unbounded quantifier inside a repeated group. Rule 2: what an unbounded quantifier repeats is one
 *   character, or a group of alternatives at most two characters wide (`(?:[^"\\]|\\.)+`), so it can only be
 *   consumed one way.
 * - a run scanned again from every position inside it (today's email pattern on 64 KB of letters: 3.8 s).
 *   Rule 3: each alternative starts either behind a negative lookbehind that forbids every character its first
 *   step can consume (a run of those characters starts one attempt, at its first character), or on a rare anchor
 *   (a character class of at most three characters: "@", "://", "-----BEGIN", ":" or "=") whose literal prefix
 *   no unbounded run of the pattern can consume whole (so no attempt scans past the next attempt's start).
 */

interface Quant {
  min: number;
  max: number;
}
type Node =
  | { kind: 'char'; src: string; quant?: Quant }
  | { kind: 'zero'; src: string; quant?: Quant }
  | { kind: 'backref'; src: string; quant?: Quant }
  | { kind: 'group'; type: 'cap' | ':' | '=' | '!' | '<=' | '<!'; alts: Node[][]; src: string; quant?: Quant };

function parse(src: string): Node[][] {
  let i = 0;
  const alternatives = (): Node[][] => {
    const alts: Node[][] = [[]];
    while (i < src.length && src[i] !== ')') {
      if (src[i] === '|') {
        i++;
        alts.push([]);
        continue;
      }
      const node = atom();
      const q = quant();
      if (q) node.quant = q;
      alts[alts.length - 1].push(node);
    }
    return alts;
  };
  const atom = (): Node => {
    const start = i;
    const c = src[i];
    if (c === '(') {
      i++;
      let type: 'cap' | ':' | '=' | '!' | '<=' | '<!' = 'cap';
      for (const [prefix, t] of [
        ['?:', ':'],
        ['?=', '='],
        ['?!', '!'],
        ['?<=', '<='],
        ['?<!', '<!'],
      ] as const) {
        if (src.startsWith(prefix, i)) {
          type = t;
          i += prefix.length;
          break;
        }
      }
      if (type === 'cap' && src.startsWith('?<', i)) i = src.indexOf('>', i) + 1; // named group
      const alts = alternatives();
      if (src[i] !== ')') throw new Error(`unbalanced group in ${src}`);
      i++;
      return { kind: 'group', type, alts, src: src.slice(start, i) };
    }
    if (c === '[') {
      i++;
      if (src[i] === '^') i++;
      if (src[i] === ']') i++;
      while (src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
      return { kind: 'char', src: src.slice(start, i) };
    }
    if (c === '\\') {
      const e = src[i + 1];
      i += 2;
      if (e === 'k') {
        i = src.indexOf('>', i) + 1;
        return { kind: 'backref', src: src.slice(start, i) };
      }
      if (/[1-9]/.test(e)) return { kind: 'backref', src: src.slice(start, i) };
      if (e === 'b' || e === 'B') return { kind: 'zero', src: src.slice(start, i) };
      if (e === 'u') i += 4;
      if (e === 'x') i += 2;
      return { kind: 'char', src: src.slice(start, i) };
    }
    i++;
    return c === '^' || c === '$' ? { kind: 'zero', src: c } : { kind: 'char', src: c };
  };
  const quant = (): Quant | undefined => {
    let q: Quant | undefined;
    const m = /^(?:\*|\+|\?|\{(\d+)(,(\d*))?\})/.exec(src.slice(i));
    if (!m) return undefined;
    if (m[0] === '*') q = { min: 0, max: Number.POSITIVE_INFINITY };
    else if (m[0] === '+') q = { min: 1, max: Number.POSITIVE_INFINITY };
    else if (m[0] === '?') q = { min: 0, max: 1 };
    else q = { min: Number(m[1]), max: m[2] ? (m[3] ? Number(m[3]) : Number.POSITIVE_INFINITY) : Number(m[1]) };
    i += m[0].length;
    if (src[i] === '?') i++; // lazy
    return q;
  };
  const alts = alternatives();
  if (i !== src.length) throw new Error(`unbalanced ) in ${src}`);
  return alts;
}

const isZeroWidth = (n: Node) => n.kind === 'zero' || (n.kind === 'group' && n.type !== 'cap' && n.type !== ':');
const unbounded = (n: Node) => n.quant?.max === Number.POSITIVE_INFINITY;

/** Widest string a node matches once (ignoring its own quantifier); Infinity if unbounded. */
function width(n: Node): number {
  if (isZeroWidth(n)) return 0;
  if (n.kind !== 'group') return n.kind === 'backref' ? Number.POSITIVE_INFINITY : 1;
  return Math.max(...n.alts.map((seq) => seq.reduce((sum, m) => sum + width(m) * (m.quant?.max ?? 1), 0)));
}

function walk(seqs: Node[][], visit: (n: Node, insideRepeat: boolean) => void, insideRepeat = false): void {
  for (const seq of seqs)
    for (const n of seq) {
      visit(n, insideRepeat);
      if (n.kind === 'group') walk(n.alts, visit, insideRepeat || (n.quant?.max ?? 1) > 1);
    }
}

// The characters a test can tell apart: ASCII, Latin-1, and a few others the rules name (…, CJK, full-width colon).
const SAMPLE = [...Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)), '…', '电', '：', '\u2028'];
const charsOf = (src: string, flags: string) => {
  const re = new RegExp(`^(?:${src})$`, flags.replace(/[gy]/g, ''));
  return new Set(SAMPLE.filter((c) => re.test(c)));
};

/** Characters the first consuming step of a sequence can match. */
function firstChars(seq: Node[], flags: string): Set<string> {
  const out = new Set<string>();
  for (const n of seq) {
    if (isZeroWidth(n)) continue;
    if (n.kind === 'char') for (const c of charsOf(n.src, flags)) out.add(c);
    else if (n.kind === 'group') for (const alt of n.alts) for (const c of firstChars(alt, flags)) out.add(c);
    else for (const c of SAMPLE) out.add(c); // a back-reference could start with anything
    if ((n.quant?.min ?? 1) > 0) break;
  }
  return out;
}

/** The literal text an alternative starts with (after zero-width steps), e.g. "-----BEGIN ". */
function literalPrefix(seq: Node[]): string {
  let out = '';
  for (const n of seq) {
    if (isZeroWidth(n) && out === '') continue;
    if (n.kind !== 'char' || n.quant || n.src.startsWith('[') || n.src === '.' || /^\\[dDwWsS]/.test(n.src)) break;
    out += n.src.startsWith('\\') ? n.src.slice(1) : n.src;
  }
  return out;
}

const scanners = textScanners().map((s) => ({ ...s, tree: parse(s.source) }));

describe('redaction patterns are linear by construction', () => {
  test('every scanner parses', () => {
    expect(scanners.length).toBeGreaterThan(20);
    for (const s of scanners) expect(s.tree.flat().length).toBeGreaterThan(0);
  });

  test.each(scanners.map((s) => [s.rule, s.source, s.tree] as const))('rule 1, 2: no nested or ambiguous unbounded repetition: %s %s', (_rule, _src, tree) => {
    walk(tree, (n, insideRepeat) => {
      if (!unbounded(n)) return;
      expect({ insideRepeat, at: n.src }).toEqual({ insideRepeat: false, at: n.src });
      expect({ width: width(n) <= 2, at: n.src }).toEqual({ width: true, at: n.src });
      if (n.kind === 'group')
        walk(n.alts, (inner) => expect({ quantifiedInside: (inner.quant?.max ?? 1) > 1, at: n.src }).toEqual({ quantifiedInside: false, at: n.src }));
    });
  });

  test.each(scanners.filter((s) => !s.sticky).map((s) => [s.rule, s.source, s.tree, s.flags] as const))(
    'rule 3: each alternative starts behind a covering lookbehind or on a rare anchor: %s %s',
    (_rule, _src, tree, flags) => {
      for (const seq of tree) {
        const first = seq[0];
        if (first.kind === 'group' && first.type === '<!') {
          // The lookbehind's one-character alternatives must forbid everything the first step consumes.
          const forbidden = new Set<string>();
          for (const alt of first.alts) if (alt.length === 1 && alt[0].kind === 'char') for (const c of charsOf(alt[0].src, flags)) forbidden.add(c);
          const missing = [...firstChars(seq.slice(1), flags)].filter((c) => !forbidden.has(c));
          expect({ lookbehind: first.src, missing }).toEqual({ lookbehind: first.src, missing: [] });
          continue;
        }
        const anchor = firstChars(seq, flags);
        expect({ anchor: [...anchor], narrow: anchor.size <= 3 }).toEqual({ anchor: [...anchor], narrow: true });
        // No unbounded run of the alternative can consume the anchor's literal prefix whole.
        const prefix = literalPrefix(seq) || [...anchor][0];
        walk([seq], (n) => {
          if (!unbounded(n)) return;
          const body = n.kind === 'group' ? n.src.replace(/^\((?:\?:|\?<\w+>)?/, '(?:') : n.src;
          expect({ run: n.src, eatsPrefix: new RegExp(`^(?:${body})+$`, flags.replace(/[gy]/g, '')).test(prefix) }).toEqual({ run: n.src, eatsPrefix: false });
        });
      }
    },
  );

  test('the checker catches the shapes it is meant to catch', () => {
    const violations = (source: string, flags = '') => {
      const tree = parse(source);
      const found: string[] = [];
      walk(tree, (n, inside) => {
        if (unbounded(n) && (inside || width(n) > 2)) found.push(n.src);
      });
      for (const seq of tree) {
        const first = seq[0];
        if (first.kind === 'group' && first.type === '<!') {
          const forbidden = charsOf(first.alts[0][0].src, flags);
          if ([...firstChars(seq.slice(1), flags)].some((c) => !forbidden.has(c))) found.push(first.src);
        } else if (firstChars(seq, flags).size > 3) found.push('unanchored');
      }
      return found;
    };
    // The email pattern this issue replaced: unanchored, with a repeated unbounded label.
    expect(violations(String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)).toEqual([
      String.raw`(?:\.[A-Za-z0-9-]+)`,
      '[A-Za-z0-9-]',
      'unanchored',
    ]);
    expect(violations('(a+)+b')).toEqual(['(a+)', 'a']);
    expect(violations(String.raw`(?<![a-z])\d+`)).toEqual(['(?<![a-z])']);
    expect(violations(String.raw`(?<![\w-])\d{3,6}(?:[ -]\d{3,6}){2,5}`)).toEqual([]);
  });
});
