import { grantBedrockModels } from './model-grants';
import { Annotations, ArnFormat, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { canonicalJson, contentHash } from '../../lambda/shared/canonical-json';
import {
  APPCONFIG_EXTENSION_CLIENT_MARGIN_MS,
  APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS,
  APPCONFIG_EXTENSION_ENV,
  APPCONFIG_VERSION_LABEL_MAX,
  CONFIG_GATE_ENV,
  CONFIG_SECTIONS,
  ENV,
  RELEASE_META_KEY,
  RUNTIME_ENV,
  SHORT_HASH_LENGTH,
  type ReleaseConfigMeta,
  type ToolConfig,
} from '../../lambda/shared/contract';
import { AiReleasePlatform } from '../ai-release-platform';
import { type CheckModelsOptions, checkModels, LIFECYCLE_TODAY_CONTEXT, type ModelFinding, modelsOfConfig, parseDay } from './model-lifecycle';
import { ReleaseConfigDeployment } from '../rollout/config-deployment';
import { ConfigGateCheck } from '../learning/config-gate-check';
import { ConfigRollout } from '../rollout/config-rollout';
import type { ConfigProblem } from './private/config-problem';
import { degradeFlagsDocument, type DegradeFlagState } from './private/degrade-flags';
import { sectionLocation } from './private/section-location';
import { namePrefix, physicalName } from '../private/physical-names';
import { toolGrants, toolWildcards } from '../private/tool-permissions';
import { RELEASE_CONFIG_SCHEMA } from './private/validate-release-config';
import { sectionComponent } from '../../lambda/shared/release-manifest';
import { loadReleaseConfig, ReleaseConfigError, type ReleaseConfigSource } from './release-config-source';

export type { DegradeFlagState } from './private/degrade-flags';

/** AppConfig allows at most 5 monitors per environment. */
const MAX_MONITORS = 5;

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
}

export interface BindOptions {
  /**
   * The AWS AppConfig Lambda extension layer for the function's region and architecture (see the AppConfig docs for
   * the ARN). With it, configs are served from loopback and polled in the background.
   * @default none: the runtime calls the AppConfig data API itself
   */
  readonly appConfigExtensionLayer?: lambda.ILayerVersion;
  /**
   * How long the runtime serves a fetched config before fetching again.
   * @default Duration.seconds(5)
   */
  readonly configTtl?: Duration;
  /**
   * How often the extension polls AppConfig in the background (when the layer is attached); set explicitly, since the
   * extension's own default is 45 s. At least 15 s. The data API path polls every 15 s (AppConfig's minimum).
   * @default Duration.seconds(15)
   */
  readonly extensionPollInterval?: Duration;
  /**
   * How long the extension waits for AppConfig when it refreshes its cache (`AWS_APPCONFIG_EXTENSION_POLL_TIMEOUT_MILLIS`,
   * when the layer is attached). The runtime's client waits this long plus a margin, so it never gives up on an
   * extension that is still fetching; the config read of an invocation waits a little longer still, and never past
   * the invocation's own deadline.
   * @default Duration.millis(3000), the extension's default
   */
  readonly extensionPollTimeout?: Duration;
}

/**
 * Every behaviour-shaping input of one AI service, under AppConfig versions.
 *
 * - One hosted **release config** profile holds all sections (prompt, model, retrieval, tools, output contract),
 *   so a change to several rolls out as one deployment and rolls back as one: never the new prompt on the old
 *   model. AppConfig enforces the shipped JSON Schema at deployment; the same schema and more are checked at synth.
 * - A separate **degrade** feature-flags profile (fallback model, no tools, no retrieval, static answer) deploys
 *   all at once, so an emergency switch is one step, into its own environment with no monitors: no alarm can
 *   refuse or roll back the switch that answers it, and it never waits for a release-config rollout.
 * - A new hosted version and deployment appear only when content changes: content is canonical JSON, the version
 *   label carries its hash, and the deployment's logical id derives from it (aws-cdk#18745, #28782).
 */
