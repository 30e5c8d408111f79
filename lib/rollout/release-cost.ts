import { checkSamplingRateOf } from '../../lambda/shared/evaluation';
import bundled from './data/prices-us-east-1.json';
import {
  type EvaluationCost,
  type EvaluationCostConfig,
  type EvaluationCostInputs,
  evaluationCost,
  type EvaluationTokenAssumptions,
  renderEvaluationCostLines,
} from './evaluation-cost';

/**
 * What the release machinery adds to one service's monthly bill (issue 16 E), and what a Powertools-only service
 * already pays for its logs and metrics at the same traffic, as a ratio. Pure arithmetic over a price table
 * (lib/rollout/data/prices-us-east-1.json: each price with its source URL, the table with its date).
 */

export interface PriceTable {
  readonly region: string;
  readonly date: string;
  readonly prices: Readonly<Record<PriceKey, { readonly usd: number; readonly unit: string; readonly source: string }>>;
}

export type PriceKey =
  | 'alarmStandardPerMetricMonth'
  | 'alarmHighResolutionPerMetricMonth'
  | 'alarmCompositePerMonth'
  | 'customMetricPerMonth'
  | 'logsIngestionPerGB'
  | 'logsInsightsScannedPerGB'
  | 'lambdaRequestsPerMillion'
  | 'lambdaGbSecond';

export const US_EAST_1_PRICES: PriceTable = bundled as PriceTable;

/** Bytes the runtime writes to CloudWatch Logs per request, measured from the real runtime (bench/release-cost.ts). */
export const MEASURED_BYTES = {
  /** This library's runtime: its EMF document (per service and per service + version, high resolution) and log line. */
  runtimePerRequest: 1013,
  /** A Powertools-only service: one Logger info line and one Metrics EMF document with the same metrics, per service. */
  powertoolsPerRequest: 920,
  /** Source and date of the two figures. */
  source:
    'bench/release-cost.ts, 2026-12-07 (after the runtime stamped caseId and its execution environment, a 47-character log stream name, on every line; a 1,234 ms model call on a test clock)',
  /**
   * One pair-only evaluation sample line (h8-codepairs): an 80-character question, a 600-character answer citing 3 of
   * 5 passages, one tool call (test/log-bytes.ts measurePairOnlySampleBytes, held by test/release-cost-bytes.test.ts).
   */
  pairOnlySampleLine: 2098,
  /**
   * One check-result line (h9-checks): the runtime's five check outcomes of one answer, its request id, version, config
   * label and case id (test/log-bytes.ts measureCheckLineBytes, held by test/release-cost-bytes.test.ts).
   */
  checkResultLine: 340,
  /**
   * CPU time the checks and their line add to a request, in µs: the whole request through AiRuntime and Powertools
   * with checkSamplingRate 1 against 0 (bench/runtime-checks.ts, 2026-12-07, process CPU time on a loaded machine).
   */
  checkMicrosPerRequest: 16,
} as const;

/** The example service's memory (MB) the checks' CPU time is priced at, unless stated. */
const SERVICE_MEMORY_MB = 1024;

/**
 * The runtime's deterministic checks (h9-checks): check-result lines on `evaluation.checkSamplingRate` of all answers,
 * the judge's one Logs Insights query per closed window during a release (about 62 s of the service's log group), and
 * the CPU time on the request path.
 */
export interface RuntimeCheckCost {
  readonly rate: number;
  readonly linesPerMonth: number;
  readonly bytesPerLine: number;
  readonly logGbPerMonth: number;
  readonly logsUsd: number;
  readonly scannedGbPerMonth: number;
  readonly scanUsd: number;
  readonly cpuMicrosPerRequest: number;
  readonly cpuUsd: number;
  readonly totalUsd: number;
}

/** The evaluator's memory (lib/learning/release-evaluator.ts) and an assumed 0.1 s to drop one pair-only sample (one GetAlias). */
const EVALUATOR_MEMORY_MB = 512;
const DROP_SECONDS = 0.1;
/** The announcement's slack after the shift ends (lambda/gate/hook.ts CODE_CANARY_SLACK_SECONDS). */
const ANNOUNCE_SLACK_SECONDS = 60;

