import knowledgeBase from '../example/support-assistant/knowledge-base.json';
import {
  ANSWER_NOW,
  answerQuestion,
  type AssistantInput,
  type Block,
  BundledRetriever,
  fillTemplateBlocks,
  GUARD_QUALIFIERS,
  guardrailReasons,
  MAX_TURNS,
  type ModelPort,
  type ModelRequest,
  type ModelResponse,
  STOP_REASONS,
} from '../lambda/support-assistant/assistant';
import { assistantHandler, lookupOrderStatus, NO_ANSWER } from '../lambda/support-assistant/service';
import type { AiContext } from '../lambda/runtime/ai-runtime';
import { StopReason } from '@aws-sdk/client-bedrock-runtime';

/**
 * The example's model loop through the injected model port: a fake that answers from a script and keeps every
 * request as it was sent (no copy, so identity and bytes can be checked), not a mock of AWS.
 */
function scripted(...script: Partial<ModelResponse>[]): ModelPort & { requests: ModelRequest[]; snapshots: ModelRequest['messages'][] } {
  const requests: ModelRequest[] = [];
  const snapshots: ModelRequest['messages'][] = [];
  return {
    requests,
    snapshots,
    converse: async (r) => {
      requests.push(r);
      snapshots.push([...r.messages]); // the array grows after the call; the turns in it do not change
      const next = script[Math.min(requests.length - 1, script.length - 1)];
      return { content: [], stopReason: 'end_turn', inputTokens: 100, outputTokens: 20, ...next };
    },
  };
}

const TOOL = {
  name: 'lookup_order_status',
  description: 'order status',
  inputSchema: { type: 'object' },
  permissions: { actions: ['dynamodb:GetItem'], resources: ['arn:aws:dynamodb:us-east-1:1:table/o'] },
};
const base: AssistantInput = {
  prompt: {
    system: 'Answer from passages.',
    template: 'Customer question:\n{{question}}\n\nPassages:\n{{passages}}\n',
    fewShot: [{ input: 'How do I restore a file?', output: 'Open Trash. [kb-restore-01]' }],
  },
  model: {
    modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    parameters: { maxTokens: 600 },
    pricing: { inputPer1kTokensUsd: 0, outputPer1kTokensUsd: 0 },
  },
  guardrail: { id: 'g1', version: '1' },
  retrieval: { source: { type: 'bundled', id: 'kb' }, indexVersion: '1', topK: 2, minScore: 0.1 },
  tools: [TOOL],
  degrade: { disableRetrieval: false, disableTools: false },
};
const retriever = new BundledRetriever(knowledgeBase.passages);
const ports = (model: ModelPort) => ({ retriever, model, tools: lookupOrderStatus });
const toolCall = (id: string, preamble = 'Let me check that order.'): Partial<ModelResponse> => ({
  content: [{ text: preamble }, { toolUse: { toolUseId: id, name: 'lookup_order_status', input: { orderNumber: 'ORD-20261101' } } }],
  stopReason: 'tool_use',
});

