import { Command, CommanderError } from 'commander';
import { type CliDeps, type Deps, resolveDeps } from './deps';
import { registerDegrade } from './degrade';
import { registerDiff } from './diff';
import { registerDrill } from './drill';
import { AwsError, EXIT, EXIT_HELP, ExitError, type Io, processIo, UsageError } from './io';
import { registerModels } from './models';
import { registerRollback } from './rollback';
import { registerStatus } from './status';
import { registerGate, registerRegression, registerReview } from './store';

/**
 * Every command, registered in the order `--help` lists them. A command is one module with a
 * `register…(program, io, setExit, deps)` function added here (a command that needs no AWS may ignore `deps`).
 */
const COMMANDS: readonly ((program: Command, io: Io, setExit: (code: number) => void, deps: Deps) => void)[] = [
  registerDiff,
  registerStatus,
  registerRollback,
  registerDegrade,
  registerRegression,
  registerReview,
  registerGate,
  registerModels,
  registerDrill,
];

export type { CliDeps } from './deps';

/** Builds the `cdk-ai-release` program; `setExit` receives each command's exit code. */
export function createProgram(io: Io, setExit: (code: number) => void, cliDeps: CliDeps = {}): Command {
  const deps = resolveDeps(cliDeps);
  const program = new Command('cdk-ai-release')
    .description('Operator tools for services released with cdk-ai-release.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(text) })
    .exitOverride();
  program.addHelpText('after', `\n${EXIT_HELP}`);
  for (const register of COMMANDS) register(program, io, setExit, deps);
  const inherit = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput(program.configureOutput());
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/**
 * Runs the CLI on `argv` (without node and script) and resolves to the exit code; never calls process.exit. The
 * entry point: every command, the ones that call AWS included.
 */
export async function runAsync(argv: readonly string[], io: Io = processIo, deps: CliDeps = {}): Promise<number> {
  let code: number = EXIT.OK;
  const program = createProgram(
    io,
    (c) => {
      code = c;
    },
    deps,
  );
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return failed(e, io);
  }
}

/** The exit code of a failure, after printing it as one line (a stack trace only for a bug). */
function failed(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    // --help and --version end here with exit code 0; parse errors have already printed their message.
    return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (e instanceof UsageError) {
    io.err(`cdk-ai-release: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof AwsError) {
    io.err(`cdk-ai-release: ${e.message}\n`);
    return EXIT.AWS;
  }
  if (e instanceof ExitError) {
    io.err(`cdk-ai-release: ${e.message}\n`);
    return e.exitCode;
  }
  // Not the user's input: a bug. Its own exit code, so it is never read as "changed" (1) or "bad input" (2).
  io.err(`cdk-ai-release: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.INTERNAL;
}

/**
 * Runs the CLI synchronously and returns the exit code: for the commands that work on files (diff); a command that
 * calls AWS needs `runAsync` (the `cdk-ai-release` bin uses it for everything).
 */
export function run(argv: readonly string[], io: Io = processIo): number {
  let code: number = EXIT.OK;
  const program = createProgram(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.USAGE;
  }
  // A command that calls AWS finishes after parse() returns: refuse it here rather than return an exit code it has
  // not set yet.
  program.hook('preAction', (_program, action) => {
    let top = action;
    while (top.parent && top.parent !== program) top = top.parent;
    if (ASYNC_COMMANDS.has(top.name())) throw new UsageError(`${top.name()} calls AWS: run it through runAsync (the cdk-ai-release bin does)`);
  });
  try {
    program.parse([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return failed(e, io);
  }
}

/** Commands whose actions are asynchronous (they call AWS). */
const ASYNC_COMMANDS = new Set(['status', 'rollback', 'degrade', 'regression', 'review', 'gate', 'models', 'drill']);

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
