/** The review as people read it: every section always present, so a missing fact shows as missing, not as silence. */
import type { ReleaseReview, ReviewComponentChange, ReviewMetricRow } from '../shared/contract';
import { renderEvaluatorTrustMarkdown } from './evaluator-trust';

export const REVIEW_SECTIONS = ['Conclusion', 'What changed', 'Timeline', 'Time to rollback', 'Metrics', 'Chart', 'Samples', 'Action items', 'Notes'] as const;

export function renderReviewMarkdown(r: ReleaseReview, opts: { svgFile: string }): string {
  const out: string[] = [];
  const title = `Release review: ${r.service}, ${r.plane} plane, ${r.deployment.id} (${r.outcome})`;
  out.push(`# ${esc(title)}`, '');
  out.push(
    `Deployment ${code(r.deployment.id)} ended ${code(r.deployment.state)}` +
      (r.deployment.from || r.deployment.to ? `, ${code(r.deployment.from ?? '?')} -> ${code(r.deployment.to ?? '?')}` : '') +
      (r.releaseId ? `. Release id ${code(r.releaseId.slice(0, 12))}` : '') +
      `. Generated ${r.generatedAt}.`,
    '',
  );
  if (r.gate) out.push(`Regression gate report: ${code(r.gate.md)} (${code(r.gate.json)}).`, '');
  if (r.partial) {
    out.push('> **Partial review.** These lookups failed; the sections that need them say so:', '>');
    for (const m of r.missing) out.push(`> - ${esc(m.lookup)}: ${esc(m.reason)}`);
    out.push('');
  }

  out.push('## Conclusion', '', esc(r.conclusion), '');
  if (r.judge) {
    const said = { regression: '**regression**', 'no-regression-shown': 'no regression shown', inconclusive: 'inconclusive' }[r.judge.verdict];
    out.push('## Canary judge', '', `Verdict: ${said}: ${esc(r.judge.detail)}. Record: ${code(r.judge.key)}.`, '');
    if (r.judge.cannotJudge) out.push(`**Not fully judged:** ${esc(r.judge.cannotJudge)}.`, '');
    if (r.judge.beforeAfter) out.push(`**Before/after (informs only):** ${esc(r.judge.beforeAfter)}.`, '');
  }

  out.push(...renderEvaluatorTrustMarkdown(r.evaluatorTrust));
  out.push('## What changed', '');
  if (!r.changes) {
    out.push('_Unknown: the manifest history did not give this release and the one before it._', '');
  } else {
    out.push(`From release ${code((r.previousReleaseId ?? '?').slice(0, 12))} to ${code((r.releaseId ?? '?').slice(0, 12))}.`, '');
    out.push('### Code plane', '', ...changeTable(r.changes.code), '', '### Config plane', '', ...changeTable(r.changes.config), '');
    const meaning = r.changes.config.find((c) => c.component === 'evaluation' && c.meaningChanged);
    if (meaning) out.push(`**What good means changed** (${esc(meaning.meaningChanged ?? '')}): this release was judged by the stable rubric.`, '');
  }
  if (r.evaluation) out.push(...behaviourSection(r.evaluation));

  out.push('## Timeline', '');
  if (r.timeline.length === 0) out.push('_No events: the deployment lookup failed._');
  else {
    out.push('| Time (UTC) | Event | Detail |', '| --- | --- | --- |');
    for (const e of r.timeline) out.push(`| ${e.at.slice(0, 19).replace('T', ' ')} | ${e.event} | ${cell(e.detail)} |`);
  }
  out.push('');

  out.push('## Time to rollback', '');
  const t = r.timeToRollback;
  if (!t) {
    out.push(r.outcome === 'promoted' ? '_No rollback._' : '_Not measured: the first failure time or the rollback start is unknown._');
  } else {
    out.push(
      `Measured from the first failure (${t.firstFailureAt}, from ${t.firstFailureSource === 'case' ? "a regression case's first sighting" : 'the first failing metric period'}) to rollback start (${t.rollbackStartedAt}): **${t.measuredSeconds} s**.`,
    );
    if (t.worstCaseSeconds !== undefined) {
      const diff = t.measuredSeconds - t.worstCaseSeconds;
      out.push(
        '',
        `The worst case computed at synth was ${t.worstCaseSeconds} s: reality was ${Math.abs(diff)} s ${diff <= 0 ? 'faster' : 'slower'} (${Math.round((t.measuredSeconds / Math.max(1, t.worstCaseSeconds)) * 100)} % of it).`,
      );
    }
  }
  out.push('');

  out.push('## Metrics', '');
  if (!r.metrics) out.push('_Unavailable: the metric lookup failed._');
  else {
    const base = r.metrics.baseline === 'previous-version' ? 'previous version, same window' : 'service, same length of time before the rollout';
    out.push(`Window ${r.metrics.start} to ${r.metrics.end}; baseline: ${base}.`, '');
    out.push('| Metric | New | Baseline |', '| --- | --- | --- |');
    for (const m of r.metrics.rows) out.push(`| ${m.metric}${m.unit ? ` (${m.unit})` : ''} | ${num(m, 'candidate')} | ${num(m, 'baseline')} |`);
  }
  out.push('');

  out.push('## Chart', '');
  out.push(
    r.chart
      ? `![${esc(r.chart.alarm)}${r.chart.term ? ` (${esc(r.chart.term)})` : ''} against its threshold ${r.chart.comparison} ${r.chart.threshold}](${opts.svgFile})`
      : `_No alarm to chart: the alarm lookup failed._ ([empty chart](${opts.svgFile}))`,
    '',
  );
  if (r.guardrails) {
    // The combined alarm's guardrails, recomputed from the metrics: which crossed, when first, and how far.
    out.push(`Guardrails of ${esc(r.guardrails.alarm)} (term = value / threshold; the alarm fires when any term is above 1):`, '');
    out.push('| Term | Guardrail | Crossed in periods | First | Peak term |', '| --- | --- | --- | --- | --- |');
    for (const c of r.guardrails.crossed)
      out.push(`| ${c.term} | ${c.kind} ${c.comparison} ${c.threshold} | ${c.periods} | ${c.firstAt ?? '-'} | ${c.peak.toFixed(2)} |`);
    out.push('');
  }

  out.push('## Samples', '');
  const kinds = Object.entries(r.samples.byKind);
  out.push(`New candidates this release added to the regression set: **${r.samples.newCandidates}**.`, '');
  if (r.samples.blastRadius) {
    out.push(
      `Blast radius: ${r.samples.blastRadius.invocations} invocations, ${r.samples.blastRadius.failures} failure signals (errors, contract and safety violations).`,
      '',
    );
  }
  if (kinds.length === 0) out.push('_No failure cases on this release._');
  else {
    out.push('| Kind | Cases | Requests (case totals) |', '| --- | --- | --- |');
    for (const [k, v] of kinds) out.push(`| ${k} | ${v?.cases} | ${v?.requests} |`);
    out.push('', 'Top cases:', '');
    for (const c of r.samples.topCases) out.push(`- ${code(c.caseId)} (${c.state}, ${c.kinds.join(', ')}, ${c.count}x): ${code(c.input.replace(/\s+/g, ' '))}`);
  }
  out.push('');

  out.push('## Action items', '');
  if (r.actionItems.length === 0) out.push('_None the facts call for._');
  else for (const a of r.actionItems) out.push(`- [ ] ${esc(a)}`);
  out.push('');

  out.push('## Notes', '', '_For people: add what the facts cannot say (cause, decisions, follow-ups)._', '');
  for (const n of r.notes) out.push(`- ${esc(n)}`);
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function changeTable(rows: readonly ReviewComponentChange[]): string[] {
  const out = ['| Component | Change | Before | After |', '| --- | --- | --- | --- |'];
  for (const c of rows) {
    const extra = [c.keys && c.keys.length > 0 ? `keys: ${c.keys.join(', ')}` : '', c.warning ? `! ${c.warning}` : ''].filter(Boolean).join('; ');
    out.push(`| ${c.component} | ${c.change}${extra ? ` (${cell(extra)})` : ''} | ${code(c.before)} | ${code(c.after)} |`);
  }
  return out;
}

function num(m: ReviewMetricRow, side: 'candidate' | 'baseline'): string {
  const v = m[side];
  if (v === undefined) return 'n/a';
  if (m.metric.endsWith('rate')) return `${(v * 100).toFixed(2)} %`;
  return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'").slice(0, 240)}\``;
}

function cell(s: string): string {
  return esc(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Text from events and cases never becomes Markdown markup or HTML. */
function esc(s: string): string {
  return s.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** "What changed in behaviour" (the fingerprint) and the evaluator's scores and pairs, canary against stable. */
function behaviourSection(e: NonNullable<ReleaseReview['evaluation']>): string[] {
  const out: string[] = ['### What changed in behaviour', ''];
  out.push(
    `Canary ${e.samples.canary} and stable ${e.samples.stable} sampled answers (one per input and version). Each field is tested canary against stable; p-values are Holm-adjusted over the ${e.fingerprint.length} fields, shift shown at ${e.alpha}.`,
    '',
    '| Field | Canary | Stable | Test | p (adjusted) | Shift |',
    '| --- | --- | --- | --- | ---: | --- |',
  );
  for (const f of e.fingerprint)
    out.push(
      `| ${f.field} | ${cell(f.canary)} | ${cell(f.stable)} | ${f.test} | ${f.adjustedP} | ${f.shifted ? `**shifted**${f.change ? `: ${cell(f.change)}` : ''}` : 'not shown'} |`,
    );
  out.push('', `#### Evaluator scores (rubric ${code(e.rubric.label)})`, '');
  if (e.rubric.meaningChanged) out.push(`What good means changed (${esc(e.rubric.meaningChanged)}): the scores below are by the stable rubric.`, '');
  const iv = (x?: { n: number; mean: number; low: number; high: number }) =>
    x ? `${x.mean} [${Number.isFinite(x.low) ? x.low : '?'}, ${Number.isFinite(x.high) ? x.high : '?'}] (n ${x.n})` : '—';
  if (e.scores.length === 0) out.push('_No scores in the window._', '');
  else {
    out.push('| Criterion | Source | Canary, mean [95 %] | Stable, mean [95 %] |', '| --- | --- | --- | --- |');
    for (const s of e.scores) out.push(`| ${s.criterion} | ${s.source} | ${iv(s.canary)} | ${iv(s.stable)} |`);
    out.push('');
  }
  out.push(
    `Paired comparisons (same input, both orders): canary won ${e.paired.wins}, lost ${e.paired.losses}, tied ${e.paired.ties}${e.paired.unscored ? `, unscored ${e.paired.unscored}` : ''}.`,
    '',
  );
  if (e.worstPairs.length > 0) {
    out.push('Worst pairs (the stable answer preferred in both orders; inputs redacted):', '', '| Case | Input | Evaluator |', '| --- | --- | --- |');
    for (const p of e.worstPairs) out.push(`| ${code(p.caseId)} | ${cell(p.input)} | ${cell(p.reasons.join(' / '))} |`);
    out.push('');
  }
  for (const n of e.notes) out.push(`- ${esc(n)}`);
  if (e.notes.length > 0) out.push('');
  return out;
}
