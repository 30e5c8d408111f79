import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { BedrockClient, GetFoundationModelCommand, ListFoundationModelsCommand, ResourceNotFoundException } from '@aws-sdk/client-bedrock';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AiRelease,
  AiServiceConfig,
  BUNDLED_MODEL_LIFECYCLE,
  checkModelLifecycle,
  checkModels,
  DEFAULT_POLICY_RULES,
  evaluatePolicy,
  LIFECYCLE_TODAY_CONTEXT,
  type ModelLifecycleTable,
  parseDay,
  ReleaseConfigSource,
  type ReleaseFacts,
  resolveModelId,
  RULE_MODEL_LIFECYCLE,
} from '../lib';
import { inlineFunction, tempDir, validConfig } from './helpers';

const HAIKU_35 = 'anthropic.claude-3-5-haiku-20241022-v1:0'; // EOL 2026-06-19
const HAIKU_45 = 'anthropic.claude-haiku-4-5-20251001-v1:0'; // profile-only
const day = (d: string) => parseDay(d);
const check = (modelId: string, today: string, role: 'primary' | 'fallback' = 'primary') => checkModels([{ modelId, role }], { today: day(today) });

describe('the bundled table', () => {
  test('states the date it was taken, and its dates are dates', () => {
    expect(() => parseDay(BUNDLED_MODEL_LIFECYCLE.takenOn)).not.toThrow();
    for (const [id, e] of Object.entries(BUNDLED_MODEL_LIFECYCLE.models)) {
      for (const d of [e.legacyOn, e.publicExtendedAccessOn, e.endOfLifeOn, e.eolNoSoonerThan]) if (d) expect(() => parseDay(d)).not.toThrow();
      // a replacement is itself in the table, so its own advice (profile-only…) can be given
      if (e.replacement) expect(BUNDLED_MODEL_LIFECYCLE.models[e.replacement]).toBeDefined();
      // keys are bare ids: a profile prefix in a key would never be looked up
      expect(resolveModelId(id).kind).toBe('foundation-model');
    }
    expect(BUNDLED_MODEL_LIFECYCLE.models[HAIKU_35].endOfLifeOn).toBe('2026-06-19');
  });

  test('ships in the package: the build compiles lib/**, which imports the file, and "files" takes dist/lib', () => {
    const build = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tsconfig.build.json'), 'utf8'));
    expect(build.include).toContain('lib/**/*.ts');
    expect(fs.readFileSync(path.join(__dirname, '..', 'lib', 'config', 'model-lifecycle.ts'), 'utf8')).toContain("from './data/bedrock-model-lifecycle.json'");
    expect(require('../package.json').files).toContain('dist/lib');
  });
});

describe('ids map to their model', () => {
  test.each([
    [HAIKU_45, HAIKU_45, 'foundation-model', undefined],
    [`us.${HAIKU_45}`, HAIKU_45, 'inference-profile', 'us'],
    [`global.${HAIKU_45}`, HAIKU_45, 'inference-profile', 'global'],
    [`apac.${HAIKU_45}`, HAIKU_45, 'inference-profile', 'apac'],
    [`arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.${HAIKU_45}`, HAIKU_45, 'inference-profile', 'eu'],
    [`arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_35}`, HAIKU_35, 'foundation-model', undefined],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0:200k', 'anthropic.claude-3-5-sonnet-20240620-v1:0', 'foundation-model', undefined],
    ['amazon.nova-micro-v1:0', 'amazon.nova-micro-v1:0', 'foundation-model', undefined],
  ])('%s → %s', (id, base, kind, prefix) => {
    expect(resolveModelId(id)).toEqual({ baseModelId: base, kind, ...(prefix ? { profilePrefix: prefix } : {}) });
  });

  test('application inference profiles and provisioned models name no model', () => {
    expect(resolveModelId('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcd1234').baseModelId).toBeUndefined();
    expect(resolveModelId('arn:aws:bedrock:us-east-1:123456789012:provisioned-model/xyz').baseModelId).toBeUndefined();
  });
});

