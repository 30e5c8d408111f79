#!/usr/bin/env node
/**
 * The `cdk-ai-release` command (package.json `bin`). Commands: diff, status, rollback, degrade, regression, review,
 * gate (and drill); run with --help for the list and the exit codes (bin/cli/io.ts EXIT).
 */
import { quietSdkEnvironment } from './cli/node-support';
import { runAsync } from './cli/program';

// Before any SDK client is built (they are built on first use): no SDK notice on a supported Node (node-support).
Object.assign(process.env, quietSdkEnvironment(process.version, process.env));

runAsync(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`cdk-ai-release: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 3;
  },
);
