import { createHash } from 'node:crypto';
import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The physical-name rule of the library, one for every name it sets (issue 15 A1).
 *
 * A name is a literal known at synth, never a deploy-time token: `.slice()` cannot cut a token, and inside a nested
 * stack `{Ref: AWS::StackName}` resolves to `<parent>-<logical id>-<suffix>` (up to 128 characters), which broke
 * the 64-character AppConfig extension names. The literal is built from the stack's *name prefix* (the stack name of
 * a top-level stack, unchanged; for a nested stack, the top-level stack's name and the nested stacks' ids: unique in
 * the account and Region, as the top-level stack name is) and what the resource is, and when the whole is longer than
 * the service allows it is cut and ends in a hash of the uncut name, so two long names never collide.
 *
 * The same rule made AppConfig application names safe first (ai-release-platform.ts: the stack name when it is a
 * literal that fits, else a unique literal from the construct path); that older form is kept for the application so
 * deployed applications are not renamed.
 */
export interface PhysicalNameRule {
  /** CloudFormation resource type the name is a property of. */
  readonly resourceType: string;
  /** The property (dotted path for names inside a property, e.g. extension actions). */
  readonly property: string;
  readonly minLength: number;
  readonly maxLength: number;
  /** The documented pattern of the whole name. */
  readonly pattern: RegExp;
  /** Where the limits are documented. */
  readonly source: string;
}

const any = /^[\s\S]+$/;

/**
 * The documented length and pattern of every physical name the library sets, and of the names CloudFormation or
 * aws-cdk-lib set on the library's resources (checked in test/physical-names.test.ts over synthesized templates).
 * Sources are the service API references (the CloudFormation registry schemas cfn-lint ships agree).
 */
