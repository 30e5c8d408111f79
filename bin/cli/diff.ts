import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { diffReleaseManifests, parseReleaseManifest, renderManifestDiff } from '../../lambda/shared/release-manifest';
import type { ReleaseManifest } from '../../lambda/shared/contract';
import { EXIT, type Io, UsageError } from './io';

const MANIFEST_SUFFIX = '.release-manifest.json';

interface DiffOptions {
  readonly json?: boolean;
  readonly exitCode?: boolean;
  readonly service?: string;
}

/** `cdk-ai-release diff <previous> <next>`: what one release changed against another. */
export function registerDiff(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('diff')
    .summary('show what one release changed against another')
    .description(
      'Shows what one release of a service changed against another, component by component (code, prompt, model, retrieval, tools, output contract), down to the changed keys and words.',
    )
    .argument('<previous>', 'the earlier release: a manifest file, a cdk.out directory, `aws ssm get-parameter` output, or - for standard input')
    .argument('<next>', 'the later release, in any of the same forms')
    .option('-s, --service <name>', 'the service to read from a cdk.out directory that holds several')
    .option('--json', 'print the structured diff as JSON')
    .option('--exit-code', 'exit 1 when the releases differ, 0 when they are the same release')
    .addHelpText(
      'after',
      `
Examples:
  $ cdk-ai-release diff previous.json cdk.out/support-assistant.release-manifest.json
  $ cdk-ai-release diff old-cdk.out cdk.out --service support-assistant
  $ aws ssm get-parameter --name /cdk-ai-release/<stack>/<service>/release-manifest > deployed.json
  $ cdk-ai-release diff deployed.json cdk.out --exit-code

Exit codes: 0 done (with --exit-code: the same release), 1 the releases differ (only with --exit-code), 2 bad usage or input, 3 internal error.`,
    )
    .action((previous: string, next: string, options: DiffOptions) => {
      const [a, b] = [previous, next].map((source) => readManifest(source, options.service, io));
      let diff: ReturnType<typeof diffReleaseManifests>;
      try {
        diff = diffReleaseManifests(a, b);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      io.out(options.json ? `${JSON.stringify(diff, undefined, 2)}\n` : `${renderManifestDiff(diff)}\n`);
      setExit(options.exitCode && !diff.identical ? EXIT.CHANGED : EXIT.OK);
    });
}

/** Reads a manifest from a file, a cdk.out directory (with --service when it holds several), or - (stdin). */
export function readManifest(source: string, service: string | undefined, io: Io): ReleaseManifest {
  if (source === '-') {
    if (!io.stdin) throw new UsageError('- (standard input) is not available here');
    return parse(io.stdin(), 'standard input');
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch (e) {
    throw new UsageError(`cannot read ${source} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const file = stat.isDirectory() ? manifestInAssembly(source, service) : source;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parse(text, file);
}

function parse(text: string, source: string): ReleaseManifest {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`${source} is not JSON: ${(e as Error).message}`);
  }
  try {
    return parseReleaseManifest(json, source);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The `<service>.release-manifest.json` in a cloud assembly directory (or one of its nested stage assemblies). */
function manifestInAssembly(dir: string, service: string | undefined): string {
  const found = new Map<string, string>();
  const scan = (d: string, depth: number) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(MANIFEST_SUFFIX)) {
        const name = entry.name.slice(0, -MANIFEST_SUFFIX.length);
        if (!found.has(name)) found.set(name, path.join(d, entry.name));
      } else if (entry.isDirectory() && depth < 2 && entry.name.startsWith('assembly-')) {
        scan(path.join(d, entry.name), depth + 1);
      }
    }
  };
  scan(dir, 0);
  const services = [...found.keys()].sort();
  if (service !== undefined) {
    const file = found.get(service);
    if (!file) {
      throw new UsageError(`${dir} has no release manifest of service "${service}" (${service}${MANIFEST_SUFFIX}); it has: ${services.join(', ') || 'none'}`);
    }
    return file;
  }
  if (services.length === 1) return found.get(services[0])!;
  if (services.length === 0) {
    throw new UsageError(`${dir} holds no *${MANIFEST_SUFFIX}; pass a cdk.out directory after \`cdk synth\`, or a manifest file`);
  }
  throw new UsageError(`${dir} holds manifests of several services (${services.join(', ')}); choose one with --service <name>`);
}
