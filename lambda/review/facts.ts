/**
 * Pure derivations from the looked-up facts: which manifests a release is, which alarms are whose, what the metrics
 * say, which cases belong to the release. No I/O; each function is tested on tables.
 */
import { diffReleaseManifests } from '../shared/release-manifest';
import { redact } from '../runtime/redact';
import {
  DIMENSION,
  FAILURE_KINDS,
  METRIC,
  RELEASE_ALARM_KINDS,
  type FailureKind,
  type RegressionCase,
  type ReleaseAlarmKind,
  type ReleaseManifest,
  type ReleasePlane,
  type ReviewComponentChange,
  type ReviewMetricRow,
} from '../shared/contract';
import type { GuardrailTerm } from '../shared/guardrail-terms';
import type { AlarmInfo, ManifestVersion, MetricQuery, MetricSeries } from './ports';

/** The release's manifest and the one before it (the newest earlier version with another release id). */
export function pickManifests(
  history: readonly ManifestVersion[],
  plane: ReleasePlane,
  opts: { configLabel?: string; notAfter: string },
): { current?: ReleaseManifest; previous?: ReleaseManifest } {
  const sorted = [...history].sort((a, b) => ms(a.at) - ms(b.at));
  let index = -1;
  if (plane === 'config' && opts.configLabel) index = lastIndex(sorted, (v) => v.manifest.configLabel === opts.configLabel);
  // The code plane has no label to match (the manifest names a content hash, CodeDeploy a version number): the
  // newest manifest written before the release ended is the one being released.
  if (index < 0) index = lastIndex(sorted, (v) => ms(v.at) <= ms(opts.notAfter));
  if (index < 0) return {};
  const current = sorted[index].manifest;
  const previous = sorted
    .slice(0, index)
    .reverse()
    .find((v) => v.manifest.releaseId !== current.releaseId)?.manifest;
  return { current, ...(previous ? { previous } : {}) };
}

/** What changed, plane by plane: the code component, then the config sections. */
export function planeChanges(previous: ReleaseManifest, current: ReleaseManifest): { code: ReviewComponentChange[]; config: ReviewComponentChange[] } {
  const diff = diffReleaseManifests(previous, current);
  const rows = diff.components.map(
    (c): ReviewComponentChange => ({
      component: c.component,
      change: c.change,
      before: c.before.label,
      after: c.after.label,
      ...(c.keys ? { keys: c.keys.map((k) => k.path) } : {}),
      ...(c.warning ? { warning: c.warning } : {}),
      ...(c.meaningChanged ? { meaningChanged: c.meaningChanged } : {}),
    }),
  );
  return { code: rows.filter((r) => r.component === 'code'), config: rows.filter((r) => r.component !== 'code') };
}

export interface ParsedAlarm extends AlarmInfo {
  readonly plane: ReleasePlane;
  readonly kind: ReleaseAlarmKind;
}

/** The service's release alarms among those described: `<stack>-<service>-version|service-<kind>`, nothing else. */
export function releaseAlarms(all: readonly AlarmInfo[], prefix: string): ParsedAlarm[] {
  const out: ParsedAlarm[] = [];
  for (const a of all) {
    if (!a.name.startsWith(prefix)) continue;
    const rest = a.name.slice(prefix.length);
    for (const [word, plane] of [
      ['version-', 'code'],
      ['service-', 'config'],
    ] as const) {
      const kind = rest.startsWith(word) ? rest.slice(word.length) : undefined;
      if (kind && (RELEASE_ALARM_KINDS as readonly string[]).includes(kind)) out.push({ ...a, plane, kind: kind as ReleaseAlarmKind });
    }
  }
  return out;
}

/** Which failure kind an alarm watches (for "look at the failure records of kind …"). */
export const ALARM_FAILURE_KIND: Readonly<Record<ReleaseAlarmKind, FailureKind>> = {
  'error-rate': 'error',
  'p99-latency': 'timeout',
  'cost-per-request': 'cost',
  quality: 'quality',
  'safety-rate': 'safety',
  'contract-rate': 'contract',
  'canary-vs-stable': 'error',
  // The judge tests errors, safety and contract counts and latency/cost/quality together; errors is the usual first look.
  'canary-verdict': 'error',
  // The combined alarm: the review names the term that crossed (guardrailTerms) and its kind; errors otherwise.
  guardrails: 'error',
};

