import {
  type AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  GetHostedConfigurationVersionCommand,
  ListHostedConfigurationVersionsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import type { DegradeStore, FeatureFlagsDocument } from './cost-guard';

/** The degrade store over the AppConfig control-plane API. */
export function appConfigStore(client: AppConfigClient, ids: { application: string; environment: string; profile: string; strategy: string }): DegradeStore {
  return {
    async latest() {
      // The newest hosted version: the highest version number over every page.
      let version: number | undefined;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListHostedConfigurationVersionsCommand({ ApplicationId: ids.application, ConfigurationProfileId: ids.profile, MaxResults: 50, NextToken: token }),
        );
        for (const item of page.Items ?? [])
          if (item.VersionNumber !== undefined && (version === undefined || item.VersionNumber > version)) version = item.VersionNumber;
        token = page.NextToken;
      } while (token);
      if (version === undefined) throw new Error(`degrade profile ${ids.profile} has no hosted version`);
      const got = await client.send(
        new GetHostedConfigurationVersionCommand({ ApplicationId: ids.application, ConfigurationProfileId: ids.profile, VersionNumber: version }),
      );
      return { version, document: JSON.parse(Buffer.from(got.Content ?? new Uint8Array()).toString('utf8')) as FeatureFlagsDocument };
    },
    async create(document, label) {
      const out = await client.send(
        new CreateHostedConfigurationVersionCommand({
          ApplicationId: ids.application,
          ConfigurationProfileId: ids.profile,
          Content: new TextEncoder().encode(JSON.stringify(document)),
          ContentType: 'application/json',
          VersionLabel: label,
          Description: 'useFallbackModel switched on by the cost guard',
        }),
      );
      if (out.VersionNumber === undefined) throw new Error('AppConfig returned no version number');
      return out.VersionNumber;
    },
    async deploy(version, description) {
      // AppConfig runs one deployment per environment: if a config rollout is in progress this throws
      // ConflictException, and Lambda's asynchronous retries try again.
      const out = await client.send(
        new StartDeploymentCommand({
          ApplicationId: ids.application,
          EnvironmentId: ids.environment,
          ConfigurationProfileId: ids.profile,
          ConfigurationVersion: String(version),
          DeploymentStrategyId: ids.strategy,
          Description: description,
        }),
      );
      return String(out.DeploymentNumber ?? '');
    },
  };
}