describe('turn exhaustion', () => {
  test(`a model that keeps asking for tools gets ${MAX_TURNS} calls, the last with the tool results and the instruction to answer; then a typed failure, never the pre-tool text`, async () => {
    const model = scripted(toolCall('t1'), toolCall('t2'), toolCall('t3'));
    const a = await answerQuestion('Where is order ORD-20261101?', base, ports(model));
    expect(model.requests).toHaveLength(MAX_TURNS);
    const last = model.requests.at(-1)!;
    const lastUser = last.messages.at(-1)!;
    expect(lastUser.role).toBe('user');
    expect(lastUser.content.map((b) => Object.keys(b)[0])).toEqual(['toolResult', 'text']);
    expect(lastUser.content[1]).toEqual({ text: ANSWER_NOW });
    expect(lastUser.content[0]).toMatchObject({ toolResult: { toolUseId: 't2', status: 'success' } });
    // Tool blocks are in the messages, so the tools stay declared (Bedrock refuses toolUse/toolResult without toolConfig).
    expect(last.tools?.map((t) => t.name)).toEqual(['lookup_order_status']);
    // Only the last turn carries the instruction.
    expect(model.snapshots[1].at(-1)!.content.some((b) => 'text' in b)).toBe(false);
    expect(a.failure).toMatchObject({ kind: 'contract', code: 'turns-exhausted' });
    expect(a.failure!.reasons[0]).toContain(`after ${MAX_TURNS} model calls`);
    expect(a.answer).toBe('');
    expect(a.answer).not.toContain('Let me check');
    expect(a.quality).toBe(0);
    expect(a.usage.inputTokens).toBe(100 * MAX_TURNS);
  });

  test('a model that answers after the instruction gives an answer', async () => {
    const model = scripted(toolCall('t1'), toolCall('t2'), { content: [{ text: 'Your order shipped on 2026-11-03.' }], stopReason: 'end_turn' });
    const a = await answerQuestion('Where is order ORD-20261101?', base, ports(model));
    expect(a.failure).toBeUndefined();
    expect(a.answer).toBe('Your order shipped on 2026-11-03.');
    expect(model.requests.at(-1)!.messages.at(-1)!.content.at(-1)).toEqual({ text: ANSWER_NOW });
  });

  test('one tool round and an answer: no instruction is added', async () => {
    const model = scripted(toolCall('t1'), { content: [{ text: 'Shipped.' }] });
    const a = await answerQuestion('Where is order ORD-20261101?', base, ports(model));
    expect(a.answer).toBe('Shipped.');
    expect(JSON.stringify(model.requests)).not.toContain(ANSWER_NOW);
  });

  test('tool_use with tools off for the request (degraded) is a contract failure, not the preamble', async () => {
    const model = scripted(toolCall('t1'));
    const a = await answerQuestion('Where is order ORD-20261101?', { ...base, degrade: { disableRetrieval: false, disableTools: true } }, ports(model));
    expect(a.failure).toMatchObject({ kind: 'contract', code: 'malformed-output' });
    expect(model.requests).toHaveLength(1);
  });

  test('the service serves NO_ANSWER with a contract flag and reasons the failure record carries', async () => {
    const model = scripted(toolCall('t1'), toolCall('t2'), toolCall('t3'));
    const handler = assistantHandler({ model, retriever, tools: lookupOrderStatus });
    const ctx = {
      config: { prompt: base.prompt, retrieval: base.retrieval, tools: { tools: [TOOL] } },
      model: { ...base.model, guardrail: base.guardrail },
      degrade: { useFallbackModel: false, disableTools: false, disableRetrieval: false, active: false },
    } as unknown as AiContext;
    const r = await handler({ question: 'Where is order ORD-20261101?' }, ctx);
    expect(r.output).toEqual({ answer: NO_ANSWER, citations: [] });
    expect(r.contract).toMatchObject({ violated: true });
    expect(r.contract!.reasons![0]).toMatch(/^turns-exhausted: the model still asked for tools/);
    expect(r.quality).toBe(0);
    expect(r.safety).toBeUndefined();
  });
});

describe('reasoning blocks go back unchanged', () => {
  test('the assistant turn sent back is the very content the model returned: reasoning text, signature and redacted bytes', async () => {
    const redacted = new Uint8Array([1, 2, 3, 250]);
    const first: Block[] = [
      { reasoningContent: { reasoningText: { text: 'The customer wants an order status; call the tool.', signature: 'sig-EqQBCgIYAhIM' } } },
      { reasoningContent: { redactedContent: redacted } },
      { text: 'Let me check.' },
      { toolUse: { toolUseId: 't1', name: 'lookup_order_status', input: { orderNumber: 'ORD-20261101' } } },
    ];
    const model = scripted({ content: first, stopReason: 'tool_use' }, { content: [{ text: 'Shipped.' }] });
    await answerQuestion('Where is order ORD-20261101?', base, ports(model));
    const assistantTurn = model.requests[1].messages.at(-2)!;
    expect(assistantTurn.role).toBe('assistant');
    expect(assistantTurn.content).toBe(first); // the same array: nothing rebuilt, reordered or dropped
    expect(assistantTurn.content[0]).toEqual({ reasoningContent: { reasoningText: { text: expect.any(String), signature: 'sig-EqQBCgIYAhIM' } } });
    expect((assistantTurn.content[1] as { reasoningContent: { redactedContent: Uint8Array } }).reasoningContent.redactedContent).toBe(redacted);
  });
});

