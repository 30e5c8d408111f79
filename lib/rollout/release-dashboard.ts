/**
 * The release dashboard of a platform (issue 15-E): one CloudWatch dashboard with a section per service (a header,
 * its release alarms' states, the runtime's metrics by executed version, its guardrail alarms), built as the services
 * register. It lives on the AiReleasePlatform (the platform's stack): the widgets name each service's alarms by ARN,
 * built from their literal names, and its metrics by SEARCH expressions, so the platform stack never references a
 * service stack. A second dashboard (Dashboard2, …) starts when a section would take the first above CloudWatch's
 * 500 widgets per dashboard body (CloudWatch API Reference, Dashboard Body Structure: "between 0 and 500 widget
 * objects").
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRIC_NAMESPACE } from '../../lambda/shared/contract';
import { physicalName } from '../private/physical-names';
import type { ReleaseAlarms } from './release-alarms';

/** Widgets per dashboard body (CloudWatch API Reference, Dashboard Body Structure and Syntax). */
export const DASHBOARD_WIDGET_LIMIT = 500;

/** What the dashboard needs of its service. */
export interface DashboardHost {
  readonly serviceName: string;
  readonly alarms: ReleaseAlarms;
}

interface PlatformDashboards {
  readonly dashboards: { dashboard: cloudwatch.Dashboard; widgets: number }[];
}
const DASHBOARDS = new WeakMap<Construct, PlatformDashboards>();

/** The literal name of an alarm (CfnAlarm / CfnCompositeAlarm alarmName), which every library alarm has. */
function literalName(alarm: cloudwatch.IAlarm): string {
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm | cloudwatch.CfnCompositeAlarm | undefined;
  const name = cfn?.alarmName;
  if (!name || Token.isUnresolved(name))
    throw new Error(
      `the alarm ${alarm.node.path} has no literal name; the platform dashboard names alarms by ARN (give it an alarmName built with physicalName)`,
    );
  return name;
}

/**
 * An alarm of the service as the platform's stack may name it: its ARN from its literal name (the service stack's
 * Region and account: literal when that stack has an env, else the deploying stack's pseudo parameters, the same
 * account and Region for stacks deployed together), so no cross-stack reference.
 */
function byArn(scope: Construct, alarm: cloudwatch.IAlarm): cloudwatch.IAlarm {
  const name = literalName(alarm);
  const arn = Stack.of(alarm).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  // The same alarm in two widgets (the states and its own graph): one import.
  return (scope.node.tryFindChild(name) as cloudwatch.IAlarm | undefined) ?? cloudwatch.Alarm.fromAlarmArn(scope, name, arn);
}

/** The widgets of one service's section (rows of widgets: a header, the alarms' states, the graphs, the guardrails). */
function section(scope: Construct, r: DashboardHost): cloudwatch.IWidget[][] {
  const service = r.serviceName;
  const period = r.alarms.period;
  // Named by the service's alarms construct, not its name: two releases of one name get synth's error naming both.
  const refs = new Construct(scope, `DashboardAlarms${r.alarms.node.addr}`);
  const byVersion = (metric: string, stat: string, label: string) =>
    new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRIC_NAMESPACE},${DIMENSION.SERVICE},${DIMENSION.VERSION}} ${DIMENSION.SERVICE}="${service}" MetricName="${metric}"', '${stat}', ${period.toSeconds()})`,
      label,
      period,
    });
  const threshold = (kind: string, plane: 'code' | 'config' = 'code') => {
    const a = r.alarms.alarms.find((x) => x.kind === kind && x.plane === plane);
    return a ? [{ value: a.threshold, label: `alarm ${a.comparison} ${a.threshold}${a.unit}` }] : [];
  };
  const graph = (title: string, metric: string, stat: string, annotations: cloudwatch.HorizontalAnnotation[] = []) =>
    new cloudwatch.GraphWidget({
      title: `${service}: ${title} by version`,
      left: [byVersion(metric, stat, `${metric} `)],
      leftAnnotations: annotations,
      width: 8,
      height: 6,
    });
  const status = [r.alarms.anyComposite, ...(r.alarms.configComposite ? [r.alarms.configComposite] : []), ...r.alarms.guardrailAlarms()];
  return [
    [new cloudwatch.TextWidget({ markdown: `## ${service}`, width: 24, height: 1 })],
    [new cloudwatch.AlarmStatusWidget({ title: `${service} release alarms`, alarms: status.map((a) => byArn(refs, a)), width: 24, height: 4 })],
    [
      graph('Invocations', METRIC.INVOCATIONS, 'Sum'),
      graph('Errors', METRIC.ERRORS, 'Sum'),
      graph('p99 latency (ms)', METRIC.LATENCY, 'p99', threshold('p99-latency')),
    ],
    [
      graph('Cost (USD)', METRIC.COST_USD, 'Sum'),
      graph('Quality score', METRIC.QUALITY_SCORE, 'Average', threshold('quality')),
      graph('Degraded answers', METRIC.DEGRADED, 'Sum'),
    ],
    [
      graph('Safety violations', METRIC.SAFETY_VIOLATIONS, 'Sum'),
      graph('Contract violations', METRIC.CONTRACT_VIOLATIONS, 'Sum'),
      graph('Output tokens', METRIC.OUTPUT_TOKENS, 'Sum'),
    ],
    r.alarms.layout === 'perMetric'
      ? r.alarms
          .byPlane('config')
          .map((a) => new cloudwatch.AlarmWidget({ title: `${service}: service ${a.watches}`, alarm: byArn(refs, a.alarm), width: 4, height: 6 }))
      : r.alarms.guardrailAlarms().map(
          (alarm, i) =>
            new cloudwatch.AlarmWidget({
              title: `${service}: ${i === 0 ? 'code' : 'config'} guardrails: each term (value / threshold) against 1`,
              alarm: byArn(refs, alarm),
              width: 12,
              height: 6,
            }),
        ),
  ];
}

/**
 * Adds the service's section to its platform's dashboard (`platform`: the AiReleasePlatform; `prefix`: its name
 * prefix) and returns the dashboard that holds it: the platform's first, or a further one when the section would
 * take the last above `limit` widgets (DASHBOARD_WIDGET_LIMIT; smaller only in tests).
 */
export function buildReleaseDashboard(platform: Construct, r: DashboardHost, prefix: string, limit = DASHBOARD_WIDGET_LIMIT): cloudwatch.Dashboard {
  const known = DASHBOARDS.get(platform) ?? { dashboards: [] };
  DASHBOARDS.set(platform, known);
  const rows = section(platform, r);
  const count = rows.reduce((n, row) => n + row.length, 0);
  if (count > limit)
    throw new Error(`the dashboard section of ${r.serviceName} has ${count} widgets, above CloudWatch's ${limit} per dashboard; use alarms.layout 'combined'`);
  let last = known.dashboards.at(-1);
  if (!last || last.widgets + count > limit) {
    const n = known.dashboards.length + 1;
    const dashboard = new cloudwatch.Dashboard(platform, n === 1 ? 'Dashboard' : `Dashboard${n}`, {
      dashboardName: physicalName('dashboard', prefix, n === 1 ? 'ai-release' : `ai-release-${n}`),
    });
    last = { dashboard, widgets: 0 };
    known.dashboards.push(last);
  }
  for (const row of rows) last.dashboard.addWidgets(...row);
  last.widgets += count;
  return last.dashboard;
}
