import type { EvaluatorTrustPort } from './evaluator-trust';
import type { GuardrailTerm } from '../shared/guardrail-terms';
import type { CaseState, FailureKind, JudgeRecord, RegressionCase, ReleaseManifest, ReleasePlane } from '../shared/contract';

/** The end of one release on one plane, as the review sees it (parsed from a CodeDeploy or AppConfig event). */
export interface ReleaseEnd {
  readonly plane: ReleasePlane;
  readonly service: string;
  /** One review per release: derived from the deployment id / AppConfig environment and deployment number. */
  readonly releaseKey: string;
  readonly deploymentId: string;
  /** SUCCESS / FAILURE / STOP (CodeDeploy) or COMPLETE / ROLLED_BACK (AppConfig). */
  readonly state: 'SUCCESS' | 'FAILURE' | 'STOP' | 'COMPLETE' | 'ROLLED_BACK';
  /** ISO-8601 time of the event (CodeDeploy) or of the review's start (AppConfig payloads carry no time). */
  readonly at: string;
  readonly codeDeploy?: { readonly application: string; readonly deploymentGroup: string };
  readonly appConfig?: {
    readonly applicationId: string;
    readonly environmentId: string;
    readonly deploymentNumber: number;
    readonly configurationVersion?: string;
  };
}

/** What the deployment API says about one release. Times are ISO-8601. */
export interface DeploymentFacts {
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Lambda versions (code) or config version labels (config). */
  readonly from?: string;
  readonly to?: string;
  /** Share of traffic (code) or of clients (config) on the new version, from each time on. */
  readonly steps: readonly { readonly at: string; readonly percent: number }[];
  readonly rollback?: { readonly startedAt?: string; readonly endedAt?: string; readonly by?: string };
  /** Bake time start (config plane). */
  readonly bakeStartedAt?: string;
  /** The status message or the error (CodeDeploy), or what triggered a rollback (AppConfig). */
  readonly message?: string;
  /** Set when this deployment is itself CodeDeploy's automatic rollback of another: no review of its own. */
  readonly rollbackOf?: string;
}

export interface DeploymentPort {
  describe(release: ReleaseEnd): Promise<DeploymentFacts>;
}

export interface ManifestVersion {
  /** When this manifest was written to the parameter (ISO-8601). */
  readonly at: string;
  readonly manifest: ReleaseManifest;
}

export interface ManifestHistoryPort {
  /** Every version of the service's manifest parameter, oldest first. */
  history(service: string): Promise<readonly ManifestVersion[]>;
}

/** One release alarm as CloudWatch describes it. */
export interface AlarmInfo {
  readonly name: string;
  readonly threshold: number;
  readonly comparison: '>' | '<';
  readonly periodSeconds: number;
  /** The invocation guard parsed from the alarm's expression (`IF(inv >= 5, …)`). */
  readonly minInvocations: number;
  /**
   * A combined guardrail alarm's terms, each with its guardrail's own threshold (lambda/shared/guardrail-terms.ts).
   * @default none (an alarm of one guardrail)
   */
  readonly terms?: readonly GuardrailTerm[];
}

export interface AlarmTransition {
  readonly alarm: string;
  readonly at: string;
  readonly from: string;
  readonly to: string;
}

export interface AlarmPort {
  /** The metric alarms whose names start with `prefix`. */
  alarms(prefix: string): Promise<readonly AlarmInfo[]>;
  /** State changes of the named alarms between start and end, oldest first. */
  history(names: readonly string[], start: string, end: string): Promise<readonly AlarmTransition[]>;
}

/** One metric to fetch: CloudWatch names, no SDK types. */
export interface MetricQuery {
  readonly id: string;
  readonly metricName: string;
  readonly stat: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly periodSeconds: number;
}

/** Timestamps (ISO-8601) and values, oldest first. */
export interface MetricSeries {
  readonly timestamps: readonly string[];
  readonly values: readonly number[];
}

export interface MetricsPort {
  fetch(queries: readonly MetricQuery[], start: string, end: string): Promise<Readonly<Record<string, MetricSeries>>>;
}

export interface CasesPort {
  /** The service's candidate and accepted cases written or updated since `since`. */
  touchedSince(service: string, since: string): Promise<readonly RegressionCase[]>;
}

export interface StorePort {
  exists(key: string): Promise<boolean>;
  /** Writes the object; with `ifAbsent`, never overwrites (returns 'exists' when another writer was first). */
  put(key: string, body: string, contentType: string, ifAbsent?: boolean): Promise<'written' | 'exists'>;
  /** Where people find an object (s3://bucket/key). */
  location(key: string): string;
}

export interface NotifierPort {
  publish(subject: string, message: string): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The canary judge's record of a release (judge/<service>/<releaseKey>.json), when there is one. */
export interface JudgePort {
  record(service: string, releaseKey: string): Promise<JudgeRecord | undefined>;
}

/** The evaluator's stored results of one service (evaluations/<service>/samples/*.json) whose samples fall in a window. */
export interface EvaluationsPort {
  samples(service: string, start: string, end: string): Promise<readonly StoredEvaluation[]>;
}

export interface ReviewPorts {
  readonly deployments: DeploymentPort;
  readonly manifests: ManifestHistoryPort;
  readonly alarms: AlarmPort;
  readonly metrics: MetricsPort;
  readonly cases: CasesPort;
  readonly store: StorePort;
  readonly notifier: NotifierPort;
  readonly clock: Clock;
  /** @default no judge verdict in the review */
  readonly judge?: JudgePort;
  /** @default no evaluation view in the review */
  readonly evaluations?: EvaluationsPort;

  /** The evaluator's agreement with people and the release's evaluation budget. @default no evaluator lines */
  readonly evaluatorTrust?: EvaluatorTrustPort;
}

export type { CaseState, FailureKind };
import type { StoredEvaluation } from './evaluation';
