import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachCustomSynthesis, CfnOutput, CfnResource, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { canonicalJson, canonicalJsonPretty, sha256Hex } from '../../lambda/shared/canonical-json';
import {
  type GateServiceSettingsDocument,
  manifestParameterName as manifestParameterNameOf,
  RUNTIME_ENV,
  type ReleaseLocators,
  type ReleaseManifest,
} from '../../lambda/shared/contract';
import type { AiServiceConfig } from './ai-service-config';
import { compactManifest, computeReleaseManifest } from '../../lambda/shared/release-manifest';
import { checkedName } from '../private/physical-names';

/** SSM standard-tier parameter limit. */
const SSM_STANDARD_MAX = 4096;

export interface ReleaseManifestRecorderProps {
  /** The service's versioned config. */
  readonly config: AiServiceConfig;
  /**
   * The service's function; its deployed code's content hash becomes the `code` component.
   * @default no code component ("none")
   */
  readonly function?: lambda.IFunction;
  /**
   * Extra facts to record (owner, ticket, pipeline run…). Not part of the release id.
   * @default none
   */
  readonly facts?: { readonly [key: string]: string | number | boolean };
  /**
   * Where the deployed service's parts are (CodeDeploy group, AppConfig ids, store). Deploy-time values: only the
   * SSM copy carries them (CloudFormation resolves them there); the cdk.out file does not. The CLI's `status`,
   * `rollback` and `degrade` read them. Not part of the release id.
   * @default none (AiRelease passes its own)
   */
  readonly locators?: ReleaseLocators;
  /**
   * The service's regression gate settings, which a gate function shared by the platform's services reads from the
   * SSM copy (RegressionGate.settingsDocument). Literals, but for the share controller's name (`codeCanary`), which
   * CloudFormation resolves; not part of the release id.
   * @default none (AiRelease passes its gate's)
   */
  readonly gate?: GateServiceSettingsDocument;
}

/** Longest a deploy-time name can resolve to (CloudFormation stack names: 128), for the SSM size check. */
const TOKEN_MAX_CHARS = 128;

/**
 * Records what one release of a service is: writes `<service>.release-manifest.json` (with section content, for
 * line diffs) into the cloud assembly at synth, and keeps the compact manifest (labels and hashes) in an SSM
 * parameter, `/cdk-ai-release/<stack>/<service>/release-manifest`, where the next release reads what is deployed.
 * In a NestedStack, `<stack>` is the top-level stack's name followed by the nested stacks' construct ids
 * (`/cdk-ai-release/Parent/Services/<service>/release-manifest`): known before deployment, unlike the nested stack's
 * generated name, and unique in the account as long as top-level stack names are.
 */
export class ReleaseManifestRecorder extends Construct {
  /** Name of the SSM parameter holding the deployed (compact) manifest. */
  public readonly parameterName: string;
  public readonly parameter: ssm.StringParameter;
  /** File name of the manifest in the cloud assembly. */
  public readonly fileName: string;
  private readonly props: ReleaseManifestRecorderProps;
  private cached?: ReleaseManifest;

