import { ConverseCommand, type BedrockRuntimeClient, type ContentBlock, type Message, type Tool } from '@aws-sdk/client-bedrock-runtime';
import type { Block, ModelPort } from './assistant';

/** The model port over Amazon Bedrock's Converse API, with the guardrail the config names. */
export function bedrockModel(client: BedrockRuntimeClient): ModelPort {
  return {
    async converse(req) {
      const p = req.model.parameters ?? {};
      const out = await client.send(
        new ConverseCommand({
          modelId: req.model.modelId,
          system: req.system ? [{ text: req.system }] : undefined,
          messages: req.messages as unknown as Message[],
          inferenceConfig: {
            temperature: p.temperature,
            topP: p.topP,
            maxTokens: p.maxTokens,
            stopSequences: p.stopSequences ? [...p.stopSequences] : undefined,
          },
          additionalModelRequestFields: p.additionalModelRequestFields as never,
          guardrailConfig: req.guardrail ? { guardrailIdentifier: req.guardrail.id, guardrailVersion: req.guardrail.version } : undefined,
          toolConfig: req.tools
            ? { tools: req.tools.map((t): Tool => ({ toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.inputSchema as never } } })) }
            : undefined,
        }),
        // The SDK aborts the HTTP request when the runtime's deadline fires, so a slow model stops being paid for.
        { abortSignal: req.signal },
      );
      const content = (out.output?.message?.content ?? []) as ContentBlock[];
      return {
        content: content.flatMap((b): Block[] =>
          b.text !== undefined
            ? [{ text: b.text }]
            : b.toolUse
              ? [{ toolUse: { toolUseId: b.toolUse.toolUseId ?? '', name: b.toolUse.name ?? '', input: b.toolUse.input } }]
              : [],
        ),
        stopReason: out.stopReason ?? 'end_turn',
        inputTokens: out.usage?.inputTokens ?? 0,
        outputTokens: out.usage?.outputTokens ?? 0,
      };
    },
  };
}
