#!/usr/bin/env node
/**
 * The `cdk-ai-release` command (package.json `bin`). Commands: `diff`, `models check`; run with --help for the list.
 * Exit codes: 0 done, 1 a difference found (commands given --exit-code), 2 bad usage or input, 3 internal error.
 */
import { runAsync } from './cli/program';

runAsync(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
