/** One thing wrong with a release config, located as precisely as the source allows. */
export interface ConfigProblem {
  /** The file it came from; absent for inline objects. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** JSON path within the whole release config, e.g. `$.model.pricing.inputPer1kTokensUsd`. */
  readonly path: string;
  /** What is wrong, including what was expected. */
  readonly message: string;
  /** How to fix it, where that is not obvious from the message. */
  readonly fix?: string;
}

/** How many problems a report lists before it says "and N more": enough to fix a batch, short enough to read. */
export const MAX_LISTED_PROBLEMS = 50;

export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ` : 'inline config ';
  return `${where}${p.path}: ${p.message}${p.fix ? `\n      fix: ${p.fix}` : ''}`;
}

/** A numbered list of problems, capped at `max` with a count of the rest, so 80k problems stay one screen. */
export function formatProblems(problems: readonly ConfigProblem[], max = MAX_LISTED_PROBLEMS): string {
  const lines = problems.slice(0, max).map((p, i) => `  ${i + 1}) ${formatProblem(p)}`);
  if (problems.length > max) lines.push(`  … and ${problems.length - max} more problem${problems.length - max === 1 ? '' : 's'}`);
  return lines.join('\n');
}

// Characters a reader cannot see or tell apart from a space: controls, format characters (zero-width space,
// joiners, BOM, bidi controls), line/paragraph separators and non-ASCII spaces.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;
const INVISIBLE_TEST = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** Whether a string holds a character a reader cannot see (tab and newline included). */
export function hasInvisible(s: string): boolean {
  return INVISIBLE_TEST.test(s);
}

/** A string as a quoted literal with invisible characters escaped (`"na\u200bme"`), cut at `max` characters. */
export function showText(s: string, max = 40): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return `"${cut.replace(/["\\]/g, (c) => `\\${c}`).replace(INVISIBLE, (c) => escapeChar(c))}"`;
}

function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;
}

/** JSON path segments to `$.a.b[0]` form; keys that are not identifiers are quoted, invisible characters escaped. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += `.${s}`;
    else out += `[${showText(s, 80)}]`;
  }
  return out;
}

/** The closest candidate by edit distance, when it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[], maxDistance?: number): string | undefined {
  // An invisible character is a typo nobody can see: compare without them.
  const visible = word.replace(INVISIBLE, '');
  if (visible.length > 100) return undefined; // edit distance is quadratic; no key that long is a typo of ours
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(visible.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= (maxDistance ?? Math.max(2, Math.floor(visible.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
