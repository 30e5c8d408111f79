import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { createAiRuntime, type InvocationContext } from '../runtime';
import knowledgeBase from '../../example/support-assistant/knowledge-base.json';
import { BundledRetriever } from './assistant';
import { bedrockModel } from './bedrock-model';
import { assistantHandler, conversationProblem, FALLBACK_ANSWER, lookupOrderStatus, type Answer, type Question } from './service';

// Module scope: built once per execution environment.
const runtime = createAiRuntime<Question, Answer>({ degradedAnswer: () => FALLBACK_ANSWER });
const wrapped = runtime.handler(
  assistantHandler({ model: bedrockModel(new BedrockRuntimeClient({})), retriever: new BundledRetriever(knowledgeBase.passages), tools: lookupOrderStatus }),
);

export async function handler(event: Partial<Question>, context?: InvocationContext): Promise<Answer | { error: string }> {
  // A malformed request is the caller's error, not the service's: answer it before the measured AI path.
  if (typeof event?.question !== 'string' || event.question.trim() === '' || event.question.length > 4000) {
    return { error: 'send {"question": "..."} with 1 to 4000 characters' };
  }
  const problem = conversationProblem(event);
  if (problem) return { error: problem };
  // The conversation goes through: on the example's assigned config canary (bin/example-stack.ts) a conversation keeps
  // one config for all its turns and the judge counts it once; dropping it would place every turn on its own.
  return wrapped(
    {
      question: event.question,
      ...(event.conversationId !== undefined ? { conversationId: event.conversationId } : {}),
      ...(event.conversationStartedAt !== undefined ? { conversationStartedAt: event.conversationStartedAt } : {}),
    },
    context,
  );
}
