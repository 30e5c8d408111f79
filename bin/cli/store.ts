import * as fs from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import {
  CASE_STATES,
  type CaseExpectation,
  type CaseState,
  type GateReport,
  gateKeys,
  type RegressionCase,
  type ReleaseReview,
  reviewKeys,
  STORE_PREFIX,
} from '../../lambda/shared/contract';
import { describeAgreement, HUMAN_LABELS, type HumanLabelValue, labelSetKey } from '../../lambda/shared/evaluator-agreement';
import { s3Store } from '../../lambda/snapshot/s3-store';
import { mapLimit, type ObjectStore, withRetries } from '../../lambda/snapshot/store';
import { RegressionCases } from '../../lib/learning/regression-cases';
import { type ScoredSampleRef, scoredSamplesPrefix } from '../../lambda/shared/sample-labels';
import { describeAwsError, isCredentialsError } from './aws';
import { type AwsCommandOptions, type Deps, withAwsOptions } from './deps';
import { AwsError, EXIT, type Io, UsageError } from './io';
import { locateService } from './locate';

interface StoreOptions extends AwsCommandOptions {
  readonly bucket?: string;
}

const STORE_EXIT_HELP =
  'Exit codes: 0 done, 2 bad usage or input (a wrong service, an unknown case or release, a case in the wrong state), 4 AWS refused or no credentials.';

/** Retries of the store's own layer (throttling, 5xx), on top of one SDK attempt each. */
const RETRY = { maxAttempts: 4, baseDelayMs: 100 };
/** Reports read at most to find the latest one, or to list. */
const MAX_REPORTS = 500;

/** The bucket: --bucket, else the one the deployed manifest names (reviews may live in their own bucket). */
async function bucketOf(deps: Deps, service: string, options: StoreOptions, which: 'store' | 'reviews'): Promise<{ bucket: string; s3: S3Client }> {
  const clients = deps.clients(options);
  if (options.bucket) return { bucket: options.bucket, s3: clients.s3 };
  const { locators } = await locateService(clients.ssm, service, options);
  const bucket = which === 'reviews' ? (locators.reviews ?? locators.store) : locators.store;
  if (!bucket) throw new UsageError(`${service} has no regression store (snapshots and reviews are off); pass --bucket <name> if it writes to another bucket`);
  return { bucket, s3: clients.s3 };
}

/** Store calls: AWS failures are one line with exit 4; the library's own refusals (a bad id, a wrong state) are usage errors. */
async function storeCall<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const o = e as { $metadata?: unknown; $fault?: unknown };
    if (isCredentialsError(e) || o?.$metadata !== undefined || o?.$fault !== undefined) throw new AwsError(describeAwsError(e, what));
    if (e instanceof UsageError || e instanceof AwsError) throw e;
    throw new UsageError((e as Error).message);
  }
}

function withStoreOptions(command: Command): Command {
  return withAwsOptions(command).option('--bucket <name>', 'the regression store bucket (else the one the deployed manifest names)');
}

