import { StopDeploymentCommand as StopConfigDeployment } from '@aws-sdk/client-appconfig';
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { Command } from 'commander';
import { describeAwsError } from './aws';
import { type AwsCommandOptions, confirm, type Deps, withAwsOptions } from './deps';
import { EXIT, type Io } from './io';
import { locateService } from './locate';
import { readRollbackTargets } from './release-state';

interface RollbackOptions extends AwsCommandOptions {
  readonly yes?: boolean;
  readonly revert?: boolean;
}

/** One call rollback makes, and what AWS answered. */
export interface RollbackAction {
  readonly plane: 'code' | 'config';
  readonly call: string;
  readonly target: string;
  readonly result: 'done' | 'refused';
  readonly detail: string;
}

/** AppConfig reverts a completed deployment only within 72 hours of its completion (StopDeployment, AllowRevert). */
const REVERT_WINDOW_MS = 72 * 3600_000;

/** `cdk-ai-release rollback <service>`: stop the running deployments of both planes, with rollback. */
export function registerRollback(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  withAwsOptions(
    program
      .command('rollback')
      .summary('stop the running deployments of a service, with rollback')
      .description(
        "Stops the service's running deployments and rolls them back: the CodeDeploy deployment of the live alias (StopDeployment with autoRollbackEnabled: traffic returns to the previous version) and the release config's AppConfig deployment (StopDeployment; with AllowRevert once it is baking). The degrade flags are left as they are: they are the other lever. Asks first unless --yes.",
      )
      .argument('<service>', 'the service name'),
  )
    .option('-y, --yes', 'do not ask (needed without a terminal, e.g. in a pipeline)')
    .option('--revert', 'when no config deployment runs, revert the last completed one (AllowRevert; within 72 hours)')
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release rollback support-assistant
  $ cdk-ai-release rollback support-assistant --stack AiReleaseExample --yes

A stopped code deployment started by CloudFormation (the live alias update) fails that stack update, and
CloudFormation rolls the stack back to the previous release.

Exit codes: 0 rolled back (or nothing was running), 2 bad usage or a wrong service, 4 AWS refused a call or no credentials, 6 not confirmed.`,
    )
    .action(async (service: string, options: RollbackOptions) => {
      const clients = deps.clients(options);
      const located = await locateService(clients.ssm, service, options);
      const status = await readRollbackTargets(clients, located, deps.now());
      const { appConfig } = located.locators;
      const plan: { plane: 'code' | 'config'; describe: string; run: () => Promise<string> }[] = [];
      const code = status.code;
      if (code?.outcome === 'in-progress') {
        plan.push({
          plane: 'code',
          describe: `stop CodeDeploy deployment ${code.id} (${code.status}${code.trafficPercent !== undefined && code.to ? `, ${code.trafficPercent} % on version ${code.to}` : ''}) with auto-rollback to version ${code.from ?? 'the previous one'}`,
          run: async () => {
            // autoRollbackEnabled: "whether instances that have been updated should be rolled back to the previous
            // version" (CodeDeploy API reference, StopDeployment); for Lambda, the alias goes back to the old version.
            // AiRelease's deployment group also rolls back stopped deployments (autoRollback.stoppedDeployment).
            const out = await clients.codeDeploy.send(new StopDeploymentCommand({ deploymentId: code.id, autoRollbackEnabled: true }));
            return `${out.status ?? 'accepted'}${out.statusMessage ? `: ${out.statusMessage}` : ''}`;
          },
        });
      }
      const config = status.config;
      const revertable = config?.state === 'COMPLETE' && config.endedAt !== undefined && deps.now() - Date.parse(config.endedAt) < REVERT_WINDOW_MS;
      if (config && (config.outcome === 'in-progress' || (options.revert && revertable)) && config.state !== 'ROLLING_BACK') {
        // StopDeployment works only on DEPLOYING deployments unless AllowRevert is passed; with it, an in-progress
        // (baking) deployment ends ROLLED_BACK and a completed one REVERTED (AppConfig API reference, StopDeployment).
        const allowRevert = config.state !== 'DEPLOYING';
        plan.push({
          plane: 'config',
          describe: `${config.state === 'COMPLETE' ? 'revert' : 'stop'} AppConfig deployment #${config.number} of the release config (${config.state}, ${config.percentage} %, version ${config.version})${allowRevert ? ' with AllowRevert' : ''}`,
          run: async () => {
            const out = await clients.appConfig.send(
              new StopConfigDeployment({
                ApplicationId: appConfig.application,
                EnvironmentId: appConfig.environment,
                DeploymentNumber: config.number,
                ...(allowRevert ? { AllowRevert: true } : {}),
              }),
            );
            return `state ${out.State ?? 'unknown'}`;
          },
        });
      }
      if (plan.length === 0) {
        const why = `no deployment of ${service} is running (code: ${code ? `${code.id} ${code.status}` : 'none'}; config: ${config ? `#${config.number} ${config.state}` : 'none'})`;
        const hint = revertable && !options.revert ? `; to revert the completed config deployment #${config?.number}, pass --revert` : '';
        io.out(options.json ? `${JSON.stringify({ service, actions: [], note: why }, undefined, 2)}\n` : `nothing to roll back: ${why}${hint}\n`);
        setExit(EXIT.OK);
        return;
      }
      if (!options.json) io.out(`${plan.map((p) => `will ${p.describe}`).join('\n')}\n`);
      await confirm(deps, options.yes, `Roll back ${service}?`, `roll back ${service}`);
      const actions: RollbackAction[] = [];
      for (const p of plan) {
        try {
          actions.push({
            plane: p.plane,
            call: p.plane === 'code' ? 'codedeploy:StopDeployment' : 'appconfig:StopDeployment',
            target: p.describe,
            result: 'done',
            detail: await p.run(),
          });
        } catch (e) {
          const call = p.plane === 'code' ? 'codedeploy:StopDeployment' : 'appconfig:StopDeployment';
          actions.push({ plane: p.plane, call, target: p.describe, result: 'refused', detail: describeAwsError(e, call) });
        }
      }
      const refused = actions.some((a) => a.result === 'refused');
      if (options.json) io.out(`${JSON.stringify({ service, actions }, undefined, 2)}\n`);
      else {
        for (const a of actions)
          io.out(`${a.result === 'done' ? 'done   ' : 'REFUSED'} ${a.call}: ${a.result === 'done' ? `${a.target}: ${a.detail}` : a.detail}\n`);
        if (!refused) io.out(`follow it with: cdk-ai-release status ${service} --watch\n`);
      }
      if (refused) io.err(`cdk-ai-release: AWS refused ${actions.filter((a) => a.result === 'refused').length} of ${actions.length} rollback calls\n`);
      setExit(refused ? EXIT.AWS : EXIT.OK);
    });
}
