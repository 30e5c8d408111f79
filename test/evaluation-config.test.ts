import { validateReleaseConfig } from '../lib/config/private/validate-release-config';
import { computeReleaseManifest, diffReleaseManifests, renderManifestDiff } from '../lambda/shared/release-manifest';
import { pairSamplingRate } from '../lambda/shared/evaluation';
import { validConfig } from './helpers';

function evaluationSection(): Record<string, any> {
  return {
    version: 'eval-1',
    evaluatorModel: {
      modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
      pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 },
      maxTokens: 300,
    },
    rubrics: [
      { criterion: 'groundedness', instructions: 'Every claim in the answer is supported by the retrieved passages.', floor: 3 },
      { criterion: 'relevance', instructions: 'The answer addresses the question the customer asked.' },
    ],
    samplingRate: 0.05,
    budget: { perReleaseUsd: 20, perDayUsd: 50 },
    deterministic: { minChars: 1, maxChars: 4000, forbiddenPatterns: ['give (me )?your password'] },
  };
}

const validate = (evaluation: unknown) => validateReleaseConfig([{ value: { ...validConfig(), evaluation } }]).problems;

describe('the evaluation section', () => {
  test('a complete section validates', () => expect(validate(evaluationSection())).toEqual([]));
  test('a release-time pairing rate of its own validates, and the boolean forms still do', () => {
    for (const paired of [
      { samplingRate: 0.3 },
      { samplingRate: 0.05 },
      { samplingRate: 0.1, configSamplingRate: 0.2 },
      { samplingRate: 0.1, configSamplingRate: 0.05 },
      true,
      false,
    ])
      expect(validate({ ...evaluationSection(), paired })).toEqual([]);
  });

  test.each([
    ['no rubrics', (e: any) => (e.rubrics = []), '$.evaluation.rubrics', /fewer than 1|at least 1|must NOT have fewer/],
    ['an unknown criterion', (e: any) => (e.rubrics[0].criterion = 'vibes'), '$.evaluation.rubrics[0].criterion', /groundedness/],
    ['a sampling rate above 1', (e: any) => (e.samplingRate = 2), '$.evaluation.samplingRate', /1/],
    ['a check sampling rate above 1', (e: any) => (e.checkSamplingRate = 1.5), '$.evaluation.checkSamplingRate', /<= 1 \(got number 1\.5\)/],
    ['a check sampling rate that is not a number', (e: any) => (e.checkSamplingRate = 'all'), '$.evaluation.checkSamplingRate', /number/],
    ['a misspelt check sampling rate', (e: any) => (e.checkSamplingrate = 1), '$.evaluation.checkSamplingrate', /did you mean "checkSamplingRate"/],
    ['no budget', (e: any) => delete e.budget, '$.evaluation', /budget/],
    ['an unknown key', (e: any) => (e.samplingrate = 0.1), '$.evaluation.samplingrate', /samplingRate|not allowed|unknown/],
    [
      'two rubrics for one criterion',
      (e: any) => e.rubrics.push({ criterion: 'relevance', instructions: 'again' }),
      '$.evaluation.rubrics[2].criterion',
      /two rubrics.*also rubrics\[1\]/,
    ],
    ['a floor off the scale', (e: any) => (e.rubrics[0].floor = 9), '$.evaluation.rubrics[0].floor', /outside the scale 1\.\.5/],
    ['a scale whose min is not below its max', (e: any) => (e.scale = { min: 5, max: 5 }), '$.evaluation.scale', /min must be below max/],
    [
      'a forbidden pattern that does not compile',
      (e: any) => (e.deterministic.forbiddenPatterns = ['(oops']),
      '$.evaluation.deterministic.forbiddenPatterns[0]',
      /not a valid regular expression/,
    ],
    ['min above max characters', (e: any) => (e.deterministic = { minChars: 10, maxChars: 5 }), '$.evaluation.deterministic.minChars', /above maxChars/],
    ['sampling with a zero budget', (e: any) => (e.budget.perDayUsd = 0), '$.evaluation.budget', /no sample would ever be scored/],
    ['a release budget above the day budget', (e: any) => (e.budget.perReleaseUsd = 80), '$.evaluation.budget.perReleaseUsd', /above the day budget/],
    ['a pairing rate above 1', (e: any) => (e.paired = { samplingRate: 1.5 }), '$.evaluation.paired.samplingRate', /<= 1 \(got number 1\.5\)/],
    ['a misspelt pairing rate', (e: any) => (e.paired = { samplingrate: 0.2 }), '$.evaluation.paired.samplingrate', /did you mean "samplingRate"/],
    ['paired: yes (a YAML string)', (e: any) => (e.paired = 'yes'), '$.evaluation.paired', /write true or false/],
    ['an empty paired object', (e: any) => (e.paired = {}), '$.evaluation.paired', /true, false, or \{ samplingRate: 0\.\.1, configSamplingRate\?: 0\.\.1 \}/],
    [
      'a config pairing rate above 1',
      (e: any) => (e.paired = { samplingRate: 0.1, configSamplingRate: 2 }),
      '$.evaluation.paired.configSamplingRate',
      /<= 1 \(got number 2\)/,
    ],
    [
      'a config pairing rate that is not a number',
      (e: any) => (e.paired = { samplingRate: 0.1, configSamplingRate: '20%' }),
      '$.evaluation.paired.configSamplingRate',
      /must be a number/,
    ],
    [
      'a misspelt config pairing rate',
      (e: any) => (e.paired = { samplingRate: 0.1, configSamplingrate: 0.2 }),
      '$.evaluation.paired.configSamplingrate',
      /did you mean "configSamplingRate"/,
    ],
    ['a config pairing rate without the code one', (e: any) => (e.paired = { configSamplingRate: 0.2 }), '$.evaluation.paired', /samplingRate/],
    [
      'a config pairing rate below the scoring rate (it would add no pairs)',
      (e: any) => (e.paired = { samplingRate: 0.1, configSamplingRate: 0.01 }),
      '$.evaluation.paired.configSamplingRate',
      /config plane's pairing rate 0\.01 is below samplingRate 0\.05.*raise paired\.configSamplingRate above 0\.05/,
    ],
    [
      'config pairing with a zero budget',
      (e: any) => {
        e.samplingRate = 0;
        e.paired = { samplingRate: 0, configSamplingRate: 0.2 };
        e.budget.perReleaseUsd = 0;
      },
      '$.evaluation.budget',
      /paired\.configSamplingRate 0\.2.*no sample would ever be scored/,
    ],
    [
      'a pairing rate below the scoring rate (it would add no pairs)',
      (e: any) => (e.paired = { samplingRate: 0.01 }),
      '$.evaluation.paired.samplingRate',
      /below samplingRate 0\.05.*raise paired\.samplingRate above 0\.05/,
    ],
    [
      'pairing with a zero budget',
      (e: any) => {
        e.samplingRate = 0;
        e.paired = { samplingRate: 0.2 };
        e.budget.perReleaseUsd = 0;
      },
      '$.evaluation.budget',
      /paired\.samplingRate 0\.2.*no sample would ever be scored/,
    ],
  ])('%s: the problem names the field and a fix', (_name, mutate, path, message) => {
    const e = evaluationSection();
    mutate(e);
    const problems = validate(e);
    const p = problems.find((x) => x.path === path);
    expect(p).toBeDefined();
    expect(`${p?.message} ${p?.fix ?? ''}`).toMatch(message);
  });
});

