/**
 * The score tests under uneven execution environments (h12-envscore, issue 17 E / Tests): on the code plane an
 * environment serves one version, so its offset rides on its version's label. The design effect (Kish) that tempers a
 * criterion's e-value (lambda/judge/scores.ts), table-driven; the tempered e-value never above the untempered one
 * where it matters (so the i.i.d. null keeps Ville's bound); a fixed-seed simulation of releases with environment
 * offsets through the engine; and the σ 0.6 world at 10 % scoring through the real wiring (lib/drill/evaluation-world.ts).
 */
import { checkResultsQuery, checkWindow } from '../lambda/canary-judge/check-lines';
import { evaluationWindow } from '../lambda/canary-judge/evaluations';
import type { QueryRow, Sides } from '../lambda/canary-judge/samples';
import { evaluationResultLine } from '../lambda/evaluator/result-line';
import { CHECK_RESULT_TYPE, type EvaluationSample } from '../lambda/shared/evaluation';
import { CODE_SCORES_PER_MINUTE_WARN, type ReleaseFacts, RULE_CODE_SCORES_ENVIRONMENTS } from '../lib/rollout/release-policy';
import { designEffect, type EvaluationState, evaluationEvidence, newEvaluationState, type ScoreObservation, updateEvaluation } from '../lambda/judge/scores';
import { mulberry32, normal } from '../lambda/judge/simulate';
import { runEvalWorld } from '../lib/drill/evaluation-world';
import { codeSteps } from '../lib/rollout/canary-plan';

type Env = Record<string, [number, number, number]>;
/** An environment's counts from its rank scores. */
const env = (gs: readonly number[]): [number, number, number] => [gs.length, gs.reduce((a, g) => a + g, 0), gs.reduce((a, g) => a + g * g, 0)];
const spread = (centre: number, n: number): number[] => Array.from({ length: n }, (_, i) => centre + (i % 2 === 0 ? 0.3 : -0.3));

describe('designEffect: 1 + (m − 1) ρ from environments within versions', () => {
  const cases: [string, Env | undefined, (d: number) => boolean][] = [
    ['no environments named', undefined, (d) => d === 1],
    ['one environment a version: no spread within a version to estimate', { 'c:a': env(spread(0.5, 40)), 's:b': env(spread(-0.5, 40)) }, (d) => d === 1],
    [
      'environments alike within each version (the versions differ: not counted as spread)',
      { 'c:a': env(spread(0.4, 40)), 'c:b': env(spread(0.4, 40)), 's:c': env(spread(-0.4, 40)), 's:d': env(spread(-0.4, 40)) },
      (d) => d === 1,
    ],
    [
      'environments apart within a version: D grows with their size',
      { 'c:a': env(spread(0.3, 40)), 'c:b': env(spread(-0.3, 40)), 's:c': env(spread(0.3, 40)), 's:d': env(spread(-0.3, 40)) },
      (d) => d > 10 && d < 40,
    ],
    [
      'the same spread with ten times the scores: ten times further from 1',
      { 'c:a': env(spread(0.3, 400)), 'c:b': env(spread(-0.3, 400)), 's:c': env(spread(0.3, 400)), 's:d': env(spread(-0.3, 400)) },
      (d) => d > 150 && d < 400,
    ],
  ];
  test.each(cases)('%s', (_name, e, ok) => {
    const d = designEffect(e);
    expect(Number.isFinite(d) && d >= 1).toBe(true);
    expect(ok(d)).toBe(true);
  });
});

describe('options', () => {
  test('environments defaults to design-effect; a bad value names the field and the choices', () => {
    expect(newEvaluationState({ criteria: ['relevance'], paired: false }).options.environments).toBe('design-effect');
    expect(() => newEvaluationState({ criteria: ['relevance'], paired: false, environments: 'per-window' as never })).toThrow(
      /environments must be 'design-effect' or 'ignore', got per-window/,
    );
  });
  test('a score observation whose environment is not a string is refused with the field named', () => {
    const st = newEvaluationState({ criteria: ['relevance'], paired: false });
    const bad = { version: 'canary', criterion: 'relevance', score: 1, environment: 7 } as unknown as ScoreObservation;
    expect(() => updateEvaluation(st, { scores: [bad], paired: [] }, { paired: Infinity, criterion: 100 })).toThrow(/environment must be a string/);
  });
});

