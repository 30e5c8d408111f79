/**
 * The contract shared by the constructs (lib/) and the functions (lambda/): env var keys, section names,
 * limits and the JSON shapes of a release manifest. Import from here, never restate a name elsewhere, so a
 * construct and a handler can never drift apart.
 */

/** The sections of one service's release config, in manifest order. */
export const CONFIG_SECTIONS = ['prompt', 'model', 'retrieval', 'tools', 'outputContract'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** Sections a release config must carry; the rest are optional (not every service retrieves or calls tools). */
export const REQUIRED_SECTIONS: readonly ConfigSection[] = ['prompt', 'model', 'outputContract'];

/** Key under which the hosted release config carries its own labels, so the runtime never needs a header. */
export const RELEASE_META_KEY = '_release';

/** Environment variables a service function reads to find its configs. Values are AppConfig ids. */
export const ENV = {
  SERVICE: 'AI_RELEASE_SERVICE',
  APPCONFIG_APPLICATION: 'AI_RELEASE_APPCONFIG_APPLICATION',
  APPCONFIG_ENVIRONMENT: 'AI_RELEASE_APPCONFIG_ENVIRONMENT',
  CONFIG_PROFILE: 'AI_RELEASE_CONFIG_PROFILE',
  DEGRADE_PROFILE: 'AI_RELEASE_DEGRADE_PROFILE',
} as const;

/** AppConfig's default quota for hosted configuration content. */
export const APPCONFIG_HOSTED_MAX_BYTES = 1024 * 1024;
/** AppConfig's limit on a validator's content. */
export const APPCONFIG_VALIDATOR_MAX_CHARS = 32768;
/** AppConfig's limit on a version label. */
export const APPCONFIG_VERSION_LABEL_MAX = 64;
/** Hex characters of a content hash used in labels. */
export const SHORT_HASH_LENGTH = 12;

/** The degrade feature flags every service gets (AWS.AppConfig.FeatureFlags profile). */
export const DEGRADE_FLAGS = {
  USE_FALLBACK_MODEL: 'useFallbackModel',
  DISABLE_TOOLS: 'disableTools',
  DISABLE_RETRIEVAL: 'disableRetrieval',
  STATIC_ANSWER: 'staticAnswer',
} as const;
export type DegradeFlag = (typeof DEGRADE_FLAGS)[keyof typeof DEGRADE_FLAGS];

/** The metadata block stamped into the hosted release config. */
export interface ReleaseConfigMeta {
  readonly service: string;
  readonly label: string;
  readonly contentHash: string;
  readonly sections: Readonly<Record<string, { readonly label: string; readonly hash: string }>>;
}

/** One component of the version tuple. */
export interface ManifestComponent {
  /** Human label: the user's `version` field where given, else `<name>-<shorthash>`; `none` when absent. */
  readonly label: string;
  /** sha256 of the canonical content (hex); empty when absent. */
  readonly hash: string;
  /** The canonical content, kept in the file manifest so diffs can show lines and keys. Omitted in the compact copy. */
  readonly content?: unknown;
}

export const MANIFEST_COMPONENTS = ['code', ...CONFIG_SECTIONS] as const;
export type ManifestComponentName = (typeof MANIFEST_COMPONENTS)[number];

/** What one release is: its version tuple and where its config lives. */
export interface ReleaseManifest {
  readonly schemaVersion: 1;
  readonly service: string;
  /** sha256 over the component hashes: equal manifests, equal id. */
  readonly releaseId: string;
  readonly components: Readonly<Record<ManifestComponentName, ManifestComponent>>;
  /** The AppConfig version label of the release config (carries the short config hash). */
  readonly configLabel: string;
  readonly degradeLabel: string;
  /** Extra facts captured at synth (stack, strategy, budget…); never part of the release id. */
  readonly facts?: Readonly<Record<string, string | number | boolean>>;
}
