/**
 * One AppConfig extension association per live environment (lib/config/release-extension.ts, issue 15 E): the gate
 * check, the canary judge's tick and the release review are actions of one platform extension, and each service's
 * live environment has one association carrying the parameters all three read. Pinned against what the AppConfig
 * documentation says (API reference, CreateExtension: at most 5 action points, exactly 1 action each, each with its
 * own Uri and RoleArn; parameters declared on the extension, values on the association, passed to every Lambda action).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AiRelease, type AiReleaseProps, ReleaseConfigSource } from '../lib';
import { addReleaseAction, type ReleaseAction } from '../lib/config/release-extension';
import { inlineFunction, testApp, validConfig } from './helpers';

type Res = { Type: string; Properties: any; DependsOn?: string[] };
const byType = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, Res][];
const waived = { policyWaivers: [{ rule: 'regression-gate', reason: 'the test turns the regression gate off' }] } as const;

function flat(services: Record<string, Partial<AiReleaseProps>>) {
  const stack = new Stack(testApp(), 'Ext');
  const releases = Object.fromEntries(
    Object.entries(services).map(([name, props]) => [
      name,
      new AiRelease(stack, name, {
        serviceName: name,
        function: inlineFunction(stack, `${name}Fn`),
        config: ReleaseConfigSource.fromObject(validConfig()),
        ...props,
      }),
    ]),
  );
  return { stack, releases, t: Template.fromStack(stack) };
}

const ALL_POINTS = ['AT_DEPLOYMENT_TICK', 'ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK', 'PRE_START_DEPLOYMENT'];

describe('every default on: one extension per platform, one association per service', () => {
  const { stack, releases, t } = flat({ alpha: {}, beta: {} });
  const id = (c: any) => stack.getLogicalId((c.node.defaultChild ?? c) as never);
  const [[extId, ext]] = byType(t, 'AWS::AppConfig::Extension');

  test('one extension with the four action points, exactly one action each (CreateExtension: ≤ 5 entries, 1 action per point)', () => {
    expect(byType(t, 'AWS::AppConfig::Extension')).toHaveLength(1);
    expect(Object.keys(ext.Properties.Actions).sort()).toEqual(ALL_POINTS);
    expect(Object.keys(ext.Properties.Actions).length).toBeLessThanOrEqual(5);
    for (const actions of Object.values<any[]>(ext.Properties.Actions)) expect(actions).toHaveLength(1);
  });

  test("each action point runs its own function through its own role: a tick never reaches the review's function", () => {
    const a = releases.alpha;
    const uri = (p: string) => ext.Properties.Actions[p][0].Uri['Fn::GetAtt'][0];
    const role = (p: string) => ext.Properties.Actions[p][0].RoleArn['Fn::GetAtt'][0];
    expect(uri('PRE_START_DEPLOYMENT')).toBe(id(a.config.gateCheck!.function));
    expect(uri('AT_DEPLOYMENT_TICK')).toBe(id(a.canaryJudge!.tickFunction));
    expect(uri('ON_DEPLOYMENT_COMPLETE')).toBe(id(a.review!.function));
    expect(uri('ON_DEPLOYMENT_ROLLED_BACK')).toBe(id(a.review!.function));
    expect(new Set([uri('PRE_START_DEPLOYMENT'), uri('AT_DEPLOYMENT_TICK'), uri('ON_DEPLOYMENT_COMPLETE')]).size).toBe(3);
    expect(new Set([role('PRE_START_DEPLOYMENT'), role('AT_DEPLOYMENT_TICK'), role('ON_DEPLOYMENT_COMPLETE')]).size).toBe(3);
    // AppConfig checks at CreateExtension that it can assume each role and invoke: the extension waits for all three.
    for (const p of ['PRE_START_DEPLOYMENT', 'AT_DEPLOYMENT_TICK', 'ON_DEPLOYMENT_COMPLETE']) expect(ext.DependsOn).toContain(role(p));
  });

  test('the parameters are the union the three handlers read: service and profile, both required', () => {
    expect(ext.Properties.Parameters).toEqual({
      service: { Required: true, Description: expect.any(String) },
      profile: { Required: true, Description: expect.any(String) },
    });
  });

  test("one association per service, on its live environment only, with its service and release profile; every construct's association is that one", () => {
    const assocs = byType(t, 'AWS::AppConfig::ExtensionAssociation');
    expect(assocs).toHaveLength(2);
    for (const r of Object.values(releases)) {
      const assocId = id(r.canaryJudge!.association);
      expect(id(r.config.gateCheck!.association)).toBe(assocId);
      expect(id(r.review!.association)).toBe(assocId);
      const a = t.findResources('AWS::AppConfig::ExtensionAssociation')[assocId] as Res;
      expect(a.Properties.ExtensionIdentifier).toEqual({ 'Fn::GetAtt': [extId, 'Id'] });
      expect(a.Properties.Parameters).toEqual({ service: r.serviceName, profile: { Ref: id(r.config.profile) } });
      const target = JSON.stringify(a.Properties.ResourceIdentifier);
      expect(target).toContain(id(r.config.environment));
      expect(target).not.toContain(id(r.config.degradeEnvironment));
      expect(target).not.toContain(id(r.config.candidateEnvironment));
      // The first config release is gated, judged and reviewed: its deployment waits for the association.
      const [, deployment] = byType(t, 'Custom::AiReleaseConfigDeployment').find(([did]) => did.startsWith(r.node.id))!;
      expect(deployment.DependsOn).toContain(assocId);
    }
  });

  test('its name is new (an update creates it before deleting the three older extensions; names are unique in the account)', () => {
    expect(ext.Properties.Name).toBe('Ext-release-actions');
    for (const old of ['Ext-config-gate-check', 'Ext-canary-judge-tick', 'Ext-release-review']) expect(ext.Properties.Name).not.toBe(old);
  });
});

describe('services that turn an action off get an extension without it', () => {
  test('a service without a judge gets no AT_DEPLOYMENT_TICK, its neighbour keeps it; no extension is left unused', () => {
    const { stack, releases, t } = flat({ judged: {}, unjudged: { canaryJudge: false } });
    const exts = byType(t, 'AWS::AppConfig::Extension');
    expect(exts).toHaveLength(2);
    const pointsOf = (name: string) => {
      const assocId = stack.getLogicalId(releases[name].config.gateCheck!.association);
      const extId = (t.findResources('AWS::AppConfig::ExtensionAssociation')[assocId] as Res).Properties.ExtensionIdentifier['Fn::GetAtt'][0];
      return Object.keys((t.findResources('AWS::AppConfig::Extension')[extId] as Res).Properties.Actions).sort();
    };
    expect(pointsOf('judged')).toEqual(ALL_POINTS);
    expect(pointsOf('unjudged')).toEqual(['ON_DEPLOYMENT_COMPLETE', 'ON_DEPLOYMENT_ROLLED_BACK', 'PRE_START_DEPLOYMENT']);
    const names = exts.map(([, e]) => e.Properties.Name);
    expect(new Set(names).size).toBe(2);
    // Every extension is used by an association (the ones built while a service's set grew were removed).
    const used = new Set(byType(t, 'AWS::AppConfig::ExtensionAssociation').map(([, a]) => a.Properties.ExtensionIdentifier['Fn::GetAtt'][0]));
    expect(exts.map(([eid]) => eid).sort()).toEqual([...used].sort());
  });

  test('every action off: no extension and no association', () => {
    const { t } = flat({ bare: { canaryJudge: false, releaseReview: false, regressionGate: false, ...waived } });
    expect(byType(t, 'AWS::AppConfig::Extension')).toHaveLength(0);
    expect(byType(t, 'AWS::AppConfig::ExtensionAssociation')).toHaveLength(0);
  });

  test('a gate connected after the service is built (connectConfigGate) joins the same association, which moves to the full extension', () => {
    const stack = new Stack(testApp(), 'Late');
    const r = new AiRelease(stack, 'svc', {
      serviceName: 'svc',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(validConfig()),
      regressionGate: false,
      ...waived,
    });
    const before = stack.getLogicalId(r.canaryJudge!.association);
    const gate = new lambda.Function(stack, 'Gate', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      timeout: Duration.minutes(3),
    });
    r.connectConfigGate(gate);
    const t = Template.fromStack(stack);
    expect(stack.getLogicalId(r.config.gateCheck!.association)).toBe(before);
    const exts = byType(t, 'AWS::AppConfig::Extension');
    expect(exts).toHaveLength(1);
    expect(Object.keys(exts[0][1].Properties.Actions).sort()).toEqual(ALL_POINTS);
    const [[, assoc]] = byType(t, 'AWS::AppConfig::ExtensionAssociation');
    expect(assoc.Properties.ExtensionIdentifier).toEqual({ 'Fn::GetAtt': [exts[0][0], 'Id'] });
    expect(assoc.Properties.Parameters).toEqual({ service: 'svc', profile: { Ref: stack.getLogicalId(r.config.profile) } });
  });
});

describe('what one association cannot carry is refused at synth', () => {
  function host() {
    const stack = new Stack(testApp(), 'H');
    const env = new appconfig.CfnEnvironment(stack, 'Env', { applicationId: 'app', name: 'e' });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com') });
    const action = (kind: ReleaseAction['kind'], points: string[], fn = inlineFunction(stack, `${kind}Fn`)): ReleaseAction => ({
      kind,
      points,
      name: kind,
      description: kind,
      function: fn,
      role,
      parameters: { service: { required: true, description: 'd' } },
    });
    const h = { scope: stack, extensionName: () => 'x' };
    const add = (a: ReleaseAction, values: Record<string, string>) => addReleaseAction(h, env, a, values, { scope: stack, id: 'Assoc' });
    return { stack, action, add };
  }

  test('two actions on one action point (AppConfig: exactly one action per action point)', () => {
    const { action, add } = host();
    add(action('release-review', ['ON_DEPLOYMENT_COMPLETE']), { service: 's' });
    expect(() => add(action('canary-judge', ['ON_DEPLOYMENT_COMPLETE']), { service: 's' })).toThrow(/both use action point ON_DEPLOYMENT_COMPLETE/);
  });

  test('two values for one parameter (one association has one value per parameter for all its actions)', () => {
    const { action, add } = host();
    add(action('release-review', ['ON_DEPLOYMENT_COMPLETE']), { service: 'one' });
    expect(() => add(action('canary-judge', ['AT_DEPLOYMENT_TICK']), { service: 'two' })).toThrow(/already sets parameter "service" to "one"/);
  });

  test('a second function for an action the environment already runs', () => {
    const { stack, action, add } = host();
    add(action('release-review', ['ON_DEPLOYMENT_COMPLETE']), { service: 's' });
    expect(() => add(action('release-review', ['ON_DEPLOYMENT_COMPLETE'], inlineFunction(stack, 'Other')), { service: 's' })).toThrow(
      /already runs the release-review action with H\/release-reviewFn/,
    );
  });
});
