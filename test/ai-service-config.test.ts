import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AiReleasePlatform, AiServiceConfig, ConfigRollout, ENV, ReleaseConfigSource, ReleaseManifestRecorder, type ReleaseManifest } from '../lib';
import AjvDraft04 from 'ajv-draft-04';
import { canonicalJson } from '../lambda/shared/canonical-json';
import { APPCONFIG_VALIDATOR_MAX_CHARS, CONFIG_GATE_ENV } from '../lambda/shared/contract';
import { inlineFunction, tempDir, testApp, validConfig } from './helpers';

interface Built {
  template: Template;
  config: AiServiceConfig;
  manifest: ReleaseManifest;
  fn: lambda.Function;
}

function build(config: Record<string, any> = validConfig(), props: Partial<ConstructorParameters<typeof AiServiceConfig>[2]> = {}): Built {
  const stack = new Stack(testApp(), 'Svc');
  const svc = new AiServiceConfig(stack, 'Assistant', { serviceName: 'assistant', source: ReleaseConfigSource.fromObject(config), ...props });
  const fn = inlineFunction(stack);
  svc.bind(fn);
  const recorder = new ReleaseManifestRecorder(stack, 'Manifest', { config: svc, function: fn });
  return { template: Template.fromStack(stack), config: svc, manifest: recorder.manifest, fn };
}

const ofType = (t: Template, type: string) => t.findResources(type);
const onlyOne = (t: Template, type: string) => {
  const found = Object.entries(ofType(t, type));
  expect(found).toHaveLength(1);
  return { id: found[0][0], ...(found[0][1] as { Properties: any; DependsOn?: string[] }) };
};
const environmentNamed = (t: Template, name: string) =>
  Object.values(ofType(t, 'AWS::AppConfig::Environment')).find((e: any) => e.Properties.Name === name) as { Properties: any; DependsOn?: string[] };
/** The one deployment of the release config profile (the other is the degrade flags'). */
const releaseDeployment = (t: Template) =>
  Object.entries(ofType(t, 'Custom::AiReleaseConfigDeployment')).find(([id]) => id.includes('ReleaseConfigDeployment'))! as [
    string,
    { Properties: any; DependsOn?: string[] },
  ];
/** One resource whose logical id matches. */
const named = (t: Template, type: string, pattern: RegExp) => {
  const found = Object.entries(ofType(t, type)).filter(([id]) => pattern.test(id));
  expect(found).toHaveLength(1);
  return { id: found[0][0], ...(found[0][1] as { Properties: any; DependsOn?: string[] }) };
};
/** The service's own functions (not the library's config deployer). */
const serviceFunctions = (fns: Record<string, any>) => Object.fromEntries(Object.entries(fns).filter(([id]) => !id.includes('ConfigDeployer')));
const releaseVersion = (t: Template) =>
  Object.entries(ofType(t, 'AWS::AppConfig::HostedConfigurationVersion')).find(([id]) => id.includes('ReleaseConfigVersion'))![1] as { Properties: any };

