import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The README's main job, as a user runs it: the CDK CLI synthesizes the example app offline, bundling with the
// local esbuild, and leaves the release manifest beside the template.
test('npx cdk synth synthesizes the example app offline, prints the worst case, writes the manifest and card', () => {
  const root = path.join(__dirname, '..');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cli-'));
  // With CloudFormation validation on (the jest setup turns it off for unit tests): it catches what unit tests
  // cannot, such as dependency cycles between resources.
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_VALIDATION: 'true' };
  const run = spawnSync(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--no-notices', '--quiet', '--output', outdir], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status).toBe(0);
  // synth prints the computed worst case, and it is near a minute with the defaults
  expect(`${run.stdout}${run.stderr}`).toContain(
    'support-assistant: worst case from a first bad request to rollback start: code 1 min 20 s, config 1 min 20 s (budget 10 min)',
  );
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  expect(report.pluginReports.flatMap((p: { violations: unknown[] }) => p.violations)).toEqual([]);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AiReleaseExample.template.json'), 'utf8'));
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::AppConfig::Deployment')).toHaveLength(2);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'support-assistant.release-manifest.json'), 'utf8'));
  expect(manifest.facts).toMatchObject({ worstCaseCodeSeconds: 80, worstCaseConfigSeconds: 80 });
  expect(fs.readFileSync(path.join(outdir, 'support-assistant.canary-card.md'), 'utf8')).toContain('# Canary strategy card — support-assistant');
  expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
  // the bundle is real: an asset folder with the handler
  const assets = fs.readdirSync(outdir).filter((f) => f.startsWith('asset.'));
  expect(assets.some((a) => fs.existsSync(path.join(outdir, a, 'index.js')))).toBe(true);
  fs.rmSync(outdir, { recursive: true, force: true });
});

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
