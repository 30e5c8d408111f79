import { parseLambdaAppSpec } from '../lambda/gate/appspec';
import { buildReport, settingsFrom } from '../lambda/gate/gate';
import { judge } from '../lambda/gate/judge';
import type { GateStore } from '../lambda/gate/ports';
import { renderGateMarkdown } from '../lambda/gate/render-markdown';
import { sample, selectCases, stratumOf } from '../lambda/gate/select';
import { GATE_RESPONSE_KEY, type RegressionCase } from '../lambda/shared/contract';
import { gateCase } from './gate-fixtures';

/** An in-memory store with an explicit last-modified order (newest = written last). */
function memStore(objects: Record<string, string>): GateStore {
  const order = Object.keys(objects);
  return {
    get: async (k) => (k in objects ? { body: objects[k] } : undefined),
    put: async (k, b) => {
      objects[k] = b;
      order.push(k);
      return 'written';
    },
    list: async (p) => Object.keys(objects).filter((k) => k.startsWith(p)),
    newest: async (p, s) => [...order].reverse().find((k) => k.startsWith(p) && k.endsWith(s)),
  };
}

describe('sampling above the cap', () => {
  test('under the cap: every case, newest first', () => {
    const pool = [gateCase({ i: 1 }), gateCase({ i: 3 }), gateCase({ i: 2 })];
    expect(sample(pool, 5).map((c) => c.caseId.slice(-1))).toEqual(['3', '2', '1']);
  });

  test('over the cap: round-robin over failure kinds, newest first in each, so a rare kind is replayed', () => {
    const errors = Array.from({ length: 50 }, (_, i) => gateCase({ i, kinds: ['error'] }));
    const safety = [gateCase({ i: 100, kinds: ['safety', 'quality'] }), gateCase({ i: 101, kinds: ['safety'] })];
    const quality = [gateCase({ i: 200, kinds: ['quality'] })];
    const chosen = sample([...errors, ...safety, ...quality], 6);
    expect(chosen).toHaveLength(6);
    const by = (k: string) => chosen.filter((c) => stratumOf(c) === k);
    expect(by('safety')).toHaveLength(2);
    expect(by('quality')).toHaveLength(1);
    // The 3 error cases chosen are the 3 newest errors.
    expect(by('error').map((c) => c.caseId)).toEqual([errors[49], errors[48], errors[47]].map((c) => c.caseId));
  });

  test('the most severe kind is the stratum (FAILURE_KINDS order)', () => {
    expect(stratumOf(gateCase({ kinds: ['quality', 'timeout'] }))).toBe('timeout');
  });

  test('cases the predicate must keep are always in, even old ones, even past the cap', () => {
    const pool = Array.from({ length: 20 }, (_, i) => gateCase({ i: 300 + i }));
    const must = new Set([pool[0].caseId, pool[1].caseId, pool[2].caseId]);
    const chosen = sample(pool, 2, (c) => must.has(c.caseId));
    expect(chosen.map((c) => c.caseId).sort()).toEqual([...must].sort());
  });

  test('selectCases: accepted cases block; the newest review’s top cases and the cases of its window are always in', async () => {
    const cases = Array.from({ length: 30 }, (_, i) => gateCase({ i: 400 + i }));
    const old = cases[0]; // the oldest: a sample of 5 newest-first would never take it
    const inWindow = gateCase({ i: 500, firstSeen: '2026-10-01T10:05:00.000Z', lastSeen: '2026-10-01T10:06:00.000Z' });
    const candidate = gateCase({ i: 600, state: 'candidate' });
    const objects: Record<string, string> = {};
    for (const c of [...cases, inWindow]) objects[`cases/svc/accepted/${c.caseId}.json`] = JSON.stringify(c);
    objects[`cases/svc/candidate/${candidate.caseId}.json`] = JSON.stringify(candidate);
    objects['reviews/svc/code-d-old.json'] = JSON.stringify({ samples: { topCases: [{ caseId: cases[1].caseId }] }, deployment: {} });
    objects['reviews/svc/code-d-new.json'] = JSON.stringify({
      samples: { topCases: [{ caseId: old.caseId }] },
      deployment: { startedAt: '2026-10-01T10:00:00.000Z', endedAt: '2026-10-01T10:10:00.000Z' },
    });
    const s = await selectCases(memStore(objects), 'svc', { cap: 5, candidates: 'report' });
    const ids = s.cases.map((c) => c.c.caseId);
    expect(ids).toContain(old.caseId);
    expect(ids).toContain(inWindow.caseId);
    expect(ids).not.toContain(cases[1].caseId); // only in the older review
    expect(s.cases).toHaveLength(5);
    expect(s.sampled).toBe(true);
    expect(s.totals).toEqual({ blocking: 31, reported: 1 });
    expect(s.cases.every((c) => c.blocking)).toBe(true); // the cap is filled by blocking cases first
    expect(s.lastReview).toBe('reviews/svc/code-d-new.json');
  });

  test('candidates: off reads none, block makes them blocking', async () => {
    const a = gateCase({ i: 700 });
    const c = gateCase({ i: 701, state: 'candidate' });
    const objects = { [`cases/svc/accepted/${a.caseId}.json`]: JSON.stringify(a), [`cases/svc/candidate/${c.caseId}.json`]: JSON.stringify(c) };
    expect((await selectCases(memStore({ ...objects }), 'svc', { cap: 10, candidates: 'off' })).cases).toHaveLength(1);
    const block = await selectCases(memStore({ ...objects }), 'svc', { cap: 10, candidates: 'block' });
    expect(block.cases.map((x) => x.blocking)).toEqual([true, true]);
    expect(block.totals).toEqual({ blocking: 2, reported: 0 });
  });
});

