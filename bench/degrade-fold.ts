/**
 * What folding a service's degrade deployment (`Config/DegradeDeployment…`, AWS::AppConfig::Deployment) into its
 * release config's `Rollout` custom resource would save, measured without building it (h9-schedule, item 3): 15
 * services of the example config in one flat stack with this repository's cdk.json flags, as shipped, and with the
 * fold simulated — each service's DegradeDeployment removed from the tree and the grants the config deployer would
 * then need added to its (shared) role: StartDeployment on the degrade environment and profile, Get/List/Stop on the
 * degrade environment's deployments. Prints resources, the deployer role's overflow managed policies and the
 * characters of its inline policy, for n services.
 *
 *   npx tsx bench/degrade-fold.ts [n=15]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { ReleaseConfigDeployment } from '../lib/rollout/config-deployment';

const n = Number(process.argv[2] ?? 15);
const flags = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context as Record<string, unknown>;
const exampleConfig = path.join(__dirname, '..', 'example/support-assistant/release-config');

function measure(fold: boolean) {
  // The 500-resource check off (0), so a count above it is printed rather than refused.
  const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': 0 } });
  const stack = new Stack(app, 'Flat');
  const platform = new AiReleasePlatform(stack, 'Platform', { applicationPerService: true });
  const deployer = ReleaseConfigDeployment.deployerOf(platform);
  for (let i = 0; i < n; i++) {
    const fn = new lambda.Function(stack, `S${i}Fn`, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      logGroup: new logs.LogGroup(stack, `S${i}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
    });
    const r = new AiRelease(stack, `S${i}Release`, {
      serviceName: `svc-${i}`,
      function: fn,
      config: ReleaseConfigSource.fromDirectory(exampleConfig),
      platform,
    });
    if (!fold) continue;
    const c = r.config;
    if (!c.node.tryRemoveChild(c.degradeDeployment.node.id)) throw new Error('no DegradeDeployment to remove');
    const arn = (name: string) =>
      stack.formatArn({ service: 'appconfig', resource: 'application', resourceName: `${c.applicationId}${name}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const env = arn(`/environment/${c.degradeEnvironment.ref}`);
    // The application ARN and the instant strategy are granted already (the release config's StartDeployment).
    deployer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['appconfig:StartDeployment'], resources: [env, arn(`/configurationprofile/${c.degradeProfile.ref}`)] }),
    );
    deployer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:GetDeployment', 'appconfig:StopDeployment', 'appconfig:ListDeployments'],
        resources: [env, `${env}/deployment/*`],
      }),
    );
  }
  const template = app.synth().getStackByName('Flat').template as { Resources: Record<string, { Type: string; Properties?: any }> };
  const resources = Object.entries(template.Resources);
  const roleId = stack.getLogicalId(deployer.role!.node.defaultChild as never);
  const onRole = resources.filter(([, r]) => JSON.stringify(r.Properties?.Roles ?? []).includes(roleId));
  const overflow = resources.filter(
    ([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties?.Roles ?? []).includes(roleId) && /Overflow/.test(id),
  );
  const inline = onRole.filter(([, r]) => r.Type === 'AWS::IAM::Policy').reduce((s, [, r]) => s + JSON.stringify(r.Properties.PolicyDocument).length, 0);
  const deployments = resources.filter(([, r]) => r.Type === 'AWS::AppConfig::Deployment').length;
  return { resources: resources.length, deployments, overflow: overflow.length, inlineChars: inline };
}

for (const fold of [false, true]) {
  const m = measure(fold);
  console.log(
    `${n} example services, cdk.json flags, ${fold ? 'degrade deployment folded (simulated)' : 'as shipped'}: ${m.resources} resources, ` +
      `${m.deployments} AWS::AppConfig::Deployment, config deployer role: ${m.overflow} overflow managed policies, ${m.inlineChars} characters of inline policy (JSON, unresolved)`,
  );
}
