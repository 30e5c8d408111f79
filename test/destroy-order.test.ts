import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { AiRelease, AiReleasePlatform, AiServiceConfig, ReleaseConfigSource } from '../lib';
import { ReleaseConfigDeployment } from '../lib/rollout/config-deployment';
import { dependencyGraph, destroy, failedFirstCreate, type TemplateJson, World } from './cfn-lifecycle-model';
import { inlineFunction, testApp, validConfig } from './helpers';

const ofType = (t: TemplateJson, type: string) => Object.keys(t.Resources).filter((id) => t.Resources[id].Type === type);

describe('the CloudFormation lifecycle model (it can fail)', () => {
  const mini = (versionPolicy?: string, cleanup = false): TemplateJson => ({
    Resources: {
      App: { Type: 'AWS::AppConfig::Application', Properties: { Name: 'a' } },
      Profile: { Type: 'AWS::AppConfig::ConfigurationProfile', Properties: { ApplicationId: { Ref: 'App' } } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      ...(cleanup
        ? {
            Cleanup: {
              Type: 'Custom::AiReleaseConfigVersions',
              Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, ConfigurationProfile: { Ref: 'Profile' } },
            },
          }
        : {}),
      Version: {
        Type: 'AWS::AppConfig::HostedConfigurationVersion',
        Properties: { ApplicationId: { Ref: 'App' }, ConfigurationProfileId: { Ref: 'Profile' } },
        ...(versionPolicy ? { DeletionPolicy: versionPolicy } : {}),
        ...(cleanup ? { DependsOn: ['Cleanup'] } : {}),
      },
      Deploy: {
        Type: 'Custom::Deploy',
        Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Version: { 'Fn::GetAtt': ['Version', 'VersionNumber'] } },
      },
    },
  });

  test('the graph follows Ref, GetAtt, Sub and DependsOn', () => {
    const g = dependencyGraph({
      Resources: {
        A: { Type: 'X' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a JS template
        B: { Type: 'X', Properties: { P: { 'Fn::Sub': 'arn:${A}/${C.Arn}/${AWS::Region}' } } },
        C: { Type: 'X', DependsOn: 'A' },
      },
    });
    expect([...g.get('B')!].sort()).toEqual(['A', 'C']);
    expect([...g.get('C')!]).toEqual(['A']);
  });

  test('a retained version blocks its profile on destroy and on the rollback of a failed first create', () => {
    expect(destroy(mini('Retain')).status).toBe('DELETE_FAILED');
    expect(destroy(mini('Retain')).world.failures[0]).toContain('Cannot delete configuration profile');
    expect(failedFirstCreate(mini('Retain'), 'Deploy').status).toBe('ROLLBACK_FAILED');
    // Deleted with the stack: both clean.
    expect(destroy(mini()).status).toBe('DELETE_COMPLETE');
    // RetainExceptOnCreate: the rollback deletes it, the destroy keeps it (and so fails without a cleanup).
    expect(failedFirstCreate(mini('RetainExceptOnCreate'), 'Deploy').status).toBe('ROLLBACK_COMPLETE');
    expect(destroy(mini('RetainExceptOnCreate')).status).toBe('DELETE_FAILED');
    // Versions written outside CloudFormation block the profile even when CloudFormation deletes its own.
    expect(destroy(mini(), ['Profile']).status).toBe('DELETE_FAILED');
    // A cleanup that the versions depend on clears all of them before the profile.
    expect(destroy(mini('RetainExceptOnCreate', true), ['Profile']).status).toBe('DELETE_COMPLETE');
  });

  test('a custom resource whose provider is already gone cannot answer its Delete', () => {
    const t = mini('RetainExceptOnCreate', true);
    const graph = dependencyGraph(t);
    const world = new World(t);
    for (const id of ['App', 'Profile', 'Fn', 'Cleanup', 'Version']) world.create(id);
    world.delete('Fn', 'destroy', graph); // out of order: the provider first
    world.delete('Cleanup', 'destroy', graph);
    expect(world.failures).toEqual(['Cleanup (Custom::AiReleaseConfigVersions): its provider is gone (Fn)']);
    // In the template's order the cleanup goes before its provider.
    const log = destroy(t).world.log;
    expect(log.indexOf('delete Cleanup')).toBeLessThan(log.indexOf('delete Fn'));
    expect(log.indexOf('retain Version')).toBeLessThan(log.indexOf('delete Cleanup'));
    expect(log.indexOf('delete Cleanup')).toBeLessThan(log.indexOf('delete Profile'));
  });
});

