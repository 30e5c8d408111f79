import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { appConfigReadStatement } from '../config/config-grants';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULT_SHARE_SCHEDULE, formatSchedule, type ShareStep, validateSchedule } from '../../lambda/share-controller/controller';
import { APPCONFIG_EXTENSION_ENV, JUDGE_STATE_PREFIX, LEARNING_ENV, SHARE_CONTROLLER_ENV, SHARE_ENV, SHARE_STATE_PREFIX } from '../../lambda/shared/contract';
import { canonicalJson } from '../../lambda/shared/canonical-json';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiServiceConfig } from '../config/ai-service-config';
import type { RegressionGate } from '../learning/regression-gate';
import { libraryFunction } from '../private/library-function';
import { ReleaseConfigDeployment } from './config-deployment';
import { ConfigRollout } from './config-rollout';

/** The share document's schema, as AppConfig validates every version the controller creates. */
const SHARE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['schemaVersion', 'releaseKey', 'share'],
  properties: {
    schemaVersion: { const: 1 },
    releaseKey: { type: 'string', maxLength: 200 },
    share: { type: 'number', minimum: 0, maximum: 1 },
    candidateContentHash: { type: 'string' },
    candidateVersion: { type: 'string' },
    candidateLabel: { type: 'string' },
    step: { type: 'integer', minimum: 0 },
    at: { type: 'string' },
    history: { type: 'array', maxItems: 50, items: { type: 'object', required: ['at', 'share'] } },
    codeCanary: {
      type: 'object',
      required: ['functionVersion', 'releaseKey', 'at', 'until'],
      properties: {
        functionVersion: { type: 'string', pattern: '^[0-9]+$' },
        releaseKey: { type: 'string', maxLength: 200 },
        at: { type: 'number' },
        until: { type: 'number' },
      },
    },
  },
};

/** The client lag promotion waits by default: AiServiceConfig.bind's 15 s extension poll plus the runtime's 5 s TTL. */
export const DEFAULT_CLIENT_LAG_SECONDS = 20;

/** How often the controller looks (its EveryMinute rule). */
const LOOK_SECONDS = 60;

/**
 * What one assigned release takes beyond its steps' holds, seconds: up to one look per step to notice it ended, a look
 * to see the promotion COMPLETE, the client lag, and the look that sets the share to 0.
 */
export function shareOverheadSeconds(steps: number, clientLagSeconds: number): number {
  return steps * LOOK_SECONDS + LOOK_SECONDS + clientLagSeconds + LOOK_SECONDS;
}

export interface ConfigShareProps {
  readonly platform: AiReleasePlatform;
  /** The service's config: its live and candidate environments and release profile. */
  readonly config: AiServiceConfig;
  /** The safety net: any of these in ALARM sets the share to 0 (INSUFFICIENT_DATA does not). */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** Where the controller keeps its records and reads the judge's: the regression store. */
  readonly bucket: s3.IBucket;
  /**
   * The candidate's share, step by step; the share only grows. After the last step the candidate is promoted.
   * @default 10 % for 2 minutes (the safety step), then 50 % for 5 minutes (the balanced step), then promotion
   */
  readonly schedule?: readonly ShareStep[];
  /**
   * The longest a client lags a deployment: the extension's poll interval plus the runtime's config TTL. Promotion
   * waits this long after the live deployment completes before setting the share to 0, so no conversation on the
   * candidate is served the previous live config meanwhile.
   * @default 20 seconds (AiServiceConfig.bind's defaults: 15 s poll, 5 s TTL)
   */
  readonly clientLag?: Duration;
}

/**
 * The assigned config canary of one service (issue 16 C): the switch and the controller that moves it.
 *
 * - The switch: a JSON share document `{ releaseKey, share, candidateContentHash, history }` in an AppConfig
 *   environment of its own (`<service>-share`), with no monitors and nothing else deployed to it. AppConfig runs one
 *   deployment at a time per environment: here the only deployments are the controller's, instant (no growth, no
 *   bake), so a share move is never blocked by a release-config rollout, a degrade switch or an alarm, and rollback is
 *   one instant deployment of share 0, effective at each client's next poll.
 * - The controller (lambda/share-controller): one look a minute and at every state change of a safety-net alarm
 *   (EventBridge); it advances the share when a step has been held, sets it to 0 on an alarm in ALARM or the judge's
 *   regression, and promotes after the last step (the passed version to the live environment, instantly, then share 0).
 * - The runtime (AssigningRuntime) reads the share with the other profiles and assigns each conversation by a keyed
 *   hash; `bind(fn)` gives it the environment and the read access.
 */
