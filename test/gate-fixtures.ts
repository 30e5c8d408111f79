import type { CaseExpectation, FailureKind, RegressionCase } from '../lambda/shared/contract';

let n = 0;
/** A regression case with a unique id and input; `lastSeen` orders them. */
export function gateCase(over: Partial<RegressionCase> & { i?: number } = {}): RegressionCase {
  const i = over.i ?? n++;
  const id = i.toString(16).padStart(32, '0');
  const kinds: FailureKind[] = (over.kinds as FailureKind[]) ?? ['error'];
  const seen = over.lastSeen ?? new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
  return {
    schemaVersion: 1,
    caseId: id,
    service: 'svc',
    state: 'accepted',
    input: JSON.stringify({ question: `q${i}` }),
    kinds,
    failedOn: [],
    firstSeen: over.firstSeen ?? seen,
    lastSeen: seen,
    count: 1,
    sampleRequestIds: [],
    expectation: { noError: true } as CaseExpectation,
    history: [],
    ...over,
  } as RegressionCase;
}
