/**
 * The statistics engine, as the judge's wiring sees it; bound to `lambda/judge/judge.ts` in `engine.ts`. The wiring
 * never looks inside the engine's state.
 */

/** One invocation as the engine takes it: the engine's own type (lambda/judge/judge.ts), not a copy. */
import type { JudgeObservation } from '../judge/judge';
import type { EvaluationBatch, EvaluationOptions } from '../judge/scores';
import type { JudgeClusters, JudgeTolerance } from '../shared/contract';

export type { EvaluationBatch, JudgeObservation };

/** JSON-serializable; opaque to the wiring. */
export type JudgeState = unknown;

export interface JudgeEvidence {
  readonly metric: string;
  readonly eValue: number;
  readonly threshold: number;
  readonly canary: { readonly n: number; readonly value: number };
  readonly stable: { readonly n: number; readonly value: number };
  /** `concurrent` (the two versions over the same time) or `gross` (after full traffic, against grossErrorRate). */
  readonly test?: 'concurrent' | 'gross';
  /** After full traffic: the comparison with the stable version's past. Informs the review; never rolls back. */
  readonly beforeAfterEValue?: number;
  readonly beforeAfterThreshold?: number;
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
  newJudgeState(options?: {
    alpha?: number;
    /** `cluster` when the cluster (a conversation) is the randomization unit; `environment` under AppConfig's rollout. @default 'request' */
    unit?: 'request' | 'cluster' | 'environment';
    /** After full traffic, the error rate that rolls back. @default 0.2 */
    grossErrorRate?: number;
    /** The evaluator's results judged as metrics of the family (criteria's scores, paired outcomes). @default none */
    evaluation?: EvaluationOptions;

    /** The value tests' tolerance (worse by at most this is not a regression). @default the engine's */
    tolerance?: JudgeTolerance;
  }): JudgeState;
  updateJudge(state: JudgeState, batch: JudgeBatch): JudgeUpdate;
  /** Folds the evaluator's results (scores, paired outcomes) into a state created with `evaluation`. */
  updateEvaluation?(state: JudgeState, batch: EvaluationBatch): JudgeUpdate;
  concludeJudge(state: JudgeState): 'regression' | 'no-regression-shown' | 'inconclusive';
  /** How failures were grouped so far, for the record (the wiring adds which key it read). */
  judgeClusters?(state: JudgeState): Omit<JudgeClusters, 'key'>;
}
