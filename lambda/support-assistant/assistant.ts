/**
 * The example answering assistant, as pure logic behind ports (retriever, model, tools): no AWS SDK import, so
 * it is tested without mocks. `handler.ts` wires the real adapters and the release runtime.
 */
import { TEMPLATE_VARIABLE, type FallbackModelConfig, type PromptConfig, type RetrievalConfig, type ToolConfig } from '../shared/contract';

export interface Passage {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** Finds passages for a question. A Bedrock Knowledge Base adapter can stand in for the bundled one. */
export interface Retriever {
  retrieve(question: string, topK: number, minScore: number): Promise<readonly (Passage & { score: number })[]>;
}

/** A content block of a conversation turn, shaped like Bedrock Converse's. */
export type Block =
  | { readonly text: string }
  | { readonly toolUse: { readonly toolUseId: string; readonly name: string; readonly input: unknown } }
  | { readonly toolResult: { readonly toolUseId: string; readonly content: readonly { readonly json: unknown }[]; readonly status?: 'success' | 'error' } };

export interface Turn {
  readonly role: 'user' | 'assistant';
  readonly content: readonly Block[];
}

export interface ModelRequest {
  readonly model: FallbackModelConfig;
  readonly system?: string;
  readonly messages: readonly Turn[];
  readonly guardrail?: { readonly id: string; readonly version: string };
  readonly tools?: readonly ToolConfig[];
  /** Fires at the invocation's deadline: the model call must stop then. */
  readonly signal?: AbortSignal;
}

export interface ModelResponse {
  readonly content: readonly Block[];
  readonly stopReason: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** Calls a model. The Bedrock Converse adapter is the real one. */
export interface ModelPort {
  converse(request: ModelRequest): Promise<ModelResponse>;
}

/** Runs a tool the model asked for. */
export type ToolExecutor = (name: string, input: unknown) => Promise<unknown>;

export interface AssistantInput {
  readonly prompt: PromptConfig;
  readonly model: FallbackModelConfig;
  readonly guardrail?: { readonly id: string; readonly version: string };
  readonly retrieval?: RetrievalConfig;
  readonly tools?: readonly ToolConfig[];
  readonly degrade: { readonly disableRetrieval: boolean; readonly disableTools: boolean; readonly staticAnswer?: string };
  /** The runtime's deadline signal (AiContext.signal), passed to every model call. */
  readonly signal?: AbortSignal;
}

export interface AssistantAnswer {
  readonly answer: string;
  readonly citations: string[];
  readonly degraded: boolean;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number; readonly modelId: string };
  readonly guardrailIntervened: boolean;
  /** Self-assessed quality, 0..1. */
  readonly quality: number;
}

/** Most model round trips one answer may take (tool calls included). */
export const MAX_TURNS = 3;

export async function answerQuestion(
  question: string,
  a: AssistantInput,
  ports: { retriever: Retriever; model: ModelPort; tools?: ToolExecutor },
): Promise<AssistantAnswer> {
  if (a.degrade.staticAnswer !== undefined) {
    return {
      answer: a.degrade.staticAnswer,
      citations: [],
      degraded: true,
      usage: { inputTokens: 0, outputTokens: 0, modelId: 'none' },
      guardrailIntervened: false,
      quality: 1,
    };
  }
  if (!a.prompt.template) throw new Error('this assistant needs an inline prompt.template; a bedrockPrompt reference is not supported by the example');
  const passages = a.retrieval && !a.degrade.disableRetrieval ? await ports.retriever.retrieve(question, a.retrieval.topK, a.retrieval.minScore ?? 0) : [];
  const text = fillTemplate(a.prompt.template, {
    question,
    passages: passages.map((p) => `[${p.id}] ${p.title}: ${p.text}`).join('\n') || '(no passages found)',
  });
  const tools = a.tools && a.tools.length > 0 && !a.degrade.disableTools && ports.tools ? a.tools : undefined;

  const messages: Turn[] = [...fewShot(a.prompt), { role: 'user', content: [{ text }] }];
  let inputTokens = 0;
  let outputTokens = 0;
  let response: ModelResponse | undefined;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    response = await ports.model.converse({ model: a.model, system: a.prompt.system, messages, guardrail: a.guardrail, tools, signal: a.signal });
    inputTokens += response.inputTokens;
    outputTokens += response.outputTokens;
    const uses = response.content.flatMap((b) => ('toolUse' in b ? [b.toolUse] : []));
    if (response.stopReason !== 'tool_use' || uses.length === 0 || !tools) break;
    messages.push({ role: 'assistant', content: response.content });
    const results: Block[] = [];
    for (const use of uses) {
      try {
        results.push({ toolResult: { toolUseId: use.toolUseId, content: [{ json: await ports.tools!(use.name, use.input) }], status: 'success' } });
      } catch (e) {
        results.push({ toolResult: { toolUseId: use.toolUseId, content: [{ json: { error: (e as Error).message } }], status: 'error' } });
      }
    }
    messages.push({ role: 'user', content: results });
  }
  const raw = (response?.content ?? [])
    .flatMap((b) => ('text' in b ? [b.text] : []))
    .join('')
    .trim();
  const known = new Set(passages.map((p) => p.id));
  const mentioned = [...new Set([...raw.matchAll(/\[(kb-[a-z0-9-]+)\]/g)].map((m) => m[1]))];
  const citations = mentioned.filter((id) => known.has(id));
  const answer = raw.replace(/\s*\[(kb-[a-z0-9-]+)\]/g, '').trim();
  return {
    answer,
    citations,
    degraded: a.degrade.disableRetrieval || a.degrade.disableTools,
    usage: { inputTokens, outputTokens, modelId: a.model.modelId },
    guardrailIntervened: response?.stopReason === 'guardrail_intervened',
    quality: scoreAnswer({ answer, citations: citations.length, unknownCitations: mentioned.length - citations.length, retrieved: passages.length }),
  };
}