describe('judging one replay', () => {
  const answer = (v: Partial<Record<string, unknown>>) => ({
    payload: JSON.stringify({ [GATE_RESPONSE_KEY]: { output: { answer: 'ok' }, kinds: [], details: [], latencyMs: 100, ...v } }),
  });
  const c = (expectation: RegressionCase['expectation']) => gateCase({ expectation });

  test('a clean verdict passes the strict defaults', () => {
    expect(judge(c({}), answer({}), 120)).toEqual({ passed: true, reasons: [], latencyMs: 100 });
  });

  test('contract, safety and quality come from the runtime; noSafetyFlag: false lets a safety flag through', () => {
    const v = answer({ kinds: ['contract', 'safety'], details: ['contract: must have required property answer', 'safety: guardrail intervened'] });
    const j = judge(c({}), v, 10);
    expect(j.passed).toBe(false);
    expect(j.reasons).toEqual(['contract: must have required property answer', 'safety: guardrail intervened']);
    expect(judge(c({ noSafetyFlag: false, contractHolds: false }), v, 10).passed).toBe(true);
  });

  test('minQuality, maxLatencyMs, mustMatch and mustNotMatch', () => {
    expect(judge(c({ minQuality: 0.8 }), answer({ qualityScore: 0.7 }), 1).reasons).toEqual(["quality: score 0.7 is below the case's minQuality 0.8"]);
    expect(judge(c({ maxLatencyMs: 50 }), answer({ latencyMs: 80 }), 1).reasons).toEqual(["latency: 80 ms is over the case's maxLatencyMs 50"]);
    expect(judge(c({ mustMatch: ['^\\{"answer":"ok"'] }), answer({}), 1).passed).toBe(true);
    expect(judge(c({ mustMatch: ['refund'] }), answer({}), 1).reasons).toEqual(['mustMatch: the output does not match /refund/']);
    expect(judge(c({ mustNotMatch: ['ok'] }), answer({}), 1).reasons).toEqual(['mustNotMatch: the output matches /ok/']);
    expect(judge(c({ mustNotMatch: ['('] }), answer({}), 1).passed).toBe(false); // a broken pattern never passes silently
  });

  test('a function error fails, a timeout is named as one', () => {
    const err = { functionError: 'Unhandled', payload: JSON.stringify({ errorType: 'AiTimeoutError', errorMessage: 'did not finish' }) };
    expect(judge(c({}), err, 900)).toEqual({ passed: false, reasons: ['timeout: AiTimeoutError: did not finish'], latencyMs: 900 });
  });

  test('an answer without a runtime verdict is judged on what can be judged, with a note', () => {
    const j = judge(c({ mustMatch: ['hello'] }), { payload: JSON.stringify({ text: 'hello' }) }, 5);
    expect(j.passed).toBe(true);
    expect(j.reasons[0]).toMatch(/no runtime verdict/);
  });
});

