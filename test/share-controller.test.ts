/**
 * The share controller: its decisions (table), a whole release through its ports (fakes that record), its AppConfig
 * adapter never blocked by an earlier share (aws-sdk-client-mock), and its records in S3 (s3rver on loopback).
 */
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  ListDeploymentsCommand,
  StartDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { appConfigShare, s3Records } from '../lambda/share-controller/aws-adapters';
import {
  type AlarmState,
  type ControllerPorts,
  type ControllerSettings,
  DEFAULT_SHARE_SCHEDULE,
  decide,
  handle,
  parseSchedule,
  validateSchedule,
} from '../lambda/share-controller/controller';
import { assign } from '../lambda/runtime/assignment';
import type { CanaryShareDocument, JudgeVerdict, ShareControllerRecord } from '../lambda/shared/contract';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

const SETTINGS: ControllerSettings = { service: 'svc', schedule: DEFAULT_SHARE_SCHEDULE, alarmNames: ['svc-config-rollback'], clientLagSeconds: 20 };

function record(over: Partial<ShareControllerRecord> = {}): ShareControllerRecord {
  return {
    schemaVersion: 1,
    service: 'svc',
    releaseKey: 'config-assigned-7-x',
    candidateVersion: '7',
    candidateContentHash: 'abc',
    phase: 'ramping',
    step: 0,
    share: 0.1,
    stepSince: 0,
    startedAt: 0,
    history: [{ at: 0, share: 0.1, why: 'start' }],
    ...over,
  };
}
const alarms = (state: AlarmState) => new Map([['svc-config-rollback', state]]);

describe('decide (table)', () => {
  const cases: [string, ShareControllerRecord, { alarm?: AlarmState; verdict?: JudgeVerdict; liveState?: string }, number, string, Record<string, unknown>?][] =
    [
      ['alarm in ALARM rolls back at the first step', record(), { alarm: 'ALARM' }, 10_000, 'rollback'],
      ['alarm in ALARM rolls back at the balanced step', record({ step: 1, share: 0.5 }), { alarm: 'ALARM' }, 10_000, 'rollback'],
      ['INSUFFICIENT_DATA never rolls back by itself', record(), { alarm: 'INSUFFICIENT_DATA' }, 10_000, 'none'],
      ["the judge's regression rolls back", record(), { alarm: 'OK', verdict: 'regression' }, 10_000, 'rollback'],
      ['a step not yet held holds', record(), { alarm: 'OK' }, 119_000, 'none'],
      ['a held step advances to the next share', record(), { alarm: 'OK', verdict: 'continue' }, 120_000, 'advance', { step: 1, share: 0.5 }],
      ['the last step held promotes', record({ step: 1, share: 0.5, stepSince: 0 }), { alarm: 'OK', verdict: 'no-regression-shown' }, 300_000, 'promote'],
      ['an alarm beats promotion at the last step', record({ step: 1, share: 0.5 }), { alarm: 'ALARM' }, 900_000, 'rollback'],
      ['promoting: waits for the live deployment', record({ phase: 'promoting', promotion: { deploymentNumber: 4 } }), { liveState: 'DEPLOYING' }, 1, 'none'],
      [
        'promoting: complete, but clients may still lag',
        record({ phase: 'promoting', promotion: { deploymentNumber: 4, completedAt: 1000 } }),
        { liveState: 'COMPLETE' },
        20_000,
        'none',
      ],
      [
        'promoting: complete and every client has read it: share back to 0',
        record({ phase: 'promoting', promotion: { deploymentNumber: 4, completedAt: 1000 } }),
        { liveState: 'COMPLETE' },
        21_000,
        'finish-promotion',
      ],
      [
        'promoting: a rolled-back live deployment fails the promotion',
        record({ phase: 'promoting', promotion: { deploymentNumber: 4 } }),
        { liveState: 'ROLLED_BACK' },
        1,
        'promotion-failed',
      ],
      ['a rolled-back release does nothing more', record({ phase: 'rolled-back', share: 0 }), { alarm: 'ALARM' }, 1, 'none'],
    ];
  // Every row with its expected extras (an empty object when only the action is checked).
  const rows = cases.map(([n, r, o, now, action, extra]) => [n, r, o, now, action, extra ?? {}] as const);
  test.each(rows)('%s', (_name, r, o, now, action, extra) => {
    const d = decide(r, { alarms: alarms(o.alarm ?? 'OK'), verdict: o.verdict, liveState: o.liveState }, SETTINGS, now);
    expect(d.action).toBe(action);
    expect(d).toMatchObject(extra);
  });
});

