import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EVALUATION_FILTER_NAME, evaluatorModelArns, evaluatorModelStatements, ReleaseEvaluator } from '../lib/learning/release-evaluator';
import { EVALUATION_SAMPLE_TYPE, EVALUATOR_ENV } from '../lambda/shared/evaluation';
import { testApp } from './helpers';
import { functionRole, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

function setup() {
  const stack = new Stack(testApp(), 'Eval', { env: { account: '111122223333', region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Store');
  const evaluator = new ReleaseEvaluator(stack, 'Evaluator', { bucket });
  const fn = new lambda.Function(stack, 'Service', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler=async()=>1'),
  });
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
  const logGroup = new logs.LogGroup(stack, 'ServiceLogs');
  evaluator.addService(fn, {
    serviceName: 'assistant',
    logGroup,
    function: fn,
    liveAlias: alias,
    appConfig: { applicationId: 'app1', environmentId: 'env1', profileId: 'prof1' },
    evaluatorModelIds: ['us.anthropic.claude-sonnet-4-20250514-v1:0'],
  });
  return { stack, evaluator, fn, bucket };
}

describe('ReleaseEvaluator', () => {
  test('subscribes the service log group to evaluation samples only, and knows where its live config is', () => {
    const { stack } = setup();
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', { FilterName: EVALUATION_FILTER_NAME, FilterPattern: `{ $.type = "${EVALUATION_SAMPLE_TYPE}" }` });
    const env = Object.values(t.findResources('AWS::Lambda::Function')).find((r: any) => r.Properties.Environment?.Variables?.[EVALUATOR_ENV.SERVICES]) as any;
    // The function name is a Ref in the template: resolve it as CloudFormation would, then read the JSON.
    const rt = resolveTemplate(t.toJSON(), 'Eval');
    const services = JSON.parse(rt.resolve(env.Properties.Environment.Variables[EVALUATOR_ENV.SERVICES]));
    expect(services.assistant).toMatchObject({ application: 'app1', environment: 'env1', profile: 'prof1', liveAlias: 'live' });
  });

  test('IAM: replays versions, never the callers alias or $LATEST; reads only its live config; models named; its own prefix', async () => {
    const { stack, evaluator, fn, bucket } = setup();
    const template = Template.fromStack(stack).toJSON();
    const rt = resolveTemplate(template, 'Eval');
    const fnId = stack.getLogicalId(evaluator.function.node.defaultChild as never);
    const roleId = functionRole(rt, fnId);
    const policies = roleIdentityPolicies(rt, roleId);
    const allowed = async (action: string, resource: string, context?: Record<string, string>) =>
      (await simulate({ principal: rt.arnOf(roleId), action, resource, identityPolicies: policies, ...(context ? { context } : {}) })).decision === 'Allowed';
    const fnArn = rt.arnOf(stack.getLogicalId(fn.node.defaultChild as never));
    const bucketArn = rt.arnOf(stack.getLogicalId(bucket.node.defaultChild as never));
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:7`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:live`)).toBe(false);
    expect(await allowed('lambda:InvokeFunction', fnArn)).toBe(false);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:$LATEST`)).toBe(false);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:gate`)).toBe(false); // only the gate role may
    expect(await allowed('lambda:GetAlias', `${fnArn}:live`)).toBe(true);
    // The reference's resource for GetAlias is the function itself (the alias is named in the request).
    expect(await allowed('lambda:GetAlias', fnArn)).toBe(true);
    const profile = 'arn:aws:appconfig:eu-west-1:111122223333:application/app1/environment/env1/configuration/prof1';
    expect(await allowed('appconfig:StartConfigurationSession', profile)).toBe(true);
    expect(
      await allowed(
        'appconfig:StartConfigurationSession',
        'arn:aws:appconfig:eu-west-1:111122223333:application/app1/environment/candidate/configuration/prof1',
      ),
    ).toBe(false);
    expect(await allowed('bedrock:InvokeModel', 'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0')).toBe(
      true,
    );
    // The routed model in a destination Region: only through the profile (Bedrock puts it in the request's context),
    // never called directly nor through another profile.
    const profileArn = 'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0';
    const routed = 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0';
    expect(await allowed('bedrock:InvokeModel', routed, { 'bedrock:InferenceProfileArn': profileArn })).toBe(true);
    expect(await allowed('bedrock:InvokeModel', routed)).toBe(false);
    expect(
      await allowed('bedrock:InvokeModel', routed, {
        'bedrock:InferenceProfileArn': 'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/global.anthropic.claude-sonnet-4-20250514-v1:0',
      }),
    ).toBe(false);
    expect(await allowed('bedrock:InvokeModel', 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-opus-4-20250514-v1:0')).toBe(false);
    expect(await allowed('s3:PutObject', `${bucketArn}/evaluations/assistant/samples/x.json`)).toBe(true);
    expect(await allowed('s3:PutObject', `${bucketArn}/evaluations/assistant/ledger.json`)).toBe(true);
    expect(await allowed('s3:PutObject', `${bucketArn}/evaluations/other/ledger.json`)).toBe(false);
    expect(await allowed('s3:PutObject', `${bucketArn}/cases/assistant/accepted/x.json`)).toBe(false);
  });

  test('a service added twice, or a bad concurrency, is refused with the fix', () => {
    const { evaluator, fn } = setup();
    expect(() =>
      evaluator.addService(fn, {
        serviceName: 'assistant',
        logGroup: logs.LogGroup.fromLogGroupName(fn, 'G', 'x'),
        function: fn,
        liveAlias: lambda.Alias.fromAliasAttributes(fn, 'A', { aliasName: 'live', aliasVersion: fn.latestVersion }),
        appConfig: { applicationId: 'a', environmentId: 'e', profileId: 'p' },
        evaluatorModelIds: [],
      }),
    ).toThrow(/already evaluated.*add each service once/);
    const stack = new Stack(testApp());
    expect(() => new ReleaseEvaluator(stack, 'E', { bucket: new s3.Bucket(stack, 'B'), concurrency: 0 })).toThrow(
      /concurrency must be an integer from 1 to 50/,
    );
  });

  test.each([
    ['anthropic.claude-3-5-haiku-20241022-v1:0', [':bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0']],
    [
      'eu.amazon.nova-pro-v1:0',
      [':bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-pro-v1:0', ':bedrock:*::foundation-model/amazon.nova-pro-v1:0'],
    ],
    // An ARN names what it names: no `foundation-model/arn:…`.
    [
      'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
      ['arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0'],
    ],
    [
      'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-pro-v1:0',
      ['arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.amazon.nova-pro-v1:0', ':bedrock:*::foundation-model/amazon.nova-pro-v1:0'],
    ],
  ])('evaluatorModelArns(%s)', (id, expected) => {
    const stack = new Stack(testApp(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const arns = evaluatorModelArns(stack, id).map((a) => stack.resolve(a));
    expect(arns).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(JSON.stringify(arns[i])).toContain(e));
  });

  test('an ARN the grant cannot be derived from (application inference profile) is refused at synth, with the field and the fix', () => {
    const stack = new Stack(testApp(), 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    expect(() => evaluatorModelArns(stack, 'arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/abc123')).toThrow(
      /evaluation\.evaluatorModel\.modelId "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile\/abc123": the evaluator's IAM grant cannot be derived.*name a foundation model id/,
    );
  });

  test('a global profile: the region-less foundation-model ARN Bedrock authorizes it on is allowed through the profile only', () => {
    const stack = new Stack(testApp(), 'Eval', { env: { account: '111122223333', region: 'eu-west-1' } });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    for (const st of evaluatorModelStatements(stack, 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')) role.addToPolicy(st);
    const rt = resolveTemplate(Template.fromStack(stack).toJSON(), 'Eval');
    const roleId = stack.getLogicalId(role.node.defaultChild as never);
    const profile = 'arn:aws:bedrock:eu-west-1:111122223333:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0';
    // The SAR data has no region-less foundation-model ARN, so the simulator's resource-type check is skipped here.
    const decide = (resource: string, context: Record<string, string>) =>
      runUnsafeSimulation(
        {
          identityPolicies: roleIdentityPolicies(rt, roleId),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: { principal: rt.arnOf(roleId), action: 'bedrock:InvokeModel', resource: { resource, accountId: '111122223333' }, contextVariables: context },
        } as never,
        {},
      );
    const model = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    expect(decide(profile, {})).toBe('Allowed');
    expect(decide(`arn:aws:bedrock:::foundation-model/${model}`, { 'bedrock:InferenceProfileArn': profile })).toBe('Allowed');
    expect(decide(`arn:aws:bedrock:eu-west-1::foundation-model/${model}`, { 'bedrock:InferenceProfileArn': profile })).toBe('Allowed');
    expect(decide(`arn:aws:bedrock:::foundation-model/${model}`, {})).toBe('ImplicitlyDenied');
  });
});

describe('the example app evaluates the support assistant', () => {
  test('its release config has an evaluation section: the evaluator exists, samples are subscribed, low scores are collected', () => {
    const { App } = require('aws-cdk-lib');
    const { ExampleStack } = require('../bin/example-stack');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ExampleStack(app, 'Example');
    const t = Template.fromStack(stack);
    const filters = Object.values(t.findResources('AWS::Logs::SubscriptionFilter')) as any[];
    // one filter per log group: the service's (failure records and evaluation samples, which the snapshot function
    // forwards to the evaluator) and the evaluator's own (low scores); the second slot of each stays the user's
    expect(filters.map((f) => f.Properties.FilterName).sort()).toEqual(['cdk-ai-release-failures', 'cdk-ai-release-failures']);
    const byGroup = new Map<string, string[]>();
    for (const f of filters)
      byGroup.set(JSON.stringify(f.Properties.LogGroupName), [...(byGroup.get(JSON.stringify(f.Properties.LogGroupName)) ?? []), f.Properties.FilterName]);
    expect([...byGroup.values()].map((names) => names.length)).toEqual([1, 1]);
    expect(stack.release.evaluator).toBeDefined();
    expect(stack.release.config.config.evaluation).toMatchObject({ rubrics: [{ criterion: 'groundedness' }, { criterion: 'relevance' }] });
  });
});
