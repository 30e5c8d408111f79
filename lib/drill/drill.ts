/**
 * The release drill: how surely and how fast a bad release is caught, computed from a synthesized template and the
 * real runtime's output. Composes the pure modules: template reader, traffic, simulation, CloudWatch evaluation.
 */
import type { TimingAssumptions } from '../rollout/worst-case';
import {
  alarmCoverage,
  type AlarmCoverage,
  type CapturedOutcomes,
  captureOutcomes,
  type DrillScenario,
  monteCarlo,
  type MonteCarloResult,
  type RunResult,
  runResampled,
  runThroughRuntime,
  type SimulationSetup,
} from './simulate';
import { type DrillModel, readDrillModel } from './template';
import { DEFAULT_FAULT_SIZE, FAULT_KINDS, type FaultKind } from './traffic';

export interface DrillOptions {
  /** Requests per second to the service. @default 5 */
  readonly ratePerSecond?: number;
  /** Share of requests failing in both versions. @default 0.005 */
  readonly baseErrorRate?: number;
  /** Monte Carlo runs per scenario. @default 1000 */
  readonly runs?: number;
  readonly timing?: TimingAssumptions;
  /** Single runs go through the real runtime (default) or resample its captured outcomes. */
  readonly singleRun?: 'runtime' | 'resampled';
  /** Requests of each kind (stable, new healthy, new faulty) served by the runtime for resampling. @default 1000 */
  readonly samplesPerClass?: number;
  /** Skip the reference setup. */
  readonly noReference?: boolean;
}

/** The scenarios the drill knows by name. `default` is the one the strategy card links. */
export function builtInScenarios(plane: 'code' | 'config', rate: number): DrillScenario[] {
  const f = (kind: FaultKind, size = DEFAULT_FAULT_SIZE[kind], startSeconds = 0) => ({ kind, size, startSeconds });
  return [
    { name: 'default', plane, ratePerSecond: rate, fault: f('error-spike') },
    { name: 'latency-creep', plane, ratePerSecond: rate, fault: f('latency-creep') },
    { name: 'cost-jump', plane, ratePerSecond: rate, fault: f('cost-jump') },
    { name: 'quality-drop', plane, ratePerSecond: rate, fault: f('quality-drop') },
    { name: 'safety', plane, ratePerSecond: rate, fault: f('safety') },
    { name: 'contract', plane, ratePerSecond: rate, fault: f('contract') },
    { name: 'late-fault', plane, ratePerSecond: rate, fault: f('error-spike', DEFAULT_FAULT_SIZE['error-spike'], 120) },
    { name: 'low-traffic', plane, ratePerSecond: Math.min(rate, 0.2), fault: f('error-spike') },
    { name: 'missing-data', plane, ratePerSecond: rate, fault: f('error-spike'), metricsGap: { fromSeconds: 0, toSeconds: 120 } },
    { name: 'good-release', plane, ratePerSecond: rate, fault: f('none') },
  ];
}

/**
 * The reference setup: SAM's documented gradual-deployment example (AWS SAM Developer Guide, "Deploying serverless
 * applications gradually"; aws/serverless-application-model docs/safe_lambda_deployments.rst): two alarms on
 * AWS/Lambda `Errors` (Sum > 0, Period 60, EvaluationPeriods 2, TreatMissingData left at `missing`), one on the
 * `live` alias and one on the new version (ExecutedVersion), with the same traffic schedule as the drilled template.
 * Written as a template so the same reader and evaluator run it.
 */
