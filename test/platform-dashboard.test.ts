/**
 * One release dashboard per platform (issue 15-E): a section per service, alarm widgets by ARN from the alarms'
 * literal names, so the platform's stack never references a service stack; a second dashboard when a section would
 * take the first above CloudWatch's 500 widgets.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { buildReleaseDashboard, DASHBOARD_WIDGET_LIMIT } from '../lib/rollout/release-dashboard';
import { inlineFunction, testApp, validConfig } from './helpers';

type Json = any;
const release = (scope: Stack, name: string, platform?: AiReleasePlatform) =>
  new AiRelease(scope, `Svc-${name}`, {
    serviceName: name,
    function: inlineFunction(scope, `Fn-${name}`),
    config: ReleaseConfigSource.fromObject(validConfig()),
    platform,
  });
/** The dashboard body with its tokens as their CloudFormation JSON (the body is an Fn::Join). */
const bodyOf = (d: Json) => JSON.stringify(d.Properties.DashboardBody);
/** The widgets of a body: the Fn::Join's parts joined, tokens replaced by a marker. */
const widgetsOf = (d: Json): Json[] => {
  const b = d.Properties.DashboardBody;
  const text = typeof b === 'string' ? b : b['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text).widgets;
};

describe('services in the platform stack', () => {
  const app = testApp();
  const stack = new Stack(app, 'Rel');
  const releases = ['alpha', 'beta', 'gamma'].map((n) => release(stack, n));
  const template = Template.fromStack(stack);
  const dashboards = Object.values<Json>(template.findResources('AWS::CloudWatch::Dashboard'));

  test('one dashboard for three services, named by the platform; every AiRelease.dashboard is it', () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0].Properties.DashboardName).toBe('Rel-ai-release');
    expect(new Set(releases.map((r) => r.dashboard)).size).toBe(1);
    expect(releases[0].dashboard.node.scope).toBe(AiReleasePlatform.of(releases[0]));
  });

  test('a section per service: its header, its alarms by ARN from their names, its metrics by SEARCH on its Service', () => {
    const widgets = widgetsOf(dashboards[0]);
    const body = bodyOf(dashboards[0]);
    for (const s of ['alpha', 'beta', 'gamma']) {
      expect(widgets.filter((w) => w.type === 'text').map((w) => w.properties.markdown)).toContain(`## ${s}`);
      for (const kind of ['version-guardrails', 'service-guardrails']) expect(body).toContain(`:alarm:Rel-${s}-${kind}`);
      expect(body).toContain(`Service=\\\\\\"${s}\\\\\\" MetricName=\\\\\\"Latency\\\\\\"`);
    }
    // 13 widgets a section (header, states, 9 graphs, 2 guardrails), laid out in rows one under the other
    expect(widgets).toHaveLength(3 * 13);
    const headers = widgets.filter((w) => w.type === 'text').map((w) => w.y);
    expect(headers).toEqual([...headers].sort((a, b) => a - b));
    // the alarm widgets name alarms only by ARN (no Fn::GetAtt / Ref to an alarm resource)
    expect(body).not.toMatch(/"Fn::GetAtt":\["[A-Za-z0-9]*(Alarm|Guardrails|Rollback)/);
  });
});

describe('services in their own stacks', () => {
  const app = testApp();
  const platformStack = new Stack(app, 'AiPlatform');
  const platform = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  const stacks = ['alpha', 'beta'].map((n) => {
    const s = new Stack(app, `Svc-${n}`);
    release(s, n, platform);
    return s;
  });
  const assembly = app.synth();

  test('the dashboard is in the platform stack, names every service, and the platform stack imports nothing', () => {
    const platformTemplate = assembly.getStackByName('AiPlatform').template;
    const dashboards = Object.values<Json>(platformTemplate.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    for (const n of ['alpha', 'beta']) expect(bodyOf(dashboards[0])).toContain(`:alarm:AiPlatform-${n}-version-guardrails`);
    expect(JSON.stringify(platformTemplate)).not.toContain('Fn::ImportValue');
    for (const s of stacks)
      expect(Object.values<Json>(assembly.getStackByName(s.stackName).template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toEqual([]);
  });
});

describe('a second dashboard when the widgets would not fit', () => {
  test('sections that would take a dashboard above the limit start the next one; none is split', () => {
    expect(DASHBOARD_WIDGET_LIMIT).toBe(500);
    const app = testApp();
    const stack = new Stack(app, 'Rel');
    const releases = ['alpha', 'beta', 'gamma'].map((n) => release(stack, n));
    // a host of its own with room for two sections of 13 widgets
    const host = new Construct(stack, 'Host');
    const held = releases.map((r) => buildReleaseDashboard(host, r, 'Small', 26));
    expect(held[0]).toBe(held[1]);
    expect(held[2]).not.toBe(held[0]);
    const dashboards = Object.values<Json>(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const small = dashboards.filter((d) => String(d.Properties.DashboardName).startsWith('Small-'));
    expect(small.map((d) => [d.Properties.DashboardName, widgetsOf(d).length])).toEqual([
      ['Small-ai-release', 26],
      ['Small-ai-release-2', 13],
    ]);
  });

  test('a section larger than a dashboard is refused with the fix', () => {
    const app = testApp();
    const stack = new Stack(app, 'Rel');
    const r = release(stack, 'alpha');
    expect(() => buildReleaseDashboard(new Construct(stack, 'Host'), r, 'Small', 10)).toThrow(/13 widgets, above CloudWatch's 10 per dashboard/);
  });
});