describe('AiServiceConfig template', () => {
  const { template, config } = build();

  test('one release-config profile, validated by the shipped JSON Schema', () => {
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      Name: 'assistant-release',
      LocationUri: 'hosted',
      Type: 'AWS.Freeform',
      Validators: [{ Type: 'JSON_SCHEMA', Content: Match.stringLikeRegexp('json-schema.org/draft-04/schema') }],
    });
  });

  test('a degrade feature-flags profile with the four switches, all off', () => {
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', { Name: 'assistant-degrade', Type: 'AWS.AppConfig.FeatureFlags' });
    const degrade = Object.entries(ofType(template, 'AWS::AppConfig::HostedConfigurationVersion')).find(([id]) => id.includes('Degrade'))![1] as any;
    const doc = JSON.parse(degrade.Properties.Content);
    expect(Object.keys(doc.flags).sort()).toEqual(['disableRetrieval', 'disableTools', 'staticAnswer', 'useFallbackModel']);
    expect(Object.values(doc.values).map((v: any) => v.enabled)).toEqual([false, false, false, false]);
  });

  test('the hosted version holds every section plus its own labels, and a label with the content hash', () => {
    const version = releaseVersion(template);
    const content = JSON.parse(version.Properties.Content);
    expect(Object.keys(content).sort()).toEqual(['_release', 'model', 'outputContract', 'prompt', 'retrieval', 'tools']);
    expect(content._release.label).toBe(config.versionLabel);
    expect(content._release.sections.prompt.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(version.Properties.VersionLabel).toMatch(/^cfg-[0-9a-f]{12}$/);
    expect(version.Properties.VersionLabel).toBe(`cfg-${config.contentHash.slice(0, 12)}`);
  });

  test('hosted versions are retained when superseded (history for rollback and audit), deleted when their first create rolls back', () => {
    // RetainExceptOnCreate: "behaves like Retain for stack operations, except for the stack operation that initially
    // created the resource" (CloudFormation DeletionPolicy); the cleanup resource removes what is left on stack delete.
    template.hasResource('AWS::AppConfig::HostedConfigurationVersion', { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'RetainExceptOnCreate' });
    expect(Object.values(template.findResources('AWS::AppConfig::HostedConfigurationVersion')).every((v: any) => v.DependsOn?.length === 1)).toBe(true);
  });

  test('three environments per service: the release config (monitored), its candidate and the degrade flags (never monitored)', () => {
    const envs = Object.entries(ofType(template, 'AWS::AppConfig::Environment')) as [string, any][];
    expect(envs.map(([, e]) => e.Properties.Name).sort()).toEqual(['assistant', 'assistant-candidate', 'assistant-degrade']);
    expect(envs.find(([, e]) => e.Properties.Name === 'assistant-candidate')![1].Properties.Monitors).toBeUndefined();
    const [degradeEnvId, degradeEnv] = envs.find(([, e]) => e.Properties.Name === 'assistant-degrade')!;
    expect(degradeEnv.Properties.Monitors).toBeUndefined();
    const degrade = Object.entries(ofType(template, 'AWS::AppConfig::Deployment')).find(([id]) => id.includes('DegradeDeployment'))![1] as any;
    expect(degrade.Properties.EnvironmentId).toEqual({ Ref: degradeEnvId });
    // the version number, read as the documented attribute
    expect(degrade.Properties.ConfigurationVersion).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DegradeVersion/), 'VersionNumber'] });
    expect(config.degradeEnvironmentId).toBe(config.degradeEnvironment.ref);
    expect(config.degradeEnvironmentId).not.toBe(config.environmentId);
  });

  test('the degrade deployment never waits for, nor blocks, the release-config deployment', () => {
    const [releaseId, release] = releaseDeployment(template);
    const [degradeId, degrade] = Object.entries(ofType(template, 'AWS::AppConfig::Deployment')).find(([id]) => id.includes('DegradeDeployment'))!;
    expect(JSON.stringify(release)).not.toContain(degradeId);
    expect(JSON.stringify(degrade)).not.toContain(releaseId);
  });

  test('the config canary and the instant degrade strategy', () => {
    template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'EXPONENTIAL',
      GrowthFactor: 10,
      DeploymentDurationInMinutes: 3,
      FinalBakeTimeInMinutes: 2,
      ReplicateTo: 'NONE',
    });
    template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 100,
      DeploymentDurationInMinutes: 0,
      FinalBakeTimeInMinutes: 0,
    });
  });

  test('the function gets ids, not content: env vars and read access to both profiles (the release one also in its candidate environment)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [ENV.SERVICE]: 'assistant',
          [ENV.APPCONFIG_APPLICATION]: { Ref: Match.stringLikeRegexp('AiReleasePlatformApplication') },
          [ENV.APPCONFIG_ENVIRONMENT]: { Ref: Match.stringLikeRegexp('AssistantEnvironment') },
          [ENV.CONFIG_PROFILE]: { Ref: Match.stringLikeRegexp('AssistantReleaseConfigProfile') },
          [ENV.DEGRADE_PROFILE]: { Ref: Match.stringLikeRegexp('AssistantDegradeProfile') },
          [ENV.DEGRADE_ENVIRONMENT]: { Ref: Match.stringLikeRegexp('AssistantDegradeEnvironment') },
          [CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT]: { Ref: Match.stringLikeRegexp('AssistantCandidateEnvironment') },
        },
      },
    });
    const policy = named(template, 'AWS::IAM::Policy', /^FnServiceRole/);
    const statement = policy.Properties.PolicyDocument.Statement[0];
    expect(statement.Action).toEqual(['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration']);
    expect(statement.Resource).toHaveLength(3);
    // each profile is readable in its own environment(s), and only there
    const arns = (statement.Resource as any[]).map((r) => JSON.stringify(r));
    const releases = arns.filter((a) => a.includes('ReleaseConfigProfile'));
    const degrade = arns.find((a) => a.includes('DegradeProfile'))!;
    expect(releases).toHaveLength(2);
    const [release, candidate] = [releases.find((a) => !a.includes('Candidate'))!, releases.find((a) => a.includes('Candidate'))!];
    expect(candidate).toMatch(/\/environment\/",\{"Ref":"AssistantCandidateEnvironment[0-9A-F]+"\},"\/configuration\//);
    expect(release).toMatch(/\/environment\/",\{"Ref":"AssistantEnvironment[0-9A-F]+"\},"\/configuration\//);
    expect(degrade).toMatch(/\/environment\/",\{"Ref":"AssistantDegradeEnvironment[0-9A-F]+"\},"\/configuration\//);
  });

  test('no monitors until alarms are added', () => {
    const env = environmentNamed(template, 'assistant');
    expect(env.Properties.Monitors).toBeUndefined();
  });
});