  constructor(scope: Construct, id: string, props: ReleaseManifestRecorderProps) {
    super(scope, id);
    this.props = props;
    const service = props.config.serviceName;
    const stack = Stack.of(this);
    this.fileName = `${service}.release-manifest.json`;
    this.parameterName = manifestParameterName(stack, service);

    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: this.parameterName,
      // The name starts with '/': say so, so the ARN never has to be guessed from a token (NestedStack names are).
      simpleName: false,
      description: `Deployed release manifest of AI service ${service} (cdk-ai-release)`,
      stringValue: Lazy.string({ produce: () => this.compactJson() }),
      tier: ssm.ParameterTier.STANDARD,
    });
    new CfnOutput(this, 'ReleaseId', {
      description: `Release id of ${service}: one hash over code, prompt, model, retrieval, tools and output contract`,
      value: Lazy.string({ produce: () => this.manifest.releaseId }),
    });

    // The runtime stamps this on every log line, so a log line names the same code hash as the manifest.
    // Duck-typed, not `instanceof lambda.Function`: the app's function may come from another copy of aws-cdk-lib
    // than the library's (a linked or workspace install), and `instanceof` is false across copies.
    if (hasAddEnvironment(props.function)) {
      props.function.addEnvironment(RUNTIME_ENV.CODE_HASH, Lazy.string({ produce: () => this.manifest.components.code.label }));
    }

    attachCustomSynthesis(this, {
      onSynthesize: (session) => {
        fs.writeFileSync(path.join(session.outdir, this.fileName), `${canonicalJsonPretty(this.manifest)}\n`);
      },
    });
  }

  /** The manifest, computed once the code is known (at synth). */
  public get manifest(): ReleaseManifest {
    this.cached ??= computeReleaseManifest({
      service: this.props.config.serviceName,
      config: this.props.config.config,
      code: this.props.function ? codeHash(this.props.function) : undefined,
      configLabel: this.props.config.versionLabel,
      degradeLabel: this.props.config.degradeLabel,
      facts: { stack: Stack.of(this).stackName, configRollout: this.props.config.rollout.describe(), ...this.props.facts },
    });
    return this.cached;
  }

  /** Lets a principal read the deployed manifest (CI reading the previous release, for instance). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.parameter.grantRead(grantee);
  }

  private compactJson(): string {
    const locators = this.props.locators;
    const gate = this.props.gate;
    const json = canonicalJson({ ...compactManifest(this.manifest), ...(locators ? { locators } : {}), ...(gate ? { gate } : {}) });
    // Tokens in the locators (and the gate block's share controller) resolve at deploy time: count each at the
    // longest it can become.
    const tokens = [...(locators ? tokenStrings(locators) : []), ...(gate ? tokenStrings(gate) : [])];
    const bound = json.length + tokens.reduce((n, t) => n + Math.max(0, TOKEN_MAX_CHARS - t.length), 0);
    if (bound > SSM_STANDARD_MAX) {
      throw new Error(
        `the compact release manifest of "${this.props.config.serviceName}" can reach ${bound} characters, over SSM's ${SSM_STANDARD_MAX}; shorten the facts passed to ReleaseManifestRecorder`,
      );
    }
    return json;
  }
}

/**
 * The `<stack path>` of `/cdk-ai-release/<stack path>/<service>/release-manifest`. A nested stack's own name is a
 * deploy-time token with a random suffix, so its parameter would be unfindable (and CDK cannot tell the ARN separator
 * of a token name): use the top-level stack's name and the nested stacks' construct ids instead.
 */
export function manifestStackPath(stack: Stack): string {
  const parts: string[] = [];
  let s: Stack = stack;
  while (s.nestedStackParent) {
    parts.unshift(s.node.id);
    s = s.nestedStackParent;
  }
  parts.unshift(s.stackName);
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '-')).join('/');
}

/** `/cdk-ai-release/<stack path>/<service>/release-manifest` (see manifestStackPath). */
export function manifestParameterName(stack: Stack, service: string): string {
  return checkedName('ssmParameter', manifestParameterNameOf(manifestStackPath(stack), service));
}

function tokenStrings(value: unknown): string[] {
  if (typeof value === 'string') return Token.isUnresolved(value) ? [value] : [];
  if (value && typeof value === 'object') return Object.values(value).flatMap(tokenStrings);
  return [];
}

function hasAddEnvironment(fn: lambda.IFunction | undefined): fn is lambda.Function {
  return typeof (fn as Partial<lambda.Function> | undefined)?.addEnvironment === 'function';
}

/** Content hash of a function's deployed code: the asset hash for S3 code, a hash of inline code or image URI. */
export function codeHash(fn: lambda.IFunction): { hash: string; label?: string } {
  const cfn = fn.node.defaultChild;
  // `CfnResource.isCfnResource` and the resource type, not `instanceof lambda.CfnFunction`, which is false when the
  // function comes from another copy of aws-cdk-lib than the library's.
  if (!CfnResource.isCfnResource(cfn) || cfn.cfnResourceType !== lambda.CfnFunction.CFN_RESOURCE_TYPE_NAME) {
    throw new Error(`cannot read the code of ${fn.node.path}: pass a lambda.Function (or NodejsFunction) defined in this app, not an imported one`);
  }
  const code = Stack.of(fn).resolve((cfn as lambda.CfnFunction).code) as {
    s3Key?: unknown;
    zipFile?: unknown;
    imageUri?: unknown;
    S3Key?: unknown;
    ZipFile?: unknown;
    ImageUri?: unknown;
  };
  const s3Key = code.s3Key ?? code.S3Key;
  if (typeof s3Key === 'string') {
    const hash = path.basename(s3Key).replace(/\.(zip|jar)$/, '');
    if (/^[0-9a-f]{64}$/.test(hash)) return { hash };
    return { hash: sha256Hex(s3Key) };
  }
  const inline = code.zipFile ?? code.ZipFile;
  if (typeof inline === 'string') return { hash: sha256Hex(inline) };
  const image = code.imageUri ?? code.ImageUri;
  return { hash: sha256Hex(canonicalJson(image ?? code)) };
}
