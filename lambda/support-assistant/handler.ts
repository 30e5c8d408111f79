import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { DEGRADE_FLAGS, ENV } from '../shared/contract';
import knowledgeBase from '../../example/support-assistant/knowledge-base.json';
import { answerQuestion, BundledRetriever, type AssistantConfig, type ModelPort } from './assistant';

// Module scope: built once per execution environment.
const bedrock = new BedrockRuntimeClient({});
const retriever = new BundledRetriever(knowledgeBase.passages);
const env = {
  application: required(ENV.APPCONFIG_APPLICATION),
  environment: required(ENV.APPCONFIG_ENVIRONMENT),
  profile: required(ENV.CONFIG_PROFILE),
  degradeProfile: required(ENV.DEGRADE_PROFILE),
};

/** Bedrock Converse adapter of the model port. */
export const bedrockModel = (client: BedrockRuntimeClient): ModelPort => ({
  async complete(req) {
    const out = await client.send(
      new ConverseCommand({
        modelId: req.modelId,
        system: req.system ? [{ text: req.system }] : undefined,
        messages: [{ role: 'user', content: [{ text: req.prompt }] }],
        inferenceConfig: { temperature: req.temperature, topP: req.topP, maxTokens: req.maxTokens },
        guardrailConfig: req.guardrail ? { guardrailIdentifier: req.guardrail.id, guardrailVersion: req.guardrail.version } : undefined,
      }),
    );
    const text = (out.output?.message?.content ?? []).map((c) => c.text ?? '').join('');
    return {
      text,
      inputTokens: out.usage?.inputTokens ?? 0,
      outputTokens: out.usage?.outputTokens ?? 0,
      guardrailIntervened: out.stopReason === 'guardrail_intervened',
    };
  },
});

export async function handler(event: { question?: string }) {
  if (typeof event?.question !== 'string' || event.question.trim() === '') {
    return { statusCode: 400, error: 'question is required: send {"question": "..."}' };
  }
  // The AppConfig Lambda extension serves both profiles from loopback and polls AppConfig in the background.
  const [config, flags] = await Promise.all([fetchConfig(env.profile), fetchConfig(env.degradeProfile)]);
  const value = (name: string) => (flags as Record<string, { enabled?: boolean; message?: string }>)[name];
  const result = await answerQuestion(
    event.question,
    config as AssistantConfig,
    {
      useFallbackModel: value(DEGRADE_FLAGS.USE_FALLBACK_MODEL)?.enabled === true,
      disableRetrieval: value(DEGRADE_FLAGS.DISABLE_RETRIEVAL)?.enabled === true,
      staticAnswer: value(DEGRADE_FLAGS.STATIC_ANSWER)?.enabled ? value(DEGRADE_FLAGS.STATIC_ANSWER)?.message : undefined,
    },
    { retriever, model: bedrockModel(bedrock) },
  );
  return { answer: result.answer, citations: result.citations, degraded: result.degraded };
}

async function fetchConfig(profile: string): Promise<unknown> {
  const url = `http://localhost:2772/applications/${env.application}/environments/${env.environment}/configurations/${profile}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`AppConfig extension answered ${res.status} for profile ${profile}; is the AppConfig Lambda extension layer attached?`);
  return res.json();
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set; wire the function with AiServiceConfig.bind(fn)`);
  return v;
}