export const PHYSICAL_NAME_RULES = {
  appConfigApplication: {
    resourceType: 'AWS::AppConfig::Application',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: any,
    source: 'AppConfig API reference, CreateApplication: Name, length 1 to 64',
  },
  appConfigEnvironment: {
    resourceType: 'AWS::AppConfig::Environment',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: any,
    source: 'AppConfig API reference, CreateEnvironment: Name, length 1 to 64',
  },
  appConfigProfile: {
    resourceType: 'AWS::AppConfig::ConfigurationProfile',
    property: 'Name',
    minLength: 1,
    maxLength: 128,
    pattern: any,
    source: 'AppConfig API reference, CreateConfigurationProfile: Name, length 1 to 128',
  },
  appConfigStrategy: {
    resourceType: 'AWS::AppConfig::DeploymentStrategy',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: any,
    source: 'AppConfig API reference, CreateDeploymentStrategy: Name, length 1 to 64',
  },
  appConfigExtension: {
    resourceType: 'AWS::AppConfig::Extension',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: /^[^/#:\n]{1,64}$/,
    source: 'AppConfig API reference, CreateExtension: Name, pattern ^[^\\/#:\\n]{1,64}$; unique in the account',
  },
  appConfigExtensionAction: {
    resourceType: 'AWS::AppConfig::Extension',
    property: 'Actions.*.Name',
    minLength: 1,
    maxLength: 128,
    pattern: any,
    source: 'AppConfig API reference, Action: Name, length 1 to 128',
  },
  alarm: {
    resourceType: 'AWS::CloudWatch::Alarm',
    property: 'AlarmName',
    minLength: 1,
    maxLength: 255,
    pattern: any,
    source: 'CloudWatch API reference, PutMetricAlarm: AlarmName, length 1 to 255',
  },
  compositeAlarm: {
    resourceType: 'AWS::CloudWatch::CompositeAlarm',
    property: 'AlarmName',
    minLength: 1,
    maxLength: 255,
    pattern: any,
    source: 'CloudWatch API reference, PutCompositeAlarm: AlarmName, length 1 to 255',
  },
  dashboard: {
    resourceType: 'AWS::CloudWatch::Dashboard',
    property: 'DashboardName',
    minLength: 1,
    maxLength: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    source: 'CloudWatch API reference, PutDashboard: DashboardName, at most 255 of A-Z, a-z, 0-9, "-" and "_"',
  },
  ssmParameter: {
    resourceType: 'AWS::SSM::Parameter',
    property: 'Name',
    minLength: 1,
    // "The reported maximum length of 2048 characters for a parameter name includes 1037 characters that are reserved
    // for internal use": 1011 for the name itself.
    maxLength: 1011,
    // a-zA-Z0-9_.- and "/" between levels, at most 15 levels, not starting with aws or ssm.
    pattern: /^(?!\/?(aws|ssm))(\/[A-Za-z0-9_.-]+){1,15}$/i,
    source: 'Systems Manager API reference, PutParameter: Name (naming constraints; 2048 includes 1037 reserved; 15 levels)',
  },
  subscriptionFilter: {
    resourceType: 'AWS::Logs::SubscriptionFilter',
    property: 'FilterName',
    minLength: 1,
    maxLength: 512,
    pattern: /^[^:*]+$/,
    source: 'CloudWatch Logs API reference, PutSubscriptionFilter: filterName, length 1 to 512, pattern [^:*]*',
  },
  lambdaAlias: {
    resourceType: 'AWS::Lambda::Alias',
    property: 'Name',
    minLength: 1,
    maxLength: 128,
    pattern: /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/,
    source: 'Lambda API reference, CreateAlias: Name, length 1 to 128, pattern (?!^[0-9]+$)([a-zA-Z0-9-_]+)',
  },
  // Names the library leaves to CloudFormation (it sets none of them); checked where a template has one.
  eventRule: {
    resourceType: 'AWS::Events::Rule',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: /^[.\-_A-Za-z0-9]+$/,
    source: 'EventBridge API reference, PutRule: Name, length 1 to 64, pattern [\\.\\-_A-Za-z0-9]+',
  },
  lambdaFunction: {
    resourceType: 'AWS::Lambda::Function',
    property: 'FunctionName',
    minLength: 1,
    maxLength: 64,
    pattern: /^[a-zA-Z0-9-_]+$/,
    source: 'Lambda API reference, CreateFunction: FunctionName, the name alone at most 64 characters',
  },
  role: {
    resourceType: 'AWS::IAM::Role',
    property: 'RoleName',
    minLength: 1,
    maxLength: 64,
    pattern: /^[\w+=,.@-]+$/,
    source: 'IAM API reference, CreateRole: RoleName, length 1 to 64, pattern [\\w+=,.@-]+',
  },
  policy: {
    resourceType: 'AWS::IAM::Policy',
    property: 'PolicyName',
    minLength: 1,
    maxLength: 128,
    pattern: /^[\w+=,.@-]+$/,
    source: 'IAM API reference, PutRolePolicy: PolicyName, length 1 to 128, pattern [\\w+=,.@-]+',
  },
  bucket: {
    resourceType: 'AWS::S3::Bucket',
    property: 'BucketName',
    minLength: 3,
    maxLength: 63,
    pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    source: 'S3 user guide, general purpose bucket naming rules: 3 to 63 characters, a-z 0-9 . -',
  },
  topic: {
    resourceType: 'AWS::SNS::Topic',
    property: 'TopicName',
    minLength: 1,
    maxLength: 256,
    pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
    source: 'SNS API reference, CreateTopic: Name, up to 256 of A-Z, a-z, 0-9, "-" and "_"',
  },
  queue: {
    resourceType: 'AWS::SQS::Queue',
    property: 'QueueName',
    minLength: 1,
    maxLength: 80,
    pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
    source: 'SQS API reference, CreateQueue: QueueName, up to 80 of A-Z, a-z, 0-9, "-" and "_"',
  },
  logGroup: {
    resourceType: 'AWS::Logs::LogGroup',
    property: 'LogGroupName',
    minLength: 1,
    maxLength: 512,
    pattern: /^[.\-_/#A-Za-z0-9]+$/,
    source: 'CloudWatch Logs API reference, CreateLogGroup: logGroupName, length 1 to 512, pattern [\\.\\-_/#A-Za-z0-9]+',
  },
  logRetention: {
    resourceType: 'Custom::LogRetention',
    property: 'LogGroupName',
    minLength: 1,
    maxLength: 512,
    pattern: /^[.\-_/#A-Za-z0-9]+$/,
    source: 'CloudWatch Logs API reference, CreateLogGroup: logGroupName (aws-cdk-lib LogRetention names a log group)',
  },
  rule: {
    resourceType: 'AWS::Events::Rule',
    property: 'Name',
    minLength: 1,
    maxLength: 64,
    pattern: /^[.\-_A-Za-z0-9]+$/,
    source: 'EventBridge API reference, PutRule: Name, length 1 to 64, pattern [\\.\\-_A-Za-z0-9]+',
  },
  codeDeployApplication: {
    resourceType: 'AWS::CodeDeploy::Application',
    property: 'ApplicationName',
    minLength: 1,
    maxLength: 100,
    pattern: any,
    source: 'CodeDeploy API reference, CreateApplication: applicationName, length 1 to 100',
  },
  codeDeployGroup: {
    resourceType: 'AWS::CodeDeploy::DeploymentGroup',
    property: 'DeploymentGroupName',
    minLength: 1,
    maxLength: 100,
    pattern: any,
    source: 'CodeDeploy API reference, CreateDeploymentGroup: deploymentGroupName, length 1 to 100',
  },
  kmsAlias: {
    resourceType: 'AWS::KMS::Alias',
    property: 'AliasName',
    minLength: 1,
    maxLength: 256,
    pattern: /^alias\/[a-zA-Z0-9/_-]+$/,
    source: 'KMS API reference, CreateAlias: AliasName, length 1 to 256, pattern alias/[a-zA-Z0-9/_-]+',
  },
} as const satisfies Record<string, PhysicalNameRule>;

export type PhysicalNameKind = keyof typeof PHYSICAL_NAME_RULES;

/**
 * The longest a stack name can be: "A stack name can contain only alphanumeric characters (case-sensitive) and
 * hyphens. It must start with an alphabetic character and can't be longer than 128 characters" (CloudFormation API
 * reference, CreateStack: StackName). A nested stack's generated name is kept within it.
 */
export const STACK_NAME_MAX = 128;

const HASH_LENGTH = 8;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH).toUpperCase();
}

/**
 * The literal every name of a stack's resources starts with: the stack name for a top-level stack (unchanged, a
 * literal), and for a nested stack the top-level stack's name and the nested stacks' construct ids joined by "-"
 * (characters a stack name may not hold become "-"). At most 128 characters, a stack name's limit, cut with a hash.
 */
export function namePrefix(scope: IConstruct): string {
  const parts: string[] = [];
  let stack = Stack.of(scope);
  while (stack.nestedStackParent) {
    parts.unshift(stack.node.id);
    stack = stack.nestedStackParent;
  }
  if (Token.isUnresolved(stack.stackName)) {
    throw new Error(
      `the name of stack ${stack.node.path} is a deploy-time token; cdk-ai-release names its resources from the stack name: give the stack a literal stackName`,
    );
  }
  parts.unshift(stack.stackName);
  const full = parts.map((p) => p.replace(/[^A-Za-z0-9-]/g, '-')).join('-');
  return full.length <= STACK_NAME_MAX ? full : `${full.slice(0, STACK_NAME_MAX - HASH_LENGTH - 1)}-${hash(full)}`;
}

/**
 * A physical name of `kind` from its parts joined by "-": unchanged when it fits the service's limit; else the first
 * part (the stack's prefix) is cut and a hash of the whole name follows it, so the parts that say what the resource
 * is stay readable; and when even those are too long, the name is cut and ends in the hash. Throws on a token.
 */
export function physicalName(kind: PhysicalNameKind, ...parts: string[]): string {
  const rule: PhysicalNameRule = PHYSICAL_NAME_RULES[kind];
  const full = parts.join('-');
  if (Token.isUnresolved(full)) {
    throw new Error(`internal: the ${rule.resourceType} ${rule.property} "${full}" holds a deploy-time token; physical names must be literals`);
  }
  if (full.length <= rule.maxLength) return check(rule, full);
  const h = hash(full);
  const [head, ...rest] = parts;
  const tail = rest.join('-');
  const room = rule.maxLength - tail.length - h.length - 2;
  if (rest.length > 0 && room >= 1) return check(rule, `${head.slice(0, room)}-${h}-${tail}`);
  return check(rule, `${full.slice(0, rule.maxLength - h.length - 1)}-${h}`);
}

/**
 * `prefix` when it has at most `max` characters, else its first `max - 9` and a hash of the whole: a short, stable
 * literal that starts names an ARN pattern can match (`<short>-…-*`).
 */
export function shortPrefix(prefix: string, max: number): string {
  return prefix.length <= max ? prefix : `${prefix.slice(0, max - HASH_LENGTH - 1)}-${hash(prefix)}`;
}

/** Throws unless `name` fits the documented length and pattern of `kind` (see PHYSICAL_NAME_RULES). */
export function checkedName(kind: PhysicalNameKind, name: string): string {
  return check(PHYSICAL_NAME_RULES[kind], name);
}

function check(rule: PhysicalNameRule, name: string): string {
  if (name.length < rule.minLength || name.length > rule.maxLength || !rule.pattern.test(name)) {
    throw new Error(`${rule.resourceType} ${rule.property} "${name}" does not fit ${rule.source}; rename the construct or service it comes from`);
  }
  return name;
}
