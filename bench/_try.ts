import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';
import { schedulePower, releaseDraws } from '../lib/rollout/canary-plan';
const s = new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'X');
const cp = s.release.facts.canaryPlan!;
const t = cp.traffic;
console.log(cp.configCurrent?.describe, JSON.stringify(t.evaluation));
const paired = (x: any) => x.byRegression.find((q: any) => q.regression === 'pairedPreference')?.power;
for (const sched of [[[0.1,5],[0.5,32]], [[0.1,2],[0.5,35]], [[0.1,5],[0.5,55]]]) for (const rate of [0.1, 0.15, 0.2, 0.25]) {
  const steps = sched.map(([share, minutes]) => ({ share, minutes }));
  const tr = { ...t, evaluation: { ...t.evaluation!, pairSamplingRate: rate } };
  const p = schedulePower(steps, tr, {}, 'config');
  const c = releaseDraws(steps, 5, t.evaluation!.samplingRate, rate, 'config', t.evaluation!.cost);
  const code = releaseDraws(cp.current.steps, 5, t.evaluation!.samplingRate, rate, 'code', t.evaluation!.cost);
  console.log(JSON.stringify(sched), rate, 'paired', paired(p).toFixed(3), 'all', p.power.toFixed(3), 'configUSD', c.totalUsd.toFixed(2), 'codeUSD', code.totalUsd.toFixed(2), 'codePaired', paired(schedulePower(cp.current.steps, tr, {}, 'code')).toFixed(3));
}
