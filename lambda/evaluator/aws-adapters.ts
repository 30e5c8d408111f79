/**
 * The evaluator's ports on AWS: Bedrock Converse for the evaluator model, the spend ledger and scored samples in the
 * regression store (S3, conditional writes), each service's LIVE evaluation section through the AppConfig data API,
 * and the shadow answers through Lambda Invoke with the gate's ClientContext (replays are never measured or recorded).
 */
import type { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { type BedrockRuntimeClient, ConverseCommand, type ConverseCommandInput } from '@aws-sdk/client-bedrock-runtime';
import { GetAliasCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DataApiFetcher } from '../runtime/data-api-fetcher';
import { GATE_CLIENT_CONTEXT_KEY, GATE_RESPONSE_KEY, type GateInvocationVerdict, type ReleaseConfigDocument } from '../shared/contract';
import type { EvaluationConfig, EvaluationSample } from '../shared/evaluation';
import type { ObjectStore } from '../snapshot/store';
import type { Ledger } from './budget';
import type { ConverseResponse } from './converse';
import type { LedgerPort, ModelPort, ShadowPort } from './evaluator';

/** Where one service's live config and function are. */
export interface ServiceLocation {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  readonly functionName: string;
  /** The alias callers invoke: its routing says which version is stable and which the code canary. */
  readonly liveAlias: string;
}

/** ClientContext key naming the arm a replay must answer with (config plane: live or candidate config). */
export const SHADOW_ARM_CONTEXT_KEY = 'ai-release-shadow-arm';

export function bedrockModel(client: BedrockRuntimeClient, timeoutMs: number): ModelPort {
  return {
    async converse(request) {
      return (await client.send(new ConverseCommand(request as unknown as ConverseCommandInput), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      })) as unknown as ConverseResponse;
    },
  };
}

/** The ledger as one S3 object, replaced only by the writer that read it (If-Match), created only once (If-None-Match). */
export function s3Ledger(store: ObjectStore, key: string): LedgerPort {
  return {
    async read() {
      const o = await store.get(key);
      return { ledger: o ? (JSON.parse(o.body) as Ledger) : undefined, etag: o?.etag };
    },
    async write(ledger, etag) {
      const r = await store.put(key, JSON.stringify(ledger), { condition: etag ? { ifMatch: etag } : { ifNoneMatch: '*' } });
      return r === 'written';
    },
  };
}

/** Each service's live evaluation section, read with the data API (one session per service, AppConfig's poll interval). */
export function liveEvaluations(client: AppConfigDataClient, services: Readonly<Record<string, ServiceLocation>>) {
  const fetchers = new Map<string, DataApiFetcher>();
  return async (service: string): Promise<EvaluationConfig | undefined> => {
    const at = services[service];
    if (!at) return undefined;
    let f = fetchers.get(service);
    if (!f) {
      f = new DataApiFetcher(client, at.application, at.environment, 60);
      fetchers.set(service, f);
    }
    const doc = (await f.fetch(at.profile, { signal: AbortSignal.timeout(5000) })).content as ReleaseConfigDocument | undefined;
    return doc?.evaluation;
  };
}

/** The text of a replayed answer: the output's `answer` string when it has one, else its JSON. */
export function answerText(output: unknown): string {
  const a = (output as { answer?: unknown } | null)?.answer;
  return typeof a === 'string' ? a : (JSON.stringify(output) ?? '');
}

export function lambdaShadow(client: LambdaClient, services: Readonly<Record<string, ServiceLocation>>, timeoutMs: number): ShadowPort {
  return {
    async isCodeCanary(sample: EvaluationSample) {
      const at = services[sample.service];
      if (!at) return false;
      const alias = await client.send(new GetAliasCommand({ FunctionName: at.functionName, Name: at.liveAlias }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      // During a CodeDeploy deployment the alias points at the stable version and routes a weight to the new one.
      return alias.FunctionVersion !== sample.functionVersion && alias.RoutingConfig?.AdditionalVersionWeights?.[sample.functionVersion] !== undefined;
    },
    async answer(sample: EvaluationSample, arm) {
      const at = services[sample.service];
      if (!at) throw new Error(`no function is configured for service ${sample.service}`);
      const alias = await client.send(new GetAliasCommand({ FunctionName: at.functionName, Name: at.liveAlias }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      const stable = alias.FunctionVersion;
      if (!stable) throw new Error(`alias ${at.liveAlias} of ${at.functionName} names no version`);
      // Code plane: the canary is the version that answered live. Config plane: the same version, asked for its
      // candidate config through the ClientContext.
      const qualifier = arm === 'canary' ? sample.functionVersion : stable;
      const context = Buffer.from(JSON.stringify({ custom: { [GATE_CLIENT_CONTEXT_KEY]: '1', [SHADOW_ARM_CONTEXT_KEY]: arm } })).toString('base64');
      const r = await client.send(
        new InvokeCommand({
          FunctionName: at.functionName,
          Qualifier: qualifier,
          InvocationType: 'RequestResponse',
          ClientContext: context,
          Payload: new TextEncoder().encode(sample.input),
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      const body = r.Payload ? new TextDecoder().decode(r.Payload) : '';
      if (r.FunctionError) throw new Error(`the ${arm} replay failed (${r.FunctionError}): ${body.slice(0, 200)}`);
      const verdict = (JSON.parse(body || 'null') as Record<string, GateInvocationVerdict> | null)?.[GATE_RESPONSE_KEY];
      if (!verdict) throw new Error(`the ${arm} replay did not answer as a replay (no ${GATE_RESPONSE_KEY}); is the function on the cdk-ai-release runtime?`);
      return { answer: answerText(verdict.output), costUsd: verdict.costUsd ?? 0 };
    },
  };
}
