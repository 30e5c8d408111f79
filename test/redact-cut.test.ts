import { FAILURE_RECORD_TYPE } from '../lambda/shared/contract';
import { buildFailureRecord } from '../lambda/runtime/failure-record';
import { createRedactor, REDACT_WINDOW_MARGIN, redact, redactAndCut, redactError } from '../lambda/runtime/redact';

// Secrets that collapse to a short marker, so whatever follows them moves forward in the redacted text.
const LONG_TOKEN = `sk-ant-api03-${'a'.repeat(14_000)}`;
const CARD = '4111 1111 1111 1111';

const record = (input: unknown, maxFieldChars = 4096, error?: unknown) =>
  buildFailureRecord(
    {
      kinds: ['error'],
      service: 'svc',
      requestId: 'r1',
      startedAt: 0,
      tuple: { codeVersion: '1', configVersion: '1', configSha: 'x' } as never,
      measurements: { latencyMs: 1 },
      input,
      error,
    },
    { redactor: redact, maxFieldChars },
  );

/** No run of 4 digits from a card number survives, in any grouping. */
const noCardDigits = (text: string) => expect(text.replace(/\[REDACTED:[A-Z_]+\]/g, '')).not.toMatch(/\d{4}|\d{2}[ -]\d{2}/);

describe('redact first, then cut', () => {
  test('a card across the old pre-cut boundary (maxFieldChars × 4) is redacted whole (today half of it leaks)', () => {
    // The previous code cut the input at 4 × 4096 = 16384 characters and then redacted: the card's first 9
    // characters were kept, failed Luhn, and the long token's collapse pulled them into the record.
    const filler = `${LONG_TOKEN} `;
    const input = `${filler}${'x'.repeat(16384 - 9 - filler.length - 1)} ${CARD} end`;
    expect(input.indexOf(CARD)).toBe(16384 - 9);
    const r = record(input);
    expect(r.type).toBe(FAILURE_RECORD_TYPE);
    noCardDigits(r.input);
  });

  test.each([0, 1, 5, 9, 12, 18, 25])('no partial value at any cut: a card %i characters before the window ends', (back) => {
    const maxChars = 100;
    const window = maxChars * 4 + REDACT_WINDOW_MARGIN;
    const head = `${LONG_TOKEN.slice(0, 200)} `;
    const pad = 'y'.repeat(window - back - head.length);
    const out = redactAndCut(`${head}${pad}${CARD}${' z'.repeat(2000)}`, maxChars);
    expect(out.truncated).toBe(true);
    noCardDigits(out.text);
  });

  test('sweeping a card, an IBAN and an email across every cut point never shows a piece of them', () => {
    const secrets = [CARD, 'GB82 WEST 1234 5698 7654 32', 'jane.doe@example.com', '11010519491231002X'];
    for (const secret of secrets) {
      for (let at = 30; at < 70; at++) {
        const text = `${'ab '.repeat(at / 3)}${'c'.repeat(at % 3)} ${secret} ${'q '.repeat(40)}`;
        const out = redactAndCut(text, 50).text;
        // Any 6-character piece of the secret would identify it.
        for (let i = 0; i + 6 <= secret.length; i++) expect(out).not.toContain(secret.slice(i, i + 6));
      }
    }
  });

  test('bounded time: the redactor reads at most maxChars × 4 + the margin, whatever the input size', () => {
    const seen: number[] = [];
    const counting = (t: string) => {
      seen.push(t.length);
      return redact(t);
    };
    const big = 'lorem ipsum '.repeat(500_000); // 6 MB
    const out = redactAndCut(big, 4096, counting);
    expect(seen).toEqual([4096 * 4 + REDACT_WINDOW_MARGIN]);
    expect(out.truncated).toBe(true);
    expect(out.text.length).toBeLessThanOrEqual(4096);
    expect(out.omittedChars).toBe(big.length - out.text.length);
  });

  test('a marker is never cut in half, and short text is returned whole', () => {
    const text = `${'a'.repeat(95)} jane@example.com tail`;
    const out = redactAndCut(text, 100);
    expect(out.text).toBe(`${'a'.repeat(95)} `);
    expect(redactAndCut('mail jane@example.com', 100)).toEqual({ text: 'mail [REDACTED:EMAIL]', truncated: false, omittedChars: 0 });
  });

  test('a long PEM key across the window is removed up to the cut', () => {
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'.repeat(400);
    const out = redactAndCut(`k=-----BEGIN PRIVATE KEY-----\\n${body}-----END PRIVATE KEY----- done`, 100).text;
    expect(out).not.toContain('MIIEvQ');
  });

  test("a service's own redactor gets the same guarantee", () => {
    const own = createRedactor([{ name: 'CUSTOMER', pattern: /\bCUST-\d{6}\b/g }]);
    const out = redactAndCut(`${'w '.repeat(60)}CUST-004211 ${CARD}`, 200, own).text;
    expect(out).toContain('[REDACTED:CUSTOMER]');
    expect(out).toContain('[REDACTED:CARD]');
  });

  test('the failure record: input, details and the error message are redacted, then cut', () => {
    let parseError: unknown;
    try {
      JSON.parse('{"aaaaaaaaaaaaaaaaaaaa":1,"key":AKIAIOSFODNN7EXAMPLE}');
    } catch (e) {
      parseError = e;
    }
    const r = record({ password: 'hunter 2', note: 'x'.repeat(5000) }, 4096, parseError);
    expect(r.input).toContain('"password":"[REDACTED:SECRET]"');
    expect(r.truncated).toBe(true);
    expect(r.error?.message).toContain('[REDACTED:SNIPPET]');
    expect(r.error?.message).not.toContain('AKIAIOSFOD');
  });
});