export class ConfigShare extends Construct {
  public readonly environment: appconfig.CfnEnvironment;
  public readonly profile: appconfig.CfnConfigurationProfile;
  public readonly initialDeployment: appconfig.CfnDeployment;
  public readonly function: lambda.Function;
  public readonly schedule: readonly ShareStep[];
  /** The rule that runs the controller on every state change of a safety-net alarm. */
  public readonly alarmRule: events.Rule;
  /**
   * In ALARM when a look of the controller fails (its function's Errors): during a ramp the controller is what rolls
   * the share back, so a controller that cannot look pages through the platform's topic.
   */
  public readonly failingAlarm: cloudwatch.Alarm;
  /**
   * The longest one release through the controller takes, seconds: each step's hold plus up to one look (a minute)
   * to notice it ended, then the promotion (its live deployment is instant: seen COMPLETE at the next look), the
   * client lag, and the look that sets the share to 0. The config deployer counts it in the config plane's budget.
   */
  public readonly longestReleaseSeconds: number;
  /** The client lag promotion waits before the share goes back to 0, seconds. */
  public readonly clientLagSeconds: number;
  private readonly props: ConfigShareProps;

  constructor(scope: Construct, id: string, props: ConfigShareProps) {
    super(scope, id);
    this.props = props;
    const { platform, config } = props;
    const stack = Stack.of(this);
    this.schedule = props.schedule ?? DEFAULT_SHARE_SCHEDULE;
    try {
      validateSchedule(this.schedule);
    } catch (e) {
      throw new Error(`ConfigShare of ${config.serviceName}: ${(e as Error).message}`);
    }
    const lag = (props.clientLag ?? Duration.seconds(DEFAULT_CLIENT_LAG_SECONDS)).toSeconds();
    this.clientLagSeconds = lag;
    this.longestReleaseSeconds = this.schedule.reduce((t, step) => t + step.holdSeconds, 0) + shareOverheadSeconds(this.schedule.length, lag);
    if (props.alarms.length === 0)
      throw new Error(`ConfigShare of ${config.serviceName}: give at least one safety-net alarm, or nothing can roll the share back`);
    const applicationId = platform.applicationId;

    this.environment = new appconfig.CfnEnvironment(this, 'Environment', {
      applicationId,
      name: `${config.serviceName}-share`,
      description: `Canary share of AI service ${config.serviceName}: moved only by its share controller, instantly; no monitors, so nothing blocks a rollback`,
    });
    this.profile = new appconfig.CfnConfigurationProfile(this, 'Profile', {
      applicationId,
      name: `${config.serviceName}-share`,
      locationUri: 'hosted',
      type: 'AWS.Freeform',
      description: `Which share of ${config.serviceName}'s conversations runs on the candidate release config`,
      validators: [{ type: 'JSON_SCHEMA', content: JSON.stringify(SHARE_SCHEMA) }],
    });
    // No release at first. A constant resource: later stack updates never redeploy it over the controller's shares.
    const initial = new appconfig.CfnHostedConfigurationVersion(this, 'NoRelease', {
      applicationId,
      configurationProfileId: this.profile.ref,
      content: canonicalJson({ schemaVersion: 1, releaseKey: '', share: 0 }),
      contentType: 'application/json',
      description: `${config.serviceName}: no assigned config canary`,
    });
    // The controller writes a hosted version of this profile on every move of the share, outside CloudFormation, and
    // AppConfig refuses to delete a profile that still has hosted versions ("Cannot delete configuration profile
    // because there are still hosted configuration versions existing under it", aws/aws-cdk#26804). So its versions
    // go with the stack through the deployer's version cleanup, whatever the release config's history policy: the
    // share is the controller's working state, not history (test/destroy-order.test.ts).
    const cleanup = ReleaseConfigDeployment.versionCleanup(this, 'ShareVersions', platform, [this.profile]);
    initial.node.addDependency(cleanup);
    const instant = platform.strategyFor(ConfigRollout.INSTANT);
    this.initialDeployment = new appconfig.CfnDeployment(this, 'NoReleaseDeployment', {
      applicationId,
      environmentId: this.environment.ref,
      configurationProfileId: this.profile.ref,
      configurationVersion: initial.attrVersionNumber,
      deploymentStrategyId: instant.ref,
      description: `${config.serviceName}: no assigned config canary`,
    });

    const alarmNames = props.alarms.map((a) => a.alarmName);
    this.function = libraryFunction(this, 'Controller', {
      handler: 'share-controller',
      timeout: Duration.seconds(60),
      description: `cdk-ai-release: moves the assigned config canary share of ${config.serviceName} (rollback: share 0; promotion: live, then share 0)`,
      environment: {
        [SHARE_CONTROLLER_ENV.SERVICE]: config.serviceName,
        [SHARE_CONTROLLER_ENV.APPLICATION]: applicationId,
        [SHARE_CONTROLLER_ENV.SHARE_ENVIRONMENT]: this.environment.ref,
        [SHARE_CONTROLLER_ENV.SHARE_PROFILE]: this.profile.ref,
        [SHARE_CONTROLLER_ENV.LIVE_ENVIRONMENT]: config.environment.ref,
        [SHARE_CONTROLLER_ENV.CONFIG_PROFILE]: config.profile.ref,
        [SHARE_CONTROLLER_ENV.STRATEGY]: instant.ref,
        [SHARE_CONTROLLER_ENV.ALARMS]: alarmNames.join(','),
        [SHARE_CONTROLLER_ENV.SCHEDULE]: formatSchedule(this.schedule),
        [SHARE_CONTROLLER_ENV.CLIENT_LAG_SECONDS]: String(lag),
        [LEARNING_ENV.BUCKET]: props.bucket.bucketName,
      },
    });
    // One look at a time: two looks racing could both advance the share (a step skipped) or promote twice. Lambda
    // reserves concurrency only up to the account's unreserved concurrency less 100, so an account still on the
    // reduced quota of a new account refuses this at create ("decreases account's UnreservedConcurrentExecution below
    // its minimum value"): docs/config-canary.md states the prerequisite.
    const cfnFn = this.function.node.defaultChild as lambda.CfnFunction;
    cfnFn.reservedConcurrentExecutions = 1;
    // Lambda's own asynchronous retries (2 on a function error) and event age (6 hours) apply beside the rules' delivery
    // policy: a failed or throttled look must not run again later on old news; the next minute's look supersedes it
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html).
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });

    const fn = this.function;
    const arn = (resourceName: string) =>
      stack.formatArn({
        service: 'appconfig',
        resource: 'application',
        resourceName: `${applicationId}${resourceName}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const appArn = arn('');
    const shareEnvArn = arn(`/environment/${this.environment.ref}`);
    const liveEnvArn = arn(`/environment/${config.environment.ref}`);
    const shareProfileArn = arn(`/configurationprofile/${this.profile.ref}`);
    const releaseProfileArn = arn(`/configurationprofile/${config.profile.ref}`);
    const strategyArn = stack.formatArn({
      service: 'appconfig',
      resource: 'deploymentstrategy',
      resourceName: instant.ref,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // Resource types from the Service Authorization Reference (test/config-share.test.ts checks each against it):
    // CreateHostedConfigurationVersion needs application + configuration profile; StartDeployment application,
    // environment, profile and strategy; Stop/GetDeployment application, environment and deployment; ListDeployments
    // application and environment.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['appconfig:CreateHostedConfigurationVersion'], resources: [appArn, shareProfileArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['appconfig:StartDeployment'], resources: [appArn, shareEnvArn, shareProfileArn, strategyArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['appconfig:StartDeployment'], resources: [appArn, liveEnvArn, releaseProfileArn, strategyArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['appconfig:ListDeployments', 'appconfig:StopDeployment'],
        resources: [appArn, shareEnvArn, `${shareEnvArn}/deployment/*`],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['appconfig:GetDeployment'], resources: [appArn, liveEnvArn, `${liveEnvArn}/deployment/*`] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: props.alarms.map((a) => a.alarmArn) }));
    const shareObjects = props.bucket.arnForObjects(`${SHARE_STATE_PREFIX}/${config.serviceName}/*`);
    const judgeObjects = props.bucket.arnForObjects(`${JUDGE_STATE_PREFIX}/${config.serviceName}/*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [shareObjects, judgeObjects] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [shareObjects] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    props.bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');

    // A look every minute (steps, promotion), and at once on every state change of a safety-net alarm: the alarm's
    // ALARM reaches the controller in the time EventBridge takes to deliver it, not at the next minute.
    new events.Rule(this, 'EveryMinute', {
      description: `${config.serviceName}: the share controller looks every minute (it exits at once when no assigned config canary runs)`,
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    this.alarmRule = new events.Rule(this, 'OnAlarm', {
      description: `${config.serviceName}: a safety-net alarm changed state; the share controller looks at once`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: alarmNames, state: { value: ['ALARM'] } },
      },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(2) })],
    });

    this.failingAlarm = new cloudwatch.Alarm(this, 'ControllerFailing', {
      alarmDescription: `${config.serviceName}: the share controller's looks fail; during an assigned config canary nothing else rolls the share back (roll back by hand: {"kind":"ai-release.share-rollback"})`,
      metric: fn.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      // No look failed when none ran: missing data is not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failingAlarm.addAlarmAction(new cwActions.SnsAction(platform.notificationTopic));

    const bucketId = stack.getLogicalId(props.bucket.node.defaultChild as CfnElement);
    const appLogical = stack.getLogicalId(platform.application);
    const envPattern = (env: appconfig.CfnEnvironment) =>
      `arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${appLogical}>/environment/<${stack.getLogicalId(env)}>/deployment/*`;
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the share controller write its own logs; it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: 'The share controller calls only AWS APIs (AppConfig, CloudWatch, S3) over TLS with IAM auth; it holds no data and needs no network isolation.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${envPattern(this.environment)}]`,
        reason:
          "Deployment numbers are assigned by AppConfig; the wildcard covers the deployments of this service's share environment, which only the controller deploys to.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${envPattern(config.environment)}]`,
        reason: 'Deployment numbers are assigned by AppConfig; the wildcard covers reading the state of the promotion deployments of one live environment.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${SHARE_STATE_PREFIX}/${config.serviceName}/*]`,
        reason: "Release keys are chosen at run time; the wildcard is limited to this service's share/ records in the regression store.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${JUDGE_STATE_PREFIX}/${config.serviceName}/*]`,
        reason: "The judge's record of a release is named by its run-time release key; read only, limited to this service's judge/ records.",
      },
    );
  }

  /**
   * The code plane announces its canary in the share document (issue 17 D): the pre-traffic hook (`gate`) tells the
   * controller the version under test before traffic shifts, for `shiftSeconds` after it answers; the runtime of
   * `serviceFunction` then draws code-plane pair-only samples only on that version, only then, instead of on every
   * answer of every day. Call after `bind`, and before the service's release manifest is synthesized: a shared gate
   * reads the controller and the shift from the service's gate block (RegressionGate.announceCodeCanaryTo). The gate
   * may invoke the controller; nothing else changes.
   */
  public announceCodeCanaries(gate: RegressionGate, serviceFunction: lambda.Function, shiftSeconds: number): void {
    if (!Number.isFinite(shiftSeconds) || shiftSeconds < 0)
      throw new Error(`ConfigShare.announceCodeCanaries: shiftSeconds must be 0 or more (the traffic shift's length), got ${shiftSeconds}`);
    // The gate names the controller and the shift: in the service's gate block (a shared gate) or its environment.
    gate.announceCodeCanaryTo(this.function, Math.round(shiftSeconds));
    serviceFunction.addEnvironment(SHARE_ENV.CODE_CANARY, '1');
  }

  /**
   * Wires the service function: the share environment and profile for the runtime (AssigningRuntime), read access to
   * the share document, and — with the AppConfig extension — the share document and the candidate release config in
   * its prefetch list, so a cold start reads all four from the extension's cache. Call after `AiServiceConfig.bind`.
   */
  public bind(fn: lambda.Function, options: { readonly extension?: boolean } = {}): void {
    const { config } = this.props;
    fn.addEnvironment(SHARE_ENV.ENVIRONMENT, this.environment.ref);
    fn.addEnvironment(SHARE_ENV.PROFILE, this.profile.ref);
    const stack = Stack.of(this);
    fn.addToRolePolicy(appConfigReadStatement(stack, this.props.platform.applicationId, this.environment.ref, this.profile.ref));
    if (options.extension) {
      const path = (env: string, profile: string) => `/applications/${this.props.platform.applicationId}/environments/${env}/configurations/${profile}`;
      fn.addEnvironment(
        APPCONFIG_EXTENSION_ENV.PREFETCH_LIST,
        [...config.prefetchPaths(), path(config.candidateEnvironment.ref, config.profile.ref), path(this.environment.ref, this.profile.ref)].join(','),
      );
    }
  }
}
