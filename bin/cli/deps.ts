import * as readline from 'node:readline';
import type { Command } from 'commander';
import { type AwsClients, type AwsTarget, defaultClients } from './aws';
import { EXIT, ExitError } from './io';
import type { LocateOptions } from './locate';

/** What the operator commands need from the world; tests pass their own (mock clients, a clock, answers). */
export interface CliDeps {
  /** Builds the AWS clients. @default SDK clients for --region / --profile */
  readonly clients?: (target: AwsTarget) => AwsClients;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Whether a person is at a terminal (standard input and output are TTYs). @default process.stdin/stdout.isTTY */
  readonly isTTY?: boolean;
  /** Asks a question on the terminal and returns the answer. @default readline on stdin/stderr */
  readonly ask?: (question: string) => Promise<string>;
}

export type Deps = Required<CliDeps>;

export function resolveDeps(deps: CliDeps = {}): Deps {
  return {
    clients: deps.clients ?? defaultClients,
    now: deps.now ?? Date.now,
    sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    isTTY: deps.isTTY ?? (process.stdin.isTTY === true && process.stdout.isTTY === true),
    ask: deps.ask ?? askOnTerminal,
  };
}

async function askOnTerminal(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** Options every command that talks to AWS takes. */
export interface AwsCommandOptions extends LocateOptions, AwsTarget {
  readonly json?: boolean;
}

/** Adds --stack, --app, --region and --profile. */
export function withAwsOptions(command: Command): Command {
  return command
    .option('--stack <name>', 'the stack the service is deployed in (else found from --app, or from the manifests deployed in SSM)')
    .option('--app <dir>', 'a cloud assembly (cdk.out) to find the service in')
    .option('--manifest <file>', 'the deployed manifest at hand (`aws ssm get-parameter` output, or the value): no SSM read')
    .option('--region <region>', 'AWS region (else AWS_REGION or the profile)')
    .option('--profile <name>', 'AWS profile (else AWS_PROFILE or the default chain)');
}

/**
 * Asks before a change to a live service. Without --yes it needs a person at a terminal: in a pipeline with no TTY
 * it refuses rather than act unasked (exit 6).
 */
export async function confirm(deps: Deps, yes: boolean | undefined, question: string, what: string): Promise<void> {
  if (yes) return;
  if (!deps.isTTY) {
    throw new ExitError(`refusing to ${what} without confirmation: no terminal to ask on; pass --yes to confirm in a pipeline`, EXIT.NOT_CONFIRMED);
  }
  const answer = (await deps.ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new ExitError(`not confirmed; did not ${what}`, EXIT.NOT_CONFIRMED);
}
