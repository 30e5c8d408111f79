import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { GATE_CHECK_ENV, GATE_CHECK_PARAMETER, STORE_PREFIX } from '../../lambda/shared/contract';
import type { AiReleasePlatform } from '../ai-release-platform';
import { libraryFunction } from '../private/library-function';
import { platformRole } from '../private/platform-role';
import { invokeOnly, addPlatformReleaseAction, type ReleaseAction } from '../config/release-extension';

/** The gate check function's timeout: its 2 s answer budget (lambda/config-gate-check/check.ts) plus a margin. */
export const CHECK_TIMEOUT_SECONDS = 3;

export interface ConfigGateCheckProps {
  readonly platform: AiReleasePlatform;
  readonly serviceName: string;
  /** The live environment: the one the check guards. Never the degrade environment (switches stay ungated). */
  readonly environment: appconfig.CfnEnvironment;
  /** The release config profile, the only one the live environment serves. */
  readonly profile: appconfig.CfnConfigurationProfile;
  /** The regression store holding gates/<service>/config-<version>.json. */
  readonly bucket: s3.IBucket;
}

/**
 * The live environment of one service refuses any release config version without a passing config-gate record
 * (lambda/config-gate-check): the PRE_START_DEPLOYMENT action of the platform's release extension, run by the live
 * environment's one association (config/release-extension.ts), which also carries the judge's tick and the review. So a deployment started from the console or the CLI cannot skip
 * the gate that `cdk deploy` runs; versions the environment already served stay deployable (a stack rollback).
 */
export class ConfigGateCheck extends Construct {
  /**
   * The platform's gate check function and the role AppConfig assumes to invoke it (one for every service; the
   * association names the service). Its action is one of the platform's release actions (config/release-extension.ts).
   */
  public static functionOf(platform: AiReleasePlatform, bucket: s3.IBucket): { function: lambda.Function; role: iam.IRole } {
    const existingFn = platform.node.tryFindChild('ConfigGateCheck') as lambda.Function | undefined;
    const existingRole = platform.node.tryFindChild('ConfigGateCheckRole') as iam.Role | undefined;
    if (existingFn && existingRole) {
      if (CHECK_BUCKET.get(existingFn) !== bucket) {
        throw new Error('every service of a platform must keep its gate reports in the same regression store: the gate check reads one bucket');
      }
      return { function: existingFn, role: existingRole };
    }
    const fn = libraryFunction(platform, 'ConfigGateCheck', {
      handler: 'config-gate-check',
      // Synchronous on the deployment's start, which AppConfig waits for only a few seconds: the check answers within
      // its 2 s budget (CHECK_BUDGET_MS, check.ts) and the timeout leaves room for the log line, not for more work.
      timeout: Duration.seconds(CHECK_TIMEOUT_SECONDS),
      description: 'cdk-ai-release: refuses a release config version without a passing config gate record (AppConfig PRE_START_DEPLOYMENT)',
      environment: { [GATE_CHECK_ENV.BUCKET]: bucket.bucketName },
    });
    CHECK_BUCKET.set(fn, bucket);
    // Read the gate reports only, and list the bucket so a missing record answers 404, not 403 (S3 API reference,
    // GetObject permissions); Decrypt on the store's key when it is KMS-encrypted.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${STORE_PREFIX.GATES}/*`)] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    bucket.encryptionKey?.grantDecrypt(fn);
    // The role AppConfig assumes to run the action (AppConfig User Guide, "Configuring permissions for a custom AWS
    // AppConfig extension"): lambda:InvokeFunction, which PRE_* action points use (they are synchronous).
    // Inline, not a policy resource of its own (one fewer resource; the policy exists with the role).
    const role = new iam.Role(platform, 'ConfigGateCheckRole', {
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      description: 'Lets AppConfig invoke the config gate check before a deployment to a live environment starts',
      inlinePolicies: invokeOnly(fn, ['lambda:InvokeFunction']),
    });
    const stack = Stack.of(platform);
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the gate check write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: 'The gate check calls only S3 and the AppConfig API, over TLS with IAM auth; it holds no data and needs no network isolation.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${STORE_PREFIX.GATES}/*]`,
        reason: 'Gate report keys are chosen at run time (service and config version); the wildcard is limited to the gates/ prefix of the regression store.',
      },
    );
    return { function: fn, role };
  }

  /** The live environment's one association with the platform's release extension (shared with the tick and the review). */
  public readonly association: appconfig.CfnExtensionAssociation;
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: ConfigGateCheckProps) {
    super(scope, id);
    const { platform } = props;
    const stack = Stack.of(this);
    const { function: fn, role } = ConfigGateCheck.functionOf(platform, props.bucket);
    this.function = fn;
    const envArn = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${props.environment.applicationId}/environment/${props.environment.ref}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // PRE_START_DEPLOYMENT on the live environment's one association with the platform's release extension: an
    // error or a refusal here prevents the deployment (AppConfig User Guide, custom extensions: PRE_* action points).
    this.association = addPlatformReleaseAction(platform, props.environment, gateCheckAction(fn, role), {
      [GATE_CHECK_PARAMETER.SERVICE]: props.serviceName,
      [GATE_CHECK_PARAMETER.PROFILE]: props.profile.ref,
    }).association;
    // The deployment history of this live environment (versions already served stay deployable). Resource types
    // from the Service Authorization Reference: ListDeployments needs application and environment; GetDeployment
    // also the deployment.
    const appArn = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: props.environment.applicationId,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // From a service in another stack, this grant lives in that stack (platform-role.ts).
    platformRole(this, fn).addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['appconfig:ListDeployments', 'appconfig:GetDeployment'], resources: [appArn, envArn, `${envArn}/deployment/*`] }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(platform.applicationOf(props.environment))}>/environment/<${stack.getLogicalId(props.environment)}>/deployment/*]`,
      reason: 'Deployment numbers are assigned by AppConfig; the wildcard covers the deployments of one live release-config environment, read only.',
    });
  }
}

const CHECK_BUCKET = new WeakMap<lambda.IFunction, s3.IBucket>();

/** The gate check as a release action: PRE_START_DEPLOYMENT, synchronous, reading `service` and `profile`. */
function gateCheckAction(fn: lambda.IFunction, role: iam.IRole): ReleaseAction {
  return {
    kind: 'config-gate-check',
    points: ['PRE_START_DEPLOYMENT'],
    name: 'config-gate-check',
    description: 'Refuse versions without a passing config gate record',
    function: fn,
    role,
    parameters: {
      [GATE_CHECK_PARAMETER.SERVICE]: { required: true, description: 'The AI service whose live environment this association serves' },
      [GATE_CHECK_PARAMETER.PROFILE]: { required: true, description: 'The release config profile id: the only profile of that environment' },
    },
  };
}
