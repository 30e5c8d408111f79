import { REVIEW_SECTIONS, renderReviewMarkdown } from '../lambda/review/render-markdown';
import { renderChartSvg } from '../lambda/review/render-svg';
import { parseReleaseEnd } from '../lambda/review/events';
import { parseReleaseReview } from '../lambda/review/read';
import { alarmSeries, firstFailingPeriod, pickManifests, releaseAlarms, summarizeCases } from '../lambda/review/facts';
import type { ReviewPorts, StorePort } from '../lambda/review/ports';
import { actionItemsFor, buildReview, conclude, type ReviewFacts, releaseOutcome, runReview } from '../lambda/review/review';
import type { ReleaseReview } from '../lambda/shared/contract';
import {
  alarmInfos,
  appConfigEvent,
  at,
  cases,
  codeDeployEvent,
  codeRelease,
  manifests,
  metricData,
  regressionCase,
  rolledBackDeployment,
  transitions,
} from './review-fixtures';
import { findAll, parseXml } from './xml-lite';

const NOW = at(200);

describe('events: the end of a release on either plane', () => {
  test.each([
    ['CodeDeploy FAILURE', codeDeployEvent('FAILURE'), { plane: 'code', state: 'FAILURE', releaseKey: 'code-d-123456789', service: 'svc' }],
    ['CodeDeploy SUCCESS', codeDeployEvent('SUCCESS'), { plane: 'code', state: 'SUCCESS' }],
    ['CodeDeploy STOP', codeDeployEvent('STOP'), { plane: 'code', state: 'STOP' }],
    ['AppConfig rolled back', appConfigEvent('OnDeploymentRolledBack', 3), { plane: 'config', state: 'ROLLED_BACK', releaseKey: 'config-pgil2o7-3' }],
    [
      'AppConfig complete, number as text (SNS example)',
      appConfigEvent('OnDeploymentComplete', '12'),
      { plane: 'config', state: 'COMPLETE', releaseKey: 'config-pgil2o7-12' },
    ],
  ])('%s', (_, event, expected) => {
    expect(parseReleaseEnd(event, NOW).release).toMatchObject(expected);
  });

  test.each([
    ['CodeDeploy START', codeDeployEvent('START'), /START is not the end/],
    ['AppConfig start', appConfigEvent('OnDeploymentStart'), /OnDeploymentStart is not the end/],
  ])('ignores %s', (_, event, reason) => {
    const r = parseReleaseEnd(event, NOW);
    expect(r.release).toBeUndefined();
    expect(r.ignored).toMatch(reason);
  });

  test.each([
    [
      'no service on a CodeDeploy event, and no deployment groups known',
      { ...codeDeployEvent(), service: undefined },
      /no "service" and the reviewer knows no deployment groups/,
    ],
    ['no service parameter', { ...appConfigEvent(), Parameters: {} }, /Parameters\.service/],
    ['a bad deployment number', appConfigEvent('OnDeploymentComplete', 'x'), /DeploymentNumber must be a positive integer, got x/],
    ['something else', { hello: 1 }, /neither a CodeDeploy state-change event.*got keys hello/],
  ])('refuses %s with an error naming the field', (_, event, message) => {
    expect(() => parseReleaseEnd(event, NOW)).toThrow(message);
  });

  describe("the platform's one rule: the event as EventBridge sends it, the deployment group names the service", () => {
    const platformEvent = (group: string) => {
      const e = codeDeployEvent('FAILURE') as Record<string, any>;
      const { service: _service, ...rest } = e;
      return { ...rest, detail: { ...e.detail, deploymentGroup: group } };
    };
    const groups = { 'Flat-S0ReleaseDeployment-ABC123': 'svc-0', 'Flat-S1ReleaseDeployment-DEF456': 'svc-1' };
    test.each([
      ['a known group', platformEvent('Flat-S1ReleaseDeployment-DEF456'), { service: 'svc-1', plane: 'code', state: 'FAILURE' }],
      ['the other known group', platformEvent('Flat-S0ReleaseDeployment-ABC123'), { service: 'svc-0' }],
    ])('%s: reviewed as its service', (_, event, expected) => {
      expect(parseReleaseEnd(event, NOW, groups).release).toMatchObject(expected);
    });

    test('a group it does not know (a service in another stack, which has a rule of its own): ignored, with why', () => {
      const r = parseReleaseEnd(platformEvent('Other-SvcDeployment-XYZ'), NOW, groups);
      expect(r.release).toBeUndefined();
      expect(r.ignored).toMatch(/deployment group Other-SvcDeployment-XYZ is not one of the services this reviewer's rule serves/);
    });

    test("a service rule's event keeps its service, whatever the map says", () => {
      const e = codeDeployEvent('SUCCESS') as Record<string, any>;
      expect(parseReleaseEnd(e, NOW, { [e.detail.deploymentGroup]: 'other' }).release).toMatchObject({ service: e.service });
    });

    test('a group named like an Object prototype key is not a service', () => {
      expect(parseReleaseEnd(platformEvent('constructor'), NOW, groups).ignored).toMatch(/not one of the services/);
    });
  });

  test('a deployment id never writes outside the service folder', () => {
    const r = parseReleaseEnd(codeDeployEvent('SUCCESS', '../../x'), NOW).release!;
    expect(r.releaseKey).toBe('code-.._.._x');
    expect(r.releaseKey).not.toContain('/');
  });
});

describe('facts', () => {
  test.each([
    ['code: the newest manifest before the end; the previous with another release id', 'code', undefined, at(300), 1, 0],
    ['code: a release that ended before the manifest was written gets the older one, and no previous', 'code', undefined, at(-120), 0, undefined],
    ['config: matched by its label', 'config', 'cfg-a', at(300), 0, undefined],
  ] as const)('pickManifests %s', (_, plane, label, notAfter, current, previous) => {
    const h = manifests();
    const picked = pickManifests(h, plane, { configLabel: label, notAfter });
    expect(picked.current?.releaseId).toBe(h[current].manifest.releaseId);
    expect(picked.previous?.releaseId).toBe(previous === undefined ? undefined : h[previous].manifest.releaseId);
  });

  test('releaseAlarms: only <stack>-<service>-version|service-<kind>; a longer service name with the same start is not ours', () => {
    const parsed = releaseAlarms(alarmInfos, 'Rev-svc-');
    expect(parsed.map((a) => [a.name, a.plane, a.kind])).toEqual([
      ['Rev-svc-version-error-rate', 'code', 'error-rate'],
      ['Rev-svc-version-quality', 'code', 'quality'],
      ['Rev-svc-service-error-rate', 'config', 'error-rate'],
    ]);
  });

  const series = (inv: number[], x: Record<string, number[]>) => {
    const ts = inv.map((_, i) => at(i * 10));
    return Object.fromEntries([['s_inv', inv], ...Object.entries(x)].map(([id, v]) => [id, { timestamps: ts, values: v as number[] }]));
  };
  test.each([
    ['error-rate: errors / invocations, 0 below the guard', 'error-rate', series([20, 4, 10], { s_err: [2, 4, 0] }), [0.1, 0, 0]],
    ['quality: the average, 1 below the guard', 'quality', series([20, 4], { s_q: [0.4, 0.1] }), [0.4, 1]],
    ['p99-latency', 'p99-latency', series([20, 2], { s_lat: [1200, 9999] }), [1200, 0]],
    ['canary-vs-stable: new minus the rest', 'canary-vs-stable', series([10], { s_err: [2], a_inv: [110], a_err: [7] }), [0.2 - 5 / 100]],
  ] as const)('alarmSeries %s', (_, kind, data, expected) => {
    expect(alarmSeries(kind, 5, data).map((p) => p.value)).toEqual(expected.map((v) => expect.closeTo(v, 10)));
  });

  test('firstFailingPeriod: the first period with an error, contract or safety signal inside the window', () => {
    expect(firstFailingPeriod(metricData(), at(0), at(160), 10)).toBe(at(110));
    expect(firstFailingPeriod(metricData(), at(0), at(100), 10)).toBeUndefined();
  });

  test('summarizeCases: cases of this version only, new candidates are those first seen in the window', () => {
    const s = summarizeCases(cases(), 'code', '7', { start: at(0), end: at(160) });
    expect(s.newCandidates).toBe(2);
    expect(s.firstFailureAt).toBe(at(112));
    expect(s.topCases.map((c) => c.caseId)).toEqual(['c-old', 'c-new-1', 'c-new-2']);
    expect(s.byKind).toEqual({ error: { cases: 3, requests: 55 }, contract: { cases: 1, requests: 3 } });
    // Config plane: the tuple's config label decides.
    expect(
      summarizeCases([regressionCase({ caseId: 'x', failedOn: [{ ...cases()[0].failedOn[0], config: 'cfg-z' }] })], 'config', 'cfg-z', {
        start: at(0),
        end: at(160),
      }).newCandidates,
    ).toBe(1);
  });
});

test('a case input is redacted again and cut before a review shows it', () => {
  const input = `{"q":"mail jane.doe@example.com, card 4111 1111 1111 1111","pad":"${'x'.repeat(400)}"}`;
  const s = summarizeCases([regressionCase({ caseId: 'pii', input })], 'code', '7', { start: at(0), end: at(160) });
  expect(s.topCases[0].input).not.toContain('jane.doe@example.com');
  expect(s.topCases[0].input).not.toContain('4111 1111 1111 1111');
  expect(s.topCases[0].input).toMatch(/\.\.\.$/);
  expect(s.topCases[0].input).toHaveLength(200);
});

describe('conclusion and action items, from the facts', () => {
  test.each([
    [
      { outcome: 'rolled-back', alarm: 'A', measured: 50, worstCase: 80, partial: false },
      'Rolled back by alarm A; 50 s from the first failure to rollback start (worst case computed at synth: 80 s).',
    ],
    [{ outcome: 'rolled-back', message: 'deployment failed', partial: false }, 'Rolled back with no release alarm in ALARM (deployment failed).'],
    [{ outcome: 'promoted', newCandidates: 0, partial: false }, 'Promoted with no alarm and no new failure cases.'],
    [{ outcome: 'promoted', newCandidates: 3, partial: false }, 'Promoted with no alarm, with 3 new failure cases: review and accept 3 candidates.'],
    [
      { outcome: 'promoted', newCandidates: 1, partial: true },
      'Promoted with no alarm, with 1 new failure case: review and accept 1 candidate. (partial review: some lookups failed)',
    ],
    [{ outcome: 'promoted', alarm: 'B', partial: false }, 'Promoted, although alarm B went to ALARM during the release.'],
    [{ outcome: 'stopped', by: 'USER', partial: false }, 'Stopped by USER.'],
    [{ outcome: 'failed', message: 'no permission', partial: false }, 'Failed without a rollback: no permission.'],
  ] as const)('%o', (facts, expected) => {
    expect(conclude(facts)).toBe(expected);
  });

  const base = { service: 'svc', plane: 'code' as const, version: '7', newCandidates: 0, missing: [] as string[] };
  test.each([
    ['promoted clean: nothing to do', { ...base, outcome: 'promoted' as const }, []],
    ['promoted with 2 new cases', { ...base, outcome: 'promoted' as const, newCandidates: 2 }, [/Review and accept 2 candidates \(cases\/svc\/candidate\/\)/]],
    [
      'rolled back by an alarm, slower than the worst case',
      { ...base, outcome: 'rolled-back' as const, alarm: { name: 'A', kind: 'error' as const }, changed: ['code', 'prompt'], measured: 120, worstCase: 80 },
      [/failure records of kind "error" on version 7; this release changed code, prompt/, /40 s later than the computed worst case/],
    ],
    ['partial', { ...base, outcome: 'promoted' as const, missing: ['metrics (GetMetricData)'] }, [/could not read metrics \(GetMetricData\)/]],
  ])('%s', (_, facts, expected) => {
    const items = actionItemsFor(facts);
    expect(items).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(items[i]).toMatch(re));
  });

  test.each([
    ['SUCCESS', undefined, 'promoted'],
    ['FAILURE', { rollback: { startedAt: at(1) } }, 'rolled-back'],
    ['FAILURE', {}, 'failed'],
    ['STOP', {}, 'stopped'],
    ['COMPLETE', undefined, 'promoted'],
    ['ROLLED_BACK', { rollback: { startedAt: at(1), by: 'CLOUDWATCH_ALARM' } }, 'rolled-back'],
    ['ROLLED_BACK', { rollback: { startedAt: at(1), by: 'USER' } }, 'stopped'],
  ] as const)('outcome of %s %o is %s', (state, d, outcome) => {
    expect(releaseOutcome({ ...codeRelease, state }, d ? { steps: [], ...d } : undefined)).toBe(outcome);
  });
});

