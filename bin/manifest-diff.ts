#!/usr/bin/env -S npx tsx
/**
 * Prints what one release changed against another:
 *
 *   npx tsx bin/manifest-diff.ts previous.release-manifest.json cdk.out/support-assistant.release-manifest.json
 *
 * The previous manifest may be a file from an earlier cdk.out or the deployed compact copy, e.g.
 * `aws ssm get-parameter --name /cdk-ai-release/<stack>/<service>/release-manifest > previous.json`.
 * Exit code: 0, or 1 with --exit-code when something changed, 2 on bad input.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { diffReleaseManifests, parseReleaseManifest, renderManifestDiff } from '../lib/release-manifest';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const USAGE = 'usage: manifest-diff <previous.json> <next.json> [--json] [--exit-code]';

export function main(argv: readonly string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  let parsed: ReturnType<
    typeof parseArgs<{
      args: string[];
      allowPositionals: true;
      options: { json: { type: 'boolean' }; 'exit-code': { type: 'boolean' }; help: { type: 'boolean'; short: 'h' } };
    }>
  >;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: 'boolean' }, 'exit-code': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    io.err(`expected two manifest files, got ${parsed.positionals.length}\n${USAGE}\n`);
    return 2;
  }
  try {
    const [previous, next] = parsed.positionals.map((file) => parseReleaseManifest(readJson(file), file));
    const diff = diffReleaseManifests(previous, next);
    io.out(parsed.values.json ? `${JSON.stringify(diff, undefined, 2)}\n` : `${renderManifestDiff(diff)}\n`);
    return parsed.values['exit-code'] && !diff.identical ? 1 : 0;
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 2;
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not JSON: ${(e as Error).message}`);
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
