/**
 * The regression gate's evaluator (issue 17 E), two figures:
 *
 * 1. The config gate's pairwise decision (fail when the candidate lost more than 60 % of the decided pairs AND the
 *    one-sided exact sign test gives p < 0.01, the defaults): how many losses fail it at n decided pairs, its power
 *    when the candidate truly loses 70 % or 80 % of pairs, and its false-failure rate when it is as good as live
 *    (50 %). Exact binomial sums, no simulation.
 * 2. The pass rules: the chance that a case passes when each replay passes with probability p.
 * 3. Wall time of a gate run with evaluated cases: 100 cases, each replayed with k = 3 (majority, so 2 or 3 replays),
 *    50 ms per replay, a 300 ms fake evaluator model, 10 cases in flight, pairwise on (one more replay and two
 *    preference calls per case), against the same cases without the evaluator.
 *
 *   npx tsx bench/gate-evaluation.ts
 */
import { DEFAULT_PAIRWISE, signTestPValue } from '../lambda/gate/evaluate';
import { DEFAULT_GATE_SETTINGS, type GateEvaluationPorts, runGate } from '../lambda/gate/gate';
import type { GateStore } from '../lambda/gate/ports';
import type { ConverseRequest, ConverseResponse } from '../lambda/evaluator/converse';
import { GATE_RESPONSE_KEY, type RegressionCase } from '../lambda/shared/contract';

const say = (line: string) => process.stdout.write(`${line}\n`);

function tail(n: number, m: number, q: number): number {
  let p = 0;
  let logC = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logC += Math.log(n - x + 1) - Math.log(x);
    if (x >= m) p += Math.exp(logC + x * Math.log(q) + (n - x) * Math.log(1 - q));
  }
  return p;
}

say(`# Config gate, pairwise: maxLossRate ${DEFAULT_PAIRWISE.maxLossRate}, alpha ${DEFAULT_PAIRWISE.alpha} (exact)`);
say('decided pairs | fails at losses | power, 70 % lost | power, 80 % lost | false failure, 50 % lost');
for (const n of [10, 20, 50, 100, 200]) {
  let m = n + 1;
  for (let l = 0; l <= n; l++)
    if (l / n > DEFAULT_PAIRWISE.maxLossRate && signTestPValue(l, n) < DEFAULT_PAIRWISE.alpha) {
      m = l;
      break;
    }
  say(`${n} | ${m} (${Math.round((m / n) * 100)} %) | ${tail(n, m, 0.7).toFixed(3)} | ${tail(n, m, 0.8).toFixed(3)} | ${tail(n, m, 0.5).toExponential(2)}`);
}

// The pass rules: the chance a case passes when each replay passes with probability p (replays independent).
say('');
say('# Pass rules: P(case passes) when one replay passes with probability p (exact)');
say('p | majority of 3 | all of 3 | at least 2 of 5 | majority of 5');
const atLeast = (n: number, k: number, p: number) => tail(k, n, p);
for (const p of [0.99, 0.9, 0.7, 0.5, 0.3, 0.1])
  say(`${p} | ${atLeast(2, 3, p).toFixed(3)} | ${atLeast(3, 3, p).toFixed(3)} | ${atLeast(2, 5, p).toFixed(3)} | ${atLeast(3, 5, p).toFixed(3)}`);

const CASES = 100;
const REPLAY_MS = 50;
const MODEL_MS = 300;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function cases(evaluated: boolean): RegressionCase[] {
  return Array.from({ length: CASES }, (_, i) => ({
    schemaVersion: 1,
    caseId: i.toString(16).padStart(32, '0'),
    service: 'svc',
    state: 'accepted',
    input: JSON.stringify({ question: `q${i}` }),
    kinds: ['quality'],
    failedOn: [],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-01T00:00:00.000Z',
    count: 1,
    sampleRequestIds: [],
    expectation: evaluated ? { minScores: { groundedness: 4 } } : {},
    history: [],
  }));
}

