/**
 * Redaction benchmark (issue 7 D). Target: redacting 64 KiB of any text takes <= 10 ms, adversarial inputs included.
 *
 *   npx tsx bench/redact.ts            # every class, 25 timed runs each after 3 warm-up runs
 *   npx tsx bench/redact.ts --quick    # 1 timed run each (to measure a redactor that is too slow to repeat)
 *   npx tsx bench/redact.ts --cold-only
 *   REDACT_MODULE=<path to another redact.ts> npx tsx bench/redact.ts   # measure another copy, e.g. the previous one
 *
 * Each input class is 65,536 characters: long runs of one character class, repeated near-misses of each pattern
 * (the shape of a match with one piece missing, so the engine goes as far as it can and then fails), and realistic
 * text (prose with PII, a stringified JSON event full of secrets). Prints, per class, the median and maximum wall
 * time and CPU time (user + system of this process: on a shared machine the wall time includes waiting for a core),
 * then the worst class by median CPU time, and its time at 4x the input, which stays near 4x when the work is linear.
 */
import * as path from 'node:path';
import type * as Redact from '../lambda/runtime/redact';

// REDACT_MODULE=<path> measures another copy (e.g. the previous redactor); default: this tree's.
const { createRedactor, redact }: typeof Redact = require(process.env.REDACT_MODULE ? path.resolve(process.env.REDACT_MODULE) : '../lambda/runtime/redact');

const SIZE = 64 * 1024;
const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 25;
const WARMUP = quick ? 0 : 3;

const fill = (unit: string, size = SIZE) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
/** A head, then a unit repeated to make exactly SIZE characters. */
const after = (head: string, unit: string) => head + fill(unit, SIZE - head.length);

const realistic = [
  'Hi, I am jane.doe@example.com, call me at +1 (415) 555-0132 or (020) 7946 0958. My card is 4111 1111 1111 1111, ',
  'IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, ID 11010519491231002X. Order ORD-12345678 shipped 2026-11-27. ',
  'password=hunter2hunter2 Authorization: Basic dXNlcjpwYXNzd29yZA== from 192.168.1.20 and 2001:db8::1. ',
  'Thanks for version 1.2.3 and model anthropic.claude-3-haiku-20240307-v1:0 at arn:aws:s3:::my-bucket/key. ',
].join('');

const event = JSON.stringify({
  headers: { Authorization: 'Bearer abcdefghijklmnop.qrstuvwx', 'x-api-key': 'k-12345678', cookie: 'session=abc; theme=dark' },
  body: JSON.stringify({ email: 'li_wei@example.cn', password: 'pa ss word', card: '5555555555554444', note: 'x'.repeat(40) }),
  Credentials: {
    AccessKeyId: 'ASIAY34FZKBOKMUTVV7A',
    SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    SessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
  },
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n',
});

