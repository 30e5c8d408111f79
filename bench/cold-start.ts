/**
 * Cold-start benchmark (issue 7, part C): what the runtime adds to a cold start over a Powertools-only handler.
 *
 *   npx tsx bench/cold-start.ts [runs]        (default 41 runs of each, interleaved)
 *
 * Each sample is a fresh `node` process that loads a minified esbuild bundle (as Lambda would, `@aws-sdk/*`
 * external) and runs its first invocation; the process measures from just before `require` to the end of that first
 * invocation, so Node's own start-up is not in either number.
 *   - baseline: Powertools Logger + Metrics at module scope; the invocation adds 6 high-resolution metrics,
 *     publishes them and writes one log line.
 *   - runtime:  a handler on `createAiRuntime`; the first invocation reads both configs from a loopback stand-in for
 *     the AppConfig extension (the example service's real hosted config), checks the config, compiles and runs the
 *     output contract, and writes its EMF document.
 * Target: runtime median ≤ baseline median + 30 ms.
 *
 *   npx tsx bench/cold-start.ts [runs] ticks   (issue 15-A5: AppConfig's synchronous extension actions)
 *
 * The cold first answer of the AT_DEPLOYMENT_TICK and PRE_START_DEPLOYMENT actions, each from a fresh node process
 * that loads the library's own pre-bundled handler (scripts/bundle-handlers.ts: minified, the AWS SDK bundled in, as
 * deployed) and answers one event; S3 is a loopback stand-in that serves the judge record / the gate report. Three
 * bundles: the tick-only function (lambda/canary-judge-tick), the whole judge answering the same tick (what the tick
 * ran on before), and the config gate check. AppConfig waits about 3 s; the tick's own read budget is 1.5 s.
 */
import { exampleServedConfigs, pct, root } from './support';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const runs = Number(process.argv[2] && process.argv[2] !== 'ticks' ? process.argv[2] : 41);
const say = (line: string) => process.stdout.write(`${line}\n`);

const BASELINE = `
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricResolution, MetricUnit } from '@aws-lambda-powertools/metrics';
const logger = new Logger({ serviceName: 'support-assistant' });
const metrics = new Metrics({ namespace: 'AiRelease', serviceName: 'support-assistant' });
export const handler = async (e: { question: string }) => {
  const output = { answer: 'Answer to ' + e.question.length + ' chars', citations: ['kb-restore-01'] };
  metrics.addDimensions({ Version: '7' });
  metrics.addMetric('Invocations', MetricUnit.Count, 1, MetricResolution.High);
  metrics.addMetric('Latency', MetricUnit.Milliseconds, 12, MetricResolution.High);
  metrics.addMetric('CostUsd', MetricUnit.NoUnit, 0.0008, MetricResolution.High);
  metrics.addMetric('InputTokens', MetricUnit.Count, 850, MetricResolution.High);
  metrics.addMetric('OutputTokens', MetricUnit.Count, 40, MetricResolution.High);
  metrics.addMetric('QualityScore', MetricUnit.NoUnit, 0.9, MetricResolution.High);
  metrics.publishStoredMetrics();
  logger.info('answered', { citations: output.citations.length });
  return output;
};
`;

const RUNTIME = (runtimePath: string) => `
import { createAiRuntime } from ${JSON.stringify(runtimePath)};
const runtime = createAiRuntime<{ question: string }, { answer: string; citations: string[] }>();
export const handler = runtime.handler(async (e) => ({
  output: { answer: 'Answer to ' + e.question.length + ' chars', citations: ['kb-restore-01'] },
  usage: { inputTokens: 850, outputTokens: 40 },
  quality: 0.9,
}));
`;

// The child: time require + the first invocation, report on stderr (stdout carries the EMF and log lines).
// node:http is loaded first, as in Lambda: the runtime interface client talks to the Runtime API over it before it
// loads the handler (aws-lambda-nodejs-runtime-interface-client, RAPIDClient: \`this.http = httpClient || require('http')\`).
const CHILD = `
require('node:http');
const t0 = process.hrtime.bigint();
const m = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
m.handler({ question: 'How do I restore a deleted file?' }, { awsRequestId: 'cold', getRemainingTimeInMillis: () => 30000 }).then((out) => {
  const t2 = process.hrtime.bigint();
  if (!out || !out.answer) throw new Error('no answer: ' + JSON.stringify(out));
  process.stderr.write(JSON.stringify({ importMs: Number(t1 - t0) / 1e6, firstMs: Number(t2 - t1) / 1e6, totalMs: Number(t2 - t0) / 1e6 }) + '\\n');
});
`;

