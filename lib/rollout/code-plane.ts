/**
 * The code plane of one service: the `live` alias callers invoke (CodeDeploy shifts it between versions), the `gate`
 * alias the config gate replays through, the CodeDeploy deployment group with its rollback alarms, and the ordering
 * that makes a release roll out one plane at a time (code, then config). Built inside the AiRelease (`scope`), so
 * its construct ids are the ones they always had.
 */
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { GATE_ALIAS_NAME } from '../../lambda/shared/contract';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiServiceConfig } from '../config/ai-service-config';
import { platformRole } from '../private/platform-role';
import type { ReleaseAlarms } from './release-alarms';
import type { TrafficShift } from './traffic-shift';

/** The order a release that changes both planes rolls them out in, one at a time (see AiRelease). */
export const PLANE_ORDER: readonly ('code' | 'config')[] = ['code', 'config'];

export interface ReleaseAliases {
  readonly version: lambda.Version;
  readonly alias: lambda.Alias;
  readonly gateAlias: lambda.Alias;
}

export function buildAliases(scope: Construct, serviceName: string, fn: lambda.Function): ReleaseAliases {
  // Code plane: callers use `live`; CodeDeploy moves it between versions.
  const version = fn.currentVersion;
  const alias = new lambda.Alias(scope, 'Live', {
    aliasName: 'live',
    version,
    description: `${serviceName}: the version callers get; CodeDeploy shifts it`,
  });

  // The config gate replays cases through this alias (README "Config gate"). No grant here: connectConfigGate
  // lets the gate function, and nothing else, invoke it.
  const gateAlias = new lambda.Alias(scope, 'GateAlias', {
    aliasName: GATE_ALIAS_NAME,
    version,
    description: `${serviceName}: the config gate's replays only (reads the candidate config environment)`,
  });
  return { version, alias, gateAlias };
}

export interface CodeDeploymentProps {
  readonly platform: AiReleasePlatform;
  readonly aliases: ReleaseAliases;
  readonly alarms: ReleaseAlarms;
  readonly trafficShift: TrafficShift;
  readonly config: AiServiceConfig;
}

/** The deployment group, its alarms (CodeDeploy takes at most 10), and the order of the two planes. */
export function buildCodeDeployment(scope: Construct, p: CodeDeploymentProps): codedeploy.LambdaDeploymentGroup {
  const { alias, gateAlias } = p.aliases;
  const codeAlarms = p.alarms.guardrailAlarms('code');
  const groupAlarms = p.alarms.rollbackAlarms('code');
  if (groupAlarms.length > 10) throw new Error(`CodeDeploy takes at most 10 alarms per deployment group, got ${groupAlarms.length}`);

  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(scope, 'Deployment', {
    application: p.platform.codeDeployApplication,
    alias,
    deploymentConfig: p.trafficShift.bind(p.platform),
    alarms: groupAlarms,
    role: platformRole(scope, p.platform.codeDeployRole),
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });

  // The alarms watch `Version = <new version>`: CloudFormation must update them before the alias update starts the
  // canary, or the first minutes of a canary would be judged by alarms still watching the old version.
  // The deployment group names its alarms by literal name, which carries no dependency: add it.
  alias.node.addDependency(...codeAlarms);
  deploymentGroup.node.addDependency(...codeAlarms);

  // One plane at a time: code first, then config. The alias update returns only when CodeDeploy has finished the
  // canary (CodeDeployLambdaAliasUpdate), and the config deployment waits for it, so each plane's alarms judge one
  // change. A failed canary fails the alias update before the config starts; a config rolled back by its alarms
  // fails the config deployment, and CloudFormation's rollback takes the alias back and redeploys the previous
  // config (ReleaseConfigDeployment). A config-only release has no alias change and starts at once.
  p.config.deployment.node.addDependency(alias);
  // The gate replays the candidate config on the release's code: the gate alias is on the new version first.
  p.config.deployment.node.addDependency(gateAlias);
  return deploymentGroup;
}
