/**
 * Resources in one flat stack (every service beside its platform, every default on), counted from the construct tree
 * as the stack capacity check (lib/private/stack-capacity.ts) counts them: the platform, the marginal cost of a
 * service, and how many services fit CloudFormation's 500 resources per stack, with a shared AppConfig application
 * and with applicationPerService. Construction counts first (no synth); then the fitting count and the next one are
 * synthesized (bundling skipped): synth adds what prepare creates (IAM splits a role's policies into managed
 * policies when they outgrow the inline limit), and the synthesized template is what CloudFormation counts.
 *
 *   npx tsx bench/flat-stack.ts              (a bare App)
 *   FLAT_FLAGS=cdk.json npx tsx bench/flat-stack.ts   (this repository's cdk.json feature flags)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { validConfig } from '../test/helpers';

const RESOURCES_PER_STACK = 500; // CloudFormation quotas: resources per stack
const exampleConfig = path.join(__dirname, '..', 'example/support-assistant/release-config');
const configs = {
  'test/helpers validConfig()': () => ReleaseConfigSource.fromObject(validConfig()),
  'the example release config (with an evaluation section)': () => ReleaseConfigSource.fromDirectory(exampleConfig),
};

/**
 * `FLAT_FLAGS=cdk.json`: the app gets this repository's cdk.json feature flags (what `cdk init` writes and the example
 * app runs with: @aws-cdk/aws-iam:minimizePolicies merges a role's statements; @aws-cdk/aws-lambda:useCdkManagedLogGroup
 * gives every function a log group resource of its own); default: a bare App, as a consumer without those flags has.
 */
const FLAGS: Record<string, unknown> =
  process.env.FLAT_FLAGS === 'cdk.json' ? (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context as Record<string, unknown>) : {};

function flat(n: number, applicationPerService: boolean, config: () => ReleaseConfigSource) {
  const app = new App({ context: { ...FLAGS, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Flat');
  const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService });
  const releases: AiRelease[] = [];
  for (let i = 0; i < n; i++) {
    const fn = new lambda.Function(stack, `S${i}Fn`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      logGroup: new logs.LogGroup(stack, `S${i}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
    });
    releases.push(new AiRelease(stack, `S${i}Release`, { serviceName: `svc-${i}`, function: fn, config: config(), platform }));
  }
  const count = (scope: { node: { findAll(): unknown[] } }) =>
    scope.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c as CfnResource) === stack).length;
  return { app, total: count(stack), underRelease: count(releases[0]) };
}

/** Resources in the synthesized template, or the refusal synth printed. */
function synthesized(n: number, applicationPerService: boolean, config: () => ReleaseConfigSource): string {
  const { app } = flat(n, applicationPerService, config);
  try {
    return `${Object.keys(app.synth().getStackByName('Flat').template.Resources).length} resources`;
  } catch (e) {
    const m = String((e as Error).message).match(/(\d+) resources in stack Flat exceed/);
    return m ? `refused at synth (${m[1]} resources)` : `refused at synth: ${String((e as Error).message).slice(0, 200)}`;
  }
}

/** Resources of n services, built once per n (construction only). */
function totalOf(n: number, applicationPerService: boolean, config: () => ReleaseConfigSource, cache: Map<number, number>): number {
  if (!cache.has(n)) cache.set(n, flat(n, applicationPerService, config).total);
  return cache.get(n)!;
}

for (const [name, config] of Object.entries(configs)) {
  for (const applicationPerService of [false, true]) {
    const cache = new Map<number, number>();
    const one = flat(1, applicationPerService, config);
    cache.set(1, one.total);
    // The marginal cost over six services: the judge's schedule rules are shared five targets per rule (h9-schedule),
    // so the second service costs one resource less than the sixth.
    const perService = (totalOf(6, applicationPerService, config, cache) - one.total) / 5;
    const platform = one.total - perService;
    // The most that fit by construction count: estimated from the mean, then stepped to the exact boundary.
    let fits = Math.floor((RESOURCES_PER_STACK - platform) / perService);
    while (totalOf(fits + 1, applicationPerService, config, cache) <= RESOURCES_PER_STACK) fits++;
    while (fits > 1 && totalOf(fits, applicationPerService, config, cache) > RESOURCES_PER_STACK) fits--;
    const atFits = totalOf(fits, applicationPerService, config, cache);
    const atNext = totalOf(fits + 1, applicationPerService, config, cache);
    console.log(
      `${name}, applicationPerService ${applicationPerService}: platform ${platform.toFixed(1)}, per service ${perService.toFixed(1)} (mean of services 2-6; ${one.underRelease} under its AiRelease); ` +
        `fits ${fits} by resources (${fits} services: ${atFits}, ${fits + 1}: ${atNext} of ${RESOURCES_PER_STACK}); mean per service at ${fits}: ${(atFits / fits).toFixed(1)}; ` +
        `synthesized: ${fits} services ${synthesized(fits, applicationPerService, config)}, ${fits + 1} ${synthesized(fits + 1, applicationPerService, config)}`,
    );
  }
}