/**
 * The assistant's own quality score: an empty answer is worthless; an answer that cites nothing although passages
 * were found, or cites passages that were never retrieved (made up), loses points.
 */
export function scoreAnswer(s: { answer: string; citations: number; unknownCitations: number; retrieved: number }): number {
  if (s.answer === '') return 0;
  let score = 0.5;
  if (s.retrieved === 0 || s.citations > 0) score += 0.3;
  if (s.unknownCitations === 0) score += 0.2;
  return Math.round(score * 100) / 100;
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error, never silently left in a prompt. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(TEMPLATE_VARIABLE, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`prompt template uses {{${name}}} but no value was given for it`);
    return v;
  });
}

function fewShot(prompt: PromptConfig): Turn[] {
  return (prompt.fewShot ?? []).flatMap((ex) => [
    { role: 'user' as const, content: [{ text: ex.input }] },
    { role: 'assistant' as const, content: [{ text: ex.output }] },
  ]);
}

/** Keyword-overlap retriever over a small bundled knowledge base. */
export class BundledRetriever implements Retriever {
  private readonly index: { passage: Passage; terms: Set<string> }[];
  constructor(passages: readonly Passage[]) {
    this.index = passages.map((passage) => ({ passage, terms: new Set(terms(`${passage.title} ${passage.text}`)) }));
  }
  public async retrieve(question: string, topK: number, minScore: number) {
    const q = [...new Set(terms(question))];
    if (q.length === 0) return [];
    return this.index
      .map(({ passage, terms: t }) => ({ ...passage, score: q.filter((w) => t.has(w)).length / q.length }))
      .filter((p) => p.score > 0 && p.score >= minScore)
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, topK);
  }
}

const STOP = new Set([
  'the',
  'a',
  'an',
  'to',
  'of',
  'and',
  'or',
  'in',
  'on',
  'is',
  'it',
  'i',
  'my',
  'how',
  'do',
  'can',
  'what',
  'for',
  'from',
  'with',
  'be',
  'are',
]);
function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => w.replace(/(ing|ed|es|s)$/, ''));
}
