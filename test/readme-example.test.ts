import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readmeExample } from './readme-blocks';

// The README's complete minimal example, as a user gets it: every code block marked `<!-- readme-example: <path> -->`
// is written to <path> in an empty app folder, the library is installed there as a package (its `exports` map, with
// each entry pointing at the source the build compiles it from), and the app is type-checked and synthesized with the
// CDK CLI under the README's own cdk.json, with the handler bundled by esbuild as `cdk deploy` would. So the README
// example compiles, synthesizes and says what synth gives, or this test fails.

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const files = readmeExample(readme);

let app: string;
let out: string;
let synth: Run;
let typecheck: Run;
let netLog: string;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 280_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * Type-checks the example's own files as a NodeNext app would (the library's sources have their own tsc run), in a
 * child process so it runs beside the synth. Prints one line per diagnostic.
 */
const TYPECHECK = `
const ts = require(${JSON.stringify(require.resolve('typescript'))});
const path = require('node:path');
const rootNames = ['bin/app.ts', 'lambda/answer.ts'].map((f) => path.resolve(f));
const program = ts.createProgram(rootNames, {
  module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
  strict: true, skipLibCheck: true, noEmit: true, types: ['node'],
});
for (const f of rootNames) {
  const sf = program.getSourceFile(f);
  if (!sf) { console.log('not in the program: ' + f); continue; }
  for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
    console.log(path.relative('.', f) + ': ' + ts.flattenDiagnosticMessageText(d.messageText, ' '));
  }
}
`;

function link(target: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at, 'dir');
}

/** node_modules/cdk-ai-release: the package's own exports map, each entry re-exporting the source it is built from. */
function installLibrary(nm: string): void {
  const dir = path.join(nm, 'cdk-ai-release');
  fs.mkdirSync(dir, { recursive: true });
  const exportsMap: Record<string, string> = {};
  for (const [key, value] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue; // the schema and package.json entries are plain files
    const built = (value as { default: string }).default; // ./dist/lib/index.js
    const source = path.join(root, built.replace(/^\.\/dist\//, '').replace(/\.js$/, ''));
    const file = `./${key === '.' ? 'index' : key.slice(2).replace(/\//g, '-')}.ts`;
    fs.writeFileSync(path.join(dir, file), `export * from ${JSON.stringify(source)};\n`);
    exportsMap[key] = file;
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, exports: exportsMap }, null, 2));
}

