import { DEFAULT_EVALUATION_MAX_WAIT_MS } from '../../lambda/canary-judge/evaluations';
import { QUERY_ROW_LIMIT } from '../../lambda/canary-judge/samples';
import { DEFAULT_MIN_SCORES } from '../../lambda/judge/scores';
import { renderPlanSection } from './canary-plan';
import { renderAppConfigJudged } from './appconfig-judged';
import { renderCostSection } from './release-cost';
import { renderEvaluatorTrustSection } from './evaluator-trust';
import { type AlarmWindowFacts, JUDGE_MARGIN, percent, quietFraction, type PolicyResult, type ReleaseFacts, windowOf } from './release-policy';
import { formatSeconds } from './worst-case';
import { guardrailLine } from './guardrail-facts';

/**
 * The canary strategy card of one release, as Markdown. Rendered from the same facts the resources were built
 * from, so it cannot disagree with them.
 */
export function renderCanaryCard(f: ReleaseFacts, policy: PolicyResult): string {
  const lines: string[] = [];
  const cmp = (c: '>' | '<') => (c === '>' ? '>' : '<');
  lines.push(`# Canary strategy card — ${f.serviceName}`, '');
  lines.push(`- Owner: ${f.owner ?? '(not set: pass owner)'}`);
  lines.push(`- On-call: ${f.onCall ?? '(not set: pass onCall)'}`);
  lines.push(
    `- Rollback budget: ${formatSeconds(f.rollbackBudgetSeconds)}; computed worst case: code ${formatSeconds(f.worstCase.code.seconds)}, config ${formatSeconds(f.worstCase.config.seconds)}`,
  );
  // The one file synth always writes beside the card (AiRelease's ReleaseManifestRecorder).
  lines.push(`- Release manifest (what this release is and changed): [${manifestFile(f)}](${manifestFile(f)})`, '');

  lines.push('## Traffic steps', '');
  lines.push(`**Code** (CodeDeploy, \`live\` alias): ${f.code.describe}.`, '');
  lines.push('| minute | traffic on the new version |', '|---|---|');
  for (const [minute, pct] of f.code.steps) lines.push(`| ${minute} | ${pct} % |`);
  lines.push('');
  const assigned = f.config.assigned;
  if (assigned) {
    lines.push(
      '**Config** (assigned per conversation: the runtime puts each conversation on live or candidate by a keyed hash at the share the share controller sets; prompt/model/retrieval/tools/output contract as one version):',
      '',
    );
    lines.push('| from | conversations on the new config |', '|---|---|');
    let at = 0;
    for (const step of assigned.schedule) {
      lines.push(`| ${at} s | ${step.percent} % (held ${step.holdSeconds} s) |`);
      at += step.holdSeconds;
    }
    lines.push(
      `| then | promotion: the live environment gets the version all at once; the share goes to 0 once every client has had ${assigned.clientLagSeconds} s to read it |`,
      '',
    );
  } else {
    lines.push(`**Config** (AppConfig, prompt/model/retrieval/tools/output contract as one version): ${f.config.describe}.`, '');
    lines.push('| step | clients on the new config |', '|---|---|');
    f.config.steps.forEach((pct, i) => lines.push(`| ${Math.round(i * f.config.stepIntervalSeconds)} s | ${pct} % |`));
    lines.push(`| then | bake ${f.config.finalBakeMinutes} min, monitors still armed |`, '');
    lines.push(
      "Recommended when the service function runs the library's runtime (it reads the share): `configCanary: 'assigned'`. AppConfig's steps are shares of clients (execution environments), neither known nor randomized, and a conversation can switch configs mid-dialogue; assigned, each conversation keeps one arm, the judge compares the arms at a known share, and rollback is share 0 at the runtime's next poll. Not the default: whether the function runs that runtime cannot be seen at synth.",
      '',
    );
  }

  const order = f.planeOrder ?? ['code', 'config'];
  lines.push('## Release order: one plane at a time', '');
  lines.push(
    `A release that changes both planes rolls out **${order[0]} first, then ${order[1]}**, so each plane's alarms judge one change. ` +
      `The config deployment starts only after the \`live\` alias update, which returns when the CodeDeploy canary has finished; it succeeds only when ${assigned ? 'the share controller has promoted the new config (live environment on it, share back to 0)' : 'AppConfig reports the rollout COMPLETE'}. ` +
      'A code-only or config-only release rolls out its one plane at once.',
    '',
  );
  lines.push(
    '- Canary fails: CodeDeploy moves `live` back, the stack update fails before the config starts, and the config stays on the previous version.',
    assigned
      ? "- Config rolled back (an alarm, the judge's regression, or overdue): the share goes to 0, so every conversation is on the previous config at the runtime's next poll; the stack update fails and CloudFormation rolls back, moving `live` back to the previous code version (the live environment never left the previous config)."
      : '- Config rolled back by its alarms (or overdue): the stack update fails; CloudFormation rolls back, redeploying the previous config version at once and moving `live` back to the previous code version.',
    '',
  );

  lines.push('## Watched metrics', '');
  const w = windowOf(f, 'code');
  const cw = windowOf(f, 'config');
  const windowText = (x: typeof w) => `${x.periodSeconds}-second periods, ${x.datapointsToAlarm} of ${x.evaluationPeriods} breaching`;
  lines.push(
    (windowText(w) === windowText(cw)
      ? `Every alarm: ${windowText(w)}`
      : `Code-plane alarms (the new version): ${windowText(w)}; config-plane alarms (the whole service): ${windowText(cw)}`) +
      `, quiet below ${w.minInvocations} invocations per period, missing data never breaches.`,
    '',
  );
  if (f.expectedRequestsPerSecond === undefined) {
    lines.push(
      'Traffic not stated (`expectedRequestsPerSecond`): at low traffic the invocation guard keeps the alarms quiet, so a canary may pass unjudged. State it to have the policy check the canary can be judged.',
      '',
    );
  } else {
    const perPeriod = f.expectedRequestsPerSecond * (f.code.firstStepPercent / 100) * w.periodSeconds;
    lines.push(
      `At the stated ${f.expectedRequestsPerSecond} requests/s, the first canary step sends the new version about ${Math.round(perPeriod * 10) / 10} requests per alarm period ` +
        `(the policy asks for at least ${JUDGE_MARGIN} x ${w.minInvocations}); ${percent(quietFraction(perPeriod, w.minInvocations))} of its periods are forced quiet (Poisson).` +
        chosenText(w, cw),
      '',
    );
  }
  lines.push('| plane | watches | alarms when | alarm |', '|---|---|---|---|');
  for (const a of f.alarms)
    lines.push(`| ${a.plane} | ${a.watches} | ${cmp(a.comparison)} ${a.threshold}${a.unit} | \`${a.name}\`${a.term ? ` (term \`${a.term}\`)` : ''} |`);
  lines.push('');
  const verdicts = f.verdictAlarms ?? [];
  if (verdicts.length > 0) {
    lines.push(
      "**Canary judge verdict alarms** (the judge's anytime-valid sequential test of the new version against the stable one; 1 of 1 period at >= 1, missing data never breaches):",
      '',
    );
    lines.push('| plane | alarms when | alarm |', '|---|---|---|');
    for (const v of verdicts)
      lines.push(`| ${v.plane} | the judge has shown a regression of the ${v.plane === 'code' ? 'new code version' : 'new config'} | \`${v.name}\` |`);
    lines.push('', judgeReadLine(f.expectedRequestsPerSecond, w.periodSeconds), '');
    lines.push(judgeEvaluationLine(f.judgedEvaluation ?? []), '');
  } else {
    lines.push('The canary judge is off (`canaryJudge: false`): only the fixed thresholds above can roll a release back.', '');
  }
  // The release config's guardrail: whether its contextual grounding scores are consumed (guardrail-facts.ts).
  const guardrail = guardrailLine(f.guardrail);
  if (guardrail) lines.push(guardrail, '');

  lines.push('## Rollback conditions', '');
  lines.push(
    `- **Code:** any code-plane alarm${verdicts.some((v) => v.plane === 'code') ? ' (the judge verdict alarm included)' : ''} in ALARM during a CodeDeploy deployment, a failed deployment, or a stopped one rolls the \`live\` alias back to the previous version.`,
  );
  const judgedConfig = verdicts.some((v) => v.plane === 'config');
  lines.push(
    f.config.assigned
      ? `- **Config (assigned):** while the share ramps, any config-plane alarm in ALARM (the share controller watches the same alarms as the AppConfig monitor${judgedConfig ? ", and the judge's regression" : ''}) sets the share to 0: every conversation is on the live config at the runtime's next poll — prompt, model, retrieval, tools and contract together; the live environment never left it. Once promotion has started nothing rolls it back (a regression found then is a new release).`
      : `- **Config:** any config-plane alarm (through the composite alarm, the AppConfig monitor${judgedConfig ? '; the judge verdict alarm included' : ''}) in ALARM during a config deployment, its steps or its bake, rolls the release config back — prompt, model, retrieval, tools and contract together.`,
  );
  lines.push(
    `- **By hand:** \`${cli(f, 'rollback')}\` stops the running deployments of both planes with rollback (asks first; \`--yes\` in a pipeline)${f.config.assigned ? '; it does not know the share yet: roll an assigned config canary back by invoking the share controller (`release.configShare.function`) with `{"kind":"ai-release.share-rollback"}`' : ''}.`,
    '',
  );

  lines.push('## Degrade conditions', '');
  lines.push(
    `Switches (feature flags, deployed all at once, in their own AppConfig environment with no monitors, so no alarm can refuse or roll back a switch). State as deployed by this stack:`,
    '',
  );
  lines.push('| switch | deployed state |', '|---|---|');
  for (const sw of f.degrade.switches) {
    const on = f.degrade.state?.[sw];
    const state = on === undefined ? 'unknown' : on ? '**ON**' : 'off';
    lines.push(`| \`${sw}\` | ${state}${on && sw === 'staticAnswer' && f.degrade.staticAnswerMessage ? ` (serves "${f.degrade.staticAnswerMessage}")` : ''} |`);
  }
  lines.push('');
  lines.push('A switch flipped since (by the cost guard or a person) shows in the degrade profile, not here: check its latest deployment.');
  if (f.degrade.costGuardMaxCostPerRequestUsd !== undefined) {
    lines.push(
      `**Automatic:** the cost guard switches on \`useFallbackModel\` when the service's cost per request is above ${f.degrade.costGuardMaxCostPerRequestUsd} USD (${cw.datapointsToAlarm} of ${cw.evaluationPeriods} ${cw.periodSeconds}-second periods). Switching it back off is a person's decision.`,
    );
  }
  lines.push(
    'Flip one when a rollback is not enough or not possible: the previous version is also bad, the model provider is down, or cost runs away. The command deploys a new version of the degrade profile with the instant strategy and asks first:',
    '',
  );
  lines.push('```sh');
  lines.push(`# application ${f.degrade.application}, environment ${f.degrade.environment}, profile ${f.degrade.profile}`);
  lines.push(`${cli(f, 'degrade')} on useFallbackModel`);
  lines.push(`${cli(f, 'degrade')} on staticAnswer --message "Back in 10 minutes."`);
  lines.push(`${cli(f, 'degrade')} off useFallbackModel`);
  lines.push('```', '');

  lines.push('## Watching a release', '');
  lines.push('Where the release stands on both planes (step, traffic, alarms, the version tuple served); with `--watch` until it ends:', '');
  lines.push('```sh', `${cli(f, 'status')} --watch`, '```', '');

  lines.push('## Worst case, computed', '');
  lines.push(
    "From the first bad request to rollback start, per alarm: (datapoints to alarm + 1) × period, plus metric ingestion, alarm evaluation cadence and the deployment service's reaction (the last two are assumptions, not AWS guarantees).",
    '',
  );
  for (const plane of ['code', 'config'] as const) {
    const wc = f.worstCase[plane];
    lines.push(`**${plane}**: ${formatSeconds(wc.seconds)} (slowest: \`${wc.slowestAlarm}\`)`, '');
    lines.push('| alarm | datapoints | ingestion | evaluation | reaction | total |', '|---|---|---|---|---|---|');
    for (const a of wc.alarms)
      lines.push(`| \`${a.name}\` | ${a.datapoints} s | ${a.ingestion} s | ${a.evaluation} s | ${a.reaction} s | ${formatSeconds(a.total)} |`);
    lines.push('');
  }

  lines.push('## Drill: how surely and how fast a bad release is caught', '');
  const rate = f.expectedRequestsPerSecond ?? 5;
  const out = `drill/${f.serviceName}`;
  lines.push(
    `The worst case above assumes every request shows the fault. The drill simulates what the synthesized alarms do with real traffic: it reads this template, sends Poisson traffic at ${rate} requests/s${f.expectedRequestsPerSecond === undefined ? ' (traffic not stated: an assumed rate)' : ' (the stated traffic)'} through the runtime with a fault injected, and reports time to detect, time to rollback start, bad answers served, the odds a bad release is caught before 100 % and the odds a good one is rolled back, beside SAM's documented example. After \`cdk synth\`:`,
    '',
  );
  lines.push('```sh', `npx cdk-ai-release drill cdk.out --service ${f.serviceName} --rate ${rate} --out ${out}`, '```', '');
  // Not links: these files exist only once the command has run (a card links only to files synth writes).
  lines.push(
    `It writes the figures of the default drill (20 % of the new version's requests fail from its first one) to \`${out}/drill.md\` and its timeline to \`${out}/drill-default.svg\`.`,
    '',
  );

  if (f.canaryPlan) lines.push(...renderPlanSection(f.canaryPlan.plan, f.canaryPlan.current, f.canaryPlan.traffic, f.canaryPlan.configCurrent));
  if (f.canaryPlan && !f.config.assigned) lines.push(...renderAppConfigJudged(f.config, f.canaryPlan.plan));
  if (f.releaseCost && f.expectedRequestsPerSecond !== undefined) lines.push(...renderCostSection(f.releaseCost, f.expectedRequestsPerSecond));
  lines.push(...renderEvaluatorTrustSection(f));

  lines.push('## Release policy', '');
  // Every finding synth prints (errors fail it, warnings and waivers are printed), so the card never says less.
  const warnings = policy.warnings ?? [];
  if (policy.violations.length === 0 && policy.waived.length === 0 && warnings.length === 0) lines.push('All rules pass.');
  else if (policy.violations.length === 0)
    lines.push(`No rule fails; ${warnings.length} warning${warnings.length === 1 ? '' : 's'}, ${policy.waived.length} waived:`, '');
  for (const v of policy.violations) lines.push(`- FAILS \`${v.rule}\`: ${v.message}`);
  for (const w of warnings) lines.push(`- WARNS \`${w.rule}\`: ${w.message}`);
  for (const w of policy.waived) lines.push(`- WAIVED \`${w.rule}\` (${w.messages.join('; ')}): ${w.reason}`);
  lines.push('');
  return lines.join('\n');
}

