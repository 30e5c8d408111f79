import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../bin/cli/aws';
import { type CliDeps, runAsync } from '../bin/cli/program';
import { type DeployedReleaseManifest, manifestParameterName, type ReleaseLocators } from '../lambda/shared/contract';
import { compactManifest, computeReleaseManifest } from '../lambda/shared/release-manifest';
import { validConfig } from './helpers';

export const STACK = 'Shop';
export const SERVICE = 'assistant';
export const NOW = Date.parse('2026-11-27T10:00:00.000Z');
export const ago = (seconds: number) => new Date(NOW - seconds * 1000);

export const LOCATORS: ReleaseLocators = {
  stack: STACK,
  function: 'Shop-Assistant-abc',
  alias: 'live',
  codeDeploy: { application: 'Shop-CodeDeploy-XYZ', deploymentGroup: 'Shop-AssistantDeployment-QRS' },
  appConfig: {
    application: 'app1234',
    environment: 'env1234',
    profile: 'prf1234',
    degradeEnvironment: 'deg1234',
    degradeProfile: 'dpr1234',
    instantStrategy: 'ins1234',
  },
  store: 'shop-regression-store',
};

export function deployedManifest(locators: ReleaseLocators | undefined = LOCATORS, service = SERVICE): DeployedReleaseManifest {
  const m = compactManifest(
    computeReleaseManifest({
      service,
      config: validConfig(),
      code: { hash: 'c'.repeat(64) },
      configLabel: 'cfg-aaaaaaaaaaaa',
      degradeLabel: 'degrade-bbbbbbbbbbbb',
    }),
  );
  return locators ? { ...m, locators } : m;
}

/** Clients for tests: real SDK clients (fake region and credentials) behind aws-sdk-client-mock; S3 may be s3rver's. */
export function mockedClients(s3?: S3Client) {
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
  const clients: AwsClients = {
    codeDeploy: new CodeDeployClient(config),
    appConfig: new AppConfigClient(config),
    cloudWatch: new CloudWatchClient(config),
    ssm: new SSMClient(config),
    s3: s3 ?? new S3Client(config),
    lambda: new LambdaClient(config),
  };
  const mocks = {
    codeDeploy: mockClient(clients.codeDeploy),
    appConfig: mockClient(clients.appConfig),
    cloudWatch: mockClient(clients.cloudWatch),
    ssm: mockClient(clients.ssm),
    lambda: mockClient(clients.lambda),
  };
  return { clients, mocks };
}

/** SSM answers the deployed manifest of the service in STACK. */
export function serveManifest(ssm: ReturnType<typeof mockedClients>['mocks']['ssm'], manifest: DeployedReleaseManifest = deployedManifest()): void {
  ssm.on(GetParameterCommand, { Name: manifestParameterName(STACK, manifest.service) }).resolves({ Parameter: { Value: JSON.stringify(manifest) } });
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the CLI with injected clients, clock and terminal. */
export async function cli(args: readonly string[], clients: AwsClients, deps: Omit<CliDeps, 'clients'> = {}): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runAsync(
    args,
    { out: (t) => (out += t), err: (t) => (err += t) },
    { clients: () => clients, now: () => NOW, sleep: async () => {}, isTTY: false, ...deps },
  );
  return { code, out, err };
}
