/**
 * The per-release evaluation budget (issue 17, h5-evtrust): spend is keyed by the release in progress, told from the
 * version tuples of the service's answers, not by service and day; the day cap stays. Table-driven on the pure ledger,
 * then racing evaluators on the S3 model with conditional writes (real SDK client, real adapter), and the review's
 * line when sampling stopped.
 */
import { s3Ledger } from '../lambda/evaluator/aws-adapters';
import { admit, charge, type Ledger, newLedger, observeTuple, RELEASE_WINDOW_MS, readLedger, releaseEntryFor, tupleKey } from '../lambda/evaluator/budget';
import { type ConverseResponse, SCORE_TOOL } from '../lambda/evaluator/converse';
import { evaluateSample } from '../lambda/evaluator/evaluator';
import { describeBudget, reviewEvaluatorTrust, storeEvaluatorTrust } from '../lambda/review/evaluator-trust';
import type { VersionTuple } from '../lambda/shared/contract';
import { EVALUATION_SAMPLE_TYPE, type EvaluationConfig, type EvaluationSample, evaluationLedgerKey } from '../lambda/shared/evaluation';
import { s3Store } from '../lambda/snapshot/s3-store';
import { withRetries } from '../lambda/snapshot/store';
import { codeRelease } from './review-fixtures';
import { modelClient, startS3Model } from './s3-model';

const T0 = Date.parse('2026-12-07T06:00:00.000Z');
const min = (m: number) => new Date(T0 + m * 60_000);
const tuple = (codeVersion: string, config = 'cfg-1'): VersionTuple => ({
  service: 'support',
  codeVersion,
  config,
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  degrade: 'd',
});

