/**
 * The props of AiServiceConfig and the options of its connectGate (re-exported from ai-service-config.ts, where they
 * always were).
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { ConfigRollout } from '../rollout/config-rollout';
import type { CheckModelsOptions } from './model-lifecycle';
import type { DegradeFlagState } from './private/degrade-flags';
import type { ReleaseConfigSource } from './release-config-source';

export interface AiServiceConfigProps {
  /** The service's name: lower-case letters, digits and dashes, starting with a letter, at most 40 characters. */
  readonly serviceName: string;
  /** Where the release config comes from (files or an inline object). */
  readonly source: ReleaseConfigSource;
  /**
   * The shared AppConfig application and strategies of the stack.
   * @default AiReleasePlatform.of(this)
   */
  readonly platform?: AiReleasePlatform;
  /**
   * How a release config change reaches clients.
   * @default ConfigRollout.DEFAULT (canary 10 % doubling to 100 % in 3 min, 2 min bake)
   */
  readonly rollout?: ConfigRollout;
  /**
   * The state the degrade flags are deployed in. They deploy all at once, with no bake.
   * @default every flag off
   */
  readonly degrade?: DegradeFlagState;
  /**
   * Prefix of the AppConfig version label; the label is `<prefix>-<12 hex of the content hash>`.
   * @default 'cfg'
   */
  readonly versionLabelPrefix?: string;
  /**
   * Largest allowed release config, bytes.
   * @default 1 MiB (AppConfig's hosted configuration limit)
   */
  readonly maxContentBytes?: number;
  /**
   * What happens to hosted versions. The default keeps superseded versions (UpdateReplacePolicy Retain: the history
   * that AppConfig rolls back to and that `what changed` questions are answered from), deletes the versions of a
   * failed first create (DeletionPolicy RetainExceptOnCreate), and on stack delete a cleanup resource removes every
   * version left under the profile (the cost guard's too) just before the profile, which AppConfig cannot delete
   * while versions remain. `RemovalPolicy.RETAIN` keeps the whole chain instead: versions and both profiles outlive
   * the stack (delete them by hand: versions first). `RemovalPolicy.DESTROY` deletes superseded versions at once.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly versionHistoryRemovalPolicy?: RemovalPolicy;
  /**
   * The model lifecycle check at synth: the primary and fallback models are looked up in the bundled Bedrock
   * lifecycle table; past or near end of life, or a profile-only model named by its bare id, is a synth warning
   * (an error with the release policy rule `RULE_MODEL_LIFECYCLE`).
   * @default today's date (or the `cdk-ai-release:today` context value), 60 days' notice, the bundled table
   */
  readonly modelLifecycle?: CheckModelsOptions;
}

export interface ConnectGateOptions {
  /**
   * The gate function's timeout: the longest one replay can take. Candidate stage, gate and rollout must fit the
   * config plane's budget together (50 minutes; the stage and the gate also fit one 15-minute deployer invocation).
   * @default the function's own `timeout` when it is a lambda.Function; required for an imported function
   */
  readonly timeout?: Duration;
  /**
   * Where the gate writes its reports (gates/<service>/config-<version>.json), which the live environment's gate
   * check reads.
   * @default the platform's regression store
   */
  readonly reportBucket?: s3.IBucket;
  /**
   * The SSM parameter holding this service's gate settings, for a gate function shared by a platform's services
   * (AiRelease's regression gate: the service's release manifest parameter). Sent with each ConfigGateRequest.
   * @default none: the gate function reads its settings from its own environment
   */
  readonly settingsParameter?: string;
}
