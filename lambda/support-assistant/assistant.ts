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
  | { readonly toolResult: { readonly toolUseId: string; readonly content: readonly { readonly json: unknown }[]; readonly status?: 'success' | 'error' } }
  /** Text the guardrail evaluates; with one in the request, the guardrail evaluates nothing else of the messages. */
  | { readonly guardContent: { readonly text: { readonly text: string; readonly qualifiers?: readonly GuardQualifier[] } } }
  /**
   * The model's reasoning (extended thinking): opaque, signed, and sent back exactly as received, or a later turn
   * of a tool loop is refused.
   */
  | { readonly reasoningContent: { readonly reasoningText?: { readonly text: string; readonly signature?: string }; readonly redactedContent?: Uint8Array } };

export interface Turn {
  readonly role: 'user' | 'assistant';
  readonly content: readonly Block[];
}

export interface ModelRequest {
  readonly model: FallbackModelConfig;
  readonly system?: string;
  readonly messages: readonly Turn[];
  readonly guardrail?: { readonly id: string; readonly version: string };
  /** The tools the model may call. Sent on every turn: Bedrock refuses tool blocks in messages without a toolConfig. */
  readonly tools?: readonly ToolConfig[];
  /** Fires at the invocation's deadline: the model call must stop then. */
  readonly signal?: AbortSignal;
}

/** One guardrail assessment, as Bedrock's trace carries it (GuardrailAssessment); only what the reasons need. */
export interface GuardrailAssessment {
  readonly topicPolicy?: { readonly topics?: readonly { readonly name?: string; readonly type?: string; readonly action?: string }[] };
  readonly contentPolicy?: { readonly filters?: readonly { readonly type?: string; readonly confidence?: string; readonly action?: string }[] };
  readonly wordPolicy?: {
    readonly customWords?: readonly { readonly action?: string }[];
    readonly managedWordLists?: readonly { readonly type?: string; readonly action?: string }[];
  };
  readonly sensitiveInformationPolicy?: {
    readonly piiEntities?: readonly { readonly type?: string; readonly action?: string }[];
    readonly regexes?: readonly { readonly name?: string; readonly action?: string }[];
  };
  readonly contextualGroundingPolicy?: {
    readonly filters?: readonly { readonly type?: string; readonly score?: number; readonly threshold?: number; readonly action?: string }[];
  };
}

/** The guardrail's part of Converse's `trace` (GuardrailTraceAssessment), present when the guardrail's trace is enabled. */
export interface GuardrailTrace {
  readonly inputAssessment?: Readonly<Record<string, GuardrailAssessment>>;
  readonly outputAssessments?: Readonly<Record<string, readonly GuardrailAssessment[]>>;
  readonly actionReason?: string;
}

