/**
 * What a service's config lets principals do: read both configs (and the candidate one) through the AppConfig data
 * API or extension, and exactly the IAM permissions its tools declare. (Bedrock models and guardrails: model-grants.ts.)
 * Pure IAM, no resources of its own.
 */
import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ToolConfig } from '../../lambda/shared/contract';
import { toolGrants, toolWildcards } from '../private/tool-permissions';
import type { AiServiceConfig } from './ai-service-config';

/** AiServiceConfig.grantRead. */
export function grantConfigRead(config: AiServiceConfig, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
    resourceArns: [
      configurationArn(config, config.environment, config.profile),
      configurationArn(config, config.degradeEnvironment, config.degradeProfile),
      configurationArn(config, config.candidateEnvironment, config.profile),
    ],
  });
}

function configurationArn(config: AiServiceConfig, environment: appconfig.CfnEnvironment, profile: appconfig.CfnConfigurationProfile): string {
  return appConfigConfigurationArn(Stack.of(config), config.applicationId, environment.ref, profile.ref);
}

/** `arn:…:appconfig:…:application/<app>/environment/<env>/configuration/<profile>`: what the AppConfig data API authorizes. */
export function appConfigConfigurationArn(stack: Stack, applicationId: string, environmentId: string, profileId: string): string {
  return stack.formatArn({
    service: 'appconfig',
    resource: 'application',
    resourceName: `${applicationId}/environment/${environmentId}/configuration/${profileId}`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Reading one configuration through the AppConfig data API (StartConfigurationSession + GetLatestConfiguration). */
export function appConfigReadStatement(stack: Stack, applicationId: string, environmentId: string, profileId: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
    resources: [appConfigConfigurationArn(stack, applicationId, environmentId, profileId)],
  });
}

/** AiServiceConfig.grantToolPermissions: the union of the tools' declared permissions, a warning per wildcard. */
export function grantToolPermissions(config: AiServiceConfig, grantee: iam.IGrantable): iam.Grant {
  const tools = ((config.config.tools as { tools?: ToolConfig[] } | undefined)?.tools ?? []) as ToolConfig[];
  let grant: iam.Grant | undefined;
  for (const g of toolGrants(tools)) {
    const one = iam.Grant.addToPrincipal({ grantee, actions: [...g.actions], resourceArns: [...g.resources] });
    grant = grant ? grant.combine(one) : one;
  }
  const scope = Construct.isConstruct(grantee) ? grantee : config;
  for (const w of toolWildcards(tools)) {
    Annotations.of(scope).addWarningV2(
      w.warning,
      `tool "${w.tool}" of service "${config.serviceName}" declares a wildcard ${w.kind.toLowerCase()}, "${w.value}", and is granted it. cdk-nag reports ${w.finding}; if the wildcard is intended, acknowledge that id on the function${w.reason ? ` (the config's reason: "${w.reason}")` : ''}, else name the ${w.kind === 'Action' ? 'actions' : 'resources'} in the tools section.`,
    );
  }
  return grant ?? iam.Grant.drop(grantee, `no tool of ${config.serviceName} declares IAM permissions`);
}