export function referenceTemplate(model: DrillModel): Record<string, unknown> {
  const alarm = (extra: { Name: string; Value: unknown }[]) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: 'Lambda Function Error > 0',
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, as SAM's example writes it.
        { Name: 'Resource', Value: { 'Fn::Sub': '${MyLambdaFunction}:live' } },
        { Name: 'FunctionName', Value: { Ref: 'MyLambdaFunction' } },
        ...extra,
      ],
      EvaluationPeriods: 2,
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Period: 60,
      Statistic: 'Sum',
      Threshold: 0,
    },
  });
  const resources: Record<string, unknown> = {
    MyLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: {} },
    MyLambdaFunctionVersion: { Type: 'AWS::Lambda::Version', Properties: {} },
    AliasErrorMetricGreaterThanZeroAlarm: alarm([]),
    LatestVersionErrorMetricGreaterThanZeroAlarm: alarm([{ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': ['MyLambdaFunctionVersion', 'Version'] } }]),
  };
  if (model.codeDeploy) {
    const steps = model.codeDeploy.steps;
    // The same schedule as the drilled template, as a custom deployment config.
    const routing =
      steps.length === 1
        ? { Type: 'AllAtOnce' }
        : steps.length === 2
          ? { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: steps[0][1], CanaryInterval: steps[1][0] / 60 } }
          : { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: steps[0][1], LinearInterval: (steps[1][0] - steps[0][0]) / 60 } };
    resources.Schedule = { Type: 'AWS::CodeDeploy::DeploymentConfig', Properties: { ComputePlatform: 'Lambda', TrafficRoutingConfig: routing } };
    resources.DeploymentGroup = {
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Properties: {
        DeploymentConfigName: { Ref: 'Schedule' },
        AlarmConfiguration: {
          Enabled: true,
          Alarms: [{ Name: { Ref: 'AliasErrorMetricGreaterThanZeroAlarm' } }, { Name: { Ref: 'LatestVersionErrorMetricGreaterThanZeroAlarm' } }],
        },
      },
    };
  }
  return { Resources: resources };
}

/** The reference for the config plane: the same alias alarm as the AppConfig monitor, with the drilled strategy. */
function referenceModel(model: DrillModel): DrillModel {
  const ref = readDrillModel(referenceTemplate(model));
  return model.appConfig ? { ...ref, appConfig: { ...model.appConfig, monitors: ['AliasErrorMetricGreaterThanZeroAlarm'] } } : ref;
}

export interface ScenarioReport {
  readonly scenario: DrillScenario;
  readonly single: RunResult;
  readonly singleMode: 'runtime' | 'resampled';
  readonly monteCarlo: MonteCarloResult;
  /** The same traffic with no fault: the share of good releases rolled back. */
  readonly falseRollback: MonteCarloResult;
  readonly reference?: { readonly single: RunResult; readonly monteCarlo: MonteCarloResult; readonly falseRollback: MonteCarloResult };
}

export interface DrillReport {
  readonly plane: 'code' | 'config';
  readonly describe: string;
  readonly coverage: AlarmCoverage;
  readonly alarms: readonly {
    readonly logicalId: string;
    readonly name: string;
    readonly threshold: number;
    readonly comparison: string;
    readonly period: number;
    readonly m: number;
    readonly n: number;
    readonly treatMissingData: string;
  }[];
  readonly baseErrorRate: number;
  readonly runs: number;
  readonly scenarios: readonly ScenarioReport[];
}