function bundle(dir: string, name: string, source: string): string {
  const entry = path.join(dir, `${name}.ts`);
  fs.writeFileSync(entry, source);
  const out = path.join(dir, `${name}.js`);
  buildSync({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    nodePaths: [path.join(root, 'node_modules')],
    logLevel: 'silent',
  });
  return out;
}

interface Sample {
  importMs: number;
  firstMs: number;
  totalMs: number;
}

function sample(childFile: string, bundleFile: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childFile], {
      env: { ...env, BENCH_BUNDLE: bundleFile, NODE_PATH: path.join(root, 'node_modules'), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => {
      err += String(c);
    });
    child.on('exit', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('{"importMs"'));
      if (code !== 0 || !line) reject(new Error(`child failed (${code}): ${err}`));
      else resolve(JSON.parse(line));
    });
  });
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: pct(s, 50), p90: pct(s, 90) };
};

/** One fresh process: require the bundle, answer one event, report the times on stderr. */
const ACTION_CHILD = `
require('node:http');
const t0 = process.hrtime.bigint();
const m = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
Promise.resolve(m.handler(JSON.parse(process.env.BENCH_EVENT), { getRemainingTimeInMillis: () => 5000 })).then((out) => {
  const t2 = process.hrtime.bigint();
  const expect = process.env.BENCH_EXPECT;
  if (expect && JSON.stringify(out) !== expect) throw new Error('unexpected answer: ' + JSON.stringify(out));
  process.stderr.write(JSON.stringify({ importMs: Number(t1 - t0) / 1e6, firstMs: Number(t2 - t1) / 1e6, totalMs: Number(t2 - t0) / 1e6 }) + '\\n');
});
`;

