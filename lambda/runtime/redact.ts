import { SECRET_PATTERNS } from '../shared/secrets';

/**
 * Removes personal data and credentials from text before it leaves the request path (logs, failure records, and
 * later S3). Pure and synchronous. Runs on every failing request, so:
 * - a few passes, each one regular expression compiled once at module load (never per call);
 * - checksums (Luhn, ISO 7064 MOD 11-2, IBAN mod-97, SSN area rules) run in callbacks on bounded candidates;
 * - every pattern is linear: each starts behind a negative lookbehind that forbids the characters its first run
 *   consumes (so a run of those characters starts one attempt, not one per character), and its repeated parts are
 *   either bounded or consumed once (test/redact-linear.test.ts checks the shape; bench/redact.ts measures it).
 */

export interface RedactionPattern {
  /** Name shown in the replacement: `[REDACTED:NAME]`. */
  readonly name: string;
  /** Must be global (`g`). */
  readonly pattern: RegExp;
  /** Optional check on a match (e.g. Luhn); a match it rejects is kept. */
  readonly accept?: (match: string) => boolean;
}

export type Redactor = (text: string) => string;

/** What a built-in rule redacts: [from, to) in the text (it may reach before the match), or undefined to keep it. */
type Span = readonly [number, number] | undefined;

interface Rule {
  readonly name: string;
  readonly source: string;
  /**
   * Where in the match the secret is, e.g. after a kept key name, or only the valid prefix of a longer digit run.
   * Rules with a check are bounded in length: after a rejection the search resumes one character later.
   */
  readonly span?: (m: RegExpExecArray, text: string) => Span;
}

interface Pass {
  readonly regex: RegExp;
  readonly rules: readonly { readonly rule: Rule; readonly group: number }[];
  /**
   * A necessary condition for any rule of the pass to redact something (h9-hotpath): when it is false the pass cannot
   * change the text and is not run. `facts` are of the text before the first pass; see textFacts for why they hold for
   * every later pass's input too.
   */
  readonly mayRedact?: (text: string, facts: TextFacts) => boolean;
}

/** A check on the matched text alone, with offsets relative to the match. */
const within =
  (check: (match: string) => readonly [number, number] | undefined) =>
  (m: RegExpExecArray): Span => {
    const r = check(m[0]);
    return r && [m.index + r[0], m.index + r[1]];
  };

/** The replacement, also a guard: no rule matches inside one (redaction is idempotent). */
const marker = (name: string) => `[REDACTED:${name}]`;
const NOT_A_MARKER = String.raw`(?!\[REDACTED:)`;

// ---------------------------------------------------------------------------------------------------------------
// Credentials by format (shared with the synth-time config scan), and runtime-only ones.

const SHARED: Rule[] = SECRET_PATTERNS.map((p) => ({
  name: p.id === 'aws-access-key-id' ? 'AWS_KEY' : 'SECRET',
  source: p.pattern.source,
  // A URL keeps its scheme separator and host: only user:password between "://" and "@" goes.
  ...(p.id === 'url-credentials' ? { span: within((m) => [3, m.length - 1]) } : {}),
}));
const SHARED_FLAGS = new Map(SECRET_PATTERNS.map((p) => [p.pattern.source, p.pattern.flags]));

const JWT: Rule = {
  name: 'JWT',
  source: String.raw`(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}`,
};

/**
 * The start of a token whose prefix gives it away, cut short: in a parser's error snippet, before a truncation
 * ellipsis, or mangled. The full-length patterns above need the whole token; these need 8 characters after the prefix.
 */
const PARTIAL_TOKEN: Rule = {
  name: 'SECRET',
  source: String.raw`(?<![A-Za-z0-9_+/-])(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{8,15}(?![A-Z0-9])|(?:gh[pousr]_|github_pat_|xox[abprs]-|sk-ant-|sk-proj-|[sr]k_live_|AIza)[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{16,}|MII[A-Za-z0-9+/]{60,}(?:[A-Za-z0-9+/=]|\\[nr]|\r?\n)*)`,
};