const classes: [string, string][] = [
  ['letters (no @)', fill('abcdefghijklmnopqrstuvwxyz')],
  ['one letter', fill('a')],
  ['digits', fill('0123456789')],
  ['one digit', fill('1')],
  ['dots', fill('.')],
  ['dashes', fill('-')],
  ['@ signs', fill('@')],
  ['spaces', fill(' ')],
  ['newlines', fill('\n')],
  ['backslashes', fill('\\')],
  ['double quotes', fill('"')],
  ['base64', fill('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTExMTExMTExMTExMTEx+/')],
  ['hex', fill('0123456789abcdef')],
  ['CJK', fill('电子邮件谢谢')],
  ['prose with PII', fill(realistic)],
  ['JSON event with secrets', fill(event)],
  ['JSON event, escaped again', fill(JSON.stringify(event))],
  // Near-misses, pattern by pattern.
  ['email: a.b.c local part, no @', fill('a.b-c_d+e%f')],
  ['email: a@a@a', fill('a@')],
  ['email: x@a.a.a. (no TLD)', after('x@', 'a.')],
  ['email: x@aaaa (no dot)', after('x@', 'a')],
  ['email: a@b.c1 repeated', fill('a@b.c1 ')],
  ['card: spaced digits', fill('1 ')],
  ['card: dashed digits', fill('1-')],
  ['card: 19 digits then x', fill('4111111111111111111x ')],
  ['card: 16 digits failing Luhn', fill('4111111111111112 ')],
  ['phone: +1 repeated', fill('+1 ')],
  ['phone: (1 repeated', fill('(1')],
  ['phone: +1 (415) 555- repeated', fill('+1 (415) 555-')],
  ['phone: 0-digits', fill('0-12 ')],
  ['phone: digits and dots', fill('1.2')],
  ['IPv4: 1.1.1. repeated', fill('1.1.1.')],
  ['IPv4: 999.999.999.999', fill('999.999.999.999 ')],
  ['IPv6: hex and colons', fill('a:b:')],
  ['IPv6: 1:: repeated', fill('1::')],
  ['IPv6: ffff:ffff: repeated', fill('ffff:')],
  ['IBAN: GB82 repeated', fill('GB82 ')],
  ['IBAN: letters+digits run', fill('GB82WEST1234')],
  ['IBAN: 30 chars failing mod-97', fill('GB82 WEST 1234 5698 7654 33 ')],
  ['SSN: 123-45- repeated', fill('123-45-')],
  ['national id: 18 digits failing check', fill('110101199003074510 ')],
  ['JWT: -eyJ repeated', fill('-eyJhbGciOiJIUzI1NiJ9')],
  ['JWT: eyJx.eyJx. (no signature)', fill('eyJhbGci.eyJzdWIi.')],
  ['PEM: headers, no footer', fill('-----BEGIN PRIVATE KEY-----')],
  ['PEM: header then base64 forever', after('-----BEGIN RSA PRIVATE KEY-----\\n', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n')],
  ['keyed: password repeated, no separator', fill('password ')],
  ['keyed: "password":" repeated', fill('"password":"')],
  ['keyed: x_password= repeated', fill('x_password=')],
  ['keyed: long key prefixes', fill('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_secret ')],
  ['keyed: Authorization: Bearer repeated', fill('Authorization: Bearer ')],
  ['Basic: Basic + non-credentials', fill('Basic QUJDRA ')],
  ['AWS: AKIA repeated', fill('AKIA')],
  ['AWS: secret_access_key= + 39 chars', fill('secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE ')],
  ['URL credentials: scheme://user: (no @)', fill('https://user:')],
  ['tokens: sk-ant- repeated', fill('sk-ant-')],
  ['tokens: ghp_ repeated', fill('ghp_')],
  ['DER: MII + base64', fill('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA')],
  ['snippet: V8 JSON error prefix repeated', fill(`Unexpected token 'x', ..."`)],
  ['partials: ellipsis and digits', fill('…1234 5678 ')],
  ['partials: dots and digits', fill('...123456')],
];

/** Wall time and CPU time (user + system) of one call, ms. CPU time is what the work costs when the machine is shared. */
function time(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

interface Figures {
  median: number;
  max: number;
  cpuMedian: number;
  cpuMax: number;
}

function measure(text: string, r = redact): Figures {
  for (let i = 0; i < WARMUP; i++) r(text);
  const runs = Array.from({ length: RUNS }, () => time(() => r(text)));
  const wall = runs.map((x) => x.wall).sort((a, b) => a - b);
  const cpu = runs.map((x) => x.cpu).sort((a, b) => a - b);
  const mid = Math.floor(RUNS / 2);
  return { median: wall[mid], max: wall[RUNS - 1], cpuMedian: cpu[mid], cpuMax: cpu[RUNS - 1] };
}
const f = (ms: number, w = 8) => ms.toFixed(3).padStart(w);

const say = (line: string) => process.stdout.write(`${line}\n`);
const [load1] = require('node:os').loadavg() as number[];
say(
  `redact(): ${classes.length} input classes of ${SIZE} chars; ${RUNS} timed runs each after ${WARMUP} warm-up; Node ${process.version}; load average ${load1.toFixed(1)}`,
);
say(`${'class'.padEnd(42)} ${'wall median'.padStart(11)} ${'wall max'.padStart(8)} ${'cpu median'.padStart(10)} ${'cpu max'.padStart(8)}  (ms)`);
if (!process.argv.includes('--cold-only')) {
  let worst = { name: '', text: '', median: 0, max: 0, cpuMedian: 0, cpuMax: 0 };
  for (const [name, text] of classes) {
    if (text.length !== SIZE) throw new Error(`class ${name} is ${text.length} chars, not ${SIZE}`);
    const m = measure(text);
    say(`${name.padEnd(42)} ${f(m.median, 11)} ${f(m.max)} ${f(m.cpuMedian, 10)} ${f(m.cpuMax)}`);
    if (m.cpuMedian > worst.cpuMedian) worst = { name, text, ...m };
  }
  say(
    `worst (by CPU median): ${worst.name}: cpu median ${worst.cpuMedian.toFixed(3)} ms, wall median ${worst.median.toFixed(3)} ms (target <= 10 ms, ratio ${(worst.cpuMedian / 10).toFixed(2)})`,
  );
  const big = worst.text.repeat(4);
  const b = measure(big);
  say(
    `worst class at 4x the size (${big.length} chars): cpu median ${b.cpuMedian.toFixed(3)} ms, ratio to 1x ${(b.cpuMedian / worst.cpuMedian).toFixed(1)} (linear: about 4)`,
  );
  // One extra pattern of the service's own, to show the cost of a custom pass.
  const custom = createRedactor([{ name: 'CUSTOMER', pattern: /\bCUST-\d{6}\b/g }]);
  const c = measure(fill(realistic), custom);
  say(`prose with PII, with one custom pattern: cpu median ${c.cpuMedian.toFixed(3)} ms, wall median ${c.median.toFixed(3)} ms`);
}

// Cold start: importing the redactor (minified bundle, as the runtime ships it) and its first call, which compiles
// the passes. Median CPU time of 11 fresh processes.
{
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const entry = process.env.REDACT_MODULE ? path.resolve(process.env.REDACT_MODULE) : path.join(__dirname, '../lambda/runtime/redact.ts');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'redact-bench-')), 'redact.js');
  buildSync({ entryPoints: [entry], outfile: out, bundle: true, minify: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
  const probe = `const c0=process.cpuUsage();const r=require(${JSON.stringify(out)});const c1=process.cpuUsage(c0);r.redact('a@b.co 4111 1111 1111 1111 password=x +1 202 555 0142');const c2=process.cpuUsage(c0);console.log((c1.user+c1.system)/1000,(c2.user+c2.system-c1.user-c1.system)/1000)`;
  const bare = `const c0=process.cpuUsage();require(${JSON.stringify(path.join(path.dirname(out), 'empty.js'))});const c1=process.cpuUsage(c0);console.log((c1.user+c1.system)/1000,0)`;
  fs.writeFileSync(path.join(path.dirname(out), 'empty.js'), '');
  const median = (script: string, col: number) => {
    const v = Array.from({ length: 11 }, () => Number(spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout.trim().split(' ')[col])).sort(
      (a, b) => a - b,
    );
    return v[5];
  };
  const load = median(probe, 0);
  const empty = median(bare, 0);
  say(
    `cold start (${(fs.statSync(out).size / 1024).toFixed(1)} KB minified): require ${load.toFixed(2)} ms CPU (an empty module: ${empty.toFixed(2)} ms), first call ${median(probe, 1).toFixed(2)} ms CPU (compiles the passes)`,
  );
}
