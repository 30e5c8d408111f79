/**
 * Deterministic evaluators: cheap checks run on every sampled answer, beside the model evaluator. Pure: no SDK, no
 * clock, no network. Each returns 1 (pass) or 0 (fail) with a reason a person can act on.
 */
import type { CriterionScore, DeterministicCheckName, DeterministicChecks, EvaluationSample } from '../shared/evaluation';
import { REFUSAL_CHECK } from '../shared/score-keys';

/**
 * Phrases that mark a refusal in English answers. Substrings, matched case-insensitively after collapsing
 * whitespace. A config can replace the list (`deterministic.refusalPhrases`) for other languages or house style.
 */
export const DEFAULT_REFUSAL_PHRASES: readonly string[] = [
  "i can't help with",
  'i cannot help with',
  "i'm unable to",
  'i am unable to',
  "i can't assist",
  'i cannot assist',
  "i'm not able to",
  'i am not able to',
  "i don't have information",
  'i do not have information',
  "i can't provide",
  'i cannot provide',
  'i must decline',
];

/** Scripts the language check tells apart: enough to catch "asked in Japanese, answered in English". */
const SCRIPTS: readonly { readonly name: string; readonly re: RegExp }[] = [
  { name: 'han', re: /\p{Script=Han}/gu },
  { name: 'kana', re: /[\p{Script=Hiragana}\p{Script=Katakana}]/gu },
  { name: 'hangul', re: /\p{Script=Hangul}/gu },
  { name: 'cyrillic', re: /\p{Script=Cyrillic}/gu },
  { name: 'arabic', re: /\p{Script=Arabic}/gu },
  { name: 'greek', re: /\p{Script=Greek}/gu },
  { name: 'devanagari', re: /\p{Script=Devanagari}/gu },
  { name: 'thai', re: /\p{Script=Thai}/gu },
  { name: 'latin', re: /\p{Script=Latin}/gu },
];

/** One code point's script among SCRIPTS (its index), or -1: letters of other scripts, digits, punctuation. */
function scriptIndexOf(ch: string): number {
  for (let i = 0; i < SCRIPTS.length; i++) {
    const re = SCRIPTS[i].re;
    re.lastIndex = 0;
    if (re.test(ch)) return i;
  }
  return -1;
}

/** Scripts of non-ASCII code points seen (a Script property value never changes): bounded. */
const SCRIPT_CACHE = new Map<number, number>();
const LATIN = SCRIPTS.findIndex((s) => s.name === 'latin');
const KANA = SCRIPTS.findIndex((s) => s.name === 'kana');
const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_LETTER = /[A-Za-z]/;

/**
 * The dominant script of a text (most letters), or undefined for text without letters. One pass over the code
 * points (ASCII letters counted directly, other code points classified once and cached), with the rule the
 * regular-expression count had (test/runtime-checks.test.ts holds the two equal): kana anywhere marks Japanese,
 * otherwise the script with the most letters, the first in SCRIPTS on a tie. Cheap enough for the request path.
 */
export function dominantScript(text: string): string | undefined {
  // All ASCII (most English questions and answers): Latin when there is a letter at all. Two native scans.
  if (!NON_ASCII.test(text)) return ASCII_LETTER.test(text) ? 'latin' : undefined;
  const counts = new Array<number>(SCRIPTS.length).fill(0);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) counts[LATIN]++;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    if (cp > 0xffff) i++;
    let k = SCRIPT_CACHE.get(cp);
    if (k === undefined) {
      k = scriptIndexOf(String.fromCodePoint(cp));
      if (SCRIPT_CACHE.size >= 65_536) SCRIPT_CACHE.clear();
      SCRIPT_CACHE.set(cp, k);
    }
    if (k >= 0) counts[k]++;
  }
  if (counts[KANA] > 0) return 'kana';
  let best: string | undefined;
  let bestCount = 0;
  for (let i = 0; i < SCRIPTS.length; i++) {
    if (counts[i] > bestCount) {
      best = SCRIPTS[i].name;
      bestCount = counts[i];
    }
  }
  return best;
}

