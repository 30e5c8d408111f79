import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { AwsError } from './io';

/** The AWS clients the operator commands use. Tests pass their own (aws-sdk-client-mock, or S3 on s3rver). */
export interface AwsClients {
  readonly codeDeploy: CodeDeployClient;
  readonly appConfig: AppConfigClient;
  readonly cloudWatch: CloudWatchClient;
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
}

/** Where the clients connect: `--region` and `--profile`, else the SDK's own chain (AWS_REGION, AWS_PROFILE, …). */
export interface AwsTarget {
  readonly region?: string;
  readonly profile?: string;
}

/**
 * Clients built on first use, so a command loads only the SDK packages it calls (each is a dependency of the
 * package: an installed CLI never misses one).
 */
export function defaultClients(target: AwsTarget): AwsClients {
  const config = { ...(target.region ? { region: target.region } : {}), ...(target.profile ? { profile: target.profile } : {}) };
  const cache = new Map<string, unknown>();
  const lazy = <T>(name: string, make: () => T): T => {
    if (!cache.has(name)) cache.set(name, make());
    return cache.get(name) as T;
  };
  return {
    get codeDeploy() {
      return lazy('codeDeploy', () => new (require('@aws-sdk/client-codedeploy') as typeof import('@aws-sdk/client-codedeploy')).CodeDeployClient(config));
    },
    get appConfig() {
      return lazy('appConfig', () => new (require('@aws-sdk/client-appconfig') as typeof import('@aws-sdk/client-appconfig')).AppConfigClient(config));
    },
    get cloudWatch() {
      return lazy('cloudWatch', () => new (require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient(config));
    },
    get ssm() {
      return lazy('ssm', () => new (require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm')).SSMClient(config));
    },
    get s3() {
      return lazy('s3', () => new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client(config));
    },
    get lambda() {
      return lazy('lambda', () => new (require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda')).LambdaClient(config));
    },
  };
}

/** The SDK error's name, also when the cost guard's store wrapped it (StoreError keeps it as `code`). */
export function errorName(e: unknown): string {
  const o = e as { code?: unknown; name?: unknown } | null;
  if (o && typeof o.code === 'string' && o.code) return o.code;
  return typeof o?.name === 'string' ? o.name : 'Error';
}

/** True for the SDK's "no credentials" family: nothing to sign with. */
export function isCredentialsError(e: unknown): boolean {
  const name = errorName(e);
  return name === 'CredentialsProviderError' || name === 'TokenProviderError' || /Could not load credentials/i.test(String((e as Error)?.message));
}

/**
 * One line for an AWS failure, with the fix where there is one: missing credentials (the SDK's
 * CredentialsProviderError), a missing region, expired or denied access; otherwise the SDK's name and message.
 */
export function describeAwsError(e: unknown, what: string): string {
  const name = errorName(e);
  const message = String((e as Error)?.message ?? e).split('\n')[0];
  if (isCredentialsError(e)) {
    return `no AWS credentials found (${what}): set AWS_PROFILE (or pass --profile), run \`aws sso login\`, or in CI assume a role (aws-actions/configure-aws-credentials)`;
  }
  if (/region is missing/i.test(message)) return `no AWS region set (${what}): pass --region or set AWS_REGION`;
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken') return `the AWS session has expired (${what}): log in again (\`aws sso login\`) and retry`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnauthorizedOperation') {
    return `access denied (${what}): ${message}`;
  }
  return `${what} failed: ${name}: ${message}`;
}

/** Runs one AWS call; its failure becomes an AwsError with one line naming the call and the fix. */
export async function aws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw new AwsError(describeAwsError(e, what));
  }
}
