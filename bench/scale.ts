/**
 * Scale benchmark (issue 15 E): how many services one platform and one stack hold, and synth time at 1, 15 and 50
 * services in the two layouts that scale — one nested stack per service under the platform's stack, and a platform
 * stack plus one top-level stack per service — with every default on and an AppConfig application per service.
 * Also what binds when every service shares one stack: resources, template size and environments per application.
 *
 *   npx tsx bench/scale.ts [counts, default 1,15,50]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';

const configDir = path.join(__dirname, '..', 'example/support-assistant/release-config');
const RESOURCES_PER_STACK = 500; // CloudFormation quotas: resources per stack
const TEMPLATE_BYTES = 1_000_000; // CloudFormation quotas: template body size in an S3 object (1 MB)

type Layout = 'nested' | 'stacks' | 'one-stack';

function service(scope: Stack, id: string, name: string, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, `${id}Fn`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler=async()=>'${name}'`),
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
  });
  new AiRelease(scope, `${id}Release`, { serviceName: name, function: fn, config: ReleaseConfigSource.fromDirectory(configDir), platform });
}

interface Row {
  layout: Layout;
  services: number;
  ms: number;
  stacks: number;
  maxResources: number;
  maxBytes: number;
  platformResources: number;
}

function run(layout: Layout, n: number): Row {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const t0 = process.hrtime.bigint();
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const top = new Stack(app, 'AiPlatform');
  const platform = new AiReleasePlatform(top, 'Platform', layout === 'one-stack' ? { appConfigEnvironmentQuota: 1000 } : { applicationPerService: true });
  for (let i = 0; i < n; i++) {
    const scope = layout === 'nested' ? new NestedStack(top, `Svc${i}`) : layout === 'stacks' ? new Stack(app, `Svc${i}`) : top;
    service(scope, layout === 'one-stack' ? `S${i}` : 'S', `svc-${i}`, platform);
  }
  app.synth();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  let maxResources = 0;
  let maxBytes = 0;
  let platformResources = 0;
  for (const f of templates) {
    const body = fs.readFileSync(path.join(outdir, f), 'utf8');
    const count = Object.keys(JSON.parse(body).Resources ?? {}).length;
    maxResources = Math.max(maxResources, count);
    maxBytes = Math.max(maxBytes, body.length);
    if (f === 'AiPlatform.template.json') platformResources = count;
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  return { layout, services: n, ms, stacks: templates.length, maxResources, maxBytes, platformResources };
}

const counts = (process.argv[2] ?? '1,15,50').split(',').map(Number);
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`machine: ${os.cpus().length} x ${cpu}, node ${process.version}, ${new Date().toISOString()}`);

run('nested', 1); // warm the module cache

// One stack for everything: what binds first.
const a = run('one-stack', 1);
const b = run('one-stack', 2);
const perResources = b.maxResources - a.maxResources;
const perBytes = b.maxBytes - a.maxBytes;
const platformRes = a.maxResources - perResources;
const platformBytes = a.maxBytes - perBytes;
const fitResources = Math.floor((RESOURCES_PER_STACK - platformRes) / perResources);
const fitBytes = Math.floor((TEMPLATE_BYTES - platformBytes) / perBytes);
const fitEnvironments = Math.floor(20 / 3);
console.log(
  `one stack, shared application: ${perResources} resources and ${(perBytes / 1000).toFixed(1)} kB of template per service (platform ${platformRes}, ${(platformBytes / 1000).toFixed(1)} kB); ` +
    `fits ${fitResources} by resources (500), ${fitBytes} by template size (1 MB), ${fitEnvironments} by environments per application (20): binding ${
      [
        ['environments per application', fitEnvironments],
        ['resources per stack', fitResources],
        ['template size', fitBytes],
      ].sort((x, y) => (x[1] as number) - (y[1] as number))[0][0]
    }`,
);

const rows: Row[] = [];
for (const layout of ['nested', 'stacks'] as Layout[]) {
  for (const n of counts) {
    const r = run(layout, n);
    rows.push(r);
    console.log(
      `${layout.padEnd(6)} ${String(n).padStart(3)} services: synth ${(r.ms / 1000).toFixed(1)} s (${(r.ms / n).toFixed(0)} ms/service), ${r.stacks} templates, ` +
        `platform stack ${r.platformResources} resources, largest template ${r.maxResources} resources / ${(r.maxBytes / 1000).toFixed(0)} kB`,
    );
  }
  const own = rows.filter((r) => r.layout === layout);
  if (own.length >= 3) {
    const [first, mid, last] = [own[0], own[1], own[own.length - 1]];
    const slopeLow = (mid.ms - first.ms) / (mid.services - first.services);
    const slopeHigh = (last.ms - mid.ms) / (last.services - mid.services);
    console.log(
      `${layout}: ms per added service ${slopeLow.toFixed(0)} (${first.services}→${mid.services}) vs ${slopeHigh.toFixed(0)} (${mid.services}→${last.services}); ratio ${(slopeHigh / slopeLow).toFixed(2)} (1 = linear)`,
    );
  }
}
