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
import { type GuardrailTermKind, guardrailTermId } from '../../lambda/shared/guardrail-terms';
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

/**
 * One plane's alarm window: its period and M of N. Each field left out takes the shared value of ReleaseAlarmOptions
 * (`period`, `datapointsToAlarm`, `evaluationPeriods`).
 */
export interface PlaneAlarmWindow {
  /** This plane's alarm period (10 s, 30 s or whole minutes). @default the shared `period` */
  readonly period?: Duration;
  /** This plane's breaching periods needed to alarm (M of N). @default the shared `datapointsToAlarm` */
  readonly datapointsToAlarm?: number;
  /** This plane's periods looked at (N). @default the shared `evaluationPeriods` */
  readonly evaluationPeriods?: number;
}

export interface ReleaseAlarmOptions extends ReleaseAlarmThresholds {
  /**
   * Alarm period of both planes (each plane's `code` / `config` window overrides it). The runtime emits
   * high-resolution metrics, so 10 s works; never CDK's 5-minute default.
   * @default Duration.seconds(10) (AiRelease with `expectedRequestsPerSecond`: chosen per plane from the traffic it sees)
   */
  readonly period?: Duration;
  /** Breaching periods needed to alarm (M of N), both planes. @default 2 */
  readonly datapointsToAlarm?: number;
  /** Periods looked at (N), both planes. @default 3 */
  readonly evaluationPeriods?: number;
  /**
   * The code plane's own window (the alarms on the new version, CodeDeploy's): a canary's small share of traffic may
   * need a longer period than the config plane. Its alarms, its verdict alarm and its worst case follow it.
   * @default the shared `period`, `datapointsToAlarm` and `evaluationPeriods`
   */
  readonly code?: PlaneAlarmWindow;
  /**
   * The config plane's own window (the alarms on the whole service, AppConfig's monitors): they see all of the
   * traffic, and a config rollout can be rolled back only until its bake ends. Its alarms, its verdict alarm and
   * its worst case follow it.
   * @default the shared `period`, `datapointsToAlarm` and `evaluationPeriods`
   */
  readonly config?: PlaneAlarmWindow;
  /**
   * Invocations a period needs before a rate or percentile can breach: keeps one unlucky request at low traffic
   * from rolling back a good release.
   * @default 5
   */
  readonly minInvocations?: number;
  /**
   * How the guardrails of a plane become CloudWatch alarms. `'combined'`: one metric-math alarm per plane,
   * `MAX([term, ...]) > 1`, each term the watched value divided by its threshold (so it is above 1 exactly when that
   * guardrail alone would breach), on the plane's shared period, M of N and missing-data treatment: 2 alarms per
   * service instead of 13, the AppConfig environment monitors them directly (no composite), and a period counts
   * toward M of N when ANY term breaches in it (at least as sensitive as each alarm alone). `'perMetric'`: one
   * alarm per guardrail (13, with the construct ids and names of releases before 0.7) and a composite alarm as the
   * AppConfig monitor.
   * @default 'combined'
   */
  readonly layout?: AlarmLayout;
}

/** How the guardrails of a plane become alarms (ReleaseAlarmOptions.layout). */
export type AlarmLayout = 'combined' | 'perMetric';

/** Metric-math limits of one alarm (CloudWatch PutMetricAlarm: at most 10 metrics and 10 expressions, 20 queries). */
const ALARM_MATH_LIMITS = { metrics: 10, expressions: 10 } as const;

/** The kind (in its name) of a plane's combined guardrail alarm: `<prefix>-<service>-version|service-guardrails`. */
const GUARDRAILS_KIND = 'guardrails' satisfies ReleaseAlarmKind;

/** The id of a guardrail's term in the combined alarm's metric math: `error-rate` -> `error_rate`. */
function termId(kind: AlarmKind): string {
  return guardrailTermId(kind as GuardrailTermKind);
}

/** CloudWatch's limit on AlarmDescription (PutMetricAlarm). */
const MAX_DESCRIPTION = 1024;