function fullFacts(over: Partial<ReviewFacts> = {}): ReviewFacts {
  return {
    release: codeRelease,
    stack: 'Rev',
    now: NOW,
    deployment: rolledBackDeployment,
    manifests: manifests(),
    alarms: releaseAlarms(alarmInfos, 'Rev-svc-'),
    transitions,
    metrics: metricData(),
    cases: cases(),
    missing: [],
    ...over,
  };
}

describe('buildReview', () => {
  test('a canary rolled back by an alarm: what changed, timeline, measured time to rollback against the worst case, metrics, samples', () => {
    const r = buildReview(fullFacts());
    expect(r.outcome).toBe('rolled-back');
    expect(r.partial).toBe(false);
    expect(r.conclusion).toBe(
      'Rolled back by alarm Rev-svc-version-error-rate; 50 s from the first failure to rollback start (worst case computed at synth: 80 s).',
    );
    expect(r.changes!.code).toEqual([expect.objectContaining({ component: 'code', change: 'modified' })]);
    expect(r.changes!.config.find((c) => c.component === 'prompt')).toMatchObject({
      change: 'modified',
      before: '1',
      after: '2',
      keys: ['$.system', '$.version'],
    });
    expect(r.changes!.config.find((c) => c.component === 'model')).toMatchObject({ change: 'unchanged' });
    // First failure: the metric period at 110 s precedes the case first seen at 112 s; rollback started at 160 s.
    expect(r.timeToRollback).toEqual({
      firstFailureAt: at(110),
      firstFailureSource: 'metric',
      rollbackStartedAt: at(160),
      measuredSeconds: 50,
      worstCaseSeconds: 80,
    });
    expect(r.timeline.map((e) => e.event)).toEqual([
      'deployment-start',
      'traffic-step',
      'first-failure',
      'alarm',
      'rollback-start',
      'deployment-end',
      'rollback-end',
    ]);
    const row = (m: string) => r.metrics!.rows.find((x) => x.metric === m)!;
    expect(row('error rate').candidate).toBeCloseTo(30 / 340);
    expect(row('error rate').baseline).toBeCloseTo(3 / 3060);
    expect(row('p99 latency')).toMatchObject({ candidate: 950, baseline: 870, unit: 'ms' });
    expect(r.metrics!.baseline).toBe('previous-version');
    expect(r.samples.blastRadius).toEqual({ invocations: 340, failures: 32 });
    expect(r.samples.newCandidates).toBe(2);
    expect(r.chart).toEqual({ alarm: 'Rev-svc-version-error-rate', threshold: 0.05, comparison: '>', points: 17 });
    expect(r.actionItems[0]).toMatch(/kind "error" on version 7; this release changed code, prompt/);
    expect(r.actionItems[1]).toMatch(/Review and accept 2 candidates/);
    expect(r.objects).toEqual({ json: 'reviews/svc/code-d-123456789.json', md: 'reviews/svc/code-d-123456789.md', svg: 'reviews/svc/code-d-123456789.svg' });
  });

  test('a successful release gets a short review too', () => {
    const r = buildReview(
      fullFacts({
        release: { ...codeRelease, state: 'SUCCESS' },
        deployment: {
          startedAt: at(0),
          endedAt: at(300),
          from: '6',
          to: '7',
          steps: [
            { at: at(0), percent: 10 },
            { at: at(300), percent: 100 },
          ],
        },
        transitions: [],
        cases: [],
      }),
    );
    expect(r.outcome).toBe('promoted');
    expect(r.conclusion).toBe('Promoted with no alarm and no new failure cases.');
    expect(r.actionItems).toEqual([]);
    expect(r.timeToRollback).toBeUndefined();
  });

  test('failed lookups: still a review, marked partial with what is missing', () => {
    const r = buildReview(
      fullFacts({ metrics: undefined, cases: undefined, manifests: [], missing: [{ lookup: 'metrics (GetMetricData)', reason: 'AccessDenied' }] }),
    );
    expect(r.partial).toBe(true);
    expect(r.missing.map((m) => m.lookup)).toEqual(['metrics (GetMetricData)', 'release manifest']);
    expect(r.metrics).toBeUndefined();
    expect(r.changes).toBeUndefined();
    expect(r.conclusion).toMatch(/Rolled back by alarm Rev-svc-version-error-rate.*partial review/);
    expect(r.actionItems.at(-1)).toMatch(/could not read metrics \(GetMetricData\); release manifest/);
  });
});

