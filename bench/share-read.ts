/**
 * What reading the share document through costs on the hot path (issue 16 C5, lambda/runtime/share-reader.ts): one
 * loopback HTTP GET to an extension-like server per invocation while a release runs, against today's 5-s TTL cache
 * (a Map look-up on most invocations). The "extension" runs in a child process, as the AppConfig extension does in
 * Lambda, so the CPU figures are the function's own.
 *
 *   npx tsx bench/share-read.ts [reads]
 *
 * Prints per-assignment wall time (median, p99) and the function process's CPU per assignment for both ports.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { AssigningRuntime } from '../lambda/runtime/assigning-runtime';
import type { ConfigPort } from '../lambda/runtime/ai-runtime';
import { ConfigCache, type ServedConfig } from '../lambda/runtime/config-cache';
import { ExtensionFetcher } from '../lambda/runtime/extension-fetcher';
import { ShareReader } from '../lambda/runtime/share-reader';

const reads = Number(process.argv[2] ?? 5000);
const say = (line: string) => process.stdout.write(`${line}\n`);

const SHARE = { schemaVersion: 1, releaseKey: 'config-assigned-8-bench', share: 0.5, candidateContentHash: 'h', history: [{ at: 1, share: 0.5 }] };
const SERVER = `
const http = require('node:http');
const body = JSON.stringify(${JSON.stringify(SHARE)});
const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

/** The candidate's config, in memory (its cost is the same on both ports). */
const candidate: ConfigPort = {
  fresh: (): ServedConfig => ({ content: { _release: { contentHash: 'h' } }, stale: false }),
  get: async () => ({ content: { _release: { contentHash: 'h' } }, stale: false }),
};

async function measure(name: string, share: ConfigPort) {
  const rt = new AssigningRuntime<{ conversationId: string }, string>({
    live: { invoke: async () => 'live' },
    candidate: { invoke: async () => 'candidate' },
    share,
    shareProfile: 'share',
    candidateConfig: candidate,
    releaseProfile: 'release',
    telemetry: { warn: () => undefined },
  });
  for (let i = 0; i < 200; i++) await rt.assignment({ conversationId: `w${i}` }, { awsRequestId: `w${i}` }); // warm-up
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  let onCandidate = 0;
  for (let i = 0; i < reads; i++) {
    const t = process.hrtime.bigint();
    const a = await rt.assignment({ conversationId: `c${i}` }, { awsRequestId: `r${i}` });
    wall.push(Number(process.hrtime.bigint() - t) / 1000);
    if (a.arm === 'candidate') onCandidate++;
  }
  const cpu = process.cpuUsage(cpu0);
  wall.sort((a, b) => a - b);
  const q = (p: number) => wall[Math.min(wall.length - 1, Math.floor(p * wall.length))].toFixed(1);
  say(
    `${name}: ${reads} assignments; wall median ${q(0.5)} µs, p99 ${q(0.99)} µs; function CPU ${((cpu.user + cpu.system) / reads).toFixed(1)} µs per assignment (user+system); on the candidate ${((100 * onCandidate) / reads).toFixed(1)} %`,
  );
}

async function main() {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  try {
    const fetcher = () => new ExtensionFetcher('app', 'share-env', port);
    say(`share document ${JSON.stringify(SHARE).length} B served by a child process on 127.0.0.1 (keep-alive)`);
    await measure('before: ConfigCache, 5-s TTL (one loopback read per 5 s)', new ConfigCache(fetcher(), 5000));
    await measure('after: ShareReader, read through while share > 0 (one loopback read per assignment)', new ShareReader(fetcher(), { idleTtlMs: 5000 }));
    say(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`);
  } finally {
    child.kill();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  process.exit(1);
});
