/**
 * Canary oversampling in the runtime (issue 17 B): during a config release the assignment gives the arm and the share,
 * the canary is sampled at r / (2s) and stable at r / (2(1 - s)), and each sample records the chance that a sampled
 * answer was the canary's, which the judge bets at (its bias under oversampling: test/judge-evaluation-sim.test.ts).
 */
import { AiRuntime, type AiHandler } from '../lambda/runtime';
import { armSamplingRate, sampledCanaryShare, samplingArm } from '../lambda/runtime/evaluation-sampler';
import type { ConfigAssignment } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

describe('the sampled canary share', () => {
  test.each([
    [0.05, 0.1, 0.5], // oversampled: half the samples are the canary's
    [0.05, 0.5, 0.5],
    [0.05, 0.9, 0.5],
    [0.5, 0.1, 0.1 / (0.1 + 0.9 * (0.5 / 1.8))], // the canary's rate is capped at 1
    [1, 0.2, 0.2 / (0.2 + 0.8 * (1 / 1.6))], // the canary at 1 (capped), stable at 1/1.6
  ])('base %d at share %d → %d', (base, share, expected) => expect(sampledCanaryShare(base, share)).toBeCloseTo(expected, 12));

  test('it is what sampling at the two rates gives (100,000 simulated requests)', () => {
    let x = 12345;
    const u = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const [base, share] of [
      [0.05, 0.1],
      [0.5, 0.1],
    ]) {
      let c = 0;
      let n = 0;
      for (let i = 0; i < 100_000; i++) {
        const arm = u() < share ? 'canary' : 'stable';
        if (u() < armSamplingRate(base, arm, share)) {
          n++;
          if (arm === 'canary') c++;
        }
      }
      expect(Math.abs(c / n - sampledCanaryShare(base, share))).toBeLessThan(0.02);
    }
  });

  test('a share of 0 or 1 has no sampled share (no release, or no control)', () => {
    expect(() => sampledCanaryShare(0.05, 1)).toThrow(/strictly between 0 and 1/);
  });

  test.each([
    [undefined, { arm: 'stable' }],
    [{ arm: 'candidate', share: 0.2, releaseKey: '' }, { arm: 'stable' }], // no release
    [
      { arm: 'candidate', share: 0.2, releaseKey: 'config-e-3' },
      { arm: 'canary', share: 0.2 },
    ],
    [
      { arm: 'live', share: 0.2, releaseKey: 'config-e-3' },
      { arm: 'stable', share: 0.2 },
    ],
    [
      { arm: 'candidate', share: 0.2, releaseKey: 'config-e-3', fallback: 'candidate-unavailable' },
      { arm: 'stable', share: 0.2 },
    ], // served live
    [{ arm: 'candidate', share: 1, releaseKey: 'config-e-3' }, { arm: 'stable' }], // full: no control to balance
  ] as const)('assignment %j → %j', (assignment, expected) => expect(samplingArm(assignment)).toEqual(expected));
});

type In = { question: string };
type Out = { answer: string };
const evaluation = {
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness' as const, instructions: 'Supported by the passages.' }],
  samplingRate: 0.05,
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
};
const answer: AiHandler<In, Out> = async () => ({ output: { answer: 'ok' }, usage: { inputTokens: 10, outputTokens: 2, modelId: 'primary-model' } });

