import { ENGINE } from '../lambda/canary-judge/engine';
import type { JudgeObservation } from '../lambda/canary-judge/engine-port';

/** A seeded stream through the engine the handler is bound to (the real statistics, not the wiring tests' fake). */
function stream(seed: number, n: number, canaryShare: number, canaryErrorRate: number, stableErrorRate: number): JudgeObservation[] {
  let x = seed >>> 0;
  const rand = () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, (_, i) => {
    const canary = rand() < canaryShare;
    return {
      version: canary ? 'canary' : 'stable',
      at: 1_700_000_000_000 + i * 100,
      error: rand() < (canary ? canaryErrorRate : stableErrorRate),
      safety: false,
      contract: false,
      latencyMs: 200 + rand() * 50,
    };
  });
}

describe('the canary judge is bound to the statistics engine', () => {
  test('a canary failing 30 % of requests against a 1 % stable is a regression within 2,000 requests at a 10 % share', () => {
    const out = ENGINE.updateJudge(ENGINE.newJudgeState({ alpha: 0.01 }), { canaryShare: 0.1, observations: stream(7, 2000, 0.1, 0.3, 0.01) });
    expect(out.decision).toBe('regression');
    expect(out.evidence.find((e) => e.metric === 'error')!.eValue).toBeGreaterThan(out.evidence.find((e) => e.metric === 'error')!.threshold);
  });

  test('the same traffic from a good canary continues, and the state round-trips through JSON as the handler stores it', () => {
    let state = ENGINE.newJudgeState({ alpha: 0.01 });
    for (let b = 0; b < 4; b++) {
      const out = ENGINE.updateJudge(JSON.parse(JSON.stringify(state)), { canaryShare: 0.1, observations: stream(100 + b, 500, 0.1, 0.01, 0.01) });
      expect(out.decision).toBe('continue');
      state = out.state;
    }
    expect(['no-regression-shown', 'inconclusive']).toContain(ENGINE.concludeJudge(state));
  });
});
