import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NestedStack, Stack, Token } from 'aws-cdk-lib';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { namePrefix, PHYSICAL_NAME_RULES, type PhysicalNameKind, type PhysicalNameRule, physicalName, STACK_NAME_MAX } from '../lib/private/physical-names';
import { inlineFunction, testApp, validConfig } from './helpers';

type Json = any;

/**
 * Worst-case stand-in for a deploy-time value inside a name: the longest string the token can resolve to, made of
 * characters every name rule here accepts. A token whose length is not bounded fails the test.
 */
function worstCase(value: Json, resources: Record<string, Json>): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    if ('Ref' in value) {
      if (value.Ref === 'AWS::StackName') return 's'.repeat(STACK_NAME_MAX); // CreateStack: at most 128
      const type = resources[value.Ref]?.Type;
      if (type === 'AWS::Lambda::Function') return 'f'.repeat(64); // CreateFunction: a function name has at most 64
      throw new Error(`unbounded token in a name: ${JSON.stringify(value)} (${type})`);
    }
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return (parts as Json[]).map((p) => worstCase(p, resources)).join(sep);
    }
  }
  throw new Error(`unbounded token in a name: ${JSON.stringify(value)}`);
}

/** The values at a dotted property path; `*` walks every value of an object or array. */
function valuesAt(props: Json, pathParts: string[]): Json[] {
  if (props === undefined) return [];
  if (pathParts.length === 0) return [props];
  const [head, ...rest] = pathParts;
  if (head === '*') return Object.values(props ?? {}).flatMap((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => valuesAt(x, rest)));
  return valuesAt(props?.[head], rest);
}

interface Found {
  readonly file: string;
  readonly id: string;
  readonly kind: PhysicalNameKind;
  readonly raw: Json;
  readonly worst: string;
}

function namesIn(dir: string): Found[] {
  const out: Found[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    const resources: Record<string, Json> = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).Resources ?? {};
    for (const [id, r] of Object.entries(resources)) {
      for (const [kind, rule] of Object.entries(PHYSICAL_NAME_RULES) as [PhysicalNameKind, PhysicalNameRule][]) {
        if (r.Type !== rule.resourceType) continue;
        for (const raw of valuesAt(r.Properties, rule.property.split('.'))) out.push({ file, id, kind, raw, worst: worstCase(raw, resources) });
      }
    }
  }
  return out;
}

/** The names the library itself sets: each must be a literal (no token), in every template. */
const LIBRARY_SET: PhysicalNameKind[] = [
  'appConfigApplication',
  'appConfigEnvironment',
  'appConfigProfile',
  'appConfigStrategy',
  'appConfigExtension',
  'appConfigExtensionAction',
  'alarm',
  'compositeAlarm',
  'dashboard',
  'ssmParameter',
  'subscriptionFilter',
  'lambdaAlias',
];

function services(scope: Stack, names: string[]) {
  for (const name of names) {
    new AiRelease(scope, `${name}Release`, {
      serviceName: name,
      function: inlineFunction(scope, `${name}Fn`),
      config: ReleaseConfigSource.fromObject(validConfig()),
      costGuard: {},
    });
  }
}

