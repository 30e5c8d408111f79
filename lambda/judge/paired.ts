/**
 * The paired-preference test: an anytime-valid sign test on paired comparisons (the canary's and the stable version's
 * answers to the same input, each judged by the evaluator in both orders).
 *
 * Why it is valid: under the null ("the canary answers like the stable version"), for one input the two answers are
 * exchangeable, so the pair (canary, stable) has the same distribution as (stable, canary). Asking the evaluator in
 * both orders and calling a pair for one side only when both orders prefer it, the events "canary preferred in both"
 * and "stable preferred in both" then have the same probability, whatever the evaluator's position bias (a bias to
 * the first position makes the orders disagree, i.e. more ties, never a lean). Among untied pairs the loser is a fair
 * coin flip, independently across inputs given the pairs' draws. Ties are dropped.
 *
 * The e-process bets on "the stable answer wins": with L stable wins and W canary wins among untied pairs,
 * E = ∫ (2θ)^L (2(1-θ))^W dπ(θ), a mixture over θ ∈ (1/2, 1) on a grid (uniform prior). Each factor has expectation 1
 * under the null, so E is a nonnegative martingale and, by Ville's inequality, P(sup E ≥ 1/α) ≤ α however often it is
 * looked at (Ramdas, Grünwald, Vovk & Shafer, "Game-theoretic statistics and safe anytime-valid inference", Stat. Sci.
 * 2023; the sign test is their running example). One-sided: only a canary that loses rolls back.
 *
 * Counting once per input: a retried or repeated input must not contribute twice (its pairs are not independent), so
 * the state keeps the case ids it has counted (as 32-bit hashes) and `updatePaired` ignores a repeat. The list is
 * bounded (PAIRED_SEEN_CAP, which also bounds the judge record in S3): once it is full, pairs of inputs not yet
 * remembered are not counted (`overCap` says how many), so an input is never counted twice. Which pairs count
 * depends on case ids and their order only, never on outcomes, so the bet stays fair; a hash collision only drops a
 * pair.
 */
import type { PairedOutcome } from '../shared/evaluation';
import { hash32 } from './stats';

/**
 * Case ids remembered at most (one pair per input). 10,000 pairs is far more than a canary needs (a 60 % loss rate is
 * shown within a few hundred, bench/RESULTS.md), and 10,000 numbers keep the state near 110 KB of JSON.
 */
export const PAIRED_SEEN_CAP = 10_000;

/** The grid of θ = P(stable wins | untied) the mixture bets on. */
export const PAIRED_GRID: readonly number[] = [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

export interface PairedState {
  /** log of Π factor per grid point. */
  readonly logWealth: readonly number[];
  readonly stableWins: number;
  readonly canaryWins: number;
  readonly ties: number;
  /** 32-bit hashes (FNV-1a) of the case ids already counted (one pair per input), at most PAIRED_SEEN_CAP. */
  readonly seen: readonly number[];
  /** Pairs not counted because `seen` was full (absent: none). */
  readonly overCap?: number;
}

export function newPairedState(): PairedState {
  return { logWealth: PAIRED_GRID.map(() => 0), stableWins: 0, canaryWins: 0, ties: 0, seen: [] };
}

export interface PairedObservation {
  readonly caseId: string;
  readonly outcome: PairedOutcome;
}

/** Folds a batch of paired outcomes into the state; pure. `cap`: case ids remembered at most (tests lower it). */
export function updatePaired(state: PairedState, batch: readonly PairedObservation[], cap = PAIRED_SEEN_CAP): PairedState {
  const seen = new Set(state.seen);
  const logWealth = [...state.logWealth];
  let { stableWins, canaryWins, ties } = state;
  let overCap = state.overCap ?? 0;
  for (const o of batch) {
    const key = hash32(o.caseId);
    if (seen.has(key)) continue;
    if (seen.size >= cap) {
      overCap++;
      continue;
    }
    seen.add(key);
    if (o.outcome === 'tie') {
      ties++;
      continue;
    }
    const stable = o.outcome === 'stable';
    if (stable) stableWins++;
    else canaryWins++;
    for (let i = 0; i < PAIRED_GRID.length; i++) logWealth[i] += Math.log(2 * (stable ? PAIRED_GRID[i] : 1 - PAIRED_GRID[i]));
  }
  return { logWealth, stableWins, canaryWins, ties, seen: [...seen], ...(overCap > 0 ? { overCap } : {}) };
}

/** The mixture e-value (uniform prior over the grid). */
export function pairedEValue(state: PairedState): number {
  const m = Math.max(...state.logWealth);
  const mean = state.logWealth.reduce((s, l) => s + Math.exp(l - m), 0) / state.logWealth.length;
  return Math.exp(m) * mean;
}

export interface PairedVerdict {
  readonly eValue: number;
  /** True when E ≥ 1/α: the canary's answers lose to the stable version's more often than chance allows. */
  readonly regression: boolean;
  readonly stableWins: number;
  readonly canaryWins: number;
  readonly ties: number;
  /** Share of untied pairs the canary lost. */
  readonly lossRate: number | undefined;
}

export function pairedVerdict(state: PairedState, alpha: number): PairedVerdict {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`paired test: alpha must be in (0, 1) (got ${alpha})`);
  const eValue = pairedEValue(state);
  const untied = state.stableWins + state.canaryWins;
  return {
    eValue,
    regression: eValue >= 1 / alpha,
    stableWins: state.stableWins,
    canaryWins: state.canaryWins,
    ties: state.ties,
    lossRate: untied ? state.stableWins / untied : undefined,
  };
}

/**
 * Combines the two orders of one comparison. `first` and `second` are the evaluator's preferred position
 * ('A' | 'B' | 'tie') when the canary's answer was shown as A, then as B.
 */
export function combineOrders(canaryFirst: 'A' | 'B' | 'tie', canarySecond: 'A' | 'B' | 'tie'): PairedOutcome {
  // order 1: canary is A; order 2: canary is B
  const c1 = canaryFirst === 'A' ? 'canary' : canaryFirst === 'B' ? 'stable' : 'tie';
  const c2 = canarySecond === 'B' ? 'canary' : canarySecond === 'A' ? 'stable' : 'tie';
  return c1 === c2 ? c1 : 'tie';
}
