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
