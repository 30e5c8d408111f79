import { canonicalJson } from '../lambda/shared/canonical-json';
import { caseIdOf, MAX_NORMALIZE_DEPTH, normalizeInput } from '../lambda/snapshot/cases';

// h8-hotpath: normalizeInput returns a printable-ASCII, single-spaced, untrimmed-nothing string as it is, without
// NFC, trim and the whitespace collapse. This pins that the fast path gives what the three calls give.

/** The normalization as it was before the fast path (the reference). */
function reference(input: string): string {
  const str = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ');
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return v.map(value);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[str(k)] = value(x);
      return out;
    }
    return v;
  };
  try {
    return canonicalJson(value(JSON.parse(input)));
  } catch {
    return canonicalJson(str(input));
  }
}

function* texts(n: number): Generator<string> {
  let s = 99;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  // ASCII letters and punctuation, every ASCII whitespace, NBSP, BOM, ideographic space, a combining accent, precomposed é, CJK, an emoji.
  const alphabet = [
    'a',
    'Z',
    '9',
    ' ',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r',
    '\v',
    '\f',
    '\u00a0',
    '\ufeff',
    '\u3000',
    'e\u0301',
    '\u00e9',
    '退',
    '😀',
    '~',
    '!',
    '"',
    '\\',
    '{',
    '}',
  ];
  for (let i = 0; i < n; i++) {
    let t = '';
    for (let k = Math.floor(next() * 16); k > 0; k--) t += alphabet[Math.floor(next() * alphabet.length)];
    yield t;
  }
}

describe('normalizeInput fast path (h8-hotpath)', () => {
  test('10,000 generated texts, as text and as JSON string values and keys, normalize as before', () => {
    for (const t of texts(10_000)) {
      expect(normalizeInput(t)).toBe(reference(t));
      const json = JSON.stringify({ [t]: t, q: [t, `${t} x`] });
      expect(normalizeInput(json)).toBe(reference(json));
    }
  });

  test.each([
    ['How do I restore a deleted file?'],
    [' leading'],
    ['trailing '],
    ['two  spaces'],
    ['tab\there'],
    ['caf\u00e9'],
    ['cafe\u0301'],
    ['\ufeffbom'],
    [''],
    ['{"question":"How do I restore a deleted file?"}'],
    ['{"question":" padded  question "}'],
  ])('%j normalizes as before, and its case id with it', (t) => {
    expect(normalizeInput(t)).toBe(reference(t));
    expect(caseIdOf('svc', t)).toHaveLength(32);
  });

  // h9-hotpath: JSON already in normal form (sorted keys, normal strings) is serialized as parsed, without the copies.
  test('JSON inputs of every shape (sorted or not, integer-like keys, __proto__, deep, numbers) normalize as before', () => {
    const deep = (d: number) => `${'['.repeat(d)}"x"${']'.repeat(d)}`;
    const deepObject = (d: number) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    const cases = [
      '{"question":"How do I restore a deleted file?"}',
      '{"a":1,"b":"x y","c":[1,"z",{"d":null,"e":true}]}',
      '{"b":1,"a":2}',
      '{"2":"x","10":"y"}',
      '{"10":"y","a":"x"}',
      '{"1":"x","b":"y"}',
      '{"__proto__":{"x":1},"a":"b"}',
      '{"a":{"__proto__":"p"}}',
      '{"a":1.0,"b":1e2,"c":-0,"d":"\u0041"}',
      '{"":"empty key","a":""}',
      '{"a":"x","a":"y"}',
      '{"B":1,"a":2,"_":3}',
      '{"k":"  padded "}',
      '{" k":"v"}',
      '[]',
      '{}',
      '"plain string"',
      '42',
      'null',
      deep(63),
      deep(64),
      deep(65),
      deepObject(63),
      deepObject(64),
      deepObject(65),
    ];
    // The reference has no depth limit: an input nesting objects MAX_NORMALIZE_DEPTH deep is hashed as text (h6).
    const nests = (v: unknown, d: number): boolean =>
      v !== null && typeof v === 'object' && (d >= MAX_NORMALIZE_DEPTH || Object.values(v).some((x) => nests(x, d + 1)));
    const expected = (t: string) => (nests(JSON.parse(t), 0) ? canonicalJson(t) : reference(t));
    for (const t of cases) expect([t, normalizeInput(t)]).toEqual([t, expected(t)]);
    for (const t of texts(2_000)) {
      const sorted = JSON.stringify({ a: t, b: { c: [t], d: t }, [t]: 1 });
      expect(normalizeInput(sorted)).toBe(reference(sorted));
    }
  });

  test('the fast path leaves inputs that need normalizing to the full one', () => {
    expect(normalizeInput('  a   b ')).toBe('"a b"');
    expect(normalizeInput('cafe\u0301')).toBe(JSON.stringify('caf\u00e9'));
    expect(normalizeInput('{"k":"a\\tb"}')).toBe('{"k":"a b"}');
  });
});
