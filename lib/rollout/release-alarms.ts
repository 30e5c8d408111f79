import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  DIMENSION,
  FAILURE_RECORD_TYPE,
  JUDGE_DIMENSION_PLANE,
  JUDGE_METRIC,
  METRIC,
  METRIC_NAMESPACE,
  compositeAlarmNames,
  releaseAlarmName,
  type FailureKind,
  type MetricName,
  type ReleaseAlarmKind,
} from '../../lambda/shared/contract';
import type { AlarmTiming } from './worst-case';
import { checkedName, namePrefix } from '../private/physical-names';

/** Thresholds of the release alarms. Rates are fractions (0.05 = 5 %). */
export interface ReleaseAlarmThresholds {
  /** Errors / invocations. @default 0.05 */
  readonly maxErrorRate?: number;
  /** p99 of Latency, milliseconds. @default 15000 (an LLM call with retrieval; set your own SLO) */
  readonly maxP99LatencyMs?: number;
  /** CostUsd / invocations. @default model.maxCostPerRequestUsd of the release config, else 0.05 */
  readonly maxCostPerRequestUsd?: number;
  /** Average QualityScore below this alarms. @default outputContract.qualityFloor of the release config, else 0.5 */
  readonly minQualityScore?: number;
  /** SafetyViolations / invocations. @default 0.01 */
  readonly maxSafetyViolationRate?: number;
  /** ContractViolations / invocations. @default 0.02 */
  readonly maxContractViolationRate?: number;
  /** The new version's error rate minus the rest's. @default 0.02 */
  readonly maxCanaryErrorRateDelta?: number;
}

export interface ReleaseAlarmOptions extends ReleaseAlarmThresholds {
  /**
   * Alarm period. The runtime emits high-resolution metrics, so 10 s works; never CDK's 5-minute default.
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /** Breaching periods needed to alarm (M of N). @default 2 */
  readonly datapointsToAlarm?: number;
  /** Periods looked at (N). @default 3 */
  readonly evaluationPeriods?: number;
  /**
   * Invocations a period needs before a rate or percentile can breach: keeps one unlucky request at low traffic
   * from rolling back a good release.
   * @default 5
   */
  readonly minInvocations?: number;
}

/** The kinds of release alarm; the review function reads alarm names from the same contract. */
export type AlarmKind = ReleaseAlarmKind;

/** One release alarm and what it watches, for the dashboard, the strategy card and the worst-case computation. */
export interface ReleaseAlarm {
  readonly kind: AlarmKind;
  /** `code`: the new Lambda version (CodeDeploy); `config`: the whole service (AppConfig). */
  readonly plane: 'code' | 'config';
  readonly alarm: cloudwatch.Alarm;
  readonly threshold: number;
  readonly comparison: '>' | '<';
  /** What is watched, for people: `error rate (Errors / Invocations) of the new version`. */
  readonly watches: string;
  readonly unit: string;
}

export interface ReleaseAlarmsProps extends ReleaseAlarmOptions {
  readonly serviceName: string;
  /**
   * What every alarm name starts with: the platform's stack's name prefix, which its topic policy and the reviewer
   * allow (`<prefix>-*`), also when the service lives in another stack.
   * @default the name prefix of this construct's stack (physical-names.ts)
   */
  readonly namePrefix?: string;
  /** The version being released; its alarms watch `Version = <its number>` (a deploy-time token). */
  readonly version: string;
  /** Defaults taken from the release config. */
  readonly configDefaults?: { readonly maxCostPerRequestUsd?: number; readonly qualityFloor?: number };
  /** What the on-call should look at first (e.g. the dashboard name). */
  readonly runbookHint?: string;
  /**
   * A verdict alarm per plane on the canary judge's verdict metric (see CanaryJudge), outside `alarms`: the judge's
   * time to a verdict depends on the evidence, not on alarm periods, so the worst case does not count it.
   * @default true
   */
  readonly judgeVerdict?: boolean;
}

/**
 * The alarms that decide a release: one factory owns their names, defaults, descriptions and metric math.
 * Code-plane alarms watch the new version (CodeDeploy, at most 10); config-plane alarms watch the whole service,
 * since a config rollout spans code versions (AppConfig, through one composite alarm).
 * Every alarm treats missing data as not breaching: AppConfig rolls back on INSUFFICIENT_DATA, and no traffic is
 * no evidence.
 */
