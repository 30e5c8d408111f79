import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';
import { ACCOUNT, PARTITION, REGION, resolveTemplate, simulate, type ResolvedTemplate } from './iam-template';

/** A stack with two services (one with the cost guard), resolved with concrete ids. */
function build(stackName = 'Svc'): ResolvedTemplate {
  const stack = new Stack(testApp(), stackName);
  for (const [name, costGuard] of [
    ['alpha', {}],
    ['beta', undefined],
  ] as const) {
    const release = new AiRelease(stack, name, {
      serviceName: name,
      function: inlineFunction(stack, `${name}Fn`),
      config: ReleaseConfigSource.fromObject(validConfig()),
      costGuard,
    });
    release.deploymentGroup; // the CodeDeploy application (and its failure rule) exist once a service does
  }
  return resolveTemplate(Template.fromStack(stack).toJSON(), stackName);
}

const only = (t: ResolvedTemplate, type: string) => Object.entries(t.resources).filter(([, r]) => r.Type === type);
const topicOf = (t: ResolvedTemplate) => {
  const [[id]] = only(t, 'AWS::SNS::Topic');
  return { arn: t.resolve({ Ref: id }) as string, policy: t.resolve(only(t, 'AWS::SNS::TopicPolicy')[0][1].Properties.PolicyDocument) };
};
const alarmArn = (name: string, account = ACCOUNT) => `arn:${PARTITION}:cloudwatch:${REGION}:${account}:alarm:${name}`;

describe('notification topic policy: every publisher the library wires is allowed, scoped to its source', () => {
  const t = build();
  const topic = topicOf(t);
  const publish = (principal: string, context: Record<string, string>) =>
    simulate({ principal, action: 'sns:Publish', resource: topic.arn, resourcePolicy: topic.policy, context: { 'aws:SecureTransport': 'true', ...context } });

  // Every alarm and composite the library names in this stack (release alarms, both composites, the cost guard).
  const alarms = [...only(t, 'AWS::CloudWatch::Alarm'), ...only(t, 'AWS::CloudWatch::CompositeAlarm')].map(([id]) => t.arnOf(id));

  test('the stack has the alarms the test means: composites and the cost guard alarm among them', () => {
    expect(alarms.some((a) => a.endsWith(':alarm:Svc-alpha-cost-guard'))).toBe(true);
    expect(alarms.filter((a) => a.endsWith('-release'))).toHaveLength(2);
    expect(alarms.length).toBeGreaterThan(10);
  });

  test.each(alarms)('CloudWatch may publish for %s', async (arn) => {
    expect((await publish('cloudwatch.amazonaws.com', { 'aws:SourceArn': arn, 'aws:SourceAccount': ACCOUNT })).decision).toBe('Allowed');
  });

  test.each([
    ['an alarm of another stack', alarmArn('Other-alpha-release'), ACCOUNT],
    ['an alarm of another account', alarmArn('Svc-alpha-release', '999988887777'), '999988887777'],
  ])('CloudWatch may not publish for %s', async (_what, arn, account) => {
    expect((await publish('cloudwatch.amazonaws.com', { 'aws:SourceArn': arn, 'aws:SourceAccount': account })).decision).toBe('ImplicitlyDenied');
  });

  test('EventBridge may publish for the CodeDeploy-failure rule only', async () => {
    // the rule that targets the topic (the other rules, one per service, invoke the release reviewer)
    const rules = only(t, 'AWS::Events::Rule');
    const [ruleId] = rules.find(([, r]) => JSON.stringify(t.resolve(r.Properties.Targets)).includes(topic.arn))!;
    const rule = t.arnOf(ruleId);
    const reviewRule = t.arnOf(rules.find(([id]) => id !== ruleId)![0]);
    expect((await publish('events.amazonaws.com', { 'aws:SourceArn': reviewRule, 'aws:SourceAccount': ACCOUNT })).decision).toBe('ImplicitlyDenied');
    expect((await publish('events.amazonaws.com', { 'aws:SourceArn': rule, 'aws:SourceAccount': ACCOUNT })).decision).toBe('Allowed');
    const otherRule = `arn:${PARTITION}:events:${REGION}:${ACCOUNT}:rule/someone-elses-rule`;
    expect((await publish('events.amazonaws.com', { 'aws:SourceArn': otherRule, 'aws:SourceAccount': ACCOUNT })).decision).toBe('ImplicitlyDenied');
    // The rule targets the topic directly (resource policy), with no role: EventBridge documents a RoleArn on an
    // encrypted SNS target as a cause of failed delivery.
    expect(t.resolve(t.resources[ruleId].Properties.Targets)).toEqual([{ Arn: topic.arn, Id: 'Target0' }]);
  });

  test('without TLS nobody publishes', async () => {
    const cw = await simulate({
      principal: 'cloudwatch.amazonaws.com',
      action: 'sns:Publish',
      resource: topic.arn,
      resourcePolicy: topic.policy,
      context: { 'aws:SecureTransport': 'false', 'aws:SourceArn': alarms[0], 'aws:SourceAccount': ACCOUNT },
    });
    expect(cw.decision).toBe('ExplicitlyDenied');
  });

  test('no statement lets a service principal publish without a source condition', () => {
    const allows = (topic.policy.Statement as any[]).filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBe(2);
    for (const s of allows) {
      expect(s.Principal.Service).toBeDefined();
      expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
      expect(s.Condition?.ArnLike?.['aws:SourceArn'] ?? s.Condition?.ArnEquals?.['aws:SourceArn']).toBeDefined();
    }
  });
});