describe('the config plane', () => {
  const configRelease = parseReleaseEnd(appConfigEvent('OnDeploymentRolledBack', 3), NOW).release!;
  const configDeployment = {
    startedAt: at(0),
    endedAt: at(200),
    to: 'cfg-b',
    steps: [
      { at: at(60), percent: 20 },
      { at: at(120), percent: 40 },
    ],
    rollback: { startedAt: at(190), endedAt: at(200), by: 'CLOUDWATCH_ALARM' },
  };

  test('matched by its label; compared with the service before the rollout; measured against the config worst case', () => {
    const r = buildReview(
      fullFacts({
        release: configRelease,
        deployment: configDeployment,
        transitions: [{ alarm: 'Rev-svc-service-error-rate', at: at(170), from: 'OK', to: 'ALARM' }],
        cases: cases().map((c) => ({ ...c, failedOn: [{ ...c.failedOn[0], config: c.caseId === 'c-other' ? 'cfg-a' : 'cfg-b' }] })),
      }),
    );
    expect(r.releaseKey).toBe('config-pgil2o7-3');
    expect(r.deployment).toMatchObject({ from: 'cfg-a', to: 'cfg-b' });
    expect(r.metrics!.baseline).toBe('before-rollout');
    expect(r.chart!.alarm).toBe('Rev-svc-service-error-rate');
    expect(r.timeToRollback).toMatchObject({ firstFailureAt: at(110), measuredSeconds: 80, worstCaseSeconds: 200 });
    expect(r.conclusion).toBe(
      'Rolled back by alarm Rev-svc-service-error-rate; 80 s from the first failure to rollback start (worst case computed at synth: 200 s).',
    );
    expect(r.timeline.filter((e) => e.event === 'traffic-step').map((e) => e.detail)).toEqual(['20% on the new config', '40% on the new config']);
  });

  test('metrics: the rollout window for the service, and the same length of time before it as the baseline', async () => {
    const calls: { ids: string[]; start: string; end: string }[] = [];
    const { ports } = fakePorts({
      deployments: { describe: async () => configDeployment },
      metrics: {
        fetch: async (queries, start, end) => {
          calls.push({ ids: queries.map((q) => q.id), start, end });
          expect(queries.every((q) => q.dimensions.Version === undefined && q.dimensions.Service === 'svc')).toBe(true);
          return metricData();
        },
      },
    });
    await runReview(appConfigEvent('OnDeploymentRolledBack', 3), ports, { stack: 'Rev' });
    expect(calls.map((c) => [c.start, c.end])).toEqual([
      [at(0), at(200)],
      [at(-200), at(0)],
    ]);
    expect(calls[0].ids).toEqual(expect.arrayContaining(['c_inv', 's_err', 'a_inv']));
    expect(calls[1].ids.every((id) => id.startsWith('b_'))).toBe(true);
  });
});