export class ReleaseAlarms extends Construct {
  public readonly alarms: ReleaseAlarm[] = [];
  /** Any config-plane alarm: the AppConfig monitor. */
  public readonly configComposite: cloudwatch.CompositeAlarm;
  /** Any alarm at all: what notifications hang off. */
  public readonly anyComposite: cloudwatch.CompositeAlarm;
  public readonly period: Duration;
  public readonly minInvocations: number;
  /** The canary judge's verdict alarms (code: in the deployment group; config: in the config composite). */
  public readonly verdictAlarms: { readonly plane: 'code' | 'config'; readonly alarm: cloudwatch.Alarm }[] = [];

  constructor(scope: Construct, id: string, props: ReleaseAlarmsProps) {
    super(scope, id);
    this.period = props.period ?? Duration.seconds(10);
    const periodS = this.period.toSeconds({ integral: false });
    if (![10, 30].includes(periodS) && !(periodS >= 60 && periodS % 60 === 0)) {
      throw new Error(`alarms.period must be 10 s, 30 s or a whole number of minutes, got ${this.period.toHumanString()}; 10 s is the default and the fastest`);
    }
    const m = props.datapointsToAlarm ?? 2;
    const n = props.evaluationPeriods ?? 3;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`alarms.evaluationPeriods must be a whole number from 1 to 100, got ${n}`);
    if (!Number.isInteger(m) || m < 1 || m > n) throw new Error(`alarms.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${n}), got ${m}`);
    this.minInvocations = props.minInvocations ?? 5;
    if (!Number.isInteger(this.minInvocations) || this.minInvocations < 1)
      throw new Error(`alarms.minInvocations must be a whole number >= 1, got ${this.minInvocations}`);

    const t = {
      maxErrorRate: rate('maxErrorRate', props.maxErrorRate ?? 0.05),
      maxP99LatencyMs: positive('maxP99LatencyMs', props.maxP99LatencyMs ?? 15000),
      maxCostPerRequestUsd: positive('maxCostPerRequestUsd', props.maxCostPerRequestUsd ?? props.configDefaults?.maxCostPerRequestUsd ?? 0.05),
      minQualityScore: rate('minQualityScore', props.minQualityScore ?? props.configDefaults?.qualityFloor ?? 0.5),
      maxSafetyViolationRate: rate('maxSafetyViolationRate', props.maxSafetyViolationRate ?? 0.01),
      maxContractViolationRate: rate('maxContractViolationRate', props.maxContractViolationRate ?? 0.02),
      maxCanaryErrorRateDelta: rate('maxCanaryErrorRateDelta', props.maxCanaryErrorRateDelta ?? 0.02),
    };