/**
 * Pair-only sample lines written outside any canary and dropped by the evaluator unscored (issue 17 D): with nothing
 * announcing the code canary, the runtime draws EVERY answer at the pairing rate, every day; with the announcement
 * (assigned config canary + regression gate), only the code canary draws, only during its release (plus the
 * announcement's 60 s slack at full traffic).
 */
export interface SteadyPairSampling {
  readonly codePairs: 'every-answer' | 'announced';
  readonly linesPerMonth: number;
  readonly bytesPerLine: number;
  readonly logGbPerMonth: number;
  readonly logsUsd: number;
  /** Upper bound: one evaluator invocation per line (a subscription delivery carries at least one) and one GetAlias each. */
  readonly evaluatorInvocations: number;
  readonly invocationsUsd: number;
  readonly totalUsd: number;
}

export interface ReleaseCostInputs {
  readonly requestsPerSecond: number;
  /** Alarm metrics on 10-second periods (each metric of a metric-math alarm counts). */
  readonly highResolutionAlarmMetrics: number;
  /** Alarm metrics on periods of 60 s or more. */
  readonly standardAlarmMetrics: number;
  readonly compositeAlarms: number;
  /** Metric names the runtime emits; each is a series per service and one per executed version. */
  readonly metricNames: number;
  /**
   * Series the canary judge publishes in each release, for the release's hours: the plane's `CanaryVerdict` (dimensions
   * Service + Plane). `CanaryJudgeCannotJudge` is published only when the judge cannot judge and is not counted.
   * @default 0 (no canary judge)
   */
  readonly judgeSeriesPerRelease?: number;
  /** Releases per month (code and config). @default 20 */
  readonly releasesPerMonth?: number;
  /**
   * Of `releasesPerMonth`, the releases that change code (a new Lambda version): only they add a second version's
   * per-version series for `releaseHours`. A config release adds none (the config label is no dimension).
   * @default releasesPerMonth (every release costed as a code release: an upper bound)
   */
  readonly codeReleasesPerMonth?: number;
  /** Hours two versions' series exist side by side in one release (the canary, the bake, the judge's bound). @default 1 */
  readonly releaseHours?: number;
  /** @default MEASURED_BYTES.runtimePerRequest */
  readonly runtimeBytesPerRequest?: number;
  /** @default MEASURED_BYTES.powertoolsPerRequest */
  readonly powertoolsBytesPerRequest?: number;
  /** Minutes per month the judge's schedule runs (once a minute). @default 43,800: always */
  readonly judgeRunsPerMonth?: number;
  /** Minutes of logs one judge run scans (it reads the last window). @default 1 */
  readonly judgeWindowMinutes?: number;
  /** Baseline minutes the judge reads once per release. @default 30 */
  readonly baselineMinutes?: number;
  /** Snapshot function invocations per month (failure-record batches). @default errors at 1 % in batches of 10 */
  readonly snapshotInvocations?: number;
  /** The assigned config canary's share controller: one look a minute (ConfigShare's EveryMinute rule). @default 0 */
  readonly shareControllerLooksPerMonth?: number;
  /** Memory (MB) and mean duration (s) of each machinery function. @default 256 MB, 1 s */
  readonly functionMemoryMb?: number;
  readonly functionSeconds?: number;
  /**
   * The release config, when it has an `evaluation` section and the evaluator runs: the evaluation's model calls are
   * estimated per release and per month (lib/rollout/evaluation-cost.ts). @default no evaluation
   */
  readonly evaluation?: {
    readonly config: EvaluationCostConfig;
    readonly tokens?: Partial<EvaluationTokenAssumptions>;
    /** The release's canary schedule, counted step by step (EvaluationCostInputs.schedule). @default none */
    readonly schedule?: EvaluationCostInputs['schedule'];
    /** The assigned config canary's schedule (EvaluationCostInputs.configSchedule). @default none */
    readonly configSchedule?: EvaluationCostInputs['configSchedule'];
    /**
     * Whether the code canary is announced to the runtime (assigned config canary with a regression gate): then only
     * it draws pair-only samples. @default 'every-answer' (the runtime cannot tell its canary)
     */
    readonly codePairs?: 'every-answer' | 'announced';
  };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

export interface ReleaseCost {
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
  /** What a Powertools-only service pays for its logs and metrics at the same traffic. */
  readonly powertools: readonly CostLine[];
  readonly powertoolsUsd: number;
  /** totalUsd (what the machinery adds) / powertoolsUsd. */
  readonly ratio: number;
  readonly pricesDate: string;
  readonly region: string;
  /** The evaluation's model calls, per release and per month; apart from the totals above (which compare with Powertools). */
  readonly evaluation?: EvaluationCost;
  /** Pair-only lines nobody compares (log bytes, evaluator invocations), when the release config pairs above its scoring rate. */
  readonly steadyPairSampling?: SteadyPairSampling;
  /** The runtime's check-result lines, when the evaluation section's checkSamplingRate is above 0 (default 1). */
  readonly runtimeChecks?: RuntimeCheckCost;
}

/** What the runtime's checks cost a month at the stated traffic; undefined when the section leaves them to the evaluator. */
export function runtimeCheckCost(
  i: Pick<ReleaseCostInputs, 'requestsPerSecond' | 'releasesPerMonth' | 'releaseHours' | 'runtimeBytesPerRequest'> & {
    readonly checkSamplingRate: number;
    readonly serviceMemoryMb?: number;
  },
  table: PriceTable = US_EAST_1_PRICES,
): RuntimeCheckCost | undefined {
  const rate = i.checkSamplingRate;
  if (!(rate > 0)) return undefined;
  const requests = i.requestsPerSecond * SECONDS_PER_MONTH;
  const linesPerMonth = requests * rate;
  const bytesPerLine = MEASURED_BYTES.checkResultLine;
  const logGbPerMonth = (linesPerMonth * bytesPerLine) / GB;
  const logsUsd = logGbPerMonth * table.prices.logsIngestionPerGB.usd;
  // One query per closed window (EVALUATION_MIN_WINDOW_MS, read with a second either side) while a release is judged.
  const windows = (i.releasesPerMonth ?? 20) * (i.releaseHours ?? 1) * 60;
  const bytesPerSecond = i.requestsPerSecond * ((i.runtimeBytesPerRequest ?? MEASURED_BYTES.runtimePerRequest) + rate * bytesPerLine);
  const scannedGbPerMonth = (windows * 62 * bytesPerSecond) / GB;
  const scanUsd = scannedGbPerMonth * table.prices.logsInsightsScannedPerGB.usd;
  const cpuMicrosPerRequest = MEASURED_BYTES.checkMicrosPerRequest;
  const cpuUsd = linesPerMonth * cpuMicrosPerRequest * 1e-6 * ((i.serviceMemoryMb ?? SERVICE_MEMORY_MB) / 1024) * table.prices.lambdaGbSecond.usd;
  return {
    rate,
    linesPerMonth,
    bytesPerLine,
    logGbPerMonth,
    logsUsd,
    scannedGbPerMonth,
    scanUsd,
    cpuMicrosPerRequest,
    cpuUsd,
    totalUsd: logsUsd + scanUsd + cpuUsd,
  };
}

const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1024 ** 3;

function check(name: string, v: number | undefined, min = 0): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= min)) throw new Error(`release cost ${name} must be a number of at least ${min}, got ${v}`);
}