export class AiServiceConfig extends Construct {
  public readonly serviceName: string;
  /** The validated sections, as deployed (without the `_release` block); a stand-in when `problems` is not empty. */
  public readonly config: { readonly [section: string]: unknown };
  /** What is wrong with the release config; synth fails with all of them (every service of the app) when any. */
  public readonly problems: readonly ConfigProblem[];
  /** sha256 of the canonical release config. */
  public readonly contentHash: string;
  /** The AppConfig version label of the release config: `<prefix>-<short hash>`. */
  public readonly versionLabel: string;
  /** The AppConfig version label of the degrade flags. */
  public readonly degradeLabel: string;
  public readonly rollout: ConfigRollout;
  public readonly degradeState: DegradeFlagState;
  public readonly platform: AiReleasePlatform;
  /** The AppConfig application of this service's environments and profiles: the platform's, or its own (applicationPerService). */
  public readonly application: appconfig.CfnApplication;
  /** Its id (a deploy-time token). */
  public readonly applicationId: string;
  /** What the model lifecycle check found for the primary and fallback models (empty when the config is invalid). */
  public readonly modelFindings: readonly ModelFinding[];

  /** The release config's environment: its monitors roll a bad config back. */
  public readonly environment: appconfig.CfnEnvironment;
  /** The degrade flags' environment: no monitors, so no alarm can refuse or roll back an emergency switch. */
  public readonly degradeEnvironment: appconfig.CfnEnvironment;
  /**
   * The candidate environment: a release config version is deployed here (instantly, no monitors) before the gate
   * replays it; the runtime reads it only when invoked through the `gate` alias.
   */
  public readonly candidateEnvironment: appconfig.CfnEnvironment;
  /** The live environment's gate check, once a gate is connected (connectGate). */
  public gateCheck?: ConfigGateCheck;
  public readonly profile: appconfig.CfnConfigurationProfile;
  public readonly hostedVersion: appconfig.CfnHostedConfigurationVersion;
  /** The config plane of a release: deploys the release config and waits for AppConfig to finish. */
  public readonly deployment: ReleaseConfigDeployment;
  public readonly degradeProfile: appconfig.CfnConfigurationProfile;
  public readonly degradeVersion: appconfig.CfnHostedConfigurationVersion;
  public readonly degradeDeployment: appconfig.CfnDeployment;

