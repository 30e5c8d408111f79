import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { AiRelease, AiServiceConfig, type ConfigProblem, checkReleaseConfig, ReleaseConfigError, ReleaseConfigSource } from '../lib';
import { inlineFunction, tempDir, testApp, testStack, validConfig } from './helpers';

/** Builds the construct and returns the validation error synth would report (fails the test when there is none). */
function synthError(
  source: ReleaseConfigSource,
  extra: Partial<ConstructorParameters<typeof AiServiceConfig>[2]> = {},
): { message: string; problems: readonly ConfigProblem[] } {
  const svc = new AiServiceConfig(testStack(), 'Config', { serviceName: 'svc', source, ...extra });
  const errors = svc.node.validate();
  if (errors.length === 0) throw new Error('expected the config to be rejected, but it was accepted');
  expect(errors).toHaveLength(1);
  return { message: errors[0], problems: svc.problems };
}

function mutated(fn: (c: Record<string, any>) => void): ReleaseConfigSource {
  const c = validConfig();
  fn(c);
  return ReleaseConfigSource.fromObject(c);
}

// Each row: a bad config and what the error must say (JSON path and the expectation).
const inlineCases: [string, (c: Record<string, any>) => void, string[]][] = [
  [
    'wrong type: temperature as string',
    (c) => (c.model.parameters.temperature = 'hot'),
    ['$.model.parameters.temperature', 'must be a number', 'string "hot"'],
  ],
  ['wrong type: topK as string', (c) => (c.retrieval.topK = '5'), ['$.retrieval.topK', 'must be an integer']],
  ['out of range: topK 0', (c) => (c.retrieval.topK = 0), ['$.retrieval.topK', 'must be >= 1']],
  ['out of range: negative price', (c) => (c.model.pricing.inputPer1kTokensUsd = -1), ['$.model.pricing.inputPer1kTokensUsd', 'must be >= 0']],
  ['missing field: model.modelId', (c) => delete c.model.modelId, ['$.model', 'missing required field "modelId"']],
  ['missing field: pricing', (c) => delete c.model.pricing, ['$.model', 'missing required field "pricing"']],
  ['missing field: retrieval.indexVersion', (c) => delete c.retrieval.indexVersion, ['$.retrieval', 'missing required field "indexVersion"']],
  ['missing section: outputContract', (c) => delete c.outputContract, ['$.outputContract', 'required section "outputContract" is missing']],
  ['unknown section with a typo', (c) => (c.promt = c.prompt), ['$.promt', 'unknown section "promt"', 'did you mean "prompt"?']],
  [
    'unknown field with a typo',
    (c) => (c.model.parameters.temprature = 0.1),
    ['$.model.parameters', 'unknown field "temprature"', 'did you mean "temperature"?'],
  ],
  ['enum: unknown provider', (c) => (c.model.provider = 'bedrok'), ['$.model.provider', 'must be one of', '"bedrock"']],
  [
    'prompt with neither template nor bedrockPrompt',
    (c) => {
      delete c.prompt.template;
      c.prompt.variables = [];
    },
    ['$.prompt', 'exactly one of template or bedrockPrompt'],
  ],
  [
    'unpinned Bedrock prompt ARN',
    (c) => {
      delete c.prompt.template;
      delete c.prompt.variables;
      c.prompt.bedrockPrompt = { arn: 'arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDEFGHIJ' };
    },
    ['$.prompt.bedrockPrompt.arn', 'ending in :<version number>'],
  ],
  ['guardrail pinned to DRAFT', (c) => (c.model.guardrail.version = 'DRAFT'), ['$.model.guardrail.version', 'numbered guardrail version', 'DRAFT']],
  ['template uses an undeclared variable', (c) => (c.prompt.template += '{{customer_tier}}'), ['$.prompt.template', '{{customer_tier}}', 'not declared']],
  [
    'declared variable never used',
    (c) => c.prompt.variables.push({ name: 'locale' }),
    ['$.prompt.variables[2].name', '"locale" is declared but the template never uses'],
  ],
  ['fallback equals primary model', (c) => (c.model.fallback.modelId = c.model.modelId), ['$.model.fallback.modelId', 'fallback model is the primary model']],
  [
    'bad output contract schema (typo keyword)',
    (c) => (c.outputContract.schema.requierd = ['answer']),
    ['$.outputContract.schema', 'not a valid JSON Schema', 'requierd'],
  ],
  [
    'bad output contract schema (wrong type name)',
    (c) => (c.outputContract.schema.properties.answer.type = 'text'),
    ['$.outputContract.schema', 'not a valid JSON Schema'],
  ],
  [
    'bad tool input schema',
    (c) => (c.tools.tools[0].inputSchema.properties.id.minLength = 'one'),
    ['$.tools.tools[0].inputSchema', 'input schema of tool "get_order"'],
  ],
  ['duplicate tool names', (c) => c.tools.tools.push({ ...c.tools.tools[0] }), ['$.tools.tools[1].name', 'used twice']],
  ['tool with every action', (c) => (c.tools.tools[0].permissions.actions = ['dynamodb:*']), ['$.tools.tools[0].permissions.actions[0]', 'every action']],
  [
    'tool with resource * and no reason',
    (c) => (c.tools.tools[0].permissions.resources = ['*']),
    ['$.tools.tools[0].permissions.resources[0]', 'every resource', 'wildcardReason'],
  ],
  [
    'bad tool name',
    (c) => (c.tools.tools[0].name = 'get order!'),
    ['$.tools.tools[0].name', 'must be a tool name: 1 to 64 letters, digits, _ or -', 'got string "get order!"'],
  ],
  [
    'AWS access key pasted into a prompt',
    (c) => (c.prompt.system += ' key AKIAIOSFODNN7EXAMPLE'),
    ['$.prompt.system', 'an AWS access key id', 'AKIA…', 'Secrets Manager'],
  ],
  [
    'private key pasted into a tool description',
    (c) => (c.tools.tools[0].description = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow'),
    ['$.tools.tools[0].description', 'a PEM private key'],
  ],
  [
    'LLM API key in model parameters',
    (c) => (c.model.parameters.additionalModelRequestFields = { note: 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD' }),
    ['$.model.parameters.additionalModelRequestFields.note', 'LLM provider API key'],
  ],
  [
    'password by key name in retrieval filters',
    (c) => (c.retrieval.filters = { password: 'hunter2-hunter2' }),
    ['$.retrieval.filters.password', 'literal credential', 'hunt…'],
  ],
  [
    'oversized config',
    (c) => (c.prompt.fewShot = Array.from({ length: 50 }, (_, i) => ({ input: `q${i}`, output: 'x'.repeat(25_000) }))),
    ['over the 1048576-byte limit', 'AppConfig hosted configuration'],
  ],
  ['config is not an object', (c) => Object.assign(c, { prompt: 'just a string' }), ['$.prompt', 'must be an object', 'string "just a string"']],
  ['hand-written _release block', (c) => (c._release = { label: 'x' }), ['$._release', 'written by cdk-ai-release']],
];

describe('bad release configs fail synth with a clear message', () => {
  test('there are at least 20 cases', () => expect(inlineCases.length).toBeGreaterThanOrEqual(20));

  test.each(inlineCases)('%s', (_name, mutate, expected) => {
    const err = synthError(mutated(mutate));
    for (const text of expected) expect(err.message).toContain(text);
    expect(err.message).toContain('release config of service "svc" is invalid');
    expect(err.problems.length).toBeGreaterThan(0);
  });

  test('a secret is reported without repeating it', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const err = synthError(mutated((c) => (c.prompt.system += ` ${secret}`)));
    expect(err.message).not.toContain(secret);
  });

  test('every problem is reported at once, not only the first', () => {
    const err = synthError(
      mutated((c) => {
        c.model.parameters.temperature = 'hot';
        c.retrieval.topK = 0;
      }),
    );
    expect(err.problems.map((p) => p.path).sort()).toEqual(['$.model.parameters.temperature', '$.retrieval.topK']);
  });

  test('degrade.useFallbackModel without a fallback model', () => {
    const err = synthError(
      mutated((c) => delete c.model.fallback),
      { degrade: { useFallbackModel: true } },
    );
    expect(err.message).toContain('useFallbackModel is on, but the model section names no fallback');
  });

  test('degrade.useFallbackModel without a fallback model names the model file, not "inline config"', () => {
    const c = validConfig();
    delete c.model.fallback;
    const dir = tempDir({
      'prompt.json': JSON.stringify(c.prompt),
      'model.json': JSON.stringify(c.model, undefined, 2),
      'output-contract.json': JSON.stringify(c.outputContract),
    });
    const err = synthError(ReleaseConfigSource.fromDirectory(dir), { degrade: { useFallbackModel: true } });
    expect(err.problems).toEqual([expect.objectContaining({ file: path.join(dir, 'model.json'), line: 1, path: '$.model.fallback' })]);
    expect(err.message).toContain(`${path.join(dir, 'model.json')}:1:1 $.model.fallback: degrade.useFallbackModel is on`);
  });

  test('degrade.useFallbackModel without a fallback, in a whole-config file: the line of its model section', () => {
    const c = validConfig();
    delete c.model.fallback;
    const dir = tempDir({ 'release.json': JSON.stringify({ prompt: c.prompt, model: c.model, outputContract: c.outputContract }, undefined, 2) });
    const file = path.join(dir, 'release.json');
    const modelLine =
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith('  "model":')) + 1;
    const err = synthError(ReleaseConfigSource.fromFile(file), { degrade: { useFallbackModel: true } });
    expect(err.problems).toEqual([expect.objectContaining({ file, line: modelLine, path: '$.model.fallback' })]);
  });

  test('a smaller maxContentBytes is enforced', () => {
    const err = synthError(ReleaseConfigSource.fromObject(validConfig()), { maxContentBytes: 100 });
    expect(err.message).toMatch(/is \d+ bytes, over the 100-byte limit/);
  });
});

describe('bad config files name the file and line', () => {
  const good = validConfig();
  const yaml = (o: unknown) => JSON.stringify(o, undefined, 2); // JSON is YAML

  test('YAML type error points at file:line:column', () => {
    const dir = tempDir({
      'prompt.yaml': 'template: "Hi {{question}}"\nvariables:\n  - name: question\n',
      'model.yaml': ['provider: bedrock', 'modelId: m1', 'pricing:', '  inputPer1kTokensUsd: "0.8"', '  outputPer1kTokensUsd: 1', ''].join('\n'),
      'output-contract.yaml': 'schema:\n  type: object\n',
    });
    const err = synthError(ReleaseConfigSource.fromDirectory(dir));
    expect(err.message).toContain(`${path.join(dir, 'model.yaml')}:4:24 $.model.pricing.inputPer1kTokensUsd: must be a number (got string "0.8")`);
  });

  test('YAML syntax error', () => {
    const dir = tempDir({ 'all.yaml': 'prompt:\n  template: [unclosed\n' });
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'all.yaml')));
    expect(err.message).toMatch(/all\.yaml:\d+:\d+ \$: not valid YAML/);
  });

  test('JSON syntax error', () => {
    const dir = tempDir({ 'all.json': '{ "prompt": { "template": "x", } ' });
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'all.json')));
    expect(err.message).toContain('all.json:1:32 $: not valid JSON at line 1, column 32');
    expect(err.message).toContain('fix: remove the trailing comma (JSON allows none)');
  });

  test('duplicate YAML key', () => {
    const dir = tempDir({ 'all.yaml': 'prompt:\n  template: a\n  template: b\n' });
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'all.yaml')));
    expect(err.message).toMatch(/all\.yaml:3:3 \$\.prompt\.template: the key "template" appears twice in the same mapping/);
  });

  test('missing file', () => {
    const err = synthError(ReleaseConfigSource.fromFile('/nonexistent/release.yaml'));
    expect(err.message).toContain('/nonexistent/release.yaml $: cannot read the file (ENOENT)');
  });

  test('empty file', () => {
    const dir = tempDir({ 'prompt.yaml': '\n', 'model.json': yaml(good.model), 'outputContract.json': yaml(good.outputContract) });
    const err = synthError(ReleaseConfigSource.fromDirectory(dir));
    expect(err.message).toContain('prompt.yaml $.prompt: the file is empty');
  });

  test('misnamed section file in a directory', () => {
    const dir = tempDir({ 'prompt.yaml': yaml(good.prompt), 'modle.yaml': yaml(good.model), 'output-contract.json': yaml(good.outputContract) });
    const err = synthError(ReleaseConfigSource.fromDirectory(dir));
    expect(err.message).toContain('"modle.yaml" is not a release config section');
    expect(err.message).toContain('rename it to model.yaml');
  });

  test('section defined in two files', () => {
    const dir = tempDir({
      'a.json': yaml({ prompt: good.prompt, model: good.model }),
      'b.json': yaml({ model: good.model, outputContract: good.outputContract }),
    });
    const err = synthError(ReleaseConfigSource.fromFiles([path.join(dir, 'a.json'), path.join(dir, 'b.json')]));
    expect(err.message).toContain('section "model" is defined twice');
  });

  test('unsupported file type', () => {
    const dir = tempDir({ 'prompt.txt': 'hello' });
    const err = synthError(ReleaseConfigSource.fromSectionFiles({ prompt: path.join(dir, 'prompt.txt') }));
    expect(err.message).toContain('unsupported file type ".txt"');
  });
});