/** Runs the drill for the given scenarios against one template model. */
export async function runDrill(model: DrillModel, scenarios: readonly DrillScenario[], options: DrillOptions = {}): Promise<DrillReport> {
  if (scenarios.length === 0) throw new Error('no scenario to drill');
  const plane = scenarios[0].plane;
  const runs = options.runs ?? 1000;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number >= 1, got ${runs}`);
  const baseErrorRate = options.baseErrorRate ?? 0.005;
  const reference = options.noReference ? undefined : referenceModel(model);
  const falseCache = new Map<string, MonteCarloResult>();
  // A good release: the same traffic with no fault, resampling the scenario's healthy outcomes (no second capture).
  const good = (m: DrillModel, s: DrillScenario, captured: CapturedOutcomes, key: string) => {
    const k = `${key}|${s.plane}|${s.ratePerSecond}|${JSON.stringify(s.baseline)}`;
    const cached = falseCache.get(k);
    if (cached) return cached;
    const setup: SimulationSetup = {
      model: m,
      scenario: { ...s, name: `${s.name} (good release)`, fault: { kind: 'none', size: 0, startSeconds: 0 }, metricsGap: undefined },
      timing: options.timing,
    };
    const r = monteCarlo(setup, { ...captured, faultyNew: captured.healthyNew }, runs);
    falseCache.set(k, r);
    return r;
  };
  const out: ScenarioReport[] = [];
  for (const raw of scenarios) {
    const scenario: DrillScenario = { ...raw, baseline: { errorRate: baseErrorRate, ...raw.baseline } };
    const setup: SimulationSetup = { model, scenario, timing: options.timing };
    const captured = await captureOutcomes(setup, options.samplesPerClass ?? 1000);
    // Every request through the runtime, unless that is too many to wait for (then resampled, and said so).
    const horizon = (plane === 'code' ? model.codeDeploy?.fullAtSeconds : model.appConfig?.endSeconds) ?? 0;
    const tooMany = scenario.ratePerSecond * (horizon + 600) > 200_000;
    const singleMode = options.singleRun ?? (tooMany ? 'resampled' : 'runtime');
    const single = singleMode === 'runtime' ? await runThroughRuntime(setup) : runResampled(setup, captured);
    const mc = monteCarlo(setup, captured, runs);
    let ref: ScenarioReport['reference'];
    if (reference && (plane === 'code' ? reference.codeDeploy : reference.appConfig)) {
      const rsetup: SimulationSetup = { model: reference, scenario, timing: options.timing };
      ref = {
        single: runResampled(rsetup, captured),
        monteCarlo: monteCarlo(rsetup, captured, runs),
        falseRollback: good(reference, scenario, captured, 'reference'),
      };
    }
    out.push({ scenario, single, singleMode, monteCarlo: mc, falseRollback: good(model, scenario, captured, 'template'), reference: ref });
  }
  const deployment = plane === 'code' ? model.codeDeploy : model.appConfig;
  return {
    plane,
    describe: deployment?.describe ?? '',
    coverage: alarmCoverage(model, plane),
    alarms: model.alarms.map((a) => ({
      logicalId: a.logicalId,
      name: a.name,
      threshold: a.threshold,
      comparison: a.comparison,
      period: a.periodSeconds,
      m: a.datapointsToAlarm,
      n: a.evaluationPeriods,
      treatMissingData: a.treatMissingData,
    })),
    baseErrorRate,
    runs,
    scenarios: out,
  };
}

/** Resolves scenario names (`default`, `all`, or built-in names, or `<fault>[:size[:startSeconds]]`). */
export function resolveScenarios(names: readonly string[], plane: 'code' | 'config', rate: number): DrillScenario[] {
  const builtIn = builtInScenarios(plane, rate);
  const out: DrillScenario[] = [];
  for (const name of names.length === 0 ? ['default'] : names) {
    if (name === 'all') {
      out.push(...builtIn);
      continue;
    }
    const known = builtIn.find((s) => s.name === name);
    if (known) {
      out.push(known);
      continue;
    }
    const [kind, size, start] = name.split(':');
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new Error(
        `unknown scenario "${name}": use all, ${builtIn.map((s) => s.name).join(', ')}, or <fault>[:size[:startSeconds]] with a fault of ${FAULT_KINDS.join(', ')}`,
      );
    }
    const sz = size === undefined ? DEFAULT_FAULT_SIZE[kind as FaultKind] : Number(size);
    const st = start === undefined ? 0 : Number(start);
    if (!Number.isFinite(sz) || sz < 0 || !Number.isFinite(st) || st < 0) throw new Error(`scenario "${name}": size and start must be non-negative numbers`);
    out.push({ name, plane, ratePerSecond: rate, fault: { kind: kind as FaultKind, size: sz, startSeconds: st } });
  }
  return out;
}
