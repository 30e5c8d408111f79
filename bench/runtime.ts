/**
 * Runtime benchmark (issue: runtime). Prints its figures and ratios; targets:
 *   - added latency over a bare handler: <= 50 µs at p50, <= 200 µs at p99 (10,000 invocations, in-process,
 *     config served by a loopback HTTP server standing in for the AppConfig extension);
 *   - added cold-start init (module load of a handler on the runtime vs a bare handler): <= 30 ms;
 *   - the example handler's minified bundle: <= 300 KB.
 *
 *   npx tsx bench/runtime.ts
 *
 * EMF and log lines go to stdout; the script re-runs itself with stdout discarded and prints results on stderr.
 */
import { exampleServedConfigs, pct, root } from './support';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const N = 10_000;
const WARMUP = 2_000;
const say = (line: string) => process.stderr.write(`${line}\n`);

if (!process.env.BENCH_CHILD) {
  // Re-run with stdout discarded (the runtime writes one EMF line per invocation), results on stderr.
  const r = spawnSync(process.execPath, [...process.execArgv, __filename], {
    env: { ...process.env, BENCH_CHILD: '1', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.exit(r.status ?? 1);
}

async function latency() {
  const { hosted, flags } = await exampleServedConfigs();
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'application/json', 'configuration-version': '1' }).end(req.url?.endsWith('/rel') ? hosted : flags);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  Object.assign(process.env, {
    AI_RELEASE_SERVICE: 'support-assistant',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
    AWS_LAMBDA_FUNCTION_VERSION: '7',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(port),
    AWS_REGION: 'us-east-1',
  });
  // BENCH_RUNTIME_DIR: another copy of lambda/runtime, to compare before/after on the same machine load.
  const { createAiRuntime } = (await import(process.env.BENCH_RUNTIME_DIR ?? '../lambda/runtime')) as typeof import('../lambda/runtime');
  type Out = { answer: string; citations: string[] };
  const work = (q: string): Out => ({ answer: `Answer to ${q.length} chars`, citations: ['kb-restore-01'] });
  const bare = async (e: { question: string }) => work(e.question);
  const runtime = createAiRuntime<{ question: string }, Out>();
  const wrapped = runtime.handler(async (e) => ({ output: work(e.question), usage: { inputTokens: 850, outputTokens: 40 }, quality: 0.9 }));
  const ctx = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 30_000 };
  const event = { question: 'How do I restore a deleted file?' };

  const measure = async (fn: (e: typeof event, c: typeof ctx) => Promise<unknown>) => {
    for (let i = 0; i < WARMUP; i++) await fn(event, ctx);
    const times = new Array<number>(N);
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      await fn(event, ctx);
      times[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    return times.sort((a, b) => a - b);
  };
  // Interleave rounds so drift on a shared machine hits both alike.
  const rounds = 3;
  const bareAll: number[] = [];
  const wrappedAll: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const b = await measure(bare);
    const w = await measure(wrapped);
    say(`  round ${r + 1}: runtime p50 ${pct(w, 50).toFixed(1)} µs, p99 ${pct(w, 99).toFixed(1)} µs (bare p50 ${pct(b, 50).toFixed(1)} µs)`);
    bareAll.push(...b);
    wrappedAll.push(...w);
  }
  bareAll.sort((a, b) => a - b);
  wrappedAll.sort((a, b) => a - b);
  server.close();
  return { bareAll, wrappedAll, served };
}

function bundle(entry: string, out: string): number {
  buildSync({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  return fs.statSync(out).size;
}

function initMs(file: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`],
      {
        env: { ...process.env, NODE_PATH: path.join(root, 'node_modules'), BENCH_CHILD: '', NODE_NO_WARNINGS: '1' },
      },
    ).toString();
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main() {
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  const { bareAll, wrappedAll, served } = await latency();
  const b50 = pct(bareAll, 50);
  const b99 = pct(bareAll, 99);
  const w50 = pct(wrappedAll, 50);
  const w99 = pct(wrappedAll, 99);
  say(
    `latency, ${bareAll.length} invocations each (3 interleaved rounds of ${N}), config from a loopback extension stand-in (${served} config fetches in all):`,
  );
  say(`  bare handler    p50 ${b50.toFixed(1)} µs   p99 ${b99.toFixed(1)} µs`);
  say(
    `  on the runtime  p50 ${w50.toFixed(1)} µs   p99 ${w99.toFixed(1)} µs   (ratio to bare: p50 ${(w50 / b50).toFixed(1)}x, p99 ${(w99 / b99).toFixed(1)}x)`,
  );
  say(
    `  added           p50 ${(w50 - b50).toFixed(1)} µs (target <= 50, ratio ${((w50 - b50) / 50).toFixed(2)})   p99 ${(w99 - b99).toFixed(1)} µs (target <= 200, ratio ${((w99 - b99) / 200).toFixed(2)})`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundle-'));
  fs.writeFileSync(
    path.join(dir, 'bare.ts'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is TypeScript source written to a file
    'export const handler = async (e: { question: string }) => ({ answer: `Answer to ${e.question.length} chars`, citations: [] });\n',
  );
  fs.writeFileSync(
    path.join(dir, 'runtime.ts'),
    `import { createAiRuntime } from ${JSON.stringify(path.join(root, 'lambda/runtime'))};\n` +
      'const runtime = createAiRuntime<{ question: string }, { answer: string }>();\n' +
      'export const handler = runtime.handler(async (e) => ({ output: { answer: e.question } }));\n',
  );
  const bareSize = bundle(path.join(dir, 'bare.ts'), path.join(dir, 'bare.js'));
  const runtimeSize = bundle(path.join(dir, 'runtime.ts'), path.join(dir, 'runtime.js'));
  const exampleSize = bundle(path.join(root, 'lambda/support-assistant/handler.ts'), path.join(dir, 'example.js'));
  const envForInit = {
    AI_RELEASE_SERVICE: 's',
    AI_RELEASE_APPCONFIG_APPLICATION: 'a',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'e',
    AI_RELEASE_CONFIG_PROFILE: 'p',
    AI_RELEASE_DEGRADE_PROFILE: 'd',
    AWS_REGION: 'us-east-1',
  };
  Object.assign(process.env, envForInit);
  const runs = 15;
  const bareInit = initMs(path.join(dir, 'bare.js'), runs);
  const runtimeInit = initMs(path.join(dir, 'runtime.js'), runs);
  const exampleInit = initMs(path.join(dir, 'example.js'), runs);
  say(`cold-start init (module load, median of ${runs} fresh processes; @aws-sdk/* external as in the Lambda runtime, loaded from node_modules):`);
  say(
    `  bare handler ${bareInit.toFixed(1)} ms; on the runtime ${runtimeInit.toFixed(1)} ms; added ${(runtimeInit - bareInit).toFixed(1)} ms (target <= 30, ratio ${((runtimeInit - bareInit) / 30).toFixed(2)})`,
  );
  say(`  the example handler (runtime + Bedrock client + knowledge base): ${exampleInit.toFixed(1)} ms`);
  say(
    `bundle, minified: example handler ${(exampleSize / 1024).toFixed(1)} KB (target <= 300, ratio ${(exampleSize / 1024 / 300).toFixed(2)}); runtime-only handler ${(runtimeSize / 1024).toFixed(1)} KB; bare ${(bareSize / 1024).toFixed(1)} KB`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  say(String(e?.stack ?? e));
  process.exit(1);
});
