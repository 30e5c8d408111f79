/**
 * The request the runtime benches answer (hot path, sampled path, callgrind drivers): one version tuple, one passage,
 * one answer citing it. One copy, so every bench measures the same request.
 */
export const BENCH_TUPLE = {
  service: 'support-assistant',
  codeVersion: '7',
  config: 'c-abc',
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  evaluation: 'e',
  degrade: 'd',
};

export const BENCH_PASSAGES = [{ id: 'kb-restore-01', text: 'Deleted files stay in the bin for 30 days; restore them from Settings > Bin.' }];

/** The service handler: an answer citing the passage, its usage, quality and evaluation evidence. */
export async function benchAnswer(e: { question: string }) {
  const output = { answer: `Answer to ${e.question.length} chars [kb-restore-01]`, citations: ['kb-restore-01'] };
  return {
    output,
    usage: { inputTokens: 850, outputTokens: 40 },
    quality: 0.9,
    evaluation: { answer: output.answer, passages: BENCH_PASSAGES, citations: output.citations },
  };
}
