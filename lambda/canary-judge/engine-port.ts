/**
 * The statistics engine, as the judge's wiring sees it. The shapes are copied from `lambda/judge/judge.ts` (h-stats),
 * which this port is bound to in `engine.ts`; the wiring never looks inside the engine's state.
 */

export interface JudgeObservation {
  readonly version: 'canary' | 'stable';
  /** Epoch milliseconds. */
  readonly at: number;
  readonly error: boolean;
  readonly safety: boolean;
  readonly contract: boolean;
  readonly latencyMs?: number;
  readonly costUsd?: number;
  readonly quality?: number;
}

/** JSON-serializable; opaque to the wiring. */
export type JudgeState = unknown;

export interface JudgeEvidence {
  readonly metric: string;
  readonly eValue: number;
  readonly threshold: number;
  readonly canary: { readonly n: number; readonly value: number };
  readonly stable: { readonly n: number; readonly value: number };
}

export interface JudgeBatch {
  /** The canary's share of traffic, 0..1; 1 after full traffic. */
  readonly canaryShare: number;
  readonly observations: readonly JudgeObservation[];
}

export interface JudgeUpdate {
  readonly state: JudgeState;
  readonly decision: 'regression' | 'continue';
  readonly evidence: readonly JudgeEvidence[];
}

export interface JudgeEngine {
  newJudgeState(options?: { alpha?: number }): JudgeState;
  updateJudge(state: JudgeState, batch: JudgeBatch): JudgeUpdate;
  concludeJudge(state: JudgeState): 'regression' | 'no-regression-shown' | 'inconclusive';
}