describe('nothing crashes, whatever the input', () => {
  /** A mapping nested `levels` deep, built without recursion. */
  function deepObject(levels: number): Record<string, unknown> {
    let inner: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < levels; i++) inner = { not: inner };
    return inner;
  }

  test('an inline object nested 10,000 levels is one clear problem', () => {
    const err = synthError(mutated((c) => (c.outputContract.schema = deepObject(10_000))));
    expect(err.message).toContain('inline config $.outputContract.schema.not.not.not.not: the config is nested more than 64 levels deep');
    expect(err.problems).toHaveLength(1);
  });

  test('a YAML file nested 3,000 levels by indentation is one clear problem naming the file', () => {
    let text = 'outputContract:\n  schema:\n';
    for (let i = 0; i < 3000; i++) text += `${'  '.repeat(i + 2)}not:\n`;
    text += `${'  '.repeat(3002)}type: string\n`;
    const dir = tempDir({ 'deep.yaml': text });
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'deep.yaml')));
    expect(err.message).toContain(`${path.join(dir, 'deep.yaml')}`);
    expect(err.message).toContain('nested more than 64 levels deep');
    expect(err.problems).toHaveLength(1);
  });

  test('a huge string aliased many times is refused before anything copies it', () => {
    const big = 'x'.repeat(2_000_000);
    const dir = tempDir({ 'big.yaml': `prompt:\n  template: &t "${big}"\n  fewShot:\n${'    - {input: *t, output: *t}\n'.repeat(5)}` });
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'big.yaml')));
    expect(err.message).toContain('big.yaml $: the content expands to more than 16777216 characters once YAML aliases are resolved');
  });

  test('values JSON cannot carry, in an inline object', () => {
    const err = synthError(
      mutated((c) => {
        c.model.parameters.additionalModelRequestFields = { when: new Date(0), nothing: undefined, list: [undefined], big: 10n };
        c.retrieval.filters = JSON.parse('{"__proto__": {"admin": true}}');
      }),
    );
    expect(err.message).toContain(
      '$.model.parameters.additionalModelRequestFields.when: a Date (YAML 1.1 reads an unquoted 2026-11-01 as a timestamp) is not JSON data',
    );
    expect(err.message).toContain('$.model.parameters.additionalModelRequestFields.nothing: undefined is not JSON');
    expect(err.message).toContain('$.model.parameters.additionalModelRequestFields.list[0]: undefined is not JSON');
    expect(err.message).toContain('$.model.parameters.additionalModelRequestFields.big: a bigint is not JSON');
    expect(err.message).toContain('$.retrieval.filters.__proto__: a "__proto__" key cannot be part of a config');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  test('parsing stays linear: 80,000 keys in one mapping', () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `    k${i}: v${i}`).join('\n');
    const file = (n: number) => {
      const dir = tempDir({
        'big.yaml': `prompt:\n  template: hi\nmodel:\n  provider: bedrock\n  modelId: m\n  pricing: {inputPer1kTokensUsd: 1, outputPer1kTokensUsd: 1}\nretrieval:\n  source: {type: custom, id: x}\n  indexVersion: "1"\n  topK: 1\n  filters:\n${keys(n)}\noutputContract:\n  schema: {type: object}\n`,
      });
      return path.join(dir, 'big.yaml');
    };
    const big = file(80_000);
    const started = Date.now();
    const svc = new AiServiceConfig(testStack(), 'Config', { serviceName: 'svc', source: ReleaseConfigSource.fromFile(big) });
    const elapsed = Date.now() - started;
    // 80,000 keys are over AppConfig's 1 MiB: the size is the only problem, and it is reported.
    expect(svc.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^the hosted release config is \d+ bytes, over the 1048576-byte limit/)]);
    // It took 56 s before (the YAML parser's own duplicate-key check is quadratic); linear, it is about a second.
    expect(elapsed).toBeLessThan(15_000);
  });

  test('20,000 unknown fields: every one located, the report capped', () => {
    const extra = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`custom${i}`, i]));
    const dir = tempDir({ 'c.json': JSON.stringify({ ...validConfig(), model: { ...validConfig().model, ...extra } }, undefined, 1) });
    const started = Date.now();
    const err = synthError(ReleaseConfigSource.fromFile(path.join(dir, 'c.json')));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(err.problems).toHaveLength(20_000);
    expect(err.problems[19_999].line).toBeGreaterThan(20_000);
    expect(err.message).toContain('  50) ');
    expect(err.message).not.toContain('  51) ');
    expect(err.message).toContain('… and 19950 more problems');
  });
});

