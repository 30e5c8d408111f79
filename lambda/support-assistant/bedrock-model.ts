import { ConverseCommand, type BedrockRuntimeClient, type Message, type Tool } from '@aws-sdk/client-bedrock-runtime';
import type { Block, GuardrailTrace, ModelPort } from './assistant';

/**
 * The model port over Amazon Bedrock's Converse API, with the guardrail the config names. Content blocks pass
 * through both ways unchanged: the assistant's turn (reasoning blocks and their signatures included) goes back to
 * the model exactly as it came.
 */
export function bedrockModel(client: BedrockRuntimeClient): ModelPort {
  return {
    async converse(req) {
      const p = req.model.parameters ?? {};
      // "The toolConfig field must be defined when using toolUse and toolResult content blocks" (a ValidationException):
      // say so here, with the cause, rather than after a round trip.
      if (!req.tools && req.messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b))) {
        throw new Error('the messages carry tool blocks but no tools were given: Bedrock requires toolConfig whenever tool blocks are present');
      }
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
          // The trace says which policy, topic or filter intervened: the failure record carries it.
          guardrailConfig: req.guardrail ? { guardrailIdentifier: req.guardrail.id, guardrailVersion: req.guardrail.version, trace: 'enabled' } : undefined,
          toolConfig: req.tools
            ? { tools: req.tools.map((t): Tool => ({ toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.inputSchema as never } } })) }
            : undefined,
        }),
        // The SDK aborts the HTTP request when the runtime's deadline fires, so a slow model stops being paid for.
        { abortSignal: req.signal },
      );
      return {
        content: (out.output?.message?.content ?? []) as unknown as Block[],
        stopReason: out.stopReason ?? 'end_turn',
        inputTokens: out.usage?.inputTokens ?? 0,
        outputTokens: out.usage?.outputTokens ?? 0,
        cacheReadInputTokens: out.usage?.cacheReadInputTokens,
        cacheWriteInputTokens: out.usage?.cacheWriteInputTokens,
        guardrailTrace: out.trace?.guardrail as GuardrailTrace | undefined,
      };
    },
  };
}