describe('redactError: errors rethrown to Lambda', () => {
  test('message, stack, code and cause are redacted; name is kept', () => {
    const cause = new Error('upstream said jane@example.com is locked');
    const e = Object.assign(new TypeError('card 4111 1111 1111 1111 declined for jane@example.com', { cause }), { code: 'E_CARD_4111111111111111' });
    const out = redactError(e);
    expect(out).toBeInstanceOf(Error);
    expect(out.name).toBe('TypeError');
    expect(out.message).toBe('card [REDACTED:CARD] declined for [REDACTED:EMAIL]');
    expect(out.stack).toMatch(/^TypeError: card \[REDACTED:CARD\] declined for \[REDACTED:EMAIL\]\n\s+at /);
    expect(out.stack).not.toContain('jane@');
    expect((out as Error & { code: string }).code).toBe('E_CARD_[REDACTED:CARD]');
    expect(((out as Error & { cause: Error }).cause as Error).message).toBe('upstream said [REDACTED:EMAIL] is locked');
  });

  test.each([
    ['a string', 'password=hunter2hunter2', 'password=[REDACTED:SECRET]'],
    ['a number', 42, '42'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a plain object', { email: 'a@b.de' }, '{"email":"[REDACTED:EMAIL]"}'],
    ['Object.create(null)', Object.create(null), '{}'],
  ])('never throws, whatever was thrown: %s', (_label, thrown, message) => {
    const out = redactError(thrown);
    expect(out).toBeInstanceOf(Error);
    expect(out.message).toBe(message);
  });

  test('a throwing message getter, a circular object and a throwing toString do not escape', () => {
    const hostile = {
      get message(): string {
        throw new Error('boom');
      },
    };
    expect(redactError(hostile).message).toBe('[object Object]');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(redactError(circular).message).toBe('[object Object]');
    const noString = {
      toString() {
        throw new Error('no');
      },
      message: { toString: () => 'jane@example.com' },
    };
    expect(redactError(noString).message).toBe('[REDACTED:EMAIL]');
  });
});
