/**
 * What the guardrail scores cost on the request path (h9-guardrail): the extractor runs only for an answer the
 * sampler drew (ai-runtime.ts sampleForEvaluation), so its cost is paid once per sampled answer, never per request.
 * Prints: µs per extraction of a Converse guardrail trace (both filters, and a trace without the policy), and the
 * bytes the scores add to one evaluation sample line. Timings are noisy on a shared machine: read them with `uptime`.
 *
 *   npx tsx bench/guardrail-scores.ts
 */
import { guardrailScores } from '../lambda/shared/guardrail-scores';

const GID = 'gr7x2k9abcd1';
const withPolicy = {
  modelOutput: ['{"answer":"Open Settings, then Security."}'],
  inputAssessment: { [GID]: { topicPolicy: { topics: [] }, contentPolicy: { filters: [{ type: 'HATE', confidence: 'NONE', action: 'NONE' }] } } },
  outputAssessments: {
    [GID]: [
      {
        contentPolicy: { filters: [{ type: 'HATE', confidence: 'NONE', action: 'NONE' }] },
        contextualGroundingPolicy: {
          filters: [
            { type: 'GROUNDING', threshold: 0.7, score: 0.91, action: 'NONE' },
            { type: 'RELEVANCE', threshold: 0.7, score: 0.84, action: 'NONE' },
          ],
        },
      },
    ],
  },
};
const withoutPolicy = { outputAssessments: { [GID]: [{ contentPolicy: { filters: [{ type: 'HATE', confidence: 'NONE', action: 'NONE' }] } }] } };

function perCall(trace: unknown, n: number): number {
  let keep = 0;
  for (let i = 0; i < 10_000; i++) keep += guardrailScores(trace) ? 1 : 0; // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) keep += guardrailScores(trace) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (keep < 0) console.log(keep);
  return ns / 1000;
}

const N = 200_000;
const a = perCall(withPolicy, N);
const b = perCall(withoutPolicy, N);
const bytes = JSON.stringify({ guardrail: guardrailScores(withPolicy) }).length - 2 + 1; // ",\"guardrail\":{...}" inside the sample object
console.log(`guardrailScores, trace with both filters: ${a.toFixed(2)} µs per sampled answer (${N} calls)`);
console.log(`guardrailScores, trace without the policy: ${b.toFixed(2)} µs per sampled answer (${N} calls)`);
console.log(`bytes the scores add to one evaluation sample line: ${bytes}`);
