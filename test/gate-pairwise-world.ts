/**
 * A world for the config gate's k-per-side pairwise comparison (issue 17 E, h7-evaluator), shared by
 * test/gate-pairwise-k.test.ts (small seed counts) and bench/gate-pairwise-k.ts (full counts):
 *
 * - N regression cases without evaluator expectations (only the pairwise comparison can fail the gate);
 * - cases are NOT alike: case c has its own chance t_c that a live answer beats a candidate answer, drawn uniformly
 *   from [mean − spread, mean + spread] (some inputs the candidate handles worse, some better); every pair of answers
 *   (candidate answer i, live answer i) has one truth, drawn with t_c and shared by both orders;
 * - the evaluator model is biased to the first position: on each call, with probability `bias` it answers A whatever
 *   the answers, else the truly better one; with bias 0.4 it picks A 70 % of the time when the two are alike;
 * - the real runGate (lambda/gate/gate.ts), its real pairwise code and decision, fakes only at the ports.
 *
 * `predictedFailRate` computes the same gate's failure probability exactly from the stated rule (no simulation):
 * per comparison P(loss) = (1 − bias)·t, P(win) = (1 − bias)·(1 − t), P(tie) = bias (a win needs both orders); a case's
 * k comparisons are multinomial given t_c, its preference is the side that won more; cases are independent given
 * their t_c, so the gate's (wins, losses) over N cases are multinomial with the per-case probabilities integrated
 * over t_c; the gate fails when losses/(wins + losses) > maxLossRate and the exact sign test gives p < alpha.
 */
import type { ConverseRequest, ConverseResponse } from '../lambda/evaluator/converse';
import { PREFERENCE_TOOL } from '../lambda/evaluator/converse';
import { DEFAULT_PAIRWISE, signTestPValue } from '../lambda/gate/evaluate';
import { DEFAULT_GATE_SETTINGS, type GateRun, runGate } from '../lambda/gate/gate';
import type { GateStore } from '../lambda/gate/ports';
import { GATE_RESPONSE_KEY, type GateReport, type RegressionCase } from '../lambda/shared/contract';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { rng } from '../lib/drill/traffic';

export interface PairwiseWorld {
  readonly cases: number;
  /** Answers per side (the gate's k). */
  readonly k: number;
  /** Mean chance that a live answer beats a candidate answer (0.5: as good as live; 0.6: loses 60 % of pairs). */
  readonly meanLoss: number;
  /** Half-width of the spread of t_c around the mean (0: every case alike). */
  readonly spread: number;
  /** Chance per call that the evaluator answers A whatever the answers (0.4: A 70 % of the time on alike answers). */
  readonly bias: number;
  readonly pairwise?: { readonly maxLossRate: number; readonly alpha: number };
  /** The gate's evaluator spend cap, USD. @default 1000 (never reached) */
  readonly maxUsd?: number;
}

const LIVE: EvaluationConfig = {
  version: 'rubric-live',
  evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'relevance', instructions: 'Answers the question asked.' }],
  samplingRate: 0.1,
  budget: { perReleaseUsd: 10, perDayUsd: 20 },
};

const reply = (text: string, codeVersion: string) => ({
  payload: JSON.stringify({
    [GATE_RESPONSE_KEY]: {
      output: { answer: text, citations: ['p1'] },
      kinds: [],
      details: [],
      latencyMs: 20,
      degraded: false,
      tuple: { codeVersion },
      evidence: { answer: text, passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }], citations: ['p1'] },
    },
  }),
});

