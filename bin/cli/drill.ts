import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { type DrillReport, readDrillModel, renderDrillMarkdown, renderDrillSvg, renderDrillText, resolveScenarios, runDrill } from '../../lib/drill';
import { EXIT, type Io, UsageError } from './io';

interface DrillCliOptions {
  readonly stack?: string;
  readonly service?: string;
  readonly plane: 'code' | 'config';
  readonly scenario?: string[];
  readonly rate: string;
  readonly baseErrorRate: string;
  readonly runs: string;
  readonly samples: string;
  readonly resampled?: boolean;
  readonly reference: boolean;
  readonly json?: boolean;
  readonly out?: string;
  readonly ingestionSeconds?: string;
  readonly reactionSeconds?: string;
  readonly failUnder?: string;
  readonly maxFalseRollback?: string;
}

/** `cdk-ai-release drill [template]`: how surely and how fast the synthesized alarms catch a bad release. */
export function registerDrill(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('drill')
    .summary('simulate a bad release against the synthesized alarms: time to detect, rollback, odds')
    .description(
      "Reads the release alarms, metric math, M of N, missing-data treatment, composite rules, the CodeDeploy schedule and the AppConfig strategy from a synthesized template, sends Poisson traffic with an injected fault through the real runtime, evaluates the alarms as CloudWatch documents it, and reports time to detect, time to rollback start, bad answers served, and over seeded runs the odds a bad release is caught before 100 % and a good one is rolled back. Side by side with SAM's documented example (AWS/Lambda Errors > 0, 60 s x 2).",
    )
    .argument('[template]', 'a cdk.out directory (default ./cdk.out) or a <stack>.template.json file', 'cdk.out')
    .option('--stack <name>', 'the stack to read from a cdk.out that holds several')
    .option('-s, --service <name>', 'the service to drill when a stack holds several')
    .addOption(new Option('--plane <plane>', 'which rollout the bad change rides').choices(['code', 'config']).default('code'))
    .option(
      '--scenario <names...>',
      'default, all, a built-in name (latency-creep, cost-jump, quality-drop, safety, contract, late-fault, low-traffic, missing-data, good-release) or <fault>[:size[:startSeconds]]',
    )
    .option('--rate <perSecond>', 'requests per second to the service', '5')
    .option('--base-error-rate <fraction>', 'share of requests failing in both versions', '0.005')
    .option('--runs <n>', 'seeded Monte Carlo runs per scenario', '1000')
    .option('--samples <n>', 'requests of each kind (stable, new healthy, new faulty) the runtime serves for the Monte Carlo to resample', '1000')
    .option('--resampled', 'single runs from resampled runtime outcomes (faster) instead of every request through the runtime')
    .option('--no-reference', 'skip the SAM reference setup')
    .option('--ingestion-seconds <s>', 'assumed delay from a request to its datapoint being visible (timing)')
    .option('--reaction-seconds <s>', 'assumed delay from ALARM to the rollback starting (timing; both planes)')
    .option('--out <dir>', 'write drill.md, drill.json and one drill-<scenario>.svg timeline per scenario there')
    .option('--json', 'print the report as JSON')
    .option('--fail-under <fraction>', 'exit 1 when a bad release is caught before 100 % less often than this')
    .option('--max-false-rollback <fraction>', 'exit 1 when a good release is rolled back more often than this')
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release drill                              # ./cdk.out, the default scenario (20 % errors from the first request)
  $ cdk-ai-release drill cdk.out --scenario all --rate 2 --out drill
  $ cdk-ai-release drill cdk.out/MyStack.template.json --scenario contract:0.05 low-traffic --json
  $ cdk-ai-release drill --fail-under 0.99 --max-false-rollback 0.01     # a CI gate

Exit codes: 0 done, 1 a --fail-under or --max-false-rollback target missed, 2 bad usage or input (no template, no release alarms), 3 internal error.`,
    )
    .action(async (template: string, o: DrillCliOptions) => {
      const num = (v: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || !check(n)) throw new UsageError(`${flag} must be ${what}, got "${v}"`);
        return n;
      };
      const rate = num(o.rate, '--rate', (n) => n > 0 && n <= 1000, 'a number of requests per second above 0 (at most 1000)') as number;
      const baseErrorRate = num(o.baseErrorRate, '--base-error-rate', (n) => n >= 0 && n < 1, 'a fraction from 0 to 1 (0.005 = 0.5 %)') as number;
      const runs = num(o.runs, '--runs', (n) => Number.isInteger(n) && n >= 1 && n <= 100_000, 'a whole number from 1 to 100000') as number;
      const samples = num(o.samples, '--samples', (n) => Number.isInteger(n) && n >= 10 && n <= 100_000, 'a whole number from 10 to 100000') as number;
      const ingestion = num(o.ingestionSeconds, '--ingestion-seconds', (n) => n >= 0, 'a number of seconds >= 0');
      const reaction = num(o.reactionSeconds, '--reaction-seconds', (n) => n >= 0, 'a number of seconds >= 0');
      const failUnder = num(o.failUnder, '--fail-under', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1');
      const maxFalse = num(o.maxFalseRollback, '--max-false-rollback', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1');

      const { json, source } = readTemplate(template, o.stack, o.service);
      let report: DrillReport;
      try {
        const model = readDrillModel(json, o.service);
        if (model.alarms.length === 0)
          throw new Error(
            `${source} has no CloudWatch alarms: it is not a template with cdk-ai-release constructs (synthesize the app, then pass its cdk.out)`,
          );
        const scenarios = resolveScenarios(o.scenario ?? [], o.plane, rate);
        report = await runDrill(model, scenarios, {
          ratePerSecond: rate,
          baseErrorRate,
          runs,
          samplesPerClass: samples,
          singleRun: o.resampled ? 'resampled' : 'runtime',
          noReference: !o.reference,
          timing: {
            ...(ingestion !== undefined ? { metricIngestionSeconds: ingestion } : {}),
            ...(reaction !== undefined ? { codeDeployReactionSeconds: reaction, appConfigReactionSeconds: reaction } : {}),
          },
        });
      } catch (e) {
        if (e instanceof UsageError) throw e;
        // The template's or the user's problem (what it lacks, a bad scenario): one line, exit 2.
        if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError)) throw new UsageError(e.message);
        throw e;
      }

      if (o.out) writeOutputs(o.out, report, source);
      io.out(o.json ? `${JSON.stringify(report, undefined, 2)}\n` : renderDrillText(report));
      if (o.out && !o.json) io.out(`wrote ${path.join(o.out, 'drill.md')}, drill.json and ${report.scenarios.length} timeline(s)\n`);

      const bad = report.scenarios.filter((s) => s.scenario.fault.kind !== 'none');
      const missed = failUnder !== undefined && bad.some((s) => s.monteCarlo.pCaughtBeforeFull < failUnder);
      const falseHigh = maxFalse !== undefined && report.scenarios.some((s) => s.falseRollback.caught / s.falseRollback.runs > maxFalse);
      if (missed) io.err(`cdk-ai-release: a bad release is caught before 100 % less often than ${failUnder}\n`);
      if (falseHigh) io.err(`cdk-ai-release: a good release is rolled back more often than ${maxFalse}\n`);
      // Exit 1 = a finding, as `diff --exit-code` uses it.
      setExit(missed || falseHigh ? EXIT.CHANGED : EXIT.OK);
    });
}

/** Finds and parses the template: a file, or the stack in a cloud assembly (`cdk.out`). */
export function readTemplate(location: string, stack: string | undefined, service: string | undefined): { json: unknown; source: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(location);
  } catch {
    throw new UsageError(`cannot read ${location}: synthesize first (npx cdk synth), or pass a template file or cdk.out directory`);
  }
  const parse = (file: string) => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`${file} is not a JSON template: ${(e as Error).message}`);
    }
  };
  if (!stat.isDirectory()) return { json: parse(location), source: location };
  const manifestFile = path.join(location, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new UsageError(`${location} is not a cloud assembly (no manifest.json): pass a cdk.out directory or a template file`);
  const manifest = parse(manifestFile) as { artifacts?: Record<string, { type?: string; displayName?: string; properties?: { templateFile?: string } }> };
  const stacks = Object.entries(manifest.artifacts ?? {})
    .filter(([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map(([id, a]) => ({ id, name: a.displayName ?? id, file: path.join(location, a.properties?.templateFile as string) }));
  if (stack) {
    const s = stacks.find((x) => x.id === stack || x.name === stack);
    if (!s) throw new UsageError(`no stack ${stack} in ${location}; it holds ${stacks.map((x) => x.name).join(', ') || 'no stacks'}`);
    return { json: parse(s.file), source: s.file };
  }
  // The stacks with a release to drill: a CodeDeploy group or a monitored AppConfig environment (of the service).
  const candidates = stacks
    .map((s) => ({ ...s, json: parse(s.file) as { Resources?: Record<string, { Type?: string }> } }))
    .filter((s) => {
      const text = JSON.stringify(s.json.Resources ?? {});
      const hasRelease = Object.values(s.json.Resources ?? {}).some(
        (r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup' || r.Type === 'AWS::AppConfig::Environment',
      );
      return hasRelease && (service === undefined || text.includes(`"Value":${JSON.stringify(service)}`));
    });
  if (candidates.length === 0)
    throw new UsageError(
      `no stack in ${location} has a release to drill (a CodeDeploy deployment group or AppConfig environment${service ? ` for service ${service}` : ''}): is it an app with cdk-ai-release constructs?`,
    );
  if (candidates.length > 1)
    throw new UsageError(`${location} holds several stacks with releases (${candidates.map((c) => c.name).join(', ')}): pick one with --stack`);
  return { json: candidates[0].json, source: candidates[0].file };
}

function writeOutputs(dir: string, report: DrillReport, source: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const svg = (name: string) => `drill-${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.svg`;
  for (const s of report.scenarios) fs.writeFileSync(path.join(dir, svg(s.scenario.name)), renderDrillSvg(report, s));
  fs.writeFileSync(path.join(dir, 'drill.md'), renderDrillMarkdown(report, svg, source));
  fs.writeFileSync(path.join(dir, 'drill.json'), `${JSON.stringify(report, undefined, 2)}\n`);
}
