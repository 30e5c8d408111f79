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
  // synth prints the computed worst case: at the example's stated 5 requests/s, 30-second alarm periods are chosen so
  // the 10 % canary averages twice the invocation guard per period
  expect(`${run.stdout}${run.stderr}`).toContain(
    'support-assistant: worst case from a first bad request to rollback start: code 2 min 20 s, config 2 min 20 s (budget 10 min)',
  );
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  expect(report.pluginReports.flatMap((p: { violations: unknown[] }) => p.violations)).toEqual([]);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AiReleaseExample.template.json'), 'utf8'));
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  // the degrade flags deploy with AppConfig's own resource; the release config with the deployer that waits for COMPLETE
  expect(types.filter((t) => t === 'AWS::AppConfig::Deployment')).toHaveLength(1);
  expect(types.filter((t) => t === 'Custom::AiReleaseConfigDeployment')).toHaveLength(1);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'support-assistant.release-manifest.json'), 'utf8'));
  expect(manifest.facts).toMatchObject({ worstCaseCodeSeconds: 140, worstCaseConfigSeconds: 140, rolloutOrder: 'code, then config, one at a time' });
  expect(fs.readFileSync(path.join(outdir, 'support-assistant.canary-card.md'), 'utf8')).toContain('# Canary strategy card — support-assistant');
  expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
  // the bundle is real: an asset folder with the handler
  const assets = fs.readdirSync(outdir).filter((f) => f.startsWith('asset.'));
  expect(assets.some((a) => fs.existsSync(path.join(outdir, a, 'index.js')))).toBe(true);
  fs.rmSync(outdir, { recursive: true, force: true });
});