beforeAll(async () => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-example-'));
  for (const [file, text] of files) {
    fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    fs.writeFileSync(path.join(app, file), text);
  }
  // What `npm install` would leave: the app's package files, its dependencies in node_modules.
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true }));
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'my-app', lockfileVersion: 3, packages: {} }));
  const nm = path.join(app, 'node_modules');
  for (const dep of ['aws-cdk-lib', 'constructs', 'tsx', 'esbuild', '@aws-sdk/client-bedrock-runtime', '@types/node']) {
    link(path.join(root, 'node_modules', dep), path.join(nm, dep));
  }
  installLibrary(nm);

  out = path.join(app, 'cdk.out');
  // A user's environment, not the unit tests': no credentials (with them the CDK CLI asks STS for the account), no
  // telemetry switch (the README's cdk.json must turn it off), and every Node process under the network guard.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['CDK_DISABLE_CLI_TELEMETRY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL'])
    delete env[k];
  netLog = path.join(app, 'net-guard.log');
  env.NODE_OPTIONS = `--require ${path.join(__dirname, 'net-guard.cjs')}`;
  env.NET_GUARD_LOG = netLog;
  [synth, typecheck] = await Promise.all([run([path.join(root, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--output', out], env), run(['-e', TYPECHECK], env)]);
}, 300_000);

afterAll(() => {
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

test('the README stays a front door: at most about 400 lines, with the two commands and a link to every page', () => {
  expect(readme.split('\n').length).toBeLessThanOrEqual(420);
  expect(readme).toContain('npm ci && npx cdk synth');
  expect(readme).toContain('npm test');
  const pages = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md'));
  expect(pages.filter((p) => !readme.includes(`](docs/${p})`))).toEqual([]);
});

test('the README marks a whole app: cdk.json, the CDK app, the handler and the three required config sections', () => {
  expect([...files.keys()].sort()).toEqual([
    'bin/app.ts',
    'cdk.json',
    'config/answer-bot/model.yaml',
    'config/answer-bot/output-contract.yaml',
    'config/answer-bot/prompt.yaml',
    'lambda/answer.ts',
  ]);
  // a user imports the package, never the repository's folders
  for (const file of ['bin/app.ts', 'lambda/answer.ts']) {
    const imports = [...(files.get(file) ?? '').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    const entries = Object.keys(pkg.exports).map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
    const ours = imports.filter((i) => i === pkg.name || i.startsWith(`${pkg.name}/`));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((i) => !entries.includes(i))).toEqual([]);
    expect(imports.filter((i) => i.startsWith('.') || i.startsWith('/'))).toEqual([]);
  }
});

test('the example type-checks as a NodeNext app against the package entry points', () => {
  expect(typecheck.stderr).toBe('');
  expect(typecheck.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
  expect(typecheck.status).toBe(0);
});

test('cdk synth of the example prints the worst case the README shows, makes no network attempt, and no error', async () => {
  const terminal = `${synth.stdout}${synth.stderr}`;
  expect(synth.status).toBe(0);
  expect(terminal).not.toMatch(/\bError\b|\[Error/);
  // the line the README quotes under "What synth gives you", character for character
  const shown = readme.match(/^INFO answer-bot: worst case .*$/m)?.[0];
  expect(shown).toBeDefined();
  expect(terminal).toContain(shown?.replace(/^INFO /, ''));
  // "quiet": true: no template on the terminal
  expect(terminal).not.toMatch(/AWS::Lambda::Function/);
  // the README's cdk.json keeps it offline: no notices, no telemetry, no other attempt off the machine
  // (a detached telemetry sender would start within half a second of the CLI's exit; give it time to show up)
  await new Promise((r) => setTimeout(r, 1500));
  const attempts = fs.existsSync(netLog) ? fs.readFileSync(netLog, 'utf8').trim().split('\n').filter(Boolean) : [];
  expect(attempts).toEqual([]);
});

test('what synth gives is what the README says: alarms, composites, canary, manifest and card', () => {
  const template = JSON.parse(fs.readFileSync(path.join(out, 'AnswerBot.template.json'), 'utf8'));
  const resources = Object.values(template.Resources as Record<string, { Type: string; Properties: any; UpdatePolicy?: any }>);
  const count = (type: string) => resources.filter((r) => r.Type === type).length;
  const all = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  // The cannot-judge alarm pages and never rolls back: stated apart from the release alarms.
  const cannotJudge = all.filter((a) => String(a.Properties.AlarmName).endsWith('canary-judge-cannot-judge'));
  const alarms = all.filter((a) => !cannotJudge.includes(a));
  const verdicts = alarms.filter((a) => String(a.Properties.AlarmName).endsWith('canary-verdict'));
  const section = readme.slice(readme.indexOf('### What synth gives you'));
  const stated = section.match(
    /(\d+) release\s+alarms \((\d+) thresholds on the runtime's 10-second metrics and the canary judge's (\d+) verdict alarms\) and (\d+) composite/,
  );
  expect(stated).not.toBeNull();
  const [, total, thresholds, judge, composites] = (stated ?? []).map(Number);
  expect(alarms).toHaveLength(total);
  expect(section).toMatch(/1 alarm that pages \(never rolls back\) when the judge cannot judge/);
  expect(cannotJudge).toHaveLength(1);
  expect(verdicts).toHaveLength(judge);
  expect(alarms.length - verdicts.length).toBe(thresholds);
  // the thresholds watch 10-second periods
  const periods = alarms
    .filter((a) => !verdicts.includes(a))
    .flatMap((a) => (a.Properties.Metrics ?? []).map((m: any) => m.MetricStat?.Period).filter(Boolean));
  expect(new Set(periods)).toEqual(new Set([10]));
  expect(count('AWS::CloudWatch::CompositeAlarm')).toBe(composites);
  // the live alias under a CodeDeploy canary of 10 % for 5 minutes
  expect(section).toContain('CodeDeploy canary (10 % for 5 minutes)');
  const groups = resources.filter((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup');
  expect(groups.map((g) => g.Properties.DeploymentConfigName)).toEqual(['CodeDeployDefault.LambdaCanary10Percent5Minutes']);
  const alias = resources.find((r) => r.Type === 'AWS::Lambda::Alias' && r.Properties.Name === 'live');
  expect(alias?.UpdatePolicy?.CodeDeployLambdaAliasUpdate).toBeDefined();
  // the release config as an AppConfig profile with its JSON Schema validator, and a dashboard, a topic, a store
  const profiles = resources.filter((r) => r.Type === 'AWS::AppConfig::ConfigurationProfile');
  expect(profiles.some((p) => (p.Properties.Validators ?? []).some((v: any) => v.Type === 'JSON_SCHEMA'))).toBe(true);
  expect(count('AWS::CloudWatch::Dashboard')).toBe(1);
  expect(count('AWS::SNS::Topic')).toBe(1);
  expect(count('AWS::S3::Bucket')).toBeGreaterThanOrEqual(1);
  // the handler was bundled from the README's file, with the runtime inside it
  const fn = resources.find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Properties.Handler === 'index.handler' &&
      r.Properties.Environment?.Variables?.AI_RELEASE_SERVICE === 'answer-bot',
  );
  expect(fn).toBeDefined();
  // beside the template: the manifest (the version tuple of the three sections) and the card
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'answer-bot.release-manifest.json'), 'utf8'));
  expect(manifest.components.prompt.label).toBe('1');
  expect(manifest.components.model.label).toBe('2026-12-01');
  expect(manifest.facts).toMatchObject({ worstCaseCodeSeconds: 80, worstCaseConfigSeconds: 80 });
  const card = fs.readFileSync(path.join(out, 'answer-bot.canary-card.md'), 'utf8');
  expect(card).toContain('answers-oncall');
});
