/**
 * Reads what the drill simulates from a synthesized CloudFormation template — never from construct props, so a
 * hand edit of the template (a threshold, a period) changes the drill's answer. Pure: takes the parsed JSON.
 */
import {
  type AlarmRule,
  COMPARISON_OPERATORS,
  type ComparisonOperator,
  parseCompositeRule,
  type CompositeRule,
  TREAT_MISSING,
  type TreatMissingData,
} from './cloudwatch';
import { type MetricExpression, parseMetricExpression, UnsupportedExpressionError } from './expression';

/** One metric a query reads: dimension values are literal, or `${Logical.Attr}` / `${Logical}` for tokens. */
export interface DrillMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum`, `Average`, `SampleCount`, `Minimum`, `Maximum`, `p99`… */
  readonly stat: string;
  readonly periodSeconds: number;
}

export interface DrillQuery {
  readonly id: string;
  readonly metric?: DrillMetric;
  readonly expression?: MetricExpression;
  readonly returnData: boolean;
}

export interface DrillAlarm extends AlarmRule {
  readonly logicalId: string;
  /** AlarmName when literal, else the logical id. */
  readonly name: string;
  readonly periodSeconds: number;
  readonly queries: readonly DrillQuery[];
  /** The query whose result is compared with the threshold. */
  readonly resultId: string;
  /** Why the drill cannot evaluate this alarm (it is then listed, not simulated). */
  readonly unsupported?: string;
}

export interface DrillComposite {
  readonly logicalId: string;
  readonly name: string;
  /** Children are logical ids of alarms (or composites) in this template. */
  readonly rule: CompositeRule;
}

/** Traffic on the new version: [second from deployment start, percent]. */
export type TrafficSteps = readonly (readonly [number, number])[];

export interface DrillCodeDeploy {
  readonly logicalId: string;
  readonly configName: string;
  readonly describe: string;
  readonly steps: TrafficSteps;
  /** Second at which the new version takes 100 % (the deployment ends). */
  readonly fullAtSeconds: number;
  /** Logical ids of the alarms the deployment group watches (CodeDeploy takes metric alarms). */
  readonly alarms: readonly string[];
}

export interface DrillAppConfig {
  readonly environment: string;
  readonly strategy: string;
  readonly describe: string;
  readonly steps: TrafficSteps;
  readonly fullAtSeconds: number;
  /** Deployment time plus final bake: monitors watched until then. */
  readonly endSeconds: number;
  /** Logical ids of the monitor alarms (metric or composite). */
  readonly monitors: readonly string[];
}

export interface DrillModel {
  readonly alarms: readonly DrillAlarm[];
  readonly composites: readonly DrillComposite[];
  readonly codeDeploy?: DrillCodeDeploy;
  readonly appConfig?: DrillAppConfig;
  /** The resource types of `${X.Version}` tokens, to tell the new Lambda version apart. */
  readonly resourceTypes: Readonly<Record<string, string>>;
}

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is untyped JSON; every read is checked.
type Json = any;

/** Reads a template (the parsed JSON of `<stack>.template.json`). Throws naming the resource and field when malformed. */
export function readDrillModel(template: Json, service?: string): DrillModel {
  const resources: Record<string, Json> = template?.Resources;
  if (!resources || typeof resources !== 'object')
    throw new Error('the template has no Resources: pass a synthesized CloudFormation template (cdk.out/<stack>.template.json)');
  const resourceTypes = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, String(r?.Type)]));
  const alarms: DrillAlarm[] = [];
  const composites: DrillComposite[] = [];
  const byName = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r?.Type === 'AWS::CloudWatch::Alarm') {
      const a = readAlarm(id, r.Properties ?? {});
      alarms.push(a);
      byName.set(a.name, id);
    }
  }
  for (const [id, r] of Object.entries(resources)) {
    if (r?.Type !== 'AWS::CloudWatch::CompositeAlarm') continue;
    const p = r.Properties ?? {};
    const name = typeof p.AlarmName === 'string' ? p.AlarmName : id;
    byName.set(name, id);
    const text = flatten(p.AlarmRule, (ref) => ref, `${id}.AlarmRule`);
    // Children are written as ARNs (Fn::GetAtt X.Arn -> "${X.Arn}"), or literal ARNs / names of alarms here.
    const rule = parseCompositeRule(text);
    const mapped = rewriteChildren(rule, (child) => {
      const token = /^\$\{([^.}]+)(?:\.Arn)?\}$/.exec(child);
      if (token) return token[1];
      const name = child.startsWith('arn:') ? child.split(':alarm:')[1] : child;
      return byName.get(name) ?? child;
    });
    composites.push({ logicalId: id, name, rule: mapped });
  }
  // With several services in one stack, `service` picks the deployment group and environment whose alarms watch it.
  const watches = (id: string, seen = new Set<string>()): boolean => {
    if (seen.has(id)) return false;
    seen.add(id);
    const a = alarms.find((x) => x.logicalId === id);
    if (a) return service === undefined || a.queries.some((q) => q.metric?.dimensions.Service === service);
    const c = composites.find((x) => x.logicalId === id);
    return c ? c.rule.children.some((child) => watches(child, seen)) : false;
  };
  return { alarms, composites, codeDeploy: readCodeDeploy(resources, byName, watches), appConfig: readAppConfig(resources, watches), resourceTypes };
}

function rewriteChildren(rule: CompositeRule, map: (child: string) => string): CompositeRule {
  const children = rule.children.map(map);
  const lookup = new Map(rule.children.map((c, i) => [c, children[i]]));
  return { source: rule.source, children, test: (states) => rule.test((c) => states(lookup.get(c) ?? c)) };
}

function readAlarm(id: string, p: Json): DrillAlarm {
  const where = (field: string) => `alarm ${id}: ${field}`;
  const num = (v: unknown, field: string, fallback?: number): number => {
    const n = v === undefined ? fallback : Number(v);
    if (n === undefined || !Number.isFinite(n)) throw new Error(`${where(field)} must be a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const name = typeof p.AlarmName === 'string' ? p.AlarmName : id;
  const evaluationPeriods = num(p.EvaluationPeriods, 'EvaluationPeriods');
  const base = {
    logicalId: id,
    name,
    evaluationPeriods,
    datapointsToAlarm: num(p.DatapointsToAlarm, 'DatapointsToAlarm', evaluationPeriods),
    treatMissingData: (p.TreatMissingData ?? 'missing') as TreatMissingData,
    comparison: p.ComparisonOperator as ComparisonOperator,
    threshold: p.Threshold === undefined ? Number.NaN : num(p.Threshold, 'Threshold'),
  };
  let unsupported: string | undefined;
  if (!TREAT_MISSING.includes(base.treatMissingData))
    throw new Error(`${where('TreatMissingData')} must be one of ${TREAT_MISSING.join(', ')}, got ${JSON.stringify(p.TreatMissingData)}`);
  if (!COMPARISON_OPERATORS.includes(base.comparison)) unsupported = `comparison ${p.ComparisonOperator} (anomaly-detection bands) is not simulated`;
  if (p.ThresholdMetricId !== undefined || p.Threshold === undefined) unsupported ??= 'a threshold from a metric (anomaly detection) is not simulated';
  if (base.datapointsToAlarm < 1 || base.datapointsToAlarm > evaluationPeriods)
    throw new Error(`${where('DatapointsToAlarm')} ${base.datapointsToAlarm} must be between 1 and EvaluationPeriods ${evaluationPeriods}`);

  const queries: DrillQuery[] = [];
  let resultId = 'm1';
  if (Array.isArray(p.Metrics)) {
    for (const q of p.Metrics) {
      const qid = String(q.Id);
      if (q.Expression !== undefined) {
        try {
          queries.push({ id: qid, expression: parseMetricExpression(String(q.Expression)), returnData: q.ReturnData !== false });
        } catch (e) {
          if (!(e instanceof UnsupportedExpressionError)) throw e;
          unsupported ??= e.message;
          queries.push({ id: qid, returnData: q.ReturnData !== false });
        }
      } else if (q.MetricStat) {
        const ms = q.MetricStat;
        queries.push({
          id: qid,
          returnData: q.ReturnData !== false,
          metric: {
            namespace: String(ms.Metric?.Namespace),
            metricName: String(ms.Metric?.MetricName),
            dimensions: dims(ms.Metric?.Dimensions, `${id}.Metrics[${qid}]`),
            stat: String(ms.Stat),
            periodSeconds: num(ms.Period ?? q.Period, `Metrics[${qid}].MetricStat.Period`),
          },
        });
      } else {
        unsupported ??= `query ${qid} is neither a metric nor an expression (e.g. a Metrics Insights query) and is not simulated`;
        queries.push({ id: qid, returnData: q.ReturnData !== false });
      }
    }
    const returned = queries.filter((q) => q.returnData);
    if (returned.length !== 1) throw new Error(`${where('Metrics')} must have exactly one query with ReturnData true, got ${returned.length}`);
    resultId = returned[0].id;
  } else {
    queries.push({
      id: resultId,
      returnData: true,
      metric: {
        namespace: String(p.Namespace),
        metricName: String(p.MetricName),
        dimensions: dims(p.Dimensions, id),
        stat: String(p.ExtendedStatistic ?? p.Statistic),
        periodSeconds: num(p.Period, 'Period'),
      },
    });
  }
  const periods = queries.flatMap((q) => (q.metric ? [q.metric.periodSeconds] : []));
  if (periods.length === 0) throw new Error(`${where('Period')}: the alarm reads no metric`);
  const periodSeconds = Math.max(...periods);
  if (periods.some((x) => x !== periodSeconds))
    unsupported ??= `its metrics use different periods (${[...new Set(periods)].join(', ')} s); CloudWatch requires one`;
  if (![10, 30].includes(periodSeconds) && periodSeconds % 60 !== 0)
    throw new Error(`${where('Period')} ${periodSeconds} s is not one CloudWatch alarms accept: 10, 30 or a multiple of 60`);
  return { ...base, periodSeconds, queries, resultId, unsupported };
}