describe('guardContent: the customer is guarded, the passages are the grounding source', () => {
  const guardBlocks = (messages: ModelRequest['messages']) =>
    messages.flatMap((m) => m.content.flatMap((b) => ('guardContent' in b ? [b.guardContent.text] : [])));

  test('the question is query + guard_content, the passages grounding_source only; few-shot turns and instructions are plain text', async () => {
    const model = scripted({ content: [{ text: 'Open Trash. [kb-restore-01]' }] });
    await answerQuestion('How do I restore a deleted file?', base, ports(model));
    const messages = model.requests[0].messages;
    const guarded = guardBlocks(messages);
    // The contextual grounding check needs both a query and a grounding source (Bedrock User Guide, "Use contextual
    // grounding check"); the question keeps guard_content so the other policies still assess the customer's words.
    expect(guarded.map((g) => g.qualifiers)).toEqual([['query', 'guard_content'], ['grounding_source']]);
    expect(guarded[0].text).toBe('How do I restore a deleted file?');
    expect(guarded[1].text).toContain('[kb-restore-01]'); // the retrieved passages, as the model reads them
    expect(guarded[1].text).not.toContain('How do I restore'); // the question is not part of the source
    expect(messages.slice(0, -1).every((m) => m.content.every((b) => 'text' in b))).toBe(true); // few-shot turns
    const last = messages.at(-1)!.content;
    // The template's trailing newline is a blank text block, which Bedrock refuses: dropped.
    expect(last.map((b) => Object.keys(b)[0])).toEqual(['text', 'guardContent', 'text', 'guardContent']);
    expect(last.filter((b) => 'text' in b)).toEqual([{ text: 'Customer question:\n' }, { text: '\n\nPassages:\n' }]);
  });

  test('nothing retrieved: no grounding source (the placeholder text is no source), the question still query + guard_content', async () => {
    for (const a of [
      { ...base, degrade: { ...base.degrade, disableRetrieval: true } },
      { ...base, retrieval: undefined },
    ]) {
      const model = scripted({ content: [{ text: 'Please contact support.' }] });
      await answerQuestion('How do I restore a deleted file?', a, ports(model));
      const guarded = guardBlocks(model.requests[0].messages);
      expect(guarded.map((g) => g.qualifiers)).toEqual([['query', 'guard_content']]);
      expect(JSON.stringify(model.requests[0].messages)).toContain('(no passages found)');
    }
  });

  test('tool-result turns carry no guardContent; without a guardrail there is none at all', async () => {
    const withTools = scripted(toolCall('t1'), { content: [{ text: 'Shipped.' }] });
    await answerQuestion('Where is order ORD-20261101?', base, ports(withTools));
    expect(withTools.requests[1].messages.at(-1)!.content.some((b) => 'guardContent' in b)).toBe(false);
    const plain = scripted({ content: [{ text: 'ok' }] });
    await answerQuestion('How do I restore a deleted file?', { ...base, guardrail: undefined }, ports(plain));
    expect(JSON.stringify(plain.requests[0].messages)).not.toContain('guardContent');
    expect(plain.requests[0].messages.at(-1)!.content).toHaveLength(1);
  });

  test('fillTemplateBlocks never emits a blank text block (Bedrock refuses them) and refuses unknown placeholders', () => {
    expect(fillTemplateBlocks('{{question}}\n', { question: 'q' }, ['question'])).toEqual([{ guardContent: { text: { text: 'q' } } }]);
    expect(fillTemplateBlocks('A {{question}} B {{passages}}', { question: 'q', passages: 'p' }, ['question'])).toEqual([
      { text: 'A ' },
      { guardContent: { text: { text: 'q' } } },
      { text: ' B p' },
    ]);
    expect(() => fillTemplateBlocks('{{question}} {{nope}}', { question: 'q' }, ['question'])).toThrow('prompt template uses {{nope}}');
  });

  test('fillTemplateBlocks with qualifiers: each named value gets its own; an unnamed one stays text; an empty list means none', () => {
    expect(fillTemplateBlocks('{{question}} / {{passages}}', { question: 'q', passages: 'p' }, GUARD_QUALIFIERS)).toEqual([
      { guardContent: { text: { text: 'q', qualifiers: ['query', 'guard_content'] } } },
      { text: ' / ' },
      { guardContent: { text: { text: 'p', qualifiers: ['grounding_source'] } } },
    ]);
    expect(fillTemplateBlocks('{{question}} {{passages}}', { question: 'q', passages: 'p' }, { question: [] })).toEqual([
      { guardContent: { text: { text: 'q' } } },
      { text: ' p' },
    ]);
    // A value named like an Object.prototype key is no qualifier list.
    expect(fillTemplateBlocks('{{toString}}', { toString: 't' }, { question: ['query'] })).toEqual([{ text: 't' }]);
  });
});