/** Compiles the configured forbidden patterns, naming the bad one. Validation at synth calls this too. */
export function compileForbiddenPatterns(patterns: readonly string[]): RegExp[] {
  return patterns.map((p, i) => {
    try {
      return new RegExp(p, 'iu');
    } catch (e) {
      throw new Error(
        `evaluation.deterministic.forbiddenPatterns[${i}]: ${JSON.stringify(p)} is not a valid regular expression (${(e as Error).message}); fix or remove it`,
      );
    }
  });
}

/**
 * A filter that every answer `isRefusal` would flag passes (no false negatives): each phrase with its letters matched
 * case-insensitively, each apostrophe as any of ' ’ ‘ and each run of whitespace as \s+. The request path runs the
 * exact test only on answers it passes (almost none).
 */
export function refusalFilter(phrases: readonly string[]): RegExp | undefined {
  // An empty phrase is in every answer (isRefusal flags them all): so does the filter.
  if (phrases.some((p) => p === '')) return /(?:)/u;
  const parts = phrases
    .map((p) => p.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' '))
    .map((p) =>
      [...p]
        .map((ch) => (ch === "'" ? "['’‘]" : ch === ' ' ? '\\s+' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
        .join('')
        .replace(/(\\s\+)+/g, '\\s+'),
    );
  return parts.length > 0 ? new RegExp(parts.join('|'), 'iu') : undefined;
}

export function isRefusal(answer: string, phrases: readonly string[] = DEFAULT_REFUSAL_PHRASES): string | undefined {
  const text = answer.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ');
  return phrases.find((p) => text.includes(p.toLowerCase()));
}

/** Whether the question's and the answer's dominant scripts agree (Han and kana count as one: Japanese mixes them). */
export function languageMatches(input: string, answer: string): { readonly pass: boolean; readonly q?: string; readonly a?: string } {
  const q = dominantScript(input);
  const a = dominantScript(answer);
  const pass = q === undefined || a === undefined || q === a || (q === 'han' && a === 'kana') || (q === 'kana' && a === 'han');
  return { pass, q, a };
}

/**
 * A section's checks made ready once (patterns compiled, phrases lower-cased), for code that checks many answers with
 * one config: the runtime, on the request path (lambda/runtime/runtime-checks.ts).
 */
export interface PreparedChecks {
  readonly citationValidity: boolean;
  readonly languageMatch: boolean;
  readonly refusalPhrases: readonly string[];
  /** refusalFilter(refusalPhrases): undefined when there are none (nothing is a refusal). */
  readonly refusalFilter?: RegExp;
  readonly minChars?: number;
  readonly maxChars?: number;
  readonly forbidden: readonly RegExp[];
}

export function prepareChecks(checks: DeterministicChecks = {}): PreparedChecks {
  const phrases = (checks.refusalPhrases ?? DEFAULT_REFUSAL_PHRASES).map((p) => p.toLowerCase());
  const filter = refusalFilter(phrases);
  return {
    citationValidity: checks.citationValidity !== false,
    languageMatch: checks.languageMatch !== false,
    refusalPhrases: phrases,
    ...(filter ? { refusalFilter: filter } : {}),
    ...(checks.minChars !== undefined ? { minChars: checks.minChars } : {}),
    ...(checks.maxChars !== undefined ? { maxChars: checks.maxChars } : {}),
    forbidden: checks.forbiddenPatterns?.length ? compileForbiddenPatterns(checks.forbiddenPatterns) : [],
  };
}

/**
 * The checks' outcomes only (1 pass, 0 fail), without reasons: the same rules as `runDeterministicChecks`, which test
 * /evaluation-pure.test.ts holds equal on a corpus. `only`: the checks to run (the enabled ones are run otherwise).
 */
export function checkOutcomes(
  p: PreparedChecks,
  sample: {
    readonly input: string;
    readonly answer: string;
    readonly passages: readonly { readonly id: string }[];
    readonly citations: readonly string[];
  },
  only?: readonly DeterministicCheckName[],
): Record<string, 0 | 1> {
  const out: Record<string, 0 | 1> = {};
  const want = (c: DeterministicCheckName) => only === undefined || only.includes(c);
  if (p.citationValidity && want('citation-validity')) {
    let ok = true;
    for (const c of sample.citations) {
      let found = false;
      for (const q of sample.passages)
        if (q.id === c) {
          found = true;
          break;
        }
      if (!found) {
        ok = false;
        break;
      }
    }
    out['citation-validity'] = ok ? 1 : 0;
  }
  if (want(REFUSAL_CHECK)) out[REFUSAL_CHECK] = p.refusalFilter?.test(sample.answer) && isRefusal(sample.answer, p.refusalPhrases) !== undefined ? 0 : 1;
  if (p.languageMatch && want('language-match')) out['language-match'] = languageMatches(sample.input, sample.answer).pass ? 1 : 0;
  if ((p.minChars !== undefined || p.maxChars !== undefined) && want('length')) {
    // Code points are at most the UTF-16 length and at least half of it: most answers are decided without counting.
    const u = sample.answer.length;
    const n = (p.minChars === undefined || u / 2 >= p.minChars) && (p.maxChars === undefined || u <= p.maxChars) ? u : codePoints(sample.answer);
    out.length = (p.minChars !== undefined && n < p.minChars) || (p.maxChars !== undefined && n > p.maxChars) ? 0 : 1;
  }
  if (p.forbidden.length > 0 && want('forbidden-pattern')) out['forbidden-pattern'] = p.forbidden.some((re) => re.test(sample.answer)) ? 0 : 1;
  return out;
}

/** Characters as the length check counts them (code points, as `[...text].length`), without building the array. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Runs every enabled deterministic check on one sample. */
export function runDeterministicChecks(
  sample: Pick<EvaluationSample, 'input' | 'answer' | 'passages' | 'citations'>,
  checks: DeterministicChecks = {},
): CriterionScore[] {
  const out: CriterionScore[] = [];
  const d = (criterion: CriterionScore['criterion'], pass: boolean, reason: string): void => {
    out.push({ criterion, score: pass ? 1 : 0, reason, source: 'deterministic' });
  };
  if (checks.citationValidity !== false) {
    const known = new Set(sample.passages.map((p) => p.id));
    const unknown = sample.citations.filter((c) => !known.has(c));
    d(
      'citation-validity',
      unknown.length === 0,
      unknown.length ? `cites passages that were not retrieved: ${unknown.join(', ')}` : `${sample.citations.length} citation(s), all retrieved`,
    );
  }
  const refusal = isRefusal(sample.answer, checks.refusalPhrases ?? DEFAULT_REFUSAL_PHRASES);
  // A refusal is not a failure by itself (some questions must be refused); it is scored so its rate can be compared.
  d(REFUSAL_CHECK, refusal === undefined, refusal ? `refusal phrase "${refusal}"` : 'not a refusal');
  if (checks.languageMatch !== false) {
    const { pass, q, a } = languageMatches(sample.input, sample.answer);
    d('language-match', pass, pass ? `script ${a ?? 'none'}` : `question in ${q} script, answer in ${a}`);
  }
  if (checks.minChars !== undefined || checks.maxChars !== undefined) {
    const n = [...sample.answer].length;
    const low = checks.minChars !== undefined && n < checks.minChars;
    const high = checks.maxChars !== undefined && n > checks.maxChars;
    d(
      'length',
      !low && !high,
      low ? `${n} characters, under the minimum ${checks.minChars}` : high ? `${n} characters, over the maximum ${checks.maxChars}` : `${n} characters`,
    );
  }
  if (checks.forbiddenPatterns?.length) {
    const res = compileForbiddenPatterns(checks.forbiddenPatterns);
    const hit = res.findIndex((re) => re.test(sample.answer));
    d('forbidden-pattern', hit < 0, hit < 0 ? 'no forbidden pattern' : `matches forbidden pattern ${hit} (${checks.forbiddenPatterns[hit]})`);
  }
  return out;
}
