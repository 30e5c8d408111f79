/**
 * The validation of one service's release config and what synth reports about it: the service name and label prefix
 * (thrown: they are construct props), every problem of the config at once (a construct validation, so synth lists the
 * problems of every service of the app), the stand-in config an invalid service builds with, the `_release` stamp
 * (label and hashes) and the model lifecycle findings. Builds no resources.
 */
import { Annotations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { canonicalJson, contentHash } from '../../lambda/shared/canonical-json';
import { APPCONFIG_VERSION_LABEL_MAX, CONFIG_SECTIONS, RELEASE_META_KEY, type ReleaseConfigMeta, SHORT_HASH_LENGTH } from '../../lambda/shared/contract';
import { sectionComponent } from '../../lambda/shared/release-manifest';
import { type CheckModelsOptions, checkModels, LIFECYCLE_TODAY_CONTEXT, type ModelFinding, modelsOfConfig, parseDay } from './model-lifecycle';
import type { ConfigProblem } from './private/config-problem';
import type { DegradeFlagState } from './private/degrade-flags';
import { sectionLocation } from './private/section-location';
import { loadReleaseConfig, ReleaseConfigError, type ReleaseConfigSource } from './release-config-source';

/** Throws on a service name or version label prefix AppConfig (or the library's names) cannot take. */
export function checkServiceNames(serviceName: string, prefix: string): void {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(serviceName ?? '')) {
    throw new Error(
      `serviceName "${serviceName}" is invalid: use lower-case letters, digits and dashes, starting with a letter, at most 40 characters (e.g. "support-assistant")`,
    );
  }
  if (!/^[A-Za-z][A-Za-z0-9._-]{0,39}$/.test(prefix)) {
    throw new Error(`versionLabelPrefix "${prefix}" is invalid: use letters, digits, '.', '_' or '-', starting with a letter, at most 40 characters`);
  }
}

export interface ValidatedConfig {
  /** The validated sections, or the stand-in when `problems` is not empty. */
  readonly config: Record<string, unknown>;
  readonly problems: readonly ConfigProblem[];
  readonly modelFindings: readonly ModelFinding[];
  readonly contentHash: string;
  /** The `_release` block: label, hashes, per-section labels and hashes. */
  readonly meta: ReleaseConfigMeta;
}

export interface ValidateOptions {
  readonly serviceName: string;
  readonly prefix: string;
  readonly source: ReleaseConfigSource;
  readonly maxContentBytes?: number;
  readonly degradeState: DegradeFlagState;
  readonly modelLifecycle?: CheckModelsOptions;
}

/**
 * Validates the release config and reports every problem at once, as a validation error of `scope` (not thrown: synth
 * then reports the problems of every service in the app). The size limit is measured on the hosted content exactly
 * as it is written, _release block included.
 */
export function validateServiceConfig(scope: Construct, o: ValidateOptions): ValidatedConfig {
  const { config: validated, problems } = loadReleaseConfig(o.source, {
    maxContentBytes: o.maxContentBytes,
    hostedContent: (c) => canonicalJson({ ...c, [RELEASE_META_KEY]: releaseStamp(o.serviceName, o.prefix, c).meta }),
  });
  if (problems.length === 0 && o.degradeState.useFallbackModel && !(validated.model as { fallback?: unknown }).fallback) {
    problems.push({
      ...sectionLocation(o.source, 'model', ['fallback']),
      path: '$.model.fallback',
      message: 'degrade.useFallbackModel is on, but the model section names no fallback',
      fix: 'add model.fallback, or turn useFallbackModel off',
    });
  }
  let config = validated;
  if (problems.length > 0) {
    // A stand-in config lets the constructs built after this one (alarms, grants, cost guard) be built; synth stops
    // at validation, so nothing built from it is ever written.
    const error = new ReleaseConfigError(o.serviceName, problems);
    scope.node.addValidation({ validate: () => [error.message] });
    config = standInReleaseConfig();
  }
  const modelFindings = problems.length > 0 ? [] : checkModelLifecycle(scope, config, o.serviceName, o.modelLifecycle);
  const stamp = releaseStamp(o.serviceName, o.prefix, config);
  return { config, problems, modelFindings, contentHash: stamp.contentHash, meta: stamp.meta };
}

/**
 * Looks the config's models up in the lifecycle table and says what it found where `cdk synth` shows it: a warning
 * (stable id per finding code) for past or near end of life and profile-only bare ids, an info line otherwise.
 */
function checkModelLifecycle(scope: Construct, config: Record<string, unknown>, serviceName: string, options: CheckModelsOptions = {}): ModelFinding[] {
  const pinned = scope.node.tryGetContext(LIFECYCLE_TODAY_CONTEXT);
  let today = options.today;
  if (!today && pinned !== undefined) {
    try {
      today = parseDay(String(pinned));
    } catch (e) {
      throw new Error(`context ${LIFECYCLE_TODAY_CONTEXT}: ${(e as Error).message}`);
    }
  }
  const findings = checkModels(modelsOfConfig(config, serviceName), { ...options, today });
  for (const f of findings) {
    const text = `${f.message}${f.fix ? `; ${f.fix}` : ''} (${f.source})`;
    if (f.severity === 'error' || f.severity === 'warning') Annotations.of(scope).addWarningV2(`cdk-ai-release:model-${f.code}`, text);
    else if (f.severity === 'note') Annotations.of(scope).addInfo(`[cdk-ai-release:model-${f.code}] ${text}`);
  }
  return findings;
}

/** The `_release` block of a release config: its label and hashes, and those of each section. */
function releaseStamp(serviceName: string, prefix: string, config: Record<string, unknown>): { contentHash: string; meta: ReleaseConfigMeta } {
  const hash = contentHash(config);
  const label = `${prefix}-${hash.slice(0, SHORT_HASH_LENGTH)}`.slice(0, APPCONFIG_VERSION_LABEL_MAX);
  const meta: ReleaseConfigMeta = {
    service: serviceName,
    label,
    contentHash: hash,
    sections: Object.fromEntries(
      CONFIG_SECTIONS.filter((s) => config[s] !== undefined).map((s) => {
        const c = sectionComponent(config[s]);
        return [s, { label: c.label, hash: c.hash }];
      }),
    ),
  };
  return { contentHash: hash, meta };
}

/**
 * What an invalid service builds with: the shape every reader of `config` expects (a fallback model, no tools,
 * no retrieval), with names that say what it is should one ever be seen.
 */
function standInReleaseConfig(): Record<string, unknown> {
  const pricing = { inputPer1kTokensUsd: 0, outputPer1kTokensUsd: 0 };
  return {
    prompt: { template: 'invalid release config (see the synth error)' },
    model: { provider: 'bedrock', modelId: 'invalid-release-config', pricing, fallback: { modelId: 'invalid-release-config-fallback', pricing } },
    tools: { tools: [] },
    outputContract: { schema: { type: 'object' } },
  };
}
