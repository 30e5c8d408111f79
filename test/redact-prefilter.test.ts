import { redact, redactorWithoutSkips, textScanners } from '../lambda/runtime/redact';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE, MUST_SURVIVE_NEW, PEM, SESSION_TOKEN } from './pii-corpus';

// h8-hotpath: the built-in redactor skips a pass when the text lacks a character every match of its rules needs
// ("@" for EMAIL, an ASCII digit for IBAN/SSN/CARD/IPv4/PHONE, ":" or a digit for the IP pass). These tests pin that
// the skip changes no output, and the claim it rests on, rule by rule.

const full = redactorWithoutSkips();

/** A deterministic generator of texts mixing the corpus' pieces, separators, digits and the characters the skips test. */
function* generated(seed: number, n: number): Generator<string> {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const pieces = [
    ...MUST_REDACT.map((r) => r[0]),
    ...MUST_REDACT_NEW.map((r) => r[0]),
    ...MUST_SURVIVE,
    ...MUST_SURVIVE_NEW,
    PEM,
    SESSION_TOKEN,
    'How do I restore a deleted file?',
    '{"question":"How do I restore a deleted file?"}',
    'Answer to 32 chars [kb-restore-01]',
    '[REDACTED:EMAIL]',
    '…',
    '...',
    '::',
    ':',
    '@',
    ' ',
    '\n',
    '-',
    '.',
    '(',
    ')',
    '+',
  ];
  const alphabet = 'aZ9@:.-_ +()…=/\\"\'\n\t0123456789abcdefABCDEFxX';
  for (let i = 0; i < n; i++) {
    let t = '';
    const parts = 1 + Math.floor(next() * 5);
    for (let p = 0; p < parts; p++) {
      if (next() < 0.6) t += pieces[Math.floor(next() * pieces.length)];
      else for (let k = Math.floor(next() * 24); k > 0; k--) t += alphabet[Math.floor(next() * alphabet.length)];
      if (next() < 0.5) t += ' ';
    }
    // Half of them without digits, "@" or ":" (where the skips apply), the other half as generated.
    yield i % 2 === 0 ? t.replace(/[0-9@:]/g, 'q') : t;
  }
}

describe('redaction pass skips (h8-hotpath)', () => {
  test('the PII corpus redacts exactly as with every pass run', () => {
    const texts = [...MUST_REDACT.map((r) => r[0]), ...MUST_REDACT_NEW.map((r) => r[0]), ...MUST_SURVIVE, ...MUST_SURVIVE_NEW, PEM, SESSION_TOKEN];
    expect(texts.length).toBeGreaterThan(100);
    for (const t of texts) expect(redact(t)).toBe(full(t));
  });

  test('20,000 generated texts (half without digits, "@" and ":") redact exactly as with every pass run', () => {
    let differing = 0;
    let changed = 0;
    for (const t of generated(17, 20_000)) {
      const a = redact(t);
      if (a !== full(t)) differing++;
      if (a !== t) changed++;
    }
    expect(differing).toBe(0);
    // The generator reaches the redactor's rules: a good share of its texts are changed by it.
    expect(changed).toBeGreaterThan(2_000);
  });

  // The claim the skips rest on, checked on the rules themselves: every match of each skipped rule holds its character.
  const needs: Record<string, RegExp> = { EMAIL: /@/, IBAN: /[0-9]/, SSN: /[0-9]/, CARD: /[0-9]/, PHONE: /[0-9]/, IP: /[0-9:]/ };
  test.each(Object.keys(needs))('every match of the %s rule holds the character its pass is skipped without', (name) => {
    const rules = textScanners().filter((r) => r.rule === name);
    expect(rules.length).toBeGreaterThan(0);
    let matches = 0;
    for (const r of rules) {
      const re = new RegExp(r.source, r.flags.includes('g') ? r.flags : `${r.flags}g`);
      for (const t of generated(5, 4_000))
        for (const m of t.matchAll(re)) {
          matches++;
          expect(m[0]).toMatch(needs[name]);
        }
      // And none in the same texts with the character removed (what the skip assumes).
      for (const t of generated(6, 2_000)) {
        const stripped = name === 'EMAIL' ? t.replace(/@/g, 'q') : name === 'IP' ? t.replace(/[0-9:]/g, 'q') : t.replace(/[0-9]/g, 'q');
        expect(stripped.match(re)).toBeNull();
      }
    }
    expect(matches).toBeGreaterThan(0);
  });

  test('a text the skips apply to is still redacted by the credential passes', () => {
    const t = 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz and password=hunter-two-words';
    expect(/[0-9@]/.test(t)).toBe(false);
    const out = redact(t);
    expect(out).not.toContain('abcdefghijklmnopqrstuvwxyz');
    expect(out).not.toContain('hunter-two-words');
    expect(out).toBe(full(t));
  });
});
