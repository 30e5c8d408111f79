/**
 * The example answering assistant, as pure logic behind ports: no AWS SDK import, so it is tested without mocks.
 * The runtime (issue: runtime) will wrap this with version stamping, metrics and failure records.
 */

export interface Passage {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** Finds passages for a question. A Bedrock Knowledge Base adapter can stand in for the bundled one. */
export interface Retriever {
  retrieve(question: string, topK: number, minScore: number): Promise<readonly (Passage & { score: number })[]>;
}

export interface ModelRequest {
  readonly modelId: string;
  readonly system?: string;
  readonly prompt: string;
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly guardrail?: { readonly id: string; readonly version: string };
}

export interface ModelResponse {
  readonly text: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** True when the guardrail intervened. */
  readonly guardrailIntervened: boolean;
}

/** Calls a model. The Bedrock Converse adapter is the real one. */
export interface ModelPort {
  complete(request: ModelRequest): Promise<ModelResponse>;
}

/** The parts of the release config the assistant uses. */
export interface AssistantConfig {
  readonly prompt: { readonly system?: string; readonly template: string };
  readonly model: {
    readonly modelId: string;
    readonly parameters?: { temperature?: number; topP?: number; maxTokens?: number };
    readonly fallback?: { modelId: string; parameters?: { temperature?: number; topP?: number; maxTokens?: number } };
    readonly guardrail?: { id: string; version: string };
  };
  readonly retrieval?: { readonly topK: number; readonly minScore?: number };
}

export interface DegradeState {
  readonly useFallbackModel: boolean;
  readonly disableRetrieval: boolean;
  readonly staticAnswer?: string;
}

export interface AssistantAnswer {
  readonly answer: string;
  readonly citations: string[];
  readonly degraded: boolean;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number; readonly modelId?: string };
  readonly guardrailIntervened: boolean;
}

export async function answerQuestion(
  question: string,
  config: AssistantConfig,
  degrade: DegradeState,
  ports: { retriever: Retriever; model: ModelPort },
): Promise<AssistantAnswer> {
  if (degrade.staticAnswer !== undefined) {
    return { answer: degrade.staticAnswer, citations: [], degraded: true, usage: { inputTokens: 0, outputTokens: 0 }, guardrailIntervened: false };
  }
  const passages =
    config.retrieval && !degrade.disableRetrieval
      ? await ports.retriever.retrieve(question, config.retrieval.topK, config.retrieval.minScore ?? 0)
      : [];
  const prompt = fillTemplate(config.prompt.template, {
    question,
    passages: passages.map((p) => `[${p.id}] ${p.title}: ${p.text}`).join('\n') || '(no passages found)',
  });
  const target = degrade.useFallbackModel && config.model.fallback ? config.model.fallback : config.model;
  const response = await ports.model.complete({
    modelId: target.modelId,
    system: config.prompt.system,
    prompt,
    temperature: target.parameters?.temperature,
    topP: target.parameters?.topP,
    maxTokens: target.parameters?.maxTokens,
    guardrail: config.model.guardrail,
  });
  const known = new Set(passages.map((p) => p.id));
  const cited = [...new Set([...response.text.matchAll(/\[(kb-[a-z0-9-]+)\]/g)].map((m) => m[1]))].filter((id) => known.has(id));
  return {
    answer: response.text.replace(/\s*\[(kb-[a-z0-9-]+)\]/g, '').trim(),
    citations: cited,
    degraded: degrade.useFallbackModel || degrade.disableRetrieval,
    usage: { inputTokens: response.inputTokens, outputTokens: response.outputTokens, modelId: target.modelId },
    guardrailIntervened: response.guardrailIntervened,
  };
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error, never silently left in a prompt. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`prompt template uses {{${name}}} but no value was given for it`);
    return v;
  });
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

const STOP = new Set(['the', 'a', 'an', 'to', 'of', 'and', 'or', 'in', 'on', 'is', 'it', 'i', 'my', 'how', 'do', 'can', 'what', 'for', 'from', 'with', 'be', 'are']);
function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => w.replace(/(ing|ed|es|s)$/, ''));
}