  private readonly monitors: cloudwatch.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: AiServiceConfigProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(props.serviceName ?? '')) {
      throw new Error(
        `serviceName "${props.serviceName}" is invalid: use lower-case letters, digits and dashes, starting with a letter, at most 40 characters (e.g. "support-assistant")`,
      );
    }
    const prefix = props.versionLabelPrefix ?? 'cfg';
    if (!/^[A-Za-z][A-Za-z0-9._-]{0,39}$/.test(prefix)) {
      throw new Error(`versionLabelPrefix "${prefix}" is invalid: use letters, digits, '.', '_' or '-', starting with a letter, at most 40 characters`);
    }
    this.serviceName = props.serviceName;
    this.platform = props.platform ?? AiReleasePlatform.of(this);
    this.rollout = props.rollout ?? ConfigRollout.DEFAULT;
    this.degradeState = props.degrade ?? {};

    // Validate everything first, and report every problem at once. The size limit is measured on the hosted
    // content exactly as it is written below, _release block included.
    const { config: validated, problems } = loadReleaseConfig(props.source, {
      maxContentBytes: props.maxContentBytes,
      hostedContent: (c) => canonicalJson({ ...c, [RELEASE_META_KEY]: releaseStamp(this.serviceName, prefix, c).meta }),
    });
    if (problems.length === 0 && this.degradeState.useFallbackModel && !(validated.model as { fallback?: unknown }).fallback) {
      problems.push({
        ...sectionLocation(props.source, 'model', ['fallback']),
        path: '$.model.fallback',
        message: 'degrade.useFallbackModel is on, but the model section names no fallback',
        fix: 'add model.fallback, or turn useFallbackModel off',
      });
    }
    this.problems = problems;
    let config = validated;
    if (problems.length > 0) {
      // Reported as a validation error of this construct, not thrown: synth then reports the problems of every
      // service in the app at once. A stand-in config lets the constructs built after this one (alarms, grants,
      // cost guard) be built; synth stops at validation, so nothing built from it is ever written.
      const error = new ReleaseConfigError(this.serviceName, problems);
      this.node.addValidation({ validate: () => [error.message] });
      config = standInReleaseConfig();
    }
    this.config = config;
    this.modelFindings = problems.length > 0 ? [] : this.checkModelLifecycle(props.modelLifecycle);

    const stamp = releaseStamp(this.serviceName, prefix, config);
    this.contentHash = stamp.contentHash;
    this.versionLabel = stamp.meta.label;
    const meta = stamp.meta;
    const degradeDoc = degradeFlagsDocument(this.degradeState);
    const degradeHash = contentHash(degradeDoc);
    this.degradeLabel = `degrade-${degradeHash.slice(0, SHORT_HASH_LENGTH)}`;

    // The platform's application, or (applicationPerService) one of the service's own: 3 environments each, well
    // inside AppConfig's 20 per application, so the platform's service count is bound by applications per account.
    this.application = this.platform.applicationPerService
      ? new appconfig.CfnApplication(this, 'Application', {
          name: physicalName('appConfigApplication', namePrefix(this), this.serviceName),
          description: `Release configs of AI service ${this.serviceName} (cdk-ai-release)`,
        })
      : this.platform.application;
    this.applicationId = this.application.ref;
    const applicationId = this.applicationId;
    const historyPolicy = props.versionHistoryRemovalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

    this.environment = new appconfig.CfnEnvironment(this, 'Environment', {
      applicationId,
      name: physicalName('appConfigEnvironment', this.serviceName),
      description: `Release configs of AI service ${this.serviceName}`,
      monitors: Lazy.any({ produce: () => this.renderMonitors() }, { omitEmptyArray: true }),
    });
    // Degrade switches answer the alarms: the cost guard flips one while the cost alarm is in ALARM. In an
    // environment those alarms monitor, AppConfig would roll the switch back (or refuse it during a config
    // rollout: one deployment per environment). Their own environment has no monitors, ever.
    this.degradeEnvironment = new appconfig.CfnEnvironment(this, 'DegradeEnvironment', {
      applicationId,
      name: physicalName('appConfigEnvironment', this.serviceName, 'degrade'),
      description: `Degrade switches of AI service ${this.serviceName}: no monitors, so no alarm can block them`,
    });

    // The config gate's stage: no monitors (a replay of known failures must not roll anything back, and only gate
    // replays read it), no extension (the gate has not judged the version yet when it is deployed here).
    this.candidateEnvironment = new appconfig.CfnEnvironment(this, 'CandidateEnvironment', {
      applicationId,
      name: physicalName('appConfigEnvironment', this.serviceName, 'candidate'),
      description: `Candidate release configs of AI service ${this.serviceName}: read only through the gate alias, by the config gate's replay`,
    });

    // Release config: one profile, all sections, validated by AppConfig with the shipped schema.
    this.profile = new appconfig.CfnConfigurationProfile(this, 'ReleaseConfigProfile', {
      applicationId,
      name: physicalName('appConfigProfile', this.serviceName, 'release'),
      locationUri: 'hosted',
      type: 'AWS.Freeform',
      description: `Prompt, model, retrieval, tools and output contract of ${this.serviceName}`,
      validators: [{ type: 'JSON_SCHEMA', content: JSON.stringify(RELEASE_CONFIG_SCHEMA) }],
    });
    this.hostedVersion = new appconfig.CfnHostedConfigurationVersion(this, 'ReleaseConfigVersion', {
      applicationId,
      configurationProfileId: this.profile.ref,
      content: canonicalJson({ ...config, [RELEASE_META_KEY]: meta }),
      contentType: 'application/json',
      versionLabel: this.versionLabel,
      description: `${this.serviceName} release config ${this.versionLabel}`,
    });
    this.hostedVersion.applyRemovalPolicy(historyPolicy);
    this.retainOrCleanUp(this.profile, this.hostedVersion, historyPolicy, 'ReleaseConfigVersions');

    // Degrade flags: a feature-flags profile, deployed with the instant strategy.
    this.degradeProfile = new appconfig.CfnConfigurationProfile(this, 'DegradeProfile', {
      applicationId,
      name: physicalName('appConfigProfile', this.serviceName, 'degrade'),
      locationUri: 'hosted',
      type: 'AWS.AppConfig.FeatureFlags',
      description: `Emergency degrade switches of ${this.serviceName}: fallback model, no tools, no retrieval, static answer`,
    });
    this.degradeVersion = new appconfig.CfnHostedConfigurationVersion(this, 'DegradeVersion', {
      applicationId,
      configurationProfileId: this.degradeProfile.ref,
      content: canonicalJson(degradeDoc),
      contentType: 'application/json',
      versionLabel: this.degradeLabel,
      description: `${this.serviceName} degrade flags ${this.degradeLabel}`,
    });
    this.degradeVersion.applyRemovalPolicy(historyPolicy);
    // The cost guard writes versions here that CloudFormation never created: the cleanup removes them too.
    this.retainOrCleanUp(this.degradeProfile, this.degradeVersion, historyPolicy, 'DegradeVersions');

    // Degrade deployment: the logical id carries the content (and strategy) hash, so an unchanged state is the same
    // resource (no new deployment), and a changed one is a new resource rather than an in-place replacement,
    // which AppConfig rejects ("Deployment number 1 already exists", aws-cdk#18745). The hash is computed from
    // resolved content, never from tokens, so it is stable across synths (aws-cdk#28782).
    const instant = this.platform.strategyFor(ConfigRollout.INSTANT);
    this.degradeDeployment = new appconfig.CfnDeployment(this, `DegradeDeployment${shortId(degradeHash, ConfigRollout.INSTANT.key)}`, {
      applicationId,
      environmentId: this.degradeEnvironment.ref,
      configurationProfileId: this.degradeProfile.ref,
      configurationVersion: this.degradeVersion.attrVersionNumber,
      deploymentStrategyId: instant.ref,
      description: `${this.serviceName} degrade flags ${this.degradeLabel}`,
    });
    // The release config is not an AWS::AppConfig::Deployment, which only starts a rollout: a custom resource
    // that succeeds when the rollout is COMPLETE and fails when an alarm rolls it back, so the config plane can
    // be ordered after the code plane and a failed release rolls both back (see ReleaseConfigDeployment).
    this.deployment = new ReleaseConfigDeployment(this, 'ReleaseConfigDeployment', {
      platform: this.platform,
      environment: this.environment,
      profile: this.profile,
      version: this.hostedVersion,
      rollout: this.rollout,
      description: `${this.serviceName} release config ${this.versionLabel}`,
      candidateEnvironment: this.candidateEnvironment,
      serviceName: this.serviceName,
      versionLabel: this.versionLabel,
    });
  }

  /**
   * Makes `cdk destroy` and the rollback of a failed first create end clean (docs: "Destroy and failed first
   * deploys"). AppConfig refuses to delete a profile that still has hosted versions. RETAIN keeps the whole chain (the
   * profile too); any other policy gets a cleanup resource that every version of the profile depends on, so that
   * CloudFormation, deleting in reverse dependency order, runs it after the versions and before the profile.
   */
  private retainOrCleanUp(
    profile: appconfig.CfnConfigurationProfile,
    version: appconfig.CfnHostedConfigurationVersion,
    policy: RemovalPolicy,
    id: string,
  ): void {
    if (policy === RemovalPolicy.RETAIN) {
      profile.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return;
    }
    const cleanup = ReleaseConfigDeployment.versionCleanup(this, id, this.platform, profile);
    version.node.addDependency(cleanup);
  }

  /**
   * Looks the config's models up in the lifecycle table and says what it found where `cdk synth` shows it: a warning
   * (stable id per finding code) for past or near end of life and profile-only bare ids, an info line otherwise.
   */
  private checkModelLifecycle(options: CheckModelsOptions = {}): ModelFinding[] {
    const pinned = this.node.tryGetContext(LIFECYCLE_TODAY_CONTEXT);
    let today = options.today;
    if (!today && pinned !== undefined) {
      try {
        today = parseDay(String(pinned));
      } catch (e) {
        throw new Error(`context ${LIFECYCLE_TODAY_CONTEXT}: ${(e as Error).message}`);
      }
    }
    const findings = checkModels(modelsOfConfig(this.config, this.serviceName), { ...options, today });
    for (const f of findings) {
      const text = `${f.message}${f.fix ? `; ${f.fix}` : ''} (${f.source})`;
      if (f.severity === 'error' || f.severity === 'warning') Annotations.of(this).addWarningV2(`cdk-ai-release:model-${f.code}`, text);
      else if (f.severity === 'note') Annotations.of(this).addInfo(`[cdk-ai-release:model-${f.code}] ${text}`);
    }
    return findings;
  }

  /**
   * Gates every release of this config (README "Config gate"): the new version is staged in the candidate
   * environment, the gate function replays the regression cases through the `gate` alias, and the live rollout
   * starts only on a passing report; the live environment refuses any version without a passing gate record (an
   * AppConfig PRE_START_DEPLOYMENT extension), so a console or CLI deployment cannot skip the gate. The caller
   * lets the gate invoke the `gate` alias (AiRelease.connectConfigGate does both).
   */
  public connectGate(gate: lambda.IFunction, options: ConnectGateOptions = {}): ConfigGateCheck {
    const timeout = options.timeout ?? (gate as { timeout?: Duration }).timeout;
    if (!timeout) {
      throw new Error(
        `connectGate(${gate.node.path}): the gate function's timeout is unknown (an imported function); pass options.timeout, the function's configured timeout`,
      );
    }
    this.deployment.connectGate({ function: gate, timeout });
    this.gateCheck = new ConfigGateCheck(this, 'GateCheck', {
      platform: this.platform,
      serviceName: this.serviceName,
      environment: this.environment,
      profile: this.profile,
      bucket: options.reportBucket ?? this.platform.regressionStore.bucket,
    });
    // No live deployment may start before the check guards the environment (the first release included).
    this.deployment.node.addDependency(this.gateCheck.association);
    return this.gateCheck;
  }

  /** The AppConfig environment id (a deploy-time token). */
  public get environmentId(): string {
    return this.environment.ref;
  }

  /** The AppConfig environment id the degrade flags are deployed to (a deploy-time token). */
  public get degradeEnvironmentId(): string {
    return this.degradeEnvironment.ref;
  }

  /** Variables a function needs to find its configs (AppConfig ids; none of them changes when content changes). */
  public get environmentVariables(): { [key: string]: string } {
    return {
      [ENV.SERVICE]: this.serviceName,
      [ENV.APPCONFIG_APPLICATION]: this.applicationId,
      [ENV.APPCONFIG_ENVIRONMENT]: this.environment.ref,
      [ENV.CONFIG_PROFILE]: this.profile.ref,
      [ENV.DEGRADE_PROFILE]: this.degradeProfile.ref,
      [ENV.DEGRADE_ENVIRONMENT]: this.degradeEnvironment.ref,
      [CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT]: this.candidateEnvironment.ref,
    };
  }

  /**
   * Lets a principal read both configs of this service through the AppConfig data API or Lambda extension, and the
   * release config of the candidate environment (read only through the `gate` alias).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resourceArns: [
        this.configurationArn(this.environment, this.profile),
        this.configurationArn(this.degradeEnvironment, this.degradeProfile),
        this.configurationArn(this.candidateEnvironment, this.profile),
      ],
    });
  }

  /**
   * Lets a principal call the Bedrock models and guardrails this service's config can name. Deliberately not scoped
   * to today's model ids or guardrail: models and guardrails change through AppConfig, not IAM, and a config rollback
   * (or a client still on the previous version mid-canary) must still be allowed to call what that version names.
   *
   * - Models: foundation models in every Region, and the account's system-defined (`inference-profile/*`) and
   *   application (`application-inference-profile/*`) inference profiles in every Region. A cross-Region profile
   *   needs both the profile and the foundation model in each destination Region it routes to (Bedrock user guide,
   *   "Prerequisites for inference profiles").
   * - Guardrails: `bedrock:ApplyGuardrail` is granted always, whatever today's config says. The rule: a function can
   *   run every version of its release config that AppConfig can serve it — the current one, the one a rollback
   *   returns to, the one a client still holds mid-canary — and any of them may name a guardrail; a guardrail added or
   *   removed by a config change must never need an IAM change. The account's guardrails in the stack's Region, and
   *   its guardrail profiles in every Region: a guardrail with cross-Region inference needs the profile in each
   *   destination Region (Bedrock user guide, "Permissions for using cross-Region inference with Amazon Bedrock
   *   Guardrails").
   */
  public grantInvokeModels(grantee: iam.IGrantable): iam.Grant {
    return grantBedrockModels(Stack.of(this), grantee);
  }

  /**
   * Wires a function to this config: the environment variables the runtime (`lambda/runtime`) reads, read access,
   * and optionally the AppConfig Lambda extension. Deliberately no version label or content in the environment:
   * a config change must not create a new function version, or a prompt-only change would also trigger a code
   * deployment.
   */
  public bind(fn: lambda.Function, options: BindOptions = {}): void {
    const ttl = options.configTtl ?? Duration.seconds(5);
    const poll = options.extensionPollInterval ?? Duration.seconds(15);
    const ttlMs = ttl.toMilliseconds();
    if (ttlMs < 1000 || ttlMs > 300_000 || ttlMs % 1000 !== 0) {
      throw new Error(`configTtl must be whole seconds from 1 to 300, got ${ttl.toHumanString()}; it bounds how long a rolled-back config keeps being served`);
    }
    if (poll.toMilliseconds() < 15_000 || poll.toMilliseconds() % 1000 !== 0) {
      throw new Error(`extensionPollInterval must be whole seconds, at least 15 (AppConfig's minimum poll interval), got ${poll.toHumanString()}`);
    }
    for (const [k, v] of Object.entries(this.environmentVariables)) fn.addEnvironment(k, v);
    fn.addEnvironment(RUNTIME_ENV.CONFIG_TTL_SECONDS, String(ttl.toSeconds()));
    if (options.appConfigExtensionLayer) {
      fn.addLayers(options.appConfigExtensionLayer);
      // How often the extension polls AppConfig: with the TTL, the most a client lags a deployment or rollback.
      fn.addEnvironment(APPCONFIG_EXTENSION_ENV.POLL_INTERVAL_SECONDS, String(poll.toSeconds()));
      // Both profiles are fetched when the extension starts, before the function's init: the first invocation reads
      // them from the extension's cache instead of waiting on a cache miss. Comma-separated paths; ids, never names,
      // so no comma can appear inside one (AppConfig docs, "Configuring the AWS AppConfig Agent Lambda extension").
      fn.addEnvironment(APPCONFIG_EXTENSION_ENV.PREFETCH_LIST, this.prefetchPaths().join(','));
      const pollTimeoutMs = (options.extensionPollTimeout ?? Duration.millis(APPCONFIG_EXTENSION_DEFAULT_POLL_TIMEOUT_MS)).toMilliseconds();
      if (!Number.isInteger(pollTimeoutMs) || pollTimeoutMs < 100 || pollTimeoutMs > 60_000) {
        throw new Error(`extensionPollTimeout must be whole milliseconds from 100 to 60000, got ${pollTimeoutMs} ms`);
      }
      fn.addEnvironment(APPCONFIG_EXTENSION_ENV.POLL_TIMEOUT_MILLIS, String(pollTimeoutMs));
      // The read of both configs may wait for the extension's own fetch (its poll timeout), then the client's margin,
      // then a moment for the data API should the extension be unreachable.
      const readMs = pollTimeoutMs + 2 * APPCONFIG_EXTENSION_CLIENT_MARGIN_MS;
      fn.addEnvironment(RUNTIME_ENV.CONFIG_TIMEOUT_MS, String(readMs));
      const fnTimeoutMs = (fn.timeout ?? Duration.seconds(3)).toMilliseconds();
      if (fnTimeoutMs <= readMs + 1000) {
        Annotations.of(fn).addWarningV2(
          'cdk-ai-release:config-read-exceeds-function-timeout',
          `the config read of ${this.serviceName} may take up to ${readMs} ms (the extension's poll timeout ${pollTimeoutMs} ms plus margins), close to or over the function's timeout of ${fnTimeoutMs} ms; raise the function's timeout or lower extensionPollTimeout. The runtime never waits past the invocation's deadline, so a cold start would answer without a config.`,
        );
      }
    } else {
      fn.addEnvironment(RUNTIME_ENV.USE_EXTENSION, 'false');
    }
    this.grantRead(fn);
  }

  /**
   * The extension paths of both profiles, `/applications/<app>/environments/<env>/configurations/<profile>` (the
   * runtime's ExtensionFetcher reads the same paths): the release config in its environment, the degrade flags in theirs.
   */
  public prefetchPaths(): string[] {
    const path = (env: string, profile: string) => `/applications/${this.applicationId}/environments/${env}/configurations/${profile}`;
    return [path(this.environment.ref, this.profile.ref), path(this.degradeEnvironment.ref, this.degradeProfile.ref)];
  }

  /**
   * Adds an alarm that rolls back a release-config deployment of this service while it is in ALARM.
   * AppConfig also rolls back on INSUFFICIENT_DATA: alarms used here must treat missing data as not breaching.
   */
  public addMonitor(alarm: cloudwatch.IAlarm): void {
    if (this.monitors.length >= MAX_MONITORS) {
      throw new Error(
        `service "${this.serviceName}" already has ${MAX_MONITORS} AppConfig monitors, AppConfig's limit per environment; combine alarms into one composite alarm and add that`,
      );
    }
    this.monitors.push(alarm);
    // AppConfig checks the monitors from the first deployment on: the environment (and so every deployment into it)
    // must not exist before the role's policy does, or the first deployment could find the alarm unreadable.
    // The dependency on the role construct covers its DefaultPolicy resource.
    this.environment.node.addDependency(this.platform.monitorRole);
    this.deployment.node.addDependency(this.platform.monitorRole);
  }

  private renderMonitors(): appconfig.CfnEnvironment.MonitorProperty[] | undefined {
    if (this.monitors.length === 0) return undefined;
    return this.monitors.map((a) => ({ alarmArn: a.alarmArn, alarmRoleArn: this.platform.monitorRole.roleArn }));
  }

  private configurationArn(environment: appconfig.CfnEnvironment, profile: appconfig.CfnConfigurationProfile): string {
    return Stack.of(this).formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${this.applicationId}/environment/${environment.ref}/configuration/${profile.ref}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Grants a principal exactly the union of the IAM permissions the tools of this release config declare
   * (`tools.tools[].permissions.actions` on `.resources`), so a tool can do no more than its config says, and a
   * config change that widens a tool's permissions shows in the IAM diff of `cdk diff`. Limits: the grant changes
   * with the stack (a `cdk deploy`), not with an AppConfig deployment, and an AppConfig rollback of the config does
   * not revoke it. Wildcards are not acknowledged here: cdk-nag reports them, and a synth warning names each one
   * with the finding id to acknowledge if it is intended.
   */
  public grantToolPermissions(grantee: iam.IGrantable): iam.Grant {
    const tools = ((this.config.tools as { tools?: ToolConfig[] } | undefined)?.tools ?? []) as ToolConfig[];
    let grant: iam.Grant | undefined;
    for (const g of toolGrants(tools)) {
      const one = iam.Grant.addToPrincipal({ grantee, actions: [...g.actions], resourceArns: [...g.resources] });
      grant = grant ? grant.combine(one) : one;
    }
    const scope = Construct.isConstruct(grantee) ? grantee : this;
    for (const w of toolWildcards(tools)) {
      Annotations.of(scope).addWarningV2(
        w.warning,
        `tool "${w.tool}" of service "${this.serviceName}" declares a wildcard ${w.kind.toLowerCase()}, "${w.value}", and is granted it. cdk-nag reports ${w.finding}; if the wildcard is intended, acknowledge that id on the function${w.reason ? ` (the config's reason: "${w.reason}")` : ''}, else name the ${w.kind === 'Action' ? 'actions' : 'resources'} in the tools section.`,
      );
    }
    return grant ?? iam.Grant.drop(grantee, `no tool of ${this.serviceName} declares IAM permissions`);
  }
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

function shortId(hash: string, strategyKey: string): string {
  return contentHash({ hash, strategyKey }).slice(0, 8).toUpperCase();
}