const json = (v: unknown) => `${JSON.stringify(v, undefined, 2)}\n`;
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `regression list|show|promote|retire`: read and triage the regression set. */
export function registerRegression(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  const group = program
    .command('regression')
    .summary('list, show, promote, retire and label regression cases')
    .description(
      'Reads and triages the regression set of a service in the regression store (S3): candidates from failures, accepted cases that gate releases, retired ones.',
    )
    .addHelpText('after', `\n${STORE_EXIT_HELP}`);
  const cases = async (service: string, options: StoreOptions) => {
    const { bucket, s3 } = await bucketOf(deps, service, options, 'store');
    return RegressionCases.s3(bucket, { client: s3, retry: RETRY });
  };

  withStoreOptions(group.command('list').summary('list the cases of a service, most recently seen first').argument('<service>', 'the service name'))
    .option('--state <state>', `only cases in this state (${CASE_STATES.join(', ')})`)
    .option('--json', 'print the cases as JSON')
    .action(async (service: string, options: StoreOptions & { state?: string }) => {
      if (options.state !== undefined && !(CASE_STATES as readonly string[]).includes(options.state)) {
        throw new UsageError(`--state must be one of ${CASE_STATES.join(', ')}, got "${options.state}"`);
      }
      const set = await cases(service, options);
      const list = await storeCall('reading the regression cases', () => set.list(service, options.state as CaseState | undefined));
      if (options.json) io.out(json(list));
      else if (list.length === 0) io.out(`no ${options.state ?? ''}${options.state ? ' ' : ''}cases for ${service}\n`);
      else {
        io.out(`${'CASE'.padEnd(13)}${'STATE'.padEnd(11)}${'COUNT'.padStart(6)}  ${'LAST SEEN'.padEnd(21)}${'KINDS'.padEnd(18)}INPUT\n`);
        for (const c of list) {
          io.out(
            `${c.caseId.slice(0, 12)} ${c.state.padEnd(11)}${String(c.count).padStart(6)}  ${c.lastSeen.slice(0, 19).padEnd(21)}${c.kinds.join(',').padEnd(18)}${cut(c.input.replace(/\s+/g, ' '), 60)}\n`,
          );
        }
        io.out(`${list.length} case${list.length === 1 ? '' : 's'}; show one with: cdk-ai-release regression show ${service} <case>\n`);
      }
      setExit(EXIT.OK);
    });

  withStoreOptions(
    group
      .command('show')
      .summary('show one case')
      .argument('<service>', 'the service name')
      .argument('<case>', 'the case id (32 hex characters, or a unique prefix of at least 6)'),
  )
    .option('--json', 'print the case as JSON')
    .action(async (service: string, id: string, options: StoreOptions) => {
      const set = await cases(service, options);
      const c = await findCase(set, service, id);
      io.out(options.json ? json(c) : renderCase(c));
      setExit(EXIT.OK);
    });

  for (const verb of ['promote', 'retire'] as const) {
    const command = withStoreOptions(
      group
        .command(verb)
        .summary(verb === 'promote' ? 'candidate -> accepted: the case now gates releases' : 'candidate or accepted -> retired: the case stops gating')
        .argument('<service>', 'the service name')
        .argument('<case>', 'the case id (or a unique prefix of at least 6)'),
    )
      .requiredOption('--by <who>', 'who decides (a person or a pipeline id); kept in the case history')
      .requiredOption('--reason <why>', 'why; kept in the case history')
      .option('--json', 'print the changed case as JSON');
    if (verb === 'promote') command.option('--expectation <json>', 'replace the expectation (JSON, see CaseExpectation)');
    command.action(async (service: string, id: string, options: StoreOptions & { by: string; reason: string; expectation?: string }) => {
      let expectation: CaseExpectation | undefined;
      if (options.expectation !== undefined) {
        try {
          expectation = JSON.parse(options.expectation) as CaseExpectation;
        } catch (e) {
          throw new UsageError(`--expectation is not JSON: ${(e as Error).message}`);
        }
      }
      const set = await cases(service, options);
      const c = await findCase(set, service, id);
      const moved = await storeCall(`${verb} ${c.caseId}`, () =>
        verb === 'promote'
          ? set.promote(service, c.caseId, { by: options.by, reason: options.reason, ...(expectation ? { expectation } : {}) })
          : set.retire(service, c.caseId, { by: options.by, reason: options.reason }),
      );
      io.out(options.json ? json(moved) : `${c.caseId}: ${c.state} -> ${moved.state} (by ${options.by}: ${options.reason})\n`);
      setExit(EXIT.OK);
    });
  }
  withStoreOptions(
    group
      .command('label')
      .summary("label an answer good or bad (a case, or any scored evaluation sample): the labelled set the evaluator's agreement with people is measured on")
      .argument('<service>', 'the service name')
      .argument('<id>', 'a case id or the id of a scored evaluation sample (or a unique prefix of at least 6 of either)')
      .argument('<label>', `${HUMAN_LABELS.join(' or ')}: good = the answer was acceptable (a false alarm), bad = the failure is real`),
  )
    .requiredOption('--by <who>', 'who labels (a person or a pipeline id)')
    .option('--reason <why>', 'why; kept with the label')
    .option('--json', 'print the label as JSON')
    .action(async (service: string, id: string, label: string, options: StoreOptions & { by: string; reason?: string; json?: boolean }) => {
      if (!(HUMAN_LABELS as readonly string[]).includes(label))
        throw new UsageError(`<label> must be ${HUMAN_LABELS.join(' or ')} (good: the answer was acceptable; bad: the failure is real), got "${label}"`);
      const set = await cases(service, options);
      const target = await findLabelTarget(set, service, id);
      const written = await storeCall(`labelling ${target.id}`, () =>
        set.label(service, target.id, { label: label as HumanLabelValue, by: options.by, ...(options.reason ? { reason: options.reason } : {}) }),
      );
      const l = written.labels[target.caseId];
      const what = target.sample ? `sample ${target.sample.sampleId} (request ${target.sample.requestId}, input of case ${target.caseId})` : target.caseId;
      io.out(
        options.json
          ? json(l)
          : `${what}: labelled ${l.label} by ${l.by}${l.reason ? `: ${l.reason}` : ''} (${Object.keys(written.labels).length} labelled cases)\n`,
      );
      setExit(EXIT.OK);
    });

  withStoreOptions(
    group
      .command('agreement')
      .summary("the evaluator's agreement with people's labels (accuracy with a 95 % Wilson interval, Cohen's kappa, the number of labels)")
      .argument('<service>', 'the service name'),
  )
    .option('--json', 'print the agreement as JSON (what AiRelease evaluatorAgreement takes, for the canary card)')
    .action(async (service: string, options: StoreOptions & { json?: boolean }) => {
      const { bucket, s3 } = await bucketOf(deps, service, options, 'store');
      const set = RegressionCases.s3(bucket, { client: s3, retry: RETRY });
      const a = await storeCall('reading the labels and scored samples', () => set.agreement(service, { source: `s3://${bucket}/${labelSetKey(service)}` }));
      io.out(options.json ? json(a ?? null) : `${service}: ${describeAgreement(a)}\n`);
      setExit(EXIT.OK);
    });
}

