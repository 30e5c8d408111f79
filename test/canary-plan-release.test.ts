import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { codeSteps, evaluatePolicy, renderCanaryCard, RULE_CANARY_PLAN, schedulePower } from '../lib';
import { testRelease } from './helpers';

// One release per distinct props in this file: the tests only read a release's facts, card and annotations, so the
// 20 requests/s release (five tests) and the 8-turn one (read twice) are built once.
const built = new Map<string, ReturnType<typeof testRelease>>();
const release = (props: Parameters<typeof testRelease>[0] = {}) => {
  const key = JSON.stringify(props);
  let r = built.get(key);
  if (!r) {
    r = testRelease(props);
    built.set(key, r);
  }
  return r;
};
// The example as shipped, built once for the file (its stack is only read).
let example: import('../bin/example-stack').ExampleStack | undefined;
const exampleStack = () => {
  const { ExampleStack } = require('../bin/example-stack') as typeof import('../bin/example-stack');
  const { testApp } = require('./helpers') as typeof import('./helpers');
  example ??= new ExampleStack(testApp(), 'Example');
  return example;
};
const planWarnings = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('canary-reaches-planned-power'))
    .map((w) => String(w.entry.data));

describe('AiRelease canary plan: facts, policy warning, card', () => {
  test('at 20 rps the default canary (10 % for 5 min) misses the plan: the warning names the powers and the exact TrafficShift call', () => {
    const { stack, r } = release({ expectedRequestsPerSecond: 20 });
    const cp = r.facts.canaryPlan;
    expect(cp?.plan.codeReaches).toBe(true);
    expect(cp?.current.power).toBeLessThan(0.9);
    const w = planWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('canary 10 % for 5 min, then 100 %');
    expect(w[0]).toContain(`trafficShift: ${cp?.plan.code.call} would reach`);
    expect(w[0]).toMatch(/errors x2 \d+ %/);
  });

  test('the schedule the warning names passes the rule (pure: the facts with that schedule)', () => {
    const { r } = release({ expectedRequestsPerSecond: 20 });
    const cp = r.facts.canaryPlan;
    if (!cp) throw new Error('no plan');
    const c = cp.plan.code;
    const current = { ...schedulePower(codeSteps(c.kind, c.percent, c.intervalMinutes), cp.traffic), describe: c.call };
    expect(current.power).toBeGreaterThanOrEqual(0.9);
    expect(RULE_CANARY_PLAN.check({ ...r.facts, canaryPlan: { ...cp, current } })).toEqual([]);
  });

  test('unreachable within the cap: the warning says so and what to relax', () => {
    const { r } = release({ expectedRequestsPerSecond: 1, canaryPlan: { maxMinutes: 20 } });
    const w = RULE_CANARY_PLAN.check(r.facts);
    expect(w[0]).toContain('no CodeDeploy canary or linear shift within canaryPlan.maxMinutes (20) reaches it');
  });

  test('skipped without stated traffic or with the judge off; the card has the plan section only with it', () => {
    const { r: unstated } = release();
    expect(unstated.facts.canaryPlan).toBeUndefined();
    const { r: off } = release({ expectedRequestsPerSecond: 20, canaryJudge: false });
    expect(off.facts.canaryPlan).toBeUndefined();
    const { r } = release({ expectedRequestsPerSecond: 20 });
    const card = renderCanaryCard(r.facts, evaluatePolicy(r.facts, [RULE_CANARY_PLAN]));
    expect(card).toContain('## Canary plan (from the stated traffic)');
    expect(card).toMatch(/\| code, as configured: canary 10 % for 5 min, then 100 % \| 5 \| 5 min \| \d+ % \| \d+ % \| \d+ % \|/);
    expect(card).toContain(`\`${r.facts.canaryPlan?.plan.code.call}\``);
    expect(card).toContain('Paired preference: not planned (no evaluation section with paired comparisons).');
    expect(renderCanaryCard(unstated.facts, evaluatePolicy(unstated.facts, [RULE_CANARY_PLAN]))).not.toContain('## Canary plan');
  });

  test('the judge α and baseRates.errorRate reach the plan', () => {
    const { r: strict } = release({ expectedRequestsPerSecond: 20, canaryJudge: { alpha: 0.001 } });
    const { r: loose } = release({ expectedRequestsPerSecond: 20 });
    expect(strict.facts.canaryPlan?.plan.code.byRegression[0].logThreshold).toBeGreaterThan(
      loose.facts.canaryPlan?.plan.code.byRegression[0].logThreshold ?? 0,
    );
    const { r: noErrors } = release({ expectedRequestsPerSecond: 20, baseRates: { errorRate: 0 } });
    expect(noErrors.facts.canaryPlan?.current.byRegression.map((b) => b.regression)).toEqual(['p50Increase', 'qualityDrop']);
  });

  test("an assigned config canary's share schedule is judged against the plan: the warning names the configCanary schedule that would reach it", () => {
    const { r } = release({ expectedRequestsPerSecond: 20, configCanary: 'assigned' });
    const cc = r.facts.canaryPlan?.configCurrent;
    expect(cc?.describe).toBe('assigned share 10 % for 120 s, then 50 % for 300 s');
    expect(cc?.judgedMinutes).toBe(7);
    const w = RULE_CANARY_PLAN.check(r.facts).filter((m) => m.includes('assigned config canary'));
    expect(w).toHaveLength(1);
    const plan = r.facts.canaryPlan?.plan.config;
    expect(w[0]).toContain(
      `configCanary: { schedule: [{ percent: 10, holdSeconds: 300 }, { percent: 50, holdSeconds: ${(plan?.steps[1].minutes ?? 0) * 60} }] } would reach`,
    );
    const card = renderCanaryCard(r.facts, evaluatePolicy(r.facts, [RULE_CANARY_PLAN]));
    expect(card).toContain('| config, as configured: assigned share 10 % for 120 s, then 50 % for 300 s | 7 |');
  });

  test('the assigned warning says the conversation length it assumed; a stated length changes the named schedule (longer conversations, longer balanced step)', () => {
    const at = (turns?: number) =>
      release({ expectedRequestsPerSecond: 20, configCanary: 'assigned', ...(turns !== undefined ? { canaryPlan: { meanConversationTurns: turns } } : {}) }).r;
    const assumed = RULE_CANARY_PLAN.check(at().facts).filter((m) => m.includes('assigned config canary'));
    expect(assumed[0]).toContain('judged per conversation at an assumed 4 requests per conversation (state canaryPlan.meanConversationTurns');
    const one = at(1).facts.canaryPlan;
    const eight = at(8).facts.canaryPlan;
    const w8 = RULE_CANARY_PLAN.check(at(8).facts).filter((m) => m.includes('assigned config canary'));
    expect(w8[0]).toContain('judged per conversation at 8 requests per conversation');
    expect(eight?.plan.config.steps[1].minutes).toBeGreaterThan(one?.plan.config.steps[1].minutes ?? Number.POSITIVE_INFINITY);
    // The powers it reports for the configured schedule are per conversation: lower at 8 turns than at 1.
    expect(eight?.configCurrent?.power).toBeLessThan(one?.configCurrent?.power ?? 0);
    // Either the named schedule reaches the target, or the warning says none does within the cap.
    expect(w8[0]).toMatch(
      eight?.plan.configReaches ? /configCanary: \{ schedule: \[.*\] \} would reach \d+ %/ : /reaches only \d+ % within canaryPlan\.maxMinutes/,
    );
  });
});

