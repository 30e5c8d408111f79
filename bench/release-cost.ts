/**
 * Bytes per request the service writes to CloudWatch Logs (issue 16 E), measured: the real runtime (lambda/runtime,
 * one successful invocation with usage and quality) against a Powertools-only handler (one Logger info line and one
 * Metrics EMF document with the same metric names, service dimension). Then the monthly cost at 1, 5, 20, 100 rps.
 * `npx tsx bench/release-cost.ts`. Lambda's own START/END/REPORT lines are paid by both and left out.
 */
import { METRIC } from '../lambda/shared/contract';
import { releaseCost } from '../lib/rollout/release-cost';
import { measureLogBytes } from '../test/log-bytes';

async function main(): Promise<void> {
  const { runtime, powertools: pt } = await measureLogBytes(20);
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const r = mean(runtime);
  const p = mean(pt);
  console.log(`runtime: ${r} B/request (mean of 20; min ${Math.min(...runtime)}, max ${Math.max(...runtime)})`);
  console.log(`Powertools-only: ${p} B/request (mean of 20; min ${Math.min(...pt)}, max ${Math.max(...pt)})`);
  for (const rps of [1, 5, 20, 100]) {
    const c = releaseCost({
      requestsPerSecond: rps,
      highResolutionAlarmMetrics: 15,
      standardAlarmMetrics: 0,
      compositeAlarms: 1,
      metricNames: Object.values(METRIC).length,
      runtimeBytesPerRequest: r,
      powertoolsBytesPerRequest: p,
    });
    console.log(
      `${rps} rps: machinery adds ${c.totalUsd.toFixed(2)} USD/month; Powertools-only logs+metrics ${c.powertoolsUsd.toFixed(2)} USD; ratio ${c.ratio.toFixed(2)}; ` +
        c.lines.map((l) => `${l.item} ${l.usd.toFixed(2)}`).join(', '),
    );
  }
}
void main();
