/**
 * The assigned config canary end to end through its ports, on one fake clock: the config deployer (onEvent, then
 * isComplete every 15 s as the Provider framework asks) stages and gates the version in the candidate environment
 * and hands it to the share controller (a look every minute); the controller moves the share, rolls back on the
 * judge's regression or an alarm, or promotes (live environment, instantly, then share 0). AppConfig is a fake
 * with one deployment per environment at a time; the controller is the real one (lambda/share-controller).
 */
import {
  type AppConfigPort,
  type Clock,
  type DeploymentInfo,
  handle as deploy,
  isComplete,
  onEvent,
  type ProviderEvent,
  type ShareControlPort,
} from '../lambda/config-deployer/config-deployer';
import { type AlarmState, type ControllerPorts, type ControllerSettings, DEFAULT_SHARE_SCHEDULE, handle as look } from '../lambda/share-controller/controller';
import type {
  CanaryShareDocument,
  ConfigGateRequest,
  GateReport,
  JudgeVerdict,
  ShareControllerRecord,
  ShareControllerStarted,
} from '../lambda/shared/contract';
import { memoryMarkerStore } from '../lambda/shared/idempotency';

const LIVE = 'liveenv';
const CANDIDATE = 'candenv';
const HASH = 'a'.repeat(64);
const RUNNING = ['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK'];

interface Dep extends DeploymentInfo {
  env: string;
  strategy: string;
  state: string;
}

/** One fake world: AppConfig (per environment), the controller's stores, the judge's verdict and the alarm, one clock. */
function world(opts: { previousLive?: string | null } = {}) {
  const clock: Clock & { t: number } = {
    t: 1_000_000,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
    },
  };
  const deployments: Dep[] = [];
  const calls: string[] = [];
  let n = 0;
  const add = (env: string, version: string, strategy: string, state = 'DEPLOYING'): Dep => {
    const d: Dep = { number: ++n, env, profile: 'prof', version, strategy, state };
    deployments.push(d);
    return d;
  };
  // The previous release is live (COMPLETE), and was staged in the candidate environment by its own release.
  if (opts.previousLive !== null) add(LIVE, opts.previousLive ?? '3', 'instant', 'COMPLETE');
  // Instant deployments finish at the next look; nothing else is used here.
  const advance = (d: Dep) => {
    if (d.state === 'DEPLOYING') d.state = 'COMPLETE';
  };
  const appconfig: AppConfigPort = {
    async start(p) {
      calls.push(`start ${p.environment} v${p.version} ${p.strategy}`);
      if (deployments.some((d) => d.env === p.environment && RUNNING.includes(d.state)))
        throw Object.assign(new Error('in progress'), { name: 'ConflictException' });
      return add(p.environment, p.version, p.strategy).number;
    },
    async get(env, number) {
      const d = deployments.find((x) => x.env === env && x.number === number)!;
      advance(d);
      return { ...d };
    },
    async running(env) {
      return deployments.filter((d) => d.env === env && RUNNING.includes(d.state)).map((d) => ({ ...d }));
    },
    async latest(env) {
      const mine = deployments.filter((d) => d.env === env);
      return mine.length ? { ...mine[mine.length - 1] } : undefined;
    },
    async stop(env, number) {
      calls.push(`stop ${env} #${number}`);
      const d = deployments.find((x) => x.env === env && x.number === number)!;
      d.state = 'REVERTED';
    },
  };

  const shares: CanaryShareDocument[] = [];
  let stored: ShareControllerRecord | undefined;
  const judge = { verdict: undefined as JudgeVerdict | undefined };
  const alarm = { state: 'OK' as AlarmState };
  const settings: ControllerSettings = { service: 'svc', schedule: DEFAULT_SHARE_SCHEDULE, alarmNames: ['svc-config-rollback'], clientLagSeconds: 20 };
  const ports: ControllerPorts = {
    share: {
      async deploy(doc) {
        shares.push(doc);
      },
    },
    live: {
      async deploy(version) {
        return appconfig.start({ environment: LIVE, profile: 'prof', version, strategy: 'instant', description: 'promotion' });
      },
      async state(number) {
        return (await appconfig.get(LIVE, number)).state;
      },
    },
    alarms: async (names) => new Map(names.map((x) => [x, alarm.state])),
    verdict: async () => judge.verdict,
    load: async () => stored,
    save: async (r) => {
      stored = r;
    },
    now: () => clock.now(),
    log: () => undefined,
  };
  // The deployer's port to the controller: the real controller, invoked in-process as Lambda would.
  const control: ShareControlPort = {
    start: async (e) => (await look(e, ports, settings)) as ShareControllerStarted,
    rollback: async (releaseKey, reason) => {
      await look({ kind: 'ai-release.share-rollback', releaseKey, reason }, ports, settings);
    },
    current: async () => stored,
  };
  const gateAsked: string[] = [];
  const invokeGate = async (r: ConfigGateRequest): Promise<GateReport> => {
    // The gate replays against the candidate environment: the version must be staged there by now.
    const staged = await appconfig.latest(CANDIDATE);
    gateAsked.push(`${r.configVersion} staged=${staged?.version}/${staged?.state}`);
    return {
      schemaVersion: 1,
      service: 'svc',
      plane: 'config',
      releaseKey: `config-${r.configVersion}`,
      target: { functionName: 'fn', qualifier: 'gate', configVersion: r.configVersion },
      verdict: 'passed',
      requiredPassRate: 1,
      blocking: { total: 1, selected: 1, passed: 1, failed: 0, notRun: 0 },
      reported: { total: 0, selected: 0, passed: 0, failed: 0, notRun: 0 },
      sampled: false,
      deadlineReached: false,
      startedAt: '',
      endedAt: '',
      summary: 'passed 1/1',
      cases: [],
      objects: { json: `gates/svc/config-${r.configVersion}.json`, md: `gates/svc/config-${r.configVersion}.md` },
    };
  };
  return {
    clock,
    appconfig,
    deployments,
    calls,
    shares,
    get stored() {
      return stored;
    },
    judge,
    alarm,
    ports,
    settings,
    control,
    invokeGate,
    gateAsked,
    liveVersions: () => deployments.filter((d) => d.env === LIVE).map((d) => `${d.version}:${d.state}`),
  };
}

