import { Command, CommanderError } from 'commander';
import { registerDiff } from './diff';
import { registerDrill } from './drill';
import { EXIT, type Io, processIo, UsageError } from './io';

/**
 * Every command, registered in the order `--help` lists them. An operator command (status, rollback, …) is one
 * more module with a `register…(program, io, setExit)` function added here.
 */
const COMMANDS = [registerDiff, registerDrill];

/** Builds the `cdk-ai-release` program; `setExit` receives each command's exit code. */
export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('cdk-ai-release')
    .description('Operator tools for services released with cdk-ai-release.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(text) })
    .exitOverride();
  program.addHelpText('after', '\nExit codes: 0 done, 1 a difference found (only commands given --exit-code), 2 bad usage or input, 3 internal error.');
  for (const register of COMMANDS) register(program, io, setExit);
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never calls process.exit. */
export function run(argv: readonly string[], io: Io = processIo): number {
  let code: number = EXIT.OK;
  const program = createProgram(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.USAGE;
  }
  try {
    program.parse([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; parse errors have already printed their message.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof UsageError) {
      io.err(`cdk-ai-release: ${e.message}\n`);
      return EXIT.USAGE;
    }
    // Not the user's input: a bug. Its own exit code, so it is never read as "changed" (1) or "bad input" (2).
    io.err(`cdk-ai-release: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.INTERNAL;
  }
}

function packageVersion(): string {
  // ../../package.json from bin/cli (sources) and from dist/bin/cli (the package): both sit two levels below it.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'cdk-ai-release' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}
