import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { manifestParameterName } from '../lib/config/release-manifest-recorder';
import { inlineFunction, testApp, validConfig } from './helpers';
import { ACCOUNT, resolveTemplate, simulate } from './iam-template';

/**
 * Two services with the cost guard on, in `stack` (a Stack or a NestedStack), with the stack's own platform. Service
 * names are unique in an app (one cloud assembly holds every service's manifest and card): `prefix` keeps them so.
 */
function twoServices(stack: Stack, platform = true, prefix = '') {
  if (platform) new AiReleasePlatform(stack, 'Platform');
  return [`${prefix}alpha`, `${prefix}beta`].map(
    (name) =>
      new AiRelease(stack, `${name}Release`, {
        serviceName: name,
        function: inlineFunction(stack, `${name}Fn`),
        config: ReleaseConfigSource.fromObject(validConfig()),
        costGuard: {},
      }),
  );
}

const parameterNames = (t: Template) => Object.values(t.findResources('AWS::SSM::Parameter')).map((p: any) => p.Properties.Name);

describe('services in nested stacks', () => {
  const app = testApp();
  const parent = new Stack(app, 'Parent');
  const nested = new NestedStack(parent, 'Services');
  const other = new NestedStack(parent, 'More');
  twoServices(nested);
  twoServices(other, false, 'more-'); // the platform created on first use
  const assembly = app.synth(); // "Unable to determine ARN separator for SSM parameter" before the fix
  const t = Template.fromStack(nested);

  test('synthesize, each nested stack with its own platform, two services each, cost guard on', () => {
    expect(assembly.getStackByName('Parent').template.Resources).toBeDefined();
    t.resourceCountIs('AWS::AppConfig::Application', 1);
    // two services, two cost guards, and the platform's regression gate (one for up to 20 services), canary judge
    // (one for up to 20 services in its stack), config deployer, snapshot function, reviewer, config gate check and canary judge tick; CDK's
    // LogRetention provider (`function.logGroup` of a function with no log group of its own); the config deployer's
    // Provider framework (onEvent, isComplete, onTimeout)
    t.resourceCountIs('AWS::Lambda::Function', 15);
    // the reviewer reads the manifests where the recorder writes them: the top-level stack's name and the nested ids
    const reviewer = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.includes('ReleaseReviewer'))![1];
    expect(reviewer.Properties.Environment.Variables.AI_RELEASE_MANIFEST_PATH).toBe('Parent/Services');
    expect(parameterNames(t)).toContain('/cdk-ai-release/Parent/Services/alpha/release-manifest');
    Template.fromStack(other).resourceCountIs('AWS::AppConfig::Application', 1);
  });

  test('the manifest parameter is named from the top-level stack and the nested stack ids: known before deploy, unique', () => {
    expect(parameterNames(t).sort()).toEqual([
      '/cdk-ai-release/Parent/Services/alpha/release-manifest',
      '/cdk-ai-release/Parent/Services/beta/release-manifest',
    ]);
    expect(parameterNames(Template.fromStack(other))).toContain('/cdk-ai-release/Parent/More/more-alpha/release-manifest');
  });

  test("alarms in the nested stack may notify its platform's topic (the ARN pattern and the names share the nested stack name)", async () => {
    const r = resolveTemplate(t.toJSON(), 'Parent-ServicesNestedStackServicesNested-1ABCDEF');
    const topicId = Object.keys(r.resources).find((id) => r.resources[id].Type === 'AWS::SNS::Topic')!;
    const policy = r.resolve(Object.values(r.resources).find((x) => x.Type === 'AWS::SNS::TopicPolicy')!.Properties.PolicyDocument);
    const alarmId = Object.keys(r.resources).find((id) => r.resources[id].Type === 'AWS::CloudWatch::CompositeAlarm')!;
    const out = await simulate({
      principal: 'cloudwatch.amazonaws.com',
      action: 'sns:Publish',
      resource: r.resolve({ Ref: topicId }),
      resourcePolicy: policy,
      context: { 'aws:SecureTransport': 'true', 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': r.arnOf(alarmId) },
    });
    expect(out.decision).toBe('Allowed');
  });
});

describe('services split over several stacks of one app', () => {
  test('synthesize: two stacks, each with its platform and two services with the cost guard', () => {
    const app = testApp();
    const stacks = ['TeamA', 'TeamB'].map((id) => new Stack(app, id));
    for (const s of stacks) twoServices(s, true, `${s.stackName.toLowerCase()}-`);
    expect(() => app.synth()).not.toThrow();
    for (const s of stacks) {
      const t = Template.fromStack(s);
      t.resourceCountIs('AWS::AppConfig::Application', 1);
      t.resourceCountIs('AWS::SNS::Topic', 1);
      expect(parameterNames(t)).toContain(`/cdk-ai-release/${s.stackName}/${s.stackName.toLowerCase()}-alpha/release-manifest`);
    }
  });

  test('parameter names replace characters SSM refuses in construct ids', () => {
    const app = testApp();
    const parent = new Stack(app, 'P');
    expect(manifestParameterName(new NestedStack(parent, 'My Services!'), 'svc')).toBe('/cdk-ai-release/P/My-Services-/svc/release-manifest');
  });
});