/**
 * What `regression label` labels: a case (by id or prefix, as the other commands), else a scored evaluation sample (by
 * id or prefix). A case wins when an id could name both (they are different hashes; a prefix may match one of each).
 */
async function findLabelTarget(set: RegressionCases, service: string, id: string): Promise<{ id: string; caseId: string; sample?: ScoredSampleRef }> {
  if (!/^[0-9a-f]{6,32}$/.test(id))
    throw new UsageError(`<id> is a case id or an evaluation sample id: 32 lower-case hex characters (or a unique prefix of at least 6), got "${id}"`);
  const all = id.length === 32 ? [] : await storeCall('reading the regression cases', () => set.list(service));
  const byCase = id.length === 32 ? await storeCall(`reading case ${id}`, () => set.show(service, id)) : undefined;
  const matches = byCase ? [byCase] : all.filter((c) => c.caseId.startsWith(id));
  if (matches.length === 1) return { id: matches[0].caseId, caseId: matches[0].caseId };
  if (matches.length > 1)
    throw new UsageError(`${matches.length} cases of ${service} start with ${id} (${matches.map((c) => c.caseId).join(', ')}); give more characters`);
  let sample: ScoredSampleRef | undefined;
  try {
    sample = await set.scoredSample(service, id);
  } catch (e) {
    if ((e as Error).message.includes('give more characters')) throw new UsageError((e as Error).message);
    throw e;
  }
  if (!sample)
    throw new UsageError(
      `no case and no scored evaluation sample of service ${service} ${id.length === 32 ? 'has the id' : 'starts with'} ${id}; \`cdk-ai-release regression list ${service}\` lists the cases, and the evaluator keeps the samples it scored under ${scoredSamplesPrefix(service)} in the regression store (a sample the budget skipped is not kept)`,
    );
  return { id: sample.sampleId, caseId: sample.caseId, sample };
}

async function findCase(set: RegressionCases, service: string, id: string): Promise<RegressionCase> {
  if (/^[0-9a-f]{32}$/.test(id)) {
    const c = await storeCall(`reading case ${id}`, () => set.show(service, id));
    if (!c) throw new UsageError(`no case ${id} of service ${service}; \`cdk-ai-release regression list ${service}\` lists them`);
    return c;
  }
  if (!/^[0-9a-f]{6,31}$/.test(id)) throw new UsageError(`a case id is 32 lower-case hex characters (or a unique prefix of at least 6), got "${id}"`);
  const all = await storeCall('reading the regression cases', () => set.list(service));
  const matches = all.filter((c) => c.caseId.startsWith(id));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new UsageError(`no case of service ${service} starts with ${id}; \`cdk-ai-release regression list ${service}\` lists them`);
  throw new UsageError(`${matches.length} cases of ${service} start with ${id} (${matches.map((c) => c.caseId).join(', ')}); give more characters`);
}

