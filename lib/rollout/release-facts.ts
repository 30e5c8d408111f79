/**
 * What one release is, as the release policy, the strategy card and the manifest see it, computed at synth from the
 * constructs as synthesized (escape-hatch edits included): the worst case from a bad request to rollback start per
 * plane, the count alarms' false-fire chances at the stated traffic, what the machinery costs per month, and the
 * canary plan. Pure reading: builds nothing. AiRelease's `facts`, `worstCase`, `policy`, `falseFireAt` and
 * `releaseCostAt` are this sheet's.
 */
import { judgeTolerance } from '../judge/judge-wiring';
import { CfnResource, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEFAULT_STATIC_ANSWER, DEGRADE_FLAGS, METRIC } from '../../lambda/shared/contract';
import type { AiRelease } from '../ai-release';
import type { AiReleaseProps } from '../ai-release-props';
import type { DegradeFlagState } from '../config/ai-service-config';
import { type CanaryPlanOptions, codeSteps, type PlanStep, planCanary, schedulePower } from './canary-plan';
import { PLANE_ORDER } from './code-plane';
import { DEFAULT_CLIENT_LAG_SECONDS, shareOverheadSeconds } from './config-share';
import { combinedFalseFire, FALSE_FIRE_KINDS, releaseFalseFire, synthesizedRateAlarm, validateBaseRates } from './false-fire';
import { synthesizedTiming } from './release-alarms';
import { type ReleaseCost, releaseCost } from './release-cost';
import { DEFAULT_POLICY_RULES, evaluatePolicy, type PolicyResult, type ReleaseFacts } from './release-policy';
import { DEFAULT_TIMING, type PlaneWorstCase, planeWorstCase } from './worst-case';
import { type EvaluationCostConfig, evaluationCost } from './evaluation-cost';
import { type EvaluationConfig, pairSamplingRate } from '../../lambda/shared/evaluation';
import { functionLogSettings } from './log-level-policy';
import { guardrailFactsOf } from './guardrail-facts';

export class ReleaseFactSheet {
  constructor(
    private readonly r: AiRelease,
    private readonly props: AiReleaseProps,
    private readonly budgetSeconds: number,
    private readonly periodFromTraffic: { readonly code: boolean; readonly config: boolean },
  ) {}

  /** The evaluator model that scores this service's answers (the live section's at synth), when evaluated. */
  private evaluatedBy(): string | undefined {
    if (!this.r.evaluator) return undefined;
    return (this.r.config.config.evaluation as EvaluationConfig | undefined)?.evaluatorModel.modelId;
  }

  /**
   * Worst case from a first bad request to rollback start, per plane, computed from the alarms as they will be
   * synthesized (escape-hatch edits included).
   */
  worstCase(): { readonly code: PlaneWorstCase; readonly config: PlaneWorstCase } {
    return {
      code: planeWorstCase(
        'code',
        this.r.alarms.guardrailAlarms('code').map((a) => synthesizedTiming(a)),
        this.props.timing,
      ),
      config: planeWorstCase(
        'config',
        this.r.alarms.guardrailAlarms('config').map((a) => synthesizedTiming(a)),
        this.props.timing,
      ),
    };
  }