/** The kinds of release alarm; the review function reads alarm names from the same contract. */
export type AlarmKind = ReleaseAlarmKind;

/** One release alarm and what it watches, for the dashboard, the strategy card and the worst-case computation. */
export interface ReleaseAlarm {
  readonly kind: AlarmKind;
  /** `code`: the new Lambda version (CodeDeploy); `config`: the whole service (AppConfig). */
  readonly plane: 'code' | 'config';
  /**
   * The CloudWatch alarm that carries this guardrail: its own (layout 'perMetric') or its plane's combined alarm,
   * shared by every guardrail of the plane (layout 'combined'; see ReleaseAlarms.guardrailAlarms for each alarm once).
   */
  readonly alarm: cloudwatch.Alarm;
  /**
   * The id of this guardrail's term in the combined alarm's metric math (`error_rate`, ...): the term is the watched
   * value divided by the threshold (quality: (1 - score) / (1 - floor)), above 1 exactly when this guardrail breaches.
   * @default none (layout 'perMetric': the alarm is this guardrail's own)
   */
  readonly term?: string;
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
  /** Every guardrail (one per plane and kind), with the alarm that carries it. */
  public readonly alarms: ReleaseAlarm[] = [];
  public readonly layout: AlarmLayout;
  /**
   * Any config-plane alarm (layout 'perMetric': the AppConfig monitor, as the environment takes at most 5).
   * @default none with layout 'combined': the environment monitors the config plane's alarms directly (configMonitors)
   */
  public readonly configComposite?: cloudwatch.CompositeAlarm;
  /** Any alarm at all: what notifications hang off. */
  public readonly anyComposite: cloudwatch.CompositeAlarm;
  /** The code plane's alarm period (the canary judge reads its windows at it). Each plane's: `windows`. */
  public readonly period: Duration;
  /** Each plane's alarm window as given or chosen: period and M of N. */
  public readonly windows: { readonly [P in 'code' | 'config']: ResolvedAlarmWindow };
  public readonly minInvocations: number;
  /** The canary judge's verdict alarms (code: in the deployment group; config: in the config composite). */
  public readonly verdictAlarms: { readonly plane: 'code' | 'config'; readonly alarm: cloudwatch.Alarm }[] = [];