/** `Bearer <token>` without its header name (a log line, a curl command). */
const BEARER: Rule = { name: 'SECRET', source: String.raw`(?<![A-Za-z0-9_-])[Bb]earer[ \t]+${NOT_A_MARKER}[A-Za-z0-9._~+/-]{8,}=*` };

/** `Basic <base64 of user:password>`; the decoded value must look like credentials, so "Basic plan" survives. */
const BASIC: Rule = {
  name: 'SECRET',
  source: String.raw`(?<![A-Za-z0-9_-])[Bb]asic[ \t]+[A-Za-z0-9+/]{4,1024}={0,2}(?![A-Za-z0-9+/=])`,
  span: within((m) => {
    const at = m.search(/[ \t][A-Za-z0-9+/]/) + 1;
    return isBasicCredentials(m.slice(at)) ? [at, m.length] : undefined;
  }),
};

/**
 * V8's JSON.parse message quotes up to ~21 characters of the input around the bad token ("Unexpected token 'A',
 * ..."{"k":AKIAIOSFOD"... is not valid JSON"): a piece of a value cut at both ends, which no checksum can recognise.
 * The quoted piece goes; the message keeps the token and its shape.
 */
const JSON_SNIPPET: Rule = {
  name: 'SNIPPET',
  // The quotes may come escaped (`\"`, up to 3 backslashes): the message inside a JSON-encoded input, as an evaluation
  // sample or failure record carries it (`{"question":"… ...\"…\"... is not valid JSON"}`).
  source: String.raw`Unexpected token '[^]{1,2}', (?:\.\.\.)?\\{0,3}"[^]{1,64}?(?=\\{0,3}"(?:\.\.\.)? is not valid JSON)`,
  span: within((m) => {
    const at = m.indexOf('"', m.indexOf("', ") + 3) + 1;
    return at > 0 && at < m.length ? [at, m.length] : undefined;
  }),
};

/**
 * Digit runs touching a cut ("…4111 1111 11", "1111 1111..."): a partial card or id number no checksum can see.
 * Anchored on the ellipsis (rare), the digits on either side are found by a bounded scan.
 */
const PARTIAL_DIGITS: Rule = {
  name: 'PARTIAL',
  source: String.raw`(?:…|\.\.\.)(?:(?<=\d[ -]?(?:…|\.\.\.))|(?=[ -]?\d))`,
  span: (m, text) => {
    let from = m.index;
    let to = m.index + m[0].length;
    const before = digitRun(text, from, -1);
    const after = digitRun(text, to, 1);
    if (before.digits < 6 && after.digits < 6) return undefined;
    if (before.digits >= 6) from = before.edge;
    if (after.digits >= 6) to = after.edge;
    return [from, to];
  },
};

/** The digits (single spaces or dashes between them, at most 60 characters) next to `at`, going `dir`. */
function digitRun(text: string, at: number, dir: 1 | -1): { digits: number; edge: number } {
  let digits = 0;
  let edge = at;
  for (let i = dir === 1 ? at : at - 1, n = 0; i >= 0 && i < text.length && n < 60; i += dir, n++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      edge = dir === 1 ? i + 1 : i;
    } else if (c !== 32 && c !== 45) break;
  }
  return { digits, edge };
}

/**
 * A value after a key that names a secret, as text, query strings, headers, YAML or JSON (also escaped once or twice
 * inside a stringified body): `password=…`, `"db_password": "…"`, `x-api-key: …`, `\"SecretAccessKey\":\"…\"`,
 * `Authorization: Basic …`, `cookie: …`. The key stays, the value goes. A quoted value runs to its closing quote
 * (passwords and cookies contain spaces and `;`), an unquoted one to the next space or delimiter.
 *
 * Anchored on the separator (":" or "="): the key before it is read by a bounded scan back and checked by name, and
 * only then is the value read, once. So a JSON document or "a:a:a:…" costs one short look back per separator.
 */