  /** What this release is, as the policy and the strategy card see it. */
  facts(): ReleaseFacts {
    const props = this.props;
    const rollout = this.r.config.rollout;
    const windowFacts = (plane: 'code' | 'config') => ({
      ...pick(synthesizedTiming(this.r.alarms.byPlane(plane)[0].alarm)),
      minInvocations: this.r.alarms.minInvocations,
      periodFromTraffic: this.periodFromTraffic[plane],
    });
    const alarmWindows = { code: windowFacts('code'), config: windowFacts('config') };
    const evaluatedBy = this.evaluatedBy();
    return {
      serviceName: props.serviceName,
      stackName: Stack.of(this.r).stackName,
      owner: props.owner,
      onCall: props.onCall,
      code: { describe: this.r.trafficShift.describe(), firstStepPercent: this.r.trafficShift.firstStepPercent, steps: this.r.trafficShift.steps },
      config: {
        describe: rollout.describe(),
        firstStepPercent: rollout.steps[0],
        steps: rollout.steps,
        stepIntervalSeconds: rollout.stepIntervalSeconds,
        finalBakeMinutes: rollout.finalBakeMinutes,
        ...(this.r.configShare ? { assigned: { schedule: this.r.configShare.schedule, clientLagSeconds: this.r.configShare.clientLagSeconds } } : {}),
      },
      alarms: this.r.alarms.alarms.map((a) => ({
        kind: a.kind,
        plane: a.plane,
        name: a.alarm.node.id,
        watches: a.watches,
        comparison: a.comparison,
        threshold: a.threshold,
        unit: a.unit,
        ...(a.term ? { term: a.term } : {}),
      })),
      verdictAlarms: this.r.alarms.verdictAlarms.map((v) => ({ plane: v.plane, name: v.alarm.node.id })),
      judgedEvaluation: this.r.canaryJudge?.evaluationMetrics ?? [],
      ...guardrailFactsOf(this.r.config.config, this.r.evaluator !== undefined, this.r.canaryJudge?.evaluationMetrics ?? []),
      alarmWindow: alarmWindows.code,
      alarmWindows,
      worstCase: this.r.worstCase,
      timing: { ...DEFAULT_TIMING, ...props.timing },
      planeOrder: PLANE_ORDER,
      rollbackBudgetSeconds: this.budgetSeconds,
      degrade: {
        switches: Object.values(DEGRADE_FLAGS),
        state: degradeState(this.r.config.degradeState),
        staticAnswerMessage: this.r.config.degradeState.staticAnswerMessage ?? DEFAULT_STATIC_ANSWER,
        application: this.r.config.application.name,
        environment: `${props.serviceName}-degrade`,
        profile: `${props.serviceName}-degrade`,
        ...(this.r.costGuard ? { costGuardMaxCostPerRequestUsd: this.r.costGuard.maxCostPerRequestUsd } : {}),
      },
      waivers: props.policyWaivers ?? [],
      regressionGate: this.r.regressionGate !== undefined,
      ...(props.expectedRequestsPerSecond !== undefined
        ? { expectedRequestsPerSecond: props.expectedRequestsPerSecond, falseFire: this.r.falseFireAt(props.expectedRequestsPerSecond) }
        : {}),
      ...(this.canaryPlanFacts ? { canaryPlan: this.canaryPlanFacts } : {}),
      ...(props.expectedRequestsPerSecond !== undefined ? { releaseCost: this.r.releaseCostAt(props.expectedRequestsPerSecond) } : {}),
      models: this.r.config.modelFindings,
      ...(evaluatedBy ? { evaluator: { modelId: evaluatedBy, ...(props.evaluatorAgreement ? { agreement: props.evaluatorAgreement } : {}) } } : {}),
      logging: functionLogSettings(props.function),
    };
  }

  /**
   * What the release machinery adds per month at `requestsPerSecond` (issue 16 E), counted from the alarms as
   * synthesized under this construct (each metric of a metric-math alarm counts; periods under 60 s are high resolution).
   */
  releaseCostAt(requestsPerSecond: number): ReleaseCost {
    let high = 0;
    let standard = 0;
    let composite = 0;
    for (const c of this.r.node.findAll()) {
      if (!CfnResource.isCfnResource(c)) continue;
      if (c.cfnResourceType === 'AWS::CloudWatch::CompositeAlarm') composite++;
      if (c.cfnResourceType !== 'AWS::CloudWatch::Alarm') continue;
      const a = c as cloudwatch.CfnAlarm;
      const queries = Array.isArray(a.metrics) ? (a.metrics as cloudwatch.CfnAlarm.MetricDataQueryProperty[]) : [];
      const stats = queries.map((q) => q.metricStat as cloudwatch.CfnAlarm.MetricStatProperty | undefined).filter((m) => m !== undefined);
      const periods = stats.length > 0 ? stats.map((m) => Number(m.period)) : [Number(a.period ?? 60)];
      for (const period of periods)
        if (period < 60) high++;
        else standard++;
    }
    // The release mix the user states (issue 16 E2); unstated, 20 a month all costed as code releases (an upper bound).
    const mix = this.props.releasesPerMonth;
    return releaseCost({
      requestsPerSecond,
      ...(mix ? releaseMix(mix) : {}),
      highResolutionAlarmMetrics: high,
      standardAlarmMetrics: standard,
      compositeAlarms: composite,
      metricNames: Object.keys(METRIC).length,
      // The judge publishes its plane's verdict series while it judges a release.
      judgeSeriesPerRelease: this.r.canaryJudge ? 1 : 0,
      // The assigned config canary's controller looks every minute, release or not (it exits at once without one).
      ...(this.r.configShare ? { shareControllerLooksPerMonth: 43_800 } : {}),
      // The evaluation's model calls (issue 17 D), when this service's answers are evaluated.
      ...(this.evaluatedBy()
        ? {
            evaluation: {
              config: this.r.config.config as unknown as EvaluationCostConfig,
              ...this.releaseSchedule(),
              // The assigned config canary's release, costed at the config plane's pairing rate.
              ...(this.r.configShare
                ? { configSchedule: this.r.configShare.schedule.map((x) => ({ share: x.percent / 100, minutes: x.holdSeconds / 60 })) }
                : {}),
              // The code canary is announced to the runtime only through the share document, by the regression gate.
              codePairs: this.r.configShare && this.r.regressionGate ? ('announced' as const) : ('every-answer' as const),
            },
          }
        : {}),
    });
  }

