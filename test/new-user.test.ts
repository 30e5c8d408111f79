import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createProgram } from '../bin/cli/program';
import { AiRelease, type AiReleaseProps, checkModels, ReleaseConfigSource, validateReleaseConfig } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';

// What a new user meets (issue 15 C): one name per service, every problem in one report, a card that says what
// synth said and links only to what exists, a "did you mean" for a model id.

function addRelease(stack: Stack, id: string, props: Partial<AiReleaseProps> = {}): AiRelease {
  return new AiRelease(stack, id, {
    serviceName: 'assistant',
    function: inlineFunction(stack, `${id}Fn`),
    config: ReleaseConfigSource.fromObject(validConfig()),
    ...props,
  });
}

const synthError = (app: App): string => {
  try {
    app.synth();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
};

describe('one serviceName per release in an app', () => {
  test('two releases with one name in one stack: synth fails naming both construct paths', () => {
    const app = testApp(fs.mkdtempSync(path.join(os.tmpdir(), 'dup-')));
    const stack = new Stack(app, 'Rel');
    addRelease(stack, 'First');
    addRelease(stack, 'Second');
    const message = synthError(app);
    expect(message).toContain('serviceName "assistant" is used by two releases in one app: Rel/First and Rel/Second');
    expect(message).toContain('fix: give each release its own serviceName');
  });

  test('across two stacks of one app too (their manifests and cards share one cloud assembly)', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dup-'));
    const app = testApp(outdir);
    addRelease(new Stack(app, 'One'), 'Release');
    addRelease(new Stack(app, 'Two'), 'Release');
    expect(synthError(app)).toContain('serviceName "assistant" is used by two releases in one app: One/Release and Two/Release');
    // nothing of either was written: validation stops synth before the card and manifest are
    expect(fs.readdirSync(outdir).filter((f) => f.startsWith('assistant.'))).toEqual([]);
  });

  test('the same service in two stages (two cloud assemblies) is fine: each writes its own manifest and card', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'stages-'));
    const app = testApp(outdir);
    for (const stage of ['Beta', 'Prod']) addRelease(new Stack(new Stage(app, stage), 'Svc'), 'Release');
    expect(synthError(app)).toBe('');
    for (const stage of ['Beta', 'Prod']) expect(fs.existsSync(path.join(outdir, `assembly-${stage}`, 'assistant.canary-card.md'))).toBe(true);
  });
});

describe('every problem of a service in one report', () => {
  const messages = (config: Record<string, unknown>) => validateReleaseConfig([{ value: config }]).problems.map((p) => `${p.path}: ${p.message}`);

  test('a schema error in one section no longer hides the semantic problems of the others', () => {
    const config = validConfig();
    config.model.parameters.temperature = 'hot'; // schema (model)
    config.prompt.template = 'Question: {{question}} {{passages}} {{colour}}'; // semantic (prompt): undeclared variable
    config.tools.tools.push({ ...config.tools.tools[0] }); // semantic (tools): name used twice
    const found = messages(config);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.model\.parameters\.temperature: must be a number/),
        '$.prompt.template: the template uses {{colour}}, which is not declared in prompt.variables',
        expect.stringMatching(/^\$\.tools\.tools\[1\]\.name: tool name "get_order" is used twice/),
      ]),
    );
  });

  test('an unknown section does not hide the other sections either', () => {
    const config: Record<string, any> = validConfig();
    config.promt = { template: 'x' };
    config.model.fallback.modelId = config.model.modelId; // semantic (model)
    const found = messages(config);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.promt: unknown section/),
        expect.stringMatching(/^\$\.model\.fallback\.modelId: the fallback model is the primary model/),
      ]),
    );
  });

  test('a misshapen section is reported by the schema only (its own semantic checks are not run on a wrong shape)', () => {
    const config = validConfig();
    config.tools.tools[0].inputSchema = 'not a schema';
    config.tools.tools.push({ ...config.tools.tools[0] });
    const found = messages(config);
    expect(found.some((m) => m.startsWith('$.tools.tools[0].inputSchema:'))).toBe(true);
    expect(found.some((m) => /used twice/.test(m))).toBe(false);
  });

  test('a missing section is reported once (not again by the schema), with the rest still checked', () => {
    const config = validConfig();
    delete config.outputContract;
    config.prompt.template = '{{question}} {{passages}} {{x}}';
    const found = messages(config);
    expect(found.filter((m) => /outputContract/.test(m))).toEqual(['$.outputContract: the required section "outputContract" is missing']);
    expect(found).toContain('$.prompt.template: the template uses {{x}}, which is not declared in prompt.variables');
  });
});

