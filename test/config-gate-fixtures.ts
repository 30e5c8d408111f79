/**
 * Test helper: a stand-in regression gate connected to the example's config plane, until the real gate function
 * (lambda/gate, AiRelease.regressionGate) is merged and wired by AiRelease itself.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ExampleStack } from '../bin/example-stack';

export const FAKE_GATE_TIMEOUT = Duration.minutes(5);

export function connectFakeGate(stack: ExampleStack): lambda.Function {
  const fn = new lambda.Function(stack, 'FakeGate', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    timeout: FAKE_GATE_TIMEOUT,
  });
  Validations.of(fn).acknowledge(
    { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'test stand-in' },
    { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: 'test stand-in' },
    { id: 'cdk-validator-cfnguard::lambda_concurrency_check', reason: 'test stand-in' },
    { id: 'cdk-validator-cfnguard::lambda_dlq_check', reason: 'test stand-in' },
  );
  stack.release.connectConfigGate(fn);
  return fn;
}
