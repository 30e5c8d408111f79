/**
 * One evaluation sample built and written in a hot loop, for instruction counts under callgrind (h9-hotpath):
 *
 *   npx esbuild bench/runtime-sample-loop.ts --bundle --platform=node --outfile=/tmp/loop.js
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null node /tmp/loop.js all 1000   (then 3000; stdout: the lines)
 *
 * (Ir at 3,000 − Ir at 1,000) / 2,000 is the cost of one call after 3,000 warm-up calls. Modes: all (build + line),
 * build, line (a pre-built sample written), redactInput, redactAnswer, redactId, caseId, none (the method's noise).
 */
import { buildEvaluationSample } from '../lambda/runtime/evaluation-sampler';
import { PowertoolsTelemetry } from '../lambda/runtime/powertools-telemetry';
import { redact, redactAndCut } from '../lambda/runtime/redact';
import { caseIdOf } from '../lambda/snapshot/cases';
import { BENCH_PASSAGES, BENCH_TUPLE } from './runtime-fixture';

function main() {
  process.env.AWS_REGION ??= 'us-east-1';
  const tel = new PowertoolsTelemetry('support-assistant');
  const tuple = BENCH_TUPLE;
  tel.stamp(tuple as never, 'x');
  const passages = BENCH_PASSAGES;
  const input = JSON.stringify({ question: 'How do I restore a deleted file?' });
  const mk = (i: number) =>
    buildEvaluationSample(
      {
        service: 'support-assistant',
        requestId: `q${i}`,
        time: new Date(),
        tuple: tuple as never,
        functionVersion: '7',
        arm: 'stable',
        input,
        answer: 'Answer to 32 chars [kb-restore-01]',
        passages,
        citations: ['kb-restore-01'],
        inputTokens: 850,
        outputTokens: 40,
      },
      0.1,
      undefined,
      undefined,
      true,
    );
  const s0 = mk(0);
  const modes: Record<string, (i: number) => unknown> = {
    all: (i) => tel.sample(mk(i)),
    build: mk,
    line: () => tel.sample(s0),
    redactInput: () => redactAndCut(input, 8000, redact),
    redactAnswer: () => redactAndCut('Answer to 32 chars [kb-restore-01]', 8000, redact),
    redactId: () => redact('kb-restore-01'),
    caseId: () => caseIdOf('support-assistant', input),
    none: () => 0,
  };
  const f = modes[process.argv[2]];
  const N = Number(process.argv[3]);
  for (let i = 0; i < 3000; i++) f(i);
  for (let i = 0; i < N; i++) f(i);
}
main();