describe('the wiring names the environment of every score', () => {
  const sides: Sides = { plane: 'code', canary: '8', stable: '7' };
  const at = Date.parse('2026-12-08T03:00:00.000Z');
  const row = (message: object, extra: QueryRow = []): QueryRow => [{ field: '@message', value: JSON.stringify(message) }, ...extra];
  test("check lines: the query asks for each line's log stream, and its scores carry it", () => {
    expect(checkResultsQuery('support-assistant', at, at + 60_000)).toMatch(/^fields @timestamp, @message, sampleAt, @logStream\n/);
    const line = {
      type: CHECK_RESULT_TYPE,
      service: 'support-assistant',
      requestId: 'r1',
      functionVersion: '8',
      config: 'c',
      sampleAt: at + 1,
      scores: { length: 1 },
    };
    const w = checkWindow([row(line, [{ field: '@logStream', value: '2026/12/08/[8]abc' }]), row({ ...line, requestId: 'r2' })], at, at + 60_000, sides);
    expect(w.scores.map((x) => x.environment)).toEqual(['2026/12/08/[8]abc', undefined]);
  });
  test("evaluator result lines: the delivery's log stream is written on the line and read into the scores", () => {
    const sample = {
      service: 'support-assistant',
      sampleId: 'abc',
      requestId: 'r1',
      time: new Date(at + 5).toISOString(),
      tuple: { config: 'c' },
      functionVersion: '8',
      arm: 'canary',
      caseId: 'case-9',
    } as unknown as EvaluationSample;
    const result = {
      sampleId: 'abc',
      service: 'support-assistant',
      arm: 'canary' as const,
      functionVersion: '8',
      caseId: 'case-9',
      scores: [{ criterion: 'relevance' as const, score: 4, reason: '', source: 'model' as const }],
      unscored: [],
      costUsd: 0,
      belowFloor: [],
    };
    const named = evaluationResultLine(result, sample, '2026/12/08/[8]abc');
    expect(named.environment).toBe('2026/12/08/[8]abc');
    expect(evaluationResultLine(result, sample).environment).toBeUndefined();
    const w = evaluationWindow([row(named)], at, at + 60_000, sides);
    expect(w.batch.scores).toEqual([{ version: 'canary', criterion: 'relevance', score: 4, environment: '2026/12/08/[8]abc' }]);
  });
});

describe("release policy: the code canary's score tests at a high scoring rate", () => {
  const facts = (rps: number, samplingRate: number, judged: string[], planes: ('code' | 'config')[] = ['code', 'config']) =>
    ({
      canaryPlan: { traffic: { requestsPerSecond: rps }, plan: { evaluation: { samplingRate } } },
      judgedEvaluation: judged,
      verdictAlarms: planes.map((plane) => ({ plane, name: `${plane}-verdict` })),
    }) as unknown as ReleaseFacts;
  const scored = ['evaluation:groundedness', 'evaluation:guardrail-relevance', 'evaluation:paired'];
  const cases: [string, ReleaseFacts, boolean][] = [
    ["the example's rates (0.5 % of 5 requests/s: 1.5 scores a minute)", facts(5, 0.005, scored), false],
    ['10 % of 5 requests/s (30 a minute)', facts(5, 0.1, scored), true],
    [`just below ${CODE_SCORES_PER_MINUTE_WARN} a minute`, facts(1, (CODE_SCORES_PER_MINUTE_WARN - 0.1) / 60, scored), false],
    ['only the paired test judged', facts(5, 0.1, ['evaluation:paired']), false],
    ['no code-plane judge', facts(5, 0.1, scored, ['config']), false],
  ];
  test.each(cases)('%s', (_name, f, warns) => {
    const w = RULE_CODE_SCORES_ENVIRONMENTS.check(f);
    expect(w.length).toBe(warns ? 1 : 0);
    if (warns) {
      expect(w[0]).toContain('evaluation samplingRate 0.1');
      expect(w[0]).toContain('about 30 scores a minute');
      expect(w[0]).toContain('groundedness, guardrail-relevance');
      expect(w[0]).not.toContain('paired)');
      expect(w[0]).toMatch(/keep samplingRate below 0\.02 on the code plane/);
      expect(w[0]).toContain('bench/RESULTS.md § h12-envscore');
    }
  });
});

interface SimRelease {
  readonly sigma: number;
  readonly drop: number;
  readonly environments: 'design-effect' | 'ignore';
  readonly named: boolean;
}

/**
 * One release through the engine: 40 one-minute batches of 20 scored answers at a share ramping 5 % → 95 %, three
 * environments a version with latent offsets σ N(0, 1), scores rounded to the rubric's 1–5 (ties, as production has
 * them), the canary's answers `drop` lower. Returns whether the criterion reached 1/α (α 0.05: one criterion alone).
 */
function release(seed: number, o: SimRelease): boolean {
  const r = mulberry32(seed);
  const off = { canary: [0, 1, 2].map(() => o.sigma * normal(r)), stable: [0, 1, 2].map(() => o.sigma * normal(r)) };
  let st: EvaluationState = newEvaluationState({ criteria: ['relevance'], paired: false, minScores: 20, environments: o.environments });
  for (let b = 0; b < 40; b++) {
    const s = 0.05 + (0.9 * b) / 39;
    const scores: ScoreObservation[] = [];
    for (let i = 0; i < 20; i++) {
      const version = r() < s ? 'canary' : 'stable';
      const e = Math.floor(r() * 3);
      const latent = 4 + off[version][e] - (version === 'canary' ? o.drop : 0) + 0.7 * normal(r);
      scores.push({
        version,
        criterion: 'relevance',
        score: Math.min(5, Math.max(1, Math.round(latent))),
        ...(o.named ? { environment: `${version}-${e}` } : {}),
      });
    }
    st = updateEvaluation(st, { scores, paired: [] }, { paired: Infinity, criterion: 20 }, 'request');
    if (st.criteria[0].fired) return true;
  }
  return false;
}

