import { type AnswerToSample, buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { createRedactor, redact, redactEveryPass } from '../lambda/runtime/redact';
import {
  MEMO_ENTRIES,
  MEMO_MAX_CHARS,
  PASSAGE_MEMO_MAX_CHARS,
  passageTextHash,
  passageTextHashEntries,
  redactShort,
  redactShortEntries,
} from '../lambda/runtime/sample-memo';
import { sha256Hex } from '../lambda/shared/canonical-json';
import type { VersionTuple } from '../lambda/shared/contract';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE, MUST_SURVIVE_NEW } from './pii-corpus';

// h9-hotpath: the built-in redactor's answers for short texts (passage ids, citations, tool names, stop reasons) are
// kept across samples. What is kept must be what redaction gives, first time and every later time.

const corpus = [...MUST_REDACT.map((r) => r[0]), ...MUST_REDACT_NEW.map((r) => r[0]), ...MUST_SURVIVE, ...MUST_SURVIVE_NEW];

describe('sample memos (h9-hotpath)', () => {
  test('every corpus text gives what every redaction pass gives, the first time and from the memo', () => {
    for (const t of corpus) {
      expect([t, redactShort(redact, t)]).toEqual([t, redactEveryPass(t)]);
      expect([t, redactShort(redact, t)]).toEqual([t, redactEveryPass(t)]);
    }
  });

  test("a service's own redactor is called every time, never answered from the memo", () => {
    let calls = 0;
    const own = createRedactor([{ name: 'ORDER', pattern: /ORD-\d+/g }]);
    const counted = (t: string) => {
      calls++;
      return own(t);
    };
    for (let i = 0; i < 3; i++) expect(redactShort(counted, 'ORD-1 jane@example.com')).toBe('[REDACTED:ORDER] [REDACTED:EMAIL]');
    expect(calls).toBe(3);
    // And the built-in one's answer for the same text is not the service's.
    expect(redactShort(redact, 'ORD-1 jane@example.com')).toBe('ORD-1 [REDACTED:EMAIL]');
  });

  test('it stays bounded and right past its size, and long texts are not kept', () => {
    for (let i = 0; i < MEMO_ENTRIES * 2 + 7; i++) {
      const t = `kb-${i} user${i}@example.com`;
      expect(redactShort(redact, t)).toBe(`kb-${i} [REDACTED:EMAIL]`);
      expect(redactShortEntries()).toBeLessThanOrEqual(MEMO_ENTRIES);
    }
    const before = redactShortEntries();
    const long = `${'a'.repeat(MEMO_MAX_CHARS)} jane@example.com`;
    expect(redactShort(redact, long)).toBe(`${'a'.repeat(MEMO_MAX_CHARS)} [REDACTED:EMAIL]`);
    expect(redactShortEntries()).toBe(before);
  });

  test('samples built one after another redact their passage ids, citations, tools and stop reason alike', () => {
    const tuple = {
      service: 's',
      codeVersion: '1',
      config: 'c',
      prompt: 'p',
      model: 'm',
      retrieval: 'r',
      tools: 't',
      outputContract: 'o',
      degrade: 'd',
    } as VersionTuple;
    const answer = (requestId: string): AnswerToSample => ({
      service: 's',
      requestId,
      time: new Date(0),
      tuple,
      functionVersion: '1',
      arm: 'stable',
      input: '{"q":"x"}',
      answer: 'see kb-1',
      passages: [
        { id: 'kb-jane@example.com', text: 't' },
        { id: 'kb-1', text: 'u' },
      ],
      citations: ['kb-1', 'call 202-555-0142'],
      toolCalls: [{ name: 'lookup' }, { name: 'token=abcdefgh12345678' }],
      stopReason: 'end_turn',
    });
    const first = buildEvaluationSample(answer('a'), 1);
    const second = buildEvaluationSample(answer('b'), 1);
    for (const s of [first, second]) {
      expect(s.passages.map((p) => p.textHash)).toEqual([sha256Hex('t').slice(0, 16), sha256Hex('u').slice(0, 16)]);
      expect(s.passages.map((p) => p.id)).toEqual(['[REDACTED:EMAIL]', 'kb-1']);
      expect(s.citations).toEqual(['kb-1', 'call [REDACTED:PHONE]']);
      expect(s.toolCalls.map((t) => t.name)).toEqual(['lookup', 'token=[REDACTED:SECRET]']);
      expect(s.stopReason).toBe('end_turn');
    }
  });

  test("a passage's text hash is its SHA-256's first 16 hex digits, kept or not, for fresh strings of one text too", () => {
    const texts = ['', 'Deleted files stay in the bin for 30 days.', '退货政策 😀', 'x'.repeat(PASSAGE_MEMO_MAX_CHARS), 'y'.repeat(PASSAGE_MEMO_MAX_CHARS + 1)];
    for (const t of texts)
      for (let i = 0; i < 3; i++) {
        // A fresh string each time (as retrieval returns), not the same object.
        const fresh = [...t].join('');
        expect(passageTextHash(fresh)).toBe(sha256Hex(t).slice(0, 16));
      }
    const before = passageTextHashEntries();
    passageTextHash('z'.repeat(PASSAGE_MEMO_MAX_CHARS + 5));
    expect(passageTextHashEntries()).toBe(before);
    for (let i = 0; i < MEMO_ENTRIES * 2 + 3; i++) {
      expect(passageTextHash(`passage ${i}`)).toBe(sha256Hex(`passage ${i}`).slice(0, 16));
      expect(passageTextHashEntries()).toBeLessThanOrEqual(MEMO_ENTRIES);
    }
  });
});
