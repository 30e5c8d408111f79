import { combineOrders, newPairedState, pairedEValue, pairedVerdict, updatePaired } from '../lambda/judge/paired';
import { compileForbiddenPatterns, dominantScript, isRefusal, runDeterministicChecks } from '../lambda/evaluator/deterministic';
import type { PairedOutcome } from '../lambda/shared/evaluation';
import { rng } from '../lib/drill/traffic';

describe('deterministic evaluators', () => {
  const base = {
    input: 'How do I reset my password?',
    answer: 'Open Settings, then Security [p1].',
    passages: [{ id: 'p1', textHash: 'h1' }],
    citations: ['p1'],
  };
  test.each([
    ['valid citations pass', base, {}, 'citation-validity', 1],
    ['a citation that was never retrieved fails', { ...base, citations: ['p1', 'p9'] }, {}, 'citation-validity', 0],
    ['a refusal is scored 0', { ...base, answer: "Sorry, I can't help with that." }, {}, 'refusal-phrase', 0],
    ['curly apostrophes still match', { ...base, answer: 'I can’t help with that.' }, {}, 'refusal-phrase', 0],
    [
      'custom refusal phrases replace the defaults',
      { ...base, answer: 'Désolé, je ne peux pas.' },
      { refusalPhrases: ['je ne peux pas'] },
      'refusal-phrase',
      0,
    ],
    ['an English answer to a Japanese question fails', { ...base, input: 'パスワードをリセットするには?', answer: 'Open Settings.' }, {}, 'language-match', 0],
    [
      'a Japanese answer with Han and kana passes',
      { ...base, input: 'パスワードをリセットするには?', answer: '設定を開いてください。' },
      {},
      'language-match',
      1,
    ],
    ['too short fails', { ...base, answer: 'Yes.' }, { minChars: 10 }, 'length', 0],
    ['too long fails', base, { maxChars: 5 }, 'length', 0],
    [
      'a forbidden pattern fails',
      { ...base, answer: 'Call 1-800 and give your password' },
      { forbiddenPatterns: ['give (me )?your password'] },
      'forbidden-pattern',
      0,
    ],
  ] as const)('%s', (_name, sample, checks, criterion, score) => {
    const scores = runDeterministicChecks(sample, checks);
    const s = scores.find((x) => x.criterion === criterion);
    expect(s?.score).toBe(score);
    expect(s?.reason.length).toBeGreaterThan(0);
  });

  test('checks that are off are not reported', () => {
    const names = runDeterministicChecks(base, { citationValidity: false, languageMatch: false }).map((s) => s.criterion);
    expect(names).toEqual(['refusal-phrase']);
  });

  test('a bad forbidden pattern names its index and the fix', () => {
    expect(() => compileForbiddenPatterns(['ok', '(unclosed'])).toThrow(/forbiddenPatterns\[1\].*not a valid regular expression.*fix or remove/);
  });

  test.each([
    ['Hello there', 'latin'],
    ['Привет', 'cyrillic'],
    ['你好', 'han'],
    ['こんにちは', 'kana'],
    ['12345 !!', undefined],
  ])('dominantScript(%s) = %s', (text, script) => expect(dominantScript(text)).toBe(script));

  test('isRefusal returns the phrase it matched', () => expect(isRefusal('I am unable to   do that')).toBe('i am unable to'));
});

describe('paired sign test', () => {
  test.each([
    ['A', 'B', 'canary'],
    ['B', 'A', 'stable'],
    ['A', 'A', 'tie'], // position bias: the first answer wins both times
    ['B', 'B', 'tie'],
    ['tie', 'B', 'tie'],
  ] as const)('orders %s then %s give %s', (first, second, outcome) => expect(combineOrders(first, second)).toBe(outcome));

  test('a repeated input counts once', () => {
    const s = updatePaired(newPairedState(), [
      { caseId: 'c1', outcome: 'stable' },
      { caseId: 'c1', outcome: 'stable' },
      { caseId: 'c2', outcome: 'tie' },
    ]);
    expect([s.stableWins, s.canaryWins, s.ties]).toEqual([1, 0, 1]);
  });

  test('the e-value of an empty state is 1 and grows only with stable wins', () => {
    expect(pairedEValue(newPairedState())).toBeCloseTo(1, 12);
    const wins = updatePaired(newPairedState(), [{ caseId: 'a', outcome: 'canary' }]);
    expect(pairedEValue(wins)).toBeLessThan(1);
    const losses = updatePaired(newPairedState(), [{ caseId: 'a', outcome: 'stable' }]);
    expect(pairedEValue(losses)).toBeGreaterThan(1);
  });

  test('bad alpha is refused with the field', () => expect(() => pairedVerdict(newPairedState(), 0)).toThrow(/alpha must be in \(0, 1\)/));

  /**
   * A position-biased evaluator (prefers the first answer 70 % of the time, whatever the answers) on a good release:
   * the orders disagree often (ties), the rest are fair coin flips, so no false regression may follow. 400 seeds of
   * 300 pairs each, α = 0.05: the bound allows 5 %; a broken test (betting on raw first-order preferences) would fire
   * in most seeds. The upper 99 % binomial bound of 400 draws at 5 % is about 8.4 %.
   */
  test('a first-position-biased evaluator on a good release: false regressions stay under α', () => {
    let fired = 0;
    const seeds = 400;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = rng(seed);
      const pref = (): 'A' | 'B' => (r() < 0.7 ? 'A' : 'B');
      let s = newPairedState();
      let any = false;
      for (let i = 0; i < 300; i += 5) {
        const batch = Array.from({ length: 5 }, (_, j) => ({ caseId: `c${i + j}`, outcome: combineOrders(pref(), pref()) }));
        s = updatePaired(s, batch);
        if (pairedVerdict(s, 0.05).regression) any = true; // looked at after every batch: anytime-valid
      }
      if (any) fired++;
    }
    expect(fired / seeds).toBeLessThan(0.084);
  });

  test('a canary that loses 60 % of untied pairs is caught within 400 pairs in most seeds', () => {
    let caught = 0;
    const seeds = 200;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = rng(1000 + seed);
      let s = newPairedState();
      for (let i = 0; i < 400 && !pairedVerdict(s, 0.01).regression; i += 5) {
        const outcome = (): PairedOutcome => (r() < 0.3 ? 'tie' : r() < 0.6 ? 'stable' : 'canary');
        s = updatePaired(
          s,
          Array.from({ length: 5 }, (_, j) => ({ caseId: `c${i + j}`, outcome: outcome() })),
        );
      }
      if (pairedVerdict(s, 0.01).regression) caught++;
    }
    expect(caught / seeds).toBeGreaterThan(0.5);
  });
});