type World = ReturnType<typeof world>;

const props = (version: string) => ({
  Application: 'app',
  Environment: LIVE,
  Profile: 'prof',
  Version: version,
  Strategy: 'canary1',
  RollbackStrategy: 'instant',
  BudgetSeconds: '1800',
  GateFunction: 'gate-fn',
  CandidateEnvironment: CANDIDATE,
  Service: 'svc',
  ConfigLabel: `cfg-${version}`,
  ShareController: 'share-fn',
  ShareBucket: 'store',
  CandidateContentHash: HASH,
});
const release = (from: string, to: string, requestId = 'req-1'): ProviderEvent => ({
  RequestType: 'Update',
  RequestId: requestId,
  StackId: 'stack',
  LogicalResourceId: 'Rollout',
  PhysicalResourceId: 'app/liveenv/prof',
  ResourceProperties: props(to),
  OldResourceProperties: props(from),
});

/**
 * Runs one CloudFormation request as the framework does: onEvent, then isComplete every 15 s; the controller looks
 * every 60 s on the same clock. `during` runs before each look (to change the verdict or an alarm at a step).
 */
async function run(w: World, event: ProviderEvent, during: (w: World) => void = () => undefined) {
  const started = await onEvent(event, w.appconfig, w.clock, { budgetMs: 14 * 60_000, pollMs: 1000, invokeGate: w.invokeGate, share: w.control });
  const waitEvent: ProviderEvent = { ...event, Data: started.Data };
  let sinceLook = 0;
  for (let i = 0; i < 400; i++) {
    try {
      const done = await isComplete(waitEvent, w.appconfig, w.clock, { pollMs: 15_000, share: w.control });
      if (done.IsComplete) return { status: 'SUCCESS' as const, data: { ...done.Data }, started: started.Data };
    } catch (e) {
      return { status: 'FAILED' as const, reason: (e as Error).message, started: started.Data };
    }
    await w.clock.sleep(15_000);
    sinceLook += 15_000;
    if (sinceLook >= 60_000) {
      sinceLook = 0;
      during(w);
      await look({ kind: 'tick' }, w.ports, w.settings);
    }
  }
  throw new Error('the release never ended');
}

