import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { redact } from '../lambda/runtime/redact';
import { type GateReport, gateKeys, type ReleaseReview, reviewKeys } from '../lambda/shared/contract';
import { s3Store } from '../lambda/snapshot/s3-store';
import { snapshot } from '../lambda/snapshot/snapshot';
import { caseIdOf } from '../lib/learning/regression-cases';
import { cli, deployedManifest, LOCATORS, mockedClients, SERVICE, serveManifest, STACK } from './cli-fixtures';
import { tempDir } from './helpers';
import { BUCKET, delivery, record, s3Client, startS3 } from './s3rver-harness';

let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3();
  client = s3Client(s3.endpoint);
  // Candidates as the snapshot function writes them: two inputs, one failing three times.
  const lines = [
    record({ service: SERVICE, input: { q: 'Where is order 42?' }, kinds: ['error'], time: '2026-11-27T09:00:00.000Z' }),
    record({ service: SERVICE, input: { q: 'Where is order 42?' }, kinds: ['error'], time: '2026-11-27T09:00:01.000Z' }),
    record({ service: SERVICE, input: { q: 'Where is order 42?' }, kinds: ['contract'], time: '2026-11-27T09:00:02.000Z' }),
    record({ service: SERVICE, input: { q: 'Refund me now' }, kinds: ['safety'], time: '2026-11-27T09:30:00.000Z' }),
  ];
  await snapshot(delivery(lines), { store: s3Store(client, BUCKET), redact });
  for (const [key, body] of Object.entries(reportObjects())) {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
  }
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

const ORDER = caseIdOf(SERVICE, JSON.stringify({ q: 'Where is order 42?' }));
const REFUND = caseIdOf(SERVICE, JSON.stringify({ q: 'Refund me now' }));
const store = ['--bucket', BUCKET];
const run = (args: string[]) => cli(args, mockedClients(client).clients);

function review(releaseKey: string, outcome: ReleaseReview['outcome'], endedAt: string): ReleaseReview {
  return {
    schemaVersion: 1,
    service: SERVICE,
    plane: 'code',
    releaseKey,
    outcome,
    deployment: { id: releaseKey.slice(5), state: outcome === 'promoted' ? 'SUCCESS' : 'FAILURE', from: '7', to: '8', endedAt },
    timeline: [],
    samples: { byKind: {}, topCases: [], newCandidates: 0 },
    conclusion: `${releaseKey} ${outcome}`,
    actionItems: [],
    notes: [],
    partial: false,
    missing: [],
    generatedAt: endedAt,
    objects: reviewKeys(SERVICE, releaseKey),
  };
}

function gate(releaseKey: string, verdict: GateReport['verdict']): GateReport {
  const counts = { total: 3, selected: 3, passed: verdict === 'failed' ? 2 : 3, failed: verdict === 'failed' ? 1 : 0, notRun: 0 };
  return {
    schemaVersion: 1,
    service: SERVICE,
    plane: 'code',
    releaseKey,
    target: { functionName: LOCATORS.function, qualifier: '8' },
    verdict,
    requiredPassRate: 1,
    blocking: counts,
    reported: { total: 0, selected: 0, passed: 0, failed: 0, notRun: 0 },
    sampled: false,
    deadlineReached: false,
    startedAt: '2026-11-27T09:40:00.000Z',
    endedAt: verdict === 'failed' ? '2026-11-27T09:41:00.000Z' : '2026-11-27T08:41:00.000Z',
    summary: `gate ${verdict}: ${counts.passed}/3 accepted cases passed`,
    cases: [{ caseId: ORDER, state: 'accepted', kinds: ['error'], blocking: true, outcome: verdict === 'failed' ? 'failed' : 'passed', reasons: [] }],
    objects: gateKeys(SERVICE, releaseKey),
  };
}

