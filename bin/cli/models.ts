import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  BUNDLED_MODEL_LIFECYCLE,
  type BedrockControlPlane,
  checkModelLifecycle,
  checkModels,
  DEFAULT_EOL_WARNING_DAYS,
  type ModelFinding,
  type ModelLifecycleReport,
  type ModelReference,
  modelsOfConfig,
  parseDay,
  worstSeverity,
} from '../../lib/config/model-lifecycle';
import { loadReleaseConfig, ReleaseConfigSource } from '../../lib/config/release-config-source';
import { RELEASE_META_KEY } from '../../lambda/shared/contract';
import { type Io, UsageError } from './io';

/**
 * Exit codes of `models check`: 0 every model fine, 1 a warning (near end of life, a profile-only bare id, a model
 * Bedrock does not offer), 8 a model past its end of life. 2 (bad usage) and 3 (internal error) are the CLI's own.
 */
export const MODELS_EXIT = { OK: 0, WARNING: 1, PAST_END_OF_LIFE: 8 } as const;

interface CheckOptions {
  readonly app?: string;
  readonly config?: string;
  readonly model?: string[];
  readonly json?: boolean;
  readonly offline?: boolean;
  readonly region?: string;
  readonly today?: string;
  readonly warnDays?: string;
}

/** Tests pass a Bedrock client through the Io they give `runAsync`; the binary builds one from the environment. */
export interface ModelsIo extends Io {
  readonly bedrock?: BedrockControlPlane;
}

/** `cdk-ai-release models check`: the lifecycle of the models a release names, from Bedrock or the bundled table. */
export function registerModels(program: Command, io: Io, setExit: (code: number) => void): void {
  const models = program
    .command('models')
    .summary('check the Bedrock models releases name')
    .description('Checks the Bedrock models that release configs name.');
  models
    .command('check')
    .summary('check model lifecycle: end of life, profile-only ids')
    .description(
      `Checks the primary and fallback models of release configs against the Bedrock model lifecycle: past or within --warn-days of end of life, or a profile-only model named by its bare id. Asks Bedrock (ListFoundationModels / GetFoundationModel) when AWS credentials are available, else uses the bundled table (taken ${BUNDLED_MODEL_LIFECYCLE.takenOn}).`,
    )
    .option('--app <dir>', 'a cdk.out directory: every release config synthesized into it')
    .option('--config <path>', 'a release config file, or a directory of section files')
    .option('--model <id...>', 'model ids, inference-profile ids or ARNs to check directly')
    .option('--json', 'print the findings as JSON')
    .option('--offline', 'do not ask Bedrock; use the bundled table')
    .option('--region <region>', 'the AWS Region to ask (default: the SDK default chain)')
    .option('--today <date>', 'the date to check against, YYYY-MM-DD (default: today)')
    .option('--warn-days <days>', `days before end of life to warn (default ${DEFAULT_EOL_WARNING_DAYS})`)
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release models check --app cdk.out
  $ cdk-ai-release models check --config example/support-assistant/release-config --offline
  $ cdk-ai-release models check --model us.anthropic.claude-haiku-4-5-20251001-v1:0 --json

Exit codes: 0 every model fine, 1 a warning (near end of life, a profile-only bare id, unknown to Bedrock), 8 a model past its end of life, 2 bad usage or input, 3 internal error.`,
    )
    .action(async (options: CheckOptions) => {
      const refs = modelsToCheck(options);
      const today = options.today === undefined ? new Date() : usage(() => parseDay(options.today as string));
      const warnDays = options.warnDays === undefined ? DEFAULT_EOL_WARNING_DAYS : Number(options.warnDays);
      if (!Number.isInteger(warnDays) || warnDays < 0) throw new UsageError(`--warn-days must be a whole number of days >= 0, got "${options.warnDays}"`);
      let report: ModelLifecycleReport;
      if (options.offline) {
        report = { findings: checkModels(refs, { today, warnDays }), refreshed: false, offlineReason: '--offline', table: BUNDLED_MODEL_LIFECYCLE };
      } else {
        let client = (io as ModelsIo).bedrock;
        if (!client && options.region) {
          try {
            const { BedrockClient } = require('@aws-sdk/client-bedrock') as typeof import('@aws-sdk/client-bedrock');
            client = new BedrockClient({ region: options.region });
          } catch {
            // not installed: checkModelLifecycle says so and uses the bundled table
          }
        }
        report = await checkModelLifecycle(refs, { today, warnDays, ...(client ? { client } : {}) });
      }
      io.out(options.json ? `${JSON.stringify(jsonReport(report, today, warnDays), undefined, 2)}\n` : renderReport(report, today));
      const worst = worstSeverity(report.findings);
      setExit(worst === 'error' ? MODELS_EXIT.PAST_END_OF_LIFE : worst === 'warning' ? MODELS_EXIT.WARNING : MODELS_EXIT.OK);
    });
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError(`--today: ${(e as Error).message}`);
  }
}

/** The models named by exactly one of --app, --config, --model. */
function modelsToCheck(options: CheckOptions): ModelReference[] {
  const given = [options.app, options.config, options.model].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UsageError('give exactly one of --app <cdk.out>, --config <file or directory>, --model <id...>');
  if (options.model) return options.model.map((modelId) => ({ modelId, role: 'primary' as const }));
  if (options.config) return modelsOfConfigPath(options.config);
  return modelsOfAssembly(options.app as string);
}

function modelsOfConfigPath(file: string): ModelReference[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const source = stat.isDirectory() ? ReleaseConfigSource.fromDirectory(file) : ReleaseConfigSource.fromFile(file);
  const { config, problems } = loadReleaseConfig(source);
  const model = problems.find((p) => p.path.startsWith('$.model'));
  if (model || !config.model) throw new UsageError(`${file}: ${model ? `${model.path}: ${model.message}` : 'no model section'}`);
  const refs = modelsOfConfig(config);
  if (refs.length === 0) throw new UsageError(`${file} names no Bedrock model (model.provider is not "bedrock")`);
  return refs;
}

/** Every release config synthesized into a cloud assembly: the hosted versions whose content carries `_release`. */
function modelsOfAssembly(dir: string): ModelReference[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory; pass the cdk.out of \`cdk synth\``);
  const refs: ModelReference[] = [];
  const seen = new Set<string>();
  const scan = (d: string, depth: number) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory() && depth < 2 && entry.name.startsWith('assembly-')) scan(full, depth + 1);
      else if (entry.isFile() && entry.name.endsWith('.template.json')) {
        let template: { Resources?: Record<string, { Type?: string; Properties?: { Content?: unknown } }> };
        try {
          template = JSON.parse(fs.readFileSync(full, 'utf8'));
        } catch (e) {
          throw new UsageError(`${full} is not JSON: ${(e as Error).message}`);
        }
        for (const r of Object.values(template.Resources ?? {})) {
          if (r.Type !== 'AWS::AppConfig::HostedConfigurationVersion' || typeof r.Properties?.Content !== 'string') continue;
          let content: Record<string, unknown>;
          try {
            content = JSON.parse(r.Properties.Content);
          } catch {
            continue; // not a JSON config: not one of ours
          }
          const meta = content?.[RELEASE_META_KEY] as { service?: unknown } | undefined;
          if (!meta || typeof meta.service !== 'string') continue;
          for (const ref of modelsOfConfig(content, meta.service)) {
            const key = `${ref.service}\n${ref.role}\n${ref.modelId}`;
            if (!seen.has(key)) refs.push(ref);
            seen.add(key);
          }
        }
      }
    }
  };
  scan(dir, 0);
  if (refs.length === 0) throw new UsageError(`${dir} holds no release config with a Bedrock model; run \`cdk synth\` first`);
  return refs;
}

