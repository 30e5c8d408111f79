/**
 * A config release whose evaluation budget runs out mid-canary, evaluated by the REAL evaluator (`evaluateBatch`, the
 * ledger's `reserveBatch`/`settleBatch` on an in-memory compare-and-swap ledger) with a fake evaluator model and
 * shadow path (issue 17 A, h8-detjudge): how many of each arm's scoring samples got their model scores. Shared by
 * test/evaluation-budget-arms.test.ts (few seeds) and bench/evaluation-budget-arms.ts (many).
 *
 * Traffic: `rps` requests/s on the config plane's planned schedule, the runtime's samplers (scoring rate with canary
 * oversampling, the release-time pairing rate on the canary; lambda/runtime/evaluation-sampler.ts), answers of varied
 * length (so the worst cases vary, alike on both arms), a fifth of the requests retries of a recent input (clustered
 * case ids). Deliveries: one batch per arm per `batchSeconds` (the versions log from different execution environments,
 * so a subscription delivers them apart); `canaryLate` delivers the canary's batch one window after the stable's.
 */
import { type ConverseRequest, type ConverseResponse, PREFERENCE_TOOL, SCORE_TOOL } from '../../lambda/evaluator/converse';
import type { Ledger } from '../../lambda/evaluator/budget';
import { type EvaluatorPorts, evaluateBatch, type LedgerPort } from '../../lambda/evaluator/evaluator';
import { mulberry32 } from '../../lambda/judge/simulate';
import { armSamplingRate } from '../../lambda/runtime/evaluation-sampler';
import type { VersionTuple } from '../../lambda/shared/contract';
import { EVALUATION_SAMPLE_TYPE, type EvaluationConfig, type EvaluationSample } from '../../lambda/shared/evaluation';

export interface BudgetWorldOptions {
  readonly seed: number;
  /** @default 5 */
  readonly rps?: number;
  /** @default the planned config schedule: 10 % for 5 min, 50 % for 55 min */
  readonly steps?: readonly { readonly share: number; readonly minutes: number }[];
  /** @default 0.005 (the example) */
  readonly samplingRate?: number;
  /** @default 0.1 (the example's evaluation.paired.samplingRate) */
  readonly pairSamplingRate?: number;
  /** The release's cap, USD. @default 3 (runs out mid-canary at the example's rates) */
  readonly perReleaseUsd?: number;
  /** @default 1000 */
  readonly perDayUsd?: number;
  /** @default 10 */
  readonly batchSeconds?: number;
  /** Deliver each window's canary batch one window after its stable batch. @default false */
  readonly canaryLate?: boolean;
}

export interface ArmCount {
  /** Scoring-sampler samples (not pair-only) evaluated. */
  readonly offered: number;
  /** Of those, the ones the model scored (not refused by the budget). */
  readonly scored: number;
}

export interface BudgetWorldOutcome {
  readonly canary: ArmCount;
  readonly stable: ArmCount;
  /** The same counts by 5-minute window of the sample's time. */
  readonly byFive: readonly { readonly canary: ArmCount; readonly stable: ArmCount }[];
  /** Scoring samples refused by the throttle (rate) and by a spent cap (or a recorded stop), per arm. */
  readonly refusals: { readonly [arm in 'canary' | 'stable']: { readonly throttled: number; readonly cap: number } };
  /** Pair-only canary samples offered and compared. */
  readonly pairs: { readonly offered: number; readonly compared: number };
  readonly spentUsd: number;
  readonly capUsd: number;
  /** Minute of the release at which the ledger recorded the stop (undefined: never stopped). */
  readonly stoppedAtMinute?: number;
  /** The first minute a sample was refused by the budget (throttle or cap). */
  readonly firstRefusalMinute?: number;
}

const START = Date.parse('2026-12-07T10:00:00.000Z');
const PRICES = { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 };
const SHADOW_WORST_USD = 0.004;

const tupleOf = (config: string): VersionTuple => ({
  service: 'support-assistant',
  codeVersion: '7',
  config,
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  degrade: 'd',
});

function memoryLedger(): LedgerPort & { value: () => Ledger | undefined } {
  let value: Ledger | undefined;
  let version = 0;
  return {
    value: () => value,
    async read() {
      return { ledger: value, etag: value ? String(version) : undefined };
    },
    async write(l, etag) {
      if ((value ? String(version) : undefined) !== etag) return false;
      value = l;
      version++;
      return true;
    },
  };
}

function shareAt(steps: NonNullable<BudgetWorldOptions['steps']>, minute: number): number {
  let t = 0;
  for (const s of steps) {
    if (minute < t + s.minutes) return s.share;
    t += s.minutes;
  }
  return 1;
}

