/**
 * Issue 16 D4 on AppConfig's path (configCanary 'appconfig'): the judged time, the design's bound on the switch bets'
 * evidence (checked against the engine), and the policy warning and card paragraph that name the assigned fix.
 */
import type { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { type JudgeObservation, newJudgeState, updateJudge } from '../lambda/judge/judge';
import { evaluatePolicy, renderCanaryCard, RULE_APPCONFIG_CONFIG_JUDGED } from '../lib';
import { appConfigJudgedSeconds, environmentsNeeded } from '../lib/rollout/appconfig-judged';
import { defaultRolloutPercent } from './config-rollout-sim';
import { testRelease } from './helpers';

const warnings = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('config-canary-judged'))
    .map((w) => String(w.entry.data));

describe('what the judge can do on AppConfig rollout', () => {
  test("ConfigRollout.DEFAULT: both configs serve for 144 s (100 % told) + one 15-s poll = 159 s, the simulation's model", () => {
    expect(appConfigJudgedSeconds({ steps: [10, 20, 40, 80, 100], stepIntervalSeconds: 36 })).toBe(159);
    // the sim's rollout reaches 100 % at 144 s, not before
    expect(defaultRolloutPercent(143)).toBeLessThan(100);
    expect(defaultRolloutPercent(144)).toBe(100);
    // a rollout whose steps never say 100 % is judged over all of them
    expect(appConfigJudgedSeconds({ steps: [50, 90], stepIntervalSeconds: 60 })).toBe(135);
  });

  test('environments needed: the smallest E with E! ≥ the threshold (errors 1,200 → 7, values 600 → 6)', () => {
    expect(environmentsNeeded(Math.log(1200))).toBe(7);
    expect(environmentsNeeded(Math.log(600))).toBe(6);
    expect(environmentsNeeded(Math.log(720))).toBe(6);
    expect(environmentsNeeded(Math.log(721))).toBe(7);
  });

  test('checked against the engine: E environments, each switching alone and erring on every request while the rest never err, build evidence above 1 and never above E!', () => {
    for (const E of [3, 4, 5]) {
      let state = newJudgeState({ unit: 'environment', metrics: ['error'], notWorseOn: [] });
      let e = 1;
      for (let b = 0; b < 4 * E + 8; b++) {
        const obs: JudgeObservation[] = [];
        for (let j = 0; j < 6; j++)
          for (let k = 0; k < E; k++) {
            // env k switches in batch 1 + 4k (never the last one: a pool of one has no bet)
            const isNew = k < E - 1 && b >= 1 + 4 * k;
            obs.push({
              version: isNew ? 'canary' : 'stable',
              at: b * 10_000 + j * 1500 + k,
              error: isNew,
              safety: false,
              contract: false,
              environment: `e${k}`,
            });
          }
        const canary = obs.filter((o) => o.version === 'canary').length;
        const u = updateJudge(state, { canaryShare: canary / obs.length, observations: obs });
        state = u.state;
        e = u.evidence.find((x) => x.metric === 'error' && x.test !== 'gross')?.eValue ?? Number.NaN;
      }
      const factorial = [1, 1, 2, 6, 24, 120][E];
      expect(e).toBeGreaterThan(1);
      expect(e).toBeLessThanOrEqual(factorial + 1e-9);
    }
  });
});

describe('release policy and card', () => {
  test("configCanary 'appconfig' (the default) at 5 rps with the judge on: a warning names the judged time, the environments needed, the simulated power and the assigned schedule", () => {
    const { stack, r } = testRelease({ expectedRequestsPerSecond: 5 });
    const w = warnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("configCanary 'appconfig'");
    expect(w[0]).toContain(`about ${appConfigJudgedSeconds(r.facts.config)} s`);
    expect(w[0]).toMatch(/errors x2 needs ≥ 7/);
    expect(w[0]).toContain('configCanary: { schedule: [{ percent: ');
    expect(w[0]).toContain('bench/judge-config-rollout.ts');
    const card = renderCanaryCard(r.facts, evaluatePolicy(r.facts, [RULE_APPCONFIG_CONFIG_JUDGED]));
    expect(card).toContain("**Config plane through AppConfig's rollout**");
    expect(card).toContain('config-canary-judged');
  });

  test("no warning with configCanary 'assigned', without stated traffic, or with the judge off", () => {
    expect(warnings(testRelease({ expectedRequestsPerSecond: 5, configCanary: 'assigned' }).stack)).toEqual([]);
    expect(warnings(testRelease().stack)).toEqual([]);
    expect(warnings(testRelease({ expectedRequestsPerSecond: 5, canaryJudge: false }).stack)).toEqual([]);
    const { r } = testRelease({ expectedRequestsPerSecond: 5, configCanary: 'assigned' });
    expect(RULE_APPCONFIG_CONFIG_JUDGED.check(r.facts)).toEqual([]);
    expect(renderCanaryCard(r.facts, evaluatePolicy(r.facts, []))).not.toContain("Config plane through AppConfig's rollout");
  });
});

describe('the construct sets the unit', () => {
  const unitIn = (stack: Stack) => {
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    return [...text.matchAll(/AI_RELEASE_JUDGE_CONFIG_UNIT\\?":\\?"(\w+)/g)].map((m) => m[1]);
  };
  test("configCanary 'appconfig' (default): the judge's config unit is environment; 'assigned': cluster", () => {
    expect(unitIn(testRelease().stack)).toEqual(['environment']);
    expect(unitIn(testRelease({ configCanary: 'assigned' }).stack)).toEqual(['cluster']);
  });
});