describe('what a change does to the template', () => {
  const base = build();

  test('an unchanged config synthesizes the identical template (no new version, no new deployment)', () => {
    expect(build().template.toJSON()).toEqual(base.template.toJSON());
  });

  test('changing only the prompt changes one hosted version and only the manifest prompt entry', () => {
    const c = validConfig();
    c.prompt.template += 'Be brief.\n';
    const next = build(c);
    const [baseDeploymentId, baseDeployment] = releaseDeployment(base.template);
    const [nextDeploymentId, nextDeployment] = releaseDeployment(next.template);
    // the same resource, updated to the new version: an Update, so a stack rollback is an Update back to the old one
    expect(nextDeploymentId).toBe(baseDeploymentId);
    expect(nextDeployment.Properties.Version).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ReleaseConfigVersion/), 'VersionNumber'] });
    expect(Object.keys(ofType(next.template, 'Custom::AiReleaseConfigDeployment'))).toHaveLength(1);
    const { Description: nextDescription, ...nextRest } = nextDeployment.Properties;
    const { Description: baseDescription, ...baseRest } = baseDeployment.Properties;
    expect(nextRest).toEqual(baseRest); // same version resource, same strategy: the new version number arrives at deploy time
    expect(nextDescription).toBe(`assistant release config ${next.config.versionLabel}`);
    expect(baseDescription).not.toBe(nextDescription);
    expect(releaseVersion(next.template).Properties.Content).not.toBe(releaseVersion(base.template).Properties.Content);
    // The degrade flags and the function are untouched: no code deployment for a prompt change.
    const changedIds = diffResourceIds(base.template, next.template);
    expect(changedIds.every((id) => /ReleaseConfig(Version|Deployment)|ManifestParameter/.test(id))).toBe(true);
    expect(changedIds.some((id) => id.includes('Fn'))).toBe(false);
    // Manifest: only the prompt component changed.
    const changed = Object.keys(next.manifest.components).filter(
      (k) => (next.manifest.components as any)[k].hash !== (base.manifest.components as any)[k].hash,
    );
    expect(changed).toEqual(['prompt']);
  });

  test('changing prompt and model together yields one deployment of one version', () => {
    const c = validConfig();
    c.prompt.template += 'Be brief.\n';
    c.model.modelId = 'anthropic.claude-sonnet-4-20250514-v1:0';
    const next = build(c);
    const deployments = Object.entries(ofType(next.template, 'Custom::AiReleaseConfigDeployment'));
    expect(deployments).toHaveLength(1);
    const content = JSON.parse(releaseVersion(next.template).Properties.Content);
    expect(content.model.modelId).toBe('anthropic.claude-sonnet-4-20250514-v1:0');
    expect(content.prompt.template).toContain('Be brief.');
    const changed = Object.keys(next.manifest.components).filter(
      (k) => (next.manifest.components as any)[k].hash !== (base.manifest.components as any)[k].hash,
    );
    expect(changed.sort()).toEqual(['model', 'prompt']);
  });

  test('changing the degrade state deploys only the degrade flags', () => {
    const next = build(validConfig(), { degrade: { useFallbackModel: true } });
    const changedIds = diffResourceIds(base.template, next.template);
    expect(changedIds.length).toBeGreaterThan(0);
    expect(changedIds.every((id) => /Degrade(Version|Deployment)|ManifestParameter/.test(id))).toBe(true);
    // the release deployment is untouched: a degrade switch never starts (or waits for) a release-config rollout
    expect(releaseDeployment(next.template)).toEqual(releaseDeployment(base.template));
  });

  test('key order, YAML vs JSON, and formatting change nothing', () => {
    const c = validConfig();
    const dir = tempDir({
      'prompt.yaml': toYamlish(c.prompt),
      'model.json': JSON.stringify(reverseKeys(c.model)),
      'retrieval.yml': toYamlish(c.retrieval),
      'tools.json': JSON.stringify(c.tools, undefined, 4),
      'output-contract.json': JSON.stringify(c.outputContract),
    });
    const stack = new Stack(testApp(), 'Svc');
    const fromFiles = new AiServiceConfig(stack, 'Assistant', { serviceName: 'assistant', source: ReleaseConfigSource.fromDirectory(dir) });
    expect(fromFiles.contentHash).toBe(base.config.contentHash);
    expect(fromFiles.versionLabel).toBe(base.config.versionLabel);
  });
});