const KEYED_SECRET: Rule = {
  name: 'SECRET',
  // The look back is a cheap filter: every secret key name ends in d, e, n, t or y (password, cookie, token, secret,
  // key), so most separators (times, URLs, "a:1") never reach the callback.
  source: String.raw`[:=](?<=[DdEeNnTtYy](?:\\{0,4}["'])?[ \t]{0,8}[:=])`,
  span: (m, text) => {
    if (!secretKeyBefore(text, m.index)) return undefined;
    KEYED_VALUE.lastIndex = m.index + 1;
    const v = KEYED_VALUE.exec(text);
    return v ? [m.index + 1 + v[0].length - v[1].length, m.index + 1 + v[0].length] : undefined;
  },
};
/** Key names (the whole key, any case): a prefix such as `db_`, `x-`, `aws_session_` or `client` is allowed. */
const SECRET_KEY =
  /^(?:[a-z0-9_.-]{0,32}?(?:password|passwd|passphrase|secret|secret[_-]?key|api[_-]?key|apikey|private[_-]?key|access[_-]?key|signature|authorization|(?:access|auth|refresh|session|security|bearer|id|api|oauth|csrf|xsrf)[_-]?token)|token|pwd|cookie|set-cookie)$/i;
/** Cheap filter before SECRET_KEY: every secret key name contains one of these (lower case). */
const SECRET_KEY_HINTS = ['pass', 'secret', 'key', 'token', 'auth', 'sign', 'pwd', 'cookie'];
/** After the separator: spaces, an optional (escaped) opening quote, then the value (group 1). */
const KEYED_VALUE = new RegExp(
  String.raw`[ \t]{0,8}(?:\\{0,4}["'])?(${NOT_A_MARKER}(?:(?<=")(?:[^"\\\r\n]|\\[^"\r\n])+|(?<=')[^'\r\n]+|(?<![\\"'])(?!(?:Bearer|Basic|Token|Digest|Negotiate)[ \t]+\[REDACTED:)(?:(?:Bearer|Basic|Token|Digest|Negotiate)[ \t]+)?[^\s"'\\,;&{[]+))`,
  'y',
);