describe('every physical name fits its service, in nested stacks under a long parent name', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'physical-names-'));
  const app = testApp(outdir);
  // The longest stack name CloudFormation takes, with a nested stack of a long id: the nested stack's deploy-time
  // name is `<parent>-<logical id>-<suffix>`, which is what `{Ref: AWS::StackName}` used to put into every name.
  const longest = `Team${'x'.repeat(STACK_NAME_MAX - 4)}`;
  const parent = new Stack(app, 'Parent', { stackName: longest });
  const nested = new NestedStack(parent, 'ServicesOfTheSupportOrganisation');
  new AiReleasePlatform(nested, 'Platform');
  // the longest service names (40 characters); one per release, as an app requires
  const forty = (c: string) => `s${c.repeat(39)}`;
  services(nested, ['alpha', forty('v')]);
  // a second nested stack whose platform is created on first use; and the parent itself with services
  services(new NestedStack(parent, 'More'), ['beta']);
  services(parent, ['gamma', forty('w')]);
  // and the many-services layout: a platform stack with an application per service, a service in a stack of its own
  const platformStack = new Stack(app, 'Platform', { stackName: `Ai${'p'.repeat(STACK_NAME_MAX - 2)}` });
  const shared = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
  const own = new Stack(app, 'Own', { stackName: `Svc${'o'.repeat(STACK_NAME_MAX - 3)}` });
  new AiRelease(own, 'Release', {
    serviceName: forty('o'),
    function: inlineFunction(own, 'Fn'),
    config: ReleaseConfigSource.fromObject(validConfig()),
    platform: shared,
  });
  app.synth();
  const found = namesIn(outdir);

  test('every name, worst case resolved, has the documented length and pattern of its service', () => {
    const bad = found
      .map((f) => ({ f, rule: PHYSICAL_NAME_RULES[f.kind] as PhysicalNameRule }))
      .filter(({ f, rule }) => f.worst.length < rule.minLength || f.worst.length > rule.maxLength || !rule.pattern.test(f.worst))
      .map(({ f, rule }) => `${f.file} ${f.id} ${rule.resourceType}.${rule.property} = ${JSON.stringify(f.raw)} (${f.worst.length} chars; ${rule.source})`);
    expect(bad).toEqual([]);
    // five templates (parent, two nested, platform, service), and every kind the library sets is among them
    expect(new Set(found.map((f) => f.file)).size).toBe(5);
    for (const kind of LIBRARY_SET) expect(found.some((f) => f.kind === kind)).toBe(true);
  });

  test('the names the library sets are literals (no deploy-time token), so none depends on how a token resolves', () => {
    const tokens = found.filter((f) => LIBRARY_SET.includes(f.kind) && typeof f.raw !== 'string' && f.kind !== 'appConfigExtensionAction');
    expect(tokens.map((f) => `${f.file} ${f.id} ${JSON.stringify(f.raw)}`)).toEqual([]);
  });

  test('names that must be unique in the account and Region are (extensions, alarms, dashboards, parameters)', () => {
    for (const kind of ['appConfigExtension', 'alarm', 'compositeAlarm', 'dashboard', 'ssmParameter'] as PhysicalNameKind[]) {
      const names = found.filter((f) => f.kind === kind).map((f) => f.worst);
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  test("a nested stack's alarms match the ARN pattern its topic and reviewer allow", () => {
    const prefix = namePrefix(nested);
    expect(prefix.length).toBeLessThanOrEqual(STACK_NAME_MAX);
    expect(Token.isUnresolved(prefix)).toBe(false);
    const alarms = found.filter((f) => f.kind === 'alarm' && f.file.includes('ServicesOfTheSupportOrganisation')).map((f) => f.worst);
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(a.startsWith(`${prefix}-`)).toBe(true);
  });
});

describe('physicalName', () => {
  test.each([
    // kind, parts, expected (a string, or a check of the cut)
    ['appConfigExtension', ['Shop', 'release-review'], 'Shop-release-review'],
    ['appConfigEnvironment', ['support-assistant', 'candidate'], 'support-assistant-candidate'],
    ['dashboard', ['Prod-Services', 'svc'], 'Prod-Services-svc'],
  ] as [PhysicalNameKind, string[], string][])('%s %j fits and is unchanged', (kind, parts, expected) => {
    expect(physicalName(kind, ...parts)).toBe(expected);
  });

  test('a long name is cut in its first part, keeps what the resource is, and ends that part in a hash of the whole', () => {
    const a = physicalName('appConfigExtension', 'A'.repeat(120), 'release-review');
    const b = physicalName('appConfigExtension', 'A'.repeat(120), 'config-gate-check');
    const c = physicalName('appConfigExtension', `${'A'.repeat(119)}B`, 'release-review');
    for (const n of [a, b, c]) expect(n.length).toBeLessThanOrEqual(64);
    expect(a).toMatch(/^A+-[0-9A-F]{8}-release-review$/);
    expect(b).toMatch(/-config-gate-check$/);
    // `.slice(0, 64)` made a and b one name (the first 64 characters of the stack name); and two long stack names
    // that differ only at their end differ here too
    expect(new Set([a, b, c]).size).toBe(3);
  });

  test('a tail too long for the limit is cut as a whole, with the hash', () => {
    const n = physicalName('appConfigExtension', 'S', 'x'.repeat(80));
    expect(n).toHaveLength(64);
    expect(n).toMatch(/-[0-9A-F]{8}$/);
  });

  test('a token is refused, and a character the service refuses is an error naming the rule', () => {
    const nestedName = new NestedStack(new Stack(testApp(), 'T'), 'N').stackName; // `{Ref: AWS::StackName}` at deploy
    expect(Token.isUnresolved(nestedName)).toBe(true);
    expect(() => physicalName('appConfigExtension', nestedName, 'release-review')).toThrow(/token/);
    expect(() => physicalName('appConfigExtension', 'a:b', 'c')).toThrow(/CreateExtension/);
    expect(() => physicalName('dashboard', 'a b')).toThrow(/PutDashboard/);
  });
});

describe('namePrefix', () => {
  test('a top-level stack keeps its name; a nested stack gets the top-level name and its ids; both at most 128', () => {
    const app = testApp();
    const top = new Stack(app, 'Top', { stackName: 'Prod' });
    expect(namePrefix(top)).toBe('Prod');
    const inner = new NestedStack(new NestedStack(top, 'Team A'), 'Svc');
    expect(namePrefix(inner)).toBe('Prod-Team-A-Svc');
    const long = new NestedStack(new Stack(app, 'L', { stackName: `L${'x'.repeat(127)}` }), 'Services');
    expect(namePrefix(long)).toHaveLength(STACK_NAME_MAX);
    expect(namePrefix(long)).toMatch(/-[0-9A-F]{8}$/);
  });
});
