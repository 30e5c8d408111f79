import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Errors the user can fix (a bad prop, a bad config, two platforms in a stack) print like config errors: the
 * message with its fix, no stack trace, exit code 1 — whatever the app's `bin/` does (no try/catch, an async main,
 * the App's automatic synth at exit under `cdk synth`).
 *
 * How: loading the library adds one `uncaughtExceptionMonitor` listener. Node calls it for an uncaught exception or
 * an unhandled rejection before its own report; for a user error (below) it writes the message to stderr and exits 1,
 * so Node's report (source line, stack, `Node.js v…`) never prints. Every other error is left to Node untouched, and
 * nothing happens when the app has its own `uncaughtException` listener (it decides). Not installed under jest.
 *
 * A user error is:
 * - a `ReleaseConfigError` (or anything carrying USER_ERROR);
 * - aws-cdk-lib's ValidationError, which `app.synth()` throws for construct validation errors (how every config
 *   problem and release-policy violation reaches the user) and constructs throw for bad props;
 * - a plain `Error` (not a TypeError or another subclass) thrown from this library's own code (lib/, or the
 *   contract in lambda/shared/): the library throws plain Errors only for input it refuses, each naming the field and
 *   the fix. A bug shows up as a TypeError or the like, and keeps its stack.
 */
export const USER_ERROR = Symbol.for('cdk-ai-release.user-error');

/** aws-cdk-lib marks its ValidationError (and UnscopedValidationError) with this symbol (core/lib/errors). */
const CDK_VALIDATION_ERROR = Symbol.for('@aws-cdk/core.ValidationError');
const INSTALLED = Symbol.for('cdk-ai-release.user-error-reporting');

/** The directories whose plain Errors are the library's input checks: lib/ and lambda/shared/ of this package. */
function libraryDirectories(): string[] {
  // This file is lib/private/user-errors.{ts,js}; built, it is dist/lib/private/user-errors.js.
  const lib = path.resolve(__dirname, '..');
  return [lib + path.sep, path.join(lib, '..', 'lambda', 'shared') + path.sep];
}

/** The file of the first stack frame, from a V8 stack (`    at fn (/file.ts:1:2)` or `    at /file.ts:1:2`). */
export function topFrameFile(stack: string | undefined): string | undefined {
  const line = (stack ?? '').split('\n').find((l) => /^\s+at /.test(l));
  if (!line) return undefined;
  const m = /\((.*):\d+:\d+\)\s*$/.exec(line) ?? /^\s+at (?:async )?(.*):\d+:\d+\s*$/.exec(line);
  if (!m) return undefined;
  return m[1].startsWith('file://') ? decodeURIComponent(m[1].slice('file://'.length)) : m[1];
}

/** Whether an uncaught error is one the user fixes from its message alone (see above). */
export function isUserError(e: unknown, directories: readonly string[] = libraryDirectories()): e is Error {
  if (e === null || typeof e !== 'object') return false;
  const o = e as Record<PropertyKey, unknown>;
  if (o[USER_ERROR] === true || o.name === 'ReleaseConfigError') return true;
  if (CDK_VALIDATION_ERROR in o) return true;
  if (Object.getPrototypeOf(e) !== Error.prototype) return false;
  const file = topFrameFile((e as Error).stack);
  return file !== undefined && directories.some((d) => file.startsWith(d));
}

/**
 * The text printed for a user error: its message, one newline. aws-cdk-lib's ValidationError thrown for one
 * construct keeps its path (`constructPath`, which Node's report showed under "Relates to construct") in front, as
 * synth's validation report writes it: `[Stack/Fn] message`.
 */
export function userErrorText(e: Error): string {
  const at = (e as { constructPath?: unknown }).constructPath;
  const message = e.message.trimEnd();
  return `${typeof at === 'string' && at !== '' && !message.startsWith(`[${at}]`) ? `[${at}] ` : ''}${message}\n`;
}

/** Adds the monitor once per process (also when two copies of the library are loaded). */
export function installUserErrorReporting(proc: NodeJS.Process = process): void {
  const flags = proc as unknown as Record<symbol, boolean>;
  if (flags[INSTALLED]) return;
  flags[INSTALLED] = true;
  proc.on('uncaughtExceptionMonitor', (e) => {
    // An app that handles uncaught exceptions itself decides what to print, and whether to exit.
    if (proc.listenerCount('uncaughtException') > 0 || !isUserError(e)) return;
    try {
      fs.writeSync(2, userErrorText(e));
    } finally {
      proc.exit(1);
    }
  });
}

// Jest reports a test's errors itself (and loads the library once per test file).
if (process.env.JEST_WORKER_ID === undefined) installUserErrorReporting();
