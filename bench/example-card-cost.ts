/**
 * The example's card cost section (issue 16 E), as `npx cdk synth` writes it: the example stack built without bundling,
 * `AiRelease.facts.releaseCost` at its stated 5 requests/s, line by line; as shipped (the assigned config canary,
 * h12-assigned) and with `configCanary: 'appconfig'` (the example before it), with the difference per month.
 * `npx tsx bench/example-card-cost.ts`. Counts and prices only (no timing): the figures do not depend on the load.
 */
import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';

process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
const monthly: Record<string, number> = {};
for (const [name, props] of [
  ['as shipped (assigned)', {}],
  ["configCanary: 'appconfig'", { configCanary: 'appconfig' as const }],
] as const) {
  const stack = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example', props);
  const facts = stack.release.facts;
  const c = facts.releaseCost;
  if (!c) throw new Error('the example states no traffic: no cost section');
  console.log(`## ${name}: example at ${facts.expectedRequestsPerSecond} req/s, prices ${c.region} ${c.pricesDate}`);
  for (const l of c.lines) console.log(`${l.item} | ${l.quantity} | ${l.usd.toFixed(2)}`);
  console.log(`machinery in all | | ${c.totalUsd.toFixed(2)}`);
  console.log(`Powertools-only | | ${c.powertoolsUsd.toFixed(2)}; ratio ${c.ratio.toFixed(2)}`);
  const e = c.evaluation;
  if (e)
    console.log(
      `evaluation per release ${e.perReleaseUsd.toFixed(2)} USD (${Math.round(e.pairsPerRelease)} pairs ${e.pairsPerReleaseUsd.toFixed(2)} + ${Math.round(e.samplesPerRelease)} scored ${e.scoringPerReleaseUsd.toFixed(2)}); per month ${e.perMonthUsd.toFixed(2)} USD`,
    );
  const cfg = facts.canaryPlan?.configCurrent;
  if (cfg)
    console.log(
      `config release (${cfg.describe}): closed-form paired power ${(100 * (cfg.byRegression.find((r) => r.regression === 'pairedPreference')?.power ?? 0)).toFixed(1)} %`,
    );
  // h12-pairplane: a config release on the assigned schedule at the config plane's pairing rate, and the month if every
  // release of the card's 20 were a config release instead (the card's month counts code releases).
  const cr = e?.configRelease;
  if (e && cr) {
    const releases = 20;
    const allConfig = e.perMonthUsd + releases * (cr.perReleaseUsd - e.perReleaseUsd);
    console.log(
      `evaluation per config release ${cr.perReleaseUsd.toFixed(2)} USD (${Math.round(cr.pairs)} pairs at paired.configSamplingRate ${cr.pairSamplingRate} ${cr.pairsUsd.toFixed(2)} + ${Math.round(cr.samples)} scored ${cr.scoringUsd.toFixed(2)}; ${cr.minutes} min; budget ${e.budget.perReleaseUsd} USD${cr.perReleaseUsd < cr.perReleaseUncappedUsd ? `, capped from ${cr.perReleaseUncappedUsd.toFixed(2)}` : ''}); per month if all ${releases} releases were config releases ${allConfig.toFixed(2)} USD (${(allConfig - e.perMonthUsd >= 0 ? '+' : '') + (allConfig - e.perMonthUsd).toFixed(2)})`,
    );
  }
  const sp = c.steadyPairSampling;
  if (sp)
    console.log(
      `steady pair-only sampling (${sp.codePairs}): ${Math.round(sp.linesPerMonth).toLocaleString('en-US')} lines/month, ${sp.totalUsd.toFixed(2)} USD/month`,
    );
  monthly[name] = c.totalUsd + (e?.perMonthUsd ?? 0) + (sp?.totalUsd ?? 0);
  console.log(`machinery + evaluation + steady pair-only lines per month: ${monthly[name].toFixed(2)} USD`);
  console.log('');
}
const [a, b] = Object.values(monthly);
console.log(`difference per month (as shipped − appconfig): ${(a - b).toFixed(2)} USD`);
