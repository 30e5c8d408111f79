/**
 * Code-plane pair-only samples only on the code canary, only during its release (issue 17 D, h8-codepairs): the share
 * document announces the canary's version and expiry; the runtime compares it with its own version. Without the
 * announcement (no share document, or no pre-traffic hook writing it) every answer stays a pair candidate (the
 * steady-state cost the card prices).
 */
import { AiRuntime, type AiHandler, AssigningRuntime } from '../lambda/runtime';
import { type CodeCanarySignal, codePairsAllowed, pairingDraw } from '../lambda/runtime/evaluation-sampler';
import { CODE_CANARY_MAX_WINDOW_MS, type CanaryShareDocument, type CodeCanaryState } from '../lambda/shared/contract';
import { FakeConfig, NO_FLAGS, RecordingTelemetry, releaseDoc } from './runtime-fixtures';

const NOW = Date.parse('2026-12-07T14:00:00Z');
const canary = (over: Partial<CodeCanaryState> = {}): CodeCanaryState => ({
  functionVersion: '7',
  releaseKey: 'code-d-ABC',
  at: NOW - 60_000,
  until: NOW + 600_000,
  ...over,
});

describe('codePairsAllowed: may this version draw code-plane pair-only samples now?', () => {
  test.each<[string, CodeCanarySignal | undefined, string, boolean]>([
    ['nothing announces the canary (no share document): every answer, as before', undefined, '6', true],
    ['announcement not wired ({ known: false })', { known: false }, '6', true],
    ['announced, no code release runs', { known: true }, '7', false],
    ['this version is the announced canary, before its expiry', { known: true, state: canary() }, '7', true],
    ['another version (the stable one) during the release', { known: true, state: canary() }, '6', false],
    ['the canary after its expiry (a release never cleared)', { known: true, state: canary({ until: NOW }) }, '7', false],
    ['an announcement longer than the 49-hour bound', { known: true, state: canary({ until: NOW - 60_000 + CODE_CANARY_MAX_WINDOW_MS + 1 }) }, '7', false],
    ['a malformed announcement (until not a number)', { known: true, state: canary({ until: 'soon' as unknown as number }) }, '7', false],
    ['a malformed announcement (not an object)', { known: true, state: 'v7' as unknown as CodeCanaryState }, '7', false],
  ])('%s', (_name, signal, version, expected) => expect(codePairsAllowed(signal, version, NOW)).toBe(expected));
});

describe('pairingDraw with the code canary known', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
  test('not the canary: no pair-only draw outside a config release, and the scoring draws are the very same requests', () => {
    const off = ids.map((id) => pairingDraw(id, 0.02, 0.3, 'stable', undefined, false));
    const on = ids.map((id) => pairingDraw(id, 0.02, 0.3, 'stable', undefined, true));
    expect(off.filter((d) => d?.pairOnly).length).toBe(0);
    const pairOnlyOn = on.filter((d) => d?.pairOnly).length / ids.length;
    expect(pairOnlyOn).toBeGreaterThan(0.26);
    expect(pairOnlyOn).toBeLessThan(0.3);
    // Scoring is untouched: the same requests are scored either way.
    expect(off.map((d) => d !== undefined)).toEqual(on.map((d) => d !== undefined && !d.pairOnly));
  });
  test('the config canary (share known) still draws at the pairing rate whatever the code canary says', () => {
    const c = ids.filter((id) => pairingDraw(id, 0.02, 0.3, 'canary', 0.5, false)?.pairOnly).length / ids.length;
    expect(c).toBeGreaterThan(0.26);
  });
});

type In = { question: string };
type Out = { answer: string };
const evaluation = {
  evaluatorModel: { modelId: 'us.amazon.nova-pro-v1:0', pricing: { inputPer1kTokensUsd: 0.0008, outputPer1kTokensUsd: 0.0032 } },
  rubrics: [{ criterion: 'groundedness' as const, instructions: 'Supported by the passages.' }],
  samplingRate: 0.005,
  paired: { samplingRate: 0.1 },
  budget: { perReleaseUsd: 5, perDayUsd: 10 },
};
const answer: AiHandler<In, Out> = async () => ({ output: { answer: 'ok' }, usage: { inputTokens: 10, outputTokens: 2, modelId: 'primary-model' } });

