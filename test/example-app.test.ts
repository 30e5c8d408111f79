import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { parseReleaseManifest } from '../lib';
import { testApp } from './helpers';

describe('example app', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-example-'));
  const app = testApp(outdir);
  const stack = new ExampleStack(app, 'Example');
  app.synth();
  const template = Template.fromStack(stack);

  test('holds the release-config and degrade profiles, validator, versions, environment and deployments', () => {
    template.resourceCountIs('AWS::AppConfig::Application', 1);
    // live (monitored), candidate (the config gate's stage) and degrade (never monitored)
    template.resourceCountIs('AWS::AppConfig::Environment', 3);
    template.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 2);
    template.resourceCountIs('AWS::AppConfig::HostedConfigurationVersion', 2);
    template.resourceCountIs('AWS::AppConfig::Deployment', 1);
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

  test('the service function reads its config and may call Bedrock', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('appconfig:GetLatestConfiguration');
    expect(policies).toContain('bedrock:InvokeModel');
    expect(policies).toContain('bedrock:ApplyGuardrail');
  });
});