describe('shared per stack', () => {
  test('two services share the application and strategies, each has its own environment', () => {
    const stack = new Stack(testApp(), 'Two');
    for (const name of ['a', 'b']) {
      new AiServiceConfig(stack, name, { serviceName: `svc-${name}`, source: ReleaseConfigSource.fromObject(validConfig()) });
    }
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::AppConfig::Application', 1);
    t.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 2);
    t.resourceCountIs('AWS::AppConfig::Environment', 6);
    t.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 4);
  });

  test('a service with a different rollout adds one strategy', () => {
    const stack = new Stack(testApp(), 'Two');
    new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
    new AiServiceConfig(stack, 'B', {
      serviceName: 'b',
      source: ReleaseConfigSource.fromObject(validConfig()),
      rollout: ConfigRollout.linear({ stepPercent: 25, deploymentDuration: cdkMinutes(4), finalBake: cdkMinutes(1) }),
    });
    Template.fromStack(stack).resourceCountIs('AWS::AppConfig::DeploymentStrategy', 3);
  });

  test('an explicit platform names the application, and services that name none use it', () => {
    const stack = new Stack(testApp(), 'Named');
    const platform = new AiReleasePlatform(stack, 'Platform', { applicationName: 'ai-platform' });
    new AiServiceConfig(stack, 'A', { serviceName: 'a', platform, source: ReleaseConfigSource.fromObject(validConfig()) });
    const b = new AiServiceConfig(stack, 'B', { serviceName: 'b', source: ReleaseConfigSource.fromObject(validConfig()) });
    expect(b.platform).toBe(platform);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::AppConfig::Application', 1);
    t.hasResourceProperties('AWS::AppConfig::Application', { Name: 'ai-platform' });
  });

  test('a second platform in one stack is refused with the fix', () => {
    const stack = new Stack(testApp(), 'Two');
    AiReleasePlatform.of(stack);
    expect(() => new AiReleasePlatform(stack, 'Other')).toThrow('stack Two already has an AiReleasePlatform (Two/AiReleasePlatform); create one per stack');
  });
});