export interface ModelResponse {
  /** The assistant's content blocks, exactly as the model returned them (reasoning blocks and their signatures included). */
  readonly content: readonly Block[];
  readonly stopReason: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens?: number;
  readonly cacheWriteInputTokens?: number;
  readonly guardrailTrace?: GuardrailTrace;
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

/**
 * Why an answer is not one: `safety` (a guardrail or the model's content filter stopped it) or `contract` (it was
 * cut short, the tool loop ran out of turns, the model's output was malformed). `code` names the case for tests and
 * dashboards; `reasons` go into the failure record.
 */
export interface AnswerFailure {
  readonly kind: 'safety' | 'contract';
  readonly code: 'guardrail-intervened' | 'content-filtered' | 'truncated' | 'turns-exhausted' | 'malformed-output' | 'unknown-stop-reason';
  readonly reasons: readonly string[];
  /** Text the model (or the guardrail's blocked message) returned, for the record; never served as an answer. */
  readonly text: string;
}

export interface AssistantAnswer {
  /** The answer to serve; empty when `failure` is set. */
  readonly answer: string;
  readonly citations: string[];
  readonly degraded: boolean;
  readonly usage: {
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly cacheReadInputTokens: number;
    readonly cacheWriteInputTokens: number;
    readonly modelId: string;
  };
  readonly failure?: AnswerFailure;
  /** Self-assessed quality, 0..1 (0 when `failure` is set: a non-answer never scores). */
  readonly quality: number;
  /**
   * What the evaluator needs (the runtime samples it when the release config has an evaluation section): the
   * passages the model was given, every passage id the answer named (a made-up one included), the tools it called.
   */
  readonly evidence?: {
    readonly passages: readonly { readonly id: string; readonly text: string }[];
    readonly mentioned: readonly string[];
    readonly toolCalls: readonly { readonly name: string }[];
    readonly stopReason: string;
    /** The answering Converse call's guardrail trace, when a guardrail ran with its trace on (its scores, if any, are sampled). */
    readonly guardrailTrace?: GuardrailTrace;
  };
}

/**
 * Most model round trips one answer may take, the last one included. When the model still asks for tools on the
 * next-to-last turn, the tools run and the last turn sends their results with ANSWER_NOW; if the model asks for
 * tools again, the answer fails as `turns-exhausted`.
 */
export const MAX_TURNS = 3;

/** Sent with the last tool results when no turn is left for another tool call. */
export const ANSWER_NOW =
  'You cannot call any more tools. Answer the customer now from the tool results and passages above; if they do not contain the answer, say so.';

/**
 * What each Converse stop reason means for the answer (the StopReason values of the Converse API reference).
 * `ok`: use it; `tools`: run the tools; otherwise the answer fails with that kind.
 */
export const STOP_REASONS: Readonly<Record<string, { readonly outcome: 'ok' | 'tools' | AnswerFailure['kind']; readonly code?: AnswerFailure['code'] }>> = {
  end_turn: { outcome: 'ok' },
  stop_sequence: { outcome: 'ok' },
  tool_use: { outcome: 'tools' },
  guardrail_intervened: { outcome: 'safety', code: 'guardrail-intervened' },
  content_filtered: { outcome: 'safety', code: 'content-filtered' },
  max_tokens: { outcome: 'contract', code: 'truncated' },
  model_context_window_exceeded: { outcome: 'contract', code: 'truncated' },
  malformed_model_output: { outcome: 'contract', code: 'malformed-output' },
  malformed_tool_use: { outcome: 'contract', code: 'malformed-output' },
};

export async function answerQuestion(
  question: string,
  a: AssistantInput,
  ports: { retriever: Retriever; model: ModelPort; tools?: ToolExecutor },
): Promise<AssistantAnswer> {
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheWriteInputTokens: 0, modelId: a.model.modelId };
  if (a.degrade.staticAnswer !== undefined) {
    return { answer: a.degrade.staticAnswer, citations: [], degraded: true, usage: { ...usage, modelId: 'none' }, quality: 1 };
  }
  if (!a.prompt.template) throw new Error('this assistant needs an inline prompt.template; a bedrockPrompt reference is not supported by the example');
  const passages = a.retrieval && !a.degrade.disableRetrieval ? await ports.retriever.retrieve(question, a.retrieval.topK, a.retrieval.minScore ?? 0) : [];
  const values = {
    question,
    passages: passages.map((p) => `[${p.id}] ${p.title}: ${p.text}`).join('\n') || '(no passages found)',
  };
  // With a guardrail, only the customer's words are guarded: the instructions, few-shot examples and retrieved
  // passages are ours, and a passage quoting a denied topic must not block the answer. With a guardContent block in
  // the request, the guardrail evaluates only guarded content, not the rest of the messages (Bedrock user guide,
  // "Include a guardrail with the Converse API": evaluate only specific content in a message). The contextual
  // grounding check needs a grounding source and a query, marked by guardContent qualifiers (GuardrailConverseTextBlock
  // `qualifiers`: grounding_source | query | guard_content): the passages are the grounding source, the question is
  // the query AND guarded content (both qualifiers, so the other policies still assess it). See GUARD_QUALIFIERS.
  const content = a.guardrail
    ? fillTemplateBlocks(a.prompt.template, values, passages.length > 0 ? GUARD_QUALIFIERS : { question: GUARD_QUALIFIERS.question })
    : [{ text: fillTemplate(a.prompt.template, values) }];
  const tools = a.tools && a.tools.length > 0 && !a.degrade.disableTools && ports.tools ? a.tools : undefined;
  const degraded = a.degrade.disableRetrieval || a.degrade.disableTools;

  const messages: Turn[] = [...fewShot(a.prompt), { role: 'user', content }];
  const call = async () => {
    const r = await ports.model.converse({ model: a.model, system: a.prompt.system, messages, guardrail: a.guardrail, tools, signal: a.signal });
    usage.inputTokens += r.inputTokens;
    usage.outputTokens += r.outputTokens;
    usage.cacheReadInputTokens += r.cacheReadInputTokens ?? 0;
    usage.cacheWriteInputTokens += r.cacheWriteInputTokens ?? 0;
    return r;
  };
  const failed = (failure: AnswerFailure): AssistantAnswer => ({ answer: '', citations: [], degraded, usage, failure, quality: 0 });