function reportObjects(): Record<string, string> {
  const a = review('code-d-OLD000001', 'promoted', '2026-11-26T10:00:00.000Z');
  const b = review('code-d-NEW000002', 'rolled-back', '2026-11-27T09:45:00.000Z');
  const g1 = gate('code-d-NEW000002', 'failed');
  const g2 = gate('code-d-OLD000001', 'passed');
  return {
    [a.objects.json]: JSON.stringify(a),
    [a.objects.md]: '# Review code-d-OLD000001\n\npromoted\n',
    [b.objects.json]: JSON.stringify(b),
    [b.objects.md]: '# Review code-d-NEW000002\n\nrolled back by the error-rate alarm\n',
    [b.objects.svg]: '<svg xmlns="http://www.w3.org/2000/svg"><line/></svg>',
    [g1.objects.json]: JSON.stringify(g1),
    [g1.objects.md]: '# Gate code-d-NEW000002\n\nfailed: 1 case\n',
    [g2.objects.json]: JSON.stringify(g2),
    [g2.objects.md]: '# Gate code-d-OLD000001\n\npassed\n',
    [gateKeys(SERVICE, 'code-d-FUTURE').json]: JSON.stringify({ ...g2, schemaVersion: 2, releaseKey: 'code-d-FUTURE' }),
  };
}

