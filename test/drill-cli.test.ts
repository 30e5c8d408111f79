import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAsync } from '../bin/cli/program';
import { readDrillModel, renderDrillSvg, runDrill } from '../lib/drill';
import { drillTemplate, ERROR_RATE } from './drill-fixtures';
import { tempDir } from './helpers';
import { findAll, parseXml } from './xml-lite';

/** Runs `cdk-ai-release <argv>` as the bin does (runAsync), capturing output. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAsync(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const template = drillTemplate({
  ErrorRate: ERROR_RATE,
  Verdict: { metrics: { v: ['CanaryVerdict', 'Maximum', 'service'] }, threshold: 0.5, m: 1, n: 1 },
});
const dir = tempDir({ 'Svc.template.json': JSON.stringify(template) });
const file = path.join(dir, 'Svc.template.json');
const assembly = tempDir({
  'manifest.json': JSON.stringify({
    artifacts: { Svc: { type: 'aws:cloudformation:stack', displayName: 'Svc', properties: { templateFile: 'Svc.template.json' } } },
  }),
  'Svc.template.json': JSON.stringify(template),
});
const fast = ['--runs', '20', '--samples', '200', '--resampled', '--rate', '10'];

describe('cdk-ai-release drill', () => {
  test('prints the table: ours and the SAM reference, odds, false rollbacks, and the alarm it cannot simulate', async () => {
    const r = await cli(['drill', file, ...fast]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Drill — code plane: canary 10 % for 5 min, then 100 %/);
    // detect, rollback start (durations), bad answers, odds with an interval
    expect(r.out).toMatch(/\ndefault\s+ours\s+(\d+ min ?)?(\d+ s)?\s{2,}(\d+ min ?)?(\d+ s)?\s{2,}\d+\s{2,}\d+\.\d % \[/);
    expect(r.out).toMatch(/\n\s+SAM ref\./);
    expect(r.out).toContain('not simulated: svc-v — metric CanaryVerdict is not one the runtime writes');
  });

  test('--json: the report, with the single run, the Monte Carlo and the reference', async () => {
    const r = await cli(['drill', assembly, ...fast, '--json', '--scenario', 'default', 'low-traffic']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.scenarios.map((s: any) => s.scenario.name)).toEqual(['default', 'low-traffic']);
    expect(report.scenarios[0].single).toMatchObject({ detectedBy: 'ErrorRate', caughtBeforeFull: true });
    expect(report.scenarios[0].monteCarlo.runs).toBe(20);
    expect(report.scenarios[0].reference.monteCarlo.runs).toBe(20);
    expect(report.coverage.notSimulated.Verdict).toMatch(/CanaryVerdict/);
    expect(report.scenarios[1].scenario.ratePerSecond).toBe(0.2);
  });

  test('--out writes the Markdown report and one SVG per scenario, linked from it', async () => {
    const out = path.join(tempDir({}), 'drill');
    const r = await cli(['drill', file, ...fast, '--no-reference', '--out', out]);
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(out, 'drill.md'), 'utf8');
    expect(md).toContain('![default timeline](drill-default.svg)');
    expect(md).toContain('| `svc-inv-x` | GreaterThanThreshold 0.05 | 30 s | 2 of 3 | notBreaching | yes | yes |');
    expect(fs.existsSync(path.join(out, 'drill-default.svg'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'drill.json'), 'utf8')).runs).toBe(20);
  });

  test('--fail-under and --max-false-rollback: exit 1 when a target is missed, 0 when met', async () => {
    const low = await cli(['drill', file, ...fast, '--no-reference', '--scenario', 'low-traffic', '--fail-under', '0.5']);
    expect(low.code).toBe(1);
    expect(low.err).toContain('a bad release is caught before 100 % less often than 0.5');
    const ok = await cli(['drill', file, ...fast, '--no-reference', '--fail-under', '0.9', '--max-false-rollback', '0.5']);
    expect(ok.code).toBe(0);
  });

  test('exit 2 with one line for bad input: no template, no release, bad flag values, unknown scenario', async () => {
    const missing = await cli(['drill', path.join(dir, 'nope')]);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('cannot read')]);
    expect(missing.err).toContain('synthesize first');
    const empty = tempDir({ 't.json': JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } }) });
    const noRelease = await cli(['drill', path.join(empty, 't.json')]);
    expect([noRelease.code, noRelease.err]).toEqual([
      2,
      expect.stringContaining('has no CloudWatch alarms: it is not a template with cdk-ai-release constructs'),
    ]);
    const noStack = await cli(['drill', tempDir({ 'manifest.json': '{"artifacts":{}}' })]);
    expect([noStack.code, noStack.err]).toEqual([2, expect.stringContaining('no stack in')]);
    const rate = await cli(['drill', file, '--rate', '-1']);
    expect([rate.code, rate.err]).toEqual([2, expect.stringContaining('--rate must be')]);
    const scenario = await cli(['drill', file, '--scenario', 'meteor']);
    expect([scenario.code, scenario.err]).toEqual([2, expect.stringContaining('unknown scenario "meteor"')]);
    const plane = await cli(['drill', file, '--plane', 'config']);
    expect([plane.code, plane.err]).toEqual([2, expect.stringContaining('no AppConfig environment with monitors')]);
  });
});

describe('the SVG timeline', () => {
  test('parses, and carries the threshold, the datapoints, the traffic weight and the rollback marker', async () => {
    const model = readDrillModel(template);
    const report = await runDrill(
      model,
      [{ name: 'default', plane: 'code', ratePerSecond: 10, fault: { kind: 'error-spike', size: 1, startSeconds: 0 }, arrivals: 'uniform' }],
      { runs: 5, samplesPerClass: 100, singleRun: 'resampled', noReference: true, baseErrorRate: 0 },
    );
    const s = report.scenarios[0];
    const svg = parseXml(renderDrillSvg(report, s));
    expect(svg.name).toBe('svg');
    const byClass = (c: string) => findAll(svg, (e) => (e.attrs.class ?? '').split(' ').includes(c));
    expect(byClass('threshold')[0].attrs['data-threshold']).toBe('0.05');
    expect(byClass('rollback-marker')[0].attrs['data-t']).toBe(String(s.single.rollbackAt));
    expect(s.single.rollbackAt).toBe(100);
    expect(byClass('detect-marker')[0].attrs['data-t']).toBe('70');
    expect(byClass('weight')).toHaveLength(1);
    expect(byClass('datapoints')[0].attrs.d).toMatch(/^M/);
    expect(byClass('state-ALARM').length).toBeGreaterThan(0);
  });

  test('a run that is never rolled back has no rollback marker and says so', async () => {
    const report = await runDrill(
      readDrillModel(template),
      [{ name: 'quiet', plane: 'code', ratePerSecond: 1, fault: { kind: 'error-spike', size: 1, startSeconds: 0 }, arrivals: 'uniform' }],
      {
        runs: 2,
        singleRun: 'resampled',
        noReference: true,
      },
    );
    const text = renderDrillSvg(report, report.scenarios[0]);
    const svg = parseXml(text);
    expect(findAll(svg, (e) => e.attrs.class === 'rollback-marker')).toHaveLength(0);
    expect(text).toContain('(not rolled back)');
  });
});
