#!/usr/bin/env node
/**
 * The `cdk-ai-release` command (package.json `bin`). Commands: diff, status, rollback, degrade, regression, review,
 * gate (and drill); run with --help for the list and the exit codes (bin/cli/io.ts EXIT).
 */
import { runAsync } from './cli/program';

runAsync(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`cdk-ai-release: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 3;
  },
);