const rate = (n: number, o: SimRelease) => {
  let k = 0;
  for (let seed = 1; seed <= n; seed++) if (release(seed * 7919 + 1, o)) k++;
  return k / n;
};

describe('releases through the engine with environment offsets (400 fixed seeds each, α 0.05 for one criterion)', () => {
  // Tolerance: 400 seeds put a rate's binomial standard error near 1.1 points at 5 %; the bound asserted is α + 2 points.
  test('no environment offsets, environments named: at most α + 2 points (the i.i.d. null keeps its bound)', () => {
    expect(rate(400, { sigma: 0, drop: 0, environments: 'design-effect', named: true })).toBeLessThanOrEqual(0.07);
  });
  test('offsets σ 0.6 nested in versions: every score as independent rolls back far above α; the design effect brings it to α + 2 points', () => {
    const ignored = rate(400, { sigma: 0.6, drop: 0, environments: 'ignore', named: true });
    const tempered = rate(400, { sigma: 0.6, drop: 0, environments: 'design-effect', named: true });
    expect(ignored).toBeGreaterThan(0.2);
    expect(tempered).toBeLessThanOrEqual(0.07);
  });
  test('a regression of half a point on every canary answer is still caught where environments are alike', () => {
    expect(rate(100, { sigma: 0, drop: 0.5, environments: 'design-effect', named: true })).toBeGreaterThanOrEqual(0.9);
  });
});

describe('the tempered e-value is never above the untempered one once it is above 1', () => {
  test('the same scores with and without environments named', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = mulberry32(seed);
      let a = newEvaluationState({ criteria: ['relevance'], paired: false });
      let b = newEvaluationState({ criteria: ['relevance'], paired: false, environments: 'ignore' });
      for (let k = 0; k < 10; k++) {
        const scores: ScoreObservation[] = Array.from({ length: 30 }, () => {
          const version = r() < 0.4 ? 'canary' : 'stable';
          const e = Math.floor(r() * 3);
          return {
            version,
            criterion: 'relevance',
            score: Math.round(4 + (version === 'canary' ? -0.5 : 0) + (e - 1) * 0.5 + normal(r)),
            environment: `${version}-${e}`,
          };
        });
        a = updateEvaluation(a, { scores, paired: [] }, { paired: Infinity, criterion: 1e6 }, 'request');
        b = updateEvaluation(b, { scores, paired: [] }, { paired: Infinity, criterion: 1e6 }, 'request');
        const ea = evaluationEvidence(a, { paired: Infinity, criterion: 1e6 })[0].eValue;
        const eb = evaluationEvidence(b, { paired: Infinity, criterion: 1e6 })[0].eValue;
        if (eb >= 1) expect(ea).toBeLessThanOrEqual(eb * (1 + 1e-12));
      }
    }
  });
});

describe('the σ 0.6 world at 10 % scoring through the wiring (bench/guardrail-judge.ts row 14, first seeds)', () => {
  const world = (seed: number, stamp: boolean) =>
    runEvalWorld({
      seed,
      rps: 5,
      samplingRate: 0.1,
      pairSamplingRate: 0.1,
      pairedLoss: 0.5,
      scoreDrop: 0,
      positionBias: 0.7,
      alpha: 0.01,
      plane: 'code',
      steps: codeSteps('linear', 5, 3),
      disturbance: 'retries',
      guardrail: {},
      environments: { perVersion: 3, rubric: 0.6, guardrail: 0.6, stamp },
    });
  test('good releases are not rolled back with environments named; without them (the engine before) some are', async () => {
    const named = await Promise.all(SEEDS.map((s) => world(s, true)));
    expect(named.filter((x) => x.caughtAtMinute !== undefined).length).toBe(0);
    const before = await world(CONTROL_SEED, false);
    expect(before.caughtAtMinute).toBeDefined();
  }, 30_000);
});

/**
 * Seeds 250_001 … 250_008 (bench/guardrail-judge.ts row 14's, without its check offsets): with the environments not
 * named (the engine before) 4 of these 8 were rolled back (250_002 and 250_008 by groundedness, 250_004 and 250_007
 * by guardrail-relevance); 250_002 at minute 16.
 */
const SEEDS = Array.from({ length: 8 }, (_, i) => 250_001 + i);
const CONTROL_SEED = 250_002;
