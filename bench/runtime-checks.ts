/**
 * What the runtime's deterministic checks cost on the request path (issue 17 A/E, h9-checks).
 *
 *   npx tsx bench/runtime-checks.ts [iterations=20000] [blocks=30]     (figures on stderr; stdout is discarded)
 *
 * 1. The checks alone (lambda/evaluator/deterministic.ts checkOutcomes with the example's settings, made ready once),
 *    each check apart and all five, then `checkResultLine` (the line object) and JSON.stringify of it: µs per answer,
 *    median of `blocks` blocks of `iterations` calls. RAG-sized evidence as test/log-bytes.ts: an 80-character
 *    question, a 600-character answer citing 3 of 5 retrieved passages.
 * 2. The whole request through AiRuntime + PowertoolsTelemetry with the example's evaluation section (its scoring and
 *    pairing off, so no sample is drawn): checkSamplingRate 1 against 0, interleaved blocks, µs per request (median
 *    of block medians' difference), and the bytes of one check-result line as written.
 * The script re-runs itself with stdout discarded (the lines go nowhere, as a write to Lambda's pipe costs the same
 * for both settings apart from the bytes).
 */
import { spawnSync } from 'node:child_process';

if (!process.env.BENCH_CHILD) {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    env: { ...process.env, BENCH_CHILD: '1', NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.exit(r.status ?? 1);
}

const say = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function main() {
  const N = Number(process.argv[2] ?? 20_000);
  const B = Number(process.argv[3] ?? 30);
  process.env.AWS_REGION = 'us-east-1';
  const { checkOutcomes, prepareChecks } = await import('../lambda/evaluator/deterministic');
  const { checkResultLine, runtimeChecksOf } = await import('../lambda/runtime/runtime-checks');
  const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
  const { AiRuntime } = await import('../lambda/runtime/ai-runtime');
  const { exampleServedConfigs } = await import('./support');
  const { hosted, flags } = await exampleServedConfigs();
  const doc = JSON.parse(hosted);
  const evaluation = { ...doc.evaluation, samplingRate: 0, paired: false };
  const settings = evaluation.deterministic;

  const answer =
    `Your refund for order 1042 was issued on 3 December to the card on file [kb-refunds-01]. ${'Card refunds take 5 to 10 business days to appear, depending on your bank [kb-refunds-02]. '.repeat(5)}If it has not arrived by then, reply here and we will trace it [kb-contact-01].`.slice(
      0,
      600,
    );
  const input = JSON.stringify({ question: 'Where is my refund for order 1042? I returned the headphones two weeks ago.' });
  const passages = ['kb-refunds-01', 'kb-refunds-02', 'kb-refunds-03', 'kb-contact-01', 'kb-orders-07'].map((id) => ({
    id,
    text: `${id}: ${'Refunds are paid to the original payment method within 5 to 10 business days. '.repeat(6)}`,
  }));
  const citations = ['kb-refunds-01', 'kb-refunds-02', 'kb-contact-01'];
  const sample = { input, answer, passages, citations };
  const prepared = prepareChecks(settings);
  const checks = runtimeChecksOf(evaluation);
  if (!checks) throw new Error('the example section owns no runtime checks');
  // CPU time of this process (user + system), not wall time: other sessions load the machine, and a preempted block
  // would count their time as ours.
  const now = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const time = (fn: (i: number) => unknown): number => {
    const per: number[] = [];
    let sink = 0;
    for (let b = 0; b < B; b++) {
      const t0 = now();
      for (let i = 0; i < N; i++) if (fn(i)) sink++;
      per.push((now() - t0) / N);
    }
    if (sink < 0) say('');
    return median(per);
  };
  say(`# runtime checks — ${new Date().toISOString()} — ${N} calls x ${B} blocks; answer ${answer.length} chars, question ${input.length} chars`);
  say('## the checks alone (µs per answer, median of blocks)');
  for (const only of [['citation-validity'], ['refusal-phrase'], ['language-match'], ['length'], ['forbidden-pattern']] as const)
    say(`${only[0]}: ${time(() => checkOutcomes(prepared, sample, only)).toFixed(3)} µs`);
  say(`all five (checkOutcomes): ${time(() => checkOutcomes(prepared, sample)).toFixed(3)} µs`);
  const lineOf = (i: number) =>
    checkResultLine(checks, {
      service: 'support-assistant',
      requestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0d${String(i % 10_000).padStart(4, '0')}`,
      at: 1765101114000 + i,
      functionVersion: '7',
      config: 'cfg-41b78e87df19',
      caseId: 'a3f9c2e1b7d04f6a8e2c9b1d7f3a5e60',
      input,
      answer,
      passages,
      citations,
    });
  say(`checkResultLine (checks + line object): ${time(lineOf).toFixed(3)} µs`);
  say(`checkResultLine + JSON.stringify: ${time((i) => JSON.stringify(lineOf(i)).length).toFixed(3)} µs`);
  const tel0 = new PowertoolsTelemetry('support-assistant');
  const fixed = lineOf(1);
  say(`PowertoolsTelemetry.checks (stringify + one console write): ${time(() => tel0.checks(fixed)).toFixed(3)} µs`);
  const bytes = Buffer.byteLength(`${JSON.stringify(lineOf(1))}\n`);
  say(`one line as the direct writer writes it: ${bytes} bytes`);

  // The whole request, checks on against off.
  class NoWrite extends PowertoolsTelemetry {
    public override checks(line: ReturnType<typeof lineOf>): void {
      if (JSON.stringify(line).length < 0) say('');
    }
  }
  const make = (rate: number, noWrite = false) => {
    const d = { ...doc, evaluation: { ...evaluation, checkSamplingRate: rate } };
    const rel = { content: d, version: '1', stale: false };
    const fl = { content: JSON.parse(flags), version: '1', stale: false };
    return new AiRuntime<{ question: string }, { answer: string; citations: string[] }>({
      service: 'support-assistant',
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      codeVersion: '7',
      telemetry: noWrite ? new NoWrite('support-assistant') : new PowertoolsTelemetry('support-assistant'),
      config: { get: async (p) => (p === 'rel' ? rel : fl), fresh: (p) => (p === 'rel' ? rel : fl) },
    });
  };
  const on = make(1);
  const off = make(0);
  const onNoWrite = make(1, true);
  const fn = async () => ({
    output: { answer, citations },
    usage: { inputTokens: 1850, outputTokens: 160 },
    quality: 0.9,
    evaluation: { answer, passages, citations },
  });
  let id = 0;
  const q = { question: 'Where is my refund for order 1042? I returned the headphones two weeks ago.' };
  const block = async (rt: typeof on, n: number) => {
    const t0 = now();
    for (let i = 0; i < n; i++)
      await rt.invoke(fn, q, { awsRequestId: `6f1c2a8e-0b7d-4c55-9f1e-3a2b1c0${String(id++).padStart(5, '0')}`, getRemainingTimeInMillis: () => 30_000 });
    return (now() - t0) / n;
  };
  const R = Math.max(200, Math.floor(N / 10));
  await block(on, R);
  await block(off, R);
  await block(onNoWrite, R);
  const onT: number[] = [];
  const offT: number[] = [];
  const nwT: number[] = [];
  const diff: number[] = [];
  const diffNw: number[] = [];
  for (let b = 0; b < B; b++) {
    // Rotated order, so no setting always runs first or last in a round.
    const order = [
      ['on', on],
      ['off', off],
      ['nw', onNoWrite],
    ] as const;
    const got: Record<string, number> = {};
    for (let k = 0; k < 3; k++) {
      const [name, rt] = order[(b + k) % 3];
      got[name] = await block(rt, R);
    }
    onT.push(got.on);
    offT.push(got.off);
    nwT.push(got.nw);
    diff.push(got.on - got.off);
    diffNw.push(got.nw - got.off);
  }
  say('## the whole request (AiRuntime + PowertoolsTelemetry, the example config, no sample drawn; CPU µs per request)');
  say(
    `checkSamplingRate 1: ${median(onT).toFixed(2)}; 1 without the write: ${median(nwT).toFixed(2)}; 0: ${median(offT).toFixed(2)}; ` +
      `difference on − off (median of ${B} rounds of ${R} requests each): ${median(diff).toFixed(2)} µs, without the write ${median(diffNw).toFixed(2)} µs`,
  );
}

void main();