describe('checkModels', () => {
  test('past end of life: an error naming the date and the replacement', () => {
    const [f] = check(HAIKU_35, '2026-11-27');
    expect(f).toMatchObject({ code: 'past-end-of-life', severity: 'error', endOfLifeOn: '2026-06-19', daysLeft: -161 });
    expect(f.message).toContain('reached end of life on 2026-06-19');
    expect(f.fix).toBe(`move to ${HAIKU_45} (through an inference profile)`);
    expect(f.source).toBe(`bundled table of ${BUNDLED_MODEL_LIFECYCLE.takenOn}`);
  });

  test('the end-of-life day itself is past', () => {
    expect(check(HAIKU_35, '2026-06-19')[0]).toMatchObject({ code: 'past-end-of-life', daysLeft: 0 });
  });

  test.each([
    ['2026-06-18', 'near-end-of-life', 1],
    ['2026-05-01', 'near-end-of-life', 49],
    ['2026-04-20', 'near-end-of-life', 60],
    ['2026-04-19', 'ok', 61],
  ])('on %s: %s (%i days left)', (today, code) => {
    expect(check(HAIKU_35, today)[0].code).toBe(code);
  });

  test('the warning window is a parameter', () => {
    expect(checkModels([{ modelId: HAIKU_35, role: 'primary' }], { today: day('2026-03-01'), warnDays: 120 })[0]).toMatchObject({
      code: 'near-end-of-life',
      daysLeft: 110,
    });
  });

  test('a profile id of an end-of-life model is past end of life too (the profile maps to the model)', () => {
    expect(check(`us.${HAIKU_35}`, '2026-11-27')[0].code).toBe('past-end-of-life');
    expect(check(`arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_35}`, '2026-11-27')[0].code).toBe('past-end-of-life');
  });

  test('a profile-only model by its bare id: a warning with the profile ids as the fix', () => {
    const [f] = check(HAIKU_45, '2026-11-27', 'fallback');
    expect(f).toMatchObject({ code: 'profile-only-bare-id', severity: 'warning', role: 'fallback' });
    expect(f.fix).toContain(`us.${HAIKU_45}, eu.${HAIKU_45}, global.${HAIKU_45}`);
    // its foundation-model ARN is the bare id too
    expect(check(`arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_45}`, '2026-11-27')[0].code).toBe('profile-only-bare-id');
  });

  test.each([`us.${HAIKU_45}`, `global.${HAIKU_45}`, `arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.${HAIKU_45}`])(
    'the same model through a profile is fine: %s',
    (id) => {
      expect(check(id, '2026-11-27')).toEqual([expect.objectContaining({ code: 'ok', severity: 'ok', baseModelId: HAIKU_45 })]);
    },
  );

  test('a model the table does not know: no alarm, a note saying so', () => {
    const findings = check('acme.brand-new-model-v1:0', '2026-11-27');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: 'not-in-table', severity: 'note' });
    expect(findings[0].message).toContain('no lifecycle alarm raised');
  });

  test('a Legacy model with a far end of life is a note, not a warning', () => {
    const table: ModelLifecycleTable = {
      takenOn: '2026-01-01',
      models: { 'acme.old-v1:0': { status: 'LEGACY', legacyOn: '2025-12-01', endOfLifeOn: '2026-12-01', replacement: 'acme.new-v2:0' }, 'acme.new-v2:0': {} },
    };
    const [f] = checkModels([{ modelId: 'acme.old-v1:0', role: 'primary' }], { today: day('2026-01-01'), table });
    expect(f).toMatchObject({ code: 'legacy', severity: 'note', fix: 'move to acme.new-v2:0' });
  });

  test('a date that is not a date is refused with the format', () => {
    expect(() => parseDay('2026-02-30')).toThrow('"2026-02-30" is not a date; write it as YYYY-MM-DD');
    expect(() => parseDay('27.11.2026')).toThrow('is not a date');
  });
});