describe('the report', () => {
  const run = { service: 'svc', plane: 'code' as const, releaseKey: 'code-d-1', target: { functionName: 'fn', qualifier: '7' }, deadline: 0 };
  const result = (outcome: 'passed' | 'failed' | 'not-run', blocking = true) => ({
    caseId: 'c',
    state: 'accepted' as const,
    kinds: [],
    blocking,
    outcome,
    reasons: [],
  });
  const facts = { startedAt: 0, endedAt: 1, totals: { blocking: 4, reported: 0 }, sampled: false, deadlineReached: false };

  test('the pass rate counts not-run cases as not passed', () => {
    const results = [result('passed'), result('passed'), result('passed'), result('not-run')];
    expect(buildReport(run, { passRate: 1 }, { ...facts, results }).verdict).toBe('failed');
    expect(buildReport(run, { passRate: 0.75 }, { ...facts, results }).verdict).toBe('passed');
    const r = buildReport(run, { passRate: 0.75 }, { ...facts, results });
    expect(r.blocking).toEqual({ total: 4, selected: 4, passed: 3, failed: 0, notRun: 1 });
    expect(r.summary).toMatch(/3\/4 blocking cases passed \(75 %, required 75 %\), 1 not run/);
    expect(renderGateMarkdown(r)).toMatch(/\| blocking \| 4 \| 4 \| 3 \| 0 \| 1 \|/);
  });

  test('no blocking case: passed-empty, with the note', () => {
    const r = buildReport(run, { passRate: 1 }, { ...facts, totals: { blocking: 0, reported: 0 }, results: [] });
    expect(r.verdict).toBe('passed-empty');
    expect(r.summary).toMatch(/no accepted case to replay yet/);
  });

  test('settings from the environment: defaults, and an error naming the variable', () => {
    const names = { caseCap: 'CAP', concurrency: 'CONC', caseTimeoutMs: 'TMO', passRate: 'RATE', candidates: 'CAND' };
    expect(settingsFrom(() => undefined, names)).toEqual({ caseCap: 500, concurrency: 10, caseTimeoutMs: 30000, passRate: 1, candidates: 'off' });
    expect(() => settingsFrom((k) => (k === 'RATE' ? '1.5' : undefined), names)).toThrow(/RATE must be a number between 0 and 1, got "1.5"/);
    expect(() => settingsFrom((k) => (k === 'CONC' ? '0' : undefined), names)).toThrow(/CONC must be an integer of at least 1/);
  });
});

describe('the AppSpec of a Lambda deployment', () => {
  test('JSON and YAML give the same target', () => {
    const json = JSON.stringify({
      version: 0.0,
      Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc-fn', Alias: 'live', CurrentVersion: '3', TargetVersion: '4' } } }],
      Hooks: [{ BeforeAllowTraffic: 'gate-fn' }],
    });
    const yaml = [
      'version: 0.0',
      'Resources:',
      '  - fn:',
      '      Type: AWS::Lambda::Function',
      '      Properties:',
      '        Name: "svc-fn"',
      '        Alias: "live"',
      '        CurrentVersion: "3"',
      '        TargetVersion: "4"',
      'Hooks:',
      '  - BeforeAllowTraffic: "gate-fn"',
    ].join('\n');
    const want = { functionName: 'svc-fn', alias: 'live', currentVersion: '3', targetVersion: '4' };
    expect(parseLambdaAppSpec(json)).toEqual(want);
    expect(parseLambdaAppSpec(yaml)).toEqual(want);
  });

  test('a non-Lambda AppSpec is refused with what is missing', () => {
    expect(() => parseLambdaAppSpec('{"Resources":[]}')).toThrow(/names no Lambda function target/);
    expect(() =>
      parseLambdaAppSpec(
        JSON.stringify({
          Resources: [{ f: { Type: 'AWS::Lambda::Function', Properties: { Name: 'a', Alias: 'live', CurrentVersion: '1', TargetVersion: '$LATEST' } } }],
        }),
      ),
    ).toThrow(/TargetVersion must be a published version number/);
  });
});

