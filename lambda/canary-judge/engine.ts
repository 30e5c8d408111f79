import type { JudgeEngine } from './engine-port';

/**
 * The statistics engine the handler uses. h-stats writes it in `lambda/judge/judge.ts`; at merge this becomes
 *   import * as judge from '../judge/judge';
 *   export const ENGINE: JudgeEngine = judge;
 * Until then every judge call fails with this message, which each entry point treats as a judge crash: the hook
 * answers Succeeded (inconclusive), the tick lets the rollout continue, the schedule publishes nothing.
 */
export const ENGINE: JudgeEngine = {
  newJudgeState: () => notConnected(),
  updateJudge: () => notConnected(),
  concludeJudge: () => notConnected(),
};

function notConnected(): never {
  throw new Error('the canary judge statistics engine (lambda/judge/judge.ts) is not connected; bind it in lambda/canary-judge/engine.ts');
}