  /**
   * The configured code schedule (a canary or linear shift) as a release's evaluation spend is counted: samples and
   * pairs step by step until 100 %. None for an all-at-once shift (then a release is costed as 1 h, half canary).
   */
  private releaseSchedule(): { schedule?: { steps: PlanStep[]; plane: 'code' } } {
    const ts = this.r.trafficShift;
    return ts.kind === 'all-at-once' ? {} : { schedule: { steps: codeSteps(ts.kind, ts.firstStepPercent, ts.intervalMinutes), plane: 'code' } };
  }

  private plannedCache?: ReleaseFacts['canaryPlan'] | null;
  private readonly falseFireCache = new Map<string, NonNullable<ReleaseFacts['falseFire']>>();
  /** The canary plan at the stated traffic, computed once (about 50 ms), when the traffic is stated and the judge is on. */
  private get canaryPlanFacts(): ReleaseFacts['canaryPlan'] {
    if (this.plannedCache !== undefined) return this.plannedCache ?? undefined;
    const props = this.props;
    if (props.expectedRequestsPerSecond === undefined || props.canaryJudge === false) {
      this.plannedCache = null;
      return undefined;
    }
    const cp = props.canaryPlan ?? {};
    // The evaluation metrics in the judge's family (issue 17): the paired preference is planned when pairs are judged.
    const judged = this.r.canaryJudge?.evaluationMetrics ?? [];
    const section = this.r.config.config.evaluation as EvaluationConfig | undefined;
    // The prices of one scored sample and one pair, so the plan's pairing rate is one the release budget pays for.
    const prices =
      section && this.evaluatedBy()
        ? evaluationCost({ requestsPerSecond: props.expectedRequestsPerSecond, config: this.r.config.config as unknown as EvaluationCostConfig })
        : undefined;
    const planEvaluation =
      judged.includes('evaluation:paired') && section
        ? {
            samplingRate: section.samplingRate,
            pairSamplingRate: pairSamplingRate(section),
            configPairSamplingRate: pairSamplingRate(section, 'config'),
            ...(prices ? { cost: { scoreUsd: prices.scoreUsd, pairUsd: prices.pairUsd, perReleaseUsd: section.budget.perReleaseUsd } } : {}),
            criteria: judged.filter((m) => m !== 'evaluation:paired').map((m) => m.slice('evaluation:'.length)),
            ...(cp.decidedPairShare !== undefined ? { decidedPairShare: cp.decidedPairShare } : {}),
          }
        : undefined;
    const traffic = {
      requestsPerSecond: props.expectedRequestsPerSecond,
      errorRate: props.baseRates?.errorRate ?? 0.01,
      ...(cp.latencyLogSigma !== undefined ? { latencyLogSigma: cp.latencyLogSigma } : {}),
      ...(cp.qualitySd !== undefined ? { qualitySd: cp.qualitySd } : {}),
      ...(cp.qualityCoverage !== undefined ? { qualityCoverage: cp.qualityCoverage } : {}),
      ...(cp.meanClusterSize !== undefined ? { meanClusterSize: cp.meanClusterSize } : {}),
      ...(cp.meanConversationTurns !== undefined ? { meanConversationTurns: cp.meanConversationTurns } : {}),
      ...(planEvaluation ? { evaluation: planEvaluation } : {}),
    };
    // The judge's α sets the threshold the plan must reach.
    const alpha = typeof props.canaryJudge === 'object' ? props.canaryJudge.alpha : undefined;
    // The config plan never recommends a schedule the config plane's budget refuses (a 2-step plan: safety, balanced).
    const lag = this.r.configShare?.clientLagSeconds ?? DEFAULT_CLIENT_LAG_SECONDS;
    const fits = Math.max(2, Math.floor((this.r.config.deployment.assignedReleaseBudgetSeconds - shareOverheadSeconds(2, lag)) / 60));
    const options: CanaryPlanOptions = {
      ...cp,
      // A stated cap only lowers it (and planCanary names a bad one).
      configMaxMinutes: cp.configMaxMinutes !== undefined ? Math.min(cp.configMaxMinutes, fits) : fits,
      judge: { ...cp.judge, ...(alpha !== undefined ? { alpha } : {}), tolerance: judgeTolerance(props) },
    };
    const ts = this.r.trafficShift;
    const steps = ts.kind === 'all-at-once' ? [] : codeSteps(ts.kind, ts.firstStepPercent, ts.intervalMinutes);
    const share = this.r.configShare?.schedule;
    const configSteps = share?.map((x) => ({ share: x.percent / 100, minutes: x.holdSeconds / 60 }));
    const plan = planCanary(traffic, options);
    // What pairing at the rate that reaches the paired preference would cost, per release (the planned code
    // schedule, step by step) and per month (steady-state scoring stays at the samplingRate), against the budget.
    const reach = plan.evaluation?.reaching;
    const pairedCost =
      reach && reach.pairSamplingRate !== plan.evaluation?.pairSamplingRate && this.evaluatedBy()
        ? evaluationCost({
            requestsPerSecond: traffic.requestsPerSecond,
            schedule: { steps: reach.code.steps, plane: 'code' },
            config: {
              ...(this.r.config.config as unknown as EvaluationCostConfig),
              evaluation: { ...(section as EvaluationConfig), paired: { samplingRate: reach.pairSamplingRate } },
            },
          })
        : undefined;
    this.plannedCache = {
      traffic,
      plan,
      ...(pairedCost ? { pairedCost } : {}),
      current: { ...schedulePower(steps, traffic, options), describe: ts.describe() },
      ...(share && configSteps
        ? {
            configCurrent: {
              ...schedulePower(configSteps, traffic, options, 'config'),
              describe: `assigned share ${share.map((x) => `${x.percent} % for ${x.holdSeconds} s`).join(', then ')}`,
            },
          }
        : {}),
    };
    return this.plannedCache;
  }