  let response = await call();
  const toolCalls: { name: string }[] = [];
  for (let turn = 1; STOP_REASONS[response.stopReason]?.outcome === 'tools'; turn++) {
    const uses = response.content.flatMap((b) => ('toolUse' in b ? [b.toolUse] : []));
    if (!tools || uses.length === 0) {
      return failed({
        kind: 'contract',
        code: 'malformed-output',
        reasons: [tools ? 'the model stopped for tool use but asked for no tool' : 'the model asked for a tool, but tools are off for this request'],
        text: textOf(response),
      });
    }
    if (turn >= MAX_TURNS) {
      return failed({
        kind: 'contract',
        code: 'turns-exhausted',
        reasons: [`the model still asked for tools (${uses.map((u) => u.name).join(', ')}) after ${MAX_TURNS} model calls; no answer was given`],
        text: textOf(response),
      });
    }
    // The assistant's turn goes back exactly as it came: with extended thinking and tools, the thinking blocks of the
    // turn that called the tool must be sent back unmodified, signature included, or the request is refused
    // (Anthropic, "Building with extended thinking": preserving thinking blocks with tool use).
    messages.push({ role: 'assistant', content: response.content });
    for (const use of uses) toolCalls.push({ name: use.name });
    const results: Block[] = [];
    for (const use of uses) {
      try {
        results.push({ toolResult: { toolUseId: use.toolUseId, content: [{ json: await ports.tools!(use.name, use.input) }], status: 'success' } });
      } catch (e) {
        results.push({ toolResult: { toolUseId: use.toolUseId, content: [{ json: { error: (e as Error).message } }], status: 'error' } });
      }
    }
    // On the last turn, the results go with an instruction to answer; the tools stay declared (Bedrock requires the
    // toolConfig once tool blocks are in the messages), so the model could still ask: that is turns-exhausted above.
    messages.push({ role: 'user', content: turn === MAX_TURNS - 1 ? [...results, { text: ANSWER_NOW }] : results });
    response = await call();
  }

  const stop = STOP_REASONS[response.stopReason];
  if (stop?.outcome === 'safety' || stop?.outcome === 'contract') {
    return failed({ kind: stop.outcome, code: stop.code!, reasons: stopReasons(response, a.model), text: textOf(response) });
  }
  if (!stop) {
    return failed({
      kind: 'contract',
      code: 'unknown-stop-reason',
      reasons: [`the model stopped with "${response.stopReason}", which this assistant does not know; the answer may be incomplete`],
      text: textOf(response),
    });
  }
  const raw = textOf(response);
  const known = new Set(passages.map((p) => p.id));
  const mentioned = [...new Set([...raw.matchAll(/\[(kb-[a-z0-9-]+)\]/g)].map((m) => m[1]))];
  const citations = mentioned.filter((id) => known.has(id));
  const answer = raw.replace(/\s*\[(kb-[a-z0-9-]+)\]/g, '').trim();
  return {
    answer,
    citations,
    degraded,
    usage,
    quality: scoreAnswer({ answer, citations: citations.length, unknownCitations: mentioned.length - citations.length, retrieved: passages.length }),
    evidence: {
      passages: passages.map((p) => ({ id: p.id, text: `${p.title}: ${p.text}` })),
      mentioned,
      toolCalls,
      stopReason: response.stopReason,
      // The last call's: the one that produced the answer (an earlier turn's trace assessed a tool request).
      ...(response.guardrailTrace ? { guardrailTrace: response.guardrailTrace } : {}),
    },
  };
}

function textOf(r: ModelResponse): string {
  return r.content
    .flatMap((b) => ('text' in b ? [b.text] : []))
    .join('')
    .trim();
}

/** The failure reasons of a stop that is not an answer. */
function stopReasons(r: ModelResponse, model: FallbackModelConfig): string[] {
  switch (r.stopReason) {
    case 'guardrail_intervened': {
      const reasons = guardrailReasons(r.guardrailTrace);
      return reasons.length > 0 ? reasons : ['Bedrock guardrail intervened (no trace: enable the guardrail trace to see which policy)'];
    }
    case 'content_filtered':
      return ["the model's own content filter stopped the answer"];
    case 'max_tokens':
      return [
        `the answer was cut at model.parameters.maxTokens${model.parameters?.maxTokens !== undefined ? ` (${model.parameters.maxTokens})` : ''}: raise it, or ask for shorter answers`,
      ];
    case 'model_context_window_exceeded':
      return ["the answer was cut: the conversation filled the model's context window"];
    case 'malformed_tool_use':
      return ['the model asked for a tool with malformed input'];
    default:
      return ["the model's output was malformed"];
  }
}

/**
 * Why the guardrail intervened, from its trace: the denied topics, content filters, word lists, sensitive
 * information types and grounding checks that acted (action other than NONE), input and output. Matched text is
 * never copied: it is the customer's words or the model's, and reasons go into logs.
 */