/** Is the text before a separator at `sep` a secret's key name (`password`, `"db_password"`, `\"x-api-key\"`)? */
function secretKeyBefore(text: string, sep: number): boolean {
  let i = sep;
  for (let n = 0; n < 8 && i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t'); n++) i--;
  if (i > 0 && (text[i - 1] === '"' || text[i - 1] === "'")) i--;
  for (let n = 0; n < 4 && i > 0 && text[i - 1] === '\\'; n++) i--;
  const end = i;
  while (i > 0 && end - i < 64 && KEY_CHARS.has(text.charCodeAt(i - 1))) i--;
  if (i === end || (i > 0 && KEY_CHARS.has(text.charCodeAt(i - 1)))) return false;
  // A segment of an ARN or a path ("…:secret:prod/db", "/token:"), not a key.
  if (i > 0 && (text[i - 1] === ':' || text[i - 1] === '/')) return false;
  const key = text.slice(i, end).toLowerCase();
  return SECRET_KEY_HINTS.some((h) => key.includes(h)) && SECRET_KEY.test(key);
}
const KEY_CHARS = new Set(Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-', (c) => c.charCodeAt(0)));

// ---------------------------------------------------------------------------------------------------------------
// Personal data.

const EMAIL: Rule = {
  name: 'EMAIL',
  // Anchored on "@" (rare), so a long run of letters costs nothing; the local part (RFC 5321: at most 64) is found
  // by a bounded scan back. Domain labels <= 63, at most 8 of them.
  source: String.raw`@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}`,
  span: (m, text) => {
    let from = m.index;
    while (from > 0 && m.index - from < 64 && LOCAL_PART.has(text.charCodeAt(from - 1))) from--;
    return from < m.index ? [from, m.index + m[0].length] : undefined;
  },
};
const LOCAL_PART = new Set(Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-', (c) => c.charCodeAt(0)));

/** IBAN: country, 2 check digits, 11–30 more, compact or in groups of 4. Length per country, then mod-97. */
const IBAN: Rule = {
  name: 'IBAN',
  source: String.raw`(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])`,
  span: within((m) => {
    const length = IBAN_LENGTHS[m.slice(0, 2).toUpperCase()];
    if (!length) return undefined;
    // The IBAN is the first `length` letters and digits; the rest of the match is a following word.
    let seen = 0;
    let end = 0;
    while (end < m.length && seen < length) if (m[end++] !== ' ') seen++;
    if (seen < length || (end < m.length && m[end] !== ' ')) return undefined;
    return ibanValid(m.slice(0, end)) ? [0, end] : undefined;
  }),
};

/** US SSN, dashed or spaced, with the SSA's never-issued areas (000, 666, 900–999), group 00 and serial 0000 excluded. */
const SSN: Rule = {
  name: 'SSN',
  // Spaced, it must not be part of a longer spaced digit run; dashed, a number after a space is another value.
  source: String.raw`(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])|(?<![\w-]|\d )\d{3} \d{2} \d{4}(?![\w-]| \d)`,
  span: within((m) => (ssnValid(m) ? [0, m.length] : undefined)),
};

/**
 * 13–19 digits, compact or in groups of 3–6 split by single spaces or dashes (4-4-4-4, 4-6-5, 4-4-4-4-3): a card
 * number if it passes Luhn. 18 characters ending in a digit or X: a PRC resident identity number if its region, birth
 * date and ISO 7064 MOD 11-2 check digit hold. A grouped run that fails is tried at each shorter group boundary.
 */
const DIGITS: Rule = {
  name: 'CARD',
  // Not \w-bounded: "card_4111…" and "E_CARD_4111…" put an underscore, a word character, right before the number.
  source: String.raw`(?<![A-Za-z0-9-])(?:\d{17}[Xx]|\d{13,19}|\d{3,6}(?:[ -]\d{3,6}){2,5})(?![A-Za-z0-9-])`,
  span: within((m) => {
    for (let end = m.length; end > 0; end = lastGroupEnd(m, end)) {
      const digits = m.slice(0, end).replace(/[ -]/g, '');
      // 18 digits with a PRC region and birth date are an identity number or nothing: Luhn does not apply to them
      // (one random number in ten passes Luhn; 18-digit cards are rare).
      if (digits.length === 18 && prcShaped(digits)) {
        if (prcIdValid(digits)) return [0, end];
        continue;
      }
      if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return [0, end];
      if (digits.length < 13) break;
    }
    return undefined;
  }),
};

/** Names the rule a DIGITS span satisfied; kept apart so the rule stays one alternative. */
const digitsName = (text: string) => (text.replace(/[ -]/g, '').length === 18 && prcIdValid(text.replace(/[ -]/g, '')) ? 'NATIONAL_ID' : 'CARD');

const IPV4_OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4: Rule = {
  name: 'IP',
  // Not after a word character or a dot (v1.2.3.4, 10.0.19045.3803), but a sentence may end right after it.
  source: String.raw`(?<![\w.])${IPV4_OCTET}(?:\.${IPV4_OCTET}){3}(?![\w]|\.\d)`,
};

// Full or compressed IPv6: at least three groups and either "::" or eight groups, so clock times survive. The
// candidate is a run of hex digits and colons with a colon in its first five characters (cheap to reject); the shape
// is checked on the candidate alone.
const H = '[0-9A-Fa-f]{1,4}';
const IPV6_SHAPE = new RegExp(
  `^(?:(?:${H}:){7}${H}|(?:${H}:){1,7}:|(?:${H}:){1,6}:${H}|(?:${H}:){1,5}(?::${H}){1,2}|(?:${H}:){1,4}(?::${H}){1,3}|(?:${H}:){1,3}(?::${H}){1,4}|(?:${H}:){1,2}(?::${H}){1,5}|${H}:(?::${H}){1,6}|:(?::${H}){1,7})$`,
);
const IPV6: Rule = {
  name: 'IP',
  source: String.raw`(?<![\w:])(?=[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}(?![\w:])`,
  span: within((m) => ((m.includes('::') || m.split(':').length === 8) && IPV6_SHAPE.test(m) ? [0, m.length] : undefined)),
};

/**
 * Phone numbers in a phone's shape, each shape one bounded alternative (dates, times, versions, zip+4 and bare digit
 * runs have none), with 8–15 digits (E.164). An international number may swallow a following group: the longest
 * prefix with at most 15 digits is kept.
 */
// Not followed by more digits after a dot or dash (a longer number); after a space they are another value.
const PHONE_END = String.raw`(?![\w]|[.-]\d)`;
const PHONE: Rule = {
  name: 'PHONE',
  source: [
    // +CC, an optional (area), groups after single separators, or all digits: +1 (415) 555-0132, +44 20 7946 0958, +33123456789
    String.raw`(?<![\w+])\+\d{1,3}(?:(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{1,8}){1,6}|\d{6,14})(?!\w)`,
    // (area) number: (202) 555-0142, (020) 7946 0958, (010) 12345678
    String.raw`(?<![\w(])\(\d{2,5}\)[ .-]?\d{3,4}(?:[ .-]?\d{3,4})?${PHONE_END}`,
    // North American 3-3-4, one kind of separator: 202-555-0142, 202.555.0142
    String.raw`(?<![\w.(+-])\d{3}(?<nanp>[ .-])\d{3}\k<nanp>\d{4}${PHONE_END}`,
    // Chinese mobile: 13800138000, 138 0013 8000, 138-0013-8000
    String.raw`(?<![\w.(+-])1[3-9]\d(?:\d{8}|(?<cnm>[ -])\d{4}\k<cnm>\d{4})${PHONE_END}`,
    // Trunk 0, area code, subscriber number: 010-12345678, 0755-1234567, 020 7946 0958 (10+ digits, so not a zip+4)
    String.raw`(?<![\w.(+-])0\d{1,3}(?<trunk>[ -])\d{3,4}(?:\k<trunk>?\d{3,4})${PHONE_END}`,
  ].join('|'),
  span: within((m) => {
    for (let end = m.length; end > 0; end = lastGroupEnd(m, end)) {
      const digits = m.slice(0, end).replace(/\D/g, '').length;
      if (digits < 8) break;
      if (digits <= 15 && (m[0] !== '0' || digits >= 10)) return [0, end];
    }
    return undefined;
  }),
};

/** End of the previous digit group before `end` in a candidate (the index of the separator run), or 0. */
function lastGroupEnd(m: string, end: number): number {
  let i = end - 1;
  while (i > 0 && /[\dXx]/.test(m[i])) i--;
  while (i > 0 && !/\d/.test(m[i - 1])) i--;
  return i;
}

// ---------------------------------------------------------------------------------------------------------------
// The passes. Within a pass the leftmost match wins; passes run in order, each over the previous one's output.

function compile(rules: readonly Rule[], flags: string): Pass {
  let group = 1;
  const entries = rules.map((rule) => {
    const entry = { rule, group };
    group += 1 + captureGroups(rule.source); // its own group plus the groups inside it
    return entry;
  });
  return { regex: new RegExp(rules.map((r) => `(${r.source})`).join('|'), `${flags}g`), rules: entries };
}

/** Capturing groups in a pattern source: "(" not escaped, not in a class, not "(?:", "(?=", "(?!", "(?<=", "(?<!". */
function captureGroups(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(' && (source[i + 1] !== '?' || (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!'))) n++;
  }
  return n;
}