describe('schedules', () => {
  test('parsed from the environment form, and refused with the field and the fix', () => {
    expect(parseSchedule('10:120,50:300')).toEqual(DEFAULT_SHARE_SCHEDULE);
    expect(() => parseSchedule('10:120,5:300')).toThrow(/not above the previous step's 10; the share only grows/);
    expect(() => parseSchedule('10:120,100:300')).toThrow(/below 100 \(promotion/);
    expect(() => parseSchedule('10:5')).toThrow(/holdSeconds 5 must be whole seconds, at least 10/);
    expect(() => parseSchedule('ten')).toThrow(/<percent>:<seconds>/);
    expect(() => validateSchedule([])).toThrow(/no step/);
  });
});

/** Ports that record what the controller did, over an in-memory world. */
function world() {
  let now = 1_000_000;
  const shares: CanaryShareDocument[] = [];
  const live: string[] = [];
  const liveStates = new Map<number, string>();
  let alarmState: AlarmState = 'OK';
  let verdict: JudgeVerdict | undefined;
  let stored: ShareControllerRecord | undefined;
  let failSave = false;
  const ports: ControllerPorts = {
    share: { deploy: async (doc) => void shares.push(doc) },
    live: {
      deploy: async (v) => {
        live.push(v);
        liveStates.set(live.length, 'DEPLOYING');
        return live.length;
      },
      state: async (n) => liveStates.get(n) ?? 'UNKNOWN',
    },
    alarms: async () => alarms(alarmState),
    verdict: async () => verdict,
    load: async () => stored,
    save: async (r) => {
      if (failSave) throw new Error('S3 down');
      stored = r;
    },
    now: () => now,
    log: () => undefined,
  };
  return {
    ports,
    shares,
    live,
    liveStates,
    get stored() {
      return stored;
    },
    advance: (s: number) => {
      now += s * 1000;
    },
    set alarm(s: AlarmState) {
      alarmState = s;
    },
    set verdict(v: JudgeVerdict | undefined) {
      verdict = v;
    },
    set failSave(f: boolean) {
      failSave = f;
    },
  };
}

const START = { kind: 'ai-release.share-start', candidateVersion: '7', candidateLabel: 'cfg-7', candidateContentHash: 'abc' } as const;
const TICK = { kind: 'tick' } as const;

describe('a release through the controller', () => {
  test('promoted: 10 %, 50 %, live deployment, wait for the clients, share 0; the history rides in every document', async () => {
    const w = world();
    const started = await handle(START, w.ports, SETTINGS);
    expect(started).toMatchObject({ action: 'started' });
    for (let i = 0; i < 2; i++) {
      w.advance(60);
      await handle(TICK, w.ports, SETTINGS);
    }
    w.advance(300);
    expect((await handle(TICK, w.ports, SETTINGS)).action).toBe('promote'); // 50 % held for 300 s
    expect(w.live).toEqual(['7']);
    expect(w.stored?.phase).toBe('promoting');
    w.liveStates.set(1, 'COMPLETE');
    w.advance(60);
    expect((await handle(TICK, w.ports, SETTINGS)).action).toBe('none'); // complete, waiting the client lag from now
    w.advance(20);
    expect((await handle(TICK, w.ports, SETTINGS)).action).toBe('finish-promotion');
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0.5, 0]);
    expect(new Set(w.shares.map((d) => d.releaseKey)).size).toBe(1);
    expect(w.shares[1].history?.map((h) => h.share)).toEqual([0.1, 0.5]);
    expect(w.shares.every((d) => d.candidateContentHash === 'abc')).toBe(true);
    expect(w.stored?.phase).toBe('promoted');
    expect(w.stored?.history.map((h) => h.share)).toEqual([0.1, 0.5, 0]);
    // During the promotion the share stayed at 50 %: candidate conversations never fell back to the old live config.
    expect(w.shares.filter((d) => d.share === 0)).toHaveLength(1);
  });

  test('rolled back on ALARM at the balanced step: share 0 at once, never raised again; the next release gets a new key', async () => {
    const w = world();
    await handle(START, w.ports, SETTINGS);
    w.advance(120);
    await handle(TICK, w.ports, SETTINGS);
    w.alarm = 'ALARM';
    w.advance(5);
    expect((await handle({ kind: 'tick', reason: 'CloudWatch Alarm State Change' }, w.ports, SETTINGS)).action).toBe('rollback');
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0.5, 0]);
    expect(w.stored).toMatchObject({ phase: 'rolled-back', share: 0, reason: 'alarm in ALARM: svc-config-rollback' });
    w.alarm = 'OK';
    for (let i = 0; i < 10; i++) {
      w.advance(60);
      await handle(TICK, w.ports, SETTINGS);
    }
    expect(w.shares).toHaveLength(3);
    expect(w.live).toEqual([]);
    const first = w.stored!.releaseKey;
    const again = (await handle({ ...START, candidateVersion: '8', candidateContentHash: 'def' }, w.ports, SETTINGS)) as { releaseKey: string };
    expect(again.releaseKey).not.toBe(first);
    // Keyed per release: the two releases place conversations independently.
    let agree = 0;
    for (let i = 0; i < 4000; i++) {
      const unit = { id: `c${i}`, kind: 'conversation' as const };
      if (
        assign({ schemaVersion: 1, releaseKey: first, share: 0.5 }, unit).arm ===
        assign({ schemaVersion: 1, releaseKey: again.releaseKey, share: 0.5 }, unit).arm
      )
        agree++;
    }
    expect(Math.abs(agree / 4000 - 0.5)).toBeLessThan(0.04);
  });

  test("the judge's regression rolls back; an operator rollback too; a second candidate waits for the first", async () => {
    const w = world();
    await handle(START, w.ports, SETTINGS);
    await expect(handle({ ...START, candidateVersion: '8', candidateContentHash: 'other' }, w.ports, SETTINGS)).rejects.toThrow(
      /one assigned config canary at a time/,
    );
    expect(await handle(START, w.ports, SETTINGS)).toMatchObject({ action: 'started' }); // the same start, repeated: nothing new
    expect(w.shares).toHaveLength(1);
    w.verdict = 'regression';
    w.advance(30);
    expect((await handle(TICK, w.ports, SETTINGS)).action).toBe('rollback');
    const w2 = world();
    await handle(START, w2.ports, SETTINGS);
    expect((await handle({ kind: 'ai-release.share-rollback', reason: 'on-call' }, w2.ports, SETTINGS)).action).toBe('rollback');
    expect(w2.stored?.reason).toBe('requested: on-call');
  });

  test('a start naming the request that started the current release is a repeat in any phase; another request starts anew', async () => {
    const w = world();
    const first = (await handle({ ...START, request: 'cfn-req-1' }, w.ports, SETTINGS)) as { releaseKey: string };
    expect(w.stored?.startRequest).toBe('cfn-req-1');
    w.verdict = 'regression';
    w.advance(30);
    await handle(TICK, w.ports, SETTINGS);
    expect(w.stored?.phase).toBe('rolled-back');
    // Late: the same request again after the release ended. Nothing deployed, the ended release answered.
    w.verdict = undefined;
    expect(await handle({ ...START, request: 'cfn-req-1' }, w.ports, SETTINGS)).toEqual({
      action: 'started',
      releaseKey: first.releaseKey,
      phase: 'rolled-back',
      repeated: true,
    });
    expect(w.shares.map((d) => d.share)).toEqual([0.1, 0]);
    // A new request (a person, or a new deployment) for the same version starts a new release with a new key.
    w.advance(1);
    const again = (await handle({ ...START, request: 'cfn-req-2' }, w.ports, SETTINGS)) as { releaseKey: string; phase: string };
    expect(again).toMatchObject({ phase: 'ramping' });
    expect(again.releaseKey).not.toBe(first.releaseKey);
    // A late rollback naming the first release leaves the second alone.
    expect((await handle({ kind: 'ai-release.share-rollback', releaseKey: first.releaseKey }, w.ports, SETTINGS)).action).toBe('none');
    expect(w.stored).toMatchObject({ phase: 'ramping', releaseKey: again.releaseKey });
  });

  test('a rollback whose record cannot be saved has still set the share to 0, and the next look sets it again', async () => {
    const w = world();
    await handle(START, w.ports, SETTINGS);
    w.alarm = 'ALARM';
    w.failSave = true;
    await expect(handle(TICK, w.ports, SETTINGS)).rejects.toThrow('S3 down');
    expect(w.shares.at(-1)?.share).toBe(0);
    w.failSave = false;
    await handle(TICK, w.ports, SETTINGS);
    expect(w.shares.slice(-2).map((d) => d.share)).toEqual([0, 0]);
    expect(w.stored?.phase).toBe('rolled-back');
  });
});