describe('the pairing rate per plane (pairSamplingRate)', () => {
  test.each([
    ['paired: false', false, 0, 0],
    ['paired: true (only what scoring draws)', true, 0.05, 0.05],
    ['{ samplingRate } on both planes', { samplingRate: 0.1 }, 0.1, 0.1],
    ['{ samplingRate, configSamplingRate }', { samplingRate: 0.1, configSamplingRate: 0.2 }, 0.1, 0.2],
    ['a config rate below the code one (allowed, at least the scoring rate)', { samplingRate: 0.2, configSamplingRate: 0.1 }, 0.2, 0.1],
  ] as const)('%s', (_name, paired, code, config) => {
    const e = { samplingRate: 0.05, paired } as const;
    expect(pairSamplingRate(e)).toBe(code);
    expect(pairSamplingRate(e, 'code')).toBe(code);
    expect(pairSamplingRate(e, 'config')).toBe(config);
  });
});

describe('the evaluation section in the manifest', () => {
  const manifest = (evaluation?: unknown) =>
    computeReleaseManifest({ service: 'assistant', config: { ...validConfig(), ...(evaluation ? { evaluation } : {}) }, configLabel: 'c', degradeLabel: 'd' });

  test('it is a component with its own label and hash', () => {
    const m = manifest(evaluationSection());
    expect(m.components.evaluation.label).toBe('eval-1');
    expect(m.components.evaluation.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a service without the section keeps the release id it had before the section existed', () => {
    // the id over the five sections and code, as computed before `evaluation` was a section
    const { canonicalJson, sha256Hex } = require('../lambda/shared/canonical-json');
    const m = manifest();
    const before = ['code', 'prompt', 'model', 'retrieval', 'tools', 'outputContract'];
    expect(m.releaseId).toBe(
      sha256Hex(canonicalJson({ service: 'assistant', components: Object.fromEntries(before.map((c) => [c, m.components[c as 'code'].hash])) })),
    );
    expect(manifest(evaluationSection()).releaseId).not.toBe(m.releaseId);
  });

  test('a rubric change says that what "good" means changed; a budget change does not', () => {
    const a = manifest(evaluationSection());
    const changedRubric = evaluationSection();
    changedRubric.rubrics[1].instructions = 'The answer addresses the question and is up to date.';
    changedRubric.version = 'eval-2';
    const d = diffReleaseManifests(a, manifest(changedRubric));
    const c = d.components.find((x) => x.component === 'evaluation');
    expect(c?.change).toBe('modified');
    expect(c?.meaningChanged).toMatch(/rubrics changed: what "good" means changed.*judged by the stable version's rubric/);
    expect(renderManifestDiff(d)).toContain('what "good" means changed');

    const budget = evaluationSection();
    budget.budget.perDayUsd = 60;
    budget.version = 'eval-2';
    const b = diffReleaseManifests(a, manifest(budget)).components.find((x) => x.component === 'evaluation');
    expect(b?.change).toBe('modified');
    expect(b?.meaningChanged).toBeUndefined();
  });

  test('a pairing-rate change is hashed and shown by the diff, and is not a change of what "good" means', () => {
    const a = manifest({ ...evaluationSection(), paired: true });
    const b = manifest({ ...evaluationSection(), paired: { samplingRate: 0.3 } });
    expect(b.components.evaluation.hash).not.toBe(a.components.evaluation.hash);
    const d = diffReleaseManifests(a, b);
    const c = d.components.find((x) => x.component === 'evaluation');
    expect(c?.change).toBe('modified');
    expect(c?.meaningChanged).toBeUndefined();
    expect(renderManifestDiff(d)).toMatch(/paired/);
    const again = diffReleaseManifests(b, manifest({ ...evaluationSection(), paired: { samplingRate: 0.2 } }));
    expect(renderManifestDiff(again)).toMatch(/paired\.samplingRate/);
  });

  test('a config pairing-rate change is hashed and the diff names paired.configSamplingRate; the code rate is not shown changed', () => {
    const a = manifest({ ...evaluationSection(), paired: { samplingRate: 0.1 } });
    const b = manifest({ ...evaluationSection(), paired: { samplingRate: 0.1, configSamplingRate: 0.2 } });
    const c = manifest({ ...evaluationSection(), paired: { samplingRate: 0.1, configSamplingRate: 0.3 } });
    expect(new Set([a, b, c].map((m) => m.components.evaluation.hash)).size).toBe(3);
    const d = diffReleaseManifests(b, c);
    expect(d.components.find((x) => x.component === 'evaluation')?.meaningChanged).toBeUndefined();
    const text = renderManifestDiff(d);
    expect(text).toMatch(/paired\.configSamplingRate/);
    expect(text).not.toMatch(/paired\.samplingRate/);
    expect(renderManifestDiff(diffReleaseManifests(a, b))).toMatch(/paired\.configSamplingRate/);
  });

  test('adding the section is shown as added', () => {
    const d = diffReleaseManifests(manifest(), manifest(evaluationSection()));
    expect(d.changed).toEqual(['evaluation']);
    expect(d.components.find((x) => x.component === 'evaluation')?.change).toBe('added');
  });
});