const RAW = {
  inv: [METRIC.INVOCATIONS, 'Sum'],
  err: [METRIC.ERRORS, 'Sum'],
  lat: [METRIC.LATENCY, 'p99'],
  cost: [METRIC.COST_USD, 'Sum'],
  q: [METRIC.QUALITY_SCORE, 'Average'],
  safety: [METRIC.SAFETY_VIOLATIONS, 'Sum'],
  contract: [METRIC.CONTRACT_VIOLATIONS, 'Sum'],
} as const;
type Raw = keyof typeof RAW;

/** The dimensions the review compares: the new version against the previous (code), the service (config). */
export function comparedDimensions(
  service: string,
  plane: ReleasePlane,
  versions: { from?: string; to?: string },
): { candidate?: Record<string, string>; baseline?: Record<string, string> } {
  const svc = { [DIMENSION.SERVICE]: service };
  if (plane === 'config') return { candidate: svc, baseline: svc };
  return {
    ...(versions.to ? { candidate: { ...svc, [DIMENSION.VERSION]: versions.to } } : {}),
    ...(versions.from ? { baseline: { ...svc, [DIMENSION.VERSION]: versions.from } } : {}),
  };
}

/** Queries of one summary (one datapoint per metric over the window): ids `<prefix>_<raw>`. */
export function summaryQueries(prefix: string, dims: Record<string, string>, windowSeconds: number): MetricQuery[] {
  // GetMetricData: periods above 60 s are multiples of 60.
  const period = Math.max(60, Math.ceil(windowSeconds / 60) * 60);
  return (Object.keys(RAW) as Raw[]).map((r) => ({ id: `${prefix}_${r}`, metricName: RAW[r][0], stat: RAW[r][1], dimensions: dims, periodSeconds: period }));
}

/** Queries of the chart and first-failure series at the alarm period: ids `s_<raw>`, and `a_inv`/`a_err` service-wide. */
export function seriesQueries(service: string, dims: Record<string, string>, periodSeconds: number): MetricQuery[] {
  const q = (Object.keys(RAW) as Raw[]).map((r) => ({ id: `s_${r}`, metricName: RAW[r][0], stat: RAW[r][1], dimensions: dims, periodSeconds }));
  const all = { [DIMENSION.SERVICE]: service };
  q.push(
    { id: 'a_inv', metricName: METRIC.INVOCATIONS, stat: 'Sum', dimensions: all, periodSeconds },
    { id: 'a_err', metricName: METRIC.ERRORS, stat: 'Sum', dimensions: all, periodSeconds },
  );
  return q;
}

const sum = (s?: MetricSeries) => (s ? s.values.reduce((a, b) => a + b, 0) : undefined);
const first = (s?: MetricSeries) => (s && s.values.length > 0 ? s.values[0] : undefined);
const ratio = (n?: number, d?: number) => (n === undefined || d === undefined || d === 0 ? undefined : n / d);

/** The summary rows from two summaries (`c_*` candidate, `b_*` baseline). Missing data stays undefined. */
export function metricRows(data: Readonly<Record<string, MetricSeries>>): ReviewMetricRow[] {
  const side = (p: 'c' | 'b') => {
    const inv = sum(data[`${p}_inv`]);
    return {
      invocations: inv,
      'error rate': ratio(sum(data[`${p}_err`]), inv),
      'p99 latency': first(data[`${p}_lat`]),
      'cost per request': ratio(sum(data[`${p}_cost`]), inv),
      quality: first(data[`${p}_q`]),
      'safety-violation rate': ratio(sum(data[`${p}_safety`]), inv),
    };
  };
  const c = side('c');
  const b = side('b');
  const units: Record<ReviewMetricRow['metric'], string> = {
    invocations: '',
    'error rate': '',
    'p99 latency': 'ms',
    'cost per request': 'USD',
    quality: '',
    'safety-violation rate': '',
  };
  return (Object.keys(units) as ReviewMetricRow['metric'][]).map((metric) => ({
    metric,
    unit: units[metric],
    ...(c[metric] !== undefined ? { candidate: c[metric] } : {}),
    ...(b[metric] !== undefined ? { baseline: b[metric] } : {}),
  }));
}

