import { canonicalJson, contentHash } from '../lambda/shared/canonical-json';
import { ENV, type FailureRecord, type ReleaseConfigDocument, RUNTIME_ENV, type VersionTuple } from '../lambda/shared/contract';
import type { ConfigPort, InvocationMeasurements, TelemetryPort } from '../lambda/runtime/ai-runtime';
import type { ServedConfig } from '../lambda/runtime/config-cache';
import type { EvaluationSample } from '../lambda/shared/evaluation';

/** The environment the construct gives a service function (the contract's keys), for runtimes built in tests and benches. */
export const SERVICE_FUNCTION_ENV: Readonly<Record<string, string>> = {
  [ENV.SERVICE]: 'support-assistant',
  [ENV.APPCONFIG_APPLICATION]: 'app',
  [ENV.APPCONFIG_ENVIRONMENT]: 'env',
  [ENV.CONFIG_PROFILE]: 'rel',
  [ENV.DEGRADE_PROFILE]: 'deg',
  AWS_LAMBDA_FUNCTION_VERSION: '42',
  [RUNTIME_ENV.CODE_HASH]: 'c0dec0dec0de',
};

/** A served release config, with the `_release` block the construct stamps. */
export function releaseDoc(overrides: Partial<ReleaseConfigDocument> = {}): ReleaseConfigDocument {
  const sections = {
    prompt: { version: '7', template: 'Q: {{question}}', variables: [{ name: 'question' }] },
    model: {
      provider: 'bedrock',
      modelId: 'primary-model',
      pricing: { inputPer1kTokensUsd: 0.001, outputPer1kTokensUsd: 0.002 },
      maxCostPerRequestUsd: 0.01,
      fallback: { modelId: 'fallback-model', pricing: { inputPer1kTokensUsd: 0.0001, outputPer1kTokensUsd: 0.0002 } },
    },
    outputContract: {
      version: '2',
      schema: { type: 'object', required: ['answer'], properties: { answer: { type: 'string', minLength: 1 } } },
      qualityFloor: 0.5,
    },
    ...overrides,
  } as Record<string, any>;
  const hash = contentHash(sections);
  return {
    ...(sections as any),
    _release: {
      service: 'svc',
      label: `cfg-${hash.slice(0, 12)}`,
      contentHash: hash,
      sections: Object.fromEntries(
        Object.entries(sections).map(([k, v]) => [k, { label: (v as any).version ?? contentHash(v).slice(0, 12), hash: contentHash(v) }]),
      ),
    },
  };
}

export const NO_FLAGS = {
  useFallbackModel: { enabled: false },
  disableTools: { enabled: false },
  disableRetrieval: { enabled: false },
  staticAnswer: { enabled: false, message: 'Back soon.' },
};

/** A config port serving fixed content per profile; `fail` makes the next calls throw. */
export class FakeConfig implements ConfigPort {
  public fail = false;
  /** Profiles that fail even when `fail` is off. */
  public readonly failing = new Set<string>();
  constructor(public readonly content: Record<string, unknown>) {}
  async get(profile: string): Promise<ServedConfig> {
    if (this.fail || this.failing.has(profile)) throw new Error(`profile ${profile} unreachable`);
    return { content: this.content[profile], version: '3', stale: false };
  }
}

/** Records what the runtime reports; asserts nothing by itself. */
export class RecordingTelemetry implements TelemetryPort {
  public readonly invocations: { tuple: VersionTuple; m: InvocationMeasurements }[] = [];
  public readonly failures: FailureRecord[] = [];
  public readonly warnings: string[] = [];
  public readonly samples: EvaluationSample[] = [];
  public stamped?: VersionTuple;
  invocation(tuple: VersionTuple, _id: string, m: InvocationMeasurements) {
    this.invocations.push({ tuple, m });
  }
  failure(record: FailureRecord) {
    this.failures.push(record);
  }
  sample(sample: EvaluationSample) {
    this.samples.push(sample);
  }
  warn(message: string) {
    this.warnings.push(message);
  }
  stamp(tuple: VersionTuple) {
    this.stamped = tuple;
  }
}

export { canonicalJson };
