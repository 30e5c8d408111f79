import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_CONFIG_CANARY, ExampleStack } from '../bin/example-stack';
import { parseReleaseManifest } from '../lib';
import { renderCanaryCard } from '../lib/rollout/canary-card';
import { testApp } from './helpers';

describe('example app', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-example-'));
  const app = testApp(outdir);
  const stack = new ExampleStack(app, 'Example');
  app.synth();
  const template = Template.fromStack(stack);

  test('holds the release-config and degrade profiles, validator, versions, environment and deployments', () => {
    template.resourceCountIs('AWS::AppConfig::Application', 1);
    // live (monitored), candidate (the config gate's stage), degrade (never monitored) and the assigned config
    // canary's share (never monitored: no alarm can roll a share back up)
    template.resourceCountIs('AWS::AppConfig::Environment', 4);
    template.hasResourceProperties('AWS::AppConfig::Environment', { Name: 'support-assistant-share', Monitors: Match.absent() });
    template.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 3);
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Name: 'support-assistant-share',
      Validators: [{ Type: 'JSON_SCHEMA', Content: Match.anyValue() }],
    });
    template.resourceCountIs('AWS::AppConfig::HostedConfigurationVersion', 3);
    // the degrade flags, and the share's constant "no release" document (the controller deploys every later share)
    template.resourceCountIs('AWS::AppConfig::Deployment', 2);
    template.resourceCountIs('Custom::AiReleaseConfigDeployment', 1);
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Name: 'support-assistant-release',
      Validators: [{ Type: 'JSON_SCHEMA', Content: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', { Name: 'support-assistant-degrade', Type: 'AWS.AppConfig.FeatureFlags' });
  });

  test('writes the manifest file with all five config components and the code', () => {
    const manifest = parseReleaseManifest(JSON.parse(fs.readFileSync(path.join(outdir, 'support-assistant.release-manifest.json'), 'utf8')));
    expect(manifest.service).toBe('support-assistant');
    expect(manifest.components.prompt.label).toBe('3');
    expect(manifest.components.retrieval.label).toBe('kb-2026-11-18');
    expect(manifest.components.tools.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.components.outputContract.label).toBe('1');
    expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.configLabel).toBe(stack.release.config.versionLabel);
  });

  test("ships the assigned config canary: the share controller on the example's schedule, the share and the code canary's announcement on the function", () => {
    expect(stack.release.configShare?.schedule).toEqual(EXAMPLE_CONFIG_CANARY.schedule);
    const fn = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Example AI service') } });
    const env = Object.values(fn)[0].Properties.Environment.Variables;
    expect(env).toMatchObject({
      AI_RELEASE_APPCONFIG_SHARE_ENVIRONMENT: { Ref: stack.getLogicalId(stack.release.configShare!.environment) },
      AI_RELEASE_SHARE_PROFILE: { Ref: stack.getLogicalId(stack.release.configShare!.profile) },
      // The regression gate announces each code canary, so the runtime draws code-plane pairs only during one.
      AI_RELEASE_SHARE_CODE_CANARY: '1',
    });
    const [controller] = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('assigned config canary share') } }),
    );
    expect(controller.Properties.Environment.Variables).toMatchObject({ AI_RELEASE_SHARE_SCHEDULE: '10:120,50:2100' });
    // The card counts the controller's looks, one a minute whether a release runs or not (an upper bound at 1 GB-s each).
    const appconfigInvocations = 43_800 + 3 * 20 + Math.ceil((5 * 730 * 3600 * 0.01) / 10);
    expect(stack.release.facts.releaseCost?.lines.find((l) => l.item.startsWith('function invocations'))).toMatchObject({
      item: 'function invocations (judge schedule, hooks, review, snapshot, share controller looks)',
      quantity: expect.stringMatching(new RegExp(`^${appconfigInvocations + 43_800} invocations`)),
    });
    // The card's rollback conditions are the share's, and say how to roll back by hand.
    const card = renderCanaryCard(stack.release.facts, stack.release.policy);
    expect(card).toContain(
      "- **Config (assigned):** while the share ramps, any config-plane alarm in ALARM (the share controller watches the same alarms as the AppConfig monitor, and the judge's regression) sets the share to 0",
    );
    expect(card).toContain('{"kind":"ai-release.share-rollback"}');
    expect(card).not.toContain('in ALARM during a config deployment, its steps or its bake');
    // The release resource hands each release to the controller.
    template.hasResourceProperties('Custom::AiReleaseConfigDeployment', { ShareController: Match.anyValue(), CandidateContentHash: Match.anyValue() });
  });

  test("configCanary: 'appconfig' still gives AppConfig's own rollout back: no share, no controller, no announcement", () => {
    const plain = Template.fromStack(new ExampleStack(testApp(), 'ExampleAppConfig', { configCanary: 'appconfig' }));
    plain.resourceCountIs('AWS::AppConfig::Environment', 3);
    plain.resourceCountIs('AWS::AppConfig::Deployment', 1);
    expect(JSON.stringify(plain.toJSON())).not.toContain('AI_RELEASE_SHARE_CODE_CANARY');
    plain.hasResourceProperties('Custom::AiReleaseConfigDeployment', { ShareController: Match.absent() });
  });

  test('the service function reads its config and may call Bedrock', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('appconfig:GetLatestConfiguration');
    expect(policies).toContain('bedrock:InvokeModel');
    expect(policies).toContain('bedrock:ApplyGuardrail');
  });
});