describe('which release a sample is charged to', () => {
  /** Feeds (minute, code version, config) answers through the ledger; returns the release each was charged to. */
  function charged(answers: readonly [number, string, string?][]): (string | undefined)[] {
    let l: Ledger = newLedger(min(0));
    return answers.map(([m, v, c]) => {
      const o = observeTuple(l, tuple(v, c), min(m));
      l = o.ledger;
      return o.releaseKey;
    });
  }
  const v7 = tupleKey(tuple('7'));
  const v8 = tupleKey(tuple('8'));

  test.each<[string, [number, string, string?][], (string | undefined)[]]>([
    [
      'steady state: one tuple, no release (day budget only)',
      [
        [0, '7'],
        [5, '7'],
        [40, '7'],
      ],
      [undefined, undefined, undefined],
    ],
    [
      'a code canary: both arms are charged to the new version from its first answer on',
      [
        [0, '7'],
        [1, '8'],
        [2, '7'],
        [3, '8'],
      ],
      [undefined, v8, v8, v8],
    ],
    [
      'promotion: 15 minutes after the old version last answered, the new one is the steady state',
      [
        [0, '7'],
        [1, '8'],
        [10, '7'],
        [20, '8'],
        [26, '8'],
      ],
      [undefined, v8, v8, v8, undefined],
    ],
    [
      'rollback: the old version keeps being charged to the failed release until the new one falls out of the window',
      [
        [0, '7'],
        [1, '8'],
        [2, '7'],
        [10, '7'],
        [18, '7'],
      ],
      [undefined, v8, v8, v8, undefined],
    ],
    [
      'a config release on the same code version is its own release',
      [
        [0, '8', 'cfg-1'],
        [1, '8', 'cfg-2'],
        [2, '8', 'cfg-1'],
      ],
      [undefined, tupleKey(tuple('8', 'cfg-2')), tupleKey(tuple('8', 'cfg-2'))],
    ],
    [
      'deliveries out of order: a late answer of the old version still counts as serving',
      [
        [10, '8'],
        [0, '7'],
        [11, '8'],
      ],
      [undefined, v8, v8],
    ],
  ])('%s', (_what, answers, expected) => {
    expect(charged(answers)).toEqual(expected);
    expect(RELEASE_WINDOW_MS).toBe(15 * 60_000);
  });

  test('each release has its own cap; the day cap covers everything', () => {
    let l = newLedger(min(0));
    l = observeTuple(l, tuple('7'), min(0)).ledger;
    const a = observeTuple(l, tuple('8'), min(1));
    l = charge(a.ledger, 0.9, a.releaseKey);
    const caps = { perReleaseUsd: 1, perDayUsd: 5 };
    expect(admit(l, caps, 0.2, min(2), v8)).toMatchObject({ admit: false, by: 'release' });
    const refused = admit(l, caps, 0.2, min(2), v8);
    expect(!refused.admit && refused.ledger.releases[v8]).toMatchObject({ stoppedAt: min(2).toISOString(), stoppedBy: 'release', spentUsd: 0.9 });
    // The next release starts from zero; the steady state pays from the day only.
    const b = observeTuple(l, tuple('9'), min(3));
    expect(b.releaseKey).toBe(tupleKey(tuple('9')));
    expect(admit(b.ledger, caps, 0.2, min(3), b.releaseKey)).toEqual({ admit: true });
    expect(admit({ ...l, daySpentUsd: 4.9 }, caps, 0.2, min(3), undefined)).toMatchObject({ admit: false, by: 'day' });
  });

  test('a config release is capped by the same perReleaseUsd as a code release (h12-pairplane: its pairing rate is its own, its budget is not)', () => {
    let l = newLedger(min(0));
    l = observeTuple(l, tuple('8', 'cfg-1'), min(0)).ledger;
    const c = observeTuple(l, tuple('8', 'cfg-2'), min(1));
    const key = tupleKey(tuple('8', 'cfg-2'));
    expect(c.releaseKey).toBe(key);
    const caps = { perReleaseUsd: 1, perDayUsd: 5 };
    l = charge(c.ledger, 0.9, key);
    expect(admit(l, caps, 0.05, min(2), key)).toEqual({ admit: true });
    expect(admit(l, caps, 0.2, min(2), key)).toMatchObject({ admit: false, by: 'release' });
  });

  test('a ledger of the first format (release = service and day) keeps its day spend and drops the day-release', () => {
    const old = { releaseKey: 'support-2026-12-07', releaseSpentUsd: 0.7, day: '2026-12-07', daySpentUsd: 2.5, stoppedAt: 'x', stoppedBy: 'day' };
    expect(readLedger(old, min(0))).toEqual({ schemaVersion: 2, day: '2026-12-07', daySpentUsd: 2.5, dayStoppedAt: 'x', tuples: {}, releases: {} });
  });

  test('the review finds its release by plane and new version', () => {
    let l = newLedger(min(0));
    for (const [m, v, c] of [
      [0, '7', 'cfg-1'],
      [1, '8', 'cfg-1'],
      [30, '8', 'cfg-1'],
      [31, '8', 'cfg-2'],
    ] as const)
      l = observeTuple(l, tuple(v, c), min(m)).ledger;
    expect(releaseEntryFor(l, 'code', '8')?.key).toBe(v8);
    expect(releaseEntryFor(l, 'config', 'cfg-2')?.key).toBe(tupleKey(tuple('8', 'cfg-2')));
    expect(releaseEntryFor(l, 'code', '9')).toBeUndefined();
    expect(v7).toBe('code-7+config-cfg-1');
  });
});