describe('parseReleaseReview', () => {
  const review = () => JSON.parse(JSON.stringify(buildReview(fullFacts())));
  test('reads what buildReview writes', () => expect(parseReleaseReview(review()).conclusion).toMatch(/^Rolled back by alarm/));
  test.each([
    ['a newer version', (r: any) => ({ ...r, schemaVersion: 2 }), /schemaVersion 2; this version of cdk-ai-release reads 1/],
    ['no conclusion', (r: any) => ({ ...r, conclusion: undefined }), /conclusion must be a string/],
    [
      'a moved object',
      (r: any) => ({ ...r, objects: { ...r.objects, json: 'reviews/other/x.json' } }),
      /objects\.json must be reviews\/svc\/code-d-123456789\.json/,
    ],
    ['not an object', () => 'x', /not a release review/],
  ])('refuses %s, naming the field', (_, change, message) => {
    expect(() => parseReleaseReview(change(review()), 'reviews/svc/x.json')).toThrow(message);
  });
});

describe('renderers', () => {
  test('the Markdown renders every section, the facts, and a place for people', () => {
    const r = buildReview(fullFacts());
    const md = renderReviewMarkdown(r, { svgFile: 'code-d-123456789.svg' });
    const headings = md
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => l.slice(3));
    expect(headings).toEqual([...REVIEW_SECTIONS]);
    expect(md).toContain('Rolled back by alarm Rev-svc-version-error-rate');
    expect(md).toContain('| prompt | modified (keys: $.system, $.version) | `1` | `2` |');
    expect(md).toContain('**50 s**');
    expect(md).toContain('The worst case computed at synth was 80 s: reality was 30 s faster (63 % of it).');
    expect(md).toContain('| error rate | 8.82 % | 0.10 % |');
    expect(md).toContain('![Rev-svc-version-error-rate against its threshold > 0.05](code-d-123456789.svg)');
    expect(md).toContain('New candidates this release added to the regression set: **2**.');
    expect(md).toContain('- [ ] Review and accept 2 candidates');
    expect(md).toMatch(/## Notes\n\n_For people/);
    expect(md).not.toContain('Partial review');
  });

  test('a partial review says so at the top; text from events cannot inject HTML', () => {
    const r = buildReview(fullFacts({ metrics: undefined, missing: [{ lookup: 'metrics (GetMetricData)', reason: '<script>x</script>' }] }));
    const md = renderReviewMarkdown(r, { svgFile: 'x.svg' });
    expect(md).toContain('> **Partial review.**');
    expect(md).toContain('> - metrics (GetMetricData): &lt;script&gt;x&lt;/script&gt;');
    expect(md).toContain('_Unavailable: the metric lookup failed._');
  });

  test('the SVG parses as XML and carries the metric, the threshold line, the traffic step and the rollback marker where they belong', () => {
    const f = fullFacts();
    const r = buildReview(f);
    const { chartInput } = require('../lambda/review/review');
    const svg = renderChartSvg(chartInput(f, r));
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    const role = (name: string) => findAll(root, (e) => e.attrs['data-role'] === name);
    const threshold = role('threshold')[0].children.find((c) => c.name === 'line')!;
    expect(threshold.attrs.y1).toBe(threshold.attrs.y2);
    const rollback = role('rollback')[0].children.find((c) => c.name === 'line')!;
    expect(rollback.attrs.x1).toBe(rollback.attrs.x2);
    const label = role('rollback')[0].children.find((c) => c.name === 'text')!;
    expect(label.text).toBe('rollback 10:02:40');
    expect(role('traffic-step')).toHaveLength(1);
    expect(role('alarm')).toHaveLength(1);
    const points = role('metric')[0]
      .attrs.points.split(' ')
      .map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(17);
    // The metric crosses the threshold line (y grows downward): below it before 110 s, above it after.
    const ty = Number(threshold.attrs.y1);
    expect(points[0][1]).toBeGreaterThan(ty);
    expect(points[12][1]).toBeLessThan(ty);
    // The rollback marker sits right of the first breach and left of the window's end.
    expect(Number(rollback.attrs.x1)).toBeGreaterThan(points[11][0]);
    expect(role('no-data')).toHaveLength(0);
  });

  test('with no data the SVG still parses, says so, and escapes its title', () => {
    const svg = renderChartSvg({
      title: 'a <b> & "c"',
      start: at(0),
      end: at(60),
      points: [],
      steps: [],
      alarms: [],
      threshold: { value: 1, comparison: '<' },
    });
    const root = parseXml(svg);
    expect(findAll(root, (e) => e.name === 'title')[0].text).toBe('a <b> & "c"');
    expect(findAll(root, (e) => e.attrs['data-role'] === 'no-data')).toHaveLength(1);
    expect(findAll(root, (e) => e.attrs['data-role'] === 'threshold')).toHaveLength(1);
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes <g>/);
  });
});

