import {
  compactManifest,
  computeReleaseManifest,
  diffJson,
  diffReleaseManifests,
  parseReleaseManifest,
  renderManifestDiff,
} from '../lambda/shared/release-manifest';
import { validConfig } from './helpers';

const CODE = { hash: 'a'.repeat(64) };
function manifest(mutate: (c: Record<string, any>) => void = () => {}, code = CODE) {
  const config = validConfig();
  mutate(config);
  return computeReleaseManifest({ service: 'assistant', config, code, configLabel: 'cfg-x', degradeLabel: 'degrade-y' });
}

describe('computeReleaseManifest', () => {
  test('deterministic: same inputs, same manifest and release id', () => {
    expect(manifest()).toEqual(manifest());
  });

  test('labels: the section version when given, else the short hash; absent sections are "none"', () => {
    const m = manifest((c) => delete c.retrieval);
    expect(m.components.prompt.label).toBe('1');
    expect(m.components.model.label).toBe(m.components.model.hash.slice(0, 12));
    expect(m.components.retrieval).toEqual({ label: 'none', hash: '' });
    expect(m.components.code.label).toBe('aaaaaaaaaaaa');
  });

  test('the release id changes with any component and with nothing else', () => {
    const base = manifest();
    expect(manifest((c) => (c.retrieval.topK = 5)).releaseId).not.toBe(base.releaseId);
    expect(manifest(undefined, { hash: 'b'.repeat(64) }).releaseId).not.toBe(base.releaseId);
    const withFacts = computeReleaseManifest({
      service: 'assistant',
      config: validConfig(),
      code: CODE,
      configLabel: 'cfg-x',
      degradeLabel: 'degrade-y',
      facts: { owner: 'me' },
    });
    expect(withFacts.releaseId).toBe(base.releaseId);
  });
});