describe('monitors', () => {
  function monitored(kind: 'metric' | 'composite') {
    const stack = new Stack(testApp(), 'Mon');
    const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
    const metric = new cloudwatch.Metric({ namespace: 'X', metricName: 'Errors' });
    const alarms = [1, 2].map((i) => new cloudwatch.Alarm(stack, `Alarm${i}`, { metric, threshold: i, evaluationPeriods: 1 }));
    if (kind === 'metric') alarms.forEach((a) => svc.addMonitor(a));
    else
      svc.addMonitor(
        new cloudwatch.CompositeAlarm(stack, 'Composite', {
          alarmRule: cloudwatch.AlarmRule.anyOf(...alarms.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
        }),
      );
    return Template.fromStack(stack);
  }

  test('alarms become environment monitors, read through the platform monitor role', () => {
    const t = monitored('metric');
    const env = environmentNamed(t, 'a');
    expect(env.Properties.Monitors).toHaveLength(2);
    // the degrade switches' environment stays unmonitored whatever is added
    expect(environmentNamed(t, 'a-degrade').Properties.Monitors).toBeUndefined();
    expect(env.Properties.Monitors[0].AlarmRoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/AiReleasePlatformAppConfigMonitorRole/), 'Arn'] });
  });

  test('the monitor role may DescribeAlarms on "*": composite alarms are invisible to a narrower scope (aws-cdk#29171)', () => {
    const t = monitored('composite');
    const statements = named(t, 'AWS::IAM::Policy', /MonitorRole/).Properties.PolicyDocument.Statement as any[];
    expect(statements).toEqual([{ Action: 'cloudwatch:DescribeAlarms', Effect: 'Allow', Resource: '*' }]);
  });

  test('the environment waits for the monitor role and its policy: no deployment can start before AppConfig may read the alarm', () => {
    const t = monitored('composite');
    const policyId = named(t, 'AWS::IAM::Policy', /MonitorRole/).id;
    const roleId = named(t, 'AWS::IAM::Role', /MonitorRole/).id;
    const env = environmentNamed(t, 'a');
    expect(env.DependsOn).toEqual(expect.arrayContaining([policyId, roleId]));
    expect(releaseDeployment(t)[1].DependsOn).toEqual(expect.arrayContaining([policyId, roleId]));
  });

  test('a sixth monitor is refused with the fix', () => {
    const stack = new Stack(testApp(), 'Mon');
    const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
    const metric = new cloudwatch.Metric({ namespace: 'X', metricName: 'Errors' });
    for (let i = 0; i < 5; i++) svc.addMonitor(new cloudwatch.Alarm(stack, `Alarm${i}`, { metric, threshold: 1, evaluationPeriods: 1 }));
    expect(() => svc.addMonitor(new cloudwatch.Alarm(stack, 'Alarm6', { metric, threshold: 1, evaluationPeriods: 1 }))).toThrow(
      /combine alarms into one composite alarm/,
    );
  });
});

describe('bad props', () => {
  const source = ReleaseConfigSource.fromObject(validConfig());
  test.each([
    [{ serviceName: 'Support Assistant' }, /serviceName "Support Assistant" is invalid: use lower-case letters/],
    [{ serviceName: '' }, /serviceName "" is invalid/],
    [{ serviceName: 'x'.repeat(41) }, /at most 40 characters/],
    [{ serviceName: 'ok', versionLabelPrefix: '1.0 beta' }, /versionLabelPrefix "1.0 beta" is invalid/],
    [{ serviceName: 'ok', degrade: { staticAnswerMessage: '  ' } }, /staticAnswerMessage must not be empty/],
  ])('%j', (props, message) => {
    expect(() => new AiServiceConfig(new Stack(testApp()), 'C', { source, ...(props as any) })).toThrow(message);
  });
});

