/**
 * Test helper: a synthesized template with concrete values substituted (account, region, partition, physical ids),
 * so its IAM policies can be evaluated by a policy simulator the way AWS would evaluate them after deployment.
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

type Json = any;

export interface ResolvedTemplate {
  readonly resources: Record<string, { Type: string; Properties?: Json }>;
  /** Resolves any template value (intrinsics included) to a concrete one. */
  resolve(value: Json): Json;
  /** The concrete ARN of a resource (its `Fn::GetAtt [id, Arn]`). */
  arnOf(logicalId: string): string;
}

/**
 * Resolves intrinsics with concrete values: pseudo parameters from the constants above, `Ref` of a resource to a
 * fake physical id derived from its logical id (an ARN for topics), `Fn::GetAtt [id, Arn]` to an ARN of the
 * resource's type (alarms by their resolved name, as CloudWatch forms it).
 */
export function resolveTemplate(template: Json, stackName: string): ResolvedTemplate {
  const resources: Record<string, { Type: string; Properties?: Json }> = template.Resources ?? {};
  const pseudo: Record<string, string> = {
    'AWS::Partition': PARTITION,
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::StackName': stackName,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const physicalId = (id: string) => `${id.toLowerCase()}`;
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id];
    const r = resources[id];
    if (!r) throw new Error(`Ref to unknown resource ${id}`);
    if (r.Type === 'AWS::SNS::Topic') return `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${physicalId(id)}`;
    if (r.Type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physicalId(id)}`;
    // An alias's Ref is its ARN: the function's, qualified by the alias name.
    if (r.Type === 'AWS::Lambda::Alias')
      return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${resolve(r.Properties?.FunctionName)}:${r.Properties?.Name}`;
    if (r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm') return resolve(r.Properties?.AlarmName) ?? physicalId(id);
    return physicalId(id);
  };
  const arnOf = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`GetAtt of unknown resource ${id}`);
    const p = physicalId(id);
    switch (r.Type) {
      case 'AWS::CloudWatch::Alarm':
      case 'AWS::CloudWatch::CompositeAlarm':
        return `arn:${PARTITION}:cloudwatch:${REGION}:${ACCOUNT}:alarm:${ref(id)}`;
      case 'AWS::Events::Rule':
        return `arn:${PARTITION}:events:${REGION}:${ACCOUNT}:rule/${p}`;
      case 'AWS::IAM::Role':
        return `arn:${PARTITION}:iam::${ACCOUNT}:role/${p}`;
      case 'AWS::Lambda::Function':
        return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${p}`;
      // Bucket ARNs carry neither region nor account.
      case 'AWS::S3::Bucket':
        return `arn:${PARTITION}:s3:::${p}`;
      case 'AWS::SQS::Queue':
        return `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${p}`;
      case 'AWS::SNS::Topic':
        return ref(id);
      case 'AWS::KMS::Key':
        return `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${p}`;
      default:
        return `arn:${PARTITION}:${r.Type.split('::')[1].toLowerCase()}:${REGION}:${ACCOUNT}:${p}`;
    }
  };
  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const a = v[k];
      if (k === 'Ref') return ref(a);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(a) ? a : String(a).split('.');
        if (attr === 'Arn') return arnOf(id);
        if (attr === 'QueueName' || attr === 'TopicName' || attr === 'Name') return physicalId(id);
        return `${physicalId(id)}.${attr}`;
      }
      if (k === 'Fn::Join') return (resolve(a[1]) as Json[]).map(String).join(a[0]);
      if (k === 'Fn::Select') return resolve(a[1])[Number(resolve(a[0]))];
      if (k === 'Fn::Split') return String(resolve(a[1])).split(a[0]);
      if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(a) ? a : [a, {}];
        return String(text).replace(/\$\{([^}]+)\}/g, (_m: string, name: string) => {
          if (vars && name in vars) return String(resolve(vars[name]));
          if (name.includes('.')) return String(resolve({ 'Fn::GetAtt': name.split('.') }));
          return ref(name);
        });
      }
    }
    return Object.fromEntries(keys.map((key) => [key, resolve(v[key])]));
  };
  return { resources, resolve, arnOf };
}

/** The identity policies (resolved) attached to a role: its inline `Policies` and every `AWS::IAM::Policy` on it. */
export function roleIdentityPolicies(t: ResolvedTemplate, roleLogicalId: string): { name: string; policy: Json }[] {
  const role = t.resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not a role`);
  const inline = ((role.Properties?.Policies ?? []) as Json[]).map((p) => ({ name: p.PolicyName, policy: t.resolve(p.PolicyDocument) }));
  const attached = Object.entries(t.resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles ?? []) as Json[]).some((x) => x?.Ref === roleLogicalId))
    .map(([id, r]) => ({ name: id, policy: t.resolve(r.Properties!.PolicyDocument) }));
  return [...inline, ...attached];
}

/** Managed policy ARNs on a role, resolved. */
export function roleManagedPolicies(t: ResolvedTemplate, roleLogicalId: string): string[] {
  return ((t.resources[roleLogicalId]?.Properties?.ManagedPolicyArns ?? []) as Json[]).map((a) => String(t.resolve(a)));
}

/** The role (logical id) a function runs as. */
export function functionRole(t: ResolvedTemplate, fnLogicalId: string): string {
  const role = t.resources[fnLogicalId]?.Properties?.Role;
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`function ${fnLogicalId} has no role from this template`);
  return id;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' | string;

/** Evaluates one request against identity policies and/or a resource policy with iam-simulate (test only, AGPL). */
export async function simulate(request: {
  principal: string;
  action: string;
  resource: string;
  identityPolicies?: { name: string; policy: Json }[];
  resourcePolicy?: Json;
  context?: Record<string, string | string[]>;
}): Promise<{ decision: Decision; errors?: unknown }> {
  const simulation = {
    identityPolicies: request.identityPolicies ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: request.context ?? {},
    },
  } as never;
  const out = await runSimulation(simulation, {});
  // The SAR data gives some resource types one ARN format (AppConfig's hostedconfigurationversion and
  // configurationprofile): the simulator cannot tell which is meant, yet the policy decision is the same for both.
  if (out.resultType === 'error' && (out.errors as { message?: string }).message === 'multiple.resource.types')
    return { decision: runUnsafeSimulation(simulation, {}) as string };
  if (out.resultType === 'error') return { decision: 'error', errors: out.errors };
  return { decision: out.overallResult };
}