function dims(list: unknown, where: string): Record<string, string> {
  if (list === undefined) return {};
  if (!Array.isArray(list)) throw new Error(`${where}: Dimensions must be a list of { Name, Value }`);
  return Object.fromEntries(list.map((d: Json) => [String(d.Name), flatten(d.Value, (r) => r, `${where}.Dimensions.${d.Name}`)]));
}

/**
 * A CloudFormation value as a string: literals as they are, `Ref X` as `${X}`, `Fn::GetAtt [X, A]` as `${X.A}`,
 * `Fn::Join` and `Fn::Sub` (without a variable map) spelled out.
 */
export function flatten(v: Json, onRef: (ref: string) => string, where: string): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    if ('Ref' in v) return onRef(`\${${v.Ref}}`);
    if ('Fn::GetAtt' in v) {
      const g = v['Fn::GetAtt'];
      return onRef(`\${${Array.isArray(g) ? g.join('.') : g}}`);
    }
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'];
      return (parts as Json[]).map((x) => flatten(x, onRef, where)).join(sep);
    }
    if ('Fn::Sub' in v && typeof v['Fn::Sub'] === 'string') return v['Fn::Sub'];
  }
  throw new Error(`${where}: cannot read ${JSON.stringify(v).slice(0, 80)} (only literals, Ref, Fn::GetAtt, Fn::Join and Fn::Sub)`);
}