describe('the 1 MiB limit is measured on the hosted content', () => {
  test('sections under the limit, hosted content (with _release) over it: refused', () => {
    const limit = 1024 * 1024;
    const c = validConfig();
    c.prompt.fewShot = [{ input: 'q', output: 'x' }];
    const { canonicalJson } = require('../lambda/shared/canonical-json');
    const pad = limit - Buffer.byteLength(canonicalJson(c)) - 10;
    c.prompt.fewShot[0].output = 'x'.repeat(pad);
    expect(Buffer.byteLength(canonicalJson(c))).toBeLessThanOrEqual(limit);
    const err = synthError(ReleaseConfigSource.fromObject(c));
    expect(err.message).toMatch(/the hosted release config is (\d+) bytes, over the 1048576-byte limit/);
    expect(Number(/is (\d+) bytes/.exec(err.message)![1])).toBeGreaterThan(limit);
  });

  test('bytes, not characters: 600k two-byte characters are over', () => {
    const err = synthError(mutated((c) => (c.prompt.fewShot = [{ input: 'q', output: 'é'.repeat(600_000) }])));
    expect(err.message).toContain('over the 1048576-byte limit');
  });

  test('a config that fits exactly is accepted, and its hosted content is what was measured', () => {
    const c = validConfig();
    c.prompt.fewShot = [{ input: 'q', output: 'x'.repeat(900_000) }];
    const svc = new AiServiceConfig(testStack(), 'Config', { serviceName: 'svc', source: ReleaseConfigSource.fromObject(c) });
    expect(svc.problems).toEqual([]);
    expect(Buffer.byteLength(svc.hostedVersion.content, 'utf8')).toBeLessThan(1024 * 1024);
  });
});