/** Invocations and failure signals (errors + contract + safety violations) on the candidate over the window. */
export function blastRadius(data: Readonly<Record<string, MetricSeries>>): { invocations: number; failures: number } | undefined {
  const inv = sum(data.c_inv);
  if (inv === undefined) return undefined;
  return { invocations: inv, failures: (sum(data.c_err) ?? 0) + (sum(data.c_contract) ?? 0) + (sum(data.c_safety) ?? 0) };
}

/** The alarm's own math, per period, from the raw series: what the chart draws against the threshold. */
export function alarmSeries(kind: ReleaseAlarmKind, minInvocations: number, data: Readonly<Record<string, MetricSeries>>): { at: string; value: number }[] {
  const at = (id: string) => new Map((data[id]?.timestamps ?? []).map((t, i) => [t, data[id].values[i]]));
  const m = Object.fromEntries(['s_inv', 's_err', 's_lat', 's_cost', 's_q', 's_safety', 's_contract', 'a_inv', 'a_err'].map((id) => [id, at(id)]));
  const times = [...new Set([...(data.s_inv?.timestamps ?? []), ...(kind === 'p99-latency' ? (data.s_lat?.timestamps ?? []) : [])])].sort();
  return times.map((t) => {
    const g = (id: string) => m[id].get(t) ?? 0;
    const inv = g('s_inv');
    const enough = inv >= minInvocations;
    let value: number;
    switch (kind) {
      case 'error-rate':
        value = enough ? g('s_err') / inv : 0;
        break;
      case 'p99-latency':
        value = enough ? g('s_lat') : 0;
        break;
      case 'cost-per-request':
        value = enough ? g('s_cost') / inv : 0;
        break;
      case 'quality':
        value = enough ? g('s_q') : 1;
        break;
      case 'safety-rate':
        value = enough ? g('s_safety') / inv : 0;
        break;
      case 'contract-rate':
        value = enough ? g('s_contract') / inv : 0;
        break;
      case 'canary-vs-stable': {
        const rest = g('a_inv') - inv;
        value = enough && rest >= minInvocations ? g('s_err') / inv - (g('a_err') - g('s_err')) / rest : 0;
        break;
      }
      case 'guardrails':
      case 'canary-verdict':
        // Not metric math over the runtime's series: never charted (the review charts the error rate instead).
        value = 0;
        break;
    }
    return { at: t, value };
  });
}

/** One guardrail of a combined alarm over the release window: whether, when first and how far its term crossed 1. */
export interface GuardrailCrossing {
  readonly term: string;
  readonly kind: GuardrailTerm['kind'];
  readonly threshold: number;
  readonly comparison: '>' | '<';
  /** Periods in which the guardrail breached (its term above 1). */
  readonly periods: number;
  /** Start of the first such period. */
  readonly firstAt?: string;
  /** The largest term (value / threshold; quality: (1 - score) / (1 - floor)) over the window. */
  readonly peak: number;
}

/**
 * Which guardrails of a combined alarm crossed, recomputed from the runtime's series at the alarm's period (the same
 * math as the alarm's terms, from seriesQueries): those that crossed first, earliest first, then by how far; the
 * others after them. A period without a quality score does not breach quality (the term fills it with 1).
 */
export function guardrailCrossings(terms: readonly GuardrailTerm[], minInvocations: number, data: Readonly<Record<string, MetricSeries>>): GuardrailCrossing[] {
  const scored = new Set(data.s_q?.timestamps ?? []);
  const out = terms.map((t): GuardrailCrossing => {
    let points = alarmSeries(t.kind, minInvocations, data);
    if (t.kind === 'quality') points = points.filter((p) => scored.has(p.at));
    const ratio = (v: number) =>
      t.comparison === '<' ? (t.threshold < 1 ? (1 - v) / (1 - t.threshold) : v < 1 ? 2 : 0) : t.threshold > 0 ? v / t.threshold : v > 0 ? 2 : 0;
    const over = points.filter((p) => (t.comparison === '<' ? p.value < t.threshold : p.value > t.threshold));
    return {
      term: t.id,
      kind: t.kind,
      threshold: t.threshold,
      comparison: t.comparison,
      periods: over.length,
      ...(over[0] ? { firstAt: over[0].at } : {}),
      peak: points.reduce((m, p) => Math.max(m, ratio(p.value)), 0),
    };
  });
  return out.sort((a, b) => {
    if (a.firstAt && b.firstAt && a.firstAt !== b.firstAt) return ms(a.firstAt) - ms(b.firstAt);
    if (!!a.firstAt !== !!b.firstAt) return a.firstAt ? -1 : 1;
    return b.peak - a.peak;
  });
}