describe('at synth', () => {
  function service(config: Record<string, any>, today?: string, props: Record<string, unknown> = {}) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...(today ? { [LIFECYCLE_TODAY_CONTEXT]: today } : {}) } });
    const stack = new Stack(app, 'S');
    const svc = new AiServiceConfig(stack, 'Cfg', { serviceName: 'svc', source: ReleaseConfigSource.fromObject(config), ...props });
    return { stack, svc, annotations: () => Annotations.fromStack(stack) };
  }
  const warnings = (a: Annotations, id: string) => a.findWarning('/S/Cfg', Match.stringLikeRegexp(id));

  test('a past-EOL primary is a warning with a stable id, the date and the fix', () => {
    const { svc, annotations } = service(validConfig(), '2026-11-27');
    const found = warnings(annotations(), 'cdk-ai-release:model-past-end-of-life');
    expect(found).toHaveLength(1);
    expect(String(found[0].entry.data)).toMatch(
      /primary model anthropic\.claude-3-5-haiku-20241022-v1:0 of service svc .* reached end of life on 2026-06-19.*move to anthropic\.claude-haiku-4-5/,
    );
    expect(svc.modelFindings.map((f) => [f.role, f.code])).toEqual([
      ['primary', 'past-end-of-life'],
      ['fallback', 'ok'],
    ]);
  });

  test('"today" comes from the context, and the construct prop wins over it', () => {
    expect(warnings(service(validConfig(), '2026-03-01').annotations(), 'cdk-ai-release:model-')).toHaveLength(0);
    expect(warnings(service(validConfig(), '2026-05-01').annotations(), 'cdk-ai-release:model-near-end-of-life')).toHaveLength(1);
    const pinned = service(validConfig(), '2026-11-27', { modelLifecycle: { today: day('2026-03-01') } });
    expect(warnings(pinned.annotations(), 'cdk-ai-release:model-')).toHaveLength(0);
  });

  test('a profile-only fallback by its bare id is a warning naming the profile ids', () => {
    const config = validConfig();
    config.model.modelId = `us.${HAIKU_45}`;
    config.model.fallback.modelId = HAIKU_45;
    const found = warnings(service(config, '2026-11-27').annotations(), 'cdk-ai-release:model-profile-only-bare-id');
    expect(found).toHaveLength(1);
    expect(String(found[0].entry.data)).toContain(`fallback model ${HAIKU_45}`);
    expect(String(found[0].entry.data)).toContain(`us.${HAIKU_45}`);
  });

  test('an unknown model: an info line, no warning', () => {
    const config = validConfig();
    config.model.modelId = 'acme.brand-new-model-v1:0';
    const { annotations } = service(config, '2026-11-27');
    expect(warnings(annotations(), 'cdk-ai-release:model-')).toHaveLength(0);
    expect(annotations().findInfo('/S/Cfg', Match.stringLikeRegexp('cdk-ai-release:model-not-in-table'))).toHaveLength(1);
  });

  test('a bad context date names the key', () => {
    expect(() => service(validConfig(), 'yesterday')).toThrow(`context ${LIFECYCLE_TODAY_CONTEXT}: "yesterday" is not a date`);
  });
});

