/**
 * The share controller (issue 16 C): moves an assigned config canary's share step by step, rolls it back to 0 on a
 * safety-net alarm or the judge's regression verdict, and promotes a passed candidate (deploys it to the live
 * environment, waits until every client has had time to read it, then sets the share to 0). Pure: ports only.
 *
 * Where the switch lives: a JSON document in an AppConfig environment of its own, deployed with the instant strategy
 * (no growth, no bake) and watched by no monitor. AppConfig runs one deployment at a time per environment, so a share
 * move never waits behind a release-config rollout, a degrade switch (their own environments) or an alarm; the only
 * deployments there are the controller's own, each finished as soon as it starts. Rollback is therefore one instant
 * deployment of `share: 0`, read by every client at its next poll: no deployment to wait for, no bake, no monitor.
 */
import {
  CODE_CANARY_MAX_WINDOW_MS,
  type CanaryShareDocument,
  type CodeCanaryEvent,
  type JudgeVerdict,
  type ShareControllerRecord,
  type ShareControllerStarted,
  type ShareControllerStartEvent,
} from '../shared/contract';

/** One step of the schedule: the candidate's share (percent) and how long it is held at least. */
export interface ShareStep {
  readonly percent: number;
  readonly holdSeconds: number;
}

/** 10 % as the safety step, then the balanced step (where a two-sample test is most powerful), then promotion. */
export const DEFAULT_SHARE_SCHEDULE: readonly ShareStep[] = [
  { percent: 10, holdSeconds: 120 },
  { percent: 50, holdSeconds: 300 },
];

/** `10:120,50:300`, as SHARE_CONTROLLER_ENV.SCHEDULE carries it. */
export function formatSchedule(steps: readonly ShareStep[]): string {
  return steps.map((s) => `${s.percent}:${s.holdSeconds}`).join(',');
}

/** Reads a schedule, naming what is wrong and the fix. */
export function parseSchedule(text: string): ShareStep[] {
  const steps = text.split(',').map((part, i) => {
    const m = /^\s*(\d+(?:\.\d+)?):(\d+)\s*$/.exec(part);
    if (!m) throw new Error(`share schedule step ${i + 1} is "${part}"; write steps as <percent>:<seconds>, e.g. "10:120,50:300"`);
    return { percent: Number(m[1]), holdSeconds: Number(m[2]) };
  });
  validateSchedule(steps);
  return steps;
}