/** The logical id a `${X}` / `${X.Attr}` token points at, else undefined. */
export function tokenTarget(value: string): { id: string; attr?: string } | undefined {
  const m = /^\$\{([^.}]+)(?:\.([^}]+))?\}$/.exec(value);
  return m ? { id: m[1], attr: m[2] } : undefined;
}

const PREDEFINED_CODEDEPLOY = /^CodeDeployDefault\.Lambda(?:Canary(\d+)Percent(\d+)Minutes?|Linear(\d+)PercentEvery(\d+)Minutes?|(AllAtOnce))$/;

function readCodeDeploy(resources: Record<string, Json>, byName: Map<string, string>, watches: (id: string) => boolean): DrillCodeDeploy | undefined {
  const alarmsOf = (id: string, p: Json): string[] =>
    ((p.AlarmConfiguration?.Enabled === false ? [] : p.AlarmConfiguration?.Alarms) ?? []).map((a: Json) => {
      const name = flatten(a.Name, (ref) => ref, `${id}.AlarmConfiguration.Alarms`);
      const t = tokenTarget(name);
      return t ? t.id : (byName.get(name) ?? name);
    });
  let groups = Object.entries(resources).filter(([, r]) => r?.Type === 'AWS::CodeDeploy::DeploymentGroup');
  if (groups.length > 1) groups = groups.filter(([id, r]) => alarmsOf(id, r.Properties ?? {}).some((a) => watches(a)));
  if (groups.length === 0) return undefined;
  if (groups.length > 1)
    throw new Error(
      `the template has ${groups.length} CodeDeploy deployment groups (${groups.map(([id]) => id).join(', ')}); name the service to drill (--service)`,
    );
  const [id, r] = groups[0];
  const p = r.Properties ?? {};
  const alarms = alarmsOf(id, p);
  const configRef =
    p.DeploymentConfigName === undefined ? 'CodeDeployDefault.LambdaAllAtOnce' : flatten(p.DeploymentConfigName, (x) => x, `${id}.DeploymentConfigName`);
  let kind: 'canary' | 'linear' | 'all-at-once';
  let percent = 100;
  let minutes = 0;
  const predefined = PREDEFINED_CODEDEPLOY.exec(configRef);
  const target = tokenTarget(configRef);
  if (predefined) {
    kind = predefined[5] ? 'all-at-once' : predefined[1] ? 'canary' : 'linear';
    percent = Number(predefined[1] ?? predefined[3] ?? 100);
    minutes = Number(predefined[2] ?? predefined[4] ?? 0);
  } else if (target && resources[target.id]?.Type === 'AWS::CodeDeploy::DeploymentConfig') {
    const routing = resources[target.id].Properties?.TrafficRoutingConfig ?? { Type: 'AllAtOnce' };
    if (routing.Type === 'TimeBasedCanary') {
      kind = 'canary';
      percent = Number(routing.TimeBasedCanary?.CanaryPercentage);
      minutes = Number(routing.TimeBasedCanary?.CanaryInterval);
    } else if (routing.Type === 'TimeBasedLinear') {
      kind = 'linear';
      percent = Number(routing.TimeBasedLinear?.LinearPercentage);
      minutes = Number(routing.TimeBasedLinear?.LinearInterval);
    } else kind = 'all-at-once';
    if (!Number.isFinite(percent) || !Number.isFinite(minutes) || percent < 1 || percent > 100 || minutes < 0)
      throw new Error(
        `deployment config ${target.id}: TrafficRoutingConfig needs a percentage (1-100) and an interval in minutes, got ${JSON.stringify(routing)}`,
      );
  } else {
    throw new Error(`deployment group ${id}: DeploymentConfigName ${configRef} is neither a predefined Lambda config nor a deployment config in this template`);
  }
  const steps: [number, number][] = [];
  if (kind === 'all-at-once') steps.push([0, 100]);
  else if (kind === 'canary') steps.push([0, percent], [minutes * 60, 100]);
  else
    for (let i = 0, pct = percent; ; i++, pct += percent) {
      steps.push([i * minutes * 60, Math.min(pct, 100)]);
      if (pct >= 100) break;
    }
  const describe =
    kind === 'all-at-once'
      ? 'all at once'
      : kind === 'canary'
        ? `canary ${percent} % for ${minutes} min, then 100 %`
        : `linear +${percent} % every ${minutes} min`;
  return { logicalId: id, configName: target ? target.id : configRef, describe, steps, fullAtSeconds: steps[steps.length - 1][0], alarms };
}

