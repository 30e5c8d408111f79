import knowledgeBase from '../example/support-assistant/knowledge-base.json';
import { answerQuestion, BundledRetriever, fillTemplate, type AssistantConfig, type ModelPort, type ModelRequest } from '../lambda/support-assistant/assistant';

/** A model port that records the request and answers with a fixed text: a fake, not a mock of AWS. */
function fakeModel(text: string): ModelPort & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return { requests, complete: async (r) => (requests.push(r), { text, inputTokens: 120, outputTokens: 30, guardrailIntervened: false }) };
}

const config: AssistantConfig = {
  prompt: { system: 'Answer from passages.', template: 'Q: {{question}}\n{{passages}}' },
  model: { modelId: 'primary', parameters: { temperature: 0.1, maxTokens: 300 }, fallback: { modelId: 'fallback' }, guardrail: { id: 'g1', version: '1' } },
  retrieval: { topK: 2, minScore: 0.1 },
};
const retriever = new BundledRetriever(knowledgeBase.passages);
const normal = { useFallbackModel: false, disableRetrieval: false };

describe('support assistant', () => {
  test('retrieves, fills the prompt, calls the model with the guardrail, keeps only real citations', async () => {
    const model = fakeModel('Open Trash and choose Restore within 30 days. [kb-restore-01] [kb-made-up-99]');
    const result = await answerQuestion('How do I restore a deleted file?', config, normal, { retriever, model });
    expect(model.requests[0].modelId).toBe('primary');
    expect(model.requests[0].guardrail).toEqual({ id: 'g1', version: '1' });
    expect(model.requests[0].prompt).toContain('[kb-restore-01] Restoring deleted files');
    expect(result.citations).toEqual(['kb-restore-01']);
    expect(result.answer).toBe('Open Trash and choose Restore within 30 days.');
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 30, modelId: 'primary' });
  });

  test.each([
    [{ ...normal, useFallbackModel: true }, 'fallback', true],
    [{ ...normal, disableRetrieval: true }, 'primary', true],
    [normal, 'primary', false],
  ])('degrade %j uses %s', async (degrade, modelId, degraded) => {
    const model = fakeModel('ok');
    const result = await answerQuestion('share a folder', config, degrade, { retriever, model });
    expect(model.requests[0].modelId).toBe(modelId);
    expect(result.degraded).toBe(degraded);
    if (degrade.disableRetrieval) expect(model.requests[0].prompt).toContain('(no passages found)');
  });

  test('static answer calls no model', async () => {
    const model = fakeModel('never');
    const result = await answerQuestion('anything', config, { ...normal, staticAnswer: 'Back soon.' }, { retriever, model });
    expect(result.answer).toBe('Back soon.');
    expect(model.requests).toHaveLength(0);
  });

  test.each([
    ['How do I restore a deleted file?', 'kb-restore-01'],
    ['upload limit for big files', 'kb-limits-01'],
    ['turn on two-factor authentication', 'kb-2fa-01'],
  ])('retriever ranks the right passage first for %s', async (q, id) => {
    const hits = await retriever.retrieve(q, 3, 0);
    expect(hits[0].id).toBe(id);
  });

  test('fillTemplate refuses an unknown placeholder', () => {
    expect(() => fillTemplate('Hi {{name}} {{missing}}', { name: 'x' })).toThrow('prompt template uses {{missing}} but no value was given');
  });
});