    const service = props.serviceName;
    const prefix = props.namePrefix ?? namePrefix(this);
    const min = this.minInvocations;
    const perVersion = { [DIMENSION.SERVICE]: service, [DIMENSION.VERSION]: props.version };
    const perService = { [DIMENSION.SERVICE]: service };
    const metric = (name: MetricName, statistic: string, dims: Record<string, string>) =>
      new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, statistic, dimensionsMap: dims, period: this.period });
    const window = `${m} of ${n} ${periodS}-second periods with at least ${min} invocations`;
    const guard = `Quiet below ${min} invocations per period; missing data never breaches.`;
    const look = (kind: FailureKind, scopeText: string) =>
      `Look first at the failure records: CloudWatch Logs Insights, filter type = "${FAILURE_RECORD_TYPE}" and kind = "${kind}" ${scopeText}; then at what this release changed (the release manifest diff)${props.runbookHint ? `; ${props.runbookHint}` : ''}.`;

    const add = (
      kind: AlarmKind,
      plane: 'code' | 'config',
      spec: {
        expression: string;
        using: Record<string, cloudwatch.IMetric>;
        threshold: number;
        comparison: '>' | '<';
        watches: string;
        unit: string;
        what: string;
        failureKind: FailureKind;
      },
    ) => {
      const who = plane === 'code' ? 'the new code version' : 'the service (all versions)';
      const act =
        plane === 'code'
          ? 'CodeDeploy rolls the live alias back to the previous version automatically while a deployment is running; outside a deployment, nothing rolls back: consider the degrade switches.'
          : 'AppConfig rolls back a config deployment in progress automatically; outside a deployment, nothing rolls back: consider the degrade switches.';
      const alarm = new cloudwatch.Alarm(this, `${plane === 'code' ? 'Version' : 'Service'}-${kind}`, {
        alarmName: checkedName('alarm', releaseAlarmName(prefix, service, plane, kind)),
        alarmDescription:
          `${service}: ${spec.what} of ${who} ${spec.comparison === '>' ? 'is above' : 'is below'} ${spec.threshold}${spec.unit} ` +
          `(${window}). ${act} ${look(spec.failureKind, plane === 'code' ? `for version.codeVersion = the new version` : '')} ${guard}`,
        metric: new cloudwatch.MathExpression({ expression: spec.expression, usingMetrics: spec.using, period: this.period, label: spec.watches }),
        threshold: spec.threshold,
        comparisonOperator: spec.comparison === '>' ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD : cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: n,
        datapointsToAlarm: m,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.alarms.push({ kind, plane, alarm, threshold: spec.threshold, comparison: spec.comparison, watches: spec.watches, unit: spec.unit });
    };

    for (const plane of ['code', 'config'] as const) {
      const dims = plane === 'code' ? perVersion : perService;
      const inv = metric(METRIC.INVOCATIONS, 'Sum', dims);
      const ratio = (name: MetricName) => ({ expression: `IF(inv >= ${min}, x / inv, 0)`, using: { inv, x: metric(name, 'Sum', dims) } });
      add('error-rate', plane, {
        ...ratio(METRIC.ERRORS),
        threshold: t.maxErrorRate,
        comparison: '>',
        watches: 'error rate (Errors / Invocations)',
        unit: '',
        what: 'the error rate',
        failureKind: 'error',
      });
      add('p99-latency', plane, {
        expression: `IF(inv >= ${min}, lat, 0)`,
        using: { inv, lat: metric(METRIC.LATENCY, 'p99', dims) },
        threshold: t.maxP99LatencyMs,
        comparison: '>',
        watches: 'p99 latency',
        unit: ' ms',
        what: 'the p99 latency',
        failureKind: 'timeout',
      });
      add('cost-per-request', plane, {
        ...ratio(METRIC.COST_USD),
        threshold: t.maxCostPerRequestUsd,
        comparison: '>',
        watches: 'cost per request (CostUsd / Invocations)',
        unit: ' USD',
        what: 'the cost per request',
        failureKind: 'cost',
      });
      add('quality', plane, {
        expression: `IF(inv >= ${min}, q, 1)`,
        using: { inv, q: metric(METRIC.QUALITY_SCORE, 'Average', dims) },
        threshold: t.minQualityScore,
        comparison: '<',
        watches: 'average quality score',
        unit: '',
        what: 'the average quality score',
        failureKind: 'quality',
      });
      add('safety-rate', plane, {
        ...ratio(METRIC.SAFETY_VIOLATIONS),
        threshold: t.maxSafetyViolationRate,
        comparison: '>',
        watches: 'safety-violation rate',
        unit: '',
        what: 'the safety-violation rate',
        failureKind: 'safety',
      });
      add('contract-rate', plane, {
        ...ratio(METRIC.CONTRACT_VIOLATIONS),
        threshold: t.maxContractViolationRate,
        comparison: '>',
        watches: 'contract-violation rate',
        unit: '',
        what: 'the output-contract violation rate',
        failureKind: 'contract',
      });
      if (plane !== 'code') continue;
      // Canary vs stable: the new version's error rate minus the rest's (aggregate minus the new version).
      add('canary-vs-stable', 'code', {
        expression: `IF(vinv >= ${min} AND (ainv - vinv) >= ${min}, verr / vinv - (aerr - verr) / (ainv - vinv), 0)`,
        using: {
          vinv: metric(METRIC.INVOCATIONS, 'Sum', perVersion),
          verr: metric(METRIC.ERRORS, 'Sum', perVersion),
          ainv: metric(METRIC.INVOCATIONS, 'Sum', perService),
          aerr: metric(METRIC.ERRORS, 'Sum', perService),
        },
        threshold: t.maxCanaryErrorRateDelta,
        comparison: '>',
        watches: 'error rate of the new version minus the rest (canary vs stable)',
        unit: '',
        what: 'the error rate, compared with the stable versions,',
        failureKind: 'error',
      });
    }
    // The canary judge publishes 1 while it has shown a regression and 0 otherwise, every judge cycle of a release:
    // 1 of 1 period at >= 1 rolls back at the next evaluation. No data (no release running, judge off) is not
    // breaching: AppConfig rolls back on INSUFFICIENT_DATA as well as ALARM.
    if (props.judgeVerdict ?? true) {
      for (const plane of ['code', 'config'] as const) {
        const alarm = new cloudwatch.Alarm(this, `${plane === 'code' ? 'Version' : 'Service'}-canary-verdict`, {
          alarmName: checkedName('alarm', releaseAlarmName(prefix, service, plane, 'canary-verdict')),
          alarmDescription:
            `${service}: the canary judge has shown a regression of the ${plane === 'code' ? 'new code version' : 'new config'} against the stable one ` +
            `(anytime-valid sequential test; the judge record is judge/${service}/ in the regression store). ` +
            `${plane === 'code' ? 'CodeDeploy rolls the live alias back' : 'AppConfig rolls the config deployment back'}. Missing data never breaches.`,
          metric: new cloudwatch.Metric({
            namespace: METRIC_NAMESPACE,
            metricName: JUDGE_METRIC.VERDICT,
            dimensionsMap: { [DIMENSION.SERVICE]: service, [JUDGE_DIMENSION_PLANE]: plane },
            statistic: 'Maximum',
            period: this.period,
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        this.verdictAlarms.push({ plane, alarm });
      }
    }
    const rule = (plane?: 'code' | 'config') =>
      cloudwatch.AlarmRule.anyOf(
        ...[...this.alarms, ...this.verdictAlarms]
          .filter((a) => !plane || a.plane === plane)
          .map((a) => cloudwatch.AlarmRule.fromAlarm(a.alarm, cloudwatch.AlarmState.ALARM)),
      );
    this.configComposite = new cloudwatch.CompositeAlarm(this, 'ConfigRollback', {
      compositeAlarmName: checkedName('compositeAlarm', compositeAlarmNames(prefix, service).config),
      alarmDescription: `${service}: a service-wide release alarm is in ALARM. AppConfig rolls back the config deployment in progress. See the child alarms for which one.`,
      alarmRule: rule('config'),
    });
    // The metric alarms act through CodeDeploy (which polls them) and through the composites (whose action
    // notifies): an action on each would page the on-call twice for one incident.
    for (const a of [...this.alarms, ...this.verdictAlarms]) {
      Validations.of(a.alarm).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
        reason:
          'Consumed by CodeDeploy (deployment-group alarms) and by composite alarms; the composite carries the notification action, so a direct action would notify twice.',
      });
    }
    this.anyComposite = new cloudwatch.CompositeAlarm(this, 'AnyReleaseAlarm', {
      compositeAlarmName: checkedName('compositeAlarm', compositeAlarmNames(prefix, service).any),
      alarmDescription: `${service}: a release alarm is in ALARM (code or config). Rollback is automatic during a deployment; see the child alarm's description for what to do next.`,
      alarmRule: rule(),
    });
  }

  public byPlane(plane: 'code' | 'config'): ReleaseAlarm[] {
    return this.alarms.filter((a) => a.plane === plane);
  }
}

/**
 * The timing of an alarm as it will be synthesized: read from its CloudFormation resource, so edits made through
 * the L1 escape hatch (`(alarm.node.defaultChild as CfnAlarm).evaluationPeriods = 5`) are what the worst case uses.
 */
export function synthesizedTiming(alarm: cloudwatch.Alarm): AlarmTiming {
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const queries = Array.isArray(cfn.metrics) ? (cfn.metrics as cloudwatch.CfnAlarm.MetricDataQueryProperty[]) : [];
  const periods = [cfn.period, ...queries.map((q) => (q.metricStat as cloudwatch.CfnAlarm.MetricStatProperty | undefined)?.period ?? q.period)].filter(
    (p): p is number => typeof p === 'number',
  );
  if (periods.length === 0) throw new Error(`alarm ${alarm.node.path} has no period: set one (10 s for the runtime's high-resolution metrics)`);
  const evaluationPeriods = Number(cfn.evaluationPeriods);
  return {
    name: alarm.node.id,
    periodSeconds: Math.max(...periods),
    evaluationPeriods,
    datapointsToAlarm: cfn.datapointsToAlarm !== undefined ? Number(cfn.datapointsToAlarm) : evaluationPeriods,
  };
}

function rate(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`alarms.${name} must be a fraction from 0 to 1 (0.05 = 5 %), got ${v}`);
  return v;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`alarms.${name} must be a positive number, got ${v}`);
  return v;
}
