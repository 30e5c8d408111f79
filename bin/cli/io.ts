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
 * Exit codes of every `cdk-ai-release` command. The first four as `git diff --exit-code` and `diff(1)` use them:
 * 0 done (and, with --exit-code, nothing changed), 1 done and something changed or failed (only with --exit-code),
 * 2 bad usage or input (a wrong service, a template without these constructs), 3 an internal error (a bug to report).
 * Then the operator commands': 4 AWS refused or could not be reached (no credentials, access denied, a conflict),
 * 5 the release ended rolled back, stopped or failed (`status --watch`), 6 not confirmed (answered no, or no
 * terminal to ask on and no --yes), 7 `status --watch` gave up waiting (--timeout).
 */
export const EXIT = { OK: 0, CHANGED: 1, USAGE: 2, INTERNAL: 3, AWS: 4, ROLLED_BACK: 5, NOT_CONFIRMED: 6, TIMEOUT: 7, MODEL_PAST_END_OF_LIFE: 8 } as const;

/** The exit codes as `--help` prints them. */
export const EXIT_HELP = `Exit codes:
  0  done
  1  a difference found, or a gate failed (only commands given --exit-code)
  2  bad usage or input (a wrong service, a template without these constructs)
  3  internal error (please report it)
  4  AWS refused or could not be reached (no credentials, access denied, a conflict)
  5  the release ended rolled back, stopped or failed (status --watch)
  6  not confirmed (answered no, or no terminal to ask on and no --yes)
  7  gave up waiting (status --watch --timeout)
  8  a model is past its end of life (models check; 1 when one is near it or named by a bare id)`;

/** A problem the user can fix; printed as `cdk-ai-release: <message>` and exits 2, without a stack trace. */
export class UsageError extends Error {}

/** A problem with AWS (no credentials, access denied, a refusal); printed as one line and exits 4. */
export class AwsError extends Error {}

/** An error that carries its own exit code (a refused confirmation, a timeout). Printed as one line. */
export class ExitError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number,
  ) {
    super(message);
  }
}