describe('grantInvokeModels', () => {
  test('invoke any foundation model and apply the guardrail, with the reason acknowledged', () => {
    const stack = new Stack(testApp(), 'G');
    const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
    const fn = inlineFunction(stack);
    svc.grantInvokeModels(fn);
    const t = Template.fromStack(stack);
    const statements = named(t, 'AWS::IAM::Policy', /^FnServiceRole/).Properties.PolicyDocument.Statement;
    expect(statements.map((s: any) => s.Action)).toEqual([['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], 'bedrock:ApplyGuardrail']);
  });

  test('no guardrail in the config today, still ApplyGuardrail: a rollback to a version with one must not fail on permissions', () => {
    const stack = new Stack(testApp(), 'G');
    const c = validConfig();
    delete c.model.guardrail;
    const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(c) });
    svc.grantInvokeModels(inlineFunction(stack));
    const statements = named(Template.fromStack(stack), 'AWS::IAM::Policy', /^FnServiceRole/).Properties.PolicyDocument.Statement;
    expect(statements.map((s: any) => s.Action)).toContainEqual('bedrock:ApplyGuardrail');
  });
});

describe('the manifest file and parameter', () => {
  test('synth writes <service>.release-manifest.json and the compact copy goes to SSM', () => {
    const outdir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cdk-out-'));
    const app = testApp(outdir);
    const stack = new Stack(app, 'Svc');
    const svc = new AiServiceConfig(stack, 'Assistant', { serviceName: 'assistant', source: ReleaseConfigSource.fromObject(validConfig()) });
    const fn = inlineFunction(stack);
    const recorder = new ReleaseManifestRecorder(stack, 'Manifest', { config: svc, function: fn, facts: { owner: 'team-ai' } });
    app.synth();
    const file = JSON.parse(fs.readFileSync(path.join(outdir, 'assistant.release-manifest.json'), 'utf8'));
    expect(file.releaseId).toBe(recorder.manifest.releaseId);
    expect(file.components.prompt.content.template).toContain('{{question}}');
    expect(file.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(file.facts.owner).toBe('team-ai');
    const t = Template.fromStack(stack);
    const param = onlyOne(t, 'AWS::SSM::Parameter');
    expect(param.Properties.Name).toBe('/cdk-ai-release/Svc/assistant/release-manifest');
    const compact = JSON.parse(param.Properties.Value);
    expect(compact.components.prompt.content).toBeUndefined();
    expect(compact.components.prompt.hash).toBe(file.components.prompt.hash);
    t.hasOutput('*', { Value: recorder.manifest.releaseId });
  });

  test('the code component follows the function code', () => {
    const a = new Stack(testApp(), 'S');
    const b = new Stack(testApp(), 'S');
    const ma = manifestWithCode(a, 'exports.handler = async () => 1');
    const mb = manifestWithCode(b, 'exports.handler = async () => 2');
    expect(ma.components.code.hash).not.toBe(mb.components.code.hash);
    expect(ma.components.prompt.hash).toBe(mb.components.prompt.hash);
  });

  test('canonical content: the same config gives the same manifest bytes', () => {
    expect(canonicalJson(build().manifest)).toBe(canonicalJson(build().manifest));
  });
});

function manifestWithCode(stack: Stack, code: string): ReleaseManifest {
  const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
  return new ReleaseManifestRecorder(stack, 'M', { config: svc, function: inlineFunction(stack, 'Fn', code) }).manifest;
}

/** Logical ids that were added, removed or changed between two templates. */
function diffResourceIds(a: Template, b: Template): string[] {
  const ra = a.toJSON().Resources as Record<string, unknown>;
  const rb = b.toJSON().Resources as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((id) => JSON.stringify(ra[id]) !== JSON.stringify(rb[id]));
}

function reverseKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).reverse());
}