/** The release manifest synth writes beside the card (ReleaseManifestRecorder's file name). */
function manifestFile(f: ReleaseFacts): string {
  return `${f.serviceName}.release-manifest.json`;
}

/** An operator command of the `cdk-ai-release` CLI for this service (bin/cli), naming the stack when known. */
function cli(f: ReleaseFacts, command: 'status' | 'rollback' | 'degrade'): string {
  const stack = f.stackName && !/\$\{Token\[/.test(f.stackName) ? ` --stack ${f.stackName}` : '';
  return `npx cdk-ai-release ${command} ${f.serviceName}${stack}`;
}

/** Which evaluation metrics the judge judges with the others (issue 17 E). */
export function judgeEvaluationLine(metrics: readonly string[]): string {
  if (metrics.length === 0)
    return "**Evaluation metrics judged:** none (no `evaluation` section, or `evaluation: false`): the judge sees only the runtime's own metrics.";
  return (
    `**Evaluation metrics judged:** ${metrics.map((m) => `\`${m}\``).join(', ')}, read from the evaluator's results (Logs Insights on its log group, each minute of samples once every sample's result has arrived, at most ${DEFAULT_EVALUATION_MAX_WAIT_MS / 60_000} minutes after it, by default; later results are counted late in the judge record). ` +
    "Together they take one metric's share of the false-rollback bound (scores: a rank test per criterion, paired: a sign test); a criterion with fewer than " +
    `${DEFAULT_MIN_SCORES} scores on either version cannot roll back.`
  );
}

/**
 * What the judge reads, and what it samples (issue 15 A6): every invocation line of each window, through Logs Insights
 * (QUERY_ROW_LIMIT rows a query; a fuller window is cut and continued, never sampled); the stable baseline before a
 * release is read within a budget and only informs the review.
 */
/** Which periods were chosen from the stated traffic, per plane. */
function chosenText(code: AlarmWindowFacts, config: AlarmWindowFacts): string {
  if (code.periodFromTraffic && config.periodFromTraffic && code.periodSeconds === config.periodSeconds)
    return ` The ${code.periodSeconds}-second period was chosen from the stated traffic (alarms.period not given).`;
  const parts = [
    ...(code.periodFromTraffic ? [`the code plane's ${code.periodSeconds}-second period from the canary's first step`] : []),
    ...(config.periodFromTraffic ? [`the config plane's ${config.periodSeconds}-second period from the whole service's`] : []),
  ];
  return parts.length === 0 ? '' : ` Chosen from the stated traffic (no period given): ${parts.join(', ')}.`;
}

export function judgeReadLine(rps: number | undefined, periodSeconds: number | undefined): string {
  const perUpdate =
    rps !== undefined && periodSeconds !== undefined
      ? ` About ${Math.ceil(rps * periodSeconds).toLocaleString('en-US')} rows per update at the stated traffic.`
      : '';
  return (
    `**What the judge reads:** every invocation line of each window, with Logs Insights (at most ${QUERY_ROW_LIMIT.toLocaleString('en-US')} rows a query; a fuller window is cut and continued, never sampled).${perUpdate} ` +
    `The stable baseline it reads before a release only informs the review: it is read within a 20 s budget (up to about 55 requests/s for a 30-minute window, an estimate assuming 1–2 s per query), and past that the judge record's \`baseline\` says where the read stopped.`
  );
}
