import {
  type AppConfigClient,
  DeleteHostedConfigurationVersionCommand,
  GetDeploymentCommand,
  type GetDeploymentCommandOutput,
  ListHostedConfigurationVersionsCommand,
  ListDeploymentsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { type AppConfigPort, type DeploymentInfo, RUNNING_STATES } from './config-deployer';
import type { HostedVersionsPort } from './version-cleanup';

/** The AppConfig port over the control-plane API, for one application. */
export function appConfigPort(client: AppConfigClient, application: string): AppConfigPort {
  const info = (d: GetDeploymentCommandOutput): DeploymentInfo => ({
    number: d.DeploymentNumber ?? 0,
    state: d.State ?? 'UNKNOWN',
    profile: d.ConfigurationProfileId,
    version: d.ConfigurationVersion,
    percentageComplete: d.PercentageComplete,
    events: (d.EventLog ?? []).map((e) => ({ type: e.EventType, triggeredBy: e.TriggeredBy, description: e.Description })),
  });
  const get = async (environment: string, deploymentNumber: number) =>
    info(await client.send(new GetDeploymentCommand({ ApplicationId: application, EnvironmentId: environment, DeploymentNumber: deploymentNumber })));
  return {
    async start(p) {
      const out = await client.send(
        new StartDeploymentCommand({
          ApplicationId: application,
          EnvironmentId: p.environment,
          ConfigurationProfileId: p.profile,
          ConfigurationVersion: p.version,
          DeploymentStrategyId: p.strategy,
          Description: p.description.slice(0, 1024),
        }),
      );
      if (out.DeploymentNumber === undefined) throw new Error('AppConfig StartDeployment returned no deployment number');
      return out.DeploymentNumber;
    },
    get,
    async running(environment) {
      // Newest first: a running deployment is among the latest. The summary has no profile id, so each running
      // one (AppConfig allows one) is read in full.
      const page = await client.send(new ListDeploymentsCommand({ ApplicationId: application, EnvironmentId: environment, MaxResults: 50 }));
      const running = (page.Items ?? []).filter((d) => d.DeploymentNumber !== undefined && RUNNING_STATES.includes(d.State ?? ''));
      return Promise.all(running.map((d) => get(environment, d.DeploymentNumber!)));
    },
    async latest(environment) {
      const page = await client.send(new ListDeploymentsCommand({ ApplicationId: application, EnvironmentId: environment, MaxResults: 1 }));
      const newest = page.Items?.[0]?.DeploymentNumber;
      return newest === undefined ? undefined : get(environment, newest);
    },
    async stop(environment, deploymentNumber) {
      // StopDeployment "works only on deployments that have a status of DEPLOYING, unless an AllowRevert parameter is
      // supplied" (AppConfig API reference): the deployer also stops BAKING rollouts (abandoned or overdue).
      await client.send(
        new StopDeploymentCommand({ ApplicationId: application, EnvironmentId: environment, DeploymentNumber: deploymentNumber, AllowRevert: true }),
      );
    },
  };
}

/** The hosted versions of one application's profiles, over the control-plane API (version-cleanup.ts). */
export function hostedVersionsPort(client: AppConfigClient, application: string): HostedVersionsPort {
  return {
    async list(profile) {
      const numbers: number[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListHostedConfigurationVersionsCommand({ ApplicationId: application, ConfigurationProfileId: profile, MaxResults: 50, NextToken: token }),
        );
        for (const v of page.Items ?? []) if (v.VersionNumber !== undefined) numbers.push(v.VersionNumber);
        token = page.NextToken;
      } while (token);
      return numbers;
    },
    async delete(profile, version) {
      try {
        await client.send(new DeleteHostedConfigurationVersionCommand({ ApplicationId: application, ConfigurationProfileId: profile, VersionNumber: version }));
      } catch (e) {
        if ((e as { name?: string })?.name !== 'ResourceNotFoundException') throw e;
      }
    },
  };
}
