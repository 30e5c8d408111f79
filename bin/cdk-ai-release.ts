#!/usr/bin/env node
/**
 * The `cdk-ai-release` command (package.json `bin`). Commands: `diff`; run with --help for the list.
 * Exit codes: 0 done, 1 a difference found (commands given --exit-code), 2 bad usage or input, 3 internal error.
 */
import { run } from './cli/program';

process.exitCode = run(process.argv.slice(2));
