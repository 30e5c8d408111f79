import type { AiHandler } from '../runtime/ai-runtime';
import { DEFAULT_STATIC_ANSWER } from '../shared/contract';
import orders from '../../example/support-assistant/orders.json';
import { answerQuestion, type ModelPort, type Retriever, type ToolExecutor } from './assistant';

export interface Question {
  readonly question: string;
}

export interface Answer {
  readonly answer: string;
  readonly citations: string[];
  readonly degraded?: boolean;
}

export const FALLBACK_ANSWER: Answer = { answer: DEFAULT_STATIC_ANSWER, citations: [], degraded: true };

/** The example's one tool, backed by a small bundled table (a real service would call its order system). */
export const lookupOrderStatus: ToolExecutor = async (name, input) => {
  if (name !== 'lookup_order_status') throw new Error(`unknown tool ${name}`);
  const orderNumber = (input as { orderNumber?: unknown })?.orderNumber;
  const status = typeof orderNumber === 'string' ? (orders as Record<string, string>)[orderNumber] : undefined;
  return status ? { orderNumber, status } : { orderNumber, status: 'not found' };
};

/** The service logic, given its ports: what the runtime wraps. */
export function assistantHandler(ports: { model: ModelPort; retriever: Retriever; tools: ToolExecutor }): AiHandler<Question, Answer> {
  return async (input, ctx) => {
    const a = await answerQuestion(
      input.question,
      {
        prompt: ctx.config.prompt,
        model: ctx.model,
        guardrail: ctx.model.guardrail,
        retrieval: ctx.config.retrieval,
        tools: ctx.config.tools?.tools,
        degrade: ctx.degrade,
        signal: ctx.signal,
      },
      ports,
    );
    return {
      output: { answer: a.answer, citations: a.citations, ...(a.degraded || ctx.degrade.active ? { degraded: true } : {}) },
      usage: a.usage,
      quality: a.quality,
      safety: a.guardrailIntervened ? { violated: true, reasons: ['Bedrock guardrail intervened'] } : undefined,
      degraded: a.degraded,
    };
  };
}