describe('a model id not in the lifecycle table', () => {
  const finding = (modelId: string) => checkModels([{ modelId, role: 'primary', service: 's' }], { today: new Date('2026-12-01') })[0];

  test.each([
    ['anthropic.claude-3-5-haiku-20241022-v1:1', 'anthropic.claude-3-5-haiku-20241022-v1:0'],
    ['us.anthropic.claude-3-5-haiku-20241022-v1', 'us.anthropic.claude-3-5-haiku-20241022-v1:0'],
    ['Amazon.Nova-Micro-v1:0', 'amazon.nova-micro-v1:0'],
  ])('%s gets "did you mean %s" (its profile prefix kept)', (typed, meant) => {
    const f = finding(typed);
    expect(f.code).toBe('not-in-table');
    expect(f.fix).toContain(`did you mean "${meant}"`);
  });

  test('an id far from every table entry gets no guess', () => {
    const f = finding('mistral.some-future-model-v9:0');
    expect(f.code).toBe('not-in-table');
    expect(f.fix).toBeUndefined();
  });
});

describe('the canary card of a synthesized release', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'card-links-'));
  const app = testApp(outdir);
  const stack = new Stack(app, 'CardStack');
  // Traffic stated, default thresholds: the release policy warns (alarm-false-fire), as synth prints.
  const release = addRelease(stack, 'Assistant', { expectedRequestsPerSecond: 5 });
  const assembly = app.synth();
  const cardFile = path.join(outdir, release.cardFileName);
  const card = fs.readFileSync(cardFile, 'utf8');

  test('shows every release-policy finding synth prints, and does not say "All rules pass" beside them', () => {
    // The warnings as the CLI prints them: the stack artifact's messages (no second synth).
    const printed = assembly
      .getStackArtifact(stack.artifactId)
      .messages.filter((m) => m.level === 'warning')
      .map((m) => String(m.entry.data).replace(/\s*\[ack: [^\]]+\]$/, ''))
      .filter((m) => m.startsWith('release policy "'));
    expect(printed.length).toBeGreaterThan(0);
    for (const line of printed) {
      const m = /^release policy "([^"]+)" \(service assistant\): (.*)$/s.exec(line);
      expect(m).not.toBeNull();
      expect(card).toContain(`- WARNS \`${m![1]}\`: ${m![2]}`);
    }
    expect(card).not.toContain('All rules pass.');
  });

  test("lists the judge's verdict alarms, the ones the template has", () => {
    const verdictIds = Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).filter((id) => /canaryverdict/.test(id));
    expect(verdictIds).toHaveLength(2);
    expect(card).toContain('| code | the judge has shown a regression of the new code version | `Version-canary-verdict` |');
    expect(card).toContain('| config | the judge has shown a regression of the new config | `Service-canary-verdict` |');
  });

  test('every link resolves to a file synth wrote', () => {
    const links = [...card.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link).not.toMatch(/^[a-z]+:/); // no external or absolute links
      const target = path.resolve(path.dirname(cardFile), link.split('#')[0]);
      if (!fs.existsSync(target)) throw new Error(`the card links to ${link}, which synth did not write`);
    }
  });

  test('gives cdk-ai-release status, rollback and degrade commands that the real CLI accepts, not elided aws calls', () => {
    expect(card).not.toMatch(/aws appconfig .*\.\.\./);
    const commands = [...card.matchAll(/npx cdk-ai-release ((?:status|rollback|degrade) [^`\n]+)/g)].map((m) => m[1]);
    expect(new Set(commands.map((c) => c.split(' ')[0]))).toEqual(new Set(['status', 'rollback', 'degrade']));
    for (const command of commands) {
      const argv = command.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
      expect(argv).toEqual(expect.arrayContaining(['assistant', '--stack', 'CardStack']));
      let errors = '';
      const program = createProgram({ out: () => undefined, err: (t) => (errors += t) }, () => undefined);
      // Parsing validates the command, its arguments and every option; the hook stops it before it calls AWS.
      const parsed = new Error('parsed');
      program.hook('preAction', () => {
        throw parsed;
      });
      let thrown: unknown;
      try {
        program.parse(argv, { from: 'user' });
      } catch (e) {
        thrown = e;
      }
      if (thrown !== parsed) throw new Error(`the card's command "${command}" was refused: ${errors || String(thrown)}`);
    }
  });
});

describe('the card says what the judge reads and samples (issue 15 A6)', () => {
  const { judgeReadLine } = require('../lib/rollout/canary-card');
  test.each([
    [5, 10, 'About 50 rows per update at the stated traffic.'],
    [2000, 10, 'About 20,000 rows per update at the stated traffic.'],
    [undefined, 10, 'at most 10,000 rows a query'],
  ])('at %s requests/s and %s s periods', (rps, period, text) => {
    const line = judgeReadLine(rps, period);
    expect(line).toContain(text);
    expect(line).toContain('never sampled');
    expect(line).toContain("judge record's `baseline` says where the read stopped");
  });
});
