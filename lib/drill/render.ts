/** The drill's outputs: a text table, Markdown, an SVG timeline. Pure string builders. */
import { formatSeconds } from '../rollout/worst-case';
import type { DrillReport, ScenarioReport } from './drill';
import type { Point } from './expression';
import type { MonteCarloResult, RunResult } from './simulate';

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)} %`;
/** A duration from the first bad request; negative: the alarm came before it (it was already firing). */
const secs = (s: number | undefined) => (s === undefined ? 'never' : s < 0 ? `${formatSeconds(-s)} before it` : formatSeconds(s));
const since = (t: number | undefined, start: number) => (t === undefined ? undefined : t - start);
const odds = (m: MonteCarloResult) => `${pct(m.pCaughtBeforeFull)} [${pct(m.ci95[0])}–${pct(m.ci95[1])}]`;
/** AppConfig keeps watching through its bake: a rollback after 100 % still undoes the config. */
const byEnd = (m: MonteCarloResult) => pct(m.caught / m.runs);
const falseOdds = (m: MonteCarloResult) => {
  const rolled = m.caught;
  return `${pct(rolled / m.runs)} (${rolled}/${m.runs})`;
};

/** Time to detect; an ALARM after the deployment stopped watching rolls nothing back, and says so. */
function detectText(r: RunResult, start: number): string {
  const t = secs(since(r.detectedAt, start));
  return r.detectedAt !== undefined && r.rollbackAt === undefined ? `${t} (too late)` : t;
}

/** `2.5x` (reference / ours), `—` when either never detects. */
export function ratio(reference: number | undefined, ours: number | undefined): string {
  if (reference === undefined && ours === undefined) return '—';
  if (ours === undefined) return 'ours never';
  if (reference === undefined) return 'ref. never';
  if (ours === 0) return reference === 0 ? '1.0x' : '∞';
  return `${(reference / ours).toFixed(1)}x`;
}

/** The detect ratio, unless the reference rolls back most good releases (its "detection" is then no signal). */
function refRatio(s: ScenarioReport): string {
  const ref = s.reference;
  if (!ref) return '—';
  const falseShare = ref.falseRollback.caught / ref.falseRollback.runs;
  if (falseShare >= 0.5) return `n/a: ref. rolls back ${pct(falseShare)} of good releases`;
  return ratio(ref.monteCarlo.detectMedian, s.monteCarlo.detectMedian);
}

function shortName(report: DrillReport, id: string | undefined): string {
  if (!id) return '—';
  const a = report.alarms.find((x) => x.logicalId === id);
  return a ? a.name : id;
}

function scenarioLine(s: ScenarioReport): string {
  const f = s.scenario.fault;
  const fault = f.kind === 'none' ? 'no fault' : `${f.kind} ${f.size}${f.startSeconds ? ` from ${f.startSeconds} s` : ''}`;
  const gap = s.scenario.metricsGap ? `, no metrics ${s.scenario.metricsGap.fromSeconds}–${s.scenario.metricsGap.toSeconds} s` : '';
  return `${s.scenario.name}: ${fault}, ${s.scenario.ratePerSecond} req/s${gap}`;
}

/** The text table: one row per scenario, ours then the reference, with the ratio. */
export function renderDrillText(report: DrillReport): string {
  const lines: string[] = [];
  lines.push(`Drill — ${report.plane} plane: ${report.describe}; base error rate ${pct(report.baseErrorRate)}; ${report.runs} seeded runs per scenario.`);
  const rows: string[][] = [
    [
      'scenario',
      'setup',
      'detect',
      'rollback start',
      'bad served',
      'caught before 100 % (95 % CI)',
      ...(report.plane === 'config' ? ['caught by bake end'] : []),
      'false rollback',
      'ratio detect (ref/ours)',
    ],
  ];
  for (const s of report.scenarios) {
    const row = (who: string, single: RunResult, mc: MonteCarloResult, fr: MonteCarloResult, start = single.firstBadAt ?? s.scenario.fault.startSeconds) => [
      who === 'ours' ? s.scenario.name : '',
      who,
      detectText(single, start),
      secs(since(single.rollbackAt, start)),
      String(single.badServed),
      s.scenario.fault.kind === 'none' ? 'n/a (good release)' : odds(mc),
      ...(report.plane === 'config' ? [s.scenario.fault.kind === 'none' ? 'n/a' : byEnd(mc)] : []),
      falseOdds(fr),
      who === 'ours' ? '' : refRatio(s),
    ];
    rows.push(row('ours', s.single, s.monteCarlo, s.falseRollback));
    if (s.reference) rows.push(row('SAM ref.', s.reference.single, s.reference.monteCarlo, s.reference.falseRollback));
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, r] of rows.entries()) {
    lines.push(
      r
        .map((c, j) => c.padEnd(widths[j]))
        .join('  ')
        .trimEnd(),
    );
    if (i === 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  lines.push('');
  lines.push(
    'detect / rollback start: from the first bad request served, in the single run ("before it": the alarm was already firing; "too late": after the deployment stopped watching);',
  );
  lines.push('"caught" odds and false rollbacks over the seeded runs;');
  lines.push('ratio: median time to detect of the reference (SAM: AWS/Lambda Errors > 0, 60 s x 2) over ours.');
  const skipped = Object.entries(report.coverage.notSimulated);
  for (const [id, why] of skipped) lines.push(`not simulated: ${shortName(report, id)} — ${why}`);
  return `${lines.join('\n')}\n`;
}

/** The Markdown report, linking each scenario's SVG (`figure(name)` gives its path). */
export function renderDrillMarkdown(report: DrillReport, figure: (scenario: string) => string | undefined, source: string): string {
  const l: string[] = [];
  l.push(`# Release drill — ${report.plane} plane`, '');
  l.push(
    `Template: \`${source}\`. Traffic shift: ${report.describe}. Base error rate ${pct(report.baseErrorRate)}; ${report.runs} seeded runs per scenario.`,
    '',
  );
  l.push('## Alarms read from the template', '');
  l.push('| alarm | threshold | period | M of N | missing data | rolls back this plane | simulated |', '|---|---|---|---|---|---|---|');
  const trig = new Set(report.coverage.trigger);
  for (const a of report.alarms) {
    const why = report.coverage.notSimulated[a.logicalId];
    l.push(
      `| \`${a.name}\` | ${a.comparison} ${a.threshold} | ${a.period} s | ${a.m} of ${a.n} | ${a.treatMissingData} | ${trig.has(a.logicalId) ? 'yes' : 'no'} | ${why ? `no: ${why}` : 'yes'} |`,
    );
  }
  l.push('');
  l.push('## Results', '');
  l.push(
    '| scenario | setup | time to detect | to rollback start | bad answers served | caught before 100 % | false rollback (good release) | median detect, ref/ours |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const s of report.scenarios) {
    const cells = (single: RunResult, mc: MonteCarloResult, fr: MonteCarloResult, start = single.firstBadAt ?? s.scenario.fault.startSeconds) => [
      detectText(single, start),
      secs(since(single.rollbackAt, start)),
      String(single.badServed),
      s.scenario.fault.kind === 'none' ? 'n/a' : odds(mc),
      ...(report.plane === 'config' ? [s.scenario.fault.kind === 'none' ? 'n/a' : byEnd(mc)] : []),
      falseOdds(fr),
    ];
    l.push(`| ${scenarioLine(s)} | ours | ${cells(s.single, s.monteCarlo, s.falseRollback).join(' | ')} | |`);
    if (s.reference)
      l.push(
        `| | SAM reference | ${cells(s.reference.single, s.reference.monteCarlo, s.reference.falseRollback).join(' | ')} | ${ratio(s.reference.monteCarlo.detectMedian, s.monteCarlo.detectMedian)} |`,
      );
  }
  l.push('');
  for (const s of report.scenarios) {
    const fig = figure(s.scenario.name);
    if (fig) l.push(`### ${s.scenario.name}`, '', `![${s.scenario.name} timeline](${fig})`, '');
    const m = s.monteCarlo;
    l.push(
      `Over ${m.runs} runs: detect median ${secs(m.detectMedian)}, p90 ${secs(m.detectP90)}; rollback start median ${secs(m.rollbackMedian)}; bad answers mean ${m.badServedMean.toFixed(1)}, p90 ${m.badServedP90}. Single run: ${s.singleMode === 'runtime' ? 'every request through the runtime' : 'resampled runtime outcomes'}; first alarm: \`${shortName(report, s.single.detectedBy)}\`.`,
      '',
    );
  }
  l.push('## How it was computed', '');
  l.push(
    '- Alarms, metric math, periods, M of N, missing-data treatment, thresholds, composite rules, the CodeDeploy schedule and the AppConfig strategy are read from the template; nothing is re-derived from construct props.',
    "- Requests arrive as a Poisson process; each goes to the new version with the schedule's weight. The runtime (`lambda/runtime`) serves them with a fake model and the fault injected; its EMF is aggregated into each alarm's periods.",
    '- The Monte Carlo resamples the outcomes the runtime produced for this scenario (captured once); each run has its own seed and period phase.',
    '- CloudWatch semantics: see `lib/drill/cloudwatch.ts` and `lib/drill/expression.ts` (rules and sources). Ingestion and reaction delays are the `timing` assumptions of `lib/worst-case.ts`.',
  );
  for (const [id, why] of Object.entries(report.coverage.notSimulated)) l.push(`- Not simulated: \`${shortName(report, id)}\` — ${why}.`);
  return `${l.join('\n')}\n`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The timeline of one run: the deciding alarm's datapoints against its threshold, the traffic weight, the alarm's
 * state, and markers for the fault, detection, rollback start and full rollout.
 */
