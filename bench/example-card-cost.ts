/**
 * The example's card cost section (issue 16 E), as `npx cdk synth` writes it: the example stack built without bundling,
 * `AiRelease.facts.releaseCost` at its stated 5 requests/s, line by line. `npx tsx bench/example-card-cost.ts`.
 * Counts and prices only (no timing): the figures do not depend on the machine's load.
 */
import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';

process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
const stack = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example');
const facts = stack.release.facts;
const c = facts.releaseCost;
if (!c) throw new Error('the example states no traffic: no cost section');
console.log(`example at ${facts.expectedRequestsPerSecond} req/s, prices ${c.region} ${c.pricesDate}`);
for (const l of c.lines) console.log(`${l.item} | ${l.quantity} | ${l.usd.toFixed(2)}`);
console.log(`machinery in all | | ${c.totalUsd.toFixed(2)}`);
console.log(`Powertools-only | | ${c.powertoolsUsd.toFixed(2)}; ratio ${c.ratio.toFixed(2)}`);
if (c.evaluation) console.log(`evaluation per release ${c.evaluation.perReleaseUsd?.toFixed?.(2) ?? JSON.stringify(c.evaluation).slice(0, 200)}`);
if (c.steadyPairSampling) console.log(`steady pair-only sampling ${c.steadyPairSampling.totalUsd.toFixed(2)} USD/month`);
