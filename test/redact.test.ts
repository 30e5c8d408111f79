import { createRedactor, luhn, redact } from '../lambda/runtime/redact';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE, MUST_SURVIVE_NEW, PEM, PEM_BODY, PEM_BODY_2 } from './pii-corpus';

describe('redaction', () => {
  test('the corpus has at least 50 strings to redact, and 40 new ones with 30 new ones that survive', () => {
    expect(MUST_REDACT.length).toBeGreaterThanOrEqual(50);
    expect(MUST_REDACT_NEW.length).toBeGreaterThanOrEqual(40);
    expect(MUST_SURVIVE_NEW.length).toBeGreaterThanOrEqual(30);
  });

  test.each(MUST_REDACT_NEW)('redacts (issue 7) %s', (text, secret, marker) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${marker}]`);
  });

  test.each(MUST_SURVIVE_NEW)('keeps (issue 7) %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  test('keeps the key and the quotes around a redacted value', () => {
    expect(redact('{"password":"hunter 2","user":"bob"}')).toBe('{"password":"[REDACTED:SECRET]","user":"bob"}');
    expect(redact(JSON.stringify({ body: JSON.stringify({ api_key: 'k1' }) }))).toBe('{"body":"{\\"api_key\\":\\"[REDACTED:SECRET]\\"}"}');
    expect(redact('postgres://admin:pw@db:5432')).toBe('postgres://[REDACTED:SECRET]@db:5432');
    expect(redact('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe('Authorization: [REDACTED:SECRET]');
  });

  test('a PEM key leaves nothing of its body behind', () => {
    for (const text of [PEM, JSON.stringify({ k: PEM }), JSON.stringify(JSON.stringify({ k: PEM }))]) {
      const out = redact(`before ${text} after`);
      expect(out).toMatch(/^before .*\[REDACTED:SECRET\].* after$/s);
      for (const piece of [PEM_BODY.slice(10, 30), PEM_BODY_2.slice(10, 30), 'NNRLIxq3f8JmKY']) expect(out).not.toContain(piece);
    }
  });

  test('a real JSON.parse error quoting part of a card number or key loses the quoted part', () => {
    const messages: string[] = [];
    for (const bad of [
      '{"card":x4111111111111111}',
      '{"aaaaaaaaaaaaaaaaaaaa":1,"key":AKIAIOSFODNN7EXAMPLE}',
      `{"pan":"4111 1111" 1111 1111}`,
      `{"zz":1,"n":-4111-1111-1111-1111}`,
    ]) {
      try {
        JSON.parse(bad);
      } catch (e) {
        messages.push((e as Error).message);
      }
    }
    expect(messages.some((m) => m.includes('is not valid JSON'))).toBe(true); // the engine quotes a snippet
    for (const m of messages) {
      const out = redact(m);
      expect(out).not.toMatch(/\d{4}/);
      expect(out).not.toContain('AKIAIOSFOD');
    }
  });

  test('the national id checks hold: a changed digit fails', () => {
    expect(redact('11010519491231002X')).toBe('[REDACTED:NATIONAL_ID]');
    expect(redact('11010519491231003X')).toBe('11010519491231003X'); // check digit no longer matches
    expect(redact('110105194913310020')).toBe('110105194913310020'); // month 13
  });

  test.each(MUST_REDACT)('redacts %s', (text, secret, marker) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${marker}]`);
  });

  test.each(MUST_SURVIVE)('keeps %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  test('keeps the text around what it removes', () => {
    expect(redact('Hi, I am jane@example.com, call +1 202 555 0142.')).toBe('Hi, I am [REDACTED:EMAIL], call [REDACTED:PHONE].');
  });

  test('is idempotent', () => {
    const once = redact(MUST_REDACT.map(([t]) => t).join('\n'));
    expect(redact(once)).toBe(once);
  });

  test('user-supplied patterns', () => {
    const r = createRedactor([{ name: 'CUSTOMER', pattern: /\bCUST-\d{6}\b/g }]);
    expect(r('customer CUST-004211 asked')).toBe('customer [REDACTED:CUSTOMER] asked');
    expect(() => createRedactor([{ name: 'X', pattern: /x/ }])).toThrow('redaction pattern X must have the g flag');
  });

  test.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true],
    ['', false],
  ])('luhn(%s) = %s', (digits, ok) => expect(luhn(digits)).toBe(ok));
});