describe('racing evaluators on the S3 model with conditional writes', () => {
  const config: EvaluationConfig = {
    evaluatorModel: {
      modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 },
      maxTokens: 200,
    },
    rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.' }],
    samplingRate: 1,
    budget: { perReleaseUsd: 0.04, perDayUsd: 0.12 },
  };
  const sample = (i: number, codeVersion: string, m: number, arm: 'canary' | 'stable'): EvaluationSample => ({
    type: EVALUATION_SAMPLE_TYPE,
    service: 'support',
    sampleId: `s${codeVersion}-${i}`,
    requestId: `r${codeVersion}-${i}`,
    time: min(m).toISOString(),
    tuple: tuple(codeVersion),
    functionVersion: codeVersion,
    arm,
    caseId: `c${i}`,
    input: `How do I reset device ${i}?`,
    answer: 'Hold the button for 10 seconds.',
    passages: [],
    citations: [],
    toolCalls: [],
    inputTokens: 50,
    outputTokens: 10,
    sampledAt: 1,
  });
  const model = {
    converse: async (): Promise<ConverseResponse> => ({
      output: { message: { content: [{ toolUse: { name: SCORE_TOOL, input: { score: 4, reason: 'answers' } } }] } },
      usage: { inputTokens: 400, outputTokens: 60 },
    }),
  };

  test('steady state, then a release, then another: each release stays within its cap, the day within its own, and the throttle (and any stop) is recorded', async () => {
    const m = await startS3Model({ latencyMs: [2, 25] });
    const client = modelClient(m.endpoint);
    try {
      const store = withRetries(s3Store(client, m.bucket));
      let seed = 11;
      const ports = () => ({
        model,
        ledger: s3Ledger(store, evaluationLedgerKey('support')),
        sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
        random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
        now: () => min(40),
      });
      const run = (samples: EvaluationSample[]) => Promise.all(samples.map((s) => evaluateSample(s, config, ports(), {})));
      // Steady state on version 7: 6 samples, day budget only.
      const steady = await run(Array.from({ length: 6 }, (_, i) => sample(i, '7', 0, 'stable')));
      // Release of version 8: 30 samples of both arms at once, far more than its 0.04 USD allow.
      const release8 = await run(Array.from({ length: 30 }, (_, i) => sample(i, i % 2 ? '8' : '7', 1 + i / 30, i % 2 ? 'canary' : 'stable')));
      // Version 8 alone after its promotion (7 last answered at minute 2): the steady state again.
      const after8 = [];
      for (const m of [18, 24, 29]) after8.push(...(await run([sample(m, '8', m, 'stable')])));
      // Release of version 9.
      const release9 = await run(Array.from({ length: 20 }, (_, i) => sample(i, i % 2 ? '9' : '8', 30 + i / 20, i % 2 ? 'canary' : 'stable')));

      const ledger = readLedger(JSON.parse(m.objects.get(evaluationLedgerKey('support'))?.body ?? '{}'), min(40));
      const sum = (rs: { costUsd: number }[]) => rs.reduce((s, r) => s + r.costUsd, 0);
      const v8 = tupleKey(tuple('8'));
      const v9 = tupleKey(tuple('9'));
      expect(steady.every((r) => r.releaseKey === undefined && r.costUsd > 0)).toBe(true);
      // Every canary answer is charged to its release; a stable answer that reaches the ledger before the release's first
      // canary answer is still the steady state's (the day budget's): the race decides how many.
      const charged = (rs: typeof release8, key: string, canary: string) =>
        rs.filter((r) => !r.skipped).every((r) => r.releaseKey === key || (r.releaseKey === undefined && !r.sampleId.startsWith(canary)));
      expect(charged(release8, v8, 's8-')).toBe(true);
      expect(release8.filter((r) => r.sampleId.startsWith('s8-') && !r.skipped).every((r) => r.releaseKey === v8)).toBe(true);
      // Never over a cap, whatever the interleaving; the ledger holds exactly what was spent.
      const of8 = release8.filter((r) => r.releaseKey === v8);
      expect(sum(of8)).toBeLessThanOrEqual(0.04 + 1e-12);
      expect(ledger.releases[v8].spentUsd).toBeCloseTo(sum(of8), 12);
      // Past half its cap the release was throttled (both arms at one falling rate, by case-id hash), or a reservation
      // jumped past the cap first (a stop), or both: which is the race's.
      expect(ledger.releases[v8]).toMatchObject({ codeVersion: '8' });
      expect(ledger.releases[v8].throttledBy === 'release' || ledger.releases[v8].stoppedBy === 'release').toBe(true);
      // The cap stopped sampling; how many stable answers reached the ledger before the first canary one (and so were
      // the day's) is the race's, so the split is checked as a whole: charged to the release, the day's, or stopped.
      const stopped = release8.filter((r) => r.skipped === 'budget-release').length;
      const dayOnly = release8.filter((r) => !r.skipped && r.releaseKey === undefined).length;
      expect(stopped).toBeGreaterThan(0);
      const scored8 = of8.filter((r) => !r.skipped).length;
      expect(scored8 + dayOnly + stopped).toBe(30);
      expect(scored8).toBeGreaterThan(0);
      expect(after8.every((r) => r.releaseKey === undefined)).toBe(true);
      expect(charged(release9, v9, 's9-')).toBe(true);
      const of9 = release9.filter((r) => r.releaseKey === v9);
      expect(sum(of9)).toBeLessThanOrEqual(0.04 + 1e-12);
      expect(ledger.releases[v9].spentUsd).toBeCloseTo(sum(of9), 12);
      expect(ledger.daySpentUsd).toBeCloseTo(sum(steady) + sum(release8) + sum(after8) + sum(release9), 12);
      expect(ledger.daySpentUsd).toBeLessThanOrEqual(0.12 + 1e-12);

      // The review of the code release to version 8 says sampling stopped, when, and by which cap.
      const trust = await reviewEvaluatorTrust(
        storeEvaluatorTrust(store),
        { ...codeRelease, service: 'support' },
        {
          steps: [],
          from: '7',
          to: '8',
        },
      );
      expect(trust?.budget).toMatchObject({ releaseKey: v8 });
      if (ledger.releases[v8].throttledAt) {
        expect(trust?.budget).toMatchObject({ throttledAt: ledger.releases[v8].throttledAt, lowestRate: ledger.releases[v8].lowestRate });
        expect(trust?.budgetLine).toContain(`from ${ledger.releases[v8].throttledAt} the budget ran short and both arms were scored at one falling rate`);
      }
      if (ledger.releases[v8].stoppedAt) {
        expect(trust?.budget).toMatchObject({ stoppedBy: 'release', stoppedAt: ledger.releases[v8].stoppedAt });
        expect(trust?.budgetLine).toContain(`**sampling stopped at ${ledger.releases[v8].stoppedAt}** because the release budget was spent`);
      } else expect(trust?.budgetLine).toContain('sampling never stopped');
    } finally {
      client.destroy();
      await m.close();
    }
  }, 60_000);

  test("a settle that keeps losing races leaves the over-reservation charged and the sample's scores kept, never an error", async () => {
    let stored: unknown;
    let writes = 0;
    const ledger = {
      read: async () => ({ ledger: stored as never, etag: stored ? 'e' : undefined }),
      // The reservation commits; every later write loses (another evaluator always commits first).
      write: async (l: unknown) => {
        if (writes++ > 0) return false;
        stored = l;
        return true;
      },
    };
    const r = await evaluateSample(sample(1, '7', 0, 'stable'), config, { model, ledger, sleep: async () => {}, random: () => 0, now: () => min(0) }, {});
    expect(r.scores.some((s) => s.source === 'model')).toBe(true);
    expect(r.unsettledUsd).toBeGreaterThan(0);
    expect(r.unscored.at(-1)?.reason).toContain('was not recorded: evaluation ledger: 40 compare-and-swap attempts lost');
    expect(readLedger(stored, min(0)).daySpentUsd).toBeCloseTo(r.costUsd + (r.unsettledUsd ?? 0), 12);
  });

  test('the budget line when sampling never stopped', () => {
    expect(describeBudget({ releaseKey: 'k', spentUsd: 0.0123, perReleaseUsd: 5 })).toBe(
      'evaluation budget: 0.0123 USD spent of the 5.00 USD release budget; sampling never stopped',
    );
  });
});