/** The machinery's monthly cost for one service, line by line, and the Powertools-only comparison. */
export function releaseCost(i: ReleaseCostInputs, table: PriceTable = US_EAST_1_PRICES): ReleaseCost {
  if (!(Number.isFinite(i.requestsPerSecond) && i.requestsPerSecond > 0))
    throw new Error(`release cost requestsPerSecond must be a positive number, got ${i.requestsPerSecond}; state expectedRequestsPerSecond`);
  for (const k of [
    'highResolutionAlarmMetrics',
    'standardAlarmMetrics',
    'compositeAlarms',
    'metricNames',
    'releasesPerMonth',
    'codeReleasesPerMonth',
    'releaseHours',
    'judgeSeriesPerRelease',
  ] as const)
    check(k, i[k]);
  if (i.codeReleasesPerMonth !== undefined && i.codeReleasesPerMonth > (i.releasesPerMonth ?? 20))
    throw new Error(
      `release cost codeReleasesPerMonth (${i.codeReleasesPerMonth}) is more than releasesPerMonth (${i.releasesPerMonth ?? 20}); releasesPerMonth counts both planes: raise it or lower codeReleasesPerMonth`,
    );
  const p = (k: PriceKey) => table.prices[k].usd;
  const requests = i.requestsPerSecond * SECONDS_PER_MONTH;
  const releases = i.releasesPerMonth ?? 20;
  const releaseHours = i.releaseHours ?? 1;
  const runtimeBytes = i.runtimeBytesPerRequest ?? MEASURED_BYTES.runtimePerRequest;
  const ptBytes = i.powertoolsBytesPerRequest ?? MEASURED_BYTES.powertoolsPerRequest;
  // Series the machinery adds: per executed version (the live one always; the new one during a release). The per-service
  // series are what a Powertools-only service has too.
  // Only a code release runs two versions side by side; a config release keeps the one version.
  const codeReleases = i.codeReleasesPerMonth ?? releases;
  const seriesMonths = i.metricNames + (i.metricNames * codeReleases * releaseHours) / HOURS_PER_MONTH;
  // The judge's verdict series exist only while it judges a release (custom metrics are prorated by the hour).
  const judgeSeries = i.judgeSeriesPerRelease ?? 0;
  const judgeSeriesMonths = (judgeSeries * releases * releaseHours) / HOURS_PER_MONTH;
  // Log bytes the runtime writes beyond what a Powertools-only service writes (0 when it writes less).
  const extraBytes = Math.max(0, runtimeBytes - ptBytes);
  const judgeRuns = i.judgeRunsPerMonth ?? 43_800;
  const bytesPerMinute = requests / (SECONDS_PER_MONTH / 60);
  const scanned = runtimeBytes * bytesPerMinute * (judgeRuns * (i.judgeWindowMinutes ?? 1) + releases * (i.baselineMinutes ?? 30));
  // Invocations: the judge's schedule, two hooks per release (pre- and post-traffic), one review per release, the snapshot.
  const snapshot = i.snapshotInvocations ?? Math.ceil((requests * 0.01) / 10);
  const looks = i.shareControllerLooksPerMonth ?? 0;
  const invocations = judgeRuns + 2 * releases + releases + snapshot + looks;
  const gbSeconds = invocations * ((i.functionMemoryMb ?? 256) / 1024) * (i.functionSeconds ?? 1);
  const lines: CostLine[] = [
    {
      item: 'alarms, high resolution',
      quantity: `${i.highResolutionAlarmMetrics} alarm metrics`,
      usd: i.highResolutionAlarmMetrics * p('alarmHighResolutionPerMetricMonth'),
    },
    {
      item: 'alarms, standard resolution',
      quantity: `${i.standardAlarmMetrics} alarm metrics`,
      usd: i.standardAlarmMetrics * p('alarmStandardPerMetricMonth'),
    },
    { item: 'composite alarms', quantity: `${i.compositeAlarms}`, usd: i.compositeAlarms * p('alarmCompositePerMonth') },
    {
      item: 'custom metric series per version',
      quantity:
        i.codeReleasesPerMonth === undefined
          ? `${round(seriesMonths, 2)} series-months (${i.metricNames} names for the live version; each release costed as a code release, which adds ${i.metricNames} for ${releaseHours} h: an upper bound, since a config release adds none — the config label is no dimension)`
          : `${round(seriesMonths, 2)} series-months (${i.metricNames} names for the live version; ${codeReleases} code releases a month each add ${i.metricNames} for ${releaseHours} h; ${round(releases - codeReleases, 2)} config releases add none — the config label is no dimension)`,
      usd: seriesMonths * p('customMetricPerMonth'),
    },
    ...(judgeSeries > 0
      ? [
          {
            item: 'canary judge verdict series',
            quantity: `${round(judgeSeriesMonths, 3)} series-months (${judgeSeries} per release for ${releaseHours} h)`,
            usd: judgeSeriesMonths * p('customMetricPerMonth'),
          },
        ]
      : []),
    {
      item: "log ingestion of the runtime's lines, beyond Powertools'",
      quantity: `${round((extraBytes * requests) / GB, 2)} GB (${runtimeBytes} B/request measured, Powertools-only ${ptBytes})`,
      usd: ((extraBytes * requests) / GB) * p('logsIngestionPerGB'),
    },
    { item: 'Logs Insights scanned by the judge', quantity: `${round(scanned / GB, 2)} GB`, usd: (scanned / GB) * p('logsInsightsScannedPerGB') },
    {
      item: `function invocations (judge schedule, hooks, review, snapshot${looks > 0 ? ', share controller looks' : ''})`,
      quantity: `${invocations} invocations, ${round(gbSeconds, 0)} GB-s`,
      usd: (invocations / 1e6) * p('lambdaRequestsPerMillion') + gbSeconds * p('lambdaGbSecond'),
    },
  ];
  const powertools: CostLine[] = [
    {
      item: 'Powertools log ingestion',
      quantity: `${round((ptBytes * requests) / GB, 2)} GB (${ptBytes} B/request)`,
      usd: ((ptBytes * requests) / GB) * p('logsIngestionPerGB'),
    },
    { item: 'Powertools metric series (per service)', quantity: `${i.metricNames} series`, usd: i.metricNames * p('customMetricPerMonth') },
  ];
  const totalUsd = sum(lines);
  const powertoolsUsd = sum(powertools);
  const evaluation = i.evaluation
    ? evaluationCost({
        requestsPerSecond: i.requestsPerSecond,
        releasesPerMonth: releases,
        releaseHours,
        config: i.evaluation.config,
        tokens: i.evaluation.tokens,
        ...(i.evaluation.schedule ? { schedule: i.evaluation.schedule } : {}),
        ...(i.evaluation.configSchedule ? { configSchedule: i.evaluation.configSchedule } : {}),
      })
    : undefined;
  const steady = i.evaluation && evaluation ? steadyPairSampling(i, evaluation, requests, releases, table) : undefined;
  const section = i.evaluation?.config.evaluation;
  const checks = section ? runtimeCheckCost({ ...i, checkSamplingRate: checkSamplingRateOf(section) }, table) : undefined;
  return {
    lines,
    totalUsd,
    powertools,
    powertoolsUsd,
    ratio: totalUsd / powertoolsUsd,
    pricesDate: table.date,
    region: table.region,
    ...(evaluation ? { evaluation } : {}),
    ...(steady ? { steadyPairSampling: steady } : {}),
    ...(checks ? { runtimeChecks: checks } : {}),
  };
}