describe('cdk destroy and the rollback of a failed first create, on the synthesized example app', () => {
  const t = Template.fromStack(new ExampleStack(testApp(), 'Example')).toJSON() as TemplateJson;
  const profiles = ofType(t, 'AWS::AppConfig::ConfigurationProfile');
  const degrade = profiles.filter((id) => id.includes('Degrade'));
  // The example's assigned config canary: its share controller writes a hosted version of this profile on every move.
  const share = profiles.filter((id) => id.includes('ConfigShare'));

  test('the template has what the scenario needs: profiles, hosted versions and their cleanups', () => {
    expect(profiles.length).toBeGreaterThanOrEqual(3);
    expect(degrade).toHaveLength(1);
    expect(share).toHaveLength(1);
    expect(ofType(t, 'AWS::AppConfig::HostedConfigurationVersion').length).toBeGreaterThanOrEqual(2);
  });

  test('destroy after the cost guard and the share controller wrote versions of their own: DELETE_COMPLETE, no profile or version left behind', () => {
    const { status, world } = destroy(t, [...degrade, ...share], 3);
    expect(world.failures).toEqual([]);
    expect(status).toBe('DELETE_COMPLETE');
    for (const p of profiles) expect({ profile: p, versions: [...(world.versions.get(p) ?? [])] }).toEqual({ profile: p, versions: [] });
    expect([...world.retained].filter((id) => t.Resources[id].Type === 'AWS::AppConfig::ConfigurationProfile')).toEqual([]);
  });

  test('a failed first create, whichever resource fails: ROLLBACK_COMPLETE, no hosted version left', () => {
    const bad: string[] = [];
    for (const failing of Object.keys(t.Resources)) {
      const { status, world } = failedFirstCreate(t, failing);
      const left = profiles.flatMap((p) => [...(world.versions.get(p) ?? [])]);
      if (status !== 'ROLLBACK_COMPLETE' || left.length > 0) bad.push(`${failing}: ${status} ${world.failures.join('; ')} ${left.join(', ')}`);
    }
    expect(bad).toEqual([]);
  });

  test('the config gate failing the first release (the config deployment custom resource) rolls back clean', () => {
    const [deployment] = ofType(t, 'Custom::AiReleaseConfigDeployment');
    expect(failedFirstCreate(t, deployment).status).toBe('ROLLBACK_COMPLETE');
  });
});

