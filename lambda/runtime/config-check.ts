import { DEGRADE_FLAGS, type ReleaseConfigDocument } from '../shared/contract';

/**
 * The boundary check of a served config: the shape the runtime relies on, nothing more (synth validated the full
 * schema; this catches what reached AppConfig another way — a console edit, a partial deployment, `{}` or `null`).
 * Pure and cheap; the runtime runs it once per served config object, never per request.
 */

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v;

/** Problems with a served release config; empty when the runtime can use it. */
export function releaseConfigProblems(content: unknown): string[] {
  const p: string[] = [];
  if (!isObject(content)) return [`the release config is ${describe(content)}; expected an object with prompt, model and outputContract`];
  const section = (name: string, required: boolean): Obj | undefined => {
    const v = content[name];
    if (v === undefined && !required) return undefined;
    if (!isObject(v)) {
      p.push(`${name} is ${v === undefined ? 'missing' : describe(v)}; expected an object`);
      return undefined;
    }
    return v;
  };
  section('prompt', true);
  const model = section('model', true);
  if (model) {
    modelProblems(model, 'model', p);
    if (model.maxCostPerRequestUsd !== undefined) nonNegative(model.maxCostPerRequestUsd, 'model.maxCostPerRequestUsd', p);
    if (model.fallback !== undefined) {
      if (isObject(model.fallback)) modelProblems(model.fallback, 'model.fallback', p);
      else p.push(`model.fallback is ${describe(model.fallback)}; expected an object`);
    }
    if (model.guardrail !== undefined && !(isObject(model.guardrail) && typeof model.guardrail.id === 'string' && typeof model.guardrail.version === 'string'))
      p.push('model.guardrail must be { id, version } (strings)');
    if (model.parameters !== undefined && !isObject(model.parameters)) p.push(`model.parameters is ${describe(model.parameters)}; expected an object`);
  }
  section('retrieval', false);
  const tools = section('tools', false);
  if (tools && !(Array.isArray(tools.tools) && tools.tools.every(isObject))) p.push('tools.tools must be an array of tool objects');
  const contract = section('outputContract', true);
  if (contract) {
    if (!(isObject(contract.schema) || typeof contract.schema === 'boolean'))
      p.push(`outputContract.schema is ${contract.schema === undefined ? 'missing' : describe(contract.schema)}; expected a JSON Schema object`);
    if (contract.maxBytes !== undefined) nonNegative(contract.maxBytes, 'outputContract.maxBytes', p);
    if (contract.qualityFloor !== undefined) nonNegative(contract.qualityFloor, 'outputContract.qualityFloor', p);
  }
  const meta = content._release;
  if (meta !== undefined && !(isObject(meta) && typeof meta.label === 'string' && (meta.sections === undefined || isObject(meta.sections))))
    p.push('_release must be the block AiServiceConfig stamps ({ label, contentHash, sections })');
  return p;
}

function modelProblems(m: Obj, path: string, p: string[]) {
  if (typeof m.modelId !== 'string' || m.modelId.trim() === '')
    p.push(`${path}.modelId is ${m.modelId === undefined ? 'missing' : describe(m.modelId)}; expected a model id`);
  if (!isObject(m.pricing)) {
    p.push(`${path}.pricing is ${m.pricing === undefined ? 'missing' : describe(m.pricing)}; expected { inputPer1kTokensUsd, outputPer1kTokensUsd }`);
    return;
  }
  nonNegative(m.pricing.inputPer1kTokensUsd, `${path}.pricing.inputPer1kTokensUsd`, p);
  nonNegative(m.pricing.outputPer1kTokensUsd, `${path}.pricing.outputPer1kTokensUsd`, p);
  for (const key of ['cacheReadInputPer1kTokensUsd', 'cacheWriteInputPer1kTokensUsd'])
    if (m.pricing[key] !== undefined) nonNegative(m.pricing[key], `${path}.pricing.${key}`, p);
}

function nonNegative(v: unknown, path: string, p: string[]) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    p.push(`${path} is ${v === undefined ? 'missing' : typeof v === 'number' ? v : describe(v)}; expected a number >= 0`);
}

/** Problems with the served degrade flags (a feature-flags profile: `{ flag: { enabled, message? } }`). */
export function degradeFlagsProblems(content: unknown): string[] {
  if (!isObject(content)) return [`the degrade flags are ${describe(content)}; expected an object of flags`];
  const p: string[] = [];
  for (const flag of Object.values(DEGRADE_FLAGS)) {
    const v = content[flag];
    if (v === undefined) continue;
    if (!isObject(v)) p.push(`${flag} is ${describe(v)}; expected { enabled }`);
    else {
      if (v.enabled !== undefined && typeof v.enabled !== 'boolean') p.push(`${flag}.enabled is ${describe(v.enabled)}; expected true or false`);
      if (v.message !== undefined && typeof v.message !== 'string') p.push(`${flag}.message is ${describe(v.message)}; expected a string`);
    }
  }
  return p;
}

/** Narrowing helper for callers that checked with releaseConfigProblems. */
export const asReleaseConfig = (content: unknown) => content as ReleaseConfigDocument;

/** A served config the runtime refused. */
export class InvalidConfigError extends Error {
  constructor(
    public readonly profile: string,
    version: string | undefined,
    public readonly problems: readonly string[],
  ) {
    super(
      `config profile ${profile}${version ? ` version ${version}` : ''} is not usable: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. ` +
        'Deploy a config that passes synth validation (AiServiceConfig), or roll back to the previous version.',
    );
    this.name = 'InvalidConfigError';
  }
}
