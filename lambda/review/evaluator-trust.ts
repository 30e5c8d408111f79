/**
 * The review's lines on the evaluator (issue 17 F, h5-evtrust): its agreement with people's labels, measured from the
 * store when the review is written, and this release's evaluation budget (whether sampling stopped because a cap was
 * spent). Kept apart from review.ts, which calls it once. The evaluation sections on scores are the gate's and
 * judge's (other files).
 */
import type { DeploymentFacts, ReleaseEnd } from './ports';
import type { ReviewEvaluatorTrust } from '../shared/contract';
import { readLedger, releaseEntryFor } from '../evaluator/budget';
import { evaluationLedgerKey } from '../shared/evaluation';
import { describeAgreement, type EvaluatorAgreement } from '../shared/evaluator-agreement';
import { measureAgreement } from '../shared/label-store';
import type { ObjectStore } from '../snapshot/store';

/** What the review reads of the evaluator; absent from the ports: the review has no evaluator lines. */
export interface EvaluatorTrustPort {
  /** Whether the service's answers are evaluated (its evaluation ledger exists). */
  evaluated(service: string): Promise<boolean>;
  /** The agreement over the service's labels, or undefined when nobody labelled. */
  agreement(service: string): Promise<EvaluatorAgreement | undefined>;
  /** This release's entry in the evaluation budget ledger, when there is one. */
  budget?(service: string, release: { readonly plane: ReleaseEnd['plane']; readonly to?: string }): Promise<ReviewEvaluatorTrust['budget'] | undefined>;
}

/** The review's evaluator section, or undefined when the service is not evaluated. */
export async function reviewEvaluatorTrust(
  port: EvaluatorTrustPort,
  release: ReleaseEnd,
  deployment: DeploymentFacts | undefined,
): Promise<ReviewEvaluatorTrust | undefined> {
  const [evaluated, agreement] = await Promise.all([port.evaluated(release.service), port.agreement(release.service)]);
  if (!evaluated && !agreement) return undefined;
  const budget = port.budget ? await port.budget(release.service, { plane: release.plane, ...(deployment?.to ? { to: deployment.to } : {}) }) : undefined;
  return {
    ...(agreement ? { agreement } : {}),
    agreementLine: describeAgreement(agreement),
    ...(budget ? { budget, budgetLine: describeBudget(budget) } : {}),
  };
}

const usd = (x: number) => `${x.toFixed(x < 1 ? 4 : 2)} USD`;
const pctRate = (x: number) => `${Math.round(x * 1000) / 10} %`;

/** One line on this release's evaluation budget. */
export function describeBudget(b: NonNullable<ReviewEvaluatorTrust['budget']>): string {
  const cap = b.perReleaseUsd !== undefined ? ` of the ${usd(b.perReleaseUsd)} release budget` : '';
  const throttle =
    b.throttledAt !== undefined
      ? `; from ${b.throttledAt} the budget ran short and both arms were scored at one falling rate (by case-id hash, down to ${pctRate(b.lowestRate ?? 1)})`
      : '';
  if (!b.stoppedAt) return `evaluation budget: ${usd(b.spentUsd)} spent${cap}${throttle}; sampling never stopped`;
  return (
    `evaluation budget: **sampling stopped at ${b.stoppedAt}** because the ${b.stoppedBy === 'day' ? 'day' : 'release'} budget was spent ` +
    `(${usd(b.spentUsd)} spent${cap}${throttle}): ` +
    'the scores and paired comparisons after that time are missing from this release'
  );
}

/** The review's Markdown section (empty when the service is not evaluated). */
export function renderEvaluatorTrustMarkdown(t: ReviewEvaluatorTrust | undefined): string[] {
  if (!t) return [];
  return ['## Evaluator', '', `- ${t.agreementLine}`, ...(t.budgetLine ? [`- ${t.budgetLine}`] : []), ''];
}

/** The port over the regression store (the review function's bucket): reads only. */
export function storeEvaluatorTrust(store: Pick<ObjectStore, 'get' | 'exists'>): EvaluatorTrustPort {
  return {
    evaluated: (service) => store.exists(evaluationLedgerKey(service)),
    agreement: (service) => measureAgreement(store, service),
    async budget(service, release) {
      if (!release.to) return undefined;
      const o = await store.get(evaluationLedgerKey(service));
      if (!o) return undefined;
      const found = releaseEntryFor(readLedger(JSON.parse(o.body), new Date()), release.plane, release.to);
      if (!found) return undefined;
      const s = found.spend;
      return {
        releaseKey: found.key,
        spentUsd: s.spentUsd,
        ...(s.stoppedAt ? { stoppedAt: s.stoppedAt, stoppedBy: s.stoppedBy ?? 'release' } : {}),
        ...(s.throttledAt ? { throttledAt: s.throttledAt, ...(s.lowestRate !== undefined ? { lowestRate: s.lowestRate } : {}) } : {}),
      };
    },
  };
}