function store(cs: RegressionCase[]): GateStore {
  const o: Record<string, string> = Object.fromEntries(cs.map((c) => [`cases/svc/accepted/${c.caseId}.json`, JSON.stringify(c)]));
  return {
    get: async (k) => (k in o ? { body: o[k] } : undefined),
    put: async (k, b) => {
      o[k] = b;
      return 'written';
    },
    list: async (p) => Object.keys(o).filter((k) => k.startsWith(p)),
    newest: async () => undefined,
  };
}

const answer = JSON.stringify({
  [GATE_RESPONSE_KEY]: {
    output: { answer: 'Refunds take 5 days [p1].', citations: ['p1'] },
    kinds: [],
    details: [],
    latencyMs: REPLAY_MS,
    degraded: false,
    tuple: { codeVersion: '7' },
    evidence: { answer: 'Refunds take 5 days [p1].', passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }], citations: ['p1'] },
  },
});

let modelCalls = 0;
let replays = 0;
const model = {
  async converse(req: ConverseRequest): Promise<ConverseResponse> {
    modelCalls++;
    await sleep(MODEL_MS);
    const score = req.toolConfig.toolChoice.tool.name === 'record_score';
    // Scores vary: 1 replay in 4 scores under the floor, so some cases need the third replay.
    const input = score ? { score: Math.random() < 0.25 ? 3 : 5, reason: 'r' } : { preferred: 'tie', reason: 'r' };
    return {
      output: { message: { content: [{ toolUse: { toolUseId: 't', name: req.toolConfig.toolChoice.tool.name, input } }] } },
      usage: { inputTokens: 400, outputTokens: 30 },
    };
  },
};

async function run(evaluated: boolean): Promise<{ ms: number; verdict: string }> {
  modelCalls = 0;
  replays = 0;
  const evaluation: GateEvaluationPorts | undefined = evaluated
    ? {
        evaluator: { model, sleep, random: Math.random },
        liveEvaluation: async () => ({
          version: 'live',
          evaluatorModel: { modelId: 'us.m', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
          rubrics: [{ criterion: 'groundedness', instructions: 'supported by passages' }],
          samplingRate: 0.1,
          budget: { perReleaseUsd: 10, perDayUsd: 10 },
        }),
        modelId: 'us.m',
        settings: { k: 3, pass: 'majority', maxUsd: 50, pairwise: DEFAULT_PAIRWISE },
      }
    : undefined;
  const t0 = performance.now();
  const report = await runGate(
    {
      service: 'svc',
      plane: 'config',
      releaseKey: 'config-7',
      target: { functionName: 'fn', qualifier: 'gate', configVersion: '7' },
      deadline: Date.now() + 600_000,
    },
    { ...DEFAULT_GATE_SETTINGS, concurrency: 10 },
    {
      store: store(cases(evaluated)),
      clock: { now: () => Date.now() },
      invoker: {
        async invoke() {
          replays++;
          await sleep(REPLAY_MS);
          return { payload: answer };
        },
      },
      ...(evaluation ? { evaluation } : {}),
    },
  );
  return {
    ms: performance.now() - t0,
    verdict: `${report.verdict}; ${report.evaluation ? `spent ${report.evaluation.spentUsd.toFixed(3)} USD` : 'no evaluator'}`,
  };
}

(async () => {
  say('');
  say(`# Gate wall time: ${CASES} cases, ${REPLAY_MS} ms per replay, ${MODEL_MS} ms per evaluator call, 10 cases in flight`);
  const plain = await run(false);
  say(`without the evaluator: ${Math.round(plain.ms)} ms, ${replays} replays (${plain.verdict})`);
  const ev = await run(true);
  say(
    `k = 3 majority + pairwise: ${Math.round(ev.ms)} ms, ${replays} replays, ${modelCalls} evaluator calls (${ev.verdict}); ${(ev.ms / plain.ms).toFixed(1)}x`,
  );
  // The floor: per case, replays and model calls run one after another within the case; cases 10 at a time.
  say(`floor (sequential per case, 10 cases at once): ${Math.round((replays * REPLAY_MS + modelCalls * MODEL_MS) / 10)} ms`);
})();
