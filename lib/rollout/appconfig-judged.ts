/**
 * What the canary judge can do on AppConfig's own config rollout (configCanary 'appconfig'), issue 16 D4: the judged
 * time (both configs serving) and the most evidence the design allows. Pure.
 *
 * AppConfig tells execution environments; the judge bets on WHICH environments switched (lambda/judge/environments.ts),
 * the only bet that stays fair when environments differ. A bet on m of a pool of n pays at most C(n, m), so a whole
 * rollout over E environments pays at most E! (the number of orders they could have switched in). The judge calls a
 * regression at e-value e^logThreshold (k / α, twice that for errors), so with fewer environments than the smallest
 * E with E! ≥ that, no regression of any size is caught: the power is 0 by construction, not by estimate.
 */
import type { CanaryPlan, RegressionPower } from './canary-plan';

/** The extension's poll interval AiServiceConfig.bind sets (seconds): a client takes a new config at its next poll. */
export const EXTENSION_POLL_SECONDS = 15;

/**
 * Seconds both configs serve in an AppConfig rollout: from the start until the step that reaches 100 % (every client
 * told), plus one poll (the last client takes it). The rest of the rollout (the bake) serves the new config only.
 */
export function appConfigJudgedSeconds(config: { readonly steps: readonly number[]; readonly stepIntervalSeconds: number }): number {
  const full = config.steps.findIndex((p) => p >= 100);
  const index = full === -1 ? config.steps.length : full;
  return index * config.stepIntervalSeconds + EXTENSION_POLL_SECONDS;
}

/** The smallest number of environments E with ln E! ≥ logThreshold: below it, the switch bets can never reach it. */
export function environmentsNeeded(logThreshold: number): number {
  let e = 1;
  let logFactorial = 0;
  while (logFactorial < logThreshold) {
    e++;
    logFactorial += Math.log(e);
  }
  return e;
}

/**
 * Simulated through the real wiring and engine (bench/judge-config-rollout.ts, bench/RESULTS.md § h10-envcluster):
 * ConfigRollout.DEFAULT, 5 req/s, 10 environments, base errors 1 %. The share of bad releases caught before the bake
 * ends.
 */
export const APPCONFIG_SIMULATED_POWER = { environments: 10, requestsPerSecond: 5, errorsX3: 0, errors20Percent: 0.256 } as const;

/** The regressions the plan names, each with the environments it needs on AppConfig's path. */
export function appConfigPower(byRegression: readonly RegressionPower[]): { readonly describe: string; readonly environmentsNeeded: number }[] {
  return byRegression
    .filter((r) => r.regression !== 'pairedPreference')
    .map((r) => ({ describe: r.describe, environmentsNeeded: environmentsNeeded(r.logThreshold) }));
}

/** The card's paragraph on AppConfig's path (configCanary 'appconfig' with the judge on and traffic stated). */
export function renderAppConfigJudged(
  config: { readonly describe: string; readonly steps: readonly number[]; readonly stepIntervalSeconds: number },
  plan: CanaryPlan,
): string[] {
  const sim = APPCONFIG_SIMULATED_POWER;
  const needs = appConfigPower(plan.config.byRegression)
    .map((r) => `${r.describe}: ≥ ${r.environmentsNeeded} environments`)
    .join('; ');
  const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)} %`;
  return [
    `**Config plane through AppConfig's rollout** (configCanary 'appconfig', ${config.describe}): AppConfig tells execution environments, so the judge compares the configs only while both serve ` +
      `(about ${appConfigJudgedSeconds(config)} s) and bets on which environments switched; E environments give it at most E! of evidence, so below ${needs} a regression is caught 0 % of the time. ` +
      `Simulated (${sim.environments} environments, ${sim.requestsPerSecond} requests/s, bench/judge-config-rollout.ts): errors x3 ${pct(sim.errorsX3)}, 20 % errors ${pct(sim.errors20Percent)}. ` +
      "The threshold alarms are this path's rollback; `configCanary: 'assigned'` with the planned config schedule above is the judged path.",
    '',
  ];
}