describe('AppConfig adapter', () => {
  test('a share deployment held up by an earlier one stops it and starts: the newest share (a rollback) is never kept waiting', async () => {
    const mock = mockClient(AppConfigClient);
    mock.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 12 });
    mock
      .on(StartDeploymentCommand)
      .rejectsOnce(Object.assign(new Error('deployment in progress'), { name: 'ConflictException' }))
      .resolves({ DeploymentNumber: 9 });
    mock.on(ListDeploymentsCommand).resolves({
      Items: [
        { DeploymentNumber: 8, State: 'DEPLOYING' },
        { DeploymentNumber: 7, State: 'COMPLETE' },
      ],
    });
    mock.on(StopDeploymentCommand).resolves({});
    const ids = { application: 'app1', shareEnvironment: 'shr1', shareProfile: 'prf1', liveEnvironment: 'liv1', configProfile: 'rel1', strategy: 'ins1' };
    await appConfigShare(mock as unknown as AppConfigClient, ids, async () => undefined).deploy({ schemaVersion: 1, releaseKey: 'k', share: 0 }, 'rollback');
    expect(mock.commandCalls(StopDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { ApplicationId: 'app1', EnvironmentId: 'shr1', DeploymentNumber: 8 },
    ]);
    const starts = mock.commandCalls(StartDeploymentCommand).map((c) => c.args[0].input);
    expect(starts).toHaveLength(2);
    expect(starts[1]).toMatchObject({ EnvironmentId: 'shr1', ConfigurationProfileId: 'prf1', ConfigurationVersion: '12', DeploymentStrategyId: 'ins1' });
    const content = mock.commandCalls(CreateHostedConfigurationVersionCommand)[0].args[0].input.Content as Uint8Array;
    expect(JSON.parse(Buffer.from(content).toString('utf8'))).toEqual({ schemaVersion: 1, releaseKey: 'k', share: 0 });
    mock.restore();
  });
});

describe('records in S3 (s3rver)', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => s3?.close());

  test('the current record and one per release are written; a missing record or judge verdict reads as none', async () => {
    const client = s3Client(s3.endpoint);
    const store = s3Records(client, BUCKET, 'svc');
    expect(await store.load()).toBeUndefined();
    expect(await store.verdict('config-assigned-7-x')).toBeUndefined();
    const r = record();
    await store.save(r);
    expect(await store.load()).toEqual(r);
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'judge/svc/config-assigned-7-x.json',
        Body: JSON.stringify({ verdict: 'regression' }),
        ContentType: 'application/json',
      }),
    );
    expect(await store.verdict('config-assigned-7-x')).toBe('regression');
    const copy = await s3Records(client, BUCKET, 'svc').load();
    expect(copy?.releaseKey).toBe('config-assigned-7-x');
  });
});