/** AppConfig's predefined strategies (AppConfig User Guide, "Predefined deployment strategies"). */
const PREDEFINED_APPCONFIG: Record<string, { growthType: string; growth: number; duration: number; bake: number }> = {
  'AppConfig.AllAtOnce': { growthType: 'LINEAR', growth: 100, duration: 0, bake: 10 },
  'AppConfig.Linear50PercentEvery30Seconds': { growthType: 'LINEAR', growth: 50, duration: 1, bake: 1 },
  'AppConfig.Canary10Percent20Minutes': { growthType: 'EXPONENTIAL', growth: 10, duration: 20, bake: 10 },
  'AppConfig.Linear20PercentEvery6Minutes': { growthType: 'LINEAR', growth: 20, duration: 30, bake: 30 },
};

function readAppConfig(resources: Record<string, Json>, watches: (id: string) => boolean): DrillAppConfig | undefined {
  const monitorsOf = (envId: string, env: Json): string[] =>
    (env.Properties.Monitors as Json[]).map((m) => {
      const arn = flatten(m.AlarmArn, (x) => x, `${envId}.Monitors`);
      return tokenTarget(arn)?.id ?? arn;
    });
  let monitored = Object.entries(resources).filter(([, r]) => r?.Type === 'AWS::AppConfig::Environment' && (r.Properties?.Monitors ?? []).length > 0);
  if (monitored.length > 1) monitored = monitored.filter(([id, env]) => monitorsOf(id, env).some((m) => watches(m)));
  if (monitored.length === 0) return undefined;
  if (monitored.length > 1)
    throw new Error(
      `the template has ${monitored.length} monitored AppConfig environments (${monitored.map(([id]) => id).join(', ')}); name the service to drill (--service)`,
    );
  const [envId, env] = monitored[0];
  const monitors = monitorsOf(envId, env);
  // The deployment into that environment: AWS::AppConfig::Deployment, or a custom resource with Environment/Strategy.
  let strategyRef: string | undefined;
  for (const r of Object.values(resources)) {
    const p = r?.Properties ?? {};
    const envRef = p.EnvironmentId ?? p.Environment;
    const strat = p.DeploymentStrategyId ?? p.Strategy;
    if (envRef && strat && tokenTarget(flatten(envRef, (x) => x, 'Environment'))?.id === envId) {
      strategyRef = flatten(strat, (x) => x, 'DeploymentStrategyId');
      break;
    }
  }
  if (!strategyRef) return undefined;
  const target = tokenTarget(strategyRef);
  let s: { growthType: string; growth: number; duration: number; bake: number };
  if (target && resources[target.id]?.Type === 'AWS::AppConfig::DeploymentStrategy') {
    const p = resources[target.id].Properties;
    s = {
      growthType: String(p.GrowthType ?? 'LINEAR'),
      growth: Number(p.GrowthFactor),
      duration: Number(p.DeploymentDurationInMinutes),
      bake: Number(p.FinalBakeTimeInMinutes ?? 0),
    };
  } else if (PREDEFINED_APPCONFIG[strategyRef]) s = PREDEFINED_APPCONFIG[strategyRef];
  else return undefined;
  if (!(s.growth > 0 && s.growth <= 100) || !(s.duration >= 0) || !(s.bake >= 0))
    throw new Error(`deployment strategy ${strategyRef}: GrowthFactor (1-100), DeploymentDurationInMinutes and FinalBakeTimeInMinutes must be numbers`);
  // Percent after each step, as lib/rollout/config-rollout.ts computes it: LINEAR adds G, EXPONENTIAL doubles from G.
  const pcts: number[] = [];
  for (let x = s.growth; x < 100; x = s.growthType === 'EXPONENTIAL' ? x * 2 : x + s.growth) pcts.push(Math.round(x * 100) / 100);
  pcts.push(100);
  const interval = pcts.length <= 1 ? 0 : (s.duration * 60) / pcts.length;
  const steps = pcts.map((pct, i) => [Math.round(i * interval), pct] as const);
  const fullAtSeconds = steps[steps.length - 1][0];
  const describe = `${s.growthType.toLowerCase()} ${pcts.join('→')} % over ${s.duration} min, bake ${s.bake} min`;
  return { environment: envId, strategy: target?.id ?? strategyRef, describe, steps, fullAtSeconds, endSeconds: s.duration * 60 + s.bake * 60, monitors };
}
