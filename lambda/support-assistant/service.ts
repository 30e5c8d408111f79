import type { AiHandler } from '../runtime/ai-runtime';
// The runtime reads at most this many characters of a conversation id: a longer one would be cut, not refused.
import { MAX_CONVERSATION_ID_CHARS } from '../runtime/assignment';
import { DEFAULT_STATIC_ANSWER } from '../shared/contract';
import orders from '../../example/support-assistant/orders.json';
import { answerQuestion, type ModelPort, type Retriever, type ToolExecutor } from './assistant';

export interface Question {
  readonly question: string;
  /**
   * The caller's conversation (a chat session): on an assigned config canary every turn of it is served by one config
   * and the canary judge counts it once. A UUIDv7 or ULID also tells when it started; otherwise send
   * `conversationStartedAt`. Without it each request is placed on its own.
   */
  readonly conversationId?: string;
  /** When the conversation started: epoch milliseconds or an ISO-8601 string. */
  readonly conversationStartedAt?: number | string;
}

export interface Answer {
  readonly answer: string;
  readonly citations: string[];
  readonly degraded?: boolean;
}

/** The caller's error in the conversation fields, naming the field and the fix; undefined when they are usable. */
export function conversationProblem(event: Partial<Question>): string | undefined {
  const id = event.conversationId;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_CONVERSATION_ID_CHARS))
    return `conversationId must be a string of 1 to ${MAX_CONVERSATION_ID_CHARS} characters (the same for every turn of a conversation), got ${JSON.stringify(id)?.slice(0, 40)}`;
  const at = event.conversationStartedAt;
  if (at === undefined) return undefined;
  const t = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : Number.NaN;
  if (!(Number.isFinite(t) && t > 0))
    return `conversationStartedAt must be epoch milliseconds or an ISO-8601 time (when the conversation's first turn was sent), got ${JSON.stringify(at)?.slice(0, 40)}`;
  if (id === undefined) return 'conversationStartedAt needs conversationId: send the id of the conversation it started';
  return undefined;
}

export const FALLBACK_ANSWER: Answer = { answer: DEFAULT_STATIC_ANSWER, citations: [], degraded: true };

/** The example's one tool, backed by a small bundled table (a real service would call its order system). */
export const lookupOrderStatus: ToolExecutor = async (name, input) => {
  if (name !== 'lookup_order_status') throw new Error(`unknown tool ${name}`);
  const orderNumber = (input as { orderNumber?: unknown })?.orderNumber;
  const status = typeof orderNumber === 'string' ? (orders as Record<string, string>)[orderNumber] : undefined;
  return status ? { orderNumber, status } : { orderNumber, status: 'not found' };
};

/** What the customer reads when the model gave no usable answer (the failure record says why). */
export const NO_ANSWER = 'Sorry, I could not answer that. Please rephrase your question or contact support.';

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
    const f = a.failure;
    // A guardrail's own blocked message is written for customers; any other non-answer gets ours, never the model's
    // partial text (a cut answer, or the "let me check" before a tool call).
    const answer = f ? (f.code === 'guardrail-intervened' && f.text !== '' ? f.text : NO_ANSWER) : a.answer;
    return {
      output: { answer, citations: a.citations, ...(a.degraded || ctx.degrade.active ? { degraded: true } : {}) },
      usage: a.usage,
      quality: a.quality,
      safety: f?.kind === 'safety' ? { violated: true, reasons: f.reasons } : undefined,
      contract: f?.kind === 'contract' ? { violated: true, reasons: [`${f.code}: ${f.reasons.join('; ')}`] } : undefined,
      degraded: a.degraded,
      // For the evaluator (sampled only when the release config has an evaluation section): the answer as served,
      // the passages it was given and every passage id it named, so citation validity sees made-up ones.
      ...(a.evidence
        ? {
            evaluation: {
              answer,
              passages: a.evidence.passages,
              citations: a.evidence.mentioned,
              toolCalls: a.evidence.toolCalls,
              stopReason: a.evidence.stopReason,
              // The guardrail's contextual grounding scores reach the evaluator through it (guardrail-scores.ts).
              ...(a.evidence.guardrailTrace ? { guardrailTrace: a.evidence.guardrailTrace } : {}),
            },
          }
        : {}),
    };
  };
}