describe('the release policy rule', () => {
  const facts = (models: ReleaseFacts['models']) => ({ models }) as unknown as ReleaseFacts;

  test('turns lifecycle warnings into violations; notes and ok pass', () => {
    const findings = [...check(HAIKU_35, '2026-11-27'), ...check(HAIKU_45, '2026-11-27', 'fallback'), ...check('acme.new-v1:0', '2026-11-27')];
    const messages = RULE_MODEL_LIFECYCLE.check(facts(findings));
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/reached end of life on 2026-06-19: Bedrock refuses calls to it; move to /);
    expect(messages[1]).toMatch(/callable only through an inference profile; .*; name an inference profile instead/);
    expect(RULE_MODEL_LIFECYCLE.check(facts(check(`us.${HAIKU_45}`, '2026-11-27')))).toEqual([]);
    expect(RULE_MODEL_LIFECYCLE.check(facts(undefined))).toEqual([]);
  });

  test('is not a default rule (opt in), and can be waived with a reason', () => {
    expect(DEFAULT_POLICY_RULES).not.toContain(RULE_MODEL_LIFECYCLE);
    const result = evaluatePolicy(
      { ...facts(check(HAIKU_35, '2026-11-27')), waivers: [{ rule: RULE_MODEL_LIFECYCLE.id, reason: 'migration scheduled in ticket OPS-1234' }] },
      [RULE_MODEL_LIFECYCLE],
    );
    expect(result.violations).toEqual([]);
    expect(result.waived.map((w) => w.rule)).toEqual(['models-within-lifecycle']);
  });

  test('in an AiRelease: synth fails with the rule, passes without it', () => {
    const build = (rules?: boolean) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [LIFECYCLE_TODAY_CONTEXT]: '2026-11-27' } });
      const stack = new Stack(app, 'Rel');
      const r = new AiRelease(stack, 'Assistant', {
        serviceName: 'assistant',
        function: inlineFunction(stack),
        config: ReleaseConfigSource.fromObject(validConfig()),
        ...(rules ? { policyRules: [...DEFAULT_POLICY_RULES, RULE_MODEL_LIFECYCLE] } : {}),
      });
      return { app, r };
    };
    const strict = build(true);
    expect(strict.r.facts.models?.map((m) => m.code)).toEqual(['past-end-of-life', 'ok']);
    expect(() => strict.app.synth()).toThrow(/release policy "models-within-lifecycle" \(service assistant\): primary model anthropic\.claude-3-5-haiku/);
    expect(() => build(false).app.synth()).not.toThrow();
  });
});

