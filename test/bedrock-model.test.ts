import { BedrockRuntimeClient, type ContentBlock, ConverseCommand, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import knowledgeBase from '../example/support-assistant/knowledge-base.json';
import { ANSWER_NOW, answerQuestion, type AssistantInput, BundledRetriever } from '../lambda/support-assistant/assistant';
import { bedrockModel } from '../lambda/support-assistant/bedrock-model';
import { lookupOrderStatus } from '../lambda/support-assistant/service';

// The Converse adapter against the SDK's own command shapes (aws-sdk-client-mock): what goes on the wire.
const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());

const TOOL = {
  name: 'lookup_order_status',
  description: 'order status',
  inputSchema: { type: 'object' },
  permissions: { actions: ['dynamodb:GetItem'], resources: ['arn:aws:dynamodb:us-east-1:1:table/o'] },
};
const input: AssistantInput = {
  prompt: { system: 'Answer from passages.', template: 'Q: {{question}}\n{{passages}}' },
  model: {
    modelId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0',
    parameters: { temperature: 0.2, maxTokens: 600 },
    pricing: { inputPer1kTokensUsd: 0, outputPer1kTokensUsd: 0 },
  },
  guardrail: { id: 'abcd1234efgh', version: '1' },
  retrieval: { source: { type: 'bundled', id: 'kb' }, indexVersion: '1', topK: 2 },
  tools: [TOOL],
  degrade: { disableRetrieval: false, disableTools: false },
};
const ports = () => ({
  retriever: new BundledRetriever(knowledgeBase.passages),
  model: bedrockModel(new BedrockRuntimeClient({ region: 'us-east-1' })),
  tools: lookupOrderStatus,
});
const sent = (i: number) => bedrock.commandCalls(ConverseCommand)[i].args[0].input as ConverseCommandInput;

test('the guardrail runs with its trace on, and the trace reaches the safety reasons', async () => {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ text: 'Blocked.' }] } },
    stopReason: 'guardrail_intervened',
    usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
    metrics: { latencyMs: 1 },
    trace: { guardrail: { inputAssessment: { abcd1234efgh: { topicPolicy: { topics: [{ name: 'weapons', type: 'DENY', action: 'BLOCKED' }] } } } } },
  });
  const a = await answerQuestion('how do I build one', input, ports());
  expect(sent(0).guardrailConfig).toEqual({ guardrailIdentifier: 'abcd1234efgh', guardrailVersion: '1', trace: 'enabled' });
  expect(a.failure).toMatchObject({ kind: 'safety', reasons: ['input: denied topic "weapons"'] });
});

test('reasoning blocks, with signature and redacted bytes, go back to Bedrock as they came, and the last turn keeps toolConfig', async () => {
  const redacted = new Uint8Array([7, 8, 9]);
  const thinking: ContentBlock[] = [
    { reasoningContent: { reasoningText: { text: 'Look the order up.', signature: 'sig-abc' } } },
    { reasoningContent: { redactedContent: redacted } },
    { toolUse: { toolUseId: 't1', name: 'lookup_order_status', input: { orderNumber: 'ORD-20261101' } } },
  ];
  const toolTurn = {
    output: { message: { role: 'assistant' as const, content: thinking } },
    stopReason: 'tool_use' as const,
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    metrics: { latencyMs: 1 },
  };
  bedrock.on(ConverseCommand).resolves(toolTurn);
  const a = await answerQuestion('Where is order ORD-20261101?', input, ports());
  const calls = bedrock.commandCalls(ConverseCommand);
  expect(calls).toHaveLength(3);
  const second = sent(1).messages!;
  const assistant = second.find((m) => m.role === 'assistant')!;
  expect(assistant.content).toEqual(thinking);
  expect(assistant.content![1].reasoningContent!.redactedContent).toBe(redacted);
  const last = sent(2);
  expect(last.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(['lookup_order_status']);
  expect(last.messages!.at(-1)!.content!.at(-1)).toEqual({ text: ANSWER_NOW });
  expect(a.failure?.code).toBe('turns-exhausted');
});

test('cache token counts come through from usage', async () => {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ text: 'Open Trash. [kb-restore-01]' }] } },
    stopReason: 'end_turn',
    usage: { inputTokens: 12, outputTokens: 30, cacheReadInputTokens: 4096, cacheWriteInputTokens: 0, totalTokens: 4138 },
    metrics: { latencyMs: 1 },
  });
  const a = await answerQuestion('How do I restore a deleted file?', input, ports());
  expect(a.usage).toMatchObject({ inputTokens: 12, outputTokens: 30, cacheReadInputTokens: 4096, cacheWriteInputTokens: 0 });
});

test('tool blocks in the messages without tools are refused before the call, with the cause', async () => {
  const model = bedrockModel(new BedrockRuntimeClient({ region: 'us-east-1' }));
  await expect(
    model.converse({
      model: input.model,
      messages: [{ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: {} }] } }] }],
    }),
  ).rejects.toThrow('Bedrock requires toolConfig whenever tool blocks are present');
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
});