describe('notification topic key policy', () => {
  const t = build();
  const [[keyId, key]] = only(t, 'AWS::KMS::Key').filter(([, k]) => /notifications topic/.test(k.Properties.Description));
  const policy = t.resolve(key.Properties.KeyPolicy);
  const keyArn = t.arnOf(keyId);
  const use = (principal: string, context: Record<string, string>) =>
    simulate({ principal, action: 'kms:GenerateDataKey', resource: keyArn, resourcePolicy: policy, context });
  const topic = topicOf(t);
  const publish = (principal: string, context: Record<string, string>) =>
    simulate({ principal, action: 'sns:Publish', resource: topic.arn, resourcePolicy: topic.policy, context: { 'aws:SecureTransport': 'true', ...context } });

  test('CloudWatch and EventBridge may use the key without source conditions; who publishes is the topic policy’s call', async () => {
    // SNS developer guide (sns-key-management, compatibility with AWS event sources): the key statement for a service
    // principal carries no source keys; they are documented as unsupported there for EventBridge, and undocumented
    // for CloudWatch's KMS request. A condition the request lacks would drop every notification silently.
    for (const principal of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      expect((await use(principal, {})).decision).toBe('Allowed');
    }
    const services = (policy.Statement as any[]).filter((s) => s.Principal?.Service !== undefined);
    expect(services).toHaveLength(1);
    expect(services[0].Condition).toBeUndefined();
    expect(services[0].Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    // the key alone publishes nothing: the topic policy still refuses another stack's alarm
    expect((await publish('cloudwatch.amazonaws.com', { 'aws:SourceArn': alarmArn('Other-x'), 'aws:SourceAccount': ACCOUNT })).decision).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('a topic brought by the user', () => {
  function withTopic(make: (stack: Stack) => any) {
    const stack = new Stack(testApp(), 'Own');
    new AiReleasePlatform(stack, 'P', { notificationTopic: make(stack) });
    new AiRelease(stack, 'R', { serviceName: 'svc', function: inlineFunction(stack), config: ReleaseConfigSource.fromObject(validConfig()) });
    return Template.fromStack(stack);
  }

  test('imported: left as given (no key, no policy: its policy is yours)', () => {
    const t = withTopic((stack) => sns.Topic.fromTopicArn(stack, 'T', `arn:aws:sns:${REGION}:${ACCOUNT}:mine`));
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.resourceCountIs('AWS::SNS::TopicPolicy', 0);
  });

  test('defined in the app: gets the same two scoped publish statements, no key of ours', () => {
    const t = withTopic((stack) => new sns.Topic(stack, 'Mine'));
    t.resourceCountIs('AWS::KMS::Key', 0);
    const [policy] = Object.values(t.findResources('AWS::SNS::TopicPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement);
    expect(policy.map((s: any) => s.Sid).sort()).toEqual(['CloudWatchAlarmsOfThisStack', 'CodeDeployFailureRule']);
  });
});
