/**
 * Bedrock access of a service function: the models and guardrails its release config can name (see
 * AiServiceConfig.grantInvokeModels for why the grant is not scoped to today's ids). Pure IAM, no state of its own.
 */
import { type Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';

export function grantBedrockModels(stack: Stack, grantee: iam.IGrantable): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
    resourceArns: [
      `arn:${stack.partition}:bedrock:*::foundation-model/*`,
      `arn:${stack.partition}:bedrock:*:${stack.account}:inference-profile/*`,
      `arn:${stack.partition}:bedrock:*:${stack.account}:application-inference-profile/*`,
    ],
  });
  grant.combine(
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['bedrock:ApplyGuardrail'],
      resourceArns: [
        `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:guardrail/*`,
        `arn:${stack.partition}:bedrock:*:${stack.account}:guardrail-profile/*`,
      ],
    }),
  );
  // The wildcards are the design above, not an accident: say so where the reviewer will see them.
  if (Construct.isConstruct(grantee)) {
    const reason =
      'Models and guardrails are chosen by the versioned AppConfig release config, not by IAM: a config rollback or a client still on the previous config mid-canary must keep calling what that version names, and cross-Region inference routes to any destination Region of its profile. Access is limited to invoking models and applying guardrails.';
    Validations.of(grantee as IConstruct).acknowledge(
      ...[
        'arn:<AWS::Partition>:bedrock:*::foundation-model/*',
        'arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:inference-profile/*',
        'arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:application-inference-profile/*',
        'arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:guardrail/*',
        'arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:guardrail-profile/*',
      ].map((arn) => ({ id: `AwsSolutions-IAM5[Resource::${arn}]`, reason })),
    );
  }
  return grant;
}
