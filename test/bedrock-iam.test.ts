import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiServiceConfig, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';
import { ACCOUNT, functionRole, PARTITION, REGION, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

/**
 * grantInvokeModels, as deployed: the resolved policy evaluated like AWS would. Models through system-defined and
 * application inference profiles (and the foundation models they route to in other Regions), guardrails and their
 * profiles; ApplyGuardrail whatever today's config says, because a rollback may bring back a guardrail.
 */
function granted(config: Record<string, any>) {
  const stack = new Stack(testApp(), 'G');
  const svc = new AiServiceConfig(stack, 'A', { serviceName: 'a', source: ReleaseConfigSource.fromObject(config) });
  const fn = inlineFunction(stack);
  svc.grantInvokeModels(fn);
  const t = resolveTemplate(Template.fromStack(stack).toJSON(), 'G');
  const roleId = functionRole(t, stack.getLogicalId(fn.node.defaultChild as never));
  const policies = roleIdentityPolicies(t, roleId);
  const decide = async (action: string, resource: string) =>
    (await simulate({ principal: t.arnOf(roleId), action, resource, identityPolicies: policies })).decision;
  return { policies, decide };
}

const OTHER_ACCOUNT = '444455556666';
const arn = (region: string, account: string, rest: string) => `arn:${PARTITION}:bedrock:${region}:${account}:${rest}`;

describe.each([
  ['with a guardrail in today’s config', validConfig()],
  [
    'with no guardrail in today’s config',
    (() => {
      const c = validConfig();
      delete c.model.guardrail;
      return c;
    })(),
  ],
])('grantInvokeModels %s', (_name, config) => {
  const { policies, decide } = granted(config);

  test('the statements: invoke on models and both kinds of inference profile; ApplyGuardrail on guardrails and guardrail profiles', () => {
    const statements = policies.flatMap((p) => p.policy.Statement);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: [
          `arn:${PARTITION}:bedrock:*::foundation-model/*`,
          `arn:${PARTITION}:bedrock:*:${ACCOUNT}:inference-profile/*`,
          `arn:${PARTITION}:bedrock:*:${ACCOUNT}:application-inference-profile/*`,
        ],
      },
      {
        Effect: 'Allow',
        Action: 'bedrock:ApplyGuardrail',
        Resource: [arn(REGION, ACCOUNT, 'guardrail/*'), `arn:${PARTITION}:bedrock:*:${ACCOUNT}:guardrail-profile/*`],
      },
    ]);
  });

  test.each([
    // A cross-Region profile: its ARN in the caller's Region, the foundation model in each destination Region.
    ['bedrock:InvokeModel', arn(REGION, ACCOUNT, 'inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0'), 'Allowed'],
    ['bedrock:InvokeModel', arn('eu-central-1', '', 'foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0'), 'Allowed'],
    ['bedrock:InvokeModel', arn('eu-north-1', '', 'foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0'), 'Allowed'],
    // A global profile routes to any commercial Region.
    ['bedrock:InvokeModel', arn(REGION, ACCOUNT, 'inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0'), 'Allowed'],
    ['bedrock:InvokeModel', arn('ap-southeast-2', '', 'foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0'), 'Allowed'],
    ['bedrock:InvokeModel', arn(REGION, ACCOUNT, 'application-inference-profile/a1b2c3d4e5f6'), 'Allowed'],
    ['bedrock:InvokeModelWithResponseStream', arn('us-east-2', ACCOUNT, 'application-inference-profile/a1b2c3d4e5f6'), 'Allowed'],
    // Another account's profiles are not ours to call.
    ['bedrock:InvokeModel', arn(REGION, OTHER_ACCOUNT, 'inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0'), 'ImplicitlyDenied'],
    ['bedrock:InvokeModel', arn(REGION, OTHER_ACCOUNT, 'application-inference-profile/a1b2c3d4e5f6'), 'ImplicitlyDenied'],
    // Guardrails: the account's, in the stack's Region; guardrail profiles in every destination Region.
    ['bedrock:ApplyGuardrail', arn(REGION, ACCOUNT, 'guardrail/abcd1234'), 'Allowed'],
    ['bedrock:ApplyGuardrail', arn(REGION, ACCOUNT, 'guardrail-profile/eu.guardrail.v1:0'), 'Allowed'],
    ['bedrock:ApplyGuardrail', arn('eu-central-1', ACCOUNT, 'guardrail-profile/eu.guardrail.v1:0'), 'Allowed'],
    ['bedrock:ApplyGuardrail', arn('us-east-1', ACCOUNT, 'guardrail/abcd1234'), 'ImplicitlyDenied'],
    ['bedrock:ApplyGuardrail', arn(REGION, OTHER_ACCOUNT, 'guardrail/abcd1234'), 'ImplicitlyDenied'],
    // Nothing else of Bedrock.
    ['bedrock:DeleteGuardrail', arn(REGION, ACCOUNT, 'guardrail/abcd1234'), 'ImplicitlyDenied'],
  ])('%s on %s: %s', async (action, resource, expected) => {
    expect(await decide(action, resource)).toBe(expected);
  });
});