export function validateSchedule(steps: readonly ShareStep[]): void {
  if (steps.length === 0) throw new Error('the share schedule has no step; give at least one, e.g. [{ percent: 10, holdSeconds: 120 }]');
  let last = 0;
  steps.forEach((s, i) => {
    if (!(s.percent > 0 && s.percent < 100))
      throw new Error(`share schedule step ${i + 1}: percent ${s.percent} must be above 0 and below 100 (promotion takes the candidate to 100 %)`);
    if (s.percent <= last)
      throw new Error(
        `share schedule step ${i + 1}: percent ${s.percent} is not above the previous step's ${last}; the share only grows, so a conversation never switches versions`,
      );
    if (!Number.isInteger(s.holdSeconds) || s.holdSeconds < 10)
      throw new Error(`share schedule step ${i + 1}: holdSeconds ${s.holdSeconds} must be whole seconds, at least 10`);
    last = s.percent;
  });
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Where the share document is deployed (the share environment, instant strategy). */
export interface SharePort {
  /** Deploys the document; resolves when AppConfig has accepted the deployment. Never blocked by another release. */
  deploy(doc: CanaryShareDocument, description: string): Promise<void>;
}

/** The live environment of the release config. */
export interface LivePort {
  /** Starts an instant deployment of the candidate's hosted version; resolves with the deployment number. */
  deploy(candidateVersion: string, description: string): Promise<number>;
  /** The state of one of its deployments (AppConfig's DeploymentState). */
  state(deploymentNumber: number): Promise<string>;
}

export interface ControllerPorts {
  readonly share: SharePort;
  readonly live: LivePort;
  /** The state of each safety-net alarm, by name. */
  alarms(names: readonly string[]): Promise<ReadonlyMap<string, AlarmState>>;
  /** The canary judge's verdict for this release, when it has written one. */
  verdict(releaseKey: string): Promise<JudgeVerdict | undefined>;
  /** The release in progress (or the last one), and writing it. */
  load(): Promise<ShareControllerRecord | undefined>;
  save(record: ShareControllerRecord): Promise<void>;
  now(): number;
  log(message: string, extra?: Record<string, unknown>): void;
}

export interface ControllerSettings {
  readonly service: string;
  readonly schedule: readonly ShareStep[];
  readonly alarmNames: readonly string[];
  /** Longest a client may lag a deployment: extension poll interval + runtime TTL, seconds. */
  readonly clientLagSeconds: number;
}

export type ControllerEvent =
  | ShareControllerStartEvent
  /** The code plane's pre-traffic hook announces (or, with forSeconds 0, ends) its canary (issue 17 D). */
  | CodeCanaryEvent
  /** `releaseKey`: only that release (a late rollback request for an earlier release does nothing). */
  | { readonly kind: 'ai-release.share-rollback'; readonly reason?: string; readonly releaseKey?: string }
  /** A schedule tick or an alarm state change (EventBridge): both just look again. */
  | { readonly kind: 'tick'; readonly reason?: string };

/** What one look decided (for the log, the tests and the drill). */
export type Decision =
  | { readonly action: 'none'; readonly why: string }
  | { readonly action: 'advance'; readonly step: number; readonly share: number; readonly why: string }
  | { readonly action: 'rollback'; readonly why: string }
  | { readonly action: 'promote'; readonly why: string }
  | { readonly action: 'finish-promotion'; readonly why: string }
  | { readonly action: 'promotion-failed'; readonly why: string };

export interface Observations {
  readonly alarms: ReadonlyMap<string, AlarmState>;
  readonly verdict?: JudgeVerdict;
  /** State of the promotion's live deployment, when promoting. */
  readonly liveState?: string;
}

/**
 * The decision for one look at a release. Safety first: an alarm in ALARM or the judge's regression rolls back at
 * any step (INSUFFICIENT_DATA does not: missing data never rolls back by itself). A step advances only once held for
 * its time; after the last one, the candidate is promoted unless the judge shows a regression.
 */
export function decide(r: ShareControllerRecord, o: Observations, s: ControllerSettings, now: number): Decision {
  if (r.phase === 'promoted' || r.phase === 'rolled-back') return { action: 'none', why: `release ${r.releaseKey} is ${r.phase}` };
  if (r.phase === 'promoting') {
    const state = o.liveState;
    if (state === 'ROLLED_BACK' || state === 'REVERTED')
      return { action: 'promotion-failed', why: `the live deployment of version ${r.candidateVersion} was ${state.toLowerCase().replace('_', ' ')}` };
    if (state !== 'COMPLETE') return { action: 'none', why: `waiting for the live deployment (${state ?? 'unknown'})` };
    const completedAt = r.promotion?.completedAt ?? now;
    const waited = (now - completedAt) / 1000;
    if (waited < s.clientLagSeconds)
      return { action: 'none', why: `live deployment complete; waiting ${Math.ceil(s.clientLagSeconds - waited)} s more for every client to read it` };
    return { action: 'finish-promotion', why: `version ${r.candidateVersion} is live and every client has had ${s.clientLagSeconds} s to read it` };
  }
  const firing = s.alarmNames.filter((n) => o.alarms.get(n) === 'ALARM');
  if (firing.length > 0) return { action: 'rollback', why: `alarm in ALARM: ${firing.join(', ')}` };
  if (o.verdict === 'regression') return { action: 'rollback', why: 'the canary judge shows a regression' };
  const step = s.schedule[Math.min(r.step, s.schedule.length - 1)];
  const held = (now - r.stepSince) / 1000;
  if (held < step.holdSeconds) return { action: 'none', why: `holding ${step.percent} % for ${Math.ceil(step.holdSeconds - held)} s more` };
  if (r.step + 1 < s.schedule.length) {
    const next = s.schedule[r.step + 1];
    return { action: 'advance', step: r.step + 1, share: next.percent / 100, why: `held ${step.percent} % for ${step.holdSeconds} s` };
  }
  return { action: 'promote', why: `held the last step (${step.percent} %) for ${step.holdSeconds} s; judge: ${o.verdict ?? 'no record'}` };
}

/** The share document of a record at a share. */
export function shareDocument(
  r: Pick<ShareControllerRecord, 'releaseKey' | 'candidateContentHash' | 'candidateVersion' | 'candidateLabel' | 'step' | 'history'>,
  share: number,
  at: number,
): CanaryShareDocument {
  // The shares so far, ending with this one: a conversation that says when it started is assigned with the share of
  // then (assignment.ts, shareAt), so it keeps one arm across the steps. The last 20 are plenty for any schedule; the
  // first is always kept: it is the share of every conversation whose start is unknown (assignment.ts, conversationShare).
  const history = r.history.map((h) => ({ at: h.at, share: h.share }));
  const last = history[history.length - 1];
  if (!last || last.at !== at || last.share !== share) history.push({ at, share });
  return {
    history: history.length > 20 ? [history[0], ...history.slice(-19)] : history,
    schemaVersion: 1,
    releaseKey: r.releaseKey,
    share,
    candidateContentHash: r.candidateContentHash,
    candidateVersion: r.candidateVersion,
    ...(r.candidateLabel ? { candidateLabel: r.candidateLabel } : {}),
    step: r.step,
    at: new Date(at).toISOString(),
  };
}

/** What a code canary announcement did: deployed the document, or nothing (a config release runs). */
export type CodeCanaryAnswer =
  | { readonly action: 'code-canary'; readonly functionVersion: string; readonly until: number }
  | { readonly action: 'none'; readonly why: string };

/** Handles one event: start, operator rollback, code canary, or a look (tick / alarm change). Returns what it did. */
export async function handle(event: ControllerEvent, p: ControllerPorts, s: ControllerSettings): Promise<Decision | ShareControllerStarted | CodeCanaryAnswer> {
  const now = p.now();
  if (event.kind === 'ai-release.share-start') return start(event, p, s, now);
  if (event.kind === 'ai-release.code-canary') return codeCanary(event, p, s, now);
  const current = await p.load();
  if (!current) return { action: 'none', why: 'no assigned config canary has run' };
  if (event.kind === 'ai-release.share-rollback') {
    // Ramping, or promoting (the live deployment started, the share still up: a stack rollback abandons it).
    if (current.phase !== 'ramping' && current.phase !== 'promoting')
      return { action: 'none', why: `release ${current.releaseKey} is ${current.phase}: nothing to roll back by share` };
    if (event.releaseKey !== undefined && event.releaseKey !== current.releaseKey)
      return { action: 'none', why: `the rollback names release ${event.releaseKey}, but ${current.releaseKey} is ${current.phase}: a late request, ignored` };
    const d: Decision = { action: 'rollback', why: `requested${event.reason ? `: ${event.reason}` : ''}` };
    await act(d, current, p, s, now);
    return d;
  }
  const [alarms, verdict, liveState] = await Promise.all([
    current.phase === 'ramping' ? p.alarms(s.alarmNames) : Promise.resolve(new Map<string, AlarmState>()),
    current.phase === 'ramping' ? p.verdict(current.releaseKey) : Promise.resolve(undefined),
    current.phase === 'promoting' && current.promotion?.deploymentNumber !== undefined
      ? p.live.state(current.promotion.deploymentNumber)
      : Promise.resolve(undefined),
  ]);
  let record = current;
  // The first look that sees the promotion COMPLETE starts the client-lag wait from then.
  if (record.phase === 'promoting' && liveState === 'COMPLETE' && record.promotion?.completedAt === undefined) {
    record = { ...record, promotion: { ...record.promotion, completedAt: now } };
    await p.save(record);
  }
  const d = decide(record, { alarms, verdict, liveState }, s, now);
  await act(d, record, p, s, now);
  return d;
}

/**
 * The code canary in the share document: written only while no config release ramps or promotes (one plane at a
 * time: the config plane's documents carry no code canary, and a code canary never moves a config share). The share
 * stays 0, so every conversation stays on live; the document only tells the runtime which version may draw pair-only
 * samples, and until when.
 */
async function codeCanary(e: CodeCanaryEvent, p: ControllerPorts, s: ControllerSettings, now: number): Promise<CodeCanaryAnswer> {
  if (typeof e.functionVersion !== 'string' || !/^[0-9]+$/.test(e.functionVersion))
    throw new Error(`a code-canary event needs functionVersion, a published Lambda version number (got ${JSON.stringify(e.functionVersion)})`);
  const maxSeconds = CODE_CANARY_MAX_WINDOW_MS / 1000;
  if (typeof e.forSeconds !== 'number' || !Number.isFinite(e.forSeconds) || e.forSeconds < 0 || e.forSeconds > maxSeconds)
    throw new Error(
      `a code-canary event needs forSeconds from 0 to ${maxSeconds} (the traffic shift's length; 0 ends it), got ${JSON.stringify(e.forSeconds)}`,
    );
  const current = await p.load();
  if (current && (current.phase === 'ramping' || current.phase === 'promoting'))
    return {
      action: 'none',
      why: `config release ${current.releaseKey} is ${current.phase}: one plane at a time, the code canary (version ${e.functionVersion}) is not announced`,
    };
  const until = now + Math.round(e.forSeconds * 1000);
  const doc: CanaryShareDocument = {
    schemaVersion: 1,
    releaseKey: '',
    share: 0,
    at: new Date(now).toISOString(),
    codeCanary: { functionVersion: e.functionVersion, releaseKey: String(e.releaseKey ?? ''), at: now, until },
  };
  await p.share.deploy(
    doc,
    e.forSeconds > 0
      ? `${s.service}: code canary version ${e.functionVersion} (${e.releaseKey}) until ${new Date(until).toISOString()}`
      : `${s.service}: code canary version ${e.functionVersion} (${e.releaseKey}) ended`,
  );
  p.log('code canary announced', { functionVersion: e.functionVersion, releaseKey: e.releaseKey, until: new Date(until).toISOString() });
  return { action: 'code-canary', functionVersion: e.functionVersion, until };
}

async function start(e: ShareControllerStartEvent, p: ControllerPorts, s: ControllerSettings, now: number): Promise<ShareControllerStarted> {
  if (!e.candidateVersion || !e.candidateContentHash)
    throw new Error('a share-start event needs candidateVersion (the hosted version number) and candidateContentHash (its _release.contentHash)');
  const current = await p.load();
  const same = (r: ShareControllerRecord) => ({ action: 'started' as const, releaseKey: r.releaseKey, phase: r.phase, repeated: true });
  // A repeated or late delivery of the very request that started the current release, whatever its phase: a second
  // canary of a version that was rolled back (or promoted) is never started by a request already served.
  if (current && e.request !== undefined && current.startRequest === e.request) return same(current);
  if (current && (current.phase === 'ramping' || current.phase === 'promoting')) {
    if (current.candidateContentHash === e.candidateContentHash) return same(current); // a repeated start
    throw new Error(
      `release ${current.releaseKey} (version ${current.candidateVersion}) is still ${current.phase}; one assigned config canary at a time: roll it back ({"kind":"ai-release.share-rollback"}) or wait for it`,
    );
  }
  const releaseKey = `config-assigned-${e.candidateVersion}-${now.toString(36)}`;
  const share = s.schedule[0].percent / 100;
  const record: ShareControllerRecord = {
    schemaVersion: 1,
    service: s.service,
    releaseKey,
    candidateVersion: e.candidateVersion,
    ...(e.candidateLabel ? { candidateLabel: e.candidateLabel } : {}),
    candidateContentHash: e.candidateContentHash,
    phase: 'ramping',
    step: 0,
    share,
    stepSince: now,
    startedAt: now,
    history: [{ at: now, share, why: 'start' }],
    ...(e.request !== undefined ? { startRequest: e.request } : {}),
  };
  // Saved first: a deployment whose record is lost could never be rolled back by a later look.
  await p.save(record);
  await p.share.deploy(
    shareDocument(record, share, now),
    `${s.service}: assigned config canary of version ${e.candidateVersion} starts at ${s.schedule[0].percent} %`,
  );
  p.log('assigned config canary started', { releaseKey, share });
  return { action: 'started', releaseKey, phase: 'ramping' };
}

async function act(d: Decision, r: ShareControllerRecord, p: ControllerPorts, s: ControllerSettings, now: number): Promise<void> {
  const history = (share: number) => [...r.history, { at: now, share, why: d.why }];
  switch (d.action) {
    case 'none':
      return;
    case 'advance': {
      const next: ShareControllerRecord = { ...r, step: d.step, share: d.share, stepSince: now, history: history(d.share) };
      await p.share.deploy(shareDocument(next, d.share, now), `${s.service}: share ${Math.round(d.share * 100)} % (${d.why})`);
      await p.save(next);
      p.log('share advanced', { releaseKey: r.releaseKey, share: d.share, why: d.why });
      return;
    }
    case 'rollback':
    case 'promotion-failed': {
      // The share first: it is what takes the candidate off traffic. The record follows, so a failed save repeats
      // the (idempotent) share-0 deployment at the next look rather than leaving a ramping record behind.
      await p.share.deploy(shareDocument(r, 0, now), `${s.service}: rollback of ${r.releaseKey} (${d.why})`);
      await p.save({ ...r, phase: 'rolled-back', share: 0, reason: d.why, endedAt: now, history: history(0) });
      p.log('assigned config canary rolled back', { releaseKey: r.releaseKey, why: d.why });
      return;
    }
    case 'promote': {
      // The share stays: conversations on the candidate stay on it while the live environment moves to the same
      // version; only when every client has read the new live version does the share go to 0 (finish-promotion).
      const deploymentNumber = await p.live.deploy(r.candidateVersion, `${s.service}: promotion of ${r.releaseKey} (${d.why})`);
      await p.save({ ...r, phase: 'promoting', promotion: { deploymentNumber }, reason: d.why });
      p.log('assigned config canary promoting', { releaseKey: r.releaseKey, deploymentNumber });
      return;
    }
    case 'finish-promotion': {
      await p.share.deploy(shareDocument(r, 0, now), `${s.service}: ${r.releaseKey} promoted; share back to 0`);
      await p.save({ ...r, phase: 'promoted', share: 0, endedAt: now, history: history(0) });
      p.log('assigned config canary promoted', { releaseKey: r.releaseKey });
      return;
    }
  }
}