describe('cdk-ai-release regression', () => {
  test('list: the candidates the snapshot function wrote, most recently seen first; --json', async () => {
    const r = await run(['regression', 'list', SERVICE, ...store]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /^[0-9a-f]{12} /.test(l));
    expect(rows.map((l) => l.slice(0, 12))).toEqual([REFUND.slice(0, 12), ORDER.slice(0, 12)]);
    expect(rows[1]).toMatch(/candidate +3 {2}2026-11-27T09:00:02 +error,contract +\{"q":"Where is order 42\?"\}/);
    const json = JSON.parse((await run(['regression', 'list', SERVICE, ...store, '--json'])).out);
    expect(json.map((c: { caseId: string }) => c.caseId)).toEqual([REFUND, ORDER]);
    expect((await run(['regression', 'list', SERVICE, ...store, '--state', 'wrong'])).err).toContain('--state must be one of candidate, accepted, retired');
  });

  test('show: by id or a unique prefix; a wrong id is one line', async () => {
    const r = await run(['regression', 'show', SERVICE, ORDER.slice(0, 8), ...store]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`case ${ORDER} of ${SERVICE}: candidate`);
    expect(r.out).toContain('count       3 failing requests');
    expect(JSON.parse((await run(['regression', 'show', SERVICE, ORDER, ...store, '--json'])).out)).toMatchObject({ caseId: ORDER, count: 3 });
    const missing = await run(['regression', 'show', SERVICE, 'abcdef', ...store]);
    expect(missing.code).toBe(2);
    expect(missing.err).toBe(`cdk-ai-release: no case of service ${SERVICE} starts with abcdef; \`cdk-ai-release regression list ${SERVICE}\` lists them\n`);
    expect((await run(['regression', 'show', SERVICE, 'xyz', ...store])).err).toContain('a case id is 32 lower-case hex characters');
  });

  test('promote then retire: the state moves with who and why; a wrong move is refused with the reason', async () => {
    const missingReason = await run(['regression', 'promote', SERVICE, ORDER, ...store, '--by', 'alice']);
    expect(missingReason.code).toBe(2);
    expect(missingReason.err).toContain("required option '--reason <why>' not specified");

    const p = await run(['regression', 'promote', SERVICE, ORDER, ...store, '--by', 'alice', '--reason', 'order lookups must not fail']);
    expect(p.code).toBe(0);
    expect(p.out).toBe(`${ORDER}: candidate -> accepted (by alice: order lookups must not fail)\n`);
    const accepted = JSON.parse((await run(['regression', 'list', SERVICE, ...store, '--state', 'accepted', '--json'])).out);
    expect(accepted.map((c: { caseId: string }) => c.caseId)).toEqual([ORDER]);
    expect(accepted[0].history.at(-1)).toMatchObject({ from: 'candidate', to: 'accepted', by: 'alice' });

    const again = await run(['regression', 'promote', SERVICE, ORDER, ...store, '--by', 'alice', '--reason', 'again']);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`case ${ORDER} of ${SERVICE} is accepted; only a candidate case can become accepted`);

    const r = await run(['regression', 'retire', SERVICE, ORDER.slice(0, 10), ...store, '--by', 'bob', '--reason', 'order API replaced', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ caseId: ORDER, state: 'retired' });
  });

  test('the bucket comes from the deployed manifest when --bucket is not given', async () => {
    const { clients, mocks } = mockedClients(client);
    serveManifest(mocks.ssm, deployedManifest({ ...LOCATORS, store: BUCKET }));
    const r = await cli(['regression', 'list', SERVICE, '--stack', STACK, '--json'], clients);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).length).toBe(2);
  });

  test('a bucket that is not there: one line naming the call, exit 4', async () => {
    const r = await run(['regression', 'list', SERVICE, '--bucket', 'no-such-bucket-here']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^cdk-ai-release: reading the regression cases failed: NoSuchBucket: /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('cdk-ai-release review / gate', () => {
  test('review list: newest first; review show prints the Markdown, --json the review, --svg writes the chart', async () => {
    const list = await run(['review', 'list', SERVICE, ...store]);
    expect(list.out.split('\n')[0]).toMatch(/^code-d-NEW000002 +code +rolled-back +2026-11-27T09:45:00 {2}code-d-NEW000002 rolled-back$/);
    expect(list.out.split('\n')[1]).toMatch(/^code-d-OLD000001 /);

    const show = await run(['review', 'show', SERVICE, 'code-d-NEW000002', ...store]);
    expect(show).toEqual({ code: 0, out: '# Review code-d-NEW000002\n\nrolled back by the error-rate alarm\n', err: '' });
    const latest = await run(['review', 'show', SERVICE, 'latest', ...store, '--json']);
    expect(JSON.parse(latest.out)).toMatchObject({ releaseKey: 'code-d-NEW000002', outcome: 'rolled-back' });

    const dir = tempDir({});
    const svg = path.join(dir, 'chart.svg');
    const withSvg = await run(['review', 'show', SERVICE, 'code-d-NEW000002', ...store, '--svg', svg]);
    expect(withSvg.code).toBe(0);
    expect(fs.readFileSync(svg, 'utf8')).toContain('<svg');
  });

  test('review show of a release with no review lists the ones there are', async () => {
    const r = await run(['review', 'show', SERVICE, 'code-d-NOPE', ...store]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `cdk-ai-release: no review code-d-NOPE for ${SERVICE}; there are: code-d-NEW000002, code-d-OLD000001 (\`cdk-ai-release review list ${SERVICE}\`)\n`,
    );
    expect((await run(['review', 'show', SERVICE, '../etc', ...store])).err).toContain('a release key has letters, digits');
  });

  test('gate show: the report as Markdown or JSON; --exit-code is 1 for a failed gate, 0 for a passed one', async () => {
    const failed = await run(['gate', 'show', SERVICE, 'code-d-NEW000002', ...store, '--exit-code']);
    expect(failed).toEqual({ code: 1, out: '# Gate code-d-NEW000002\n\nfailed: 1 case\n', err: '' });
    const passed = await run(['gate', 'show', SERVICE, 'code-d-OLD000001', ...store, '--exit-code', '--json']);
    expect(passed.code).toBe(0);
    expect(JSON.parse(passed.out)).toMatchObject({ verdict: 'passed', blocking: { passed: 3 } });
    expect((await run(['gate', 'show', SERVICE, 'code-d-NEW000002', ...store])).code).toBe(0); // without --exit-code
  });

  test('a report of a newer schema is refused with the fix; gate list skips it with a warning', async () => {
    const r = await run(['gate', 'show', SERVICE, 'code-d-FUTURE', ...store]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`cdk-ai-release: gates/${SERVICE}/code-d-FUTURE.json has schemaVersion 2; this cdk-ai-release reads version 1 (upgrade it)\n`);
    const list = await run(['gate', 'list', SERVICE, ...store]);
    expect(list.code).toBe(0);
    expect(
      list.out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0]),
    ).toEqual(['code-d-NEW000002', 'code-d-OLD000001']);
    expect(list.err).toBe(
      `cdk-ai-release: skipped gates/${SERVICE}/code-d-FUTURE.json has schemaVersion 2; this cdk-ai-release reads version 1 (upgrade it)\n`,
    );
  });
});
