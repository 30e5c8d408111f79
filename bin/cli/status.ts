import type { Command } from 'commander';
import { type AwsCommandOptions, type Deps, withAwsOptions } from './deps';
import { EXIT, ExitError, type Io, UsageError } from './io';
import { locateService } from './locate';
import { type ConfigDeploymentState, type DeploymentOutcome, deploymentOutcome, outcomesSince, type ReleaseStatus, readReleaseStatus } from './release-state';

interface StatusOptions extends AwsCommandOptions {
  readonly watch?: boolean;
  readonly since?: string;
  readonly interval?: string;
  readonly timeout?: string;
}

/** `cdk-ai-release status <service>`: where the release stands, once or (--watch) until it ends. */
export function registerStatus(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  withAwsOptions(
    program
      .command('status')
      .summary('show where a service release stands (deployments, traffic, alarms)')
      .description(
        "Shows the service's current CodeDeploy deployment (step, traffic on the new version, time left), its AppConfig deployments (release config and degrade flags: percentage, state, bake left), the release alarms' states and the version tuple served. With --watch it redraws until no deployment runs, and the exit code says how the release ended.",
      )
      .argument('<service>', 'the service name (as in AiRelease serviceName)'),
  )
    .option('-w, --watch', 'redraw until the release ends; exit 0 promoted, 5 rolled back, stopped or failed')
    .option('--since <time>', 'with --watch: also judge the deployments started since this ISO-8601 time (e.g. when `cdk deploy` began)')
    .option('--interval <seconds>', 'seconds between redraws with --watch', '10')
    .option('--timeout <minutes>', 'give up watching after this long (exit 7)', '60')
    .option('--json', 'print the status as JSON (with --watch: one JSON line per redraw)')
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release status support-assistant
  $ cdk-ai-release status support-assistant --stack AiReleaseExample --watch
  $ cdk-ai-release status support-assistant --watch --since 2026-11-27T10:00:00Z   # after cdk deploy returned
  $ cdk-ai-release status support-assistant --app cdk.out --json

Exit codes: 0 shown (with --watch: the release was promoted, or nothing ran), 2 bad usage or a wrong service, 4 AWS refused or no credentials, 5 (--watch) the release rolled back, was stopped or failed, 7 (--watch) still running at --timeout.`,
    )
    .action(async (service: string, options: StatusOptions) => {
      const intervalMs = positive(options.interval ?? '10', '--interval') * 1000;
      const timeoutMs = positive(options.timeout ?? '60', '--timeout') * 60_000;
      const since = options.since === undefined ? undefined : new Date(options.since);
      if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since must be an ISO-8601 time (e.g. 2026-11-27T10:00:00Z), got "${options.since}"`);
      if (since && !options.watch) throw new UsageError('--since needs --watch');
      const clients = deps.clients(options);
      const located = await locateService(clients.ssm, service, options);
      const read = () => readReleaseStatus(clients, located, deps.now());
      if (!options.watch) {
        const status = await read();
        io.out(options.json ? `${JSON.stringify(status, undefined, 2)}\n` : renderStatus(status));
        setExit(EXIT.OK);
        return;
      }
      const outcomeOf = (key: string) => deploymentOutcome(clients, located, key);
      const earlier = since ? await outcomesSince(clients, located, since) : new Map<string, DeploymentOutcome>();
      setExit(await watch(read, outcomeOf, io, deps, { json: options.json === true, intervalMs, timeoutMs, earlier }));
    });
}

/** Redraws until no deployment runs; the exit code is the worst outcome of the deployments seen. */
async function watch(
  read: () => Promise<ReleaseStatus>,
  outcomeOf: (key: string) => Promise<DeploymentOutcome>,
  io: Io,
  deps: Deps,
  options: { json: boolean; intervalMs: number; timeoutMs: number; earlier: ReadonlyMap<string, DeploymentOutcome> },
): Promise<number> {
  const started = deps.now();
  // Every deployment seen during the watch, by plane and id: a release that rolled back and was then put back by
  // CloudFormation (a new, successful deployment) still ends as rolled back.
  const seen = new Map<string, DeploymentOutcome>(options.earlier);
  // With --since: every deployment started since then counts as watched.
  const running = new Set<string>(options.earlier.keys());
  let last = '';
  for (;;) {
    const status = await read();
    for (const [key, d] of [
      ['code', status.code],
      ['config', status.config],
      ['degrade', status.degrade],
    ] as const) {
      if (!d) continue;
      const id = `${key}:${'id' in d ? d.id : d.number}`;
      seen.set(id, d.outcome);
      if (d.outcome === 'in-progress') running.add(id);
    }
    if (options.json) {
      io.out(`${JSON.stringify(status)}\n`);
    } else {
      const frame = renderStatus(status);
      // On a terminal: clear and redraw. In a log (CI): a new frame only when something other than the clock moved.
      if (deps.isTTY) io.out(`\x1b[H\x1b[2J${frame}`);
      else if (withoutClock(frame) !== last) io.out(`${frame}\n`);
      last = withoutClock(frame);
    }
    if (status.phase !== 'in-progress') {
      // The deployments that ran while watched, and the latest one (what ended before the watch began is history).
      // One last seen running has since been replaced by another (CloudFormation's rollback): ask how it ended.
      for (const id of running) if (seen.get(id) === 'in-progress') seen.set(id, await outcomeOf(id));
      const outcome = worst(
        [...running].map((id) => seen.get(id)!),
        status.phase,
      );
      if (!options.json) io.out(`release ${outcome === 'idle' ? 'idle: no deployment found' : `ended: ${outcome}`}\n`);
      return outcome === 'promoted' || outcome === 'idle' ? EXIT.OK : EXIT.ROLLED_BACK;
    }
    if (deps.now() - started + options.intervalMs > options.timeoutMs) {
      throw new ExitError(`still in progress after ${Math.round(options.timeoutMs / 60_000)} min; stopped watching (the release goes on)`, EXIT.TIMEOUT);
    }
    await deps.sleep(options.intervalMs);
  }
}

