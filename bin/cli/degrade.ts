import type { Command } from 'commander';
import { appConfigStore } from '../../lambda/cost-guard/appconfig-store';
import { type FeatureFlagsDocument, StoreError } from '../../lambda/cost-guard/cost-guard';
import { DEGRADE_FLAGS } from '../../lambda/shared/contract';
import { describeAwsError, isCredentialsError } from './aws';
import { type AwsCommandOptions, confirm, type Deps, withAwsOptions } from './deps';
import { AwsError, EXIT, type Io, UsageError } from './io';
import { locateService } from './locate';

interface DegradeOptions extends AwsCommandOptions {
  readonly yes?: boolean;
  readonly message?: string;
}

const SWITCHES: readonly string[] = Object.values(DEGRADE_FLAGS);

/** The flags document with one switch set; `changed` is false when it already was. */
export function withDegradeSwitch(
  doc: FeatureFlagsDocument,
  flag: string,
  on: boolean,
  message?: string,
): { changed: boolean; document: FeatureFlagsDocument } {
  if (!(flag in (doc.flags ?? {}))) {
    throw new UsageError(
      `the deployed degrade profile has no "${flag}" flag (it has: ${Object.keys(doc.flags ?? {}).join(', ')}); was it created by AiServiceConfig?`,
    );
  }
  const current = doc.values?.[flag] ?? {};
  const next = { ...current, enabled: on, ...(message !== undefined ? { message } : {}) };
  const changed = current.enabled !== on || (message !== undefined && current.message !== message);
  return { changed, document: changed ? { ...doc, values: { ...doc.values, [flag]: next } } : doc };
}

/**
 * `cdk-ai-release degrade <service> on|off <switch>`: deploys the degrade flags with one switch changed, through the
 * same AppConfig store the cost guard uses (a new hosted version, deployed with the instant strategy to the degrade
 * environment, which has no monitors: no alarm can refuse or roll back the switch).
 */
export function registerDegrade(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  withAwsOptions(
    program
      .command('degrade')
      .summary('switch a degrade flag of a service on or off (deploys at once)')
      .description(
        `Deploys the service's degrade flags with one switch turned on or off: a new hosted version of the degrade profile, deployed with the instant strategy to the degrade environment (no monitors, so no alarm can block it). Switches: ${SWITCHES.join(', ')}. Asks first unless --yes. The switch stays until changed again; the next \`cdk deploy\` that changes AiRelease's \`degrade\` prop deploys that state instead.`,
      )
      .argument('<service>', 'the service name')
      .argument('<on|off>', 'turn the switch on or off')
      .argument('<switch>', `one of ${SWITCHES.join(', ')}`),
  )
    .option('-y, --yes', 'do not ask (needed without a terminal, e.g. in a pipeline)')
    .option('--message <text>', `the message served while ${DEGRADE_FLAGS.STATIC_ANSWER} is on`)
    .option('--json', 'print what was done as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release degrade support-assistant on useFallbackModel
  $ cdk-ai-release degrade support-assistant on staticAnswer --message "Back in 10 minutes." --yes
  $ cdk-ai-release degrade support-assistant off useFallbackModel

Exit codes: 0 deployed (or already so), 2 bad usage or a wrong service, 4 AWS refused a call or no credentials, 6 not confirmed.`,
    )
    .action(async (service: string, onOff: string, flag: string, options: DegradeOptions) => {
      if (onOff !== 'on' && onOff !== 'off') throw new UsageError(`the second argument must be on or off, got "${onOff}"`);
      if (!SWITCHES.includes(flag)) throw new UsageError(`unknown degrade switch "${flag}"; use one of ${SWITCHES.join(', ')}`);
      if (options.message !== undefined && flag !== DEGRADE_FLAGS.STATIC_ANSWER)
        throw new UsageError(`--message applies to ${DEGRADE_FLAGS.STATIC_ANSWER} only`);
      if (options.message !== undefined && options.message.trim() === '') throw new UsageError('--message must not be empty: it is what users see');
      const on = onOff === 'on';
      const clients = deps.clients(options);
      const located = await locateService(clients.ssm, service, options);
      const ids = located.locators.appConfig;
      const store = appConfigStore(clients.appConfig, {
        application: ids.application,
        environment: ids.degradeEnvironment,
        profile: ids.degradeProfile,
        strategy: ids.instantStrategy,
      });
      const call = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
        try {
          return await f();
        } catch (e) {
          if (e instanceof UsageError) throw e;
          // The store (shared with the cost guard) already names the call and AWS's error: keep its message.
          if (e instanceof StoreError && !isCredentialsError(e)) {
            const busy = e.code === 'ConflictException' ? ' (another deployment is running in the degrade environment; try again in a moment)' : '';
            throw new AwsError(`AWS refused ${e.message}${busy}`);
          }
          throw new AwsError(describeAwsError(e, what));
        }
      };
      const latest = await call('reading the degrade flags', () => store.latest());
      const next = withDegradeSwitch(latest.document, flag, on, options.message);
      const deployed = await call('appconfig:ListDeployments', () => store.deployedVersion());
      const report = (result: object, text: string) => {
        io.out(options.json ? `${JSON.stringify({ service, switch: flag, on, ...result }, undefined, 2)}\n` : `${text}\n`);
        setExit(EXIT.OK);
      };
      if (!next.changed && deployed === latest.version) {
        report(
          { action: 'already', version: latest.version },
          `${flag} is already ${onOff} for ${service} (degrade version ${latest.version} is deployed); nothing changed`,
        );
        return;
      }
      if (!options.json) {
        io.out(
          `will ${next.changed ? `create a degrade version from version ${latest.version} with ${flag} ${onOff}` : `redeploy degrade version ${latest.version} (it has ${flag} ${onOff})`} and deploy it at once to ${service}'s degrade environment\n`,
        );
      }
      await confirm(deps, options.yes, `Turn ${flag} ${onOff} for ${service}?`, `turn ${flag} ${onOff} for ${service}`);
      const stamp = new Date(deps.now()).toISOString().replace(/[-:]/g, '').slice(0, 15);
      const version = next.changed
        ? await call('appconfig:CreateHostedConfigurationVersion', () =>
            store.create(next.document, `cli-${flag}-${onOff}-${stamp}`.slice(0, 64), `${flag} switched ${onOff} by cdk-ai-release degrade`),
          )
        : latest.version;
      const deployment = await call('appconfig:StartDeployment', () => store.deploy(version, `cdk-ai-release degrade: ${flag} ${onOff}`));
      report(
        { action: 'deployed', version, deploymentNumber: deployment },
        `done: ${flag} ${onOff} for ${service}: degrade version ${version} deployed (deployment #${deployment}, instant strategy)`,
      );
    });
}