describe('the guardrail trace becomes the safety reasons', () => {
  const trace = {
    actionReason: 'Guardrail blocked.',
    inputAssessment: {
      g1: {
        topicPolicy: { topics: [{ name: 'investment-advice', type: 'DENY', action: 'BLOCKED' }] },
        contentPolicy: {
          filters: [
            { type: 'VIOLENCE', confidence: 'HIGH', action: 'BLOCKED' },
            { type: 'INSULTS', confidence: 'LOW', action: 'NONE' },
          ],
        },
        wordPolicy: { customWords: [{ match: 'secret-word', action: 'BLOCKED' }], managedWordLists: [{ match: 'xx', type: 'PROFANITY', action: 'BLOCKED' }] },
        sensitiveInformationPolicy: {
          piiEntities: [{ match: 'jane@example.com', type: 'EMAIL', action: 'ANONYMIZED' }],
          regexes: [{ name: 'account-number', match: 'AC-123', action: 'BLOCKED' }],
        },
      },
    },
    outputAssessments: { g1: [{ contextualGroundingPolicy: { filters: [{ type: 'GROUNDING', score: 0.2, threshold: 0.6, action: 'BLOCKED' }] } }] },
  };

  test('policies, topics and filters that acted are named; detect-only (NONE) ones and matched text are not', () => {
    const reasons = guardrailReasons(trace);
    expect(reasons).toEqual([
      'input: denied topic "investment-advice"',
      'input: content filter VIOLENCE (confidence HIGH)',
      'input: custom word filter',
      'input: managed word list PROFANITY',
      'input: sensitive information EMAIL (ANONYMIZED)',
      'input: sensitive information regex "account-number" (BLOCKED)',
      'output: contextual grounding GROUNDING score 0.2 below threshold 0.6',
    ]);
    for (const leaked of ['secret-word', 'jane@example.com', 'AC-123', 'INSULTS']) expect(reasons.join('\n')).not.toContain(leaked);
  });

  test('an intervention carries those reasons into the safety failure; without a trace it says how to get one', async () => {
    const a = await answerQuestion(
      'q',
      base,
      ports(scripted({ content: [{ text: 'Sorry, I cannot help.' }], stopReason: 'guardrail_intervened', guardrailTrace: trace })),
    );
    expect(a.failure).toMatchObject({ kind: 'safety', code: 'guardrail-intervened', text: 'Sorry, I cannot help.' });
    expect(a.failure!.reasons).toContain('input: denied topic "investment-advice"');
    const bare = await answerQuestion('q', base, ports(scripted({ content: [], stopReason: 'guardrail_intervened' })));
    expect(bare.failure!.reasons[0]).toContain('enable the guardrail trace');
    expect(guardrailReasons({ actionReason: 'Guardrail blocked.' })).toEqual(['guardrail: Guardrail blocked.']);
  });
});

