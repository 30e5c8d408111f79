/**
 * The AfterAllowTraffic hook and late evaluation results (h7-judgeev): the hook does not promote a release on a
 * conclusion while evaluation results of samples taken before full traffic are outstanding; it waits for them up to
 * the wait bound (within its own bound), and says in the record what arrived, what was outstanding and what was late.
 */
import { type JudgeSettings, runAfterTrafficHook } from '../lambda/canary-judge/canary-judge';
import type { LogsPort } from '../lambda/canary-judge/canary-judge';
import type { QueryRow } from '../lambda/canary-judge/samples';
import { judgeKey } from '../lambda/shared/contract';
import { EVALUATION_RESULT_TYPE, type EvaluationResultLine } from '../lambda/shared/evaluation';
import { fakeEngine, fakePorts, insightsTime, T0, traffic } from './canary-judge-fakes';

const MIN = 60_000;
const S: JudgeSettings = {
  service: 'svc',
  alpha: 0.01,
  periodMs: 10_000,
  afterTrafficBoundMs: 600_000,
  evaluation: { criteria: ['relevance'], paired: false, maxWaitMs: 300_000 },
};
const deployment = { id: 'd-ABC', current: '1', target: '2', createdAt: T0 - 3 * MIN, trafficStartedAt: T0 - 2 * MIN };
const hook = { DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'exec-1' };

/** One canary sample 30 s before the hook starts (the end of the shift), its result written at `written` (or never). */
function setup(written: number | undefined) {
  const { engine } = fakeEngine({ enough: 100 });
  let evaluated = 0;
  const withEvaluation = { ...engine, updateEvaluation: (state: unknown) => (evaluated++, { state, decision: 'continue' as const, evidence: [] }) };
  const f = fakePorts({
    lines: traffic({ from: T0 - 2 * MIN, to: T0 + 15 * MIN, rps: 1, canary: '2', stable: '1', canaryShare: 1 }),
    deployments: [deployment],
    engine: withEvaluation,
  });
  const sampleAt = T0 - 30_000;
  const result: EvaluationResultLine = {
    type: EVALUATION_RESULT_TYPE,
    service: 'svc',
    sampleId: 'sample-1',
    caseId: 'case-1',
    arm: 'stable',
    functionVersion: '2',
    config: 'cfg-1',
    sampleAt,
    scores: { relevance: 4 },
  };
  const evaluationLogs: LogsPort = {
    async query(_q, startSec, endSec) {
      const now = f.clock.now();
      if (written === undefined || written > now || written < startSec * 1000 || written >= (endSec + 1) * 1000) return [];
      return [
        [
          { field: '@timestamp', value: insightsTime(written) },
          { field: '@message', value: JSON.stringify(result) },
        ],
      ];
    },
  };
  // The service's log group: the runtime's invocation lines, and its sample line for the sampled answer.
  const logs: LogsPort = {
    async query(q, startSec, endSec, deadline) {
      if (!q.includes('ai-release.evaluation-sample')) return f.ports.logs.query(q, startSec, endSec, deadline);
      if (sampleAt < startSec * 1000 || sampleAt >= (endSec + 1) * 1000) return [];
      const row: QueryRow = [
        { field: 'sampleId', value: 'sample-1' },
        { field: 'functionVersion', value: '2' },
        { field: 'tuple.config', value: 'cfg-1' },
        { field: 'time', value: new Date(sampleAt).toISOString() },
      ];
      return [row];
    },
  };
  return { f, ports: { ...f.ports, logs, evaluationLogs }, evaluated: () => evaluated };
}

describe('the hook waits for outstanding evaluation results before it promotes', () => {
  test('the runtime metrics are conclusive at once, but a sample from the shift has no result yet: the hook answers only once it arrived (4 min later) and was judged', async () => {
    const s = setup(T0 + 4 * MIN);
    const out = await runAfterTrafficHook(hook, s.ports, S, T0 + 14 * MIN);
    expect(out).toEqual({ status: 'Succeeded', verdict: 'no-regression-shown', answered: true });
    const at = s.f.deployments.answers[0].at;
    // Read once the result is searchable (+15 s), within one 30 s poll and one 10 s period.
    expect(at).toBeGreaterThanOrEqual(T0 + 4 * MIN + 15_000);
    expect(at).toBeLessThanOrEqual(T0 + 4 * MIN + 15_000 + 40_000);
    expect(s.evaluated()).toBe(1);
    const record = s.f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(record.evaluation).toMatchObject({ results: 1, outstanding: 0 });
    expect(record.evaluation!.until).toBeGreaterThanOrEqual(T0);
  });

  test('a result that never comes: the hook waits the bound (5 min after its window), then promotes and the record says one was outstanding', async () => {
    const s = setup(undefined);
    const out = await runAfterTrafficHook(hook, s.ports, S, T0 + 14 * MIN);
    expect(out.status).toBe('Succeeded');
    const at = s.f.deployments.answers[0].at;
    // The sample's window [T0 - 1 min, T0) waits until T0 + 5 min (+ the 15 s lag), within a poll and a period.
    expect(at).toBeGreaterThanOrEqual(T0 + 5 * MIN + 15_000);
    expect(at).toBeLessThanOrEqual(T0 + 5 * MIN + 15_000 + 40_000);
    const record = s.f.state.objects.get(judgeKey('svc', 'code-d-ABC'))!;
    expect(record.evaluation).toMatchObject({ results: 0, outstanding: 1, windows: { atBound: 1 } });
  });

  test('control: without an evaluation section the same hook answers as soon as the runtime metrics conclude (about 2 min in)', async () => {
    const s = setup(T0 + 4 * MIN);
    await runAfterTrafficHook(hook, s.ports, { ...S, evaluation: undefined }, T0 + 14 * MIN);
    expect(s.f.deployments.answers[0].at).toBeLessThanOrEqual(T0 + 2 * MIN + 10_000);
  });
});
