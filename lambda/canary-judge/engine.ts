import * as judge from '../judge/judge';
import type { JudgeEngine } from './engine-port';

/**
 * The statistics engine the handler uses: the anytime-valid sequential tests of `lambda/judge/judge.ts`. The port
 * keeps the wiring blind to the engine's state; this is the one place the two meet.
 */
export const ENGINE: JudgeEngine = {
  newJudgeState: (options) => judge.newJudgeState(options ?? {}),
  updateJudge: (state, batch) => judge.updateJudge(state as judge.JudgeState, batch),
  updateEvaluation: (state, batch) => judge.updateJudgeEvaluation(state as judge.JudgeState, batch),
  concludeJudge: (state) => judge.concludeJudge(state as judge.JudgeState),
  judgeClusters: (state) => judge.judgeClusters(state as judge.JudgeState),
};