export function guardrailReasons(trace: GuardrailTrace | undefined): string[] {
  if (!trace) return [];
  const out: string[] = [];
  const acted = (x: { action?: string }) => x.action !== undefined && x.action !== 'NONE';
  const read = (where: string, g: GuardrailAssessment) => {
    for (const t of (g.topicPolicy?.topics ?? []).filter(acted)) out.push(`${where}: denied topic "${t.name ?? '?'}"`);
    for (const f of (g.contentPolicy?.filters ?? []).filter(acted))
      out.push(`${where}: content filter ${f.type ?? '?'}${f.confidence ? ` (confidence ${f.confidence})` : ''}`);
    if ((g.wordPolicy?.customWords ?? []).some(acted)) out.push(`${where}: custom word filter`);
    for (const w of (g.wordPolicy?.managedWordLists ?? []).filter(acted)) out.push(`${where}: managed word list ${w.type ?? '?'}`);
    for (const e of (g.sensitiveInformationPolicy?.piiEntities ?? []).filter(acted)) out.push(`${where}: sensitive information ${e.type ?? '?'} (${e.action})`);
    for (const e of (g.sensitiveInformationPolicy?.regexes ?? []).filter(acted))
      out.push(`${where}: sensitive information regex "${e.name ?? '?'}" (${e.action})`);
    for (const f of (g.contextualGroundingPolicy?.filters ?? []).filter(acted))
      out.push(`${where}: contextual grounding ${f.type ?? '?'} score ${f.score ?? '?'} below threshold ${f.threshold ?? '?'}`);
  };
  for (const g of Object.values(trace.inputAssessment ?? {})) read('input', g);
  for (const list of Object.values(trace.outputAssessments ?? {})) for (const g of list) read('output', g);
  if (out.length === 0 && trace.actionReason) out.push(`guardrail: ${trace.actionReason}`);
  return [...new Set(out)];
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

/** A guardContent qualifier (GuardrailConverseTextBlock.qualifiers, Amazon Bedrock API Reference). */
export type GuardQualifier = 'guard_content' | 'grounding_source' | 'query';

/**
 * Which template values become guardContent blocks with a guardrail, and with which qualifiers:
 * - `question`: `query` (what the contextual grounding check scores relevance against) and `guard_content` (so the
 *   denied topics, content filters, word and sensitive-information policies still assess the customer's words; a
 *   block qualified only as `query` or `grounding_source` is, as we read it, left to the grounding check alone).
 * - `passages`: `grounding_source` only (what groundedness is scored against): our retrieved text, not the customer's,
 *   so a passage that quotes a denied topic does not block the answer. Several grounding sources would be combined
 *   by the guardrail (User Guide, "Use contextual grounding check"); the passages go as one block. Not marked when
 *   nothing was retrieved: "(no passages found)" is no source.
 */
export const GUARD_QUALIFIERS: Readonly<Record<'question' | 'passages', readonly GuardQualifier[]>> = {
  question: ['query', 'guard_content'],
  passages: ['grounding_source'],
};

/**
 * Fills a template into content blocks: the values named in `guarded` become guardContent blocks (what the guardrail
 * evaluates) with the qualifiers given for them (none: the block carries no `qualifiers`, which Bedrock treats as
 * guard_content), everything else plain text. An unknown placeholder is an error, as in fillTemplate.
 */
export function fillTemplateBlocks(
  template: string,
  values: Readonly<Record<string, string>>,
  guarded: readonly string[] | Readonly<Record<string, readonly GuardQualifier[]>>,
): Block[] {
  const qualifiersOf = (name: string): readonly GuardQualifier[] | undefined => {
    if (Array.isArray(guarded)) return guarded.includes(name) ? [] : undefined;
    const byName = guarded as Readonly<Record<string, readonly GuardQualifier[]>>;
    return Object.hasOwn(byName, name) ? byName[name] : undefined;
  };
  const blocks: Block[] = [];
  let text = '';
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_VARIABLE)) {
    const name = m[1];
    const v = values[name];
    if (v === undefined) throw new Error(`prompt template uses {{${name}}} but no value was given for it`);
    text += template.slice(last, m.index);
    last = (m.index ?? 0) + m[0].length;
    const qualifiers = qualifiersOf(name);
    if (qualifiers === undefined) {
      text += v;
      continue;
    }
    // Bedrock refuses a blank text block, so whitespace between two blocks is dropped.
    if (text.trim() !== '') blocks.push({ text });
    text = '';
    blocks.push({ guardContent: { text: qualifiers.length > 0 ? { text: v, qualifiers: [...qualifiers] } : { text: v } } });
  }
  text += template.slice(last);
  if (text.trim() !== '') blocks.push({ text });
  return blocks;
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
