/**
 * Every logical id the library synthesizes, pinned. A changed logical id makes CloudFormation REPLACE the resource on
 * a user's next deploy (a new AppConfig profile loses its version history, a new S3 bucket its regression cases, a
 * new alarm its state), so a refactor of the constructs must keep every id; this test fails when one changes.
 *
 * Each fixture under test/fixtures/logical-ids/ lists, per stack of one app, the sorted `LogicalId Type` of every
 * resource and `Output <name>` of every output. Regenerating them is a deliberate act, for a change that adds,
 * removes or renames resources on purpose (say so in the commit and in the release notes):
 *
 *   UPDATE_LOGICAL_IDS=1 npx jest test/logical-ids.test.ts
 *
 * then review `git diff test/fixtures/logical-ids/`: every removed line is a resource users' stacks will lose or
 * replace.
 *
 * A refactor that must change nothing at all can compare whole templates too: `LOGICAL_IDS_DUMP=<dir>` writes every
 * synthesized template there (`<fixture>/<stack path>.json`); dump before and after, then `diff -r`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, NestedStack, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ExampleStack } from '../bin/example-stack';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';

const FIXTURES = path.join(__dirname, 'fixtures', 'logical-ids');
const UPDATE = process.env.UPDATE_LOGICAL_IDS === '1';
const DUMP = process.env.LOGICAL_IDS_DUMP;

/** `# <stack path>` then the sorted `LogicalId Type` and `Output <name>` lines of each stack (nested ones included). */
function listing(app: App, name: string): string {
  const assembly = app.synth();
  const stacks: Stack[] = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  const out: string[] = [];
  for (const s of stacks.sort((a, b) => a.node.path.localeCompare(b.node.path))) {
    const file = path.join(assembly.directory, s.templateFile);
    const template = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (DUMP) {
      fs.mkdirSync(path.join(DUMP, name), { recursive: true });
      fs.copyFileSync(file, path.join(DUMP, name, `${s.node.path.replace(/\//g, '+')}.json`));
    }
    const lines = [
      // A Lambda Version's id ends in a hash of the function's code and configuration: it is replaced on purpose
      // whenever the function changes (that is how CodeDeploy gets a new version), so only its stem is pinned.
      ...Object.entries(template.Resources ?? {}).map(([id, r]) => {
        const type = (r as { Type: string }).Type;
        return `${type === 'AWS::Lambda::Version' ? id.replace(/[0-9a-f]{32}$/, '<hash>') : id} ${type}`;
      }),
      ...Object.keys(template.Outputs ?? {}).map((name) => `Output ${name}`),
    ].sort();
    out.push(`# ${s.node.path} (${lines.length})`, ...lines, '');
  }
  return out.join('\n');
}

function expectListing(name: string, app: App) {
  const actual = listing(app, name);
  const file = path.join(FIXTURES, `${name}.txt`);
  if (UPDATE || !fs.existsSync(file)) {
    if (!UPDATE) throw new Error(`${file} is missing: run UPDATE_LOGICAL_IDS=1 npx jest test/logical-ids.test.ts and commit it`);
    fs.mkdirSync(FIXTURES, { recursive: true });
    fs.writeFileSync(file, actual);
  }
  const pinned = fs.readFileSync(file, 'utf8');
  // Compared as line sets first, so a failure names the ids that appeared and vanished rather than a long diff.
  const have = new Set(actual.split('\n'));
  const want = new Set(pinned.split('\n'));
  expect({ added: [...have].filter((l) => !want.has(l)), removed: [...want].filter((l) => !have.has(l)) }).toEqual({ added: [], removed: [] });
  expect(actual).toBe(pinned);
}

const EVALUATION = {
  version: 'eval-1',
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question.', floor: 3 }],
  samplingRate: 0.1,
  budget: { perReleaseUsd: 10, perDayUsd: 10 },
};

describe('logical ids are stable (a change replaces users’ resources)', () => {
  test('the example app', () => {
    const app = testApp();
    new ExampleStack(app, 'AiReleaseExample');
    expectListing('example-app', app);
  });

  test("the example app with alarms.layout 'perMetric': the ids of releases before the combined alarms, unchanged", () => {
    // example-app-per-metric.txt is example-app.txt as it was before the combined layout became the default (one alarm
    // per guardrail and the ConfigRollback composite): a team that sets 'perMetric' keeps every alarm and its state.
    const app = testApp();
    new ExampleStack(app, 'AiReleaseExample', { alarmLayout: 'perMetric' });
    expectListing('example-app-per-metric', app);
  });

  test('services in nested stacks, each with its platform, cost guard on', () => {
    const app = testApp();
    const parent = new Stack(app, 'Parent');
    for (const [id, prefix] of [
      ['Services', ''],
      ['More', 'more-'],
    ]) {
      const nested = new NestedStack(parent, id);
      new AiReleasePlatform(nested, 'Platform');
      for (const name of [`${prefix}alpha`, `${prefix}beta`]) {
        new AiRelease(nested, `${name}Release`, {
          serviceName: name,
          function: inlineFunction(nested, `${name}Fn`),
          config: ReleaseConfigSource.fromObject(validConfig()),
          costGuard: {},
        });
      }
    }
    expectListing('nested-stacks', app);
  });

  test('many services: one shared application, and one per service, with every option a construct branches on', () => {
    const app = testApp();
    // Shared application (the default): every default on, and the variants AiRelease and AiServiceConfig branch on.
    const shared = new Stack(app, 'Shared');
    const platform = new AiReleasePlatform(shared, 'Platform');
    const variants: Record<string, Partial<ConstructorParameters<typeof AiRelease>[2]>> = {
      defaults: {},
      traffic: { costGuard: {}, degrade: { disableTools: true } },
      assigned: { configCanary: 'assigned' },
      bare: {
        canaryJudge: false,
        releaseReview: false,
        snapshots: false,
        regressionGate: false,
        policyWaivers: [{ rule: 'regression-gate', reason: 'test of the bare wiring' }],
        grantBedrock: false,
        grantToolPermissions: false,
      },
      evaluated: { config: ReleaseConfigSource.fromObject({ ...validConfig(), evaluation: EVALUATION }) },
    };
    for (const [name, props] of Object.entries(variants)) {
      new AiRelease(shared, `${name}Release`, {
        serviceName: name,
        function: inlineFunction(shared, `${name}Fn`),
        config: ReleaseConfigSource.fromObject(validConfig()),
        platform,
        ...props,
      });
    }
    // Reviews in a bucket of the user's (one per platform): a stack and platform of their own.
    const reviewed = new Stack(app, 'OwnReviews');
    new AiRelease(reviewed, 'reviewedRelease', {
      serviceName: 'reviewed',
      function: inlineFunction(reviewed, 'reviewedFn'),
      config: ReleaseConfigSource.fromObject(validConfig()),
      reviewBucket: new s3.Bucket(reviewed, 'Reviews', { enforceSSL: true }),
    });
    // An application per service, the platform in its own stack and each service in a stack of its own.
    const platformStack = new Stack(app, 'Platform');
    const own = new AiReleasePlatform(platformStack, 'Platform', { applicationPerService: true });
    for (const name of ['one', 'two', 'three']) {
      const s = new Stack(app, `Svc-${name}`);
      const fn = new lambda.Function(s, 'Fn', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({})'),
        logGroup: new logs.LogGroup(s, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      });
      new AiRelease(s, 'Release', { serviceName: name, function: fn, config: ReleaseConfigSource.fromObject(validConfig()), platform: own });
    }
    expectListing('many-services', app);
  });
});