const sharedWith = (flag: string) => SHARED.filter((r) => SHARED_FLAGS.get(r.source)!.includes(flag));
const sharedWithout = (flag: string) => SHARED.filter((r) => !SHARED_FLAGS.get(r.source)!.includes(flag));

/**
 * What one scan of a text says about it, for the passes' pre-checks (h9-hotpath). They hold for the input of every
 * pass, not only the first: a pass only replaces spans of its input by markers (`[REDACTED:NAME]`: brackets, a colon,
 * capital letters and `_`), so a later pass's input has no more digits, no `@` or `.` the text lacked, and no two
 * adjacent digits that were not adjacent before (a marker sits between the two sides of every replaced span).
 */
interface TextFacts {
  /** Digits 0-9 in the text. */
  readonly digits: number;
  /** Two digits next to each other somewhere. */
  readonly adjacentDigits: boolean;
  readonly at: boolean;
  readonly dot: boolean;
}

function textFacts(text: string): TextFacts {
  let digits = 0;
  let adjacentDigits = false;
  let at = false;
  let dot = false;
  let previousDigit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (previousDigit) adjacentDigits = true;
      previousDigit = true;
      continue;
    }
    previousDigit = false;
    if (c === 64) at = true;
    else if (c === 46) dot = true;
  }
  return { digits, adjacentDigits, at, dot };
}