describe('the paired preference in the example (scoring at 0.5 %, pairs at 10 % during a release, 5 requests/s)', () => {
  // The example's own construct tree: its judge judges groundedness, relevance and paired.
  const { ExampleStack } = require('../bin/example-stack') as typeof import('../bin/example-stack');
  // The example as shipped: its code schedule is the canary plan's at 5 requests/s (bin/example-stack.ts).
  const facts = exampleStack().release.facts;
  const cp = facts.canaryPlan;
  const pairedPower = (x?: { byRegression: readonly { regression: string; power: number }[] }) =>
    x?.byRegression.find((r) => r.regression === 'pairedPreference')?.power ?? -1;
  /** The example synthesized with its evaluation.yaml edited (a copy of its release-config directory). */
  const withEvaluationYaml = (id: string, edit: (yaml: string) => string) => {
    const { testApp } = require('./helpers') as typeof import('./helpers');
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const os = require('node:os') as typeof import('node:os');
    const src = path.join(__dirname, '../example/support-assistant/release-config');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pairs-'));
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const yaml = fs.readFileSync(path.join(dir, 'evaluation.yaml'), 'utf8');
    const edited = edit(yaml);
    expect(edited).not.toBe(yaml);
    fs.writeFileSync(path.join(dir, 'evaluation.yaml'), edited);
    return new ExampleStack(testApp(), id, { configDir: dir }).release.facts;
  };

  test('the plan models the 9-member family (the guardrail’s two scores since h11-eval17), scoring at the section samplingRate and pairs at paired.samplingRate (code) and paired.configSamplingRate (config), with their prices', () => {
    expect(cp?.traffic.evaluation).toMatchObject({
      samplingRate: 0.005,
      pairSamplingRate: 0.1,
      configPairSamplingRate: 0.2,
      criteria: [
        'groundedness',
        'relevance',
        'citation-validity',
        'refusal-phrase',
        'language-match',
        'length',
        'forbidden-pattern',
        'guardrail-groundedness',
        'guardrail-relevance',
      ],
    });
    const e = facts.releaseCost?.evaluation;
    expect(cp?.traffic.evaluation?.cost).toEqual({ scoreUsd: e?.scoreUsd, pairUsd: e?.pairUsd, perReleaseUsd: 20 });
    expect(cp?.plan.evaluation?.pairedThreshold).toBeCloseTo(1400, 6);
    expect(cp?.current.byRegression.map((r) => r.regression)).toEqual(['errorRatio', 'p50Increase', 'qualityDrop', 'pairedPreference']);
    // The config plan is capped by the config plane's budget (37 minutes of steps): at 0.1 its 10 % 5 min + 50 % 32 min
    // does not reach 90 %; each plane now has its own rate (h12-pairplane): 0.1 reaches it on the code plane, the
    // config plane's 0.2 on the config plan, and both releases are within the budget (one budget per release).
    expect(cp?.plan.configMaxMinutes).toBe(37);
    expect(cp?.plan.config.steps).toEqual([
      { share: 0.1, minutes: 5 },
      { share: 0.5, minutes: 32 },
    ]);
    const reach = cp?.plan.evaluation?.reaching;
    expect(reach?.pairSamplingRate).toBe(0.1);
    expect(reach?.configPairSamplingRate).toBe(0.2);
    expect(reach?.cost?.code.totalUsd).toBeLessThan(20);
    expect(reach?.cost?.config.totalUsd).toBeLessThan(20);
    expect(reach?.cost?.config.pairs).toBeGreaterThan(reach?.cost?.code.pairs ?? Number.POSITIVE_INFINITY);
    expect(reach?.cost?.withinBudget).toBe(true);
  });

  test('its configured code schedule reaches 90 % against a canary losing 60 % of pairs, within the release budget', () => {
    expect(pairedPower(cp?.current)).toBeGreaterThanOrEqual(0.9);
    // At the stated pairing rate 0.1 (the card's per-release cost, on the configured code schedule).
    const spend = facts.releaseCost?.evaluation;
    expect(spend?.perReleaseUsd).toBeLessThan(20);
    expect(spend?.pairsPerRelease).toBeGreaterThan(800);
  });

  test('no paired warning: the code schedule at paired.samplingRate 0.1 and the assigned config canary at paired.configSamplingRate 0.2 both reach 90 %', () => {
    const w = RULE_CANARY_PLAN.check(facts);
    expect(w.filter((x) => x.includes('pairs decided'))).toEqual([]);
    // The shipped config schedule (10 % 2 min, 50 % 35 min, all the config plane's 50-minute budget holds) at 0.2.
    expect(pairedPower(cp?.configCurrent)).toBeGreaterThanOrEqual(0.9);
    expect(w.some((x) => x.includes('errors x2'))).toBe(true);
  });

  test("the config canary at the code plane's rate (configSamplingRate left out) gets the warning, naming paired.configSamplingRate and the config release's cost", () => {
    const w = RULE_CANARY_PLAN.check(withEvaluationYaml('NoConfigRate', (y) => y.replace(/\n {2}configSamplingRate: 0\.2\n/, '\n'))).filter((x) =>
      x.includes('pairs decided'),
    );
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('pairing rate 0.1 (paired.configSamplingRate) the assigned config canary (assigned share 10 % for 120 s, then 50 % for 2100 s)');
    expect(w[0]).toMatch(/under the planned 90 %; paired: \{ configSamplingRate: 0\.2 \} with configCanary schedule/);
    expect(w[0]).toMatch(
      /pairing the config canary at 0\.2 costs about 1[0-9] USD per config release on that schedule \([\d,]+ pairs [\d.]+ USD, [\d,]+ scored [\d.]+ USD; budget\.perReleaseUsd 20 USD\)$/,
    );
    expect(w[0]).not.toContain('paired: { samplingRate');
  });

  test('the card states both rates, the schedule, and the release spend of pairs and scores separately', () => {
    const card = renderCanaryCard(facts, evaluatePolicy(facts, [RULE_CANARY_PLAN]));
    expect(card).toContain('| loses 60 % of pairs |');
    expect(card).toContain('evaluation samplingRate 0.005, pairing rate 0.1 (paired.samplingRate), config canary 0.2 (paired.configSamplingRate)');
    expect(card).toContain('reached at the stated pairing rates on the planned schedules');
    expect(card).not.toContain('over it');
    // The evaluation cost by plane: the code release (0.1) and the assigned config release (0.2), one budget each.
    expect(card).toMatch(/\| pairs per release \| 855 canary answers paired \(pairing rate 0\.1;/);
    expect(card).toMatch(
      /\| pairs per config release \| 1,062 config canary answers paired on the assigned schedule \(37 min; pairing rate 0\.2, paired\.configSamplingRate\) \| 15\.78 USD \|/,
    );
    expect(card).toMatch(/\| \*\*per config release\*\* \| 56 samples, 1,062 pairs \| \*\*16\.34 USD\*\* \|/);
    expect(card).toContain('Budget: 20.00 USD per release (code or config)');
    expect(card).toContain("config: 37 min of steps, what the config plane's 50-minute budget holds");
    expect(card).toMatch(/expected per release: code [\d,]+ pairs [\d.]+ USD \+ [\d,]+ scored [\d.]+ USD/);
  });

  test('paired: true at 0.005 would not reach it: the warning names the pairing rate, the schedule and the cost against the budget', () => {
    const f = withEvaluationYaml('ExampleTrue', (y) => {
      const out = y.replace(/\npaired:\n {2}samplingRate: 0\.1\n(?: {2}#.*\n)* {2}configSamplingRate: 0\.2\n/, '\npaired: true\n');
      expect(out).toContain('\npaired: true\n');
      return out;
    });
    const w = RULE_CANARY_PLAN.check(f).find((x) => x.includes('pairs decided'));
    expect(w).toContain('evaluation samplingRate 0.005 and pairing rate 0.005 (paired.samplingRate)');
    // Per plane (h12-pairplane): 0.1 on the code schedule, 0.2 on the config plane's budget-capped plan.
    expect(w).toMatch(
      /paired: \{ samplingRate: 0\.1, configSamplingRate: 0\.2 \} with trafficShift: TrafficShift\.linear\(5, Duration\.minutes\(3\)\) would reach \d+ %/,
    );
    expect(w).toMatch(
      /pairing at 0\.1 costs about 14 USD per release on that code schedule \(855 pairs 13 USD, 86 scored 0\.85 USD; budget\.perReleaseUsd 20 USD\); steady-state scoring stays at samplingRate 0\.005/,
    );
    expect(w).toMatch(/pairing the config canary at 0\.2 costs about 1[0-9] USD per config release on that schedule \([\d,]+ pairs/);
    expect(w).not.toContain('over it');
    expect(f.canaryPlan?.pairedCost?.pairsPerRelease).toBeCloseTo(f.canaryPlan?.plan.evaluation?.reaching?.cost?.code.pairs ?? -1, 6);
  });
});

test("the runtime metrics' finding names their own power, not the paired preference's", () => {
  const facts = exampleStack().release.facts;
  const c = facts.canaryPlan?.plan.code;
  const errors = c?.byRegression.find((r) => r.regression === 'errorRatio')?.power ?? -1;
  const w = RULE_CANARY_PLAN.check(facts).find((x) => x.includes('errors x2'));
  expect(w).toContain(`the most powerful within the cap is ${c?.call} (${Math.round(errors * 100)} %)`);
});

test("an assigned config canary's paired preference: its own finding, the configCanary schedule first", () => {
  const { ExampleStack } = require('../bin/example-stack') as typeof import('../bin/example-stack');
  const { testApp } = require('./helpers') as typeof import('./helpers');
  const facts = new ExampleStack(testApp(), 'Example3', { configCanary: 'assigned' }).release.facts;
  const cc = facts.canaryPlan?.configCurrent;
  expect(cc?.byRegression.find((r) => r.regression === 'pairedPreference')?.power).toBeLessThan(0.9);
  // The code schedule reaches it at the example's pairing rate; the default assigned schedule (2 + 5 min) does not.
  const w = RULE_CANARY_PLAN.check(facts).filter((x) => x.includes('pairs decided'));
  expect(w).toHaveLength(1);
  expect(w[0]).toContain(`the assigned config canary (${cc?.describe})`);
  expect(w[0]).toMatch(/configCanary schedule \[\{ percent: 10, holdSeconds: 300 \}, \{ percent: 50, holdSeconds: \d+ \}\] \d+ % \(code: trafficShift:/);
});

describe("the config plan fits the config plane's budget (h12-assigned)", () => {
  const { planCanary } = require('../lib') as typeof import('../lib');

  test.each([
    [undefined, 60],
    [37, 37],
    [90, 60],
  ])('configMaxMinutes %p caps the config plan at %p minutes (maxMinutes 60); the code plan keeps its cap', (configMaxMinutes, cap) => {
    const p = planCanary({ requestsPerSecond: 5 }, configMaxMinutes === undefined ? {} : { configMaxMinutes });
    expect(p.configMaxMinutes).toBe(cap);
    expect(p.config.steps.reduce((t, s) => t + s.minutes, 0)).toBeLessThanOrEqual(cap);
    expect(p.maxMinutes).toBe(60);
  });

  test('a bad configMaxMinutes names the field and the fix', () => {
    expect(() => planCanary({ requestsPerSecond: 5 }, { configMaxMinutes: 1.5 })).toThrow(
      /configMaxMinutes must be a whole number of minutes of at least 2 \(what the config plane's budget holds\), got 1\.5/,
    );
  });

  test("the schedule the policy recommends synthesizes: the example built with it passes the deployer's budget check", () => {
    const { ExampleStack } = require('../bin/example-stack') as typeof import('../bin/example-stack');
    const { testApp } = require('./helpers') as typeof import('./helpers');
    const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const planned = exampleStack().release.facts.canaryPlan!.plan.config.steps;
    const schedule = planned.map((s) => ({ percent: Math.round(s.share * 100), holdSeconds: s.minutes * 60 }));
    expect(() => new ExampleStack(testApp(), 'Recommended', { configCanary: { schedule } })).not.toThrow();
    // One more minute on the balanced step does not fit: the cap is the budget's, not a margin below it.
    const longer = schedule.map((s, i) => (i === schedule.length - 1 ? { ...s, holdSeconds: s.holdSeconds + 60 } : s));
    expect(() => new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Longer', { configCanary: { schedule: longer } })).toThrow(
      /does not fit the config plane's time budget/,
    );
  });
});

test('a stated canaryPlan.configMaxMinutes only lowers the budget cap; a bad one is named', () => {
  const lowered = release({ expectedRequestsPerSecond: 5, configCanary: 'assigned', canaryPlan: { configMaxMinutes: 20 } }).r.facts.canaryPlan;
  expect(lowered?.plan.configMaxMinutes).toBe(20);
  const raised = release({ expectedRequestsPerSecond: 5, configCanary: 'assigned', canaryPlan: { configMaxMinutes: 59 } }).r.facts.canaryPlan;
  expect(raised?.plan.configMaxMinutes).toBeLessThan(59);
  expect(() => release({ expectedRequestsPerSecond: 5, configCanary: 'assigned', canaryPlan: { configMaxMinutes: 1.5 } }).r.facts.canaryPlan).toThrow(
    /configMaxMinutes must be a whole number of minutes of at least 2/,
  );
});
