import { createRedactor, luhn, redact } from '../lambda/runtime/redact';

// [text, what must disappear, the marker that must replace it]
const MUST_REDACT: [string, string, string][] = [
  // emails
  ['mail me at jane.doe@example.com please', 'jane.doe@example.com', 'EMAIL'],
  ['contact: J.Smith+billing@sub.mail.example.co.uk', 'J.Smith+billing@sub.mail.example.co.uk', 'EMAIL'],
  ['<li_wei@example.cn>', 'li_wei@example.cn', 'EMAIL'],
  ['support@acme.io,sales@acme.io', 'support@acme.io', 'EMAIL'],
  ['user_123@my-company.org', 'user_123@my-company.org', 'EMAIL'],
  ['"email":"a@b.de"', 'a@b.de', 'EMAIL'],
  ['电子邮件 zhang.san@example.com 谢谢', 'zhang.san@example.com', 'EMAIL'],
  // phones
  ['call +1 202 555 0142 now', '+1 202 555 0142', 'PHONE'],
  ['call +1-202-555-0142', '+1-202-555-0142', 'PHONE'],
  ['UK: +44 20 7946 0958', '+44 20 7946 0958', 'PHONE'],
  ['(202) 555-0142 is my number', '(202) 555-0142', 'PHONE'],
  ['office 202-555-0142', '202-555-0142', 'PHONE'],
  ['office 202.555.0142', '202.555.0142', 'PHONE'],
  ['手机 13800138000', '13800138000', 'PHONE'],
  ['+86 138 0013 8000', '+86 138 0013 8000', 'PHONE'],
  ['+49 (30) 901820', '+49 (30) 901820', 'PHONE'],
  ['Tel:+33123456789', '+33123456789', 'PHONE'],
  // cards (Luhn-valid test numbers)
  ['card 4111 1111 1111 1111 exp 12/29', '4111 1111 1111 1111', 'CARD'],
  ['card 4111-1111-1111-1111', '4111-1111-1111-1111', 'CARD'],
  ['pay with 5555555555554444', '5555555555554444', 'CARD'],
  ['amex 378282246310005', '378282246310005', 'CARD'],
  ['discover 6011111111111117.', '6011111111111117', 'CARD'],
  ['visa13 4222222222222', '4222222222222', 'CARD'],
  ['jcb 3530111333300000', '3530111333300000', 'CARD'],
  // AWS keys and secrets
  ['key AKIAIOSFODNN7EXAMPLE in a log', 'AKIAIOSFODNN7EXAMPLE', 'AWS_KEY'],
  ['temporary ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A', 'AWS_KEY'],
  ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'SECRET'],
  ['-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', 'SECRET'],
  ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'SECRET'],
  ['xoxb-123456789012-abcdefghijkl', 'xoxb-123456789012-abcdefghijkl', 'SECRET'],
  ['OPENAI sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB', 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789AB', 'SECRET'],
  ['anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789', 'SECRET'],
  ['AIzaSyA-1234567890abcdefghijklmnopqrstu', 'AIzaSyA-1234567890abcdefghijklmnopqrstu', 'SECRET'],
  ['password=hunter2hunter2', 'hunter2hunter2', 'SECRET'],
  ['"api_key": "zx81-qq72-kk11"', 'zx81-qq72-kk11', 'SECRET'],
  ['Authorization: Bearer abc.def.ghi123', 'abc.def.ghi123', 'SECRET'],
  ['client_secret: 9f8e7d6c5b4a', '9f8e7d6c5b4a', 'SECRET'],
  ['sk_live_abcdefghijklmnopqrstuvwx', 'sk_live_abcdefghijklmnopqrstuvwx', 'SECRET'],
  // JWTs
  [
    'jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'JWT',
  ],
  ['id_token=eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'JWT'],
  // IPv4
  ['from 192.168.1.20 at noon', '192.168.1.20', 'IP'],
  ['client_ip=10.0.0.1;', '10.0.0.1', 'IP'],
  ['8.8.8.8', '8.8.8.8', 'IP'],
  ['host 255.255.255.255:443', '255.255.255.255', 'IP'],
  ['(172.16.254.3)', '172.16.254.3', 'IP'],
  // IPv6
  ['v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 seen', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'IP'],
  ['compressed 2001:db8::1 seen', '2001:db8::1', 'IP'],
  ['link-local fe80::1ff:fe23:4567:890a', 'fe80::1ff:fe23:4567:890a', 'IP'],
  ['loopback ::1 only', '::1', 'IP'],
  ['[2001:db8:0:0:1:0:0:1]:8080', '2001:db8:0:0:1:0:0:1', 'IP'],
];

// Looks close, must survive untouched.
const MUST_SURVIVE: string[] = [
  'order ORD-12345678 shipped',
  'order number 12345678',
  'invoice INV-2026-000123',
  'version 1.2.3',
  'v1.2.3.4 released',
  'node v20.20.2',
  'build 2026.11.27.1',
  'at 2026-11-27T10:30:00Z',
  'on 2026-11-27',
  'meeting at 10:30:00',
  'timestamp 1764239400000',
  'tracking 1Z999AA10123456784',
  'random 16 digits 1234567812345678',
  'ratio 3.14159265358979',
  'price $1,299.99',
  'room 101, floor 3',
  'ISBN 978-3-16-148410-0',
  'sku abc-123-def-456',
  'UUID 123e4567-e89b-12d3-a456-426614174000',
  'sha 9b74c9897bac770ffc029102a200c5de',
  'hex deadbeef:cafe',
  'kb-restore-01',
  'error code E1234',
  'the @mention and user@ alone',
  'ARN arn:aws:s3:::my-bucket/key',
  'zip 94107-1234',
  'Chapter 13 verse 8',
  'Q3 2026 revenue grew 12%',
  'AKIA is a prefix',
  'password reset link sent',
];

describe('redaction', () => {
  test('the corpus has at least 50 strings to redact', () => expect(MUST_REDACT.length).toBeGreaterThanOrEqual(50));

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
