/**
 * Hand-written templates for the drill tests: small enough that a timeline can be computed by hand, shaped like what
 * the constructs synthesize (metric math over the runtime's EMF, per-version dimension as a Lambda::Version token).
 */

export interface AlarmSpec {
  readonly expression?: string;
  /** EMF metrics by query id: [metricName, stat, 'version' | 'service']. */
  readonly metrics: Record<string, [string, string, 'version' | 'service']>;
  readonly threshold: number;
  readonly comparison?: string;
  readonly period?: number;
  readonly m?: number;
  readonly n?: number;
  readonly treatMissingData?: string;
}

export function alarmResource(spec: AlarmSpec): Record<string, unknown> {
  const period = spec.period ?? 30;
  const metric = (id: string, [name, stat, scope]: [string, string, 'version' | 'service'], returnData: boolean) => ({
    Id: id,
    ReturnData: returnData,
    MetricStat: {
      Metric: {
        Namespace: 'AiRelease',
        MetricName: name,
        Dimensions: [
          { Name: 'Service', Value: 'svc' },
          ...(scope === 'version' ? [{ Name: 'Version', Value: { 'Fn::GetAtt': ['FnVersion', 'Version'] } }] : []),
        ],
      },
      Period: period,
      Stat: stat,
    },
  });
  const ids = Object.keys(spec.metrics);
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `svc-${ids.join('-')}`,
      ComparisonOperator: spec.comparison ?? 'GreaterThanThreshold',
      Threshold: spec.threshold,
      EvaluationPeriods: spec.n ?? 3,
      DatapointsToAlarm: spec.m ?? 2,
      TreatMissingData: spec.treatMissingData ?? 'notBreaching',
      Metrics: [
        ...(spec.expression ? [{ Id: 'e1', Expression: spec.expression, ReturnData: true }] : []),
        ...ids.map((id) => metric(id, spec.metrics[id], !spec.expression)),
      ],
    },
  };
}

/** The error-rate alarm the constructs synthesize: IF(inv >= 5, x / inv, 0) > 0.05, 30 s, 2 of 3. */
export const ERROR_RATE: AlarmSpec = {
  expression: 'IF(inv >= 5, x / inv, 0)',
  metrics: { inv: ['Invocations', 'Sum', 'version'], x: ['Errors', 'Sum', 'version'] },
  threshold: 0.05,
};

export const CONTRACT_RATE: AlarmSpec = {
  expression: 'IF(inv >= 5, c / inv, 0)',
  metrics: { inv: ['Invocations', 'Sum', 'version'], c: ['ContractViolations', 'Sum', 'version'] },
  threshold: 0.02,
};

/** A template with a CodeDeploy group watching `alarms`, a canary schedule, and optionally an AppConfig rollout. */
export function drillTemplate(
  alarms: Record<string, AlarmSpec>,
  options: {
    deploymentConfig?: string | { canary?: [number, number]; linear?: [number, number] };
    appConfig?: { growthType: string; growth: number; duration: number; bake: number; monitors: string[] };
    extraResources?: Record<string, unknown>;
  } = {},
): Record<string, any> {
  const resources: Record<string, any> = {
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    FnVersion: { Type: 'AWS::Lambda::Version', Properties: {} },
    ...options.extraResources,
  };
  for (const [id, spec] of Object.entries(alarms)) resources[id] = alarmResource(spec);
  const dc = options.deploymentConfig ?? 'CodeDeployDefault.LambdaCanary10Percent5Minutes';
  if (typeof dc !== 'string') {
    resources.Custom = {
      Type: 'AWS::CodeDeploy::DeploymentConfig',
      Properties: {
        ComputePlatform: 'Lambda',
        TrafficRoutingConfig: dc.canary
          ? { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: dc.canary[0], CanaryInterval: dc.canary[1] } }
          : { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: dc.linear?.[0], LinearInterval: dc.linear?.[1] } },
      },
    };
  }
  resources.Group = {
    Type: 'AWS::CodeDeploy::DeploymentGroup',
    Properties: {
      DeploymentConfigName: typeof dc === 'string' ? dc : { Ref: 'Custom' },
      AlarmConfiguration: { Enabled: true, Alarms: Object.keys(alarms).map((id) => ({ Name: { Ref: id } })) },
    },
  };
  if (options.appConfig) {
    const a = options.appConfig;
    resources.Env = {
      Type: 'AWS::AppConfig::Environment',
      Properties: { ApplicationId: 'app', Name: 'svc', Monitors: a.monitors.map((m) => ({ AlarmArn: { 'Fn::GetAtt': [m, 'Arn'] } })) },
    };
    resources.Strategy = {
      Type: 'AWS::AppConfig::DeploymentStrategy',
      Properties: { GrowthType: a.growthType, GrowthFactor: a.growth, DeploymentDurationInMinutes: a.duration, FinalBakeTimeInMinutes: a.bake },
    };
    resources.Deployment = {
      Type: 'AWS::AppConfig::Deployment',
      Properties: { ApplicationId: 'app', EnvironmentId: { Ref: 'Env' }, DeploymentStrategyId: { Ref: 'Strategy' } },
    };
  }
  return { Resources: resources };
}

/** A composite alarm over alarms of this template, written as CDK writes it (Fn::Join of ALARM("<arn>")). */
export function compositeResource(children: string[]): Record<string, unknown> {
  const parts: unknown[] = ['('];
  children.forEach((c, i) => {
    parts.push(`${i > 0 ? ' OR ' : ''}ALARM("`, { 'Fn::GetAtt': [c, 'Arn'] }, '")');
  });
  parts.push(')');
  return { Type: 'AWS::CloudWatch::CompositeAlarm', Properties: { AlarmName: 'svc-config-rollback', AlarmRule: { 'Fn::Join': ['', parts] } } };
}