/** One gate run in the world, through the real runGate. */
export async function pairwiseGate(w: PairwiseWorld, seed: number): Promise<{ report: GateReport; modelCalls: number; invocations: number }> {
  const r = rng(seed);
  const t = Array.from({ length: w.cases }, () => Math.min(1, Math.max(0, w.meanLoss + w.spread * (2 * r() - 1))));
  const cases: RegressionCase[] = t.map((_, c) => ({
    schemaVersion: 1,
    caseId: (0x5000 + c).toString(16).padStart(32, '0'),
    service: 'svc',
    state: 'accepted',
    input: JSON.stringify({ question: `c${c}` }),
    kinds: ['error'],
    failedOn: [],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-01T00:00:00.000Z',
    count: 1,
    sampleRequestIds: [],
    expectation: { noError: true },
    history: [],
  }));
  const objects: Record<string, string> = Object.fromEntries(cases.map((c) => [`cases/svc/accepted/${c.caseId}.json`, JSON.stringify(c)]));
  const store: GateStore = {
    get: async (key) => (key in objects ? { body: objects[key] } : undefined),
    put: async (key, b) => {
      objects[key] = b;
      return 'written';
    },
    list: async (p) => Object.keys(objects).filter((key) => key.startsWith(p)),
    newest: async () => undefined,
  };
  const truth = new Map<string, boolean>();
  let modelCalls = 0;
  const model = {
    async converse(req: ConverseRequest): Promise<ConverseResponse> {
      modelCalls++;
      if (req.toolConfig.toolChoice.tool.name !== PREFERENCE_TOOL) throw new Error('this world only compares answers');
      const text = req.messages[0].content[0].text;
      const a = /<answer_a>\n([\s\S]*?)\n<\/answer_a>/.exec(text)?.[1] ?? '';
      const b = /<answer_b>\n([\s\S]*?)\n<\/answer_b>/.exec(text)?.[1] ?? '';
      const [cand, live] = a.startsWith('cand') ? [a, b] : [b, a];
      const key = `${cand}|${live}`;
      if (!truth.has(key)) truth.set(key, r() < t[Number(/c(\d+)/.exec(cand)?.[1])]);
      const liveBetter = truth.get(key) as boolean;
      const better = liveBetter === (live === a) ? 'A' : 'B';
      const preferred = r() < w.bias ? 'A' : better;
      return {
        output: { message: { content: [{ toolUse: { toolUseId: 't', name: PREFERENCE_TOOL, input: { preferred, reason: 'world' } } }] } },
        stopReason: 'tool_use',
        usage: { inputTokens: 400, outputTokens: 30 },
      };
    },
  };
  const seen = new Map<string, number>();
  let invocations = 0;
  const run: GateRun = {
    service: 'svc',
    plane: 'config',
    releaseKey: 'config-8',
    target: { functionName: 'svc-fn', qualifier: 'gate', configVersion: '8' },
    deadline: Date.now() + 600_000,
  };
  const report = await runGate(run, DEFAULT_GATE_SETTINGS, {
    store,
    clock: { now: () => Date.now() },
    invoker: {
      async invoke(qualifier, payload) {
        invocations++;
        const side = qualifier === 'gate' ? 'cand' : 'live';
        const n = seen.get(`${side}${payload}`) ?? 0;
        seen.set(`${side}${payload}`, n + 1);
        const c = (JSON.parse(payload) as { question: string }).question;
        return reply(`${side} ${c} answer ${n}`, '7');
      },
    },
    evaluation: {
      evaluator: { model, sleep: async () => {}, random: () => 0.5 },
      liveEvaluation: async () => LIVE,
      modelId: LIVE.evaluatorModel.modelId,
      settings: { k: w.k, pass: 'majority', maxUsd: w.maxUsd ?? 1000, pairwise: w.pairwise ?? DEFAULT_PAIRWISE },
    },
  });
  return { report, modelCalls, invocations };
}

/** Per-case probabilities of the case's preference (candidate, live, tie) at one t, exactly. */
export function caseOutcome(k: number, bias: number, t: number): { win: number; loss: number; tie: number } {
  const pl = (1 - bias) * t;
  const pw = (1 - bias) * (1 - t);
  const pt = bias;
  const lf = [0];
  for (let i = 1; i <= k; i++) lf.push(lf[i - 1] + Math.log(i));
  let win = 0;
  let loss = 0;
  for (let W = 0; W <= k; W++)
    for (let L = 0; L + W <= k; L++) {
      const T = k - W - L;
      const p = Math.exp(lf[k] - lf[W] - lf[L] - lf[T] + (W ? W * Math.log(pw) : 0) + (L ? L * Math.log(pl) : 0) + (T ? T * Math.log(pt) : 0));
      if (W > L) win += p;
      else if (L > W) loss += p;
    }
  return { win, loss, tie: Math.max(0, 1 - win - loss) };
}

/** The gate's failure probability in the world, exactly (t_c integrated by the midpoint rule over 400 points). */
export function predictedFailRate(w: PairwiseWorld): number {
  const { maxLossRate, alpha } = w.pairwise ?? DEFAULT_PAIRWISE;
  const Q = 400;
  let win = 0;
  let loss = 0;
  for (let q = 0; q < Q; q++) {
    const t = Math.min(1, Math.max(0, w.meanLoss + w.spread * (2 * ((q + 0.5) / Q) - 1)));
    const o = caseOutcome(w.k, w.bias, t);
    win += o.win / Q;
    loss += o.loss / Q;
  }
  const tie = Math.max(0, 1 - win - loss);
  const N = w.cases;
  const lf = [0];
  for (let i = 1; i <= N; i++) lf.push(lf[i - 1] + Math.log(i));
  const lg = (x: number, n: number) => (n === 0 ? 0 : n * Math.log(x));
  let p = 0;
  for (let W = 0; W <= N; W++)
    for (let L = 0; L + W <= N; L++) {
      const n = W + L;
      if (!(n > 0 && L / n > maxLossRate && signTestPValue(L, n) < alpha)) continue;
      p += Math.exp(lf[N] - lf[W] - lf[L] - lf[N - W - L] + lg(win, W) + lg(loss, L) + lg(tie, N - W - L));
    }
  return p;
}
