import { createRedactor, redact, redactAndCut, redactEveryPass } from '../lambda/runtime/redact';
import { SECRET_PATTERNS } from '../lambda/shared/secrets';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE, MUST_SURVIVE_NEW, PEM, SESSION_TOKEN } from './pii-corpus';

// h9-hotpath: `redact` skips a pass when a pre-check on the text says none of its rules can redact anything (no "@":
// no email pass; fewer than 8 digits: no phone pass; ...). These tests pin its output to the passes run on every text
// (redactEveryPass, what `redact` computed before), on the PII corpus and on texts built to sit on the pre-checks' edges.

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const corpus = [
  ...MUST_REDACT.map((r) => r[0]),
  ...MUST_REDACT_NEW.map((r) => r[0]),
  ...MUST_SURVIVE,
  ...MUST_SURVIVE_NEW,
  PEM,
  SESSION_TOKEN,
  // Each pre-check's edge: just enough of its trigger, and just not.
  'a@b',
  'x@y.zz',
  '1234567',
  '12345678',
  '+1 234 5678',
  '202-555-014',
  '202-555-0142',
  '1.2.3.4',
  '1.2.3',
  '1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7:8',
  'a::b',
  '::',
  'fe80::1',
  'secret',
  'AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'aws_Secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AUTHORIZATION: Token abcdef123456',
  'Proxy-Authorization="Digest abcdef123456"',
  '1 2 3 4 5 6 7 8',
  '4 1 1 1',
  '41',
  'DE89 3704 0044 0532 0130 00',
  // Markers add colons: a redacted value next to colons (the IPv6 pass counts them in its own input).
  'password=hunter2 a:b:c:d:e:f',
  'token: abc:def:ghi:jkl:mno:pqr',
  'jane@example.com:1:2:3:4:5',
];

const wrapped = (s: string) => [s, JSON.stringify({ question: s }), JSON.stringify(JSON.stringify({ body: s })), `${s} ${s}`, `«${s}»`];

describe('redaction pre-checks (h9-hotpath)', () => {
  test('the corpus texts, as they are, in JSON, escaped twice and repeated, redact exactly as every pass run', () => {
    let n = 0;
    for (const s of corpus)
      for (const t of wrapped(s)) {
        expect([t, redact(t)]).toEqual([t, redactEveryPass(t)]);
        n++;
      }
    expect(n).toBeGreaterThan(800);
  });

  test('every pair of corpus texts joined by one separator redacts as every pass run', () => {
    const seps = ['', ' ', ':', '.', '@', '-', '1', '\n'];
    let changed = 0;
    for (let i = 0; i < corpus.length; i++) {
      const a = corpus[i];
      const b = corpus[(i * 7 + 3) % corpus.length];
      for (const sep of seps) {
        const t = a + sep + b;
        const out = redact(t);
        expect([t, out]).toEqual([t, redactEveryPass(t)]);
        if (out !== t) changed++;
      }
    }
    // The joined texts do carry secrets: the comparison is not one of unchanged texts.
    expect(changed).toBeGreaterThan(500);
  });

  test("random texts over the pre-checks' trigger characters redact as every pass run (2,000 texts, seeded)", () => {
    const alphabet = '0123456789012345678901234567890123456789 ..::@-+()abcdefABCDEFxX_/=\'"\\…\n';
    const pieces = ['@', '::', 'secret', 'Authorization', 'Bearer ', 'eyJ', 'AKIA', '...', '…', 'password=', 'a@b.co'];
    const next = rng(17);
    let changed = 0;
    for (let k = 0; k < 2000; k++) {
      let t = '';
      const len = 1 + Math.floor(next() * 60);
      while (t.length < len) t += next() < 0.1 ? pieces[Math.floor(next() * pieces.length)] : alphabet[Math.floor(next() * alphabet.length)];
      const out = redact(t);
      expect([k, t, out]).toEqual([k, t, redactEveryPass(t)]);
      if (out !== t) changed++;
    }
    expect(changed).toBeGreaterThan(200);
  });

  test('a text that needs no pass is returned as it is, and redactAndCut agrees with the full passes', () => {
    const t = 'How do I restore a deleted file?';
    expect(redact(t)).toBe(t);
    for (const s of corpus) expect(redactAndCut(s, 40).text).toBe(redactAndCut(s, 40, redactEveryPass).text);
  });

  test("a service's own patterns still run after the built-in passes, pre-checks or not", () => {
    const r = createRedactor([{ name: 'ORDER', pattern: /ORD-\d+/g }]);
    expect(r('order ORD-12345678 for jane@example.com')).toBe('order [REDACTED:ORDER] for [REDACTED:EMAIL]');
    expect(r('order ORD-1')).toBe('order [REDACTED:ORDER]');
  });

  test('the case-insensitive pass is pre-checked by one key word per shared case-insensitive pattern', () => {
    // Adding a case-insensitive pattern to lambda/shared/secrets.ts without a word in redact.ts turns that pass's
    // pre-check off (it runs on every text): this pins which patterns have one today.
    const ids = SECRET_PATTERNS.filter((p) => p.pattern.flags.includes('i')).map((p) => p.id);
    expect(ids).toEqual(['aws-secret-access-key', 'authorization-header']);
    expect(redact('my AWS_SECRET = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toContain('[REDACTED:');
  });
});
