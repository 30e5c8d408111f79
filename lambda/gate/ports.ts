import type { ObjectStore } from '../snapshot/store';

/**
 * The ports of the regression gate. Pure modules take these; aws-adapters.ts implements them with the SDK, tests with
 * s3rver and aws-sdk-client-mock (or plain fakes).
 */

/** The regression store, plus the one listing the gate needs with times (the newest review). */
export interface GateStore extends Pick<ObjectStore, 'get' | 'put' | 'list'> {
  /** The newest key under `prefix` ending with `suffix`, by last-modified time; undefined when none. */
  newest(prefix: string, suffix: string): Promise<string | undefined>;
}

/** What a synchronous invocation returned. */
export interface InvokeResult {
  /** Set when the function failed (`Unhandled`, `Handled`): the payload then is the error object. */
  readonly functionError?: string;
  /** The response payload, UTF-8 text. */
  readonly payload: string;
}

export interface Invoker {
  /**
   * Invokes `<target function>:<qualifier>` synchronously with `payload` (JSON text), asking the runtime for its
   * verdict (ClientContext). Rejects when `signal` aborts.
   */
  invoke(qualifier: string, payload: string, signal: AbortSignal): Promise<InvokeResult>;
}

/** The CodeDeploy side of the hook. */
export interface DeploymentPort {
  /** What the deployment moves: from the deployment's AppSpec (GetDeployment), and who created it. */
  target(deploymentId: string): Promise<DeploymentTarget>;
  /** PutLifecycleEventHookExecutionStatus. */
  answer(deploymentId: string, hookExecutionId: string, status: 'Succeeded' | 'Failed'): Promise<void>;
}

export interface DeploymentTarget {
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** The deployment's CodeDeploy application and group. */
  readonly application?: string;
  readonly deploymentGroup?: string;
  /** GetDeployment's `creator`: `CloudFormationRollback` / `codeDeployRollback` for rollbacks. */
  readonly creator?: string;
}

export interface Clock {
  now(): number;
}

/** A metric line sink (EMF to stdout in Lambda). */
export type LogSink = (line: string) => void;

/**
 * The code canary's announcement in the share document (issue 17 D), through the share controller: which version
 * may draw pair-only samples, for how many seconds from now (0 ends it). Assigned config canaries only.
 */
export interface CodeCanaryPort {
  announce(functionVersion: string, releaseKey: string, forSeconds: number): Promise<void>;
}