export function renderDrillSvg(report: DrillReport, s: ScenarioReport): string {
  const r = s.single;
  const id = r.detectedBy ?? pickAlarm(report, s);
  const alarm = report.alarms.find((a) => a.logicalId === id);
  const points: readonly { t: number; v: Point }[] = (id && r.series[id]) || [];
  const W = 900;
  const left = 70;
  const right = 20;
  const t0 = Math.min(0, ...points.map((p) => p.t));
  const t1 = r.horizon;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const vals = points.flatMap((p) => (p.v === undefined ? [] : [p.v]));
  const threshold = alarm?.threshold ?? 0;
  const vmax = Math.max(threshold * 1.5, ...vals, 1e-9);
  const vmin = Math.min(0, ...vals);
  const metricTop = 40;
  const metricH = 180;
  const y = (v: number) => metricTop + metricH - ((v - vmin) / (vmax - vmin)) * metricH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="420" viewBox="0 0 ${W} 420" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${esc(`Drill ${s.scenario.name}: ${alarm?.name ?? 'no alarm'}`)}</title>`);
  out.push(`<rect width="${W}" height="420" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="13" font-weight="bold">${esc(`${s.scenario.name} — ${alarm ? alarm.name : 'no simulated alarm'}`)}</text>`);
  // Metric panel.
  out.push(`<g class="metric"><rect x="${left}" y="${metricTop}" width="${W - left - right}" height="${metricH}" fill="none" stroke="#ccc"/>`);
  let path = '';
  for (const p of points) {
    if (p.v === undefined) continue;
    path += `M${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}H${x(p.t + (alarm?.period ?? 10)).toFixed(1)}`;
  }
  out.push(`<path class="datapoints" d="${path || 'M0,0'}" stroke="#1f77b4" stroke-width="2" fill="none"/>`);
  for (const p of points)
    if (p.v === undefined && p.t >= t0)
      out.push(
        `<rect class="missing" x="${x(p.t).toFixed(1)}" y="${metricTop}" width="${Math.max(1, x(p.t + (alarm?.period ?? 10)) - x(p.t)).toFixed(1)}" height="${metricH}" fill="#eee" opacity="0.6"/>`,
      );
  out.push(
    `<line class="threshold" data-threshold="${threshold}" x1="${left}" x2="${W - right}" y1="${y(threshold).toFixed(1)}" y2="${y(threshold).toFixed(1)}" stroke="#d62728" stroke-dasharray="6,4"/>`,
  );
  out.push(
    `<text x="${W - right - 4}" y="${(y(threshold) - 4).toFixed(1)}" text-anchor="end" fill="#d62728">threshold ${esc(`${alarm?.comparison ?? ''} ${threshold}`)}</text>`,
  );
  out.push(`<text x="${left + 4}" y="${metricTop + metricH - 4}" fill="#888">shaded: no datapoint (missing)</text>`);
  out.push(
    `<text x="${left - 6}" y="${metricTop + 10}" text-anchor="end">${+vmax.toPrecision(3)}</text><text x="${left - 6}" y="${metricTop + metricH}" text-anchor="end">${+vmin.toPrecision(3)}</text>`,
  );
  out.push('</g>');
  // Traffic weight panel.
  const wTop = 240;
  const wH = 80;
  let wpath = '';
  const steps = [...r.weight, [t1, r.weight[r.weight.length - 1]?.[1] ?? 0] as const];
  for (let i = 0; i < steps.length - 1; i++) {
    const yy = wTop + wH - (steps[i][1] / 100) * wH;
    wpath += `${i === 0 ? 'M' : 'L'}${x(steps[i][0]).toFixed(1)},${yy.toFixed(1)}H${x(steps[i + 1][0]).toFixed(1)}`;
  }
  out.push(`<g class="traffic"><rect x="${left}" y="${wTop}" width="${W - left - right}" height="${wH}" fill="none" stroke="#ccc"/>`);
  out.push(`<path class="weight" d="${wpath || 'M0,0'}" stroke="#2ca02c" stroke-width="2" fill="none"/>`);
  out.push(`<text x="${left - 6}" y="${wTop + 10}" text-anchor="end">100 %</text><text x="${left - 6}" y="${wTop + wH}" text-anchor="end">0 %</text>`);
  out.push(`<text x="${left + 4}" y="${wTop + 12}">traffic on the new ${s.scenario.plane === 'code' ? 'version' : 'config'}</text></g>`);
  // Alarm state band.
  const sTop = 335;
  const colour: Record<string, string> = { OK: '#9be29b', ALARM: '#ff7f7f', INSUFFICIENT_DATA: '#cccccc' };
  let state = 'OK';
  let from = t0;
  const band: string[] = [];
  for (const c of r.changes.filter((c) => c.alarm === id)) {
    band.push(
      `<rect class="state-${state}" x="${x(from).toFixed(1)}" y="${sTop}" width="${Math.max(0, x(c.t) - x(from)).toFixed(1)}" height="16" fill="${colour[state]}"/>`,
    );
    state = c.to;
    from = c.t;
  }
  band.push(
    `<rect class="state-${state}" x="${x(from).toFixed(1)}" y="${sTop}" width="${Math.max(0, x(t1) - x(from)).toFixed(1)}" height="16" fill="${colour[state]}"/>`,
  );
  out.push(`<g class="alarm-state">${band.join('')}<text x="${left - 6}" y="${sTop + 12}" text-anchor="end">alarm</text></g>`);
  // Markers.
  const marker = (cls: string, t: number | undefined, label: string, colourName: string, dy: number) => {
    if (t === undefined) return;
    out.push(
      `<g class="${cls}" data-t="${t}"><line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${metricTop}" y2="${sTop + 16}" stroke="${colourName}" stroke-width="1.5"/><text x="${(x(t) + 3).toFixed(1)}" y="${metricTop + dy}" fill="${colourName}">${esc(label)}</text></g>`,
    );
  };
  if (s.scenario.fault.kind !== 'none') marker('fault-marker', s.scenario.fault.startSeconds, 'fault starts', '#9467bd', 12);
  marker('detect-marker', r.detectedAt, `ALARM at ${r.detectedAt} s`, '#ff7f0e', 26);
  marker('rollback-marker', r.rollbackAt, `rollback starts at ${r.rollbackAt} s`, '#d62728', 40);
  marker('full-marker', r.fullAt, '100 %', '#555', 54);
  // Time axis.
  const ticks: string[] = [];
  const step = (t1 - t0) / 10 > 60 ? 120 : 60;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(`<text x="${x(t).toFixed(1)}" y="370" text-anchor="middle">${t} s</text>`);
  out.push(
    `<g class="axis">${ticks.join('')}<text x="${left}" y="395">seconds from the deployment's start; bad answers served: ${r.badServed}${r.rollbackAt === undefined ? ' (not rolled back)' : ''}</text></g>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function pickAlarm(report: DrillReport, s: ScenarioReport): string | undefined {
  const hint: Record<string, string> = {
    'error-spike': 'error',
    'latency-creep': 'latency',
    'cost-jump': 'cost',
    'quality-drop': 'quality',
    safety: 'safety',
    contract: 'contract',
    none: 'error',
  };
  const ids = Object.keys(s.single.series);
  const word = hint[s.scenario.fault.kind];
  return (
    ids.find((id) => id.toLowerCase().includes(word) || (report.alarms.find((a) => a.logicalId === id)?.name ?? '').toLowerCase().includes(word)) ?? ids[0]
  );
}