describe('online refresh (ListFoundationModels / GetFoundationModel, mocked)', () => {
  const bedrock = mockClient(BedrockClient);
  beforeEach(() => bedrock.reset());
  afterAll(() => bedrock.restore());
  const client = () => new BedrockClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

  test('Bedrock lifecycle fields replace the bundled entry: LEGACY with an end of life 30 days out is a warning', async () => {
    bedrock.on(ListFoundationModelsCommand).resolves({
      modelSummaries: [
        {
          modelId: HAIKU_45,
          modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_45}`,
          inferenceTypesSupported: ['INFERENCE_PROFILE' as any],
          modelLifecycle: { status: 'LEGACY', legacyTime: new Date('2026-06-01T00:00:00Z'), endOfLifeTime: new Date('2026-12-27T00:00:00Z') },
        },
        { modelId: 'amazon.nova-micro-v1:0', modelArn: 'x', inferenceTypesSupported: ['ON_DEMAND'], modelLifecycle: { status: 'ACTIVE' } },
      ],
    });
    const report = await checkModelLifecycle(
      [
        { modelId: `us.${HAIKU_45}`, role: 'primary' },
        { modelId: 'amazon.nova-micro-v1:0', role: 'fallback' },
      ],
      { client: client(), today: day('2026-11-27') },
    );
    expect(report.refreshed).toBe(true);
    expect(report.findings[0]).toMatchObject({
      code: 'near-end-of-life',
      daysLeft: 30,
      status: 'LEGACY',
      endOfLifeOn: '2026-12-27',
      source: 'Bedrock API on 2026-11-27',
    });
    expect(report.findings[1]).toMatchObject({ code: 'ok', status: 'ACTIVE' });
    expect(bedrock.commandCalls(GetFoundationModelCommand)).toHaveLength(0); // the list had both
  });

  test('profile-only comes from inferenceTypesSupported without ON_DEMAND', async () => {
    bedrock.on(ListFoundationModelsCommand).resolves({
      modelSummaries: [
        { modelId: 'acme.profile-only-v1:0', modelArn: 'x', inferenceTypesSupported: ['INFERENCE_PROFILE' as any], modelLifecycle: { status: 'ACTIVE' } },
      ],
    });
    const report = await checkModelLifecycle([{ modelId: 'acme.profile-only-v1:0', role: 'primary' }], { client: client(), today: day('2026-11-27') });
    expect(report.findings[0].code).toBe('profile-only-bare-id');
  });

  test('a model missing from the list is asked for; one Bedrock does not know is a warning', async () => {
    bedrock.on(ListFoundationModelsCommand).resolves({ modelSummaries: [] });
    bedrock
      .on(GetFoundationModelCommand, { modelIdentifier: HAIKU_35 })
      .resolves({
        modelDetails: { modelId: HAIKU_35, modelArn: 'x', modelLifecycle: { status: 'LEGACY', endOfLifeTime: new Date('2026-06-19T00:00:00Z') } },
      })
      .on(GetFoundationModelCommand, { modelIdentifier: 'acme.gone-v1:0' })
      .rejects(new ResourceNotFoundException({ message: 'Model not found', $metadata: {} }));
    const report = await checkModelLifecycle(
      [
        { modelId: HAIKU_35, role: 'primary' },
        { modelId: 'acme.gone-v1:0', role: 'fallback' },
      ],
      { client: client(), today: day('2026-11-27') },
    );
    expect(report.findings.map((f) => [f.code, f.severity])).toEqual([
      ['past-end-of-life', 'error'],
      ['not-in-table', 'warning'],
    ]);
    expect(report.findings[1].message).toContain('Bedrock does not offer acme.gone-v1:0 in this region');
  });

  test('no credentials (or no network): the bundled table answers, and the report says why', async () => {
    bedrock
      .on(ListFoundationModelsCommand)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const report = await checkModelLifecycle([{ modelId: HAIKU_35, role: 'primary' }], { client: client(), today: day('2026-11-27') });
    expect(report.refreshed).toBe(false);
    expect(report.offlineReason).toMatch(/ListFoundationModels: CredentialsProviderError: Could not load credentials/);
    expect(report.findings[0]).toMatchObject({ code: 'past-end-of-life', source: `bundled table of ${BUNDLED_MODEL_LIFECYCLE.takenOn}` });
  });
});

describe('cdk-ai-release models check', () => {
  const { runAsync } = require('../bin/cli/program') as typeof import('../bin/cli/program');
  const bedrock = mockClient(BedrockClient);
  beforeEach(() => bedrock.reset());
  afterAll(() => bedrock.restore());

  async function cli(args: readonly string[], extra: Record<string, unknown> = {}) {
    let out = '';
    let err = '';
    const code = await runAsync(args, { out: (t) => (out += t), err: (t) => (err += t), ...extra });
    return { code, out, err };
  }
  const configDir = (mutate: (c: Record<string, any>) => void = () => {}) => {
    const c = validConfig();
    mutate(c);
    return tempDir({ 'release.json': JSON.stringify(c) });
  };

  test('past end of life: exit 8 and a table naming it', async () => {
    const dir = configDir();
    const r = await cli(['models', 'check', '--config', path.join(dir, 'release.json'), '--offline', '--today', '2026-11-27']);
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/bundled table of 2026-\d\d-\d\d \(offline: --offline\)/);
    expect(r.out).toMatch(/EOL\s+-\s+primary\s+anthropic\.claude-3-5-haiku-20241022-v1:0\s+EOL\s+2026-06-19 \(161 days ago\)/);
    expect(r.out).toContain(`fix: move to ${HAIKU_45}`);
  });

  test('a warning: exit 1; all fine: exit 0', async () => {
    const warn = configDir((c) => (c.model.modelId = HAIKU_45));
    expect((await cli(['models', 'check', '--config', path.join(warn, 'release.json'), '--offline', '--today', '2026-11-27'])).code).toBe(1);
    const fine = configDir((c) => (c.model.modelId = `global.${HAIKU_45}`));
    expect((await cli(['models', 'check', '--config', path.join(fine, 'release.json'), '--offline', '--today', '2026-11-27'])).code).toBe(0);
    expect((await cli(['models', 'check', '--model', HAIKU_35, '--offline', '--today', '2026-04-19'])).code).toBe(0);
    expect((await cli(['models', 'check', '--model', HAIKU_35, '--offline', '--today', '2026-04-20'])).code).toBe(1);
  });

  test('--json: the findings, the date and the source', async () => {
    const r = await cli(['models', 'check', '--model', `us.${HAIKU_35}`, 'acme.unknown-v1:0', '--offline', '--today', '2026-11-27', '--json']);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ today: '2026-11-27', warnDays: 60, worst: 'error', offlineReason: '--offline' });
    expect(json.findings.map((f: any) => f.code)).toEqual(['past-end-of-life', 'not-in-table']);
    expect(r.code).toBe(8);
  });

  test('--app: every release config synthesized into cdk.out, by service', async () => {
    const outdir = tempDir({});
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const other = validConfig();
    other.model.modelId = `eu.${HAIKU_45}`;
    new AiServiceConfig(stack, 'A', { serviceName: 'alpha', source: ReleaseConfigSource.fromObject(validConfig()) });
    new AiServiceConfig(stack, 'B', { serviceName: 'beta', source: ReleaseConfigSource.fromObject(other) });
    app.synth();
    const r = await cli(['models', 'check', '--app', outdir, '--offline', '--today', '2026-11-27', '--json']);
    const rows = JSON.parse(r.out).findings.map((f: any) => [f.service, f.role, f.modelId, f.code]);
    expect(rows).toEqual([
      ['alpha', 'primary', HAIKU_35, 'past-end-of-life'],
      ['alpha', 'fallback', 'amazon.nova-micro-v1:0', 'ok'],
      ['beta', 'primary', `eu.${HAIKU_45}`, 'ok'],
      ['beta', 'fallback', 'amazon.nova-micro-v1:0', 'ok'],
    ]);
    expect(r.code).toBe(8);
  });

  test('online through an injected client: Bedrock decides', async () => {
    bedrock.on(ListFoundationModelsCommand).resolves({
      modelSummaries: [{ modelId: 'amazon.nova-micro-v1:0', modelArn: 'x', inferenceTypesSupported: ['ON_DEMAND'], modelLifecycle: { status: 'ACTIVE' } }],
    });
    const client = new BedrockClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const r = await cli(['models', 'check', '--model', 'amazon.nova-micro-v1:0', '--today', '2026-11-27'], { bedrock: client });
    expect(r.out).toContain('Model lifecycle from Bedrock, 2026-11-27');
    expect(r.code).toBe(0);
    expect(bedrock.commandCalls(ListFoundationModelsCommand)).toHaveLength(1);
  });

  test.each([
    [[], 'give exactly one of --app'],
    [['--model', HAIKU_35, '--config', 'x.json'], 'give exactly one of --app'],
    [['--model', HAIKU_35, '--today', 'soon'], '--today: "soon" is not a date'],
    [['--model', HAIKU_35, '--warn-days', '-3'], '--warn-days must be a whole number of days >= 0, got "-3"'],
    [['--config', '/nonexistent/release.json'], 'cannot read /nonexistent/release.json'],
    [['--app', '/nonexistent'], '/nonexistent is not a directory'],
    [['--model', HAIKU_35, '--bogus'], "unknown option '--bogus'"],
  ])('bad usage %j: exit 2 with the reason', async (args, message) => {
    const r = await cli(['models', 'check', '--offline', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});
