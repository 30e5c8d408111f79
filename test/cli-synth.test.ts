import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The README's main command as a user runs it on a fresh clone: `npx cdk synth`, with no AWS credentials, nothing
// disabled through the environment, and only what cdk.json and .npmrc say. Every Node process it starts (npx, the
// CDK CLI, the app, a detached telemetry sender) loads test/net-guard.cjs, which records and refuses any network
// attempt off this machine: the test asserts there is none. The --output flag only keeps the repository clean.

const root = path.join(__dirname, '..');
const guard = path.join(__dirname, 'net-guard.cjs');

function freshEnv(log: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // What jest's setup pins for unit tests is not what a user has; drop it so cdk.json alone must do the work.
  for (const k of [
    'CDK_DISABLE_CLI_TELEMETRY',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_EC2_METADATA_DISABLED',
    'AWS_ENDPOINT_URL',
    'AWS_PROFILE',
  ]) {
    delete env[k];
  }
  return {
    ...env,
    AWS_CONFIG_FILE: path.join(os.tmpdir(), 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), 'no-aws-credentials'),
    // With CloudFormation validation on (the jest setup turns it off for unit tests): it catches what unit tests
    // cannot, such as dependency cycles between resources.
    CDK_VALIDATION: 'true',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${guard}`.trim(),
    NET_GUARD_LOG: log,
  };
}

const attempts = (log: string): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []);

test('the network guard sees an attempt (so its silence below means something)', () => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'net-guard-')), 'log');
  const run = spawnSync(process.execPath, ['-e', "require('node:dns').lookup('registry.npmjs.org', (e) => process.exit(e ? 0 : 1))"], {
    env: freshEnv(log),
    encoding: 'utf8',
  });
  expect(run.status).toBe(0);
  expect(attempts(log).map((l) => JSON.parse(l).host)).toEqual(['registry.npmjs.org']);
});

test('cdk.json turns CLI telemetry off by the key this CLI reads, and notices off', () => {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8'));
  const { canCollectTelemetry } = require(path.join(root, 'node_modules/aws-cdk/lib/cli/telemetry/collect-telemetry.js'));
  const saved = process.env.CDK_DISABLE_CLI_TELEMETRY;
  delete process.env.CDK_DISABLE_CLI_TELEMETRY;
  try {
    const context = (c: Record<string, unknown>) => ({ get: (k: string) => c[k] });
    expect(canCollectTelemetry({ _: ['synth'] }, context({}))).toBe(true);
    expect(canCollectTelemetry({ _: ['synth'] }, context(cdkJson.context))).toBe(false);
  } finally {
    process.env.CDK_DISABLE_CLI_TELEMETRY = saved;
  }
  expect(cdkJson.notices).toBe(false);
});

test('npx cdk synth: offline, no template dump, worst case printed, manifest and card written', async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cli-'));
  const log = path.join(outdir, 'net-guard.log');
  const run = spawnSync('npx', ['cdk', 'synth', '--output', path.join(outdir, 'cdk.out')], {
    cwd: root,
    env: freshEnv(log),
    encoding: 'utf8',
    timeout: 120_000,
  });
  // What the terminal shows (the CLI writes its messages to stdout when CI is set, to stderr otherwise).
  const terminal = `${run.stdout}${run.stderr}`;
  // No error; option names in the false-fire warnings (alarms.maxErrorRate) are not errors.
  expect(terminal).not.toMatch(/\bError\b|\[Error/);
  expect(run.status).toBe(0);
  // "quiet": true in cdk.json: the template goes to cdk.out, not to the terminal
  expect(terminal).not.toMatch(/Resources:|AWS::Lambda::Function/);
  // (room for the release policy's warnings: the example's alarms at 5 requests/s are noisy, see alarm-false-fire)
  expect(terminal.length).toBeLessThan(8000);
  // synth prints the computed worst case per plane: at the example's stated 5 requests/s, the code plane gets 60-second
  // periods (its linear schedule's 5 % first step averages twice the invocation guard per period) at 2 of 2, the config
  // plane, which watches the whole service, 10-second ones at 3 of 3
  expect(terminal).toContain('support-assistant: worst case from a first bad request to rollback start: code 4 min 40 s, config 1 min 30 s (budget 10 min)');
  // A detached telemetry sender would start within half a second of the CLI's exit; give it time to show up.
  await new Promise((r) => setTimeout(r, 1500));
  expect(attempts(log)).toEqual([]);

  const out = path.join(outdir, 'cdk.out');
  const report = JSON.parse(fs.readFileSync(path.join(out, 'validation-report.json'), 'utf8'));
  expect(report.pluginReports.flatMap((p: { violations: unknown[] }) => p.violations)).toEqual([]);
  const template = JSON.parse(fs.readFileSync(path.join(out, 'AiReleaseExample.template.json'), 'utf8'));
  const resources = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>);
  // the degrade flags and the assigned canary's first share (share 0, no release) deploy with AppConfig's own resource;
  // the release config with the deployer that waits for COMPLETE (and hands the release to the share controller)
  const deployments = resources.filter((r) => r.Type === 'AWS::AppConfig::Deployment');
  expect(deployments.map((r) => r.Properties.Description).sort()).toEqual([
    expect.stringMatching(/degrade flags/),
    'support-assistant: no assigned config canary',
  ]);
  expect(resources.filter((r) => r.Type === 'Custom::AiReleaseConfigDeployment')).toHaveLength(1);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'support-assistant.release-manifest.json'), 'utf8'));
  expect(manifest.facts).toMatchObject({ worstCaseCodeSeconds: 280, worstCaseConfigSeconds: 90, rolloutOrder: 'code, then config, one at a time' });
  expect(fs.readFileSync(path.join(out, 'support-assistant.canary-card.md'), 'utf8')).toContain('# Canary strategy card — support-assistant');
  expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
  // the cost guard deploys the handler bundled on demand from source (no prior build): one self-contained index.js
  const guard = resources.find((r) => r.Type === 'AWS::Lambda::Function' && /cost alarm/.test(r.Properties.Description ?? ''))!;
  const guardAsset = path.join(out, `asset.${guard.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  expect(fs.readdirSync(guardAsset)).toEqual(['index.js']);
  // the AWS SDK is in the bundle, not taken from the Lambda runtime (only the optional CRT signer stays external)
  expect(fs.readFileSync(path.join(guardAsset, 'index.js'), 'utf8').match(/require\("@(aws-sdk\/client-|smithy\/)[^"]*"\)/g)).toBeNull();
  fs.rmSync(outdir, { recursive: true, force: true });
  // The CLI run may take its spawn timeout (120 s) and the telemetry wait: jest's default 60 s would cut it first.
}, 180_000);

// A bad config, as a user meets it: the app prints every problem and exits 1, with no stack trace and no dump of
// the problem objects. Bundling is skipped (the config error stops synth before any asset is needed).
test('a bad release config prints its problems, not a stack trace, and exits 1', () => {
  const root = path.join(__dirname, '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-bad-config-'));
  const good = path.join(root, 'example/support-assistant/release-config');
  for (const f of fs.readdirSync(good)) fs.copyFileSync(path.join(good, f), path.join(dir, f));
  const model = fs.readFileSync(path.join(dir, 'model.yaml'), 'utf8');
  fs.writeFileSync(path.join(dir, 'model.yaml'), model.replace(/temperature: [0-9.]+/, 'temperature: hot'));
  fs.writeFileSync(path.join(dir, 'promt.yaml'), 'template: x\n');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
  const run = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
    cwd: root,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ configDir: dir, 'aws:cdk:bundling-stacks': [] }),
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('release config of service "support-assistant" is invalid (2 problems)');
  expect(run.stderr).toContain(`${path.join(dir, 'model.yaml')}:`);
  expect(run.stderr).toContain('$.model.parameters.temperature: must be a number (got string "hot")');
  expect(run.stderr).toContain('"promt.yaml" is not a release config section');
  expect(run.stderr).toContain('fix: rename it to prompt.yaml');
  expect(run.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack frame
  expect(run.stderr).not.toMatch(/problems: \[|ConfigProblem|\{ file:/); // no object dump
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outdir, { recursive: true, force: true });
});