describe('assigned config canary, deployer → share controller → promotion', () => {
  test('a pass: candidate staged and gated, 10 % then 50 %, promotion deploys the passed version live instantly, then share 0', async () => {
    const w = world();
    const out = await run(w, release('3', '4'), (x) => {
      x.judge.verdict = 'continue';
    });
    expect(out.status).toBe('SUCCESS');
    // The gate replayed version 4 from the candidate environment, staged there (instant) before it was asked.
    expect(w.gateAsked).toEqual(['4 staged=4/COMPLETE']);
    expect(w.calls[0]).toBe(`start ${CANDIDATE} v4 instant`);
    // The live environment got version 4 once, by the promotion, all at once (the judging was done by then).
    expect(w.liveVersions()).toEqual(['3:COMPLETE', '4:COMPLETE']);
    expect(w.calls.filter((c) => c.startsWith(`start ${LIVE}`))).toEqual([`start ${LIVE} v4 instant`]);
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0.5, 0]);
    expect(w.stored).toMatchObject({ phase: 'promoted', share: 0, candidateVersion: '4', candidateContentHash: HASH });
    expect(out.data).toMatchObject({ Version: '4', Direction: 'release', ReleaseKey: w.stored!.releaseKey, GateVerdict: 'passed' });
    // The promotion waited the client lag after the live deployment completed: the share was 50 % until then.
    const promotedAt = w.stored!.promotion!.completedAt!;
    expect(w.stored!.endedAt! - promotedAt).toBeGreaterThanOrEqual(20_000);
  });

  test("a regression verdict during step 2 (50 %) ends with share 0, no promotion, and the resource failed with the judge's reason", async () => {
    const w = world();
    const out = await run(w, release('3', '4'), (x) => {
      if (x.stored?.step === 1) x.judge.verdict = 'regression';
    });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(
      /rolled back after reaching 50 %: the canary judge shows a regression; the share is 0 and the live environment still serves the previous version/,
    );
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0.5, 0]);
    expect(w.stored).toMatchObject({ phase: 'rolled-back', share: 0, reason: 'the canary judge shows a regression' });
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);

    // CloudFormation rolls the stack back (Update 4 → 3): the live environment never left version 3, nothing is deployed.
    const back = await deploy({ ...release('4', '3', 'req-2') }, w.appconfig, w.clock, { budgetMs: 60_000, pollMs: 1000, share: w.control });
    expect(back.status).toBe('SUCCESS');
    expect(back.reason).toMatch(/latest and COMPLETE; nothing to roll back/);
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);
    expect(w.shares).toHaveLength(3);
  });

  test('a safety-net alarm at step 1 rolls back to share 0 before the step is held', async () => {
    const w = world();
    const out = await run(w, release('3', '4'), (x) => {
      x.alarm.state = 'ALARM';
    });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/reaching 10 %: alarm in ALARM: svc-config-rollback/);
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0]);
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);
  });

  test('a repeated or late delivery of the request does nothing: no second canary of a rolled-back version, no second promotion', async () => {
    const w = world();
    const first = await run(w, release('3', '4'), (x) => {
      if (x.stored?.step === 1) x.judge.verdict = 'regression';
    });
    expect(first.status).toBe('FAILED');
    const key = w.stored!.releaseKey;
    const shares = w.shares.length;
    // The same CloudFormation request delivered again (no marker store: the controller's request check catches it).
    w.judge.verdict = undefined;
    const again = await run(w, release('3', '4'));
    expect(again.status).toBe('FAILED');
    expect(again.started.Reason).toMatch(/already runs release .* \(rolled-back\)/);
    expect(w.stored!.releaseKey).toBe(key);
    expect(w.shares).toHaveLength(shares);
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);

    // A late rollback request naming that release does nothing to the next one.
    const next = world();
    const started = await onEvent(release('3', '5', 'req-9'), next.appconfig, next.clock, {
      budgetMs: 60_000,
      pollMs: 1000,
      invokeGate: next.invokeGate,
      share: next.control,
    });
    const late = await look({ kind: 'ai-release.share-rollback', releaseKey: 'config-assigned-4-old', reason: 'late' }, next.ports, next.settings);
    expect(late.action).toBe('none');
    expect(next.stored).toMatchObject({ phase: 'ramping', releaseKey: started.Data.ReleaseKey });

    // After a promotion, the repeated request finds its version live and deploys nothing.
    const p = world();
    expect((await run(p, release('3', '4', 'req-p'))).status).toBe('SUCCESS');
    const before = [...p.calls];
    const repeat = await run(p, release('3', '4', 'req-p'));
    expect(repeat.status).toBe('SUCCESS');
    expect(repeat.started.Reason).toMatch(/already live/);
    expect(p.calls).toEqual(before);
  });

  test('a repeated delivery with the marker store follows the first: one stage, one gate replay, one start', async () => {
    const w = world();
    const markers = memoryMarkerStore();
    const opts = { budgetMs: 60_000, pollMs: 1000, invokeGate: w.invokeGate, share: w.control, markers };
    const a = await onEvent(release('3', '4'), w.appconfig, w.clock, opts);
    const b = await onEvent(release('3', '4'), w.appconfig, w.clock, opts);
    expect(b.Data.Duplicate).toBe('true');
    expect(w.gateAsked).toHaveLength(1);
    expect(w.shares).toHaveLength(1);
    const followed = await isComplete({ ...release('3', '4'), Data: b.Data }, w.appconfig, w.clock, { share: w.control, markers });
    expect(followed.IsComplete).toBe(false);
    expect(a.Data.ReleaseKey).toBe(w.stored!.releaseKey);
  });

  test('a stack rollback while the share is up sets it to 0 first; the live environment was never touched', async () => {
    const w = world();
    await onEvent(release('3', '4'), w.appconfig, w.clock, { budgetMs: 60_000, pollMs: 1000, invokeGate: w.invokeGate, share: w.control });
    w.clock.t += 120_000;
    await look({ kind: 'tick' }, w.ports, w.settings); // 50 %
    expect(w.stored).toMatchObject({ phase: 'ramping', share: 0.5 });
    // Another resource failed: CloudFormation sends the Update back to version 3.
    const back = await deploy(release('4', '3', 'req-2'), w.appconfig, w.clock, { budgetMs: 60_000, pollMs: 1000, share: w.control });
    expect(back.status).toBe('SUCCESS');
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0.5, 0]);
    expect(w.stored).toMatchObject({ phase: 'rolled-back', reason: 'requested: stack rollback: CloudFormation restores version 3' });
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);
  });

  test('a release still ramping when the budget runs out is set to share 0 and fails, naming the budget', async () => {
    const w = world();
    const event = { ...release('3', '4'), ResourceProperties: { ...props('4'), BudgetSeconds: '200' } };
    const out = await run(w, event);
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/still ramping at 50 % after 200 s, its time budget; set its share to 0/);
    expect(w.shares.at(-1)?.share).toBe(0);
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);
  });

  test('an assigned release without what it needs is refused, naming the properties; the controller refusing fails it with its reason', async () => {
    const w = world();
    const { CandidateContentHash: _h, ShareBucket: _b, ...rest } = props('4');
    await expect(
      onEvent({ ...release('3', '4'), ResourceProperties: rest }, w.appconfig, w.clock, { budgetMs: 60_000, share: w.control, invokeGate: w.invokeGate }),
    ).rejects.toThrow(/ShareController is set but ShareBucket, CandidateContentHash is missing/);
    await expect(onEvent(release('3', '4'), w.appconfig, w.clock, { budgetMs: 60_000, invokeGate: w.invokeGate })).rejects.toThrow(
      /ShareController is set but the deployer has no way to invoke it/,
    );
    // Another version is still ramping: one assigned config canary at a time, and the live environment is untouched.
    await look({ kind: 'ai-release.share-start', candidateVersion: '9', candidateContentHash: 'b'.repeat(64) }, w.ports, w.settings);
    await expect(onEvent(release('3', '4'), w.appconfig, w.clock, { budgetMs: 60_000, invokeGate: w.invokeGate, share: w.control })).rejects.toThrow(
      /was not started: release config-assigned-9-.* is still ramping; one assigned config canary at a time/,
    );
    expect(w.liveVersions()).toEqual(['3:COMPLETE']);
  });

  test('the first release of a profile (nothing live yet) goes live with the rollout strategy: there is no live config to canary against', async () => {
    const w = world({ previousLive: null });
    const event: ProviderEvent = { RequestType: 'Create', RequestId: 'r0', StackId: 'stack', LogicalResourceId: 'Rollout', ResourceProperties: props('1') };
    const out = await deploy(event, w.appconfig, w.clock, { budgetMs: 60_000, pollMs: 1000, invokeGate: w.invokeGate, share: w.control });
    expect(out.status).toBe('SUCCESS');
    expect(w.calls).toEqual([`start ${CANDIDATE} v1 instant`, `start ${LIVE} v1 canary1`]);
    expect(w.shares).toEqual([]);
    expect(w.stored).toBeUndefined();
  });

  test('a throttled start (the controller runs one look at a time) is tried again', async () => {
    const w = world();
    let throttled = 2;
    const control: ShareControlPort = {
      ...w.control,
      start: async (e) => {
        if (throttled-- > 0) throw Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' });
        return w.control.start(e);
      },
    };
    const out = await onEvent(release('3', '4'), w.appconfig, w.clock, { budgetMs: 60_000, pollMs: 1000, invokeGate: w.invokeGate, share: control });
    expect(out.Data).toMatchObject({ Share: 'true', ReleaseKey: w.stored!.releaseKey });
    expect(throttled).toBe(-1);
  });
});
