/**
 * The canary judge's role at 50 services (issue 15 E, h7-shared): the platform's one judge function has one role, and
 * IAM allows 10,240 characters of inline policies per role in total (IAM quotas: "Role policy size ... 10,240
 * characters", the aggregate of its inline policies; AWS::IAM::Policy is an inline policy). Counts the characters of
 * every policy attached to that role, across every template, with each deploy-time value replaced by a realistic
 * literal: partition "aws", Region "eu-west-1", a 12-digit account, a 7-character AppConfig id, a 48-character log
 * group name (a CloudFormation-generated one: "<stack>-<logical id>-<12 random>"), other names 40. JSON without
 * whitespace, as IAM counts.
 *
 *   npx tsx bench/judge-policy-size.ts [services=50]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { validConfig } from '../test/helpers';

export const ROLE_POLICY_LIMIT = 10_240;

function service(scope: Construct, prefix: string, name: string, platform: AiReleasePlatform) {
  const fn = new lambda.Function(scope, `${prefix}Fn`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    logGroup: new logs.LogGroup(scope, `${prefix}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
  });
  return new AiRelease(scope, `${prefix}Release`, { serviceName: name, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform });
}

/** A stand-in of `value`'s deployed length for a token. */
function literal(token: unknown): string {
  const s = JSON.stringify(token);
  if (s === '{"Ref":"AWS::Partition"}') return 'aws';
  if (s === '{"Ref":"AWS::Region"}') return 'eu-west-1';
  if (s === '{"Ref":"AWS::AccountId"}') return '123456789012';
  if (/Logs|LogGroup/.test(s)) return 'x'.repeat(48);
  if (/Application|Environment|Profile/.test(s)) return 'abc1234';
  return 'x'.repeat(40);
}

export function render(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(render);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => (typeof p === 'string' ? p : String(render(p)))).join(sep);
    }
    if ('Ref' in o || 'Fn::GetAtt' in o || 'Fn::ImportValue' in o) return literal(o);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, render(x)]));
  }
  return v;
}

/**
 * Characters of each judge role's inline policies with `n` services (one judge function per
 * SERVICES_PER_JUDGE_FUNCTION services), one NestedStack each or flat in one stack: the largest role, and the count.
 */
export function judgeRolePolicyChars(n: number, layout: 'nested' | 'flat'): { chars: number; policies: number; roles: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:stackResourceLimit': 0 } });
  const top = new Stack(app, 'Services');
  const platform = new AiReleasePlatform(top, 'Platform', { applicationPerService: true });
  for (let i = 0; i < n; i++) service(layout === 'nested' ? new NestedStack(top, `Svc${i}`) : top, layout === 'nested' ? '' : `S${i}`, `svc-${i}`, platform);
  return largestRolePolicies(app.synth({ validateOnSynthesis: false }).directory, /CanaryJudge(\d*)ServiceRole/);
}

/**
 * The inline policies attached to each role whose name matches `role` (its group 1 tells the roles apart: '' is the
 * first), across every template of the assembly, rendered with literals and counted as IAM counts (JSON without
 * whitespace): the largest role, and how many roles matched. The parent names a role by Ref, a nested stack by the
 * parameter the parent passes it, another stack by an imported name: all are matched in the policy's `Roles`.
 */
export function largestRolePolicies(directory: string, role: RegExp): { chars: number; policies: number; roles: number } {
  const perRole = new Map<string, { chars: number; policies: number }>();
  for (const file of fs.readdirSync(directory).filter((f) => f.endsWith('.template.json'))) {
    const t = JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8'));
    for (const r of Object.values<any>(t.Resources ?? {})) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      const m = role.exec(JSON.stringify(r.Properties.Roles));
      if (!m) continue;
      const k = m[1] || '1';
      const v = perRole.get(k) ?? { chars: 0, policies: 0 };
      perRole.set(k, { chars: v.chars + JSON.stringify(render(r.Properties.PolicyDocument)).length, policies: v.policies + 1 });
    }
  }
  const worst = [...perRole.values()].sort((x, y) => y.chars - x.chars)[0];
  return { ...worst, roles: perRole.size };
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 50);
  for (const layout of ['flat', 'nested'] as const) {
    const t0 = Date.now();
    const { chars, policies, roles } = judgeRolePolicyChars(n, layout);
    console.log(
      `${n} services, ${layout}: ${roles} judge functions; the largest role's inline policies: ${policies} policies, ${chars} characters of IAM's ${ROLE_POLICY_LIMIT} (${((100 * chars) / ROLE_POLICY_LIMIT).toFixed(0)} %), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
}