async function ticks() {
  const { bundleHandler } = require(path.join(root, 'scripts', 'bundle-handlers')) as { bundleHandler: (root: string, name: string, outdir: string) => string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ticks-'));
  const judgeRecord = JSON.stringify({
    schemaVersion: 1,
    service: 'support-assistant',
    plane: 'config',
    releaseKey: 'config-env1-3',
    canary: 'cfg-new',
    phase: 'canary',
    until: 0,
    updates: 9,
    samples: { canary: 90, stable: 400 },
    verdict: 'regression',
    evidence: [{ metric: 'error', eValue: 1500, threshold: 1200, canary: { n: 90, value: 0.3 }, stable: { n: 400, value: 0.01 } }],
    engine: {},
  });
  const gateReport = JSON.stringify({
    schemaVersion: 1,
    service: 'support-assistant',
    plane: 'config',
    verdict: 'passed',
    summary: '12 of 12 cases passed',
    target: { configVersion: '9' },
  });
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body = req.url?.includes('/judge/') ? judgeRecord : req.url?.includes('/gates/') ? gateReport : undefined;
    if (!body) res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_CODEDEPLOY: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_APPCONFIG: `http://127.0.0.1:${port}`,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AI_RELEASE_STORE_BUCKET: 'store',
    AI_RELEASE_GATE_CHECK_BUCKET: 'store',
  };
  const tick = {
    InvocationId: 'i-1',
    Type: 'AtDeploymentTick',
    Parameters: { service: 'support-assistant' },
    Application: { Id: 'app1' },
    Environment: { Id: 'env1' },
    ConfigurationProfile: { Id: 'prof1' },
    DeploymentNumber: 3,
    ConfigurationVersion: '9',
    PercentageComplete: 20,
  };
  const rollBack = JSON.stringify({
    Directive: 'ROLL_BACK',
    Description: 'canary judge: config cfg-new regressed on error (e-value 1500 >= 1200); rolling back',
  });
  const judgeEnv = {
    AI_RELEASE_JUDGE_SERVICE: 'support-assistant',
    AI_RELEASE_JUDGE_CODEDEPLOY_APPLICATION: 'cd-app',
    AI_RELEASE_JUDGE_DEPLOYMENT_GROUP: 'group',
    AI_RELEASE_JUDGE_APPCONFIG_APPLICATION: 'app1',
    AI_RELEASE_JUDGE_CONFIG_PROFILE: 'prof1',
    AI_RELEASE_JUDGE_APPCONFIG_ENVIRONMENT: 'env1',
    AI_RELEASE_JUDGE_LOG_GROUP: '/aws/lambda/support-assistant',
  };
  const cases = [
    { name: 'tick-only bundle (canary-judge-tick)', handler: 'canary-judge-tick', event: tick, expect: rollBack, env: {} },
    { name: 'whole judge bundle, same tick', handler: 'canary-judge', event: tick, expect: rollBack, env: judgeEnv },
    {
      name: 'PRE_START_DEPLOYMENT (config-gate-check)',
      handler: 'config-gate-check',
      event: { ...tick, Type: 'PreStartDeployment', Parameters: { service: 'support-assistant', profile: 'prof1' } },
      expect: '',
      env: {},
    },
  ].map((c) => {
    const out = bundleHandler(root, c.handler, path.join(dir, c.handler));
    const file = path.join(out, 'index.js');
    return { ...c, file, bytes: fs.statSync(file).size };
  });
  const childFile = path.join(dir, 'child.js');
  fs.writeFileSync(childFile, ACTION_CHILD);
  const run = (c: (typeof cases)[number]) => sample(childFile, c.file, { ...base, ...c.env, BENCH_EVENT: JSON.stringify(c.event), BENCH_EXPECT: c.expect });
  for (const c of cases) await run(c); // warm the OS file cache
  const results = cases.map(() => [] as Sample[]);
  for (let i = 0; i < runs; i++) for (let k = 0; k < cases.length; k++) results[k].push(await run(cases[k]));
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const cpu = os.cpus();
  say(
    `machine: ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  say(`AppConfig synchronous actions, cold: ${runs} fresh node processes each (interleaved), ms from require to the answer (one S3 GetObject on loopback):`);
  say('                                              bundle KB   median     p90   | import p50 | answer p50');
  cases.forEach((c, k) => {
    const xs = results[k];
    const t = stats(xs.map((x) => x.totalMs));
    say(
      `  ${c.name.padEnd(42)} ${(c.bytes / 1024).toFixed(0).padStart(8)} ${t.p50.toFixed(1).padStart(8)} ${t.p90.toFixed(1).padStart(7)}   | ${stats(
        xs.map((x) => x.importMs),
      )
        .p50.toFixed(1)
        .padStart(10)} | ${stats(xs.map((x) => x.firstMs))
        .p50.toFixed(1)
        .padStart(8)}`,
    );
  });
  say(`  (S3 stand-in requests: ${requests.length}; budget: AppConfig waits about 3,000 ms; the tick reads within 1,500 ms)`);
}

async function main() {
  if (process.argv[3] === 'ticks' || process.argv[2] === 'ticks') return ticks();
  const { hosted, flags } = await exampleServedConfigs();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'configuration-version': '1' }).end(req.url?.endsWith('/rel') ? hosted : flags);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const env = {
    ...process.env,
    AI_RELEASE_SERVICE: 'support-assistant',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
    AI_RELEASE_DEGRADE_ENVIRONMENT: 'switches',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
    AWS_LAMBDA_FUNCTION_VERSION: '7',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String((server.address() as AddressInfo).port),
    AWS_REGION: 'us-east-1',
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
  const childFile = path.join(dir, 'child.js');
  fs.writeFileSync(childFile, CHILD);
  const baseline = bundle(dir, 'baseline', BASELINE);
  // BENCH_RUNTIME_DIR: another copy of lambda/runtime (e.g. `git archive <commit> lambda`) to compare before/after.
  const runtime = bundle(dir, 'runtime', RUNTIME(process.env.BENCH_RUNTIME_DIR ?? path.join(root, 'lambda/runtime')));

  // Warm the OS file cache, then interleave so drift on a shared machine hits both alike.
  await sample(childFile, baseline, env);
  await sample(childFile, runtime, env);
  const b: Sample[] = [];
  const r: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    b.push(await sample(childFile, baseline, env));
    r.push(await sample(childFile, runtime, env));
  }
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const cpu = os.cpus();
  say(`machine: ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}`);
  say(`cold start, ${runs} fresh node processes each (interleaved), ms from require to the end of the first invocation:`);
  say('                          median     p90   | import p50 | first invocation p50');
  const row = (name: string, xs: Sample[]) => {
    const t = stats(xs.map((x) => x.totalMs));
    say(
      `  ${name.padEnd(22)} ${t.p50.toFixed(1).padStart(7)} ${t.p90.toFixed(1).padStart(7)}   | ${stats(xs.map((x) => x.importMs))
        .p50.toFixed(1)
        .padStart(10)} | ${stats(xs.map((x) => x.firstMs))
        .p50.toFixed(1)
        .padStart(8)}`,
    );
    return t;
  };
  const bt = row('Powertools baseline', b);
  const rt = row('on the runtime', r);
  // The difference per interleaved pair, so machine drift between pairs cancels.
  const diff = stats(r.map((x, i) => x.totalMs - b[i].totalMs));
  say(
    `  added by the runtime: median ${(rt.p50 - bt.p50).toFixed(1)} ms, p90 ${(rt.p90 - bt.p90).toFixed(1)} ms; paired difference median ${diff.p50.toFixed(1)} ms, p90 ${diff.p90.toFixed(1)} ms (target <= 30 ms, ratio ${((rt.p50 - bt.p50) / 30).toFixed(2)})`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