function jsonReport(report: ModelLifecycleReport, today: Date, warnDays: number) {
  return {
    today: today.toISOString().slice(0, 10),
    warnDays,
    source: report.refreshed ? 'bedrock-api' : `bundled-table-${BUNDLED_MODEL_LIFECYCLE.takenOn}`,
    ...(report.offlineReason ? { offlineReason: report.offlineReason } : {}),
    worst: worstSeverity(report.findings),
    findings: report.findings,
  };
}

const MARK: Record<ModelFinding['severity'], string> = { error: 'EOL', warning: 'WARN', note: 'note', ok: 'ok' };

function renderReport(report: ModelLifecycleReport, today: Date): string {
  const head = report.refreshed
    ? `Model lifecycle from Bedrock, ${today.toISOString().slice(0, 10)}`
    : `Model lifecycle from the bundled table of ${BUNDLED_MODEL_LIFECYCLE.takenOn} (offline: ${report.offlineReason})`;
  const rows = report.findings.map((f) => [
    MARK[f.severity],
    f.service ?? '-',
    f.role,
    f.modelId,
    f.status ?? '-',
    f.endOfLifeOn ? `${f.endOfLifeOn} (${(f.daysLeft ?? 0) <= 0 ? `${-(f.daysLeft ?? 0)} days ago` : `in ${f.daysLeft} days`})` : '-',
  ]);
  const header = ['', 'SERVICE', 'ROLE', 'MODEL', 'STATUS', 'END OF LIFE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `${r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()}\n`;
  const details = report.findings.filter((f) => f.severity !== 'ok').map((f) => `- ${MARK[f.severity]}: ${f.message}${f.fix ? `\n  fix: ${f.fix}` : ''}\n`);
  return [`${head}\n\n`, line(header), ...rows.map(line), ...(details.length > 0 ? ['\n', ...details] : [])].join('');
}