  constructor(scope: Construct, id: string, props: ReleaseAlarmsProps) {
    super(scope, id);
    const shared = resolveWindow('alarms', { period: props.period, datapointsToAlarm: props.datapointsToAlarm, evaluationPeriods: props.evaluationPeriods });
    this.windows = {
      code: resolveWindow('alarms.code', { ...shared, ...definedOnly(props.code) }),
      config: resolveWindow('alarms.config', { ...shared, ...definedOnly(props.config) }),
    };
    this.period = this.windows.code.period;
    this.layout = props.layout ?? 'combined';
    if (this.layout !== 'combined' && this.layout !== 'perMetric')
      throw new Error(
        `alarms.layout must be 'combined' (one alarm per plane, the default) or 'perMetric' (one alarm per guardrail), got ${JSON.stringify(this.layout)}`,
      );
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
    const periodOf = (plane: 'code' | 'config') => this.windows[plane].period;
    const metric = (name: MetricName, statistic: string, dims: Record<string, string>, plane: 'code' | 'config') =>
      new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, statistic, dimensionsMap: dims, period: periodOf(plane) });
    const window = (plane: 'code' | 'config') => {
      const w = this.windows[plane];
      return `${w.datapointsToAlarm} of ${w.evaluationPeriods} ${w.period.toSeconds()}-second periods with at least ${min} invocations`;
    };
    const guard = `Quiet below ${min} invocations per period; missing data never breaches.`;
    const look = (kind: FailureKind, scopeText: string) =>
      `Look first at the failure records: CloudWatch Logs Insights, filter type = "${FAILURE_RECORD_TYPE}" and kind = "${kind}" ${scopeText}; then at what this release changed (the release manifest diff)${props.runbookHint ? `; ${props.runbookHint}` : ''}.`;

    type Spec = {
      kind: AlarmKind;
      plane: 'code' | 'config';
      /** The guardrail's own metric math (layout 'perMetric'). */
      expression: string;
      using: Record<string, cloudwatch.IMetric>;
      /** Its term in the plane's combined alarm: above 1 exactly when the guardrail breaches. */
      term: string;
      termUsing: Record<string, cloudwatch.IMetric>;
      /** How the term is formed, for the combined alarm's description. */
      termText: string;
      threshold: number;
      comparison: '>' | '<';
      watches: string;
      unit: string;
      what: string;
      failureKind: FailureKind;
    };
    const specs: Spec[] = [];
    const fmt = (x: number) => String(x);
    for (const plane of ['code', 'config'] as const) {
      const dims = plane === 'code' ? perVersion : perService;
      // One metric object per id, shared by the terms that read it (the combined alarm lists each metric once).
      const inv = metric(METRIC.INVOCATIONS, 'Sum', dims, plane);
      const byId: Record<string, cloudwatch.Metric> = {
        err: metric(METRIC.ERRORS, 'Sum', dims, plane),
        cost: metric(METRIC.COST_USD, 'Sum', dims, plane),
        safety: metric(METRIC.SAFETY_VIOLATIONS, 'Sum', dims, plane),
        contract: metric(METRIC.CONTRACT_VIOLATIONS, 'Sum', dims, plane),
      };
      // Above the threshold as a term: `value / threshold`; a threshold of 0 (any occurrence breaches) cannot divide,
      // so its term is 2 while the value is above 0 and 0 otherwise.
      const over = (value: string, threshold: number, guard: string) =>
        threshold > 0 ? `IF(${guard}, ${value} / ${fmt(threshold)}, 0)` : `IF(${guard} AND ${value} > 0, 2, 0)`;
      const ratio = (
        kind: AlarmKind,
        id: 'err' | 'cost' | 'safety' | 'contract',
        threshold: number,
        rest: Pick<Spec, 'watches' | 'unit' | 'what' | 'failureKind'>,
      ) => {
        const x = byId[id];
        specs.push({
          kind,
          plane,
          expression: `IF(inv >= ${min}, x / inv, 0)`,
          using: { inv, x },
          term: over(`${id} / inv`, threshold, `inv >= ${min}`),
          termUsing: { inv, [id]: x },
          termText: `${id === 'cost' ? 'USD' : id === 'err' ? 'errors' : `${id} violations`} / invocations / ${fmt(threshold)}`,
          threshold,
          comparison: '>',
          ...rest,
        });
      };
      ratio('error-rate', 'err', t.maxErrorRate, { watches: 'error rate (Errors / Invocations)', unit: '', what: 'the error rate', failureKind: 'error' });
      const lat = metric(METRIC.LATENCY, 'p99', dims, plane);
      specs.push({
        kind: 'p99-latency',
        plane,
        expression: `IF(inv >= ${min}, lat, 0)`,
        using: { inv, lat },
        term: over('lat', t.maxP99LatencyMs, `inv >= ${min}`),
        termUsing: { inv, lat },
        termText: `p99 latency / ${fmt(t.maxP99LatencyMs)} ms`,
        threshold: t.maxP99LatencyMs,
        comparison: '>',
        watches: 'p99 latency',
        unit: ' ms',
        what: 'the p99 latency',
        failureKind: 'timeout',
      });
      ratio('cost-per-request', 'cost', t.maxCostPerRequestUsd, {
        watches: 'cost per request (CostUsd / Invocations)',
        unit: ' USD',
        what: 'the cost per request',
        failureKind: 'cost',
      });
      const q = metric(METRIC.QUALITY_SCORE, 'Average', dims, plane);
      // Lower is bad: (1 - score) / (1 - floor) is above 1 exactly when the score is below the floor. A period with
      // invocations but no score (nothing sampled) counts as a perfect score: missing data never breaches.
      specs.push({
        kind: 'quality',
        plane,
        expression: `IF(inv >= ${min}, q, 1)`,
        using: { inv, q },
        term: t.minQualityScore < 1 ? `IF(inv >= ${min}, (1 - FILL(q, 1)) / ${fmt(1 - t.minQualityScore)}, 0)` : `IF(inv >= ${min} AND FILL(q, 1) < 1, 2, 0)`,
        termUsing: { inv, q },
        termText: `(1 - average quality) / (1 - ${fmt(t.minQualityScore)})`,
        threshold: t.minQualityScore,
        comparison: '<',
        watches: 'average quality score',
        unit: '',
        what: 'the average quality score',
        failureKind: 'quality',
      });
      ratio('safety-rate', 'safety', t.maxSafetyViolationRate, {
        watches: 'safety-violation rate',
        unit: '',
        what: 'the safety-violation rate',
        failureKind: 'safety',
      });
      ratio('contract-rate', 'contract', t.maxContractViolationRate, {
        watches: 'contract-violation rate',
        unit: '',
        what: 'the output-contract violation rate',
        failureKind: 'contract',
      });
      if (plane !== 'code') continue;
      // Canary vs stable: the new version's error rate minus the rest's (aggregate minus the new version).
      const ainv = metric(METRIC.INVOCATIONS, 'Sum', perService, plane);
      const aerr = metric(METRIC.ERRORS, 'Sum', perService, plane);
      const err = byId.err;
      specs.push({
        kind: 'canary-vs-stable',
        plane: 'code',
        expression: `IF(vinv >= ${min} AND (ainv - vinv) >= ${min}, verr / vinv - (aerr - verr) / (ainv - vinv), 0)`,
        using: { vinv: inv, verr: err, ainv, aerr },
        term: over('(err / inv - (aerr - err) / (ainv - inv))', t.maxCanaryErrorRateDelta, `inv >= ${min} AND (ainv - inv) >= ${min}`),
        termUsing: { inv, err, ainv, aerr },
        termText: `(error rate - the other versions') / ${fmt(t.maxCanaryErrorRateDelta)}`,
        threshold: t.maxCanaryErrorRateDelta,
        comparison: '>',
        watches: 'error rate of the new version minus the rest (canary vs stable)',
        unit: '',
        what: 'the error rate, compared with the stable versions,',
        failureKind: 'error',
      });
    }

    const who = (plane: 'code' | 'config') => (plane === 'code' ? 'the new code version' : 'the service (all versions)');
    const act = (plane: 'code' | 'config') =>
      plane === 'code'
        ? 'CodeDeploy rolls the live alias back to the previous version automatically while a deployment is running; outside a deployment, nothing rolls back: consider the degrade switches.'
        : 'AppConfig rolls back a config deployment in progress automatically; outside a deployment, nothing rolls back: consider the degrade switches.';
    const common = (plane: 'code' | 'config') => ({
      evaluationPeriods: this.windows[plane].evaluationPeriods,
      datapointsToAlarm: this.windows[plane].datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.layout === 'perMetric') {
      for (const spec of specs) {
        const plane = spec.plane;
        const alarm = new cloudwatch.Alarm(this, `${plane === 'code' ? 'Version' : 'Service'}-${spec.kind}`, {
          alarmName: checkedName('alarm', releaseAlarmName(prefix, service, plane, spec.kind)),
          alarmDescription:
            `${service}: ${spec.what} of ${who(plane)} ${spec.comparison === '>' ? 'is above' : 'is below'} ${spec.threshold}${spec.unit} ` +
            `(${window(plane)}). ${act(plane)} ${look(spec.failureKind, plane === 'code' ? `for version.codeVersion = the new version` : '')} ${guard}`,
          metric: new cloudwatch.MathExpression({ expression: spec.expression, usingMetrics: spec.using, period: periodOf(plane), label: spec.watches }),
          threshold: spec.threshold,
          comparisonOperator:
            spec.comparison === '>' ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD : cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          ...common(plane),
        });
        this.alarms.push({ kind: spec.kind, plane, alarm, threshold: spec.threshold, comparison: spec.comparison, watches: spec.watches, unit: spec.unit });
      }
    } else {
      for (const plane of ['code', 'config'] as const) {
        const mine = specs.filter((x) => x.plane === plane);
        const terms = Object.fromEntries(
          mine.map((x) => [
            termId(x.kind),
            new cloudwatch.MathExpression({ expression: x.term, usingMetrics: x.termUsing, period: periodOf(plane), label: `${x.kind} (${x.termText})` }),
          ]),
        );
        const ids = Object.keys(terms);
        const metrics = new Set(mine.flatMap((x) => Object.keys(x.termUsing)));
        // One alarm's metric math: at most 10 metrics and 10 expressions (the terms and their MAX).
        if (metrics.size > ALARM_MATH_LIMITS.metrics || ids.length + 1 > ALARM_MATH_LIMITS.expressions)
          throw new Error(
            `the combined ${plane}-plane alarm needs ${metrics.size} metrics and ${ids.length + 1} expressions, above CloudWatch's ${ALARM_MATH_LIMITS.metrics} and ${ALARM_MATH_LIMITS.expressions} per alarm; use alarms.layout 'perMetric'`,
          );
        const list = mine.map((x) => `${termId(x.kind)} = ${x.termText}`).join('; ');
        const head =
          `${service}: the guardrails of ${who(plane)}. ALARM when any term is above 1 in ${window(plane)}; each term is its value over its threshold: ${list}. ` +
          `Which term crossed: this alarm's graph (one line per term) or the release review. ${act(plane)}`;
        const lookFirst = look(mine[0].failureKind, plane === 'code' ? 'for version.codeVersion = the new version' : '').replace(
          ` and kind = "${mine[0].failureKind}" `,
          " and kind = the term's kind",
        );
        const alarm = new cloudwatch.Alarm(this, `${plane === 'code' ? 'Version' : 'Service'}-${GUARDRAILS_KIND}`, {
          alarmName: checkedName('alarm', releaseAlarmName(prefix, service, plane, GUARDRAILS_KIND)),
          // AlarmDescription holds at most 1024 characters: the terms and the action first, the runbook if it fits.
          alarmDescription: [guard, lookFirst].reduce((text, part) => (text.length + 1 + part.length <= MAX_DESCRIPTION ? `${text} ${part}` : text), head),
          metric: new cloudwatch.MathExpression({
            expression: `MAX([${ids.join(', ')}])`,
            usingMetrics: terms,
            period: periodOf(plane),
            label: `${plane} guardrails: the largest term (value / threshold)`,
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          ...common(plane),
        });
        for (const x of mine)
          this.alarms.push({
            kind: x.kind,
            plane,
            alarm,
            term: termId(x.kind),
            threshold: x.threshold,
            comparison: x.comparison,
            watches: x.watches,
            unit: x.unit,
          });
      }
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
            // At least the judge's cycle (its schedule runs once a minute): on a shorter period the alarm would be in
            // ALARM for one period a minute and OK between, a blip CodeDeploy's and AppConfig's alarm polling can miss.
            period: periodOf(plane).toSeconds() >= 60 ? periodOf(plane) : Duration.minutes(1),
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
      cloudwatch.AlarmRule.anyOf(...this.rollbackAlarms(plane).map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM)));
    // Layout 'perMetric': 7 config-plane alarms against AppConfig's 5 monitors per environment, so one composite is
    // the monitor. Layout 'combined': the guardrail and verdict alarms are the monitors themselves (2 of 5).
    if (this.layout === 'perMetric') {
      this.configComposite = new cloudwatch.CompositeAlarm(this, 'ConfigRollback', {
        compositeAlarmName: checkedName('compositeAlarm', compositeAlarmNames(prefix, service).config),
        alarmDescription: `${service}: a service-wide release alarm is in ALARM. AppConfig rolls back the config deployment in progress. See the child alarms for which one.`,
        alarmRule: rule('config'),
      });
    }
    // The metric alarms act through CodeDeploy (which polls them), AppConfig (which polls its monitors) and the
    // composite (whose action notifies): an action on each would page the on-call twice for one incident.
    for (const a of this.metricAlarms) {
      Validations.of(a).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
        reason:
          'Consumed by CodeDeploy (deployment-group alarms), AppConfig (environment monitors) and composite alarms; the composite carries the notification action, so a direct action would notify twice.',
      });
    }
    this.anyComposite = new cloudwatch.CompositeAlarm(this, 'AnyReleaseAlarm', {
      compositeAlarmName: checkedName('compositeAlarm', compositeAlarmNames(prefix, service).any),
      alarmDescription: `${service}: a release alarm is in ALARM (code or config). Rollback is automatic during a deployment; see the child alarm's description for what to do next.`,
      alarmRule: rule(),
    });
  }

  /** Each guardrail alarm once (layout 'combined': one per plane; 'perMetric': one per guardrail), in creation order. */
  public guardrailAlarms(plane?: 'code' | 'config'): cloudwatch.Alarm[] {
    return [...new Set(this.alarms.filter((a) => !plane || a.plane === plane).map((a) => a.alarm))];
  }

  /** The alarms that roll a plane back: its guardrail alarms and its verdict alarm (all planes when none given). */
  public rollbackAlarms(plane?: 'code' | 'config'): cloudwatch.Alarm[] {
    return [...this.guardrailAlarms(plane), ...this.verdictAlarms.filter((v) => !plane || v.plane === plane).map((v) => v.alarm)];
  }

  /** Every metric alarm of this construct, once: what to add actions to when you want one per alarm. */
  public get metricAlarms(): cloudwatch.Alarm[] {
    return this.rollbackAlarms();
  }

  /** What the AppConfig environment monitors: the composite (layout 'perMetric') or the config plane's alarms. */
  public get configMonitors(): cloudwatch.IAlarm[] {
    return this.configComposite ? [this.configComposite] : this.rollbackAlarms('config');
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

/** A plane's alarm window with every field resolved (ReleaseAlarms.windows). */
export interface ResolvedAlarmWindow {
  readonly period: Duration;
  readonly datapointsToAlarm: number;
  readonly evaluationPeriods: number;
}

/** Checks a window (`where`: the option that set it, for the error) and fills in the defaults (10 s, 2 of 3). */
function resolveWindow(where: string, w: PlaneAlarmWindow): ResolvedAlarmWindow {
  const period = w.period ?? Duration.seconds(10);
  const periodS = period.toSeconds({ integral: false });
  if (![10, 30].includes(periodS) && !(periodS >= 60 && periodS % 60 === 0)) {
    throw new Error(`${where}.period must be 10 s, 30 s or a whole number of minutes, got ${period.toHumanString()}; 10 s is the default and the fastest`);
  }
  const n = w.evaluationPeriods ?? 3;
  const m = w.datapointsToAlarm ?? 2;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`${where}.evaluationPeriods must be a whole number from 1 to 100, got ${n}`);
  if (!Number.isInteger(m) || m < 1 || m > n) throw new Error(`${where}.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${n}), got ${m}`);
  return { period, datapointsToAlarm: m, evaluationPeriods: n };
}

/** The fields of a window that are set: `{ period: undefined }` must not override the shared period. */
function definedOnly(w: PlaneAlarmWindow | undefined): PlaneAlarmWindow {
  return Object.fromEntries(Object.entries(w ?? {}).filter(([, v]) => v !== undefined));
}

function rate(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error(`alarms.${name} must be a fraction from 0 to 1 (0.05 = 5 %), got ${v}`);
  return v;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`alarms.${name} must be a positive number, got ${v}`);
  return v;
}