const SEVERITY: Record<DeploymentOutcome | 'idle', number> = { idle: 0, promoted: 1, 'in-progress': 2, stopped: 3, 'rolled-back': 4, failed: 5 };

function worst(outcomes: readonly DeploymentOutcome[], phase: ReleaseStatus['phase']): ReleaseStatus['phase'] {
  return [phase, ...outcomes].reduce((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), 'idle' as ReleaseStatus['phase']);
}

function withoutClock(frame: string): string {
  return frame.replace(/ at \S+Z/, '').replace(/\d+m\d+s left|\d+s left/g, '');
}

/** A text progress bar: `[######--------------]`. */
export function bar(percent: number, width = 20): string {
  const p = Math.max(0, Math.min(100, percent));
  const filled = Math.round((p / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The status as text: one block per plane, the alarms, and the outcome. */
export function renderStatus(s: ReleaseStatus): string {
  const lines: string[] = [];
  lines.push(`${s.service} (stack ${s.stack}) release ${s.releaseId.slice(0, 12)} at ${s.at}`);
  const weights = Object.entries(s.served.weights)
    .map(([v, w]) => `${v} (${w} %)`)
    .join(' + ');
  lines.push(`  served    ${s.served.alias} -> version ${weights || s.served.version || 'unknown'}; config ${s.tuple.config}; degrade ${s.tuple.degrade}`);
  lines.push(
    `  tuple     code ${s.tuple.code}, prompt ${s.tuple.prompt}, model ${s.tuple.model}, retrieval ${s.tuple.retrieval}, tools ${s.tuple.tools}, output contract ${s.tuple.outputContract}`,
  );
  const c = s.code;
  if (!c) lines.push('  code      no deployment yet');
  else {
    const versions = c.from || c.to ? `  version ${c.from ?? '?'} -> ${c.to ?? '?'}` : '';
    if (c.outcome === 'in-progress') {
      const pct = c.trafficPercent;
      const traffic = pct === undefined ? 'traffic share unknown' : `${bar(pct)} ${pct} % on new`;
      lines.push(
        `  code      ${c.id} ${c.status}${c.lifecycleEvent ? ` (${c.lifecycleEvent})` : ''}  ${c.schedule}${c.step ? `  step ${c.step}` : ''}  ${traffic}${c.secondsLeft !== undefined ? `  ${duration(c.secondsLeft)} left` : ''}${versions}`,
      );
    } else {
      lines.push(`  code      ${c.id} ${c.status} (${c.outcome})${c.endedAt ? ` ${c.endedAt}` : ''}  ${c.schedule}${versions}`);
    }
    if (c.message) lines.push(`            ${c.message}`);
  }
  lines.push(configLine('config', s.config));
  if (s.config?.message) lines.push(`            ${s.config.message}`);
  lines.push(configLine('degrade', s.degrade));
  const counts = new Map<string, number>();
  for (const a of s.alarms) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
  lines.push(
    `  alarms    ${
      [...counts.entries()]
        .sort()
        .map(([state, n]) => `${n} ${state}`)
        .join(', ') || 'none found'
    }`,
  );
  for (const a of s.alarms.filter((x) => x.state !== 'OK')) lines.push(`    ${a.state.padEnd(17)} ${a.name}${a.since ? ` since ${a.since}` : ''}`);
  lines.push(`  phase     ${s.phase}`);
  return `${lines.join('\n')}\n`;
}

function configLine(name: string, d: ConfigDeploymentState | undefined): string {
  const head = `  ${name.padEnd(9)} `;
  if (!d) return `${head}no deployment yet`;
  const what = `#${d.number} version ${d.version}${d.label ? ` (${d.label})` : ''}`;
  if (d.outcome === 'in-progress') {
    const left = d.secondsLeft !== undefined ? `  ${d.state === 'BAKING' ? 'bake ' : ''}${duration(d.secondsLeft)} left` : '';
    return `${head}${what} ${d.state}  ${bar(d.percentage)} ${d.percentage} %${left}`;
  }
  return `${head}${what} ${d.state} (${d.outcome})${d.endedAt ? ` ${d.endedAt}` : ''}`;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  return n;
}