export async function runBudgetWorld(o: BudgetWorldOptions): Promise<BudgetWorldOutcome> {
  const r = mulberry32(o.seed * 2654435761 + 101);
  const rps = o.rps ?? 5;
  const steps = o.steps ?? [
    { share: 0.1, minutes: 5 },
    { share: 0.5, minutes: 55 },
  ];
  const rate = o.samplingRate ?? 0.005;
  const pairRate = o.pairSamplingRate ?? 0.1;
  const batchMs = (o.batchSeconds ?? 10) * 1000;
  const minutes = steps.reduce((n, s) => n + s.minutes, 0);
  const config: EvaluationConfig = {
    evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: PRICES, maxTokens: 300 },
    rubrics: [
      { criterion: 'groundedness', instructions: 'Every claim is supported by the passages.' },
      { criterion: 'relevance', instructions: 'Answers the question asked.' },
    ],
    samplingRate: rate,
    budget: { perReleaseUsd: o.perReleaseUsd ?? 3, perDayUsd: o.perDayUsd ?? 1000 },
    paired: { samplingRate: pairRate },
  };
  // The samples, by delivery window and arm.
  const windows = new Map<number, { canary: EvaluationSample[]; stable: EvaluationSample[] }>();
  const recent: string[] = [];
  let k = 0;
  for (let t = START; t < START + minutes * 60_000; t += (-Math.log(1 - r()) / rps) * 1000) {
    const s = shareAt(steps, (t - START) / 60_000);
    const arm = r() < s ? 'canary' : 'stable';
    const armRate = armSamplingRate(rate, arm, s);
    const u = r();
    const pairOnly = !(u < armRate) && arm === 'canary' && u < pairRate;
    let caseId: string;
    if (recent.length > 0 && r() < 0.2) caseId = recent[Math.floor(r() * recent.length)];
    else {
      caseId = `case-${k++}`;
      recent.push(caseId);
      if (recent.length > 50) recent.shift();
    }
    if (!(u < armRate) && !pairOnly) continue;
    const words = 20 + Math.floor(r() * 200);
    const sample: EvaluationSample = {
      type: EVALUATION_SAMPLE_TYPE,
      service: 'support-assistant',
      sampleId: `s-${Math.floor(t)}-${k}`,
      requestId: `r-${Math.floor(t)}-${k}`,
      time: new Date(Math.floor(t)).toISOString(),
      tuple: tupleOf(arm === 'canary' ? 'cfg-new' : 'cfg-old'),
      functionVersion: '7',
      arm,
      caseId,
      input: `Question about ${caseId}: how do I change the plan on my account?`,
      answer: 'Open the billing page and choose a plan. '.repeat(Math.ceil(words / 8)),
      passages: [{ id: 'p1', textHash: 'abc' }],
      citations: ['p1'],
      toolCalls: [],
      inputTokens: 400,
      outputTokens: words * 2,
      sampledAt: pairOnly ? pairRate : armRate,
      ...(pairOnly ? { pairOnly: true as const } : {}),
      armShare: s,
    };
    const w = Math.floor((t - START) / batchMs) + (arm === 'canary' && o.canaryLate ? 1 : 0);
    const win = windows.get(w) ?? { canary: [], stable: [] };
    win[arm].push(sample);
    windows.set(w, win);
  }
  const ledger = memoryLedger();
  let clock = START;
  const model = {
    async converse(req: ConverseRequest): Promise<ConverseResponse> {
      const tool = req.toolConfig.tools[0].toolSpec.name;
      const input =
        tool === SCORE_TOOL
          ? { score: 1 + Math.floor(r() * 5), reason: 'fake' }
          : tool === PREFERENCE_TOOL
            ? { preferred: r() < 0.5 ? 'A' : 'B', reason: 'fake' }
            : {};
      const inputTokens = Math.floor((JSON.stringify(req).length / 4) * (0.6 + 0.3 * r()));
      return { output: { message: { content: [{ toolUse: { name: tool, input } }] } }, usage: { inputTokens, outputTokens: 40 + Math.floor(r() * 200) } };
    },
  };
  const ports: EvaluatorPorts = {
    model,
    shadow: { answer: async (s) => ({ answer: s.answer, costUsd: SHADOW_WORST_USD * (0.3 + 0.5 * r()) }) },
    ledger,
    sleep: async () => {},
    random: () => r(),
    now: () => new Date(clock),
  };
  const counts = { canary: { offered: 0, scored: 0 }, stable: { offered: 0, scored: 0 } };
  const pairs = { offered: 0, compared: 0 };
  const refusals = { canary: { throttled: 0, cap: 0 }, stable: { throttled: 0, cap: 0 } };
  let firstRefusalMinute: number | undefined;
  const byFive: { canary: { offered: number; scored: number }; stable: { offered: number; scored: number } }[] = [];
  const order = [...windows.keys()].sort((a, b) => a - b);
  for (const w of order) {
    const win = windows.get(w) as { canary: EvaluationSample[]; stable: EvaluationSample[] };
    for (const batch of [win.stable, win.canary]) {
      if (batch.length === 0) continue;
      clock = START + (w + 1) * batchMs + 5_000;
      const results = await evaluateBatch(batch, config, ports, { shadowWorstCaseUsd: SHADOW_WORST_USD }, { concurrency: 4 });
      for (const [i, res] of results.entries()) {
        const smp = batch[i];
        if (res.skipped && firstRefusalMinute === undefined) firstRefusalMinute = (Date.parse(smp.time) - START) / 60_000;
        if (smp.pairOnly) {
          pairs.offered++;
          if (res.paired) pairs.compared++;
          continue;
        }
        counts[smp.arm].offered++;
        if (!res.skipped) counts[smp.arm].scored++;
        else if (res.throttled) refusals[smp.arm].throttled++;
        else refusals[smp.arm].cap++;
        const m = Math.floor((Date.parse(smp.time) - START) / 300_000);
        if (!byFive[m]) byFive[m] = { canary: { offered: 0, scored: 0 }, stable: { offered: 0, scored: 0 } };
        const b = byFive[m];
        b[smp.arm].offered++;
        if (!res.skipped) b[smp.arm].scored++;
      }
    }
  }
  const l = ledger.value();
  const rel = l ? Object.values(l.releases)[0] : undefined;
  return {
    ...counts,
    byFive,
    refusals,
    pairs,
    spentUsd: rel?.spentUsd ?? 0,
    capUsd: config.budget.perReleaseUsd,
    ...(rel?.stoppedAt ? { stoppedAtMinute: (Date.parse(rel.stoppedAt) - START) / 60_000 } : {}),
    ...(firstRefusalMinute !== undefined ? { firstRefusalMinute } : {}),
  };
}
