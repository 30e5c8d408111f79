import * as fs from 'node:fs';

/** Where a command writes, and what it reads from standard input; tests pass their own. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Reads standard input whole (for `-` as a file argument). */
  readonly stdin?: () => string;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: () => fs.readFileSync(0, 'utf8'),
};

/**
 * Exit codes of every `cdk-ai-release` command, as `git diff --exit-code` and `diff(1)` use them: 0 done (and, with
 * --exit-code, nothing changed), 1 done and something changed (only with --exit-code), 2 bad usage or input,
 * 3 an internal error (a bug to report).
 */
export const EXIT = { OK: 0, CHANGED: 1, USAGE: 2, INTERNAL: 3 } as const;

/** A problem the user can fix; printed as `cdk-ai-release: <message>` and exits 2, without a stack trace. */
export class UsageError extends Error {}