describe('every service of the app is reported in one synth', () => {
  test('two services in two stacks, one with a cost guard: both reported, no crash from the stand-in', () => {
    const app = testApp();
    const a = new Stack(app, 'A');
    const b = new Stack(app, 'B');
    new AiRelease(a, 'First', {
      serviceName: 'first',
      function: inlineFunction(a),
      config: mutated((c) => (c.model.parameters.temperature = 'hot')),
      costGuard: {},
    });
    new AiRelease(b, 'Second', {
      serviceName: 'second',
      function: inlineFunction(b),
      config: mutated((c) => {
        delete c.model.fallback;
        c.retrieval.topK = 0;
      }),
    });
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('[A/First/Config] release config of service "first" is invalid (1 problem)');
    expect(message).toContain('$.model.parameters.temperature: must be a number');
    expect(message).toContain('[B/Second/Config] release config of service "second" is invalid (1 problem)');
    expect(message).toContain('$.retrieval.topK: must be >= 1');
  });

  test('direct callers still get a ReleaseConfigError', () => {
    expect(() =>
      checkReleaseConfig(
        'svc',
        mutated((c) => (c.retrieval.topK = 0)),
      ),
    ).toThrow(ReleaseConfigError);
    expect(checkReleaseConfig('svc', ReleaseConfigSource.fromObject(validConfig()))).toMatchObject({ retrieval: { topK: 4 } });
  });
});

