import {
  type AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  GetHostedConfigurationVersionCommand,
  ListDeploymentsCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { type DegradeStore, type FeatureFlagsDocument, StoreError } from './cost-guard';

/** The AppConfig ids the guard works on. */
export interface DegradeIds {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  readonly strategy: string;
}

/**
 * Errors worth another attempt later. ConflictException: AppConfig runs one deployment per environment and refuses
 * StartDeployment while another runs (AppConfig API reference, StartDeployment errors). The rest are throttling and
 * server faults that the SDK's own three tries did not outlast.
 */
const RETRYABLE = new Set(['ConflictException', 'ThrottlingException', 'TooManyRequestsException', 'InternalServerException', 'ServiceUnavailableException']);

/** Deployment states in which a deployment's version is (or is becoming) what clients get. */
const EFFECTIVE = new Set(['VALIDATING', 'DEPLOYING', 'BAKING', 'COMPLETE']);

/** At most this many pages of deployments are read looking for the degrade profile's last one. */
const MAX_DEPLOYMENT_PAGES = 5;

/** The degrade store over the AppConfig control-plane API. */
export function appConfigStore(client: AppConfigClient, ids: DegradeIds): DegradeStore {
  const send = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      const name = (e as { name?: string })?.name ?? 'Error';
      const message = (e as { message?: string })?.message ?? String(e);
      throw new StoreError(`${what}: ${name}: ${message}`, name, RETRYABLE.has(name));
    }
  };
  return {
    async latest() {
      // The newest hosted version: the highest version number over every page.
      let version: number | undefined;
      let token: string | undefined;
      do {
        const page = await send('ListHostedConfigurationVersions', () =>
          client.send(
            new ListHostedConfigurationVersionsCommand({
              ApplicationId: ids.application,
              ConfigurationProfileId: ids.profile,
              MaxResults: 50,
              NextToken: token,
            }),
          ),
        );
        for (const item of page.Items ?? [])
          if (item.VersionNumber !== undefined && (version === undefined || item.VersionNumber > version)) version = item.VersionNumber;
        token = page.NextToken;
      } while (token);
      if (version === undefined) throw new Error(`degrade profile ${ids.profile} has no hosted version`);
      const v = version;
      const got = await send('GetHostedConfigurationVersion', () =>
        client.send(new GetHostedConfigurationVersionCommand({ ApplicationId: ids.application, ConfigurationProfileId: ids.profile, VersionNumber: v })),
      );
      return { version, document: JSON.parse(Buffer.from(got.Content ?? new Uint8Array()).toString('utf8')) as FeatureFlagsDocument };
    },
    async create(document, label, description = 'useFallbackModel switched on by the cost guard') {
      const out = await send('CreateHostedConfigurationVersion', () =>
        client.send(
          new CreateHostedConfigurationVersionCommand({
            ApplicationId: ids.application,
            ConfigurationProfileId: ids.profile,
            Content: new TextEncoder().encode(JSON.stringify(document)),
            ContentType: 'application/json',
            VersionLabel: label,
            Description: description,
          }),
        ),
      );
      if (out.VersionNumber === undefined) throw new Error('AppConfig returned no version number');
      return out.VersionNumber;
    },
    async deployedVersion() {
      // ListDeployments answers newest first (AppConfig API reference); the first effective deployment of the degrade
      // profile is what its clients get (a rolled-back one is skipped: the one before it is back in force).
      let token: string | undefined;
      for (let page = 0; page < MAX_DEPLOYMENT_PAGES; page++) {
        const out = await send('ListDeployments', () =>
          client.send(new ListDeploymentsCommand({ ApplicationId: ids.application, EnvironmentId: ids.environment, MaxResults: 50, NextToken: token })),
        );
        for (const d of out.Items ?? []) {
          if (d.ConfigurationProfileId !== ids.profile || !EFFECTIVE.has(String(d.State))) continue;
          const n = Number(d.ConfigurationVersion);
          return Number.isInteger(n) ? n : undefined;
        }
        token = out.NextToken;
        if (!token) break;
      }
      return undefined;
    },
    async deploy(version, description) {
      const out = await send('StartDeployment', () =>
        client.send(
          new StartDeploymentCommand({
            ApplicationId: ids.application,
            EnvironmentId: ids.environment,
            ConfigurationProfileId: ids.profile,
            ConfigurationVersion: String(version),
            DeploymentStrategyId: ids.strategy,
            Description: description,
          }),
        ),
      );
      return String(out.DeploymentNumber ?? '');
    },
  };
}