/** Start of the first period with a failure signal on the candidate, within [from, to]. */
export function firstFailingPeriod(data: Readonly<Record<string, MetricSeries>>, from: string, to: string, periodSeconds: number): string | undefined {
  // A period that starts before the deployment but contains its start still counts (periods are aligned).
  const earliest = Math.floor(ms(from) / (periodSeconds * 1000)) * periodSeconds * 1000;
  const hits = new Set<string>();
  for (const id of ['s_err', 's_safety', 's_contract']) {
    const s = data[id];
    s?.timestamps.forEach((t, i) => {
      if (s.values[i] > 0 && ms(t) >= earliest && ms(t) <= ms(to)) hits.add(iso(t));
    });
  }
  return [...hits].sort()[0];
}

/** Whether a case failed on this release: its version tuples name the new Lambda version (code) or config label. */
export function failedOnRelease(c: RegressionCase, plane: ReleasePlane, version: string | undefined): boolean {
  if (version === undefined) return true;
  return c.failedOn.some((t) => (plane === 'code' ? t.codeVersion === version : t.config === version));
}

export interface CaseSummary {
  readonly byKind: Partial<Record<FailureKind, { cases: number; requests: number }>>;
  readonly topCases: { caseId: string; state: RegressionCase['state']; kinds: FailureKind[]; count: number; input: string }[];
  readonly newCandidates: number;
  /** The earliest firstSeen of a case first seen on this release, inside the window. */
  readonly firstFailureAt?: string;
}

/** The release's cases: those that failed on its version, and those first seen during it. */
export function summarizeCases(
  cases: readonly RegressionCase[],
  plane: ReleasePlane,
  version: string | undefined,
  window: { start: string; end: string },
  top = 5,
): CaseSummary {
  const mine = cases.filter((c) => c.state !== 'retired' && failedOnRelease(c, plane, version));
  const byKind: CaseSummary['byKind'] = {};
  for (const c of mine) {
    for (const k of c.kinds) {
      const e = byKind[k] ?? { cases: 0, requests: 0 };
      byKind[k] = e;
      e.cases += 1;
      e.requests += c.count;
    }
  }
  const inWindow = (t: string) => ms(t) >= ms(window.start) && ms(t) <= ms(window.end);
  const fresh = mine.filter((c) => inWindow(c.firstSeen));
  const ordered: Partial<Record<FailureKind, { cases: number; requests: number }>> = {};
  for (const k of FAILURE_KINDS) if (byKind[k]) ordered[k] = byKind[k];
  return {
    byKind: ordered,
    topCases: [...mine]
      .sort((a, b) => b.count - a.count || a.caseId.localeCompare(b.caseId))
      .slice(0, top)
      .map((c) => ({
        caseId: c.caseId,
        state: c.state,
        kinds: [...c.kinds],
        count: c.count,
        input: shortInput(c.input),
      })),
    newCandidates: fresh.filter((c) => c.state === 'candidate').length,
    ...(fresh.length > 0 ? { firstFailureAt: fresh.map((c) => iso(c.firstSeen)).sort()[0] } : {}),
  };
}

/**
 * A case's input as a review shows it: redacted again with the runtime's redactor (the snapshot already did; a
 * review is read by more people than the store), then cut to 200 characters.
 */
export function shortInput(input: string): string {
  const text = redact(input);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** Milliseconds of an ISO-8601 time; times from events, APIs and cases differ in format, never in meaning. */
export function ms(t: string): number {
  const v = Date.parse(t);
  if (Number.isNaN(v)) throw new Error(`"${t}" is not an ISO-8601 time`);
  return v;
}

export function iso(t: string | number | Date): string {
  return new Date(typeof t === 'string' ? ms(t) : t).toISOString();
}

function lastIndex<T>(xs: readonly T[], p: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (p(xs[i])) return i;
  return -1;
}