/**
 * The pair-only lines drawn outside the canary. Every answer: all of the month's answers but the canary's in its
 * releases, at (pairing rate − scoring rate) (answers under the scoring rate are scored, not pair-only). Announced:
 * the canary's answers in the announcement's slack after each shift, at full traffic.
 */
function steadyPairSampling(i: ReleaseCostInputs, e: EvaluationCost, requests: number, releases: number, table: PriceTable): SteadyPairSampling | undefined {
  const section = i.evaluation?.config.evaluation;
  if (!section) return undefined;
  const rate = section.samplingRate;
  const pairRate = e.pairSamplingRate;
  if (!(pairRate > rate)) return undefined;
  const codePairs = i.evaluation?.codePairs ?? 'every-answer';
  const canaryAnswers = pairRate > 0 ? (releases * e.pairsPerRelease) / pairRate : 0;
  const drawn =
    codePairs === 'every-answer'
      ? Math.max(0, requests - canaryAnswers) * (pairRate - rate)
      : releases * ANNOUNCE_SLACK_SECONDS * i.requestsPerSecond * (pairRate - rate);
  const bytesPerLine = MEASURED_BYTES.pairOnlySampleLine;
  const logGbPerMonth = (drawn * bytesPerLine) / GB;
  const logsUsd = logGbPerMonth * table.prices.logsIngestionPerGB.usd;
  const invocationsUsd =
    (drawn / 1e6) * table.prices.lambdaRequestsPerMillion.usd + drawn * (EVALUATOR_MEMORY_MB / 1024) * DROP_SECONDS * table.prices.lambdaGbSecond.usd;
  return {
    codePairs,
    linesPerMonth: drawn,
    bytesPerLine,
    logGbPerMonth,
    logsUsd,
    evaluatorInvocations: drawn,
    invocationsUsd,
    totalUsd: logsUsd + invocationsUsd,
  };
}

