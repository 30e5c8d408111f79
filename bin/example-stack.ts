import * as path from 'node:path';
import { Annotations, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  AiRelease,
  type AiReleaseProps,
  type AssignedConfigCanaryOptions,
  type PlaneAlarmWindow,
  ReleaseConfigSource,
  restrictKeyGrantsToAwsServices,
  type ToolConfig,
  TrafficShift,
  toolWildcards,
} from '../lib';

export interface ExampleStackProps extends StackProps {
  /** Where the assistant's release config lives. @default example/support-assistant/release-config */
  readonly configDir?: string;
  /**
   * How config canaries reach traffic (AiReleaseProps.configCanary). `'appconfig'` gives AppConfig's own rollout back.
   * @default EXAMPLE_CONFIG_CANARY: assigned per conversation, the canary plan's schedule cut to the config plane's budget
   */
  readonly configCanary?: AiReleaseProps['configCanary'];
  /**
   * The code plane's traffic shift. @default `TrafficShift.linear(5, Duration.minutes(3))`, the canary plan's schedule
   * at 5 requests/s: with the release config's pairing rate (evaluation.paired.samplingRate 0.1) it catches a canary
   * that loses 60 % of pairs before full rollout (bench/RESULTS.md § h8-period). Its 5 % steps get 60-second periods
   * on the code plane; the config plane keeps its own (10 s, the whole service's traffic).
   */
  readonly trafficShift?: TrafficShift;
  /**
   * The code plane's M of N (`alarms.code`). @default 2 of 2: the first 3-minute step of the linear schedule must hold
   * (M + 1) x 60 s, and 2 of 2 keeps the combined code-plane alarm's false fire under 1 % (bench/RESULTS.md § h8-period)
   */
  readonly codeAlarmWindow?: PlaneAlarmWindow;
  /** The config plane's window (`alarms.config`). @default 3 of 3, the period chosen from the whole service's traffic (10 s) */
  readonly configAlarmWindow?: PlaneAlarmWindow;
  /** How the guardrails become alarms (ReleaseAlarmOptions.layout). @default AiRelease's default ('combined') */
  readonly alarmLayout?: 'combined' | 'perMetric';
}

/** The example's code schedule: the canary plan's at its stated 5 requests/s. */
export const EXAMPLE_TRAFFIC_SHIFT = TrafficShift.linear(5, Duration.minutes(3));
/** The example's code-plane M of N: (2 + 1) x 60 s fit the linear schedule's first 3-minute step. */
export const EXAMPLE_CODE_ALARM_WINDOW: PlaneAlarmWindow = { datapointsToAlarm: 2, evaluationPeriods: 2 };
/**
 * The example's config canary: assigned per conversation (its function runs the library's runtime, which reads the
 * share, and a support chat is the conversational case docs/config-canary.md recommends it for). The canary plan's
 * shape, a 10 % safety step then the balanced 50 % step, within what the config plane's time budget holds: 50 minutes
 * inside CloudFormation's hour (a custom resource's ServiceTimeout is 1 to 3,600 s, AWS::CloudFormation::CustomResource
 * in the CloudFormation Template Reference) less the candidate stage (60 s), the config gate's timeout (300 s), 120 s
 * for a running deployment and the controller's looks, promotion and client lag (260 s): 2,260 s of holds. The
 * uncapped plan, 10 % for 5 min then 50 % for 55 min, is refused at synth. The safety step is the library's 2 minutes,
 * not the capped plan's 5, so the balanced step gets 35 of the 37 minutes: a canary losing 60 % of its pairs is caught
 * before promotion 62.1 % of the time at the code plane's pairing rate 0.1 (bench/RESULTS.md § h12-assigned), so the
 * release config pairs config canaries at their own rate, evaluation.paired.configSamplingRate 0.2: 97.5 % (one-sided
 * 95 % lower bound 96.5 %), about 16 USD per config release within the 20 USD budget, code releases unchanged at 0.1
 * (bench/RESULTS.md § h12-pairplane).
 */
export const EXAMPLE_CONFIG_CANARY: AssignedConfigCanaryOptions = {
  schedule: [
    { percent: 10, holdSeconds: 120 },
    { percent: 50, holdSeconds: 2100 },
  ],
};