/** The service's runtime as createAiRuntime builds it with a share document: AssigningRuntime over live and candidate. */
function service(version: string, share: CanaryShareDocument, codeCanaries: boolean, clock: { t: number }) {
  const telemetry = new RecordingTelemetry();
  const release = releaseDoc({ evaluation } as never);
  const build = () =>
    new AiRuntime<In, Out>({
      service: 'svc',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      config: new FakeConfig({ rel: release, deg: NO_FLAGS }),
      telemetry,
      codeVersion: version,
      now: () => clock.t,
      defaultTimeoutMs: 30_000,
      timeoutMarginMs: 0,
    });
  const shareConfig = new FakeConfig({ share });
  const rt = new AssigningRuntime<In, Out>({
    live: build(),
    candidate: build(),
    share: shareConfig,
    shareProfile: 'share',
    candidateConfig: new FakeConfig({ rel: release }),
    releaseProfile: 'rel',
    telemetry,
    codeCanaries,
    now: () => clock.t,
  });
  return { rt, telemetry, shareConfig };
}

async function pairOnlyShare(version: string, share: CanaryShareDocument, codeCanaries: boolean, at = NOW, n = 4000) {
  const clock = { t: at };
  const s = service(version, share, codeCanaries, clock);
  for (let i = 0; i < n; i++) await s.rt.invoke(answer, { question: `q${i}` }, { awsRequestId: `v${version}-r${i}` });
  return {
    pairOnly: s.telemetry.samples.filter((x) => x.pairOnly).length / n,
    scored: s.telemetry.samples.filter((x) => !x.pairOnly).length / n,
  };
}

describe('the runtime draws code-plane pairs only on the announced canary', () => {
  const announced: CanaryShareDocument = { schemaVersion: 1, releaseKey: '', share: 0, codeCanary: canary() };
  const idle: CanaryShareDocument = { schemaVersion: 1, releaseKey: '', share: 0 };

  test('during the code release: the canary (version 7) draws at the pairing rate, the stable version (6) none', async () => {
    const c = await pairOnlyShare('7', announced, true);
    const s = await pairOnlyShare('6', announced, true);
    expect(c.pairOnly).toBeGreaterThan(0.08);
    expect(c.pairOnly).toBeLessThan(0.12);
    expect(s.pairOnly).toBe(0);
    // Scoring goes on at its own rate on both.
    expect(s.scored).toBeLessThan(0.02);
  });

  test('outside a release (steady state): no pair-only sample at all, scoring unchanged', async () => {
    const r = await pairOnlyShare('7', idle, true);
    expect(r.pairOnly).toBe(0);
    expect(r.scored).toBeGreaterThan(0);
  });

  test('a release never cleared stops by itself at its expiry', async () => {
    const r = await pairOnlyShare('7', announced, true, NOW + 600_000);
    expect(r.pairOnly).toBe(0);
  });

  test('without the announcement wired (codeCanaries off), every answer is drawn at the pairing rate, as before: the priced steady state', async () => {
    const r = await pairOnlyShare('6', idle, false);
    expect(r.pairOnly).toBeGreaterThan(0.08);
  });

  test('an unreadable share document keeps the last good one, with its announcement', async () => {
    const clock = { t: NOW };
    const s = service('7', announced, true, clock);
    await s.rt.invoke(answer, { question: 'first' }, { awsRequestId: 'first' });
    s.shareConfig.fail = true;
    for (let i = 0; i < 2000; i++) await s.rt.invoke(answer, { question: `q${i}` }, { awsRequestId: `x${i}` });
    expect(s.telemetry.samples.filter((x) => x.pairOnly).length).toBeGreaterThan(120);
  });
});

describe("the evaluation world's announcement lag (bench/example-pairs.ts lag)", () => {
  const base = {
    seed: 3,
    rps: 5,
    steps: [
      { share: 0.05, minutes: 3 },
      { share: 0.1, minutes: 3 },
    ],
    afterMinutes: 1,
    samplingRate: 0.005,
    pairSamplingRate: 0.1,
    pairedLoss: 0.6,
    scoreDrop: 0,
    criteria: ['groundedness'],
  } as const;
  test('the code canary draws no pair-only sample before the announcement arrives; scored canary answers are still paired', async () => {
    const { runEvalWorld } = await import('../lib/drill/evaluation-world');
    const on = await runEvalWorld({ ...base, plane: 'code' });
    const never = await runEvalWorld({ ...base, plane: 'code', pairLagSeconds: 360 });
    // 6 minutes at 5 req/s, 5 % then 10 %: about 13.5 canary pairs drawn by the pairing rate; only scored ones remain.
    expect(on.pairs).toBeGreaterThan(5);
    expect(never.pairs).toBeLessThan(on.pairs);
    // Left: canary answers the scoring sampler drew (0.5 % of ~135): a handful at most.
    expect(never.pairs).toBeLessThanOrEqual(3);
  });
});