/** In-memory ports: real behaviour (a store that keeps objects), no mocks. */
function fakePorts(over: Partial<ReviewPorts> = {}) {
  const objects = new Map<string, string>();
  const published: { subject: string; message: string }[] = [];
  let now = Date.parse(NOW);
  const store: StorePort = {
    exists: async (k) => objects.has(k),
    put: async (k, body, _type, ifAbsent) => {
      if (ifAbsent && objects.has(k)) return 'exists';
      objects.set(k, body);
      return 'written';
    },
    location: (k) => `s3://store/${k}`,
  };
  const ports: ReviewPorts = {
    deployments: { describe: async () => rolledBackDeployment },
    manifests: { history: async () => manifests() },
    alarms: { alarms: async () => alarmInfos, history: async () => transitions },
    metrics: { fetch: async () => metricData() },
    cases: { touchedSince: async () => cases() },
    store,
    notifier: { publish: async (subject, message) => void published.push({ subject, message }) },
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
    ...over,
  };
  return { ports, objects, published };
}

describe('runReview', () => {
  test('writes json, md and svg once and announces the one-line conclusion with the location; re-deliveries write nothing', async () => {
    const { ports, objects, published } = fakePorts();
    const first = await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev' });
    expect(first.status).toBe('written');
    expect([...objects.keys()].sort()).toEqual(['reviews/svc/code-d-123456789.json', 'reviews/svc/code-d-123456789.md', 'reviews/svc/code-d-123456789.svg']);
    const json = JSON.parse(objects.get('reviews/svc/code-d-123456789.json')!) as ReleaseReview;
    expect(json.schemaVersion).toBe(1);
    expect(published).toHaveLength(1);
    expect(published[0].subject).toBe('[svc] code release rolled-back: review code-d-123456789');
    expect(published[0].message.split('\n')[0]).toBe(`svc code release d-123456789: ${json.conclusion}`);
    expect(published[0].message).toContain('s3://store/reviews/svc/code-d-123456789.md');
    for (let i = 0; i < 2; i++) expect((await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev' })).status).toBe('exists');
    expect(published).toHaveLength(1);
  });

  test('code metrics: the new version and the previous one over the same window', async () => {
    const calls: { versions: string[]; start: string; end: string }[] = [];
    const { ports } = fakePorts({
      metrics: {
        fetch: async (queries, start, end) => {
          calls.push({ versions: [...new Set(queries.filter((q) => q.id[0] !== 'a').map((q) => q.dimensions.Version))], start, end });
          return metricData();
        },
      },
    });
    await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev' });
    expect(calls).toEqual([
      { versions: ['7'], start: at(0), end: at(170) },
      { versions: ['6'], start: at(0), end: at(170) },
    ]);
  });

  test('a lookup that throws leaves a partial review, still written and announced', async () => {
    const { ports, objects, published } = fakePorts({
      metrics: {
        fetch: async () => {
          throw Object.assign(new Error('not authorized to perform cloudwatch:GetMetricData'), { name: 'AccessDenied' });
        },
      },
    });
    const res = await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev' });
    expect(res.status).toBe('written');
    const json = JSON.parse(objects.get('reviews/svc/code-d-123456789.json')!) as ReleaseReview;
    expect(json.partial).toBe(true);
    expect(json.missing).toEqual([{ lookup: 'metrics (GetMetricData)', reason: 'AccessDenied: not authorized to perform cloudwatch:GetMetricData' }]);
    expect(published[0].message).toContain('partial review');
  });

  test('waits for a rollback in progress, then notes it if it never ends', async () => {
    let calls = 0;
    const running = { ...rolledBackDeployment, rollback: { startedAt: at(160) } };
    const { ports, objects } = fakePorts({
      deployments: {
        describe: async () => {
          calls++;
          return calls < 3 ? running : rolledBackDeployment;
        },
      },
    });
    await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev', pollMs: 5000 });
    expect(calls).toBe(3);
    expect(JSON.parse(objects.get('reviews/svc/code-d-123456789.json')!).partial).toBe(false);

    const stuck = fakePorts({ deployments: { describe: async () => running } });
    await runReview(codeDeployEvent('FAILURE'), stuck.ports, { stack: 'Rev', rollbackWaitMs: 20_000, pollMs: 5000 });
    expect(JSON.parse(stuck.objects.get('reviews/svc/code-d-123456789.json')!).missing).toEqual([
      { lookup: 'rollback end', reason: 'the rollback was still running 20 s after the release ended' },
    ]);
  });

  test("CodeDeploy's own rollback deployment gets no second review; a deployment start is ignored", async () => {
    const { ports, objects } = fakePorts({ deployments: { describe: async () => ({ steps: [], rollbackOf: 'd-123456789' }) } });
    expect(await runReview(codeDeployEvent('SUCCESS', 'd-ROLLBACK'), ports, { stack: 'Rev' })).toMatchObject({
      status: 'ignored',
      reason: /automatic rollback of d-123456789/,
    });
    expect(await runReview(codeDeployEvent('START'), ports, { stack: 'Rev' })).toMatchObject({ status: 'ignored' });
    expect(objects.size).toBe(0);
  });

  test('a failed announcement does not fail the review (the next delivery must not write a second one)', async () => {
    const { ports, objects } = fakePorts({
      notifier: {
        publish: async () => {
          throw new Error('KMS key disabled');
        },
      },
    });
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await runReview(codeDeployEvent('FAILURE'), ports, { stack: 'Rev' });
    spy.mockRestore();
    expect(res).toMatchObject({ status: 'written', announced: false });
    expect(objects.size).toBe(3);
  });
});
