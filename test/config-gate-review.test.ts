/**
 * A config release the config gate stopped gets its review (复盘): the deployer asks the platform's reviewer (an
 * asynchronous invoke) on a failing report, a gate error or a gate timeout, never on a pass, and a failed ask never
 * changes the resource's answer; the reviewer turns that event into a 'stopped' config review in the store (s3rver)
 * with the gate link and the failing cases; the template lets the deployer invoke that one reviewer.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { ExampleStack } from '../bin/example-stack';
import {
  type AppConfigPort,
  type AskReview,
  type Clock,
  type CustomResourceEvent,
  type DeploymentInfo,
  handle,
  type InvokeGate,
} from '../lambda/config-deployer/config-deployer';
import { lambdaGate } from '../lambda/config-deployer/gate-port';
import { lambdaReviewer } from '../lambda/config-deployer/review-port';
import { s3Store } from '../lambda/review/aws-adapters';
import type { ReviewPorts } from '../lambda/review/ports';
import { runReview } from '../lambda/review/review';
import { CONFIG_GATE_STOPPED_KIND, type ConfigGateStoppedEvent, type ReleaseReview } from '../lambda/shared/contract';
import { Stack } from 'aws-cdk-lib';
import { AiRelease, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';
import { gateReport } from './config-gate-fixtures';

function fakeAppConfig(): AppConfigPort & { log: string[] } {
  const byEnv = new Map<string, DeploymentInfo[]>();
  const log: string[] = [];
  const list = (env: string) => byEnv.get(env) ?? byEnv.set(env, []).get(env)!;
  return {
    log,
    async start(p) {
      const ds = list(p.environment);
      ds.push({ number: ds.length + 1, state: 'COMPLETE', profile: p.profile, version: p.version });
      log.push(`start ${p.environment} v${p.version}`);
      return ds.length;
    },
    async get(env, n) {
      return list(env)[n - 1];
    },
    async running() {
      return [];
    },
    async latest(env) {
      return list(env).at(-1);
    },
    async stop() {},
  };
}

function fakeClock(start = '2026-11-27T10:00:00Z'): Clock {
  let t = Date.parse(start);
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

const PROPS = {
  Application: 'app1',
  Environment: 'live1',
  Profile: 'prof1',
  Version: '7',
  Strategy: 'canary1',
  RollbackStrategy: 'instant1',
  GateFunction: 'assistant-gate',
  CandidateEnvironment: 'cand1',
  Service: 'assistant',
  ConfigLabel: 'cfg-abcdef012345',
  ReviewFunction: 'platform-reviewer',
};
const event: CustomResourceEvent = { RequestType: 'Update', ResourceProperties: PROPS, OldResourceProperties: { ...PROPS, Version: '6' } };

const report = gateReport;

const FAILED = report({
  verdict: 'failed',
  blocking: { total: 3, selected: 3, passed: 1, failed: 2, notRun: 0 },
  summary: 'failed: 2 of 3 accepted cases failed\n(case c-1: contract; case c-2: safety)',
  cases: [
    { caseId: 'c-0', state: 'accepted', kinds: [], blocking: true, outcome: 'passed', reasons: [] },
    { caseId: 'c-1', state: 'accepted', kinds: ['contract'], blocking: true, outcome: 'failed', reasons: ['missing field "answer"'] },
    { caseId: 'c-3', state: 'candidate', kinds: ['cost'], blocking: false, outcome: 'failed', reasons: ['took 9 s'] },
    { caseId: 'c-2', state: 'accepted', kinds: ['safety'], blocking: true, outcome: 'failed', reasons: ['refusal expected'] },
  ],
});

function asker(fail?: Error): { ask: AskReview; asked: ConfigGateStoppedEvent[] } {
  const asked: ConfigGateStoppedEvent[] = [];
  return {
    asked,
    ask: async (e) => {
      asked.push(e);
      if (fail) throw fail;
    },
  };
}

const run = (invokeGate: InvokeGate, ask: AskReview, clock = fakeClock()) =>
  handle(event, fakeAppConfig(), clock, { budgetMs: 600_000, pollMs: 1000, invokeGate, askReview: ask });

describe('the deployer asks for the review of a release its gate stopped', () => {
  test('pass: no review is asked for (the live deployment is reviewed by AppConfig)', async () => {
    const a = asker();
    const out = await run(async () => report(), a.ask);
    expect(out.status).toBe('SUCCESS');
    expect(a.asked).toHaveLength(0);
  });

  test('failed verdict: asked once, with the report keys, the one-line summary and the failing cases (blocking first)', async () => {
    const a = asker();
    const out = await run(async () => FAILED, a.ask);
    expect(out.status).toBe('FAILED');
    expect(a.asked).toHaveLength(1);
    const e = a.asked[0];
    expect(e).toMatchObject({
      kind: CONFIG_GATE_STOPPED_KIND,
      service: 'assistant',
      configVersion: '7',
      configLabel: 'cfg-abcdef012345',
      at: '2026-11-27T10:00:00.000Z',
      gate: { json: 'gates/assistant/config-7.json', md: 'gates/assistant/config-7.md', verdict: 'failed' },
    });
    expect(e.gate.summary).toBe('failed: 2 of 3 accepted cases failed (case c-1: contract; case c-2: safety)');
    expect(e.gate.cases!.map((c) => c.caseId)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(e.gate.cases![0]).toEqual({ caseId: 'c-1', state: 'accepted', kinds: ['contract'], outcome: 'failed', reasons: ['missing field "answer"'] });
  });

  test('gate error: asked with verdict error, the expected report keys and what went wrong', async () => {
    const a = asker();
    const out = await run(async () => {
      throw new Error('the gate function failed (Unhandled): Error: AccessDenied');
    }, a.ask);
    expect(out.status).toBe('FAILED');
    expect(a.asked[0].gate).toEqual({
      json: 'gates/assistant/config-7.json',
      md: 'gates/assistant/config-7.md',
      verdict: 'error',
      summary: 'the config gate did not answer: the gate function failed (Unhandled): Error: AccessDenied',
    });
  });

  test('gate timeout (the real gate port, a hanging invoke): asked with verdict error naming the time budget', async () => {
    const hanging = {
      send: (_c: unknown, o: { abortSignal?: AbortSignal }) =>
        new Promise((_r, reject) => o.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
    } as unknown as LambdaClient;
    const a = asker();
    const out = await run(lambdaGate(hanging, 'assistant-gate', 50), a.ask);
    expect(out.status).toBe('FAILED');
    expect(a.asked[0].gate.verdict).toBe('error');
    expect(a.asked[0].gate.summary).toContain("no answer within 0 s, the gate's share of the config plane's time budget");
  });

  test('an unusable report is a gate error too', async () => {
    const a = asker();
    await run(async () => report({ plane: 'code' }), a.ask);
    expect(a.asked[0].gate.verdict).toBe('error');
    expect(a.asked[0].gate.summary).toContain('code-plane report');
  });

  test('a failing ask is logged and the resource still answers with the gate failure', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      const without = await run(async () => FAILED, asker().ask);
      const failing = asker(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
      const out = await run(async () => FAILED, failing.ask);
      expect(failing.asked).toHaveLength(1);
      expect(out).toEqual(without);
      expect(out.reason).toContain('config gate FAILED for version 7 (cfg-abcdef012345) of assistant');
      expect(errors.join('\n')).toContain('TooManyRequestsException: Rate exceeded');
    } finally {
      spy.mockRestore();
    }
  });

  test('the review port is an asynchronous invoke (InvocationType Event) of the named function with the event', async () => {
    const mock = mockClient(LambdaClient);
    try {
      mock.on(InvokeCommand).resolves({ StatusCode: 202 });
      const e: ConfigGateStoppedEvent = {
        kind: CONFIG_GATE_STOPPED_KIND,
        service: 'assistant',
        configVersion: '7',
        gate: { json: 'j', md: 'm', verdict: 'error', summary: 's' },
        at: '2026-11-27T10:00:00.000Z',
      };
      await lambdaReviewer(new LambdaClient({ region: 'us-east-1' }), 'platform-reviewer')(e);
      const input = mock.commandCalls(InvokeCommand)[0].args[0].input;
      expect(input).toMatchObject({ FunctionName: 'platform-reviewer', InvocationType: 'Event' });
      expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual(e);
      mock.on(InvokeCommand).resolves({ StatusCode: 200 });
      await expect(lambdaReviewer(new LambdaClient({ region: 'us-east-1' }), 'r')(e)).rejects.toThrow('expected 202');
    } finally {
      mock.restore();
    }
  });
});

describe('the reviewer writes the stopped release review (store in s3rver)', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.close();
  });

  const untouched = (name: string) => () => {
    throw new Error(`${name} must not be looked up for a release that never deployed`);
  };
  function ports(published: { subject: string; message: string }[]): ReviewPorts {
    return {
      deployments: { describe: untouched('deployment') },
      manifests: { history: untouched('manifests') },
      alarms: { alarms: untouched('alarms'), history: untouched('alarm history') },
      metrics: { fetch: untouched('metrics') },
      cases: { touchedSince: untouched('cases') },
      store: s3Store(s3Client(s3.endpoint), BUCKET),
      notifier: { publish: async (subject, message) => void published.push({ subject, message }) },
      clock: { now: () => Date.parse('2026-11-27T10:00:03Z'), sleep: async () => undefined },
    };
  }

  test('a failed gate: plane config, outcome stopped, the gate link, the summary, action items and failing cases; announced once', async () => {
    const a = asker();
    await run(async () => FAILED, a.ask);
    const published: { subject: string; message: string }[] = [];
    const result = await runReview(a.asked[0], ports(published), { stack: 'Example' });
    expect(result.status).toBe('written');
    const key = 'reviews/assistant/config-gate-7-1795773600000';
    const get = async (k: string) => {
      const out = await s3Client(s3.endpoint).send(new GetObjectCommand({ Bucket: BUCKET, Key: k }));
      return out.Body!.transformToString();
    };
    const review = JSON.parse(await get(`${key}.json`)) as ReleaseReview;
    expect(review).toMatchObject({
      service: 'assistant',
      plane: 'config',
      outcome: 'stopped',
      releaseKey: 'config-gate-7-1795773600000',
      deployment: { state: 'GATE_FAILED', to: 'cfg-abcdef012345', endedAt: '2026-11-27T10:00:00.000Z' },
      gate: { verdict: 'failed', json: 'gates/assistant/config-7.json', md: 'gates/assistant/config-7.md' },
      partial: false,
    });
    expect(review.conclusion).toContain('Stopped by the config gate before any live deployment');
    expect(review.conclusion).toContain('failed: 2 of 3 accepted cases failed');
    expect(review.actionItems[0]).toMatch(/^Fix config version 7 \(cfg-abcdef012345\) for the failing cases .*retire cases/);
    expect(review.actionItems[1]).toMatch(/^Re-run the release/);
    expect(review.samples.topCases.map((c) => c.caseId)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(review.samples.byKind).toEqual({ contract: { cases: 1, requests: 1 }, safety: { cases: 1, requests: 1 }, cost: { cases: 1, requests: 1 } });
    const md = await get(`${key}.md`);
    expect(md).toContain('gates/assistant/config-7.md');
    expect(md).toContain('c-1');
    expect(await get(`${key}.svg`)).toContain('<svg');
    expect(published).toHaveLength(1);
    expect(published[0].subject).toBe('[assistant] config release stopped: review config-gate-7-1795773600000');
    expect(published[0].message).toContain(`s3://${BUCKET}/${key}.md`);

    // Re-delivery (Lambda retries asynchronous events): the same review, not a second one.
    expect(await runReview(a.asked[0], ports(published), { stack: 'Example' })).toEqual({ status: 'exists', key: `${key}.json` });
    expect(published).toHaveLength(1);
  });

  test('a gate that did not answer: GATE_ERROR, gate verdict unknown, the action item says find why', async () => {
    const a = asker();
    await run(
      async () => {
        throw new Error('no answer within 300 s');
      },
      a.ask,
      fakeClock('2026-11-27T11:00:00Z'),
    );
    const result = await runReview(a.asked[0], ports([]), { stack: 'Example' });
    if (result.status !== 'written') throw new Error(`expected written, got ${result.status}`);
    expect(result.review.deployment.state).toBe('GATE_ERROR');
    expect(result.review.gate?.verdict).toBe('unknown');
    expect(result.review.samples.topCases).toEqual([]);
    expect(result.review.actionItems[0]).toContain('Find why the gate did not answer');
  });

  test('a malformed event names the field', async () => {
    const bad = { kind: CONFIG_GATE_STOPPED_KIND, service: '../x', configVersion: '7', gate: {}, at: 'now' };
    await expect(runReview(bad, ports([]), { stack: 'Example' })).rejects.toThrow('service must be a service name');
    await expect(runReview({ ...bad, service: 'a', configVersion: 'v7' }, ports([]), { stack: 'Example' })).rejects.toThrow('configVersion');
  });
});

describe('template: the deployer may invoke the reviewer only when the review is on', () => {
  test('the example app: the custom resource names the reviewer; the deployer role may invoke that one function', () => {
    const stack = new ExampleStack(testApp(), 'Example');
    const t = Template.fromStack(stack).toJSON();
    const reviewerId = stack.getLogicalId(stack.release.review!.function.node.defaultChild as never);
    const cr = Object.values(t.Resources as Record<string, any>).filter((r) => r.Type === 'Custom::AiReleaseConfigDeployment');
    expect(cr.length).toBeGreaterThan(0);
    // The custom resources are served by the provider framework; the deployer is its user function.
    const deployerId = Object.keys(t.Resources).find((id) => /ConfigDeployer[0-9A-F]{8}$/.test(id) && t.Resources[id].Type === 'AWS::Lambda::Function')!;
    for (const r of cr) expect(r.Properties.ReviewFunction).toEqual({ Ref: reviewerId });
    const statements = Object.values(t.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === t.Resources[deployerId].Properties.Role['Fn::GetAtt'][0]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const invokes = statements.filter((s: any) => s.Action === 'lambda:InvokeFunction');
    const onReviewer = invokes.filter((s: any) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [reviewerId, 'Arn'] }));
    expect(onReviewer).toHaveLength(1);
  });

  function build(services: string[], releaseReview: boolean) {
    const stack = new Stack(testApp(), 'Rev');
    for (const [i, name] of services.entries()) {
      new AiRelease(stack, `R${i}`, {
        serviceName: name,
        function: inlineFunction(stack, `Fn${i}`),
        config: ReleaseConfigSource.fromObject(validConfig()),
        releaseReview,
        canaryJudge: false,
        regressionGate: false,
        policyWaivers: [{ rule: 'regression-gate', reason: 'this test counts the review grant only' }],
      });
    }
    const t = Template.fromStack(stack).toJSON();
    const res = t.Resources as Record<string, any>;
    const invokes = Object.values(res)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Action === 'lambda:InvokeFunction')
      // The provider framework's own grants (its functions invoking the deployer) are not the deployer's.
      .filter((st: any) => !JSON.stringify(st.Resource).includes('ConfigDeployer'));
    const reviewerIds = Object.keys(res).filter((id) => id.includes('ReleaseReviewer') && res[id].Type === 'AWS::Lambda::Function');
    const crs = Object.values(res).filter((r) => r.Type === 'Custom::AiReleaseConfigDeployment');
    return { invokes, reviewerIds, crs };
  }

  test('two services of one platform: one deployer, one reviewer, one grant; both resources name the reviewer', () => {
    const { invokes, reviewerIds, crs } = build(['a', 'b'], true);
    expect(reviewerIds).toHaveLength(1);
    expect(invokes.filter((st: any) => JSON.stringify(st.Resource) === JSON.stringify({ 'Fn::GetAtt': [reviewerIds[0], 'Arn'] }))).toHaveLength(1);
    expect(crs.map((r) => r.Properties.ReviewFunction)).toEqual([{ Ref: reviewerIds[0] }, { Ref: reviewerIds[0] }]);
  });

  test('releaseReview: false: no reviewer to ask, no grant, no ReviewFunction property', () => {
    const { invokes, reviewerIds, crs } = build(['a'], false);
    expect(reviewerIds).toHaveLength(0);
    expect(invokes).toHaveLength(0);
    expect(crs[0].Properties.ReviewFunction).toBeUndefined();
  });
});
