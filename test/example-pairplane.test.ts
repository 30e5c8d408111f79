/**
 * h12-pairplane: the example's config canary pairs at its own rate (evaluation.paired.configSamplingRate 0.2), and
 * that rate reaches what is deployed: the release config AppConfig serves, AppConfig's validator (which must accept
 * the field, or the deployment would be refused), the manifest's hash and `cdk-ai-release diff`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import Ajv from 'ajv';
import { ExampleStack } from '../bin/example-stack';
import { parseReleaseManifest } from '../lib';
import { diffReleaseManifests, renderManifestDiff } from '../lambda/shared/release-manifest';
import { testApp } from './helpers';

const SRC = path.join(__dirname, '../example/support-assistant/release-config');

function synth(id: string, edit?: (yaml: string) => string) {
  let configDir: string | undefined;
  if (edit) {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pairplane-cfg-'));
    for (const f of fs.readdirSync(SRC)) fs.copyFileSync(path.join(SRC, f), path.join(configDir, f));
    const yaml = fs.readFileSync(path.join(configDir, 'evaluation.yaml'), 'utf8');
    const edited = edit(yaml);
    expect(edited).not.toBe(yaml);
    fs.writeFileSync(path.join(configDir, 'evaluation.yaml'), edited);
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pairplane-out-'));
  const app = testApp(outdir);
  const stack = new ExampleStack(app, id, configDir ? { configDir } : {});
  app.synth();
  const manifest = parseReleaseManifest(JSON.parse(fs.readFileSync(path.join(outdir, 'support-assistant.release-manifest.json'), 'utf8')));
  return { stack, template: Template.fromStack(stack), manifest };
}

describe('the example pairs its config canary at paired.configSamplingRate 0.2', () => {
  const shipped = synth('Example');
  const json = JSON.stringify(shipped.template.toJSON());

  test('the release config in the template carries both rates', () => {
    expect(json).toContain('\\"paired\\":{\\"configSamplingRate\\":0.2,\\"samplingRate\\":0.1}');
  });

  test("AppConfig's validator for the release profile accepts the field, and refuses a config rate above 1", () => {
    const profiles = shipped.template.findResources('AWS::AppConfig::ConfigurationProfile', { Properties: { Name: 'support-assistant-release' } });
    const [profile] = Object.values(profiles);
    const schema = JSON.parse(profile.Properties.Validators[0].Content);
    const check = new Ajv({ allErrors: true, strict: false }).compile(schema.definitions.evaluation.properties.paired);
    expect(check({ samplingRate: 0.1, configSamplingRate: 0.2 })).toBe(true);
    expect(check({ samplingRate: 0.1, configSamplingRate: 1.5 })).toBe(false);
    expect(check({ samplingRate: 0.1, configSamplingrate: 0.2 })).toBe(false);
  });

  test('the runtime and the card read it: config pairs at 0.2, code pairs at 0.1', () => {
    const cp = shipped.stack.release.facts.canaryPlan;
    expect(cp?.traffic.evaluation).toMatchObject({ pairSamplingRate: 0.1, configPairSamplingRate: 0.2 });
    const e = shipped.stack.release.facts.releaseCost?.evaluation;
    expect(e?.pairSamplingRate).toBe(0.1);
    expect(e?.configRelease?.pairSamplingRate).toBe(0.2);
    // Within the release budget whichever plane releases.
    expect(e?.perReleaseUncappedUsd).toBeLessThan(e?.budget.perReleaseUsd ?? 0);
    expect(e?.configRelease?.perReleaseUncappedUsd).toBeLessThan(e?.budget.perReleaseUsd ?? 0);
  });

  test("on configCanary 'appconfig' the policy says the config rate is not used (the runtime cannot tell AppConfig's canary)", () => {
    const { RULE_CANARY_PLAN } = require('../lib') as typeof import('../lib');
    const appconfig = new ExampleStack(testApp(), 'ExampleAppConfig', { configCanary: 'appconfig' }).release.facts;
    const w = RULE_CANARY_PLAN.check(appconfig).filter((x) => x.includes('configSamplingRate'));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(
      /^evaluation\.paired\.configSamplingRate 0\.2 is not used: the runtime pairs a config canary at its own rate only on configCanary 'assigned'/,
    );
    expect(RULE_CANARY_PLAN.check(shipped.stack.release.facts).filter((x) => x.includes('is not used'))).toEqual([]);
  });

  test('the manifest hashes it and the diff shows paired.configSamplingRate, and nothing else, as the change', () => {
    // The same stack id, so only the config differs.
    const without = synth('Example', (y) => y.replace(/\n {2}configSamplingRate: 0\.2\n/, '\n'));
    expect(without.manifest.components.evaluation.hash).not.toBe(shipped.manifest.components.evaluation.hash);
    const d = diffReleaseManifests(without.manifest, shipped.manifest);
    expect(d.components.filter((c) => c.change !== 'unchanged').map((c) => c.component)).toEqual(['evaluation']);
    const text = renderManifestDiff(d);
    expect(text).toMatch(/paired\.configSamplingRate/);
    expect(text).not.toMatch(/paired\.samplingRate/);
  });
});
