import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { canonicalJson, contentHash } from '../../lambda/shared/canonical-json';
import { CONFIG_GATE_ENV, ENV, RELEASE_META_KEY, SHORT_HASH_LENGTH } from '../../lambda/shared/contract';
import { AiReleasePlatform } from '../ai-release-platform';
import type { AiServiceConfigProps, ConnectGateOptions } from './ai-service-config-props';
import { ConfigGateCheck } from '../learning/config-gate-check';
import { ConfigRollout } from '../rollout/config-rollout';
import type { ReleaseConfigDeployment } from '../rollout/config-deployment';
import { buildConfigDeployments } from './config-deployments';
import { ConfigEnvironments } from './config-environments';
import { grantConfigRead, grantToolPermissions } from './config-grants';
import { buildConfigProfiles } from './config-profiles';
import { checkServiceNames, validateServiceConfig } from './config-validation';
import { type BindOptions, bindFunction } from './function-binding';
import { grantBedrockModels } from './model-grants';
import type { ModelFinding } from './model-lifecycle';
import type { ConfigProblem } from './private/config-problem';
import { degradeFlagsDocument, type DegradeFlagState } from './private/degrade-flags';

// The props and options live with their parts; re-exported here, where they always were.
export type { AiServiceConfigProps, ConnectGateOptions } from './ai-service-config-props';
export type { BindOptions } from './function-binding';
export type { DegradeFlagState } from './private/degrade-flags';

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

  private readonly environments: ConfigEnvironments;

  constructor(scope: Construct, id: string, props: AiServiceConfigProps) {
    super(scope, id);
    const prefix = props.versionLabelPrefix ?? 'cfg';
    checkServiceNames(props.serviceName, prefix);
    this.serviceName = props.serviceName;
    this.platform = props.platform ?? AiReleasePlatform.of(this);
    this.rollout = props.rollout ?? ConfigRollout.DEFAULT;
    this.degradeState = props.degrade ?? {};

    // Validate everything first, and report every problem at once (config-validation.ts).
    const v = validateServiceConfig(this, {
      serviceName: this.serviceName,
      prefix,
      source: props.source,
      maxContentBytes: props.maxContentBytes,
      degradeState: this.degradeState,
      modelLifecycle: props.modelLifecycle,
    });
    this.problems = v.problems;
    this.config = v.config;
    this.modelFindings = v.modelFindings;
    this.contentHash = v.contentHash;
    this.versionLabel = v.meta.label;
    const degradeDoc = degradeFlagsDocument(this.degradeState);
    const degradeHash = contentHash(degradeDoc);
    this.degradeLabel = `degrade-${degradeHash.slice(0, SHORT_HASH_LENGTH)}`;

    // Where: the application and the live, degrade and candidate environments (config-environments.ts).
    this.environments = new ConfigEnvironments(this, this.serviceName, this.platform);
    this.application = this.environments.application;
    this.applicationId = this.application.ref;
    this.environment = this.environments.environment;
    this.degradeEnvironment = this.environments.degradeEnvironment;
    this.candidateEnvironment = this.environments.candidateEnvironment;

    // What: both profiles, their hosted versions and the versions' history and cleanup (config-profiles.ts).
    const profiles = buildConfigProfiles(this, {
      serviceName: this.serviceName,
      platform: this.platform,
      applicationId: this.applicationId,
      releaseContent: canonicalJson({ ...v.config, [RELEASE_META_KEY]: v.meta }),
      versionLabel: this.versionLabel,
      degradeContent: canonicalJson(degradeDoc),
      degradeLabel: this.degradeLabel,
      historyPolicy: props.versionHistoryRemovalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.profile = profiles.profile;
    this.hostedVersion = profiles.hostedVersion;
    this.degradeProfile = profiles.degradeProfile;
    this.degradeVersion = profiles.degradeVersion;

    // How: the degrade flags at once, the release config through its rollout (config-deployments.ts).
    const deployments = buildConfigDeployments(this, {
      serviceName: this.serviceName,
      platform: this.platform,
      applicationId: this.applicationId,
      environments: this.environments,
      profiles,
      rollout: this.rollout,
      versionLabel: this.versionLabel,
      degradeLabel: this.degradeLabel,
      degradeHash,
    });
    this.degradeDeployment = deployments.degradeDeployment;
    this.deployment = deployments.deployment;
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
    this.deployment.connectGate({ function: gate, timeout, ...(options.settingsParameter ? { settingsParameter: options.settingsParameter } : {}) });
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
    return grantConfigRead(this, grantee);
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
    bindFunction(this, fn, options);
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
    this.environments.addMonitor(alarm);
    // Every deployment into the environment waits for the monitor role's policy too (ConfigEnvironments.addMonitor).
    this.deployment.node.addDependency(this.platform.monitorRole);
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
    return grantToolPermissions(this, grantee);
  }
}