describe('the runtime oversamples the config canary', () => {
  test('at a 10 % candidate share both arms give comparable counts; samples carry arm, unit and sampled share', async () => {
    const telemetry = new RecordingTelemetry();
    let t = 1_000_000;
    const rt = new AiRuntime<In, Out>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: releaseDoc({ evaluation } as never), deg: NO_FLAGS }),
      telemetry,
      codeVersion: '12',
      now: () => (t += 5),
      defaultTimeoutMs: 30_000,
      timeoutMarginMs: 0,
    });
    const n = 6000;
    for (let i = 0; i < n; i++) {
      const candidate = i % 10 === 0;
      const assignment: ConfigAssignment = {
        arm: candidate ? 'candidate' : 'live',
        share: 0.1,
        releaseKey: 'config-e-3',
        unit: `unit${i}`,
        unitKind: 'conversation',
      };
      await rt.invoke(answer, { question: `q${i}` }, { awsRequestId: `r${i}` }, assignment);
    }
    const canary = telemetry.samples.filter((s) => s.arm === 'canary');
    const stable = telemetry.samples.filter((s) => s.arm === 'stable');
    // Expected: 600 × 0.25 = 150 canary, 5,400 × 0.05/1.8 = 150 stable (without oversampling: 30 and 270).
    expect(canary.length).toBeGreaterThan(110);
    expect(stable.length).toBeGreaterThan(110);
    expect(canary.length / stable.length).toBeGreaterThan(0.7);
    expect(canary.length / stable.length).toBeLessThan(1.4);
    expect(canary[0]).toMatchObject({ sampledAt: 0.25, armShare: 0.5 });
    expect(stable[0]).toMatchObject({ sampledAt: 0.05 / 1.8, armShare: 0.5 });
    expect(canary[0].conversationId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('the runtime pairs the config canary at paired.configSamplingRate (h12-pairplane)', () => {
  /** 4,000 requests at a 50 % share, every other one the candidate's; the samples each arm gave. */
  async function run(paired: unknown, assigned: boolean) {
    const telemetry = new RecordingTelemetry();
    let t = 1_000_000;
    const rt = new AiRuntime<In, Out>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: releaseDoc({ evaluation: { ...evaluation, samplingRate: 0.005, paired } } as never), deg: NO_FLAGS }),
      telemetry,
      codeVersion: '12',
      now: () => (t += 5),
      defaultTimeoutMs: 30_000,
      timeoutMarginMs: 0,
    });
    for (let i = 0; i < 4000; i++) {
      const assignment: ConfigAssignment = {
        arm: i % 2 === 0 ? 'candidate' : 'live',
        share: 0.5,
        releaseKey: 'config-e-3',
        unit: `u${i}`,
        unitKind: 'conversation',
      };
      if (assigned) await rt.invoke(answer, { question: `q${i}` }, { awsRequestId: `r${i}` }, assignment);
      else await rt.invoke(answer, { question: `q${i}` }, { awsRequestId: `r${i}` });
    }
    const pairOnly = (arm: string) => telemetry.samples.filter((s) => s.arm === arm && s.pairOnly === true);
    return { canary: pairOnly('canary'), stable: pairOnly('stable'), all: telemetry.samples };
  }

  test('a config canary draws pair-only samples at the config rate (0.2), the stable arm none', async () => {
    const r = await run({ samplingRate: 0.1, configSamplingRate: 0.2 }, true);
    // 2,000 canary answers × (0.2 − the canary's scoring 0.005) ≈ 390
    expect(r.canary.length).toBeGreaterThan(330);
    expect(r.canary.length).toBeLessThan(450);
    expect(new Set(r.canary.map((s) => s.sampledAt))).toEqual(new Set([0.2]));
    expect(r.stable).toEqual([]);
  });

  test('left out, the config canary pairs at paired.samplingRate (0.1): half as many', async () => {
    const r = await run({ samplingRate: 0.1 }, true);
    expect(r.canary.length).toBeGreaterThan(150);
    expect(r.canary.length).toBeLessThan(240);
    expect(new Set(r.canary.map((s) => s.sampledAt))).toEqual(new Set([0.1]));
  });

  test('outside a config release (the code plane) the draw keeps paired.samplingRate whatever the config rate', async () => {
    const a = await run({ samplingRate: 0.1, configSamplingRate: 0.2 }, false);
    const b = await run({ samplingRate: 0.1 }, false);
    expect(a.all.map((s) => [s.requestId, s.sampledAt, s.pairOnly])).toEqual(b.all.map((s) => [s.requestId, s.sampledAt, s.pairOnly]));
    expect(new Set(a.all.filter((s) => s.pairOnly).map((s) => s.sampledAt))).toEqual(new Set([0.1]));
  });
});