describe('more file mistakes, named as such', () => {
  test('a whole release config passed as one section file', () => {
    const dir = tempDir({ 'prompt.json': JSON.stringify(validConfig()) });
    const err = synthError(ReleaseConfigSource.fromSectionFiles({ prompt: path.join(dir, 'prompt.json') }));
    expect(err.message).toContain('prompt.json $.prompt: this file should hold only the prompt section, but it has a "prompt" key');
    expect(err.message).toContain('fix: pass it with ReleaseConfigSource.fromFile');
  });

  test('a YAML file with only comments', () => {
    const good = validConfig();
    const dir = tempDir({ 'prompt.yaml': '# TODO\n', 'model.json': JSON.stringify(good.model), 'output-contract.json': JSON.stringify(good.outputContract) });
    const err = synthError(ReleaseConfigSource.fromDirectory(dir));
    expect(err.message).toContain('prompt.yaml $.prompt: the file holds no content (only comments or a document marker)');
    expect(err.problems).toHaveLength(1);
  });

  test('an inline object that refers to itself', () => {
    const err = synthError(
      mutated((c) => {
        c.retrieval.filters = { self: {} };
        c.retrieval.filters.self.loop = c.retrieval.filters;
      }),
    );
    expect(err.message).toContain(
      '$.retrieval.filters.self.loop.self.loop: the config is nested more than 64 levels deep (or an inline object refers to itself)',
    );
  });
});
