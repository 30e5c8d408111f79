import * as fs from 'node:fs';
import * as path from 'node:path';
import { AiServiceConfig, ReleaseConfigSource } from '../lib';
import { testStack } from './helpers';

// A corpus of bad and unusual-but-valid release configs, as files (test/fixtures/config-corpus). Each invalid case
// must be rejected clearly: one synth error naming the file, the JSON path and the expected words, and nothing that
// reads like a crash. Each valid case must synthesize.
const corpus = path.join(__dirname, 'fixtures/config-corpus');
const expectations: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(corpus, 'expectations.json'), 'utf8'));

function sourceFor(rel: string): ReleaseConfigSource {
  const full = path.join(corpus, rel);
  return fs.statSync(full).isDirectory() ? ReleaseConfigSource.fromDirectory(full) : ReleaseConfigSource.fromFile(full);
}

/** The validation errors synth would report for one service (construct validation, as `cdk synth` runs it). */
function validationErrors(source: ReleaseConfigSource): string[] {
  const svc = new AiServiceConfig(testStack(), 'Config', { serviceName: 'svc', source });
  return svc.node.validate();
}

/** What a crash or an unclear report looks like: JavaScript internals instead of words about the config. */
const UNCLEAR = /TypeError|RangeError|ReferenceError|Maximum call stack|Cannot read prop|undefined is not|\[object Object\]|\n\s+at .*:\d+:\d+\)/;

describe('invalid configs are rejected clearly', () => {
  const cases = Object.entries(expectations);
  test('the corpus is not trivially small', () => expect(cases.length).toBeGreaterThanOrEqual(70));

  test.each(cases)('%s', (rel, expected) => {
    let errors: string[] = [];
    expect(() => (errors = validationErrors(sourceFor(rel)))).not.toThrow();
    expect(errors).toHaveLength(1);
    const [message] = errors;
    expect(message).toMatch(/^release config of service "svc" is invalid \(\d+ problems?\):\n {2}1\) /);
    // every problem names its file (or the directory, for a missing section)
    expect(message).toContain(path.join(corpus, rel));
    for (const text of expected) expect(message).toContain(text);
    expect(message).not.toMatch(UNCLEAR);
  });
});

describe('unusual but valid configs are accepted', () => {
  const valid = fs.readdirSync(path.join(corpus, 'valid')).map((f) => `valid/${f}`);
  test('the corpus is not trivially small', () => expect(valid.length).toBeGreaterThanOrEqual(18));

  test.each(valid)('%s', (rel) => {
    expect(validationErrors(sourceFor(rel))).toEqual([]);
  });
});

test('every pattern of the shipped schema has a description, so no problem shows a bare regex', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../schemas/release-config.schema.json'), 'utf8'));
  const bare: string[] = [];
  const visit = (node: unknown, at: string) => {
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string' && typeof o.description !== 'string') bare.push(at);
    for (const [k, v] of Object.entries(o)) visit(v, `${at}/${k}`);
  };
  visit(schema, '#');
  expect(bare).toEqual([]);
});