/** Colons in `text`, counting up to `enough`. */
function colonsUpTo(text: string, enough: number): number {
  let n = 0;
  for (let i = text.indexOf(':'); i >= 0 && n < enough; i = text.indexOf(':', i + 1)) n++;
  return n;
}

/**
 * A word every case-insensitive shared pattern needs (each one's key name), so the pass can be skipped when none is
 * in the text. Undefined (never skipped) as soon as a case-insensitive pattern without an entry here is added to
 * lambda/shared/secrets.ts.
 */
const CASE_INSENSITIVE_WORDS: Readonly<Record<string, string>> = { 'aws-secret-access-key': 'secret', 'authorization-header': 'authorization' };
function caseInsensitiveWords(): RegExp | undefined {
  const ids = SECRET_PATTERNS.filter((p) => p.pattern.flags.includes('i')).map((p) => p.id);
  if (ids.some((id) => CASE_INSENSITIVE_WORDS[id] === undefined)) return undefined;
  return new RegExp([...new Set(ids.map((id) => CASE_INSENSITIVE_WORDS[id]))].join('|'), 'i');
}

/** Built on the first call, not at import: a cold start that never redacts (no failure) does not pay for it. */
let passes: readonly Pass[] | undefined;
function builtInPasses(): readonly Pass[] {
  if (passes) return passes;
  const words = caseInsensitiveWords();
  passes = [
    // Credentials and pieces of them (case-sensitive), then the shared case-insensitive credential patterns.
    compile([JSON_SNIPPET, ...sharedWithout('i'), JWT, PARTIAL_TOKEN, BEARER, BASIC, PARTIAL_DIGITS, KEYED_SECRET], ''),
    { ...compile(sharedWith('i'), 'i'), ...(words ? { mayRedact: (text: string) => words.test(text) } : {}) },
    // An email has an "@".
    { ...compile([EMAIL], ''), mayRedact: (_t, f) => f.at },
    // IBAN (2 letters, 2 digits), SSN (3 digits) and DIGITS (3 to 19) all start with two adjacent digits.
    { ...compile([IBAN, SSN, DIGITS], ''), mayRedact: (_t, f) => f.adjacentDigits },
    // IPv4: four octets (a digit each) and dots; IPv6: "::" or eight groups (seven colons). Markers add colons, so
    // those are counted in the pass's own input.
    { ...compile([IPV6, IPV4], ''), mayRedact: (t, f) => (f.digits >= 4 && f.dot) || t.includes('::') || colonsUpTo(t, 7) >= 7 },
    // A phone number keeps at least 8 digits (its span check).
    { ...compile([PHONE], ''), mayRedact: (_t, f) => f.digits >= 8 },
  ];
  return passes;
}

/**
 * Every regular expression that scans a whole text (each rule of each pass, and the keyed value reader), for the
 * linear-shape test. The others run on bounded candidates only (a match's text, a key of at most 64 characters).
 */
export function textScanners(): readonly { readonly rule: string; readonly source: string; readonly flags: string; readonly sticky: boolean }[] {
  return [
    ...builtInPasses().flatMap((p) => p.rules.map((r) => ({ rule: r.rule.name, source: r.rule.source, flags: p.regex.flags, sticky: false }))),
    // Sticky: tried at one position (after a secret key's separator), never scanned along the text.
    { rule: 'SECRET (keyed value)', source: KEYED_VALUE.source, flags: KEYED_VALUE.flags, sticky: true },
  ];
}

function runPass(text: string, pass: Pass): string {
  const re = pass.regex;
  re.lastIndex = 0;
  let out = '';
  let done = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const hit = pass.rules.find((r) => m![r.group] !== undefined)!;
    const span = hit.rule.span ? hit.rule.span(m, text) : ([m.index, m.index + m[0].length] as const);
    if (!span) {
      re.lastIndex = m.index + 1; // rejected: a shorter candidate may start inside it
      continue;
    }
    const from = Math.max(span[0], done); // a scan back never reaches what is already written
    const to = Math.max(span[1], from);
    const name = hit.rule === DIGITS ? digitsName(text.slice(from, to)) : hit.rule.name;
    out += text.slice(done, from) + marker(name);
    done = to;
    re.lastIndex = to;
  }
  return done === 0 ? text : out + text.slice(done);
}

