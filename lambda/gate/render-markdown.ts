import type { GateReport } from '../shared/contract';

const esc = (s: string) => s.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');

/** The report for people: verdict and counts on top, then the failing cases with their reasons. */
export function renderGateMarkdown(r: GateReport): string {
  const out: string[] = [];
  const mark = r.verdict === 'failed' ? 'FAILED' : r.verdict === 'passed-empty' ? 'PASSED (nothing to replay)' : 'PASSED';
  out.push(`# Regression gate: ${esc(r.service)} — ${mark}`, '');
  out.push(esc(r.summary), '');
  out.push(
    `- Plane: ${r.plane}; release: \`${r.releaseKey}\``,
    `- Target: \`${r.target.functionName}:${r.target.qualifier}\`${r.target.configVersion ? ` — config version ${esc(r.target.configVersion)}${r.target.configLabel ? ` (${esc(r.target.configLabel)})` : ''}` : ''}`,
    `- Required pass rate of blocking cases: ${Math.round(r.requiredPassRate * 1000) / 10} %`,
    `- Ran ${r.startedAt} → ${r.endedAt}${r.deadlineReached ? ' (stopped at its deadline: cases not run count as not passed)' : ''}`,
    ...(r.error ? [`- Gate error: ${esc(r.error)}`] : []),
    '',
  );
  out.push('| | total | replayed | passed | failed | not run |', '|---|---:|---:|---:|---:|---:|');
  for (const [name, c] of [
    ['blocking', r.blocking],
    ['reported', r.reported],
  ] as const)
    out.push(`| ${name} | ${c.total} | ${c.selected} | ${c.passed} | ${c.failed} | ${c.notRun} |`);
  out.push('');
  if (r.evaluation) {
    const e = r.evaluation;
    out.push(
      '## Evaluator',
      '',
      `- Judged by the live evaluation section \`${esc(e.rubric)}\` with \`${esc(e.evaluatorModel)}\`; ${e.evaluatedCases} case(s) with a reference answer or rubric floors, each replayed up to ${e.replays.k} times (passes with ${esc(e.replays.rule)})`,
      `- Evaluator spend: ${e.spentUsd.toFixed(4)} of ${e.capUsd} USD${e.capReached ? ' — **cap reached**: calls it refused left replays unscored (not passed)' : ''}`,
      ...(e.paired
        ? [
            `- Pairwise against the live config: candidate lost ${e.paired.losses}, won ${e.paired.wins}, tied ${e.paired.ties}${e.paired.unscored ? `, unscored ${e.paired.unscored}` : ''}; loss rate ${Math.round(e.paired.lossRate * 1000) / 10} % of decided pairs (allowed ${Math.round(e.paired.maxLossRate * 1000) / 10} %), sign test p = ${e.paired.pValue.toPrecision(2)} (alpha ${e.paired.alpha})${e.paired.failed ? ' — **FAILED**' : ''}`,
            ...(e.paired.rule ? [`- Pairwise rule, per case: ${esc(e.paired.rule)}; wins, losses and ties above count cases`] : []),
          ]
        : []),
      ...e.notes.map((n) => `- Note: ${esc(n)}`),
      '',
    );
    const scored = r.cases.filter((c) => c.scores && c.scores.length > 0);
    if (scored.length > 0) {
      out.push('| case | replays passed | criterion | lowest | median | floor |', '|---|---:|---|---:|---:|---:|');
      for (const c of scored.slice(0, 100))
        for (const s of c.scores ?? [])
          out.push(`| \`${c.caseId}\` | ${c.replays ? `${c.replays.passed}/${c.replays.run}` : ''} | ${s.criterion} | ${s.min} | ${s.median} | ${s.floor} |`);
      out.push('');
    }
  }
  const bad = r.cases.filter((c) => c.outcome !== 'passed');
  out.push('## Cases not passed', '');
  if (bad.length === 0) out.push('_None._', '');
  else {
    out.push('| case | blocking | kinds | outcome | why |', '|---|---|---|---|---|');
    for (const c of bad.slice(0, 200))
      out.push(`| \`${c.caseId}\` | ${c.blocking ? 'yes' : 'no'} | ${c.kinds.join(', ')} | ${c.outcome} | ${esc(c.reasons.join('; '))} |`);
    if (bad.length > 200) out.push('', `_…and ${bad.length - 200} more in the JSON report._`);
    out.push('');
  }
  out.push(`Passed: ${r.cases.filter((c) => c.outcome === 'passed').length} case(s). Inspect one with \`cdk-ai-release cases show <caseId>\`.`, '');
  return out.join('\n');
}
