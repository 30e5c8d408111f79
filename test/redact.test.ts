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
  ['id_token=eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'SECRET'],
  ['jwt: eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'eyJraWQiOiJrMSJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl', 'JWT'],
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

const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj';
const PEM_BODY_2 = 'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu';
const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n${PEM_BODY_2}\nNNRLIxq3f8JmKY=\n-----END PRIVATE KEY-----\n`;
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDc';

// Issue 7 D: [text, what must disappear, the marker that must replace it].
const MUST_REDACT_NEW: [string, string, string][] = [
  // PEM private keys: the body, not only the header, with real and JSON-escaped newlines, and cut before the footer
  [`key:\n${PEM}done`, PEM_BODY_2, 'SECRET'],
  [JSON.stringify({ private_key: PEM }), PEM_BODY, 'SECRET'],
  [JSON.stringify(JSON.stringify({ private_key: PEM })), PEM_BODY_2, 'SECRET'],
  [`-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----`, PEM_BODY, 'SECRET'],
  [`-----BEGIN RSA PRIVATE KEY-----\\n${PEM_BODY}\\n${PEM_BODY_2.slice(0, 20)}`, PEM_BODY_2.slice(0, 20), 'SECRET'],
  [`a DER body alone: ${PEM_BODY}${PEM_BODY_2}`, PEM_BODY_2, 'SECRET'],
  // secrets in JSON-quoted inputs, after the runtime stringifies an object (once, or a body stringified inside it)
  [JSON.stringify({ SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }), 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'SECRET'],
  [JSON.stringify({ body: JSON.stringify({ SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }) }), 'wJalrXUtnFEMI/K7MDENG', 'SECRET'],
  [JSON.stringify({ password: 'correct horse battery' }), 'correct horse battery', 'SECRET'],
  [JSON.stringify({ body: JSON.stringify({ password: 'pa ss' }) }), 'pa ss', 'SECRET'],
  [JSON.stringify({ headers: { Authorization: 'Bearer abc.def.ghi' } }), 'abc.def.ghi', 'SECRET'],
  ['"password":"x1"', 'x1', 'SECRET'],
  ['{"db_password": "s3cr3t!"}', 's3cr3t!', 'SECRET'],
  ['{"clientSecret":"9f8e7d6c"}', '9f8e7d6c', 'SECRET'],
  ['{"refresh_token": "1//0gLxyzAbc"}', '1//0gLxyzAbc', 'SECRET'],
  [JSON.stringify({ 'X-Amz-Security-Token': SESSION_TOKEN }), SESSION_TOKEN, 'SECRET'],
  [`session token ${SESSION_TOKEN}`, SESSION_TOKEN, 'SECRET'],
  ['x-api-key: k-12345678', 'k-12345678', 'SECRET'],
  ['GET /v1/items?api_key=abcd1234&page=2', 'abcd1234', 'SECRET'],
  ['spring.datasource.password=Pa55word', 'Pa55word', 'SECRET'],
  ['cookie: session=abc123; theme=dark', 'session=abc123', 'SECRET'],
  // Authorization: Basic, in a header, in JSON, in a curl command, and alone (decodes to user:password)
  ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA==', 'SECRET'],
  ['{"authorization":"Basic dXNlcjpwYXNzd29yZA=="}', 'dXNlcjpwYXNzd29yZA==', 'SECRET'],
  ["curl -H 'Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l' https://api", 'YWxhZGRpbjpvcGVuc2VzYW1l', 'SECRET'],
  ['sent Basic YWxhZGRpbjpvcGVuc2VzYW1l upstream', 'YWxhZGRpbjpvcGVuc2VzYW1l', 'SECRET'],
  ['postgres://admin:s3cretpass@db.example.com:5432/app', 'admin:s3cretpass', 'SECRET'],
  ['key_AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE', 'AWS_KEY'],
  // partial values: a parser's error snippet, a cut before or after an ellipsis, a token cut short
  [`Unexpected token 'A', ..."":1,"key":AKIAIOSFOD"... is not valid JSON`, 'AKIAIOSFOD', 'SNIPPET'],
  ['card 4111 1111 1111 1…', '4111 1111 1111 1', 'PARTIAL'],
  ['…1111 1111 1111 and more', '1111 1111 1111', 'PARTIAL'],
  ['id 110105194912...', '110105194912', 'PARTIAL'],
  ['key AKIAIOSFODNN7EX cut', 'AKIAIOSFODNN7EX', 'SECRET'],
  ['sk-ant-api03-abcdefgh', 'sk-ant-api03-abcdefgh', 'SECRET'],
  // national identity numbers (PRC, ISO 7064 MOD 11-2; X and x check digits), US SSN
  ['身份证 11010519491231002X', '11010519491231002X', 'NATIONAL_ID'],
  ['id 11010519491231002x.', '11010519491231002x', 'NATIONAL_ID'],
  ['id 440524188001010014', '440524188001010014', 'NATIONAL_ID'],
  ['身份证号码：110101199003074514', '110101199003074514', 'NATIONAL_ID'],
  ['"idNumber":"320106198512032837"', '320106198512032837', 'NATIONAL_ID'],
  ['SSN 123-45-6789', '123-45-6789', 'SSN'],
  ['ssn: 078-05-1120.', '078-05-1120', 'SSN'],
  ['SSN 219 09 9999', '219 09 9999', 'SSN'],
  ['SSN 123-45-6789 4111 1111 1111 1111', '123-45-6789', 'SSN'],
  ['call 202-555-0142 4111 1111 1111 1111', '202-555-0142', 'PHONE'],
  // IBAN (mod-97), compact or grouped, followed by a word
  ['IBAN GB82 WEST 1234 5698 7654 32', 'GB82 WEST 1234 5698 7654 32', 'IBAN'],
  ['pay DE89370400440532013000 today', 'DE89370400440532013000', 'IBAN'],
  ['FR14 2004 1010 0505 0001 3M02 606', 'FR14 2004 1010 0505 0001 3M02 606', 'IBAN'],
  ['NL91ABNA0417164300, thanks', 'NL91ABNA0417164300', 'IBAN'],
  ['CH93 0076 2011 6238 5295 7 EUR', 'CH93 0076 2011 6238 5295 7', 'IBAN'],
  ['NO93 8601 1117 947', 'NO93 8601 1117 947', 'IBAN'],
  ['iban: gb82west12345698765432', 'gb82west12345698765432', 'IBAN'],
  // landlines with area codes, more international forms
  ['(020) 7946 0958', '(020) 7946 0958', 'PHONE'],
  ['北京 010-12345678', '010-12345678', 'PHONE'],
  ['+1 (415) 555-0132', '+1 (415) 555-0132', 'PHONE'],
  ['深圳 0755-12345678', '0755-12345678', 'PHONE'],
  ['London 020 7946 0958', '020 7946 0958', 'PHONE'],
  ['Paris +33 1 23 45 67 89', '+33 1 23 45 67 89', 'PHONE'],
  ['手机 138-0013-8000', '138-0013-8000', 'PHONE'],
  ['(010) 6552 9988', '(010) 6552 9988', 'PHONE'],
  ['HK +852 2345 6789', '+852 2345 6789', 'PHONE'],
  ['call +1 202 555 0142 2026-11-27', '+1 202 555 0142', 'PHONE'],
  // cards in more shapes; one followed by another number; an IP at the end of a sentence
  ['amex 3782 822463 10005', '3782 822463 10005', 'CARD'],
  ['mc 2223003122003222', '2223003122003222', 'CARD'],
  ['card 4111 1111 1111 1111 12 items', '4111 1111 1111 1111', 'CARD'],
  ['ref 12 4012888888881881', '4012888888881881', 'CARD'],
  ['DNS is 8.8.4.4.', '8.8.4.4', 'IP'],
];

// Issue 7 D: look close, must survive untouched.
const MUST_SURVIVE_NEW: string[] = [
  'random 18 digits 110101199003074510',
  'random 18 digits 320106198512032830',
  'ref 123456789012345678',
  'SSN-shaped but never issued: 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000',
  'IBAN with a wrong check: GB82 WEST 1234 5698 7654 33',
  'DE89370400440532013001',
  'Basic plan costs $10',
  'Basic usage and Basic QUJD',
  'Bearer of bad news',
  'token_count: 512',
  'max_tokens=1024',
  '{"input_tokens": 42, "output_tokens": 7}',
  '{"nextToken": "abc123"}',
  '{"secret_name": "prod/db", "SecretId": "prod/db"}',
  'ARN arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
  'arn:aws:lambda:us-east-1:123456789012:function:svc:live',
  'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1',
  'model anthropic.claude-3-haiku-20240307-v1:0',
  'passwordless login enabled',
  'the token was refreshed',
  'password:',
  '2026-11-27T10:30:00.123+08:00',
  'version 10.0.19045.3803',
  'coordinates 37.7749, -122.4194',
  'zip 02134-1234',
  'call 911 or port 8080',
  'ratio 16:9 at 10:30 to 11:45',
  '$12,345.67 for 1,234,567 requests',
  'build 2026.11.27-rc.1',
  'pip install sk-learn-tools',
  'AKIA1234 is short',
  'eyJ alone',
  'Loading... wait 2026...',
  'ids 1234 5678',
  'ISBN 978-0-306-40615-7',
  'Luhn-valid but 11 digits: 79927398713',
  'MD5 d41d8cd98f00b204e9800998ecf8427e',
  'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'https://example.com:8443/path?x=1',
  'account 123456789012 in us-east-1',
  'GB82WEST',
  'ORD-2026-000123-45',
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
