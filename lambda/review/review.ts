/**
 * The release review (复盘): looks up what one release did, through ports, and writes one review per release.
 * No AWS SDK here: adapters (aws-adapters.ts) implement the ports; tests pass tables and fakes.
 */
import {
  type ConfigGateStoppedEvent,
  type FailureKind,
  type JudgeRecord,
  judgeKey,
  manifestParameterName,
  type RegressionCase,
  type ReleaseManifest,
  type ReleaseOutcome,
  type ReleaseReview,
  type ReviewJudge,
  type ReviewTimelineEntry,
  gateKeys,
  reviewKeys,
} from '../shared/contract';
import { reviewEvaluation, type StoredEvaluation } from './evaluation';

import { reviewEvaluatorTrust } from './evaluator-trust';
import { parseReleaseEnd } from './events';
import { gateStoppedRelease, isConfigGateStopped, withGateFindings } from './gate-stopped';
import {
  ALARM_FAILURE_KIND,
  alarmSeries,
  blastRadius,
  comparedDimensions,
  firstFailingPeriod,
  type GuardrailCrossing,
  guardrailCrossings,
  iso,
  metricRows,
  ms,
  type ParsedAlarm,
  pickManifests,
  planeChanges,
  releaseAlarms,
  seriesQueries,
  summarizeCases,
  summaryQueries,
} from './facts';
import type { AlarmTransition, DeploymentFacts, ManifestVersion, MetricSeries, ReleaseEnd, ReviewPorts } from './ports';
import { renderReviewMarkdown } from './render-markdown';
import { type ChartInput, renderChartSvg } from './render-svg';

export interface ReviewOptions {
  /** The stack name: alarm names derive from it. */
  readonly stack: string;
  /** The `<stack path>` of the manifest parameters (differs from the stack name in nested stacks). @default stack */
  readonly manifestPath?: string;
  /** How long to wait for a rollback in progress to finish before writing the review. @default 60 s */
  readonly rollbackWaitMs?: number;
  /**
   * The service of each deployment group the platform's rule sends (REVIEW_ENV.DEPLOYMENT_GROUPS). @default none: a
   * CodeDeploy event must carry `service`
   */
  readonly deploymentGroups?: Readonly<Record<string, string>>;
  /** @default 5 s */
  readonly pollMs?: number;
}

export type ReviewResult =
  | { readonly status: 'written'; readonly review: ReleaseReview; readonly announced: boolean }
  | { readonly status: 'exists'; readonly key: string }
  | { readonly status: 'ignored'; readonly reason: string };

/** Everything looked up for one release; a lookup that failed is absent and named in `missing`. */
export interface ReviewFacts {
  readonly release: ReleaseEnd;
  readonly stack: string;
  readonly now: string;
  readonly deployment?: DeploymentFacts;
  readonly manifests?: readonly ManifestVersion[];
  readonly alarms?: readonly ParsedAlarm[];
  readonly transitions?: readonly AlarmTransition[];
  /** Summary data (`c_*`, `b_*`) and series (`s_*`, `a_*`) from GetMetricData. */
  readonly metrics?: Readonly<Record<string, MetricSeries>>;
  readonly cases?: readonly RegressionCase[];
  readonly judge?: JudgeRecord;
  /** The evaluator's results in the release window (issue 17 E). */
  readonly evaluations?: readonly StoredEvaluation[];
  readonly missing: readonly { lookup: string; reason: string }[];
}