/** JSON is valid YAML; indent differently from the JSON files to prove formatting is irrelevant. */
function toYamlish(o: unknown): string {
  return JSON.stringify(o, undefined, 1);
}

function cdkMinutes(n: number) {
  return require('aws-cdk-lib').Duration.minutes(n);
}

describe('the shipped schema, as AppConfig will apply it', () => {
  test('fits AppConfig validator limit and accepts our own hosted content (including _release)', () => {
    const { template } = build();
    const profile = Object.values(template.findResources('AWS::AppConfig::ConfigurationProfile')).find(
      (r: any) => r.Properties.Name === 'assistant-release',
    ) as any;
    const schemaText: string = profile.Properties.Validators[0].Content;
    expect(schemaText.length).toBeLessThan(APPCONFIG_VALIDATOR_MAX_CHARS);
    const ajv = new AjvDraft04({ strict: false });
    const validate = ajv.compile(JSON.parse(schemaText));
    const content = JSON.parse(releaseVersion(template).Properties.Content);
    expect(validate(content)).toBe(true);
    expect(validate({ ...content, extra: 1 })).toBe(false); // an unknown section is refused by AppConfig too
  });
});

describe('bind: runtime wiring', () => {
  function bound(options?: Parameters<AiServiceConfig['bind']>[1]) {
    const stack = new Stack(testApp(), 'B');
    const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(validConfig()) });
    const fn = inlineFunction(stack);
    svc.bind(fn, typeof options === 'function' ? (options as any)(stack) : options);
    return serviceFunctions(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  }
  const vars = (fns: Record<string, any>) => Object.values(fns)[0].Properties.Environment.Variables;
  const layers = (fns: Record<string, any>) => Object.values(fns)[0].Properties.Layers;

  test('without the extension layer the runtime uses the data API', () => {
    const fns = bound();
    expect(vars(fns)).toMatchObject({ AI_RELEASE_USE_EXTENSION: 'false', AI_RELEASE_CONFIG_TTL_SECONDS: '5' });
    expect(layers(fns)).toBeUndefined();
  });

  test('with the extension layer: the layer and its poll interval', () => {
    const fns = bound(((stack: Stack) => ({
      appConfigExtensionLayer: lambda.LayerVersion.fromLayerVersionArn(
        stack,
        'L',
        'arn:aws:lambda:us-east-1:027255383542:layer:AWS-AppConfig-Extension-Arm64:1',
      ),
      configTtl: Duration.seconds(10),
    })) as any);
    expect(vars(fns)).toMatchObject({ AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS: '15', AI_RELEASE_CONFIG_TTL_SECONDS: '10' });
    expect(vars(fns).AI_RELEASE_USE_EXTENSION).toBeUndefined();
    expect(layers(fns)).toEqual(['arn:aws:lambda:us-east-1:027255383542:layer:AWS-AppConfig-Extension-Arm64:1']);
  });

  test.each([
    [{ configTtl: Duration.millis(10) }, 'configTtl must be whole seconds from 1 to 300, got 10 millis'],
    [{ configTtl: Duration.minutes(10) }, 'configTtl must be whole seconds from 1 to 300, got 10 minutes'],
    [{ extensionPollInterval: Duration.seconds(5) }, 'extensionPollInterval must be whole seconds, at least 15'],
  ])('bad bind options %#', (options, message) => {
    expect(() => bound(options)).toThrow(message);
  });

  test('the recorder stamps the code hash the manifest names', () => {
    const { template, manifest } = build();
    const fn = Object.values(serviceFunctions(template.findResources('AWS::Lambda::Function')))[0] as any;
    expect(fn.Properties.Environment.Variables.AI_RELEASE_CODE_HASH).toBe(manifest.components.code.label);
  });
});