function sum(lines: readonly CostLine[]): number {
  return lines.reduce((a, l) => a + l.usd, 0);
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** The card's section. */
export function renderCostSection(c: ReleaseCost, requestsPerSecond: number): string[] {
  const usd = (x: number) => `${x.toFixed(2)} USD`;
  const out = ['## What the release machinery costs (per month)', ''];
  out.push(
    `At the stated ${requestsPerSecond} requests/s, ${c.region} list prices of ${c.pricesDate} (lib/rollout/data/prices-us-east-1.json, each with its source), no free tier:`,
    '',
  );
  out.push('| item | quantity | USD / month |', '|---|---|---|');
  for (const l of c.lines) out.push(`| ${l.item} | ${l.quantity} | ${l.usd.toFixed(2)} |`);
  out.push(`| **the machinery, in all** | | **${c.totalUsd.toFixed(2)}** |`, '');
  out.push(
    `A Powertools-only service at the same traffic already pays ${usd(c.powertoolsUsd)} (${c.powertools.map((l) => `${l.item}: ${l.quantity}, ${usd(l.usd)}`).join('; ')}). ` +
      `The machinery adds ${usd(c.totalUsd)}: **${c.ratio.toFixed(2)} x** what the service already pays for its logs and metrics.`,
    '',
  );
  if (c.evaluation) out.push(...renderEvaluationCostLines(c.evaluation, requestsPerSecond));
  const rc = c.runtimeChecks;
  if (rc)
    out.push(
      `Deterministic checks in the runtime (evaluation.checkSamplingRate ${rc.rate}): ${Math.round(rc.linesPerMonth).toLocaleString('en-US')} check-result lines a month ` +
        `(${rc.bytesPerLine} B each measured: ${rc.logGbPerMonth.toFixed(2)} GB of logs, ${usd(rc.logsUsd)}), the judge's reads of them during releases ` +
        `(${rc.scannedGbPerMonth.toFixed(3)} GB scanned, ${usd(rc.scanUsd)}), ${rc.cpuMicrosPerRequest} µs of CPU per checked answer (${usd(rc.cpuUsd)}): ` +
        `**${usd(rc.totalUsd)} / month**, no model call.`,
      '',
    );
  const sp = c.steadyPairSampling;
  if (sp) {
    const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
    out.push(
      sp.codePairs === 'every-answer'
        ? `Steady-state pair sampling (code plane): the runtime cannot tell its code canary, so it writes ${n0(sp.linesPerMonth)} pair-only sample lines a month that the evaluator drops unscored (${sp.bytesPerLine} B each measured: ${sp.logGbPerMonth.toFixed(2)} GB of logs, ${usd(sp.logsUsd)}; up to ${n0(sp.evaluatorInvocations)} evaluator invocations and GetAlias calls, ${usd(sp.invocationsUsd)}): **${usd(sp.totalUsd)} / month** for pairs that are needed only during a code canary. An assigned config canary (configCanary: 'assigned') with the regression gate announces the code canary and removes it.`
        : `Steady-state pair sampling (code plane): none — the regression gate announces the code canary in the share document, so only it draws pair-only samples, only during its release (${n0(sp.linesPerMonth)} lines a month in the announcement's 60 s slack after each shift: ${usd(sp.totalUsd)} / month).`,
      '',
    );
  }
  return out;
}