describe('versionHistoryRemovalPolicy', () => {
  const build = (policy?: RemovalPolicy) => {
    const stack = new Stack(testApp(), 'Cfg');
    new AiServiceConfig(stack, 'Cfg', {
      serviceName: 'svc',
      source: ReleaseConfigSource.fromObject(validConfig()),
      ...(policy ? { versionHistoryRemovalPolicy: policy } : {}),
    });
    return Template.fromStack(stack).toJSON() as TemplateJson;
  };

  test('RETAIN keeps the whole chain: versions and profiles outlive the stack, and the destroy completes', () => {
    const t = build(RemovalPolicy.RETAIN);
    expect(ofType(t, 'Custom::AiReleaseConfigVersions')).toEqual([]);
    const { status, world } = destroy(
      t,
      ofType(t, 'AWS::AppConfig::ConfigurationProfile').filter((id) => id.includes('Degrade')),
    );
    expect(status).toBe('DELETE_COMPLETE');
    expect(ofType(t, 'AWS::AppConfig::ConfigurationProfile').every((p) => world.retained.has(p))).toBe(true);
    // A failed first create then leaves the profiles and their versions behind (retained), without failing.
    const rolled = failedFirstCreate(t, ofType(t, 'Custom::AiReleaseConfigDeployment')[0]);
    expect(rolled.status).toBe('ROLLBACK_COMPLETE');
    expect(ofType(t, 'AWS::AppConfig::ConfigurationProfile').every((p) => rolled.world.retained.has(p))).toBe(true);
  });

  test('DESTROY and the default both clean up through ONE cleanup resource per service, naming both profiles', () => {
    for (const t of [build(), build(RemovalPolicy.DESTROY)]) {
      const cleanups = ofType(t, 'Custom::AiReleaseConfigVersions');
      expect(cleanups).toHaveLength(1);
      const profiles = ofType(t, 'AWS::AppConfig::ConfigurationProfile');
      const named = (t.Resources[cleanups[0]].Properties!.ConfigurationProfiles as { Ref: string }[]).map((p) => p.Ref);
      // Release config first (the physical id names them in this order), then the degrade flags.
      expect(named).toEqual([profiles.find((p) => p.includes('ReleaseConfigProfile')), profiles.find((p) => p.includes('DegradeProfile'))]);
      // Every hosted version of both profiles waits for it: it runs after their deletes and before the profiles'.
      for (const v of ofType(t, 'AWS::AppConfig::HostedConfigurationVersion')) expect([t.Resources[v].DependsOn].flat()).toContain(cleanups[0]);
      expect(destroy(t, profiles).status).toBe('DELETE_COMPLETE');
      expect(failedFirstCreate(t, ofType(t, 'Custom::AiReleaseConfigDeployment')[0]).status).toBe('ROLLBACK_COMPLETE');
    }
  });

  test("with applicationPerService the cleanup works in the service's own application, and the deployer may list and delete there", () => {
    const stack = new Stack(testApp(), 'Own');
    const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService: true });
    const r = new AiRelease(stack, 'R', {
      serviceName: 'svc',
      function: inlineFunction(stack),
      config: ReleaseConfigSource.fromObject(validConfig()),
      platform,
    });
    const t = Template.fromStack(stack).toJSON() as TemplateJson;
    const [cleanup] = ofType(t, 'Custom::AiReleaseConfigVersions');
    const own = stack.getLogicalId(r.config.application);
    expect(own).not.toBe(stack.getLogicalId(platform.application));
    expect(t.Resources[cleanup].Properties!.Application).toEqual({ Ref: own });
    const deployerRole = stack.getLogicalId(ReleaseConfigDeployment.deployerOf(platform).role!.node.defaultChild as never);
    const statements = ofType(t, 'AWS::IAM::Policy')
      .filter((id) => JSON.stringify(t.Resources[id].Properties!.Roles).includes(deployerRole))
      .flatMap((id) => (t.Resources[id].Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
    const cleanupGrant = statements.filter((st) => JSON.stringify(st.Action).includes('appconfig:DeleteHostedConfigurationVersion'));
    expect(cleanupGrant).toHaveLength(1);
    expect(JSON.stringify(cleanupGrant[0].Resource)).toContain(own);
    expect(JSON.stringify(cleanupGrant[0].Resource)).not.toContain(stack.getLogicalId(platform.application));
  });

  test('the model catches a cleanup that names only one of the two profiles', () => {
    const t = JSON.parse(JSON.stringify(build())) as TemplateJson;
    const [cleanup] = ofType(t, 'Custom::AiReleaseConfigVersions');
    const props = t.Resources[cleanup].Properties as { ConfigurationProfiles: unknown[] };
    props.ConfigurationProfiles = props.ConfigurationProfiles.slice(0, 1);
    const degrade = ofType(t, 'AWS::AppConfig::ConfigurationProfile').filter((id) => id.includes('Degrade'));
    const { status, world } = destroy(t, degrade);
    expect(status).toBe('DELETE_FAILED');
    expect(world.failures.join('\n')).toContain('Cannot delete configuration profile');
  });
});
