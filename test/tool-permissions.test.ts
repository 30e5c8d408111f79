import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Annotations as CoreAnnotations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AiRelease, ReleaseConfigSource } from '../lib';
import { toolGrants, toolWildcards } from '../lib/private/tool-permissions';
import { inlineFunction, testApp, validConfig } from './helpers';
import { functionRole, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

const TABLE = 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders';
const BUCKET_OBJECTS = 'arn:aws:s3:::kb-docs/public/*';

/** A config with two tools: one reads a table, one reads objects under a prefix (a wildcard). */
function twoTools() {
  const c = validConfig();
  c.tools.tools = [
    { ...c.tools.tools[0], permissions: { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [TABLE] } },
    {
      name: 'read_doc',
      description: 'Reads a public knowledge-base document',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
      permissions: { actions: ['s3:GetObject'], resources: [BUCKET_OBJECTS], wildcardReason: 'documents are added daily under public/' },
    },
    { name: 'http_only', description: 'Calls a partner API', inputSchema: { type: 'object' }, permissions: { hosts: ['api.partner.example'] } },
  ];
  return c;
}

function build(config = twoTools(), props: { grantToolPermissions?: boolean } = {}) {
  const stack = new Stack(testApp(), 'T');
  const fn = inlineFunction(stack);
  new AiRelease(stack, 'R', { serviceName: 'svc', function: fn, config: ReleaseConfigSource.fromObject(config), ...props });
  return { stack, fn, template: Template.fromStack(stack) };
}

/** Actions the function's role is granted, other than the library's own (AppConfig reads, Bedrock). */
function toolActions(t: Template): string[] {
  const fn: any = Object.values(t.findResources('AWS::Lambda::Function'))[0];
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  const statements = Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  return statements
    .flatMap((s: any) => [s.Action].flat())
    .filter((a: string) => !a.startsWith('appconfig:') && !a.startsWith('bedrock:'))
    .sort();
}

describe('tool permission boundaries', () => {
  test('the function is granted exactly the union of the tools’ declared permissions', () => {
    const { template } = build();
    expect(toolActions(template)).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 's3:GetObject']);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: TABLE })]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 's3:GetObject', Resource: BUCKET_OBJECTS })]) },
    });
  });

  test('the example config’s single tool (helpers) is granted by default', () => {
    expect(toolActions(build(validConfig()).template)).toEqual(['dynamodb:GetItem']);
  });

  test('a tool can do what it declares and nothing else (evaluated with the resolved policy)', async () => {
    const { stack, fn, template } = build();
    const t = resolveTemplate(template.toJSON(), 'T');
    const roleId = functionRole(t, stack.getLogicalId(fn.node.defaultChild as never));
    const ask = async (action: string, resource: string) =>
      (await simulate({ principal: t.arnOf(roleId), action, resource, identityPolicies: roleIdentityPolicies(t, roleId) })).decision;
    expect(await ask('dynamodb:GetItem', TABLE)).toBe('Allowed');
    expect(await ask('s3:GetObject', 'arn:aws:s3:::kb-docs/public/faq.md')).toBe('Allowed');
    expect(await ask('dynamodb:PutItem', TABLE)).toBe('ImplicitlyDenied');
    expect(await ask('dynamodb:GetItem', 'arn:aws:dynamodb:eu-west-1:111122223333:table/customers')).toBe('ImplicitlyDenied');
    expect(await ask('s3:GetObject', 'arn:aws:s3:::kb-docs/private/salaries.csv')).toBe('ImplicitlyDenied');
  });

  test('grantToolPermissions: false grants no tool access', () => {
    expect(toolActions(build(twoTools(), { grantToolPermissions: false }).template)).toEqual([]);
  });

  test('a config that adds a permission changes the function’s IAM policy (what cdk diff shows), and nothing else in it', () => {
    const before = build().template.findResources('AWS::IAM::Policy');
    const wider = twoTools();
    wider.tools.tools[0].permissions.actions.push('dynamodb:PutItem');
    const after = build(wider).template.findResources('AWS::IAM::Policy');
    const changed = Object.keys(after).filter((id) => JSON.stringify(after[id]) !== JSON.stringify(before[id]));
    expect(changed).toHaveLength(1);
    expect(JSON.stringify(after[changed[0]])).toContain('dynamodb:PutItem');
    expect(JSON.stringify(before[changed[0]])).not.toContain('dynamodb:PutItem');
  });

  test('a declared wildcard is surfaced: a synth warning naming the cdk-nag finding, and the finding stays unacknowledged', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tool-nag-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'T');
    new AiRelease(stack, 'R', { serviceName: 'svc', function: inlineFunction(stack), config: ReleaseConfigSource.fromObject(twoTools()) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
    const report = fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-IAM5[Resource::arn:aws:s3:::kb-docs/public/*]');
    const plain = build().stack;
    Annotations.fromStack(plain).hasWarning(
      '/T/Fn',
      Match.stringLikeRegexp(
        'tool "read_doc" of service "svc" declares a wildcard resource.*AwsSolutions-IAM5\\[Resource::arn:aws:s3:::kb-docs/public/\\*\\].*documents are added daily',
      ),
    );
    // the warning's id, as toolWildcards gives it, silences it where the wildcard is intended
    const quiet = build().stack;
    for (const w of toolWildcards(twoTools().tools.tools)) CoreAnnotations.of(quiet.node.findChild('Fn')).acknowledgeWarning(w.warning, 'intended');
    Annotations.fromStack(quiet).hasNoWarning('/T/Fn', Match.anyValue());
  });

  test.each([
    [{ actions: ['dynamodb:GetItem'] }, 'tools.tools[0] ("get_order") lists permissions.actions but no permissions.resources'],
    [{ resources: [TABLE] }, 'tools.tools[0] ("get_order") lists permissions.resources but no permissions.actions'],
  ])('a half-declared permission is an error naming the tool and the fix: %j', (permissions, message) => {
    const c = validConfig();
    c.tools.tools[0].permissions = permissions;
    expect(() => build(c)).toThrow(message);
  });

  test('pure helpers: hosts-only tools grant nothing; wildcards found in actions and resources', () => {
    const tools = twoTools().tools.tools;
    expect(toolGrants(tools).map((g) => g.tool)).toEqual(['get_order', 'read_doc']);
    const withActionWildcard = [{ ...tools[0], permissions: { actions: ['dynamodb:Get*'], resources: [TABLE] } }];
    expect(toolWildcards(withActionWildcard)).toEqual([
      {
        tool: 'get_order',
        kind: 'Action',
        value: 'dynamodb:Get*',
        finding: 'AwsSolutions-IAM5[Action::dynamodb:Get*]',
        warning: 'cdk-ai-release:tool-wildcard:get_order:dynamodb:Get*',
      },
    ]);
  });
});
