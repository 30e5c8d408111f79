/**
 * The shared regression gate's role at 50 services (issue 15 E, h8-gate): one gate function per
 * SERVICES_PER_GATE_FUNCTION services of a platform, one role each, and IAM allows 10,240 characters of inline
 * policies per role in total (IAM quotas: "Role policy size ... 10,240 characters", the aggregate of its inline
 * policies; an AWS::IAM::Policy attached to it counts). Counts the characters of every policy attached to each gate
 * role, across every template, with deploy-time values replaced by realistic literals (bench/judge-policy-size.ts's
 * rendering), JSON without whitespace as IAM counts. Three layouts: flat (one stack), stacks (a platform stack and one
 * stack per service) and nested (one NestedStack per service); with and without an evaluation section (an evaluator
 * adds the service's live configuration to the role). Also the growth per service (2 services less 1, one function),
 * and how many services one role would hold at that growth.
 *
 * With `assigned` (h8-codepairs2), every service has an assigned config canary: the shared gate may also invoke each
 * service's share controller (the code canary's announcement), one more ARN per service. (At AppConfig's default quota of
 * 20 environments per application a platform holds 6 such services; the bench raises appConfigEnvironmentQuota.)
 *
 *   npx tsx bench/gate-policy-size.ts [services=50] [assigned]
 */
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { SERVICES_PER_GATE_FUNCTION } from '../lib/learning/regression-gate';
import { validConfig } from '../test/helpers';
import { largestRolePolicies, ROLE_POLICY_LIMIT } from './judge-policy-size';

type Layout = 'flat' | 'stacks' | 'nested';
const evaluation = {
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'groundedness', instructions: 'Every claim is supported by the retrieved passages.' }],
  samplingRate: 0.05,
  budget: { perReleaseUsd: 20, perDayUsd: 50 },
};

/** Every service with an assigned config canary (`assigned` on the command line). */
let assigned = false;

function service(scope: Construct, prefix: string, name: string, platform: AiReleasePlatform, evaluated: boolean) {
  const fn = new lambda.Function(scope, `${prefix}Fn`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, `${prefix}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
  });
  const config = evaluated ? { ...validConfig(), evaluation } : validConfig();
  return new AiRelease(scope, `${prefix}Release`, {
    serviceName: name,
    function: fn,
    config: ReleaseConfigSource.fromObject(config),
    platform,
    ...(assigned ? { configCanary: 'assigned' as const } : {}),
  });
}

/** Characters of each gate role's inline policies with `n` services: the largest role, its policies, and the roles. */
export function gateRolePolicyChars(n: number, layout: Layout, evaluated: boolean): { chars: number; policies: number; roles: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': 0 } });
  const top = new Stack(app, 'Services');
  // Assigned canaries put 3 environments each in the platform's application: at AppConfig's default quota (20) a
  // platform holds 6; the bench assumes a raised quota (appConfigEnvironmentQuota) to reach a full gate role.
  const platform = new AiReleasePlatform(top, 'Platform', { applicationPerService: true, ...(assigned ? { appConfigEnvironmentQuota: 3 * n + 2 } : {}) });
  for (let i = 0; i < n; i++) {
    const scope = layout === 'flat' ? top : layout === 'nested' ? new NestedStack(top, `Svc${i}`) : new Stack(app, `Svc${i}`);
    service(scope, layout === 'flat' ? `S${i}` : '', `svc-${i}`, platform, evaluated);
  }
  return largestRolePolicies(app.synth({ validateOnSynthesis: false }).directory, /RegressionGate(\d*)ServiceRole/);
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 50);
  assigned = process.argv.includes('assigned');
  for (const evaluated of [false, true]) {
    // An evaluated service must be in its platform's stack (lib/learning/release-evaluator.ts refuses it elsewhere).
    for (const layout of evaluated ? (['flat'] as const) : (['flat', 'stacks', 'nested'] as const)) {
      const t0 = Date.now();
      const one = gateRolePolicyChars(1, layout, evaluated).chars;
      const per = gateRolePolicyChars(2, layout, evaluated).chars - one;
      // A flat stack holds about 15 services (CloudFormation's 500 resources; bench/flat-stack.ts), and the review's map of
      // deployment groups refuses more than fit Lambda's 4 KB environment: flat is measured at 15 at most.
      const at = layout === 'flat' ? Math.min(n, 15) : n;
      const { chars, policies, roles } = gateRolePolicyChars(at, layout, evaluated);
      const holds = per > 0 ? 1 + Math.floor((ROLE_POLICY_LIMIT - one) / per) : Number.POSITIVE_INFINITY;
      console.log(
        `${n} services${assigned ? ' (assigned config canaries)' : ''}, ${layout}, ${evaluated ? 'with' : 'without'} an evaluator: ${roles} gate functions (${SERVICES_PER_GATE_FUNCTION} services each); ` +
          `one service ${one} characters, each more +${per}, so one role holds ${holds} services; ` +
          `at ${at}: the largest role's inline policies ${policies} policies, ${chars} characters of IAM's ${ROLE_POLICY_LIMIT} (${((100 * chars) / ROLE_POLICY_LIMIT).toFixed(0)} %), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  }
}
