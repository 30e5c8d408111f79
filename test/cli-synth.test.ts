import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The README's main job, as a user runs it: the CDK CLI synthesizes the example app offline, bundling with the
// local esbuild, and leaves the release manifest beside the template.
test('npx cdk synth synthesizes the example app offline and writes the manifest', () => {
  const root = path.join(__dirname, '..');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cli-'));
  // With CloudFormation validation on (the jest setup turns it off for unit tests): it catches what unit tests
  // cannot, such as dependency cycles between resources.
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_VALIDATION: 'true' };
  execFileSync(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--no-notices', '--quiet', '--output', outdir], { cwd: root, env, stdio: 'pipe', timeout: 120_000 });
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  expect(report.pluginReports.flatMap((p: { violations: unknown[] }) => p.violations)).toEqual([]);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'AiReleaseExample.template.json'), 'utf8'));
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::AppConfig::Deployment')).toHaveLength(2);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'support-assistant.release-manifest.json'), 'utf8'));
  expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
  // the bundle is real: an asset folder with the handler
  const assets = fs.readdirSync(outdir).filter((f) => f.startsWith('asset.'));
  expect(assets.some((a) => fs.existsSync(path.join(outdir, a, 'index.js')))).toBe(true);
  fs.rmSync(outdir, { recursive: true, force: true });
});
