/** The config plane's deployment, from AppConfig GetDeployment and its event log. */
import { type AppConfigClient, GetDeploymentCommand } from '@aws-sdk/client-appconfig';
import type { DeploymentFacts, ReleaseEnd } from './ports';

/** What lambda/config-deployer appends to the description of its stack-rollback deployments. */
export const STACK_ROLLBACK_MARK = '(stack rollback:';

const isoOf = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

export async function describeConfigDeployment(ac: AppConfigClient, r: ReleaseEnd): Promise<DeploymentFacts> {
  const a = r.appConfig!;
  const d = await ac.send(new GetDeploymentCommand({ ApplicationId: a.applicationId, EnvironmentId: a.environmentId, DeploymentNumber: a.deploymentNumber }));
  // The config deployer's redeploy of the previous version when a stack update fails (lambda/config-deployer marks
  // its description): the tail of the release it undid, reviewed there.
  if (d.Description?.includes(STACK_ROLLBACK_MARK)) return { steps: [], rollbackOf: 'a failed stack update (config deployer rollback)' };
  const events = [...(d.EventLog ?? [])].sort((x, y) => (x.OccurredAt?.getTime() ?? 0) - (y.OccurredAt?.getTime() ?? 0));
  const at = (type: string) => isoOf(events.find((e) => e.EventType === type)?.OccurredAt);
  const rbStart = events.find((e) => e.EventType === 'ROLLBACK_STARTED');
  const steps = events
    .filter((e) => e.EventType === 'PERCENTAGE_UPDATED' && e.OccurredAt)
    .map((e) => ({ at: isoOf(e.OccurredAt)!, percent: Number(/([\d.]+)\s*%/.exec(e.Description ?? '')?.[1] ?? Number.NaN) }))
    .filter((s) => Number.isFinite(s.percent));
  const startedAt = isoOf(d.StartedAt) ?? at('DEPLOYMENT_STARTED');
  const endedAt = isoOf(d.CompletedAt) ?? at('DEPLOYMENT_COMPLETED') ?? at('ROLLBACK_COMPLETED');
  const bakeStartedAt = at('BAKE_TIME_STARTED');
  const to = d.VersionLabel ?? d.ConfigurationVersion;
  return {
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
    ...(to ? { to } : {}),
    steps,
    ...(bakeStartedAt ? { bakeStartedAt } : {}),
    ...(rbStart
      ? {
          rollback: {
            startedAt: isoOf(rbStart.OccurredAt),
            ...(at('ROLLBACK_COMPLETED') ? { endedAt: at('ROLLBACK_COMPLETED') } : {}),
            ...(rbStart.TriggeredBy ? { by: rbStart.TriggeredBy } : {}),
          },
          ...(rbStart.Description ? { message: rbStart.Description } : {}),
        }
      : {}),
  };
}