export async function runReview(event: unknown, ports: ReviewPorts, options: ReviewOptions): Promise<ReviewResult> {
  const now = () => iso(ports.clock.now());
  if (isConfigGateStopped(event)) return reviewGateStopped(event, ports, options);
  const parsed = parseReleaseEnd(event, now(), options.deploymentGroups);
  if (!parsed.release) return { status: 'ignored', reason: parsed.ignored ?? 'not the end of a release' };
  const release = parsed.release;
  const keys = reviewKeys(release.service, release.releaseKey);
  // Re-delivery (EventBridge and AppConfig both deliver at least once): the JSON is written last, so its presence
  // means the review is complete.
  if (await ports.store.exists(keys.json)) return { status: 'exists', key: keys.json };

  const missing: { lookup: string; reason: string }[] = [];
  const attempt = async <T>(lookup: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      missing.push({ lookup, reason: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`.slice(0, 300) });
      return undefined;
    }
  };

  let deployment = await attempt('deployment', () => ports.deployments.describe(release));
  if (deployment?.rollbackOf)
    return { status: 'ignored', reason: `deployment ${release.deploymentId} is the automatic rollback of ${deployment.rollbackOf}, reviewed there` };
  // A rollback still running when the failure is announced: wait a little for it (a Lambda alias shift is quick).
  const deadline = ports.clock.now() + (options.rollbackWaitMs ?? 60_000);
  while (deployment?.rollback?.startedAt && !deployment.rollback.endedAt && ports.clock.now() < deadline) {
    await ports.clock.sleep(options.pollMs ?? 5_000);
    deployment = (await attempt('deployment (rollback progress)', () => ports.deployments.describe(release))) ?? deployment;
  }
  if (deployment?.rollback?.startedAt && !deployment.rollback.endedAt) {
    missing.push({
      lookup: 'rollback end',
      reason: `the rollback was still running ${Math.round((options.rollbackWaitMs ?? 60_000) / 1000)} s after the release ended`,
    });
  }

  const prefix = `${options.stack}-${release.service}-`;
  const window = reviewWindow(release, deployment);
  const manifests = await attempt(`manifest history (SSM ${manifestParameterName(options.manifestPath ?? options.stack, release.service)})`, () =>
    ports.manifests.history(release.service),
  );
  const alarms = await attempt('alarms (DescribeAlarms)', async () => releaseAlarms(await ports.alarms.alarms(prefix), prefix));
  const planeAlarms = alarms?.filter((a) => a.plane === release.plane) ?? [];
  const transitions =
    alarms && planeAlarms.length > 0
      ? await attempt('alarm history (DescribeAlarmHistory)', () =>
          ports.alarms.history(
            planeAlarms.map((a) => a.name),
            window.start,
            window.end,
          ),
        )
      : undefined;
  const metrics = await attempt('metrics (GetMetricData)', () => fetchMetrics(ports, release, deployment, window, planeAlarms));
  const cases = await attempt('regression cases (store)', () => ports.cases.touchedSince(release.service, window.start));
  const judge = ports.judge ? await attempt('canary judge record (store)', () => ports.judge!.record(release.service, release.releaseKey)) : undefined;
  const evaluations = ports.evaluations
    ? await attempt('evaluation samples (store)', () => ports.evaluations!.samples(release.service, window.start, window.end))
    : undefined;

  const facts: ReviewFacts = {
    release,
    stack: options.stack,
    now: now(),
    ...(deployment ? { deployment } : {}),
    ...(manifests ? { manifests } : {}),
    ...(alarms ? { alarms } : {}),
    ...(transitions ? { transitions } : {}),
    ...(metrics ? { metrics } : {}),
    ...(cases ? { cases } : {}),
    ...(judge ? { judge } : {}),
    ...(evaluations ? { evaluations } : {}),
    missing,
  };
  // The gate report of this release, when the gate ran (code: same release key; config: keyed by the config version).
  const gateKey =
    release.plane === 'code' ? release.releaseKey : release.appConfig?.configurationVersion ? `config-${release.appConfig.configurationVersion}` : undefined;
  const gate = gateKey ? gateKeys(release.service, gateKey) : undefined;
  const gated = gate ? await attempt('gate report (store)', () => ports.store.exists(gate.json)) : undefined;
  const trust = ports.evaluatorTrust
    ? await attempt('evaluator agreement and budget (store)', () => reviewEvaluatorTrust(ports.evaluatorTrust!, release, deployment))
    : undefined;
  const review: ReleaseReview = {
    ...buildReview(facts),
    ...(gate && gated ? { gate: { verdict: 'unknown' as const, ...gate } } : {}),
    ...(trust ? { evaluatorTrust: trust } : {}),
  };
  return writeAndAnnounce(ports, facts, review);
}

/**
 * A config release the gate stopped (the config deployer asks for it): no live deployment, so no deployment, alarm
 * or metric lookups; the same builders and renderers as every review, with the gate's findings.
 */
async function reviewGateStopped(event: ConfigGateStoppedEvent, ports: ReviewPorts, options: ReviewOptions): Promise<ReviewResult> {
  const release = gateStoppedRelease(event);
  const keys = reviewKeys(release.service, release.releaseKey);
  if (await ports.store.exists(keys.json)) return { status: 'exists', key: keys.json };
  const facts: ReviewFacts = { release, stack: options.stack, now: iso(ports.clock.now()), missing: [] };
  return writeAndAnnounce(ports, facts, withGateFindings(buildReview(facts), event));
}

async function writeAndAnnounce(ports: ReviewPorts, facts: ReviewFacts, review: ReleaseReview): Promise<ReviewResult> {
  const keys = review.objects;
  const chart = chartInput(facts, review);
  // SVG and Markdown first, JSON last: a review whose JSON exists is whole.
  await ports.store.put(keys.svg, renderChartSvg(chart), 'image/svg+xml');
  await ports.store.put(keys.md, renderReviewMarkdown(review, { svgFile: keys.svg.split('/').pop()! }), 'text/markdown; charset=utf-8');
  const put = await ports.store.put(keys.json, `${JSON.stringify(review, null, 2)}\n`, 'application/json', true);
  if (put === 'exists') return { status: 'exists', key: keys.json };

  let announced = true;
  try {
    await ports.notifier.publish(notificationSubject(review), notificationMessage(review, ports.store.location(keys.md), ports.store.location(keys.json)));
  } catch (e) {
    // The review is written; a lost announcement must not make the next delivery write a second one.
    announced = false;
    console.error(JSON.stringify({ message: 'review written but not announced', key: keys.json, error: String(e) }));
  }
  return { status: 'written', review, announced };
}

/** The window the review looks at: from the deployment's start (or 30 min before the end) to the rollback's end. */
export function reviewWindow(release: ReleaseEnd, d: DeploymentFacts | undefined): { start: string; end: string } {
  const end = iso(d?.rollback?.endedAt ?? d?.endedAt ?? release.at);
  const start = iso(d?.startedAt ?? ms(end) - 30 * 60_000);
  return { start, end: ms(end) > ms(start) ? end : iso(ms(start) + 60_000) };
}

async function fetchMetrics(
  ports: ReviewPorts,
  release: ReleaseEnd,
  d: DeploymentFacts | undefined,
  window: { start: string; end: string },
  planeAlarms: readonly ParsedAlarm[],
): Promise<Record<string, MetricSeries>> {
  const dims = comparedDimensions(release.service, release.plane, { from: d?.from, to: d?.to });
  if (!dims.candidate) throw new Error('the new version is unknown (the deployment lookup gave none), so there is nothing to compare');
  const seconds = Math.max(1, (ms(window.end) - ms(window.start)) / 1000);
  const period = planeAlarms[0]?.periodSeconds ?? 10;
  const out: Record<string, MetricSeries> = {};
  Object.assign(
    out,
    await ports.metrics.fetch(
      [...summaryQueries('c', dims.candidate, seconds), ...seriesQueries(release.service, dims.candidate, period)],
      window.start,
      window.end,
    ),
  );
  if (dims.baseline) {
    // Code: the previous version over the same window. Config: the service over the same length of time before the
    // rollout (the runtime's metrics have no config dimension).
    const start = release.plane === 'config' ? iso(ms(window.start) - seconds * 1000) : window.start;
    const end = release.plane === 'config' ? window.start : window.end;
    Object.assign(out, await ports.metrics.fetch(summaryQueries('b', dims.baseline, seconds), start, end));
  }
  return out;
}

/** The review, from the facts. Pure: the same facts give the same review. */
export function buildReview(f: ReviewFacts): ReleaseReview {
  const r = f.release;
  const d = f.deployment;
  const keys = reviewKeys(r.service, r.releaseKey);
  const window = reviewWindow(r, d);
  const missing = [...f.missing];

  const picked = f.manifests ? pickManifests(f.manifests, r.plane, { configLabel: r.plane === 'config' ? d?.to : undefined, notAfter: window.end }) : {};
  if (f.manifests && !picked.current) missing.push({ lookup: 'release manifest', reason: 'no manifest version was written before the release ended' });
  if (picked.current && !picked.previous) missing.push({ lookup: 'previous release manifest', reason: 'the parameter history holds no earlier release' });
  const changes = picked.current && picked.previous ? planeChanges(picked.previous, picked.current) : undefined;
  const evaluationChange = changes?.config.find((c) => c.component === 'evaluation' && c.change !== 'unchanged');
  const evaluation =
    f.evaluations && f.evaluations.length > 0
      ? reviewEvaluation(f.evaluations, {
          start: window.start,
          end: window.end,
          ...(r.plane === 'code' && d?.to ? { canaryVersion: d.to } : {}),
          // The stable rubric judges: the previous release's evaluation section, by its label.
          ...(picked.previous?.components.evaluation?.label ? { stableRubric: picked.previous.components.evaluation.label } : {}),
          ...(evaluationChange?.meaningChanged ? { meaningChanged: evaluationChange.meaningChanged } : {}),
        })
      : undefined;

  const planeAlarms = f.alarms?.filter((a) => a.plane === r.plane) ?? [];
  const fired = (f.transitions ?? []).filter((t) => t.to === 'ALARM' && ms(t.at) >= ms(window.start) - 60_000 && ms(t.at) <= ms(window.end));
  const firstAlarm = fired[0] ? planeAlarms.find((a) => a.name === fired[0].alarm) : undefined;

  const version = d?.to;
  const rollbackStart = d?.rollback?.startedAt;
  const caseSummary = f.cases ? summarizeCases(f.cases, r.plane, version, { start: window.start, end: rollbackStart ?? window.end }) : undefined;
  const period = planeAlarms[0]?.periodSeconds ?? 10;
  const metricFirst = f.metrics ? firstFailingPeriod(f.metrics, window.start, rollbackStart ?? window.end, period) : undefined;
  const candidates = [
    ...(caseSummary?.firstFailureAt ? [{ at: caseSummary.firstFailureAt, source: 'case' as const }] : []),
    ...(metricFirst ? [{ at: metricFirst, source: 'metric' as const }] : []),
  ].sort((a, b) => ms(a.at) - ms(b.at));
  const firstFailure = candidates[0];
  const worstCase = worstCaseSeconds(picked.current, r.plane);
  const timeToRollback =
    firstFailure && rollbackStart
      ? {
          firstFailureAt: firstFailure.at,
          firstFailureSource: firstFailure.source,
          rollbackStartedAt: iso(rollbackStart),
          measuredSeconds: Math.max(0, Math.round((ms(rollbackStart) - ms(firstFailure.at)) / 1000)),
          ...(worstCase !== undefined ? { worstCaseSeconds: worstCase } : {}),
        }
      : undefined;

  const timeline: ReviewTimelineEntry[] = [];
  if (d?.startedAt)
    timeline.push({
      at: iso(d.startedAt),
      event: 'deployment-start',
      detail: `${r.plane} deployment ${r.deploymentId} started${d.from || d.to ? ` (${d.from ?? '?'} -> ${d.to ?? '?'})` : ''}`,
    });
  for (const s of d?.steps ?? [])
    timeline.push({ at: iso(s.at), event: 'traffic-step', detail: `${s.percent}% on the new ${r.plane === 'code' ? 'version' : 'config'}` });
  if (d?.bakeStartedAt) timeline.push({ at: iso(d.bakeStartedAt), event: 'bake', detail: 'final bake started' });
  for (const t of f.transitions ?? [])
    timeline.push({ at: iso(t.at), event: t.to === 'ALARM' ? 'alarm' : 'alarm-ok', detail: `${t.alarm}: ${t.from} -> ${t.to}` });
  if (firstFailure)
    timeline.push({
      at: firstFailure.at,
      event: 'first-failure',
      detail: `first failure (${firstFailure.source === 'case' ? 'regression case first seen' : 'first failing metric period'})`,
    });
  if (rollbackStart)
    timeline.push({ at: iso(rollbackStart), event: 'rollback-start', detail: `rollback started${d?.rollback?.by ? ` (${d.rollback.by})` : ''}` });
  if (d?.rollback?.endedAt) timeline.push({ at: iso(d.rollback.endedAt), event: 'rollback-end', detail: 'rollback finished' });
  if (d?.endedAt) timeline.push({ at: iso(d.endedAt), event: 'deployment-end', detail: `deployment ended: ${r.state}${d.message ? ` (${d.message})` : ''}` });
  timeline.sort((a, b) => ms(a.at) - ms(b.at));

  const outcome = releaseOutcome(r, d);
  const subject = firstAlarm ?? (fired[0] ? { name: fired[0].alarm, kind: undefined } : undefined);
  const blast = f.metrics ? blastRadius(f.metrics) : undefined;
  // A combined guardrail alarm: which of its guardrails crossed, from the metrics; the first one is what it says.
  const crossed =
    firstAlarm?.kind === 'guardrails' && firstAlarm.terms && f.metrics ? guardrailCrossings(firstAlarm.terms, firstAlarm.minInvocations, f.metrics) : [];
  const leading = crossed.find((c) => c.periods > 0);
  const chartAlarm = chartSubject(planeAlarms, firstAlarm, leading?.term);
  const points = chartAlarm && f.metrics ? alarmSeries(chartAlarm.kind, chartAlarm.minInvocations, f.metrics).length : 0;

  const decided = conclude({
    outcome,
    alarm: subject ? `${subject.name}${leading ? ` (${leading.term}: ${describeCrossing(leading)})` : ''}` : undefined,
    newCandidates: caseSummary?.newCandidates,
    measured: timeToRollback?.measuredSeconds,
    worstCase,
    by: d?.rollback?.by,
    message: d?.message,
    partial: missing.length > 0,
  });
  // What shifted in behaviour, after what decided: it informs, it never decides (h11-eval17).
  const shift = behaviourShift(evaluation);
  const conclusion = shift ? `${decided} ${shift}` : decided;
  const actionItems = actionItemsFor({
    service: r.service,
    plane: r.plane,
    outcome,
    alarm: firstAlarm
      ? { name: leading ? `${firstAlarm.name} (${leading.term})` : firstAlarm.name, kind: ALARM_FAILURE_KIND[leading?.kind ?? firstAlarm.kind] }
      : subject
        ? { name: subject.name }
        : undefined,
    version,
    changed: changes ? [...changes.code, ...changes.config].filter((c) => c.change !== 'unchanged').map((c) => c.component) : undefined,
    newCandidates: caseSummary?.newCandidates ?? 0,
    measured: timeToRollback?.measuredSeconds,
    worstCase,
    missing: missing.map((m) => m.lookup),
  });

  return {
    schemaVersion: 1,
    service: r.service,
    plane: r.plane,
    releaseKey: r.releaseKey,
    outcome,
    deployment: {
      id: r.deploymentId,
      state: r.state,
      // AppConfig does not say which version a deployment replaced; the previous release's manifest does.
      ...(d?.from ? { from: d.from } : r.plane === 'config' && picked.previous ? { from: picked.previous.configLabel } : {}),
      ...(d?.to ? { to: d.to } : {}),
      ...(d?.startedAt ? { startedAt: iso(d.startedAt) } : {}),
      ...(d?.endedAt ? { endedAt: iso(d.endedAt) } : {}),
    },
    ...(picked.current ? { releaseId: picked.current.releaseId } : {}),
    ...(picked.previous ? { previousReleaseId: picked.previous.releaseId } : {}),
    ...(changes ? { changes } : {}),
    timeline,
    ...(timeToRollback ? { timeToRollback } : {}),
    ...(f.metrics
      ? {
          metrics: {
            start: window.start,
            end: window.end,
            baseline: r.plane === 'code' ? ('previous-version' as const) : ('before-rollout' as const),
            rows: metricRows(f.metrics),
          },
        }
      : {}),
    ...(chartAlarm
      ? {
          chart: {
            alarm: chartAlarm.name,
            ...(chartAlarm.term ? { term: chartAlarm.term } : {}),
            threshold: chartAlarm.threshold,
            comparison: chartAlarm.comparison,
            points,
          },
        }
      : {}),
    ...(firstAlarm?.kind === 'guardrails' && crossed.length > 0 ? { guardrails: { alarm: firstAlarm.name, crossed } } : {}),
    samples: {
      byKind: caseSummary?.byKind ?? {},
      ...(blast ? { blastRadius: blast } : {}),
      topCases: caseSummary?.topCases ?? [],
      newCandidates: caseSummary?.newCandidates ?? 0,
    },
    ...(f.judge ? { judge: reviewJudge(f.judge) } : {}),
    ...(evaluation ? { evaluation } : {}),
    conclusion,
    actionItems: [...actionItems, ...behaviourActionItems(r.service, evaluation)],
    notes: [],
    partial: missing.length > 0,
    missing,
    generatedAt: f.now,
    objects: keys,
  };
}

/** How the release ended, from the event and the deployment. */
export function releaseOutcome(r: ReleaseEnd, d: DeploymentFacts | undefined): ReleaseOutcome {
  switch (r.state) {
    case 'SUCCESS':
    case 'COMPLETE':
      return 'promoted';
    case 'STOP':
      return 'stopped';
    case 'FAILURE':
      return d?.rollback ? 'rolled-back' : 'failed';
    case 'ROLLED_BACK':
      // AppConfig rolls back on StopDeployment too: a person stopped it.
      return d?.rollback?.by === 'USER' ? 'stopped' : 'rolled-back';
  }
}

function worstCaseSeconds(m: ReleaseManifest | undefined, plane: 'code' | 'config'): number | undefined {
  const v = m?.facts?.[plane === 'code' ? 'worstCaseCodeSeconds' : 'worstCaseConfigSeconds'];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export interface ConclusionFacts {
  readonly outcome: ReleaseOutcome;
  readonly alarm?: string;
  readonly newCandidates?: number;
  readonly measured?: number;
  readonly worstCase?: number;
  readonly by?: string;
  readonly message?: string;
  readonly partial: boolean;
}

/** The one-line conclusion: decided by the facts, never by a person's guess. */
export function conclude(c: ConclusionFacts): string {
  const timing =
    c.measured !== undefined
      ? `; ${c.measured} s from the first failure to rollback start${c.worstCase !== undefined ? ` (worst case computed at synth: ${c.worstCase} s)` : ''}`
      : '';
  const partial = c.partial ? ' (partial review: some lookups failed)' : '';
  const n = c.newCandidates ?? 0;
  switch (c.outcome) {
    case 'rolled-back':
      return c.alarm
        ? `Rolled back by alarm ${c.alarm}${timing}.${partial}`
        : `Rolled back with no release alarm in ALARM${c.message ? ` (${c.message})` : ''}${timing}.${partial}`;
    case 'stopped':
      return `Stopped${c.by ? ` by ${c.by}` : ''}${c.alarm ? ` while alarm ${c.alarm} was in ALARM` : ''}${timing}.${partial}`;
    case 'failed':
      return `Failed without a rollback${c.message ? `: ${c.message}` : ''}.${partial}`;
    case 'promoted':
      if (c.alarm) return `Promoted, although alarm ${c.alarm} went to ALARM during the release.${partial}`;
      if (n > 0)
        return `Promoted with no alarm, with ${n} new failure case${n === 1 ? '' : 's'}: review and accept ${n} candidate${n === 1 ? '' : 's'}.${partial}`;
      return `Promoted with no alarm${c.newCandidates === undefined ? '' : ' and no new failure cases'}.${partial}`;
  }
}

export interface ActionFacts {
  readonly service: string;
  readonly plane: 'code' | 'config';
  readonly outcome: ReleaseOutcome;
  readonly alarm?: { readonly name: string; readonly kind?: FailureKind };
  readonly version?: string;
  readonly changed?: readonly string[];
  readonly newCandidates: number;
  readonly measured?: number;
  readonly worstCase?: number;
  readonly missing: readonly string[];
}

/** Action items the facts call for; people add their own in the review's notes. */
export function actionItemsFor(a: ActionFacts): string[] {
  const items: string[] = [];
  const what = a.plane === 'code' ? `version ${a.version ?? '(unknown)'}` : `config ${a.version ?? '(unknown)'}`;
  if (a.outcome !== 'promoted') {
    const kind = a.alarm?.kind ? ` of kind "${a.alarm.kind}"` : '';
    const changed = a.changed && a.changed.length > 0 ? `; this release changed ${a.changed.join(', ')}` : '';
    items.push(`Find the cause in the failure records${kind} on ${what}${changed}; fix it before releasing again.`);
  }
  if (a.outcome === 'promoted' && a.alarm) {
    items.push(`Alarm ${a.alarm.name} fired during a release that was promoted: check why it did not roll back (alarm window, deployment-group alarms).`);
  }
  if (a.newCandidates > 0) {
    items.push(
      `Review and accept ${a.newCandidates} candidate${a.newCandidates === 1 ? '' : 's'} (cases/${a.service}/candidate/), so the next release's gate replays ${a.newCandidates === 1 ? 'it' : 'them'}.`,
    );
  }
  if (a.measured !== undefined && a.worstCase !== undefined && a.measured > a.worstCase) {
    items.push(
      `Rollback started ${a.measured - a.worstCase} s later than the computed worst case (${a.measured} s against ${a.worstCase} s): revisit the timing assumptions (AiRelease timing) or tighten the alarm window.`,
    );
  }
  if (a.missing.length > 0) items.push(`Complete this review by hand: could not read ${a.missing.join('; ')}.`);
  return items;
}

/**
 * The conclusion's sentence on a behaviour shift (h11-eval17, issue 17 E): each fingerprint field the view shows
 * shifted (Holm-adjusted over the fields at its alpha), what moved and by how much, stable → canary. It informs and
 * never decides: the outcome before it is the alarms', the judge's and people's. Undefined when nothing shifted.
 */
export function behaviourShift(e: ReleaseReview['evaluation']): string | undefined {
  if (!e) return undefined;
  const shifted = e.fingerprint.filter((f) => f.shifted);
  if (shifted.length === 0) return undefined;
  const parts = shifted.map((f) => `${f.field} ${f.change ?? `${f.stable} → ${f.canary}`} (adjusted p ${f.adjustedP})`);
  return `Behaviour shifted, canary against stable (informs, does not decide): ${parts.join('; ')}.`;
}

/** What the evaluation view asks people to do: look at shifted behaviour and at lost pairs. */
export function behaviourActionItems(service: string, e: ReleaseReview['evaluation']): string[] {
  if (!e) return [];
  const items: string[] = [];
  const shifted = e.fingerprint.filter((f) => f.shifted).map((f) => f.field);
  if (shifted.length > 0)
    items.push(
      `Behaviour changed (canary against stable): ${shifted.join(', ')}. Check it is intended; if not, add the inputs that show it as regression cases with a rubric floor (cases/${service}/).`,
    );
  if (e.paired.losses > e.paired.wins && e.worstPairs.length > 0)
    items.push(
      `The canary lost ${e.paired.losses} of ${e.paired.wins + e.paired.losses + e.paired.ties} paired comparisons (won ${e.paired.wins}): read the worst pairs and promote their inputs with a reference answer.`,
    );
  return items;
}

/**
 * What the chart draws: the alarm that fired, unless it is a verdict (not metric math over the runtime's series); for
 * a combined guardrail alarm the guardrail that crossed (its term), else its error rate; with no alarm fired, the
 * plane's error rate (its own alarm, or the combined alarm's error_rate term).
 */
function chartSubject(planeAlarms: readonly ParsedAlarm[], fired: ParsedAlarm | undefined, term?: string): (ParsedAlarm & { term?: string }) | undefined {
  const ofTerm = (a: ParsedAlarm, id: string) => {
    const t = a.terms?.find((x) => x.id === id);
    return t ? { ...a, kind: t.kind, threshold: t.threshold, comparison: t.comparison, term: t.id } : undefined;
  };
  if (fired && fired.kind !== 'canary-verdict') return fired.kind === 'guardrails' ? ofTerm(fired, term ?? 'error_rate') : fired;
  const own = planeAlarms.find((a) => a.kind === 'error-rate');
  if (own) return own;
  const combined = planeAlarms.find((a) => a.kind === 'guardrails');
  return combined ? ofTerm(combined, 'error_rate') : undefined;
}

/** `error rate above 0.15 in 3 periods from 12:00:10Z (peak 1.33 × the threshold)`. */
function describeCrossing(c: GuardrailCrossing): string {
  return `${c.kind} ${c.comparison === '>' ? 'above' : 'below'} ${c.threshold} in ${c.periods} period${c.periods === 1 ? '' : 's'}${c.firstAt ? ` from ${c.firstAt}` : ''}, peak term ${c.peak.toFixed(2)}`;
}

/** The chart's input: the alarm metric against its threshold, the traffic steps, the rollback. */
export function chartInput(f: ReviewFacts, review: ReleaseReview): ChartInput {
  const planeAlarms = f.alarms?.filter((a) => a.plane === f.release.plane) ?? [];
  const named = planeAlarms.find((a) => a.name === review.chart?.alarm);
  const term = named?.terms?.find((t) => t.id === review.chart?.term);
  const alarm = named && term ? { ...named, kind: term.kind, threshold: term.threshold, comparison: term.comparison } : named;
  const window = reviewWindow(f.release, f.deployment);
  return {
    title: `${review.service} ${review.plane} release ${review.deployment.id}: ${alarm ? `${alarm.name}${term ? ` (${term.id})` : ''}` : 'no alarm data'}`,
    start: window.start,
    end: window.end,
    points: alarm && f.metrics ? alarmSeries(alarm.kind, alarm.minInvocations, f.metrics) : [],
    ...(alarm ? { threshold: { value: alarm.threshold, comparison: alarm.comparison } } : {}),
    steps: (f.deployment?.steps ?? []).map((s) => ({ at: iso(s.at), percent: s.percent })),
    alarms: (f.transitions ?? []).filter((t) => t.to === 'ALARM').map((t) => ({ at: iso(t.at), name: t.alarm })),
    ...(f.deployment?.rollback?.startedAt ? { rollbackAt: iso(f.deployment.rollback.startedAt) } : {}),
  };
}

export function notificationSubject(r: ReleaseReview): string {
  // SNS subjects: at most 100 printable ASCII characters.
  const s = `[${r.service}] ${r.plane} release ${r.outcome}: review ${r.releaseKey}`;
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

export function notificationMessage(r: ReleaseReview, md: string, json: string): string {
  return [`${r.service} ${r.plane} release ${r.deployment.id}: ${r.conclusion}`, '', `Review: ${md}`, `Data: ${json}`].join('\n');
}

/** The judge's record as the review says it: regression, no regression shown, or inconclusive. */
export function reviewJudge(j: JudgeRecord): ReviewJudge {
  const verdict = j.verdict === 'continue' ? 'inconclusive' : j.verdict;
  const worst = [...((j.evidence ?? []) as { metric?: string; eValue?: number; threshold?: number }[])]
    .filter((e) => typeof e.eValue === 'number' && typeof e.threshold === 'number' && e.threshold > 0)
    .sort((a, b) => b.eValue! / b.threshold! - a.eValue! / a.threshold!)[0];
  const evidence = worst ? `; strongest evidence ${worst.metric}: e-value ${round2(worst.eValue!)} against ${round2(worst.threshold!)}` : '';
  const why =
    verdict === 'regression'
      ? `the sequential test showed a regression of ${j.canary} against ${j.stable ?? 'the stable config'}`
      : verdict === 'no-regression-shown'
        ? `the test was conclusive: no regression of ${j.canary} shown`
        : j.verdict === 'continue'
          ? 'the release ended before the judge concluded'
          : j.error
            ? `the judge failed (${j.error})`
            : 'not enough evidence either way before the bound';
  // Issue 16-F: a judge that could not judge part of the release says so in the review, not only in its metric.
  const trouble = [
    ...(j.failures ? [`${j.failures.count} judge updates failed (last at ${j.failures.at}: ${j.failures.last})`] : []),
    ...(j.unused && j.unused.samples > 0 ? [`${j.unused.samples} samples not judged (${j.unused.reasons.join('; ')})`] : []),
  ];
  // Issue 16 A: a before/after comparison informs the review ("worse than before the release"), never the rollback.
  const shifted = ((j.evidence ?? []) as { metric?: string; beforeAfterEValue?: number; beforeAfterThreshold?: number }[]).filter(
    (e) => typeof e.beforeAfterEValue === 'number' && typeof e.beforeAfterThreshold === 'number' && e.beforeAfterEValue >= e.beforeAfterThreshold,
  );
  const beforeAfter =
    shifted.length > 0
      ? `at full traffic the new version differs from the stable baseline read before the release in ${shifted
          .map((e) => `${e.metric} (e-value ${round2(e.beforeAfterEValue!)} against ${round2(e.beforeAfterThreshold!)})`)
          .join(', ')}; a before/after comparison blames anything that changed with time on the release, so it informs and never rolled back`
      : undefined;
  return {
    verdict,
    samples: j.samples,
    updates: j.updates,
    detail: `${why}; ${j.samples.canary} canary and ${j.samples.stable} stable samples over ${j.updates} updates${evidence}`.slice(0, 500),
    key: judgeKey(j.service, j.releaseKey),
    ...(trouble.length > 0 ? { cannotJudge: `the judge could not judge all of this release: ${trouble.join('; ')}`.slice(0, 500) } : {}),
    ...(beforeAfter ? { beforeAfter: beforeAfter.slice(0, 500) } : {}),
  };
}

const round2 = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : x);