/** Built-in passes plus the service's own patterns (each one more pass, with `String.replace` semantics). */
export function createRedactor(extra: readonly RedactionPattern[] = []): Redactor {
  for (const p of extra) {
    if (!p.pattern.global) throw new Error(`redaction pattern ${p.name} must have the g flag, e.g. /${p.pattern.source}/g`);
  }
  return (text: string) => {
    let out = text;
    const facts = textFacts(text);
    for (const pass of builtInPasses()) if (!pass.mayRedact || pass.mayRedact(out, facts)) out = runPass(out, pass);
    for (const p of extra) {
      p.pattern.lastIndex = 0;
      out = out.replace(p.pattern, (match) => (p.accept && !p.accept(match) ? match : marker(p.name)));
    }
    return out;
  };
}

export const redact: Redactor = createRedactor();

/**
 * The built-in passes run on every text, without the pre-checks: what `redact` computed before h9-hotpath. For the
 * test that pins `redact` to it on the PII corpus (test/redact-precheck.test.ts) and for bench/redact.ts.
 */
export function redactEveryPass(text: string): string {
  let out = text;
  for (const pass of builtInPasses()) out = runPass(out, pass);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Redact first, then cut, in bounded time.

/**
 * Longest match a rule with a check can have (IBAN with spaces, a 19-digit card with separators, an email): a cut
 * before redaction at least this far past the kept text cannot split one of them. The unbounded rules (PEM bodies,
 * keyed values, tokens) redact any prefix of their match, so a cut inside one still removes what is kept.
 */
export const REDACT_WINDOW_MARGIN = 1024;

export interface RedactedCut {
  /** Redacted text, at most `maxChars` characters (a marker is never cut in half). */
  readonly text: string;
  readonly truncated: boolean;
  /** Characters of the original text not represented in `text` (0 if not truncated). */
  readonly omittedChars: number;
}

/**
 * Redacts `text` and then cuts it to `maxChars`, reading at most `maxChars * 4 + REDACT_WINDOW_MARGIN` characters so a
 * 6 MB input costs what a 20 KB one does. Nothing visible was cut before it was redacted: when the text is longer than
 * that window, the redacted window's last `REDACT_WINDOW_MARGIN` characters (where a value could straddle the window's
 * end) are dropped too. Works with any order-preserving redactor, the default or a service's own.
 */
export function redactAndCut(text: string, maxChars: number, redactor: Redactor = redact): RedactedCut {
  const window = maxChars * 4 + REDACT_WINDOW_MARGIN;
  const windowed = text.length > window;
  const clean = redactor(windowed ? text.slice(0, window) : text);
  if (!windowed && clean.length <= maxChars) return { text: clean, truncated: false, omittedChars: 0 };
  let cut = Math.max(0, Math.min(maxChars, windowed ? clean.length - REDACT_WINDOW_MARGIN : clean.length));
  // Do not leave half a marker at the end.
  const open = clean.lastIndexOf('[REDACTED:', cut - 1);
  if (open >= 0) {
    const close = clean.indexOf(']', open);
    if (close < 0 || close >= cut) cut = open;
  }
  // Markers change lengths, so this counts the original's characters beyond as many as were kept.
  return { text: clean.slice(0, cut), truncated: true, omittedChars: Math.max(0, text.length - cut) };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors rethrown to Lambda.

/**
 * A copy of `error` whose message and stack are redacted (and its `cause`, three levels deep), for errors rethrown
 * to Lambda: the runtime writes `errorMessage` and the stack to the function's log and returns them to a synchronous
 * caller. Keeps `name` (Lambda's `errorType`) and a string or number `code`. Never throws, whatever was thrown
 * (a non-Error, `Object.create(null)`, a throwing `message` getter).
 */
export function redactError(error: unknown, redactor: Redactor = redact, depth = 0): Error {
  const read = (key: string): unknown => {
    try {
      return error !== null && (typeof error === 'object' || typeof error === 'function') ? (error as Record<string, unknown>)[key] : undefined;
    } catch {
      return undefined;
    }
  };
  const isObject = error !== null && (typeof error === 'object' || typeof error === 'function');
  const rawMessage = isObject ? read('message') : error;
  const message = safeString(rawMessage === undefined && isObject ? describe(error) : rawMessage);
  const name = safeString(read('name') ?? 'Error') || 'Error';
  const out = new Error(redactor(message));
  out.name = name;
  const stack = read('stack');
  // The stack's first line repeats the message; redact it all rather than trust the frames.
  out.stack = typeof stack === 'string' ? redactor(stack) : `${name}: ${out.message}`;
  const code = read('code');
  if (typeof code === 'string' || typeof code === 'number') Object.assign(out, { code: typeof code === 'string' ? redactor(code) : code });
  const cause = read('cause');
  if (cause !== undefined && depth < 3) Object.assign(out, { cause: redactError(cause, redactor, depth + 1) });
  return out;
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'string' ? v : String(v);
  } catch {
    return '[unprintable]';
  }
}

function describe(v: object): string {
  try {
    return JSON.stringify(v) ?? safeString(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks.

/** Luhn checksum, as card numbers carry. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

// Province-level codes of GB/T 2260 (the ID's first two digits), and 81–83 for Hong Kong, Macao and Taiwan residents.
const PRC_REGIONS = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
]);
const PRC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** An 18-character PRC resident identity number (GB 11643-1999): region, birth date, ISO 7064 MOD 11-2 check digit. */
export function prcIdValid(id: string): boolean {
  if (!prcShaped(id)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * PRC_WEIGHTS[i];
  return '10X98765432'[sum % 11] === id[17].toUpperCase();
}

/** 17 digits and a digit or X, a province-level region and a real birth date (1800–2099): what the check applies to. */
function prcShaped(id: string): boolean {
  if (id.length !== 18) return false;
  for (let i = 0; i < 17; i++) if (id.charCodeAt(i) < 48 || id.charCodeAt(i) > 57) return false;
  const last = id.charCodeAt(17) | 0x20;
  if ((last < 48 || last > 57) && last !== 120 /* x */) return false;
  if (!PRC_REGIONS.has((id.charCodeAt(0) - 48) * 10 + id.charCodeAt(1) - 48)) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < 1800 || year > 2099 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]);
}
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A US SSN that could have been issued: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function ssnValid(ssn: string): boolean {
  const d = ssn.replace(/\D/g, '');
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  return area !== 0 && area !== 666 && area < 900 && d.slice(3, 5) !== '00' && d.slice(5) !== '0000';
}

// IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
};

/** ISO 13616 check: move the first four characters to the end, letters to 10–35, the number mod 97 is 1. Spaces are skipped. */
export function ibanValid(iban: string): boolean {
  const country = iban.slice(0, 2).toUpperCase();
  let length = 0;
  let rest = 0;
  for (let k = 0; k < iban.length; k++) {
    const ch = iban.charCodeAt((k + 4) % iban.length) | 0; // from the fifth character, wrapping to the first four
    if (ch === 32) continue;
    const upper = ch >= 97 && ch <= 122 ? ch - 32 : ch;
    let v: number;
    if (upper >= 48 && upper <= 57) v = upper - 48;
    else if (upper >= 65 && upper <= 90) v = upper - 55;
    else return false;
    length++;
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
  }
  return IBAN_LENGTHS[country] === length && /^[A-Z]{2}\d{2}/.test(iban.slice(0, 4).toUpperCase()) && rest === 1;
}

function isBasicCredentials(b64: string): boolean {
  let decoded: string;
  try {
    decoded = Buffer.from(b64, 'base64').toString('latin1');
  } catch {
    return false;
  }
  // user:password, printable, not an empty user; "Basic plan" decodes to bytes with no colon.
  return /^[\x20-\x7e]+$/.test(decoded) && decoded.indexOf(':') > 0;
}
