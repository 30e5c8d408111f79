/**
 * The cost guard of one service: a function that switches the service to its fallback model (the degrade flag
 * useFallbackModel, deployed instantly to the degrade environment) when cost per request crosses a threshold, and
 * the alarm that triggers it. Built inside the AiRelease (`scope`), so its construct ids are the ones it always had.
 */
import { ArnFormat, Duration, type Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import { COST_GUARD_ENV, type ModelConfig } from '../../lambda/shared/contract';
import type { AiReleasePlatform } from '../ai-release-platform';
import type { AiServiceConfig } from '../config/ai-service-config';
import { sectionLocation } from '../config/private/section-location';
import { ReleaseConfigError, type ReleaseConfigSource } from '../config/release-config-source';
import { libraryFunction } from '../private/library-function';
import { namePrefix, physicalName } from '../private/physical-names';
import { ConfigRollout } from './config-rollout';
import { type ReleaseAlarms, synthesizedTiming } from './release-alarms';

export interface CostGuardOptions {
  /**
   * Cost per request (USD, service-wide) above which the guard switches to the fallback model.
   * @default the service cost-per-request alarm's threshold
   */
  readonly maxCostPerRequestUsd?: number;
}

/** What the cost guard needs of its service. */
export interface CostGuardHost {
  readonly serviceName: string;
  readonly config: AiServiceConfig;
  readonly alarms: ReleaseAlarms;
}

export interface CostGuard {
  readonly function: lambda.Function;
  readonly alarm: cloudwatch.Alarm;
  readonly maxCostPerRequestUsd: number;
}

export function buildCostGuard(
  scope: Construct,
  r: CostGuardHost,
  platform: AiReleasePlatform,
  stack: Stack,
  options: CostGuardOptions,
  source: ReleaseConfigSource,
): CostGuard {
  if (!(r.config.config.model as ModelConfig).fallback) {
    // A config problem like any other: reported at synth with the file to edit and every other service's
    // problems, not thrown (a stand-in config has a fallback, so this never repeats a config already invalid).
    const error = new ReleaseConfigError(r.serviceName, [
      {
        ...sectionLocation(source, 'model', ['fallback']),
        path: '$.model.fallback',
        message: 'costGuard is on, but the model section names no fallback model to switch to',
        fix: 'add model.fallback (a cheaper model, with its pricing), or remove costGuard',
      },
    ]);
    scope.node.addValidation({ validate: () => [error.message] });
  }
  const cost = r.alarms.alarms.find((a) => a.plane === 'config' && a.kind === 'cost-per-request')!;
  const threshold = options.maxCostPerRequestUsd ?? cost.threshold;
  const window = synthesizedTiming(cost.alarm);
  if (!Number.isFinite(threshold) || threshold <= 0) throw new Error(`costGuard.maxCostPerRequestUsd must be a positive number, got ${threshold}`);
  const instant = platform.strategyFor(ConfigRollout.INSTANT);
  const fn = libraryFunction(scope, 'CostGuard', {
    handler: 'cost-guard',
    // The handler retries a busy environment (ConflictException) with backoff until 10 s before this timeout, so a
    // running deployment of the environment can finish; Lambda's own retries (below) give it two more chances.
    timeout: Duration.minutes(15),
    description: `${r.serviceName}: switches to the fallback model when the cost alarm fires`,
    environment: {
      [COST_GUARD_ENV.APPLICATION]: r.config.applicationId,
      [COST_GUARD_ENV.ENVIRONMENT]: r.config.degradeEnvironmentId,
      [COST_GUARD_ENV.PROFILE]: r.config.degradeProfile.ref,
      [COST_GUARD_ENV.STRATEGY]: instant.ref,
    },
  });
  // A CloudWatch alarm invokes its Lambda action asynchronously. Two retries (Lambda's maximum) within an hour;
  // when the last one fails, the give-up record goes to the platform topic, where the on-call already gets the
  // cost alarm: a guard that could not degrade is an incident now, not a message to find later in a queue. Lambda
  // sends with the function's role; SnsDestination grants sns:Publish and the topic key's GenerateDataKey/Decrypt.
  fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new destinations.SnsDestination(platform.notificationTopic) });
  const applicationArn = stack.formatArn({
    service: 'appconfig',
    resource: 'application',
    resourceName: r.config.applicationId,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const appArn = (resourceName: string) => `${applicationArn}/${resourceName}`;
  const profileArn = appArn(`configurationprofile/${r.config.degradeProfile.ref}`);
  const environmentArn = appArn(`environment/${r.config.degradeEnvironmentId}`);
  // Each action is allowed on every resource type the Service Authorization Reference marks required for it, the
  // application included (test/iam-sar.test.ts proves it against the reference data).
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['appconfig:ListHostedConfigurationVersions', 'appconfig:GetHostedConfigurationVersion', 'appconfig:CreateHostedConfigurationVersion'],
      resources: [applicationArn, profileArn, `${profileArn}/hostedconfigurationversion/*`],
    }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['appconfig:ListDeployments'], resources: [applicationArn, environmentArn] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['appconfig:StartDeployment'],
      resources: [
        applicationArn,
        environmentArn,
        profileArn,
        stack.formatArn({ service: 'appconfig', resource: 'deploymentstrategy', resourceName: instant.ref, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      ],
    }),
  );
  Validations.of(fn).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${stack.getLogicalId(r.config.application)}>/configurationprofile/<${stack.getLogicalId(r.config.degradeProfile)}>/hostedconfigurationversion/*]`,
      reason: 'Version numbers of the degrade profile are assigned by AppConfig; the wildcard is limited to versions of this one profile.',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Sending the give-up record to the KMS-encrypted notification topic (on-failure destination) needs GenerateDataKey* on that one key, as the SNS encryption docs list for publishers.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "AWSLambdaBasicExecutionRole only lets the cost guard write its own logs; it is AWS's maintained minimum for Lambda.",
    },
    {
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason: 'The cost guard calls only the AppConfig API, over TLS with IAM auth; it holds no data and needs no network isolation.',
    },
  );
  // Its own alarm, outside the composites: the AppConfig environment depends on the composite alarm, and this
  // function depends on the environment, so an action on the monitored cost alarm would be a dependency cycle.
  const alarmName = physicalName('alarm', namePrefix(platform), r.serviceName, 'cost-guard');
  // A late event is acted on only while the alarm is still in ALARM (lambda/cost-guard FRESH_EVENT_MS). By name, not
  // by the alarm's Ref: the alarm's action already references the function, so a Ref back would be a cycle.
  fn.addEnvironment(COST_GUARD_ENV.ALARM_NAME, alarmName);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: [stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }),
  );
  const alarm = new cloudwatch.Alarm(scope, 'CostGuardAlarm', {
    alarmName,
    alarmDescription: `${r.serviceName}: cost per request above ${threshold} USD service-wide. The cost guard switches the service to its fallback model (degrade flag useFallbackModel). To undo it, deploy the degrade flags with useFallbackModel off once cost is understood.`,
    metric: cost.alarm.metric,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: window.evaluationPeriods,
    datapointsToAlarm: window.datapointsToAlarm,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cwActions.LambdaAction(fn));
  alarm.addAlarmAction(new cwActions.SnsAction(platform.notificationTopic));
  return { function: fn, alarm, maxCostPerRequestUsd: threshold };
}
