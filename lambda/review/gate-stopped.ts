/**
 * The review of a config release the config gate stopped (lambda/config-deployer asks for it): such a release never
 * starts a live AppConfig deployment, so no ON_DEPLOYMENT_* action reaches the reviewer. The review is built by the
 * same builders as every other one (buildReview, chartInput, the renderers), then says what the gate found.
 * Pure: no AWS SDK.
 */
import { CONFIG_GATE_STOPPED_KIND, type ConfigGateStoppedEvent, type FailureKind, type ReleaseReview, type ReviewTimelineEntry } from '../shared/contract';
import type { ReleaseEnd } from './ports';

export function isConfigGateStopped(event: unknown): event is ConfigGateStoppedEvent {
  return !!event && typeof event === 'object' && (event as { kind?: unknown }).kind === CONFIG_GATE_STOPPED_KIND;
}

/** The release as the review's builders see it: a config release that ended STOP before any live deployment. */
export function gateStoppedRelease(e: ConfigGateStoppedEvent): ReleaseEnd {
  const bad = (field: string, want: string) =>
    new Error(`${CONFIG_GATE_STOPPED_KIND} event: ${field} must be ${want}; the config deployer (lambda/config-deployer) sends this event`);
  if (typeof e.service !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(e.service) || e.service === '.' || e.service === '..')
    throw bad('service', 'a service name ([A-Za-z0-9_.-])');
  if (typeof e.configVersion !== 'string' || !/^\d+$/.test(e.configVersion)) throw bad('configVersion', 'a hosted version number');
  if (!e.gate || typeof e.gate.json !== 'string' || typeof e.gate.md !== 'string' || typeof e.gate.summary !== 'string')
    throw bad('gate', 'an object with json, md and summary strings');
  if (e.gate.verdict !== 'failed' && e.gate.verdict !== 'error') throw bad('gate.verdict', '"failed" or "error"');
  const at = Date.parse(e.at);
  if (!Number.isFinite(at)) throw bad('at', 'an ISO-8601 time');
  return {
    plane: 'config',
    service: e.service,
    // One review per stop: a gate that fails the same version twice (after a fix that did not help) gets two.
    releaseKey: `config-gate-${e.configVersion}-${at}`,
    deploymentId: `gate-${e.configVersion}`,
    state: 'STOP',
    at: new Date(at).toISOString(),
  };
}

/** The gate's findings over a review built from no deployment facts (there was no live deployment). */
export function withGateFindings(base: ReleaseReview, e: ConfigGateStoppedEvent): ReleaseReview {
  const cases = e.gate.cases ?? [];
  const byKind: Partial<Record<FailureKind, { cases: number; requests: number }>> = {};
  // The gate replays each case once: one request per case.
  for (const c of cases) for (const k of c.kinds) byKind[k] = { cases: (byKind[k]?.cases ?? 0) + 1, requests: (byKind[k]?.requests ?? 0) + 1 };
  const version = `config version ${e.configVersion}${e.configLabel ? ` (${e.configLabel})` : ''}`;
  const what = e.gate.verdict === 'failed' ? 'the regression gate failed it' : 'the regression gate could not judge it';
  const timeline: ReviewTimelineEntry[] = [
    { at: base.deployment.endedAt ?? e.at, event: 'deployment-end', detail: `config gate ${e.gate.verdict}: ${e.gate.summary}`.slice(0, 500) },
  ];
  return {
    ...base,
    deployment: { ...base.deployment, state: e.gate.verdict === 'failed' ? 'GATE_FAILED' : 'GATE_ERROR', to: e.configLabel ?? e.configVersion, endedAt: e.at },
    timeline,
    samples: {
      ...base.samples,
      byKind,
      topCases: cases.map((c) => ({
        caseId: c.caseId,
        state: c.state,
        kinds: c.kinds,
        count: 1,
        input: `${c.outcome}: ${c.reasons.join('; ') || 'no reason given'}`,
      })),
    },
    gate: { verdict: e.gate.verdict === 'failed' ? 'failed' : 'unknown', json: e.gate.json, md: e.gate.md },
    conclusion: `Stopped by the config gate before any live deployment: ${what} — ${e.gate.summary}`.slice(0, 500),
    actionItems: [
      e.gate.verdict === 'failed'
        ? `Fix ${version} for the failing cases in the gate report (${e.gate.md}), or retire cases that no longer hold (cases/${e.service}/).`
        : `Find why the gate did not answer for ${version} (the gate function's logs; ${e.gate.md} if it wrote a report) and fix it.`,
      `Re-run the release (cdk deploy) once the gate passes ${version}.`,
      ...base.actionItems.filter((a) => a.startsWith('Complete this review by hand')),
    ],
  };
}
