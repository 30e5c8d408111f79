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

export function formatProblem(p: ConfigProblem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ` : 'inline config ';
  return `${where}${p.path}: ${p.message}${p.fix ? `\n      fix: ${p.fix}` : ''}`;
}

/** JSON path segments to `$.a.b[0]` form; keys that are not identifiers are quoted. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The closest candidate by edit distance, when it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
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
