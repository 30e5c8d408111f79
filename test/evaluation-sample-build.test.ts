import { type AnswerToSample, buildEvaluationSample, SAMPLE_MAX_CHARS } from '../lambda/runtime/evaluation-sampler';
import { createRedactor, type Redactor, redact, redactAndCut } from '../lambda/runtime/redact';
import { sha256Hex } from '../lambda/shared/canonical-json';
import type { VersionTuple } from '../lambda/shared/contract';
import { EVALUATION_SAMPLE_TYPE, type EvaluationSample } from '../lambda/shared/evaluation';
import { caseIdOf } from '../lambda/snapshot/cases';
import { MUST_REDACT, MUST_REDACT_NEW, MUST_SURVIVE } from './pii-corpus';

/**
 * h7-hotpath: buildEvaluationSample redacts each distinct passage id, citation, tool name and stop reason once per
 * sample (a citation is a passage id; an agent calls one tool many times). The sample must be the one the
 * implementation before it built (`reference`, copied from it: every field redacted on its own) for every row,
 * PII of the project's corpus included, and every distinct string must still go through the redactor.
 */
function reference(a: AnswerToSample, rate: number, redactor: Redactor = redact, armShare?: number): EvaluationSample {
  const input = redactAndCut(a.input, SAMPLE_MAX_CHARS, redactor).text;
  return {
    type: EVALUATION_SAMPLE_TYPE,
    service: a.service,
    sampleId: sha256Hex(`${a.service}\n${a.requestId}`).slice(0, 32),
    requestId: a.requestId,
    time: a.time.toISOString(),
    tuple: a.tuple,
    functionVersion: a.functionVersion,
    arm: a.arm,
    ...(a.conversationId !== undefined ? { conversationId: sha256Hex(`conversation\n${a.conversationId}`).slice(0, 32) } : {}),
    caseId: caseIdOf(a.service, input),
    input,
    answer: redactAndCut(a.answer, SAMPLE_MAX_CHARS, redactor).text,
    passages: (a.passages ?? []).map((p) => ({ id: redactor(p.id), textHash: sha256Hex(p.text).slice(0, 16) })),
    citations: (a.citations ?? []).map((c) => redactor(c)),
    toolCalls: (a.toolCalls ?? []).map((t) => ({ name: redactor(t.name) })),
    ...(a.stopReason !== undefined ? { stopReason: redactor(a.stopReason) } : {}),
    inputTokens: a.inputTokens ?? 0,
    outputTokens: a.outputTokens ?? 0,
    sampledAt: rate,
    ...(armShare !== undefined ? { armShare } : {}),
  };
}

const TUPLE = {
  service: 'svc',
  codeVersion: '7',
  config: 'c',
  prompt: 'p',
  model: 'm',
  retrieval: 'r',
  tools: 't',
  outputContract: 'o',
  degrade: 'd',
} as VersionTuple;
const BASE: AnswerToSample = {
  service: 'svc',
  requestId: 'req-1',
  time: new Date(1_765_000_000_000),
  tuple: TUPLE,
  functionVersion: '7',
  arm: 'stable',
  input: '{"question":"How do I restore a file?"}',
  answer: 'Open the bin [kb-1].',
  passages: [{ id: 'kb-1', text: 'Deleted files stay in the bin.' }],
  citations: ['kb-1'],
};
const pii = [...MUST_REDACT, ...MUST_REDACT_NEW].map(([t]) => t);

const rows: [string, AnswerToSample, Redactor][] = [
  ['the example answer (its citation is its passage id)', BASE, redact],
  [
    'PII as passage ids, cited again, as repeated tool names and as the stop reason',
    {
      ...BASE,
      input: JSON.stringify({ question: pii.slice(0, 10).join(' ') }),
      answer: pii.slice(10, 20).join(' '),
      passages: pii.map((t, i) => ({ id: t, text: `p${i}` })),
      citations: [...pii.slice(0, 20), ...pii.slice(0, 5)],
      toolCalls: [...pii.slice(30, 36), ...pii.slice(30, 36)].map((name) => ({ name })),
      stopReason: pii[0],
      conversationId: 'conv-1',
      arm: 'canary',
    },
    redact,
  ],
  [
    'texts that must survive, repeated',
    { ...BASE, passages: MUST_SURVIVE.map((t) => ({ id: t, text: t })), citations: [...MUST_SURVIVE, ...MUST_SURVIVE], stopReason: MUST_SURVIVE[0] },
    redact,
  ],
  [
    "a service's own redactor",
    { ...BASE, passages: [{ id: 'ORD-123456', text: 'x' }], citations: ['ORD-123456', 'ORD-123456'], toolCalls: [{ name: 'ORD-123456' }] },
    createRedactor([{ name: 'ORDER', pattern: /ORD-\d{6}/g }]),
  ],
  [
    'an empty id, citation and tool name',
    { ...BASE, passages: [{ id: '', text: '' }], citations: ['', ''], toolCalls: [{ name: '' }], stopReason: '' },
    redact,
  ],
  ['no evidence', { ...BASE, passages: undefined, citations: undefined, toolCalls: undefined }, redact],
];

describe('buildEvaluationSample: each distinct short field redacted once per sample', () => {
  test.each(rows)('%s: the sample the field-by-field redaction built', (_name, answer, redactor) => {
    expect(buildEvaluationSample(answer, 0.02, redactor, 0.5)).toEqual(reference(answer, 0.02, redactor, 0.5));
    // Key order too (the log line is written in it).
    expect(JSON.stringify(buildEvaluationSample(answer, 0.02, redactor))).toBe(JSON.stringify(reference(answer, 0.02, redactor)));
  });

  test('every distinct string goes through the redactor, each repeat does not', () => {
    const seen: string[] = [];
    const counting: Redactor = (t) => {
      seen.push(t);
      return redact(t);
    };
    const answer = rows[1][1];
    buildEvaluationSample(answer, 0.02, counting);
    const shorts = [
      ...(answer.passages ?? []).map((p) => p.id),
      ...(answer.citations ?? []),
      ...(answer.toolCalls ?? []).map((t) => t.name),
      answer.stopReason as string,
    ];
    // input and answer once each (redactAndCut), then each distinct short string exactly once
    expect(seen.slice(2).sort()).toEqual([...new Set(shorts)].sort());
    expect(seen).toHaveLength(2 + new Set(shorts).size);
  });

  test('nothing is shared between samples: a redactor that changes between calls is seen by the next sample', () => {
    let marker = 'A';
    const changing: Redactor = (t) => `${marker}:${t}`;
    expect(buildEvaluationSample(BASE, 1, changing).citations).toEqual(['A:kb-1']);
    marker = 'B';
    expect(buildEvaluationSample(BASE, 1, changing).citations).toEqual(['B:kb-1']);
  });
});