describe('every Converse stop reason has a meaning', () => {
  test('the table covers every StopReason value of the SDK', () => {
    expect(Object.keys(STOP_REASONS).sort()).toEqual(Object.values(StopReason).sort());
  });

  test.each([
    ['end_turn', undefined, undefined],
    ['stop_sequence', undefined, undefined],
    ['content_filtered', 'safety', 'content-filtered'],
    ['guardrail_intervened', 'safety', 'guardrail-intervened'],
    ['max_tokens', 'contract', 'truncated'],
    ['model_context_window_exceeded', 'contract', 'truncated'],
    ['malformed_model_output', 'contract', 'malformed-output'],
    ['malformed_tool_use', 'contract', 'malformed-output'],
    ['some_future_reason', 'contract', 'unknown-stop-reason'],
  ])('%s → %s %s', async (stopReason, kind, code) => {
    const a = await answerQuestion('How do I restore a deleted file?', base, ports(scripted({ content: [{ text: 'Open Trash and' }], stopReason })));
    if (kind === undefined) {
      expect(a.failure).toBeUndefined();
      expect(a.answer).toBe('Open Trash and');
    } else {
      expect(a.failure).toMatchObject({ kind, code });
      expect(a.answer).toBe(''); // a cut or filtered text is never served as the answer
      expect(a.quality).toBe(0);
    }
  });

  test('max_tokens names the limit to raise; the service serves NO_ANSWER, not the cut text', async () => {
    const model = scripted({ content: [{ text: 'Open Trash, select the' }], stopReason: 'max_tokens' });
    const a = await answerQuestion('How do I restore a deleted file?', base, ports(model));
    expect(a.failure!.reasons[0]).toContain('model.parameters.maxTokens (600)');
    const handler = assistantHandler({ model, retriever, tools: lookupOrderStatus });
    const r = await handler({ question: 'How do I restore a deleted file?' }, {
      config: { prompt: base.prompt, retrieval: base.retrieval },
      model: { ...base.model },
      degrade: { useFallbackModel: false, disableTools: false, disableRetrieval: false, active: false },
    } as unknown as AiContext);
    expect(r.output.answer).toBe(NO_ANSWER);
    expect(r.contract!.reasons![0]).toMatch(/^truncated: /);
  });

  test('content_filtered is a safety failure for the service, served as NO_ANSWER', async () => {
    const handler = assistantHandler({
      model: scripted({ content: [{ text: 'partial' }], stopReason: 'content_filtered' }),
      retriever,
      tools: lookupOrderStatus,
    });
    const r = await handler({ question: 'q' }, {
      config: { prompt: base.prompt },
      model: { ...base.model },
      degrade: { useFallbackModel: false, disableTools: false, disableRetrieval: false, active: false },
    } as unknown as AiContext);
    expect(r.safety).toEqual({ violated: true, reasons: ["the model's own content filter stopped the answer"] });
    expect(r.output.answer).toBe(NO_ANSWER);
  });
});

describe('cache tokens', () => {
  test('are summed over the turns of a tool loop', async () => {
    const model = scripted(
      { ...toolCall('t1'), cacheWriteInputTokens: 4096, cacheReadInputTokens: 0 },
      { content: [{ text: 'Shipped.' }], cacheReadInputTokens: 4096, cacheWriteInputTokens: 0 },
    );
    const a = await answerQuestion('Where is order ORD-20261101?', base, ports(model));
    expect(a.usage).toMatchObject({ inputTokens: 200, outputTokens: 40, cacheReadInputTokens: 4096, cacheWriteInputTokens: 4096 });
  });
});
