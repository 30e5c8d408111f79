/**
 * Issue 16 B3: AppConfig's own rollout tells execution environments, so the environment is the randomization unit
 * (lambda/judge/environments.ts). Exact null expectations by enumerating every order in which the environments could
 * have switched, the design's bound on the evidence, and the per-request design it replaces on the same traffic.
 */
import { HORIZON_MS, newEnvironmentState, updateEnvironments } from '../lambda/judge/environments';
import { judgeClusters, type JudgeObservation, type JudgeState, newJudgeState, updateJudge } from '../lambda/judge/judge';

const PERIOD = 10_000;
const BATCHES = 12;

/**
 * Fixed outcomes by environment and time (the sharp null: the config changes nothing), labelled by a switch order:
 * `order[0]` switches in batch 1, `order[1]` in batch 3, the rest never. Environment `env-0` errs on every third
 * request and is slow; the others rarely err.
 */
function traffic(order: readonly number[], environments: number): JudgeObservation[][] {
  const switchBatch = new Map(order.map((e, i) => [e, 1 + 2 * i]));
  const batches: JudgeObservation[][] = [];
  for (let b = 0; b < BATCHES; b++) {
    const obs: JudgeObservation[] = [];
    for (let j = 0; j < 8; j++)
      for (let e = 0; e < environments; e++) {
        const at = b * PERIOD + j * 1000 + e * 10;
        const sw = switchBatch.get(e);
        // The switch happens mid-batch: the environment's first four lines of that batch are still old.
        const isNew = sw !== undefined && (b > sw || (b === sw && j >= 4));
        const k = b * 8 + j;
        obs.push({
          version: isNew ? 'canary' : 'stable',
          at,
          error: e === 0 ? k % 3 === 0 : (k * 7 + e) % 23 === 0,
          safety: false,
          contract: false,
          latencyMs: (e === 0 ? 2000 : 1000) + ((k * 37 + e * 11) % 100),
          environment: `env-${e}`,
        });
      }
    batches.push(obs);
  }
  return batches;
}

function run(unit: 'environment' | 'request', batches: readonly JudgeObservation[][]): { state: JudgeState; error: number; latency: number } {
  let state = newJudgeState({ unit, metrics: ['error', 'latencyMs'], notWorseOn: [], tolerance: { latencyMs: 0 } });
  let ev: ReturnType<typeof updateJudge>['evidence'] = [];
  for (const obs of batches) {
    const canary = obs.filter((o) => o.version === 'canary').length;
    const u = updateJudge(state, { canaryShare: canary / obs.length, observations: obs });
    state = u.state;
    ev = u.evidence;
  }
  const e = (metric: string) => ev.find((x) => x.metric === metric && x.test !== 'gross')?.eValue ?? Number.NaN;
  return { state, error: e('error'), latency: e('latencyMs') };
}

const permutations = (n: number, k: number): number[][] => {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n, k - 1)) for (let e = 0; e < n; e++) if (!rest.includes(e)) out.push([...rest, e]);
  return out;
};

describe('the environment switch bets are exact under environment effects', () => {
  test('3 environments, one very different: over all 6 switch orders the mean e-value is exactly 1 (errors and latency), and none exceeds 3! = 6', () => {
    const orders = permutations(3, 2);
    expect(orders).toHaveLength(6);
    const runs = orders.map((o) => run('environment', traffic(o, 3)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(runs.map((r) => r.error))).toBeCloseTo(1, 10);
    expect(mean(runs.map((r) => r.latency))).toBeCloseTo(1, 10);
    // Evidence was really gathered (not a test that never bets): the order that switched env-0 first pays.
    expect(Math.max(...runs.map((r) => r.latency))).toBeGreaterThan(2);
    for (const r of runs) {
      expect(r.error).toBeLessThanOrEqual(6 + 1e-9);
      expect(r.latency).toBeLessThanOrEqual(6 + 1e-9);
      expect(judgeClusters(r.state)).toMatchObject({ unit: 'environment', environments: 3, switchBets: 2 });
    }
  });

  test('5 environments: the mean over all 20 orders of the first two switchers is 1', () => {
    const runs = permutations(5, 2).map((o) => run('environment', traffic(o, 5)));
    expect(runs).toHaveLength(20);
    expect(runs.reduce((a, r) => a + r.latency, 0) / runs.length).toBeCloseTo(1, 10);
    expect(runs.reduce((a, r) => a + r.error, 0) / runs.length).toBeCloseTo(1, 10);
  });

  test('the per-request design on the same traffic blames env-0 on the release: its latency e-value passes the threshold when env-0 switches first', () => {
    const perRequest = run('request', traffic([0, 1], 3));
    const byEnvironment = run('environment', traffic([0, 1], 3));
    // α 0.01 over two metrics: the latency test's threshold is 200.
    expect(perRequest.latency).toBeGreaterThan(200);
    expect(byEnvironment.latency).toBeLessThanOrEqual(6);
  });
});

describe('which environments are pooled', () => {
  const o = (environment: string, version: 'canary' | 'stable', at: number) => ({ environment, version, at, error: false });
  const metrics = [{ metric: 'error', count: (x: { error: boolean }) => x.error }];

  test('an environment first seen on the new config, or seen after a gap, is not in the pool; a bet settles once its horizon has passed', () => {
    const st = newEnvironmentState();
    updateEnvironments(st, 0, [o('a', 'stable', 0), o('b', 'stable', 1), o('c', 'stable', 2)], metrics);
    // Batch 1: a switches; d is born on the new config; c is not seen.
    updateEnvironments(st, 1, [o('a', 'canary', 10_000), o('b', 'stable', 10_001), o('d', 'canary', 10_002)], metrics);
    expect(st.pending).toHaveLength(1);
    expect(st.pending[0].pool).toEqual(['a', 'b']);
    expect(st.pending[0].switched).toEqual(['a']);
    // Batch 2: c is back (gap: not pooled), b switches: pool {b} alone, all switched, no bet.
    updateEnvironments(st, 2, [o('b', 'canary', 20_000), o('c', 'stable', 20_001)], metrics);
    expect(st.opened).toBe(1);
    const settled = updateEnvironments(st, 3, [o('b', 'canary', 10_000 + HORIZON_MS)], metrics);
    expect(settled).toEqual([{ metric: 'error', g: [0, 0], switched: [true, false] }]);
    expect(st.settled).toBe(1);
  });

  test('no environment key: no bet, and the engine makes no per-request bet either (nothing can roll back)', () => {
    const obs = traffic([0, 1], 3).map((b) => b.map(({ environment: _, ...x }) => x));
    const r = run('environment', obs);
    expect(r.error).toBe(1);
    expect(r.latency).toBe(1);
    expect(judgeClusters(r.state)).toMatchObject({ unit: 'environment', environments: 0, switchBets: 0 });
  });
});
