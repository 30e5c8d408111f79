/**
 * The regression gate of one service as AiRelease wires it: no version reaches traffic unpassed. The gate is the code
 * plane's pre-traffic hook (CloudFormation updates it before the alias update that starts the deployment), a function
 * shared by the platform's services (issue 15 E) that reads this service's settings from its release manifest
 * parameter; the same function gates the config plane (candidate config, replay through the `gate` alias, then live) within a
 * bounded share of the deployer's budget. Built inside the AiRelease (`scope`), so its construct id is the one it
 * always had.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiReleaseProps } from '../ai-release-props';
import type { EvaluationConfig } from '../../lambda/shared/evaluation';
import type { AiServiceConfig, ConnectGateOptions } from '../config/ai-service-config';
import { manifestParameterName } from '../config/release-manifest-recorder';
import { platformRole } from '../private/platform-role';
import { gateGrantsPolicy, RegressionGate } from './regression-gate';

/** How long the config deployer waits for the regression gate's report on a new config version. */
export const CONFIG_GATE_TIMEOUT = Duration.minutes(5);

/** The gate, unless `regressionGate` is false. */
export function wireRegressionGate(
  scope: Construct,
  props: AiReleaseProps,
  w: {
    readonly platform: AiReleasePlatform;
    readonly config: AiServiceConfig;
    readonly alias: lambda.Alias;
    readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  },
): RegressionGate | undefined {
  if (props.regressionGate === false) return undefined;
  const evaluation = w.config.config.evaluation as EvaluationConfig | undefined;
  // One gate function per platform (per SERVICES_PER_GATE_FUNCTION services, issue 15 E): this service's settings
  // live in its release manifest parameter, which the deployment group's tag names (lambda/gate/service-settings.ts).
  const settingsParameter = manifestParameterName(Stack.of(scope), props.serviceName);
  const gate = new RegressionGate(scope, 'Gate', {
    serviceName: props.serviceName,
    function: props.function,
    bucket: w.platform.regressionStore.bucket,
    deploymentGroup: w.deploymentGroup,
    host: w.platform,
    settingsParameter,
    // Replays are scored with the LIVE config's rubric, so a release is never judged by a rubric it changes itself.
    ...(evaluation && (props.evaluation ?? true)
      ? {
          evaluator: {
            modelId: evaluation.evaluatorModel.modelId,
            appConfig: { applicationId: w.config.applicationId, environmentId: w.config.environment.ref, profileId: w.config.profile.ref },
          },
        }
      : {}),
    ...(typeof props.regressionGate === 'object' ? props.regressionGate : {}),
  });
  // CloudFormation updates the hook (its code, role and role policy, this service's grants on it, and the CodeDeploy
  // role's permission to invoke it) before the alias update that starts the deployment.
  w.alias.node.addDependency(gate.function, platformRole(scope, w.platform.codeDeployRole));
  const grants = gateGrantsPolicy(gate);
  if (grants) w.alias.node.addDependency(grants);
  // The same function gates the config plane: candidate config, replay through the `gate` alias, then live. Its
  // share of the deployer's 12-minute budget is bounded here; the request tells it when to stop (answerBy) and where
  // this service's settings are (settingsParameter).
  wireConfigGate(w.config, gate.function, { timeout: CONFIG_GATE_TIMEOUT, settingsParameter });
  if (grants) w.config.deployment.node.addDependency(grants);
  // (It never invokes the callers' alias: one Deny on every `live` alias, on the shared role; regression-gate.ts.)
  return gate;
}

/** Connects a gate function to the config plane (AiServiceConfig.connectGate), ordered before the config deployment. */
export function wireConfigGate(config: AiServiceConfig, gate: lambda.IFunction, options: ConnectGateOptions): void {
  config.connectGate(gate, options);
  // The gate may invoke the alias before the deployer asks it to (its role's policy is a child of the function).
  config.deployment.node.addDependency(gate);
}