describe('diffReleaseManifests', () => {
  const base = manifest();

  test('unchanged', () => {
    const d = diffReleaseManifests(base, manifest());
    expect(d.identical).toBe(true);
    expect(d.changed).toEqual([]);
    expect(renderManifestDiff(d)).toContain('assistant: nothing changed (same release)');
  });

  test('prompt only: a line diff of the template', () => {
    const next = manifest((c) => {
      c.prompt.version = '2';
      c.prompt.template = 'Question: {{question}}\nAnswer briefly.\nPassages:\n{{passages}}\n';
    });
    const d = diffReleaseManifests(base, next);
    expect(d.changed).toEqual(['prompt']);
    const prompt = d.components.find((c) => c.component === 'prompt')!;
    expect(prompt.before.label).toBe('1');
    expect(prompt.after.label).toBe('2');
    const template = prompt.keys!.find((k) => k.path === '$.template')!;
    expect(template.lines).toEqual(['@@ -1,3 +1,4 @@', ' Question: {{question}}', '+Answer briefly.', ' Passages:', ' {{passages}}']);
    const text = renderManifestDiff(d);
    expect(text).toContain('1 of 7 components changed (prompt)');
    expect(text).toContain('prompt          MODIFIED   1 -> 2');
    expect(text).toContain('        +Answer briefly.');
    expect(text).toContain('model           unchanged');
  });

  test('model only: key-level changes', () => {
    const next = manifest((c) => {
      c.model.modelId = 'anthropic.claude-sonnet-4-20250514-v1:0';
      c.model.pricing.outputPer1kTokensUsd = 0.015;
      delete c.model.guardrail;
      c.model.lineage = { baseModel: 'x' };
    });
    const d = diffReleaseManifests(base, next);
    expect(d.changed).toEqual(['model']);
    const keys = d.components.find((c) => c.component === 'model')!.keys!;
    expect(keys.map((k) => [k.path, k.kind])).toEqual([
      ['$.guardrail', 'removed'],
      ['$.lineage', 'added'],
      ['$.modelId', 'changed'],
      ['$.pricing.outputPer1kTokensUsd', 'changed'],
    ]);
    const text = renderManifestDiff(d);
    expect(text).toContain('~ $.modelId: "anthropic.claude-3-5-haiku-20241022-v1:0" -> "anthropic.claude-sonnet-4-20250514-v1:0"');
    expect(text).toContain('- $.guardrail (was {"id":"abcd1234","version":"2"})');
    expect(text).toContain('+ $.lineage = {"baseModel":"x"}');
  });

  test('several at once, including code, an added and a removed section', () => {
    const next = computeReleaseManifest({
      service: 'assistant',
      config: (() => {
        const c = validConfig();
        c.prompt.system = 'Be kind.';
        delete c.tools;
        c.retrieval.indexVersion = '2026-11-20';
        return c;
      })(),
      code: { hash: 'c'.repeat(64) },
      configLabel: 'cfg-z',
      degradeLabel: 'degrade-y',
    });
    const prev = manifest((c) => delete c.retrieval);
    const d = diffReleaseManifests(prev, next);
    expect(d.changed).toEqual(['code', 'prompt', 'retrieval', 'tools']);
    expect(d.components.find((c) => c.component === 'retrieval')!.change).toBe('added');
    expect(d.components.find((c) => c.component === 'tools')!.change).toBe('removed');
    expect(renderManifestDiff(d)).toContain('4 of 7 components changed (code, prompt, retrieval, tools)');
  });

  test('content changed under the same version label is flagged', () => {
    const d = diffReleaseManifests(
      base,
      manifest((c) => (c.prompt.template += 'Be brief.\n')),
    );
    expect(d.components.find((c) => c.component === 'prompt')!.warning).toContain('version label stayed "1"');
  });

  test('compact manifests (as deployed) diff by hash only', () => {
    const d = diffReleaseManifests(
      compactManifest(base),
      manifest((c) => (c.retrieval.topK = 9)),
    );
    expect(d.changed).toEqual(['retrieval']);
    // Only one side has content: no key diff is invented from it.
    expect(renderManifestDiff(d)).toContain('(content not in these manifests: hashes only)');
    const bothCompact = diffReleaseManifests(compactManifest(base), compactManifest(manifest((c) => (c.retrieval.topK = 9))));
    expect(renderManifestDiff(bothCompact)).toContain('(content not in these manifests: hashes only)');
  });

  test('refuses manifests of different services', () => {
    const other = { ...base, service: 'other' };
    expect(() => diffReleaseManifests(base, other)).toThrow('cannot diff manifests of different services ("assistant" vs "other")');
  });
});

describe('diffJson', () => {
  test.each([
    [{ a: 1 }, { a: 1 }, []],
    [{ a: 1 }, { a: 2 }, [['$.a', 'changed']]],
    [{ a: [1, 2] }, { a: [1, 3] }, [['$.a[1]', 'changed']]],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, [['$.a', 'changed']]],
    [{ 'odd key': 1 }, {}, [['$["odd key"]', 'removed']]],
  ])('%j -> %j', (a, b, expected) => {
    expect(diffJson(a, b).map((k) => [k.path, k.kind])).toEqual(expected);
  });
});

describe('parseReleaseManifest', () => {
  test('accepts `aws ssm get-parameter` output', () => {
    const compact = compactManifest(manifest());
    expect(parseReleaseManifest({ Parameter: { Value: JSON.stringify(compact) } })).toEqual(compact);
  });
  test.each([
    [null, 'is not a release manifest'],
    [{ schemaVersion: 2, service: 's', components: {} }, 'is not a release manifest'],
    [{ schemaVersion: 1, service: 's', components: { prompt: { hash: 1 } } }, 'components.prompt needs a string label and hash'],
    [{ Parameter: { Value: 'nope' } }, 'Parameter.Value is not JSON'],
  ])('rejects %j', (json, message) => {
    expect(() => parseReleaseManifest(json, 'x.json')).toThrow(message);
  });
});