describe('case files the gate cannot take are reported as failed cases (never a TypeError, never passed-empty)', () => {
  const a = () => gateCase({ i: 900 });
  const run = async (objects: Record<string, string>, candidates: 'off' | 'report' | 'block' = 'off') =>
    selectCases(memStore(objects), 'svc', { cap: 10, candidates });

  test.each([
    ['not JSON', () => '{"schemaVersion":1,', /not valid JSON/],
    [
      'state says candidate under accepted/',
      () => JSON.stringify({ ...a(), state: 'candidate' }),
      /body says state "candidate" but it is stored under accepted\//,
    ],
    ['caseId of another case', () => JSON.stringify({ ...a(), caseId: 'f'.repeat(32) }), /body says caseId "f{32}" but its key says/],
    ['kinds as a string', () => JSON.stringify({ ...a(), kinds: 'error' }), /kinds must be a list/],
    ['input missing', () => JSON.stringify({ ...a(), input: undefined }), /input must be the recorded input/],
    ['expectation null', () => JSON.stringify({ ...a(), expectation: null }), /expectation must be an object/],
    ['mustMatch as a string', () => JSON.stringify({ ...a(), expectation: { mustMatch: 'x' } }), /expectation.mustMatch must be a list/],
  ])('%s: one failed blocking case with the reason', async (_, body, reason) => {
    const id = a().caseId;
    const s = await run({ [`cases/svc/accepted/${id}.json`]: body() });
    expect(s.cases).toHaveLength(0);
    expect(s.problems).toEqual([expect.objectContaining({ caseId: id, state: 'accepted', blocking: true, reason: expect.stringMatching(reason) })]);
    expect(s.totals.blocking).toBe(1); // so the verdict is not passed-empty
    const report = buildReport(
      { service: 'svc', plane: 'code', releaseKey: 'code-d-1', target: { functionName: 'f', qualifier: '2' }, deadline: 0 },
      { passRate: 1 },
      {
        startedAt: 0,
        endedAt: 1,
        results: s.problems.map((p) => ({
          caseId: p.caseId,
          state: p.state,
          kinds: [],
          blocking: p.blocking,
          outcome: 'failed' as const,
          reasons: [p.reason],
        })),
        totals: s.totals,
        sampled: false,
        deadlineReached: false,
      },
    );
    expect(report.verdict).toBe('failed');
  });

  test('a good case beside a bad one is still replayed; the marker a move leaves is skipped silently', async () => {
    const good = gateCase({ i: 901 });
    const s = await run({
      [`cases/svc/accepted/${good.caseId}.json`]: JSON.stringify(good),
      [`cases/svc/accepted/${a().caseId}.json`]: 'nope',
      [`cases/svc/accepted/${'e'.repeat(32)}.json`]: JSON.stringify({
        schemaVersion: 1,
        moved: true,
        caseId: 'e'.repeat(32),
        service: 'svc',
        from: 'accepted',
        to: 'retired',
        at: '2026-12-07T00:00:00Z',
        by: 'a',
      }),
    });
    expect(s.cases.map((c) => c.c.caseId)).toEqual([good.caseId]);
    expect(s.problems.map((p) => p.caseId)).toEqual([a().caseId]);
    expect(s.totals.blocking).toBe(2);
  });

  test('a bad candidate only reports when candidates report, and blocks when they block', async () => {
    const c = gateCase({ i: 902, state: 'candidate' });
    const objects = { [`cases/svc/candidate/${c.caseId}.json`]: JSON.stringify({ ...c, kinds: 'x' }) };
    expect((await run({ ...objects }, 'off')).problems).toEqual([]);
    expect((await run({ ...objects }, 'report')).problems.map((p) => p.blocking)).toEqual([false]);
    expect((await run({ ...objects }, 'block')).problems.map((p) => p.blocking)).toEqual([true]);
  });
});

describe('a verdict of the wrong shape fails the case with the reason', () => {
  const c = gateCase({ expectation: { minQuality: 0.5 } });
  const v = (verdict: unknown) => ({ payload: JSON.stringify({ [GATE_RESPONSE_KEY]: verdict }) });
  const ok = { output: 'x', kinds: [], details: [], latencyMs: 10, qualityScore: 0.9 };
  test.each([
    ['kinds as a string', v({ ...ok, kinds: 'error' }), /verdict: kinds is a string, expected a list/],
    ['an unknown kind', v({ ...ok, kinds: ['oops'] }), /verdict: kinds has "oops"/],
    ['a non-numeric quality', v({ ...ok, qualityScore: 'high' }), /verdict: qualityScore is "high", expected a number/],
    ['null', v(null), /verdict: it is null, not an object/],
    ['details as a string', v({ ...ok, details: 'x' }), /verdict: details must be a list of strings/],
    ['an empty payload', { payload: '' }, /empty payload/],
    ['a non-JSON payload', { payload: '<html>502</html>' }, /payload is not JSON/],
  ])('%s', (_, answer, reason) => {
    const j = judge(c, answer, 50);
    expect(j.passed).toBe(false);
    expect(j.reasons.join('\n')).toMatch(reason);
  });

  test('the well-formed verdict still passes (the checks are not a blanket refusal)', () => {
    expect(judge(c, v(ok), 50)).toMatchObject({ passed: true });
  });
});
