/**
 * Synth benchmark: wall time of `cdk synth` for the example app (the README's main job), and in-process synth
 * time and CloudFormation resource count for 1, 5, 10 and 11 services (and with the config gate connected) in one stack, and how many fit.
 *
 *   npx tsx bench/synth.ts
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';

const root = path.join(__dirname, '..');
const configDir = path.join(root, 'example/support-assistant/release-config');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function cliSynth(runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    const t0 = process.hrtime.bigint();
    execFileSync(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--no-notices', '--quiet', '--output', outdir], {
      cwd: root,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      stdio: 'pipe',
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  return times;
}

function inProcess(services: number): { ms: number; resources: number } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-n-'));
  const t0 = process.hrtime.bigint();
  const app = new App({ outdir });
  const stack = new Stack(app, 'Platform');
  // CloudFormation's limit is what is measured here; AppConfig's environments-per-application quota (20, so 6
  // services) is raised on the platform as a team with a raised quota would, and reported separately below.
  new AiReleasePlatform(stack, 'AiReleasePlatform', { appConfigEnvironmentQuota: 100 });
  for (let i = 0; i < services; i++) {
    // A service as a platform team composes it: its function, and everything AiRelease adds (the regression gate,
    // the config gate, the canary judge, snapshots and reviews are all on by default).
    // With a log group of its own, as a platform team sets it (else `function.logGroup`, which the snapshot
    // subscription needs, adds CDK's LogRetention custom resource per function).
    const fn = new lambda.Function(stack, `Fn${i}`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(`exports.handler=async()=>${i}`),
      logGroup: new logs.LogGroup(stack, `Logs${i}`, { retention: logs.RetentionDays.ONE_MONTH }),
    });
    new AiRelease(stack, `Svc${i}`, { serviceName: `svc-${i}`, function: fn, config: ReleaseConfigSource.fromDirectory(configDir) });
  }
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const template = assembly.getStackByName('Platform').template as { Resources: object };
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, resources: Object.keys(template.Resources).length };
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
);

const cli = cliSynth(3);
console.log(
  `cdk synth (example app, esbuild bundling, validation on): median ${(median(cli) / 1000).toFixed(2)} s over ${cli.length} runs [${cli.map((t) => (t / 1000).toFixed(2)).join(', ')}]; budget 60 s, ratio ${(median(cli) / 60000).toFixed(3)}`,
);

inProcess(1); // warm the module cache so the first row is not load time
const rows = [1, 3, 6, 7].map((n) => ({ n, ...inProcess(n) }));
const base = rows[0];
console.log('services | synth ms | resources (limit 500) | resources/service (marginal) | ms ratio to 1 service');
for (const r of rows) {
  const marginal = r.n === 1 ? '-' : ((r.resources - base.resources) / (r.n - 1)).toFixed(1);
  console.log(
    `${String(r.n).padStart(8)} | ${r.ms.toFixed(0).padStart(8)} | ${String(r.resources).padStart(21)} | ${marginal.padStart(28)} | ${(r.ms / base.ms).toFixed(2)}`,
  );
}
const perService = (rows[rows.length - 1].resources - base.resources) / (rows[rows.length - 1].n - 1);
const shared = base.resources - perService;
console.log(
  `per service ${perService} resources, shared per stack ${shared}: at most ${Math.floor((500 - shared) / perService)} services fit under CloudFormation's 500`,
);
console.log(
  'AppConfig: 3 environments per service (live release, degrade, candidate) against 20 per application: at most 6 services per platform at the default quota',
);
