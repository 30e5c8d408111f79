import { createHash } from 'node:crypto';
import { sha256Hex } from '../lambda/shared/canonical-json';

/**
 * sha256Hex uses Node's one-shot crypto.hash (h7-hotpath: ~0.4 µs less per hash on the runtime's hot path); every
 * id it makes (case ids, sample ids, the sampling decision, content hashes, config labels) must stay the same as
 * createHash's, for every text a request can carry, and where crypto.hash is missing it falls back to createHash.
 */
const texts: [string, string][] = [
  ['empty', ''],
  ['ASCII', 'support-assistant\nreq-1'],
  ['Latin-1 and accents', 'café naïve ß'],
  ['CJK', '电子邮件 zhang.san@example.com 谢谢'],
  ['emoji (surrogate pairs)', '😀👍🏽'],
  ['a lone high surrogate (encoded as U+FFFD)', 'a\ud800b'],
  ['a lone low surrogate at the end', 'x\udc00'],
  ['NUL and control characters', '\u0000\u0001\u001f\u007f'],
  ['a 1 MB text', 'Files you delete stay in the bin for 30 days. '.repeat(23_000)],
];
const reference = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

describe('sha256Hex', () => {
  test.each(texts)('%s: the same hex as createHash', (_name, text) => {
    expect(sha256Hex(text)).toBe(reference(text));
    expect(sha256Hex(text)).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a known vector (sha256 of "abc")', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('without crypto.hash (Node before 20.12) it falls back to createHash, same hex', () => {
    jest.isolateModules(() => {
      jest.doMock('node:crypto', () => ({ ...jest.requireActual('node:crypto'), hash: undefined }));
      const { sha256Hex: fallback } = require('../lambda/shared/canonical-json');
      for (const [, text] of texts) expect(fallback(text)).toBe(reference(text));
    });
    jest.dontMock('node:crypto');
  });
});