  /** The count alarms' false-fire chances on a good release at `requestsPerSecond`, from the alarms as synthesized. */
  falseFireAt(requestsPerSecond: number): NonNullable<ReleaseFacts['falseFire']> {
    const rollout = this.r.config.rollout;
    const traffic = {
      requestsPerSecond,
      codeSteps: this.r.trafficShift.steps,
      configWatchedSeconds: rollout.stepIntervalSeconds * rollout.steps.length + rollout.finalBakeMinutes * 60,
    };
    const baseRates = validateBaseRates(this.props.baseRates);
    const alarms = this.r.alarms.alarms.filter((a) => FALSE_FIRE_KINDS.includes(a.kind)).map((a) => synthesizedRateAlarm(a.kind, a.plane, a.alarm, a.term));
    // Layout 'combined': what fires is the plane's one alarm, any term breaching in a period (combinedFalseFire).
    // Read from the alarms as they are now (an escape-hatch edit after the first read changes the key), computed once
    // per distinct input: facts, policy, card and manifest all ask, and the sums take seconds.
    const key = JSON.stringify([traffic, baseRates, alarms, this.r.alarms.layout]);
    const cached = this.falseFireCache.get(key);
    if (cached) return cached;
    const combined =
      this.r.alarms.layout === 'combined'
        ? (['code', 'config'] as const)
            .map((plane) => alarms.filter((a) => a.plane === plane))
            .filter((terms) => terms.length > 0)
            .map((terms) => combinedFalseFire(terms, traffic, baseRates))
        : undefined;
    const result = { traffic, baseRates, alarms, results: releaseFalseFire(alarms, traffic, baseRates), ...(combined ? { combined } : {}) };
    this.falseFireCache.set(key, result);
    return result;
  }

  /** The release policy's verdict on this release. */
  policy(): PolicyResult {
    return evaluatePolicy(this.r.facts, this.props.policyRules ?? DEFAULT_POLICY_RULES);
  }
}

/** The deployed state of each degrade switch, on = true. */
function degradeState(state: DegradeFlagState): Record<string, boolean> {
  return Object.fromEntries(Object.values(DEGRADE_FLAGS).map((flag) => [flag, state[flag] === true]));
}

/** The degrade switches as manifest facts: `degrade.useFallbackModel: false`, … */
export function degradeFacts(state: DegradeFlagState): Record<string, boolean> {
  return Object.fromEntries(Object.entries(degradeState(state)).map(([flag, on]) => [`degrade.${flag}`, on]));
}

function pick(t: { periodSeconds: number; datapointsToAlarm: number; evaluationPeriods: number }) {
  return { periodSeconds: t.periodSeconds, datapointsToAlarm: t.datapointsToAlarm, evaluationPeriods: t.evaluationPeriods };
}

/** `releasesPerMonth: { code, config }` as the cost inputs: the total and the code share. Errors name the field. */
export function releaseMix(mix: { readonly code?: number; readonly config?: number }): { releasesPerMonth: number; codeReleasesPerMonth: number } {
  const code = mix.code ?? 20;
  const config = mix.config ?? 0;
  for (const [k, v] of [
    ['code', code],
    ['config', config],
  ] as const)
    if (!(Number.isFinite(v) && v >= 0))
      throw new Error(`releasesPerMonth.${k} is ${v}; it must be a number of releases a month of at least 0 (e.g. { code: 4, config: 30 })`);
  return { releasesPerMonth: code + config, codeReleasesPerMonth: code };
}