export function renderCase(c: RegressionCase): string {
  const lines = [
    `case ${c.caseId} of ${c.service}: ${c.state}`,
    `  kinds       ${c.kinds.join(', ')}`,
    `  count       ${c.count} failing request${c.count === 1 ? '' : 's'}, first ${c.firstSeen}, last ${c.lastSeen}`,
    `  input       ${c.input}`,
    ...(c.lastOutput !== undefined ? [`  last output ${c.lastOutput}`] : []),
    ...(c.details?.length ? [`  details     ${c.details.join('; ')}`] : []),
    `  expectation ${JSON.stringify(c.expectation)}`,
    `  failed on   ${c.failedOn.map((t) => `code ${t.codeVersion}${t.codeHash ? ` (${t.codeHash})` : ''}, config ${t.config}`).join('; ')}`,
    `  requests    ${c.sampleRequestIds.join(', ')}`,
    ...c.history.map((h, i) => `  ${i === 0 ? 'history    ' : '           '} ${h.at} ${h.from} -> ${h.to} by ${h.by}: ${h.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A stored report kind: reviews (json, md, svg) or gate reports (json, md). */
interface ReportKind<T> {
  readonly noun: string;
  readonly prefix: string;
  readonly keys: (service: string, releaseKey: string) => { json: string; md: string; svg?: string };
  readonly parse: (body: string, key: string) => T;
  readonly time: (r: T) => string;
  readonly line: (r: T) => string;
}

const REVIEWS: ReportKind<ReleaseReview> = {
  noun: 'review',
  prefix: STORE_PREFIX.REVIEWS,
  keys: reviewKeys,
  parse: (body, key) => parseVersioned<ReleaseReview>(body, key, ['releaseKey', 'outcome', 'conclusion']),
  time: (r) => r.deployment.endedAt ?? r.generatedAt,
  line: (r) =>
    `${r.releaseKey.padEnd(28)} ${r.plane.padEnd(7)} ${r.outcome.padEnd(12)} ${(r.deployment.endedAt ?? r.generatedAt).slice(0, 19)}  ${r.conclusion}`,
};

const GATES: ReportKind<GateReport> = {
  noun: 'gate report',
  prefix: STORE_PREFIX.GATES,
  keys: gateKeys,
  parse: (body, key) => parseVersioned<GateReport>(body, key, ['releaseKey', 'verdict', 'summary']),
  time: (r) => r.endedAt,
  line: (r) => `${r.releaseKey.padEnd(28)} ${r.plane.padEnd(7)} ${r.verdict.padEnd(13)} ${r.endedAt.slice(0, 19)}  ${r.summary}`,
};

function parseVersioned<T>(body: string, key: string, fields: readonly string[]): T {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new UsageError(`${key} is not JSON: ${(e as Error).message}`);
  }
  if (v?.schemaVersion !== 1)
    throw new UsageError(`${key} has schemaVersion ${JSON.stringify(v?.schemaVersion)}; this cdk-ai-release reads version 1 (upgrade it)`);
  for (const f of fields) if (typeof v[f] !== 'string') throw new UsageError(`${key} has no "${f}"; is it a report written by cdk-ai-release?`);
  return v as T;
}

/** Every report of a service, newest first; one that cannot be read is skipped with a warning, not the whole list. */
async function readAll<T>(store: ObjectStore, kind: ReportKind<T>, service: string, io: Io): Promise<T[]> {
  const keys = (await storeCall(`listing ${kind.prefix}/${service}/`, () => store.list(`${kind.prefix}/${service}/`)))
    .filter((k) => k.endsWith('.json'))
    .slice(-MAX_REPORTS);
  const reports = await mapLimit(keys, 8, async (key) => {
    const o = await storeCall(`reading ${key}`, () => store.get(key));
    if (!o) return undefined;
    try {
      return kind.parse(o.body, key);
    } catch (e) {
      io.err(`cdk-ai-release: skipped ${(e as Error).message}\n`);
      return undefined;
    }
  });
  return reports.filter((r): r is Awaited<T> => r !== undefined).sort((a, b) => kind.time(b).localeCompare(kind.time(a))) as T[];
}

/** `review list|show` and `gate list|show`: the stored reports of a service's releases. */
function registerReports<T extends { releaseKey: string }>(
  program: Command,
  io: Io,
  setExit: (code: number) => void,
  deps: Deps,
  name: 'review' | 'gate',
  kind: ReportKind<T>,
  extra: { verdictFailed?: (r: T) => boolean },
): void {
  const group = program
    .command(name)
    .summary(name === 'review' ? 'list and show release reviews (复盘)' : 'list and show regression gate reports')
    .description(
      name === 'review'
        ? 'Reads the reviews the review function writes for every release on either plane (reviews/<service>/<release>.json|.md|.svg).'
        : 'Reads the reports the regression gate writes for every replay of the accepted cases (gates/<service>/<release>.json|.md).',
    )
    .addHelpText('after', `\n${STORE_EXIT_HELP}${name === 'gate' ? '\n  gate show --exit-code: 1 when the gate failed.' : ''}`);
  const storeOf = async (service: string, options: StoreOptions) => {
    const { bucket, s3 } = await bucketOf(deps, service, options, name === 'review' ? 'reviews' : 'store');
    return withRetries(s3Store(s3, bucket), RETRY);
  };

  withStoreOptions(group.command('list').summary(`list the ${kind.noun}s of a service, newest first`).argument('<service>', 'the service name'))
    .option('--json', `print the ${kind.noun}s as JSON`)
    .action(async (service: string, options: StoreOptions) => {
      const reports = await readAll(await storeOf(service, options), kind, service, io);
      if (options.json) io.out(json(reports));
      else if (reports.length === 0) io.out(`no ${kind.noun}s for ${service}\n`);
      else for (const r of reports) io.out(`${kind.line(r)}\n`);
      setExit(EXIT.OK);
    });

  const show = withStoreOptions(
    group
      .command('show')
      .summary(`show one ${kind.noun} (Markdown, or --json)`)
      .argument('<service>', 'the service name')
      .argument('<release>', `the release key (code-<deploymentId>, config-…; see \`${name} list\`) or latest`),
  ).option('--json', `print the ${kind.noun} as JSON`);
  if (name === 'review') show.option('--svg <file>', "write the review's timeline chart (SVG) to this file");
  if (extra.verdictFailed) show.option('--exit-code', 'exit 1 when the gate failed');
  show.action(async (service: string, release: string, options: StoreOptions & { svg?: string; exitCode?: boolean }) => {
    const store = await storeOf(service, options);
    let releaseKey = release;
    if (release === 'latest') {
      const [newest] = await readAll(store, kind, service, io);
      if (!newest) throw new UsageError(`no ${kind.noun}s for ${service} yet`);
      releaseKey = newest.releaseKey;
    } else if (!/^[A-Za-z0-9._-]{1,200}$/.test(release)) {
      throw new UsageError(`a release key has letters, digits, dots, dashes and underscores (e.g. code-d-ABC123XYZ), got "${release}"`);
    }
    const keys = kind.keys(service, releaseKey);
    const o = await storeCall(`reading ${keys.json}`, () => store.get(keys.json));
    if (!o) {
      const known = (await storeCall('listing', () => store.list(`${kind.prefix}/${service}/`)))
        .filter((k) => k.endsWith('.json'))
        .map((k) => k.slice(`${kind.prefix}/${service}/`.length, -'.json'.length));
      throw new UsageError(
        `no ${kind.noun} ${releaseKey} for ${service}; ${known.length ? `there are: ${known.slice(-10).join(', ')}` : `there are none yet`} (\`cdk-ai-release ${name} list ${service}\`)`,
      );
    }
    const report = kind.parse(o.body, keys.json);
    if (options.json) io.out(json(report));
    else {
      const md = await storeCall(`reading ${keys.md}`, () => store.get(keys.md));
      io.out(md ? `${md.body.replace(/\n*$/, '')}\n` : `${kind.line(report)}\n(${keys.md} is missing; --json shows the whole ${kind.noun})\n`);
    }
    if (options.svg && keys.svg) {
      const svg = await storeCall(`reading ${keys.svg}`, () => store.get(keys.svg!));
      if (!svg) throw new UsageError(`${keys.svg} is missing (the review has no chart)`);
      fs.writeFileSync(options.svg, svg.body);
      io.err(`wrote ${options.svg}\n`);
    }
    setExit(options.exitCode && extra.verdictFailed?.(report) ? EXIT.CHANGED : EXIT.OK);
  });
}

export function registerReview(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  registerReports(program, io, setExit, deps, 'review', REVIEWS, {});
}

export function registerGate(program: Command, io: Io, setExit: (code: number) => void, deps: Deps): void {
  registerReports(program, io, setExit, deps, 'gate', GATES, { verdictFailed: (r) => r.verdict === 'failed' });
}
