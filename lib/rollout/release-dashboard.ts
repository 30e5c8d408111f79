/**
 * The release dashboard of one service: its release alarms' states and the runtime's metrics by executed version.
 * Built inside the AiRelease (`scope`), so its construct id is the one it always had.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { DIMENSION, METRIC, METRIC_NAMESPACE } from '../../lambda/shared/contract';
import { physicalName } from '../private/physical-names';
import type { ReleaseAlarms } from './release-alarms';

/** What the dashboard needs of its service. */
export interface DashboardHost {
  readonly serviceName: string;
  readonly alarms: ReleaseAlarms;
}

export function buildReleaseDashboard(scope: Construct, r: DashboardHost, stackName: string): cloudwatch.Dashboard {
  const service = r.serviceName;
  const period = r.alarms.period;
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
      title: `${title} by version`,
      left: [byVersion(metric, stat, `${metric} `)],
      leftAnnotations: annotations,
      width: 8,
      height: 6,
    });
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: physicalName('dashboard', stackName, service),
    widgets: [
      [
        new cloudwatch.AlarmStatusWidget({
          title: `${service} release alarms`,
          alarms: [r.alarms.anyComposite, ...(r.alarms.configComposite ? [r.alarms.configComposite] : []), ...r.alarms.guardrailAlarms()],
          width: 24,
          height: 4,
        }),
      ],
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
        ? r.alarms.byPlane('config').map((a) => new cloudwatch.AlarmWidget({ title: `service ${a.watches}`, alarm: a.alarm, width: 4, height: 6 }))
        : r.alarms.guardrailAlarms().map(
            (alarm, i) =>
              new cloudwatch.AlarmWidget({
                title: `${i === 0 ? 'code' : 'config'} guardrails: each term (value / threshold) against 1`,
                alarm,
                width: 12,
                height: 6,
              }),
          ),
    ],
  });
}