/** The example: an answering assistant over a small knowledge base, released with cdk-ai-release. */
export class ExampleStack extends Stack {
  public readonly release: AiRelease;
  public readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);
    const root = path.join(__dirname, '..');

    // Logs carry (redacted) questions and failure records: encrypt them with a key we control, keep them a year.
    const logKey = new kms.Key(this, 'LogKey', { enableKeyRotation: true, description: 'Encrypts the AI service logs' });
    logKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` } },
      }),
    );
    restrictKeyGrantsToAwsServices(logKey);

    this.fn = new nodejs.NodejsFunction(this, 'SupportAssistant', {
      entry: path.join(root, 'lambda/support-assistant/handler.ts'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      description: 'Example AI service: answers support questions from a small knowledge base with Amazon Bedrock',
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: new logs.LogGroup(this, 'SupportAssistantLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: logKey }),
      bundling: { minify: true, sourceMap: false, target: 'node24', externalModules: ['@aws-sdk/*'] },
    });

    // The AppConfig Lambda extension layer ARN is per region and architecture: pass it with
    // `-c appConfigExtensionLayerArn=arn:aws:lambda:<region>:<account>:layer:AWS-AppConfig-Extension-Arm64:<n>`.
    // Without it the runtime reads configs through the AppConfig data API.
    const layerArn = this.node.tryGetContext('appConfigExtensionLayerArn') as string | undefined;

    this.release = new AiRelease(this, 'SupportAssistantRelease', {
      serviceName: 'support-assistant',
      function: this.fn,
      config: ReleaseConfigSource.fromDirectory(props.configDir ?? path.join(root, 'example/support-assistant/release-config')),
      // The canary plan's schedule at 5 requests/s (a 60 % pair loss caught before full rollout, bench/RESULTS.md
      // § h8-period). Its 5 % steps get 60-second alarm periods on the code plane only: the config plane's alarms watch
      // the whole service and keep 10-second ones (each plane's period is chosen from the traffic its alarms see).
      trafficShift: props.trafficShift ?? EXAMPLE_TRAFFIC_SHIFT,
      // Typical traffic: the release policy checks each plane's alarms get enough requests to be judged.
      expectedRequestsPerSecond: 5,
      // The fixed thresholds are the safety net for gross failures; the canary judge (on by default) catches the
      // subtler regressions with a bounded false-rollback chance. At 5 requests/s and these base rates, the defaults
      // (5 %, 2 %, 2 %) would roll back a good release 7–23 % of the time (policy rule "alarm-false-fire"); these
      // keep each guardrail alone under 1 % per release (safety 3 %: the default 1 % would roll back 8.9 % of good
      // releases at a 0.1 % base rate on the planned 57-minute linear shift). One combined alarm per plane (the
      // default layout) counts a period toward M of N when ANY guardrail breaches in it (policy rule "alarm-false-fire").
      baseRates: { errorRate: 0.01, contractRate: 0.005 },
      alarms: {
        maxErrorRate: 0.1,
        maxContractViolationRate: 0.08,
        maxCanaryErrorRateDelta: 0.08,
        maxSafetyViolationRate: 0.03,
        // 3 of 3 periods: the combined alarm counts a period when ANY guardrail breaches, so 2 of 3 would roll back
        // good releases far more often (4.4 % on the code plane at 30-second periods). The code plane takes 2 of 2
        // (codeAlarmWindow): its 60-second periods must trip within the first 3-minute step.
        datapointsToAlarm: 3,
        evaluationPeriods: 3,
        code: props.codeAlarmWindow ?? EXAMPLE_CODE_ALARM_WINDOW,
        ...(props.configAlarmWindow ? { config: props.configAlarmWindow } : {}),
        ...(props.alarmLayout ? { layout: props.alarmLayout } : {}),
      },
      owner: 'support-ai team',
      onCall: 'support-ai-oncall (pager)',
      // Graded degradation: a cost spike switches the assistant to its cheaper fallback model.
      costGuard: {},
      appConfigExtensionLayer: layerArn ? lambda.LayerVersion.fromLayerVersionArn(this, 'AppConfigExtension', layerArn) : undefined,
      configCanary: props.configCanary ?? EXAMPLE_CONFIG_CANARY,
    });

    acknowledgeExampleFindings(this);
  }
}

/** Findings the example accepts, each with the reason a reviewer would want. */
function acknowledgeExampleFindings(stack: ExampleStack) {
  // The library grants the tools' declared permissions and never acknowledges their wildcards: the example accepts
  // its own here. The order tool's table is named, but the example deploys to any account and region.
  const tools = (stack.release.config.config.tools as { tools?: ToolConfig[] } | undefined)?.tools ?? [];
  for (const w of toolWildcards(tools)) {
    const reason = `Example tool "${w.tool}": ${w.reason ?? 'its table is named, but the example deploys to any account and region, so both are wildcards.'}`;
    Validations.of(stack.fn).acknowledge({ id: w.finding, reason });
    Annotations.of(stack.fn).acknowledgeWarning(w.warning, reason);
  }
  Validations.of(stack.fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "AWSLambdaBasicExecutionRole only lets the function write its own logs; it is AWS's maintained minimum for Lambda.",
    },
    {
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'The assistant reaches only AWS APIs (Bedrock, AppConfig) over TLS with IAM auth and holds no network-reachable data; a VPC would add NAT or interface endpoints and cold-start cost for no isolation gain. Teams whose policy requires a VPC pass vpc/vpcSubnets to their own function.',
    },
  );
}
