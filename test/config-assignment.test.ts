/**
 * Config canaries assigned per conversation (issue 16 C): the hash, the runtime that applies it, and the poll that
 * carries a share change to every execution environment.
 */
import { AiRuntime, type ConfigPort, type InvocationMeasurements, type TelemetryPort } from '../lambda/runtime/ai-runtime';
import { AssigningRuntime } from '../lambda/runtime/assigning-runtime';
import {
  assign,
  conversationShare,
  defaultConversationId,
  defaultConversationStart,
  NO_RELEASE,
  shareAt,
  shareDocumentProblems,
  startFromConversationId,
  unitPosition,
} from '../lambda/runtime/assignment';
import { ConfigCache, type ConfigFetcher, type ServedConfig } from '../lambda/runtime/config-cache';
import { ShareReader } from '../lambda/runtime/share-reader';
import type { CanaryShareDocument, ConfigAssignment, FailureRecord, VersionTuple } from '../lambda/shared/contract';
import { type PropagationModel, servedAt } from '../lib/drill/share-rollback';
import { rng } from '../lib/drill/traffic';
import { NO_FLAGS, releaseDoc } from './runtime-fixtures';

const doc = (releaseKey: string, share: number, candidateContentHash = 'h'): CanaryShareDocument => ({
  schemaVersion: 1,
  releaseKey,
  share,
  candidateContentHash,
});

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A UUIDv7 minted at `ms` (RFC 9562 § 5.7), random bits from `random`. */
function uuidv7(ms: number, random: () => number): string {
  const hex = (n: number, digits: number) => Math.floor(n).toString(16).padStart(digits, '0');
  const t = hex(ms, 12);
  const r = (d: number) => Array.from({ length: d }, () => hex(random() * 16, 1)).join('');
  return `${t.slice(0, 8)}-${t.slice(8)}-7${r(3)}-${'89ab'[Math.floor(random() * 4)]}${r(3)}-${r(12)}`;
}
/** A ULID minted at `ms` (github.com/ulid/spec). */
function ulid(ms: number, random: () => number): string {
  let t = '';
  for (let i = 0, v = ms; i < 10; i++, v = Math.floor(v / 32)) t = CROCKFORD[v % 32] + t;
  return t + Array.from({ length: 16 }, () => CROCKFORD[Math.floor(random() * 32)]).join('');
}

describe('the conversation start from a time-ordered id', () => {
  test('UUIDv7 and ULID give their ms; other ids, other versions and implausible times give none', () => {
    const ms = Date.UTC(2026, 11, 7, 21, 30, 0, 123);
    const random = rng(5);
    for (let i = 0; i < 200; i++) {
      expect(startFromConversationId(uuidv7(ms + i, random))).toBe(ms + i);
      expect(startFromConversationId(ulid(ms + i, random))).toBe(ms + i);
      expect(startFromConversationId(ulid(ms + i, random).toLowerCase())).toBe(ms + i);
    }
    // The examples of the specifications themselves.
    expect(startFromConversationId('017F22E2-79B0-7CC3-98C4-DC0C0C07398F')).toBe(0x017f22e279b0); // RFC 9562 appendix A.6
    expect(new Date(startFromConversationId('01ARZ3NDEKTSV4RRFFQ69G5FAV')!).toISOString()).toBe('2016-07-30T23:54:10.259Z'); // ulid/spec example; tulid's README: 31/07/2016 00:54:10 local
    expect(startFromConversationId('7d444840-9dc0-11d1-b245-5ffdce74fad2')).toBeUndefined(); // UUIDv1
    expect(startFromConversationId('919108f7-52d1-4320-9bac-f847db4148a8')).toBeUndefined(); // UUIDv4
    expect(startFromConversationId('017f22e2-79b0-7cc3-c8c4-dc0c0c07398f')).toBeUndefined(); // variant not 10xx
    expect(startFromConversationId('00000000-0001-7000-8000-000000000000')).toBeUndefined(); // 1970: not believed
    expect(startFromConversationId('0000000001ARZ3NDEKTSV4RRFF')).toBeUndefined(); // ULID in 1970
    expect(startFromConversationId('8ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBeUndefined(); // ULID overflow (first char > 7)
    expect(startFromConversationId('01ARZ3NDEKTSV4RRFFQ69G5FAU0')).toBeUndefined(); // 27 characters
    expect(startFromConversationId('01ARZ3NDEKTSV4RRFFQ69G5FIL')).toBeUndefined(); // I and L are not Crockford
    expect(startFromConversationId('conv-000042')).toBeUndefined();
  });

  test('a conversation that starts just after a step, on an environment that has not read it yet, keeps its arm once the step settles (property)', () => {
    // Environment A still serves the document before the 50 % step; B has read it. Conversations start within the
    // 15 s after the step: A answers the first turn, B the next ones.
    const T0 = Date.UTC(2026, 11, 7, 12);
    const before = { ...doc('config-assigned-16-race', 0.1), history: [{ at: T0, share: 0.1 }] };
    const after = { ...doc('config-assigned-16-race', 0.5), history: [...before.history, { at: T0 + 60_000, share: 0.5 }] };
    const random = rng(77);
    const switched = (settleMs: number) => {
      let n = 0;
      for (let i = 0; i < 5000; i++) {
        const startedAt = T0 + 60_000 + Math.floor(random() * 15_000);
        const unit = { id: `race-${i}`, kind: 'conversation' as const };
        if (assign(before, unit, startedAt, settleMs).arm !== assign(after, unit, startedAt, settleMs).arm) n++;
      }
      return n;
    };
    const unsettled = switched(0);
    expect(unsettled).toBeGreaterThan(1500); // ~40 % of them: the race is real without the settle time
    expect(switched(20_000)).toBe(0);
    process.stdout.write(`conversations started within 15 s of a 10 % -> 50 % step that switched: ${unsettled} of 5,000 with no settle time, 0 with 20 s\n`);
  });

  test("conversationShare: the share at the start when known, else the release's first share, never above the current one", () => {
    const history = [
      { at: 100, share: 0.1 },
      { at: 200, share: 0.5 },
    ];
    expect(conversationShare({ ...doc('r', 0.5), history }, undefined)).toBe(0.1);
    expect(conversationShare({ ...doc('r', 0.5), history }, 250)).toBe(0.5);
    expect(conversationShare({ ...doc('r', 0.5), history }, 50)).toBe(0);
    expect(conversationShare({ ...doc('r', 0), history }, undefined)).toBe(0); // rollback wins
    expect(conversationShare(doc('r', 0.3), undefined)).toBe(0.3); // no history: no steps to switch at
    expect(assign({ ...doc('r', 0.5), history }, { id: 'x', kind: 'conversation' }).share).toBe(0.1);
    expect(assign({ ...doc('r', 0.5), history }, { id: 'x', kind: 'request' }).share).toBe(0.5); // a request cannot switch
  });
});

describe('the assignment hash', () => {
  test('monotone in the share: a conversation on the candidate at s stays on it at every larger s (property, 3 keys x 5,000 ids)', () => {
    const ramp = [0.001, 0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 0.9, 0.99];
    let switches = 0;
    let everCandidate = 0;
    for (const key of ['config-assigned-7-a', 'config-assigned-8-b', 'k']) {
      for (let i = 0; i < 5000; i++) {
        const arms = ramp.map((s) => assign(doc(key, s), { id: `conv-${i}`, kind: 'conversation' }).arm);
        const first = arms.indexOf('candidate');
        if (first >= 0) everCandidate++;
        if (first >= 0 && arms.slice(first).some((a) => a === 'live')) switches++;
      }
    }
    expect(switches).toBe(0);
    expect(everCandidate).toBeGreaterThan(14_000); // 99 % of 15,000 end on the candidate: the property is not vacuous
  });

  test('keyed per release: the arms of two releases agree no more than chance (20,000 ids at 50 %)', () => {
    let agree = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const a = assign(doc('config-assigned-7-a', 0.5), { id: `user-${i}`, kind: 'conversation' }).arm;
      const b = assign(doc('config-assigned-8-b', 0.5), { id: `user-${i}`, kind: 'conversation' }).arm;
      if (a === b) agree++;
    }
    expect(Math.abs(agree / n - 0.5)).toBeLessThan(0.02);
  });

  test('the cluster id is the keyed hash, not the id, and the same conversation keeps it within a release', () => {
    const a = assign(doc('r1', 0.3), { id: 'conv-42', kind: 'conversation' });
    const b = assign(doc('r1', 0.9), { id: 'conv-42', kind: 'conversation' });
    const other = assign(doc('r2', 0.3), { id: 'conv-42', kind: 'conversation' });
    expect(a.unit).toMatch(/^[0-9a-f]{16}$/);
    expect(a.unit).toBe(b.unit);
    expect(a.unit).not.toBe(other.unit);
    expect(a.unit).not.toContain('conv');
    expect(unitPosition('r1', 'conv-42').unit).toBe(a.unit);
  });

  test('share 0 and no release send everyone to live', () => {
    for (let i = 0; i < 1000; i++) {
      expect(assign(doc('r', 0), { id: `c${i}`, kind: 'conversation' }).arm).toBe('live');
      expect(assign(NO_RELEASE, { id: `c${i}`, kind: 'conversation' })).toEqual({ arm: 'live', share: 0, releaseKey: '', unit: '', unitKind: 'conversation' });
    }
  });

  test('the share over 100,000 requests of clustered traffic is within 1 percentage point of nominal, at every step', () => {
    // Production-like traffic: sequential conversation ids (a hash that does not mix would split them in blocks),
    // conversation lengths from 1 to 40 turns (heavy tail: retries and long dialogues arrive together), and a fifth
    // of the requests from callers that send no conversation id (assigned per request).
    const random = rng(16);
    const requests: { id: string; kind: 'conversation' | 'request' }[] = [];
    let conv = 0;
    while (requests.length < 100_000) {
      if (random() < 0.2) {
        requests.push({ id: `req-${requests.length}`, kind: 'request' });
        continue;
      }
      const turns = Math.min(40, 1 + Math.floor(-Math.log(1 - random()) * 4));
      const id = `conv-${String(conv++).padStart(6, '0')}`;
      for (let t = 0; t < turns && requests.length < 100_000; t++) requests.push({ id, kind: 'conversation' });
    }
    const deviations: Record<string, number> = {};
    // The arm is a function of (id, share): computed once per distinct unit and counted once per request it serves.
    const counts = new Map<string, { unit: (typeof requests)[number]; n: number }>();
    for (const r of requests) {
      const k = `${r.kind}:${r.id}`;
      const c = counts.get(k);
      if (c) c.n++;
      else counts.set(k, { unit: r, n: 1 });
    }
    for (const share of [0.01, 0.05, 0.1, 0.25, 0.5, 0.9]) {
      let onCandidate = 0;
      for (const { unit, n } of counts.values()) if (assign(doc('config-assigned-12-lx9', share), unit).arm === 'candidate') onCandidate += n;
      const observed = onCandidate / requests.length;
      deviations[share] = observed - share;
      expect(Math.abs(observed - share)).toBeLessThanOrEqual(0.01);
    }
    // Printed for the record (docs/config-canary.md quotes them).
    process.stdout.write(`share deviation over 100,000 clustered requests: ${JSON.stringify(deviations)}\n`);
  });

  test('the share each unit is assigned with is exact over 100,000 requests of mixed units (caller start, UUIDv7, ULID, opaque, per request)', () => {
    // The balanced step of a 1 % → 10 % → 50 % ramp. Units: a fifth per-request; conversations (1-40 turns, heavy
    // tail) that started before the release or at one of the steps, a quarter each saying when, UUIDv7, ULID, opaque.
    const T0 = Date.UTC(2026, 11, 7, 12);
    const history = [
      { at: T0, share: 0.01 },
      { at: T0 + 600_000, share: 0.1 },
      { at: T0 + 1_200_000, share: 0.5 },
    ];
    const d = { ...doc('config-assigned-16-mix', 0.5), history };
    const random = rng(161);
    const byShare = new Map<number, { n: number; candidate: number }>();
    let requests = 0;
    let conv = 0;
    while (requests < 100_000) {
      let arm: ConfigAssignment;
      let turns = 1;
      if (random() < 0.2) arm = assign(d, { id: `req-${requests}`, kind: 'request' });
      else {
        turns = Math.min(40, 1 + Math.floor(-Math.log(1 - random()) * 4), 100_000 - requests);
        const startedAt = T0 - 300_000 + Math.floor(random() * 1_800_000);
        const kind = conv++ % 4;
        const id = kind === 1 ? uuidv7(startedAt, random) : kind === 2 ? ulid(startedAt, random) : `conv-${String(conv).padStart(6, '0')}`;
        // What the runtime does: the caller's start, else the id's (AssigningRuntime.startOf).
        arm = assign(d, { id, kind: 'conversation' }, kind === 0 ? startedAt : startFromConversationId(id));
      }
      const g = byShare.get(arm.share) ?? { n: 0, candidate: 0 };
      g.n += turns;
      if (arm.arm === 'candidate') g.candidate += turns;
      byShare.set(arm.share, g);
      requests += turns;
    }
    const deviations: Record<string, { requests: number; deviationPp: number }> = {};
    let expected = 0;
    let observed = 0;
    for (const [share, g] of byShare) {
      deviations[share] = { requests: g.n, deviationPp: Math.round((g.candidate / g.n - share) * 10_000) / 100 };
      expected += share * g.n;
      observed += g.candidate;
      if (g.n >= 10_000) expect(Math.abs(g.candidate / g.n - share)).toBeLessThanOrEqual(0.01);
    }
    expect([...byShare.keys()].sort()).toEqual([0, 0.01, 0.1, 0.5]); // every kind of share occurs
    expect(Math.abs(observed - expected) / requests).toBeLessThanOrEqual(0.01); // what the judge is told, in total
    process.stdout.write(`share by assigned share over ${requests} mixed requests: ${JSON.stringify(deviations)}\n`);
  });

  test('shareAt: the share in force when the conversation started, 0 before the release, never above the current one', () => {
    const history = [
      { at: 100, share: 0.1 },
      { at: 200, share: 0.5 },
    ];
    const d = { ...doc('r', 0.5), history };
    expect(shareAt(d, 50)).toBe(0);
    expect(shareAt(d, 150)).toBe(0.1);
    expect(shareAt(d, 250)).toBe(0.5);
    expect(shareAt(d, undefined)).toBe(0.5);
    expect(shareAt({ ...d, share: 0 }, 250)).toBe(0); // rollback wins
    expect(assign({ ...d, share: 0 }, { id: 'x', kind: 'conversation' }, 150).arm).toBe('live');
    expect(defaultConversationStart({ conversationStartedAt: '2026-12-07T00:00:00Z' })).toBe(Date.parse('2026-12-07T00:00:00Z'));
    expect(defaultConversationStart({ conversationStartedAt: 'soon' })).toBeUndefined();
  });

  test('a share document that cannot be used is named field by field', () => {
    expect(shareDocumentProblems({ schemaVersion: 1, releaseKey: 'r', share: 0.1, candidateContentHash: 'h' })).toEqual([]);
    expect(shareDocumentProblems({ schemaVersion: 1, releaseKey: '', share: 0 })).toEqual([]);
    expect(shareDocumentProblems({ schemaVersion: 2, releaseKey: 'r', share: 0 })[0]).toMatch(/schemaVersion/);
    expect(shareDocumentProblems({ schemaVersion: 1, releaseKey: 'r', share: 1.5, candidateContentHash: 'h' })[0]).toMatch(/share is 1.5/);
    expect(shareDocumentProblems({ schemaVersion: 1, releaseKey: 'r', share: 0.2 })[0]).toMatch(/candidateContentHash/);
    expect(shareDocumentProblems('x')[0]).toMatch(/JSON object/);
  });

  test('the conversation id: conversationId, sessionId or the ClientContext; none for anything else', () => {
    expect(defaultConversationId({ conversationId: 'c1', sessionId: 's' })).toBe('c1');
    expect(defaultConversationId({ sessionId: 's' })).toBe('s');
    expect(defaultConversationId('text', { custom: { conversationId: 'cc' } })).toBe('cc');
    expect(defaultConversationId({ conversationId: 7 })).toBeUndefined();
    expect(defaultConversationId({ conversationId: '' })).toBeUndefined();
    expect(defaultConversationId(null)).toBeUndefined();
  });
});

// ---- through the real runtimes ----------------------------------------------------------------------------------

class Recording implements TelemetryPort {
  public readonly lines: { tuple: VersionTuple; assignment?: ConfigAssignment; requestId: string }[] = [];
  public readonly failures: FailureRecord[] = [];
  public readonly warnings: string[] = [];
  invocation(tuple: VersionTuple, requestId: string, _m: InvocationMeasurements, assignment?: ConfigAssignment) {
    this.lines.push({ tuple, requestId, assignment });
  }
  failure(r: FailureRecord) {
    this.failures.push(r);
  }
  warn(m: string) {
    this.warnings.push(m);
  }
  stamp() {}
}

/** A port that serves whatever `content` holds now. */
class Mutable implements ConfigPort {
  constructor(public content: Record<string, unknown>) {}
  async get(profile: string): Promise<ServedConfig> {
    return { content: this.content[profile], version: '1', stale: false };
  }
}

const LIVE = releaseDoc();
const CANDIDATE = releaseDoc({ prompt: { version: '8', template: 'Question: {{question}}', variables: [{ name: 'question' }] } as never });

function setup() {
  const telemetry = new Recording();
  const runtime = (config: ConfigPort) =>
    new AiRuntime<{ question: string; conversationId?: string }, { answer: string }>({
      service: 'svc',
      releaseProfile: 'release',
      degradeProfile: 'flags',
      config,
      telemetry,
      codeVersion: '3',
    });
  const candidateConfig = new Mutable({ release: CANDIDATE, flags: NO_FLAGS });
  const share = new Mutable({ share: NO_RELEASE });
  const assigning = new AssigningRuntime<{ question: string; conversationId?: string }, { answer: string }>({
    live: runtime(new Mutable({ release: LIVE, flags: NO_FLAGS })),
    candidate: runtime(candidateConfig),
    share,
    shareProfile: 'share',
    candidateConfig,
    releaseProfile: 'release',
    telemetry,
  });
  const handler = assigning.handler(async (input, ctx) => ({ output: { answer: `${ctx.config.prompt.version}:${ctx.assignment?.arm}:${input.question}` } }));
  return { telemetry, share, candidateConfig, handler };
}

describe('AssigningRuntime', () => {
  type IdKind = 'opaque' | 'uuidv7' | 'ulid';
  const KINDS: IdKind[] = ['opaque', 'uuidv7', 'ulid'];
  /**
   * A ramp 1 % → 90 % in six steps, 100 s apart, after 100 s without a release. Conversations start before the
   * release (and take turns then) and at every step, and take turns (0-2 per step, interleaved in random order) until
   * the end. A third of them have opaque ids, a third UUIDv7 and a third ULID, minted when they start.
   */
  async function ramp(withStart: boolean) {
    const { telemetry, share, handler } = setup();
    const key = 'config-assigned-8-test';
    const random = rng(3);
    const seen = new Map<string, string[]>();
    const convs = new Map<string, { startedAt: number; step: number; kind: IdKind }>();
    const shares = [0.01, 0.05, 0.1, 0.25, 0.5, 0.9];
    const T0 = Date.UTC(2026, 11, 7, 12);
    const mint = (kind: IdKind, at: number, n: number) => (kind === 'uuidv7' ? uuidv7(at, random) : kind === 'ulid' ? ulid(at, random) : `conv-${n}`);
    const history: { at: number; share: number }[] = [];
    let served = 0;
    let n = 0;
    const turnsOf = async () => {
      const turns: string[] = [];
      for (const id of convs.keys()) for (let k = Math.floor(random() * 3); k > 0; k--) turns.push(id);
      turns.sort(() => random() - 0.5);
      for (const id of turns) {
        const c = convs.get(id)!;
        const input = withStart ? { question: 'q', conversationId: id, conversationStartedAt: c.startedAt } : { question: 'q', conversationId: id };
        const out = await handler(input, { awsRequestId: `r${served++}` });
        seen.set(id, [...(seen.get(id) ?? []), out.answer.split(':')[0]]);
      }
    };
    // Before the release: 300 conversations start and take turns on live (no share document yet).
    for (let c = 0; c < 300; c++) {
      const kind = KINDS[c % 3];
      convs.set(mint(kind, T0 - 60_000 + c, n++), { startedAt: T0 - 60_000 + c, step: -1, kind });
    }
    await turnsOf();
    for (let step = 0; step < shares.length; step++) {
      const at = T0 + step * 100_000;
      history.push({ at, share: shares[step] });
      share.content = { share: { ...doc(key, shares[step], CANDIDATE._release!.contentHash), history: [...history] } };
      // 300 new conversations per step, started once the step has settled (AssigningRuntime.stepSettleMs, 20 s).
      for (let c = 0; c < 300; c++) {
        const kind = KINDS[c % 3];
        convs.set(mint(kind, at + 20_001 + c, n++), { startedAt: at + 20_001 + c, step, kind });
      }
      await turnsOf();
    }
    const mixed = (filter: (c: { step: number; kind: IdKind }) => boolean) =>
      [...seen.entries()].filter(([id, v]) => filter(convs.get(id)!) && new Set(v).size > 1).length;
    const onCandidate = (filter: (c: { step: number; kind: IdKind }) => boolean) => {
      const of = [...seen.entries()].filter(([id]) => filter(convs.get(id)!));
      return of.filter(([, v]) => v.includes('8')).length / of.length;
    };
    return { seen, telemetry, served, key, mixed, onCandidate, convs };
  }

  test('one conversation never sees two configs across a ramp, when it says when it started (property: 2,100 conversations, 3 id kinds)', async () => {
    const { seen, telemetry, served, key, mixed, onCandidate, convs } = await ramp(true);
    expect(convs.size).toBe(2100);
    expect(seen.size).toBeGreaterThan(1900); // a few of the last step's took no turn
    expect(mixed(() => true)).toBe(0);
    // Not vacuous: conversations started at later steps reach the candidate in proportion to the share of their start.
    expect(onCandidate((c) => c.step === -1)).toBe(0); // started before the release: live throughout
    expect(onCandidate((c) => c.step === 5)).toBeGreaterThan(0.82); // ~90 %
    expect(onCandidate((c) => c.step === 2)).toBeGreaterThan(0.04); // ~10 %
    expect(onCandidate((c) => c.step === 2)).toBeLessThan(0.18);
    expect(onCandidate((c) => c.step === 0)).toBeLessThan(0.04); // ~1 %
    // Every EMF document carries the arm, the share it was assigned with, the release key and the cluster id.
    expect(telemetry.lines).toHaveLength(served);
    for (const l of telemetry.lines.filter((x) => x.assignment?.releaseKey !== '')) {
      expect(l.assignment?.releaseKey).toBe(key);
      expect(l.assignment?.unit).toMatch(/^[0-9a-f]{16}$/);
      expect(l.tuple.prompt).toBe(l.assignment?.arm === 'candidate' ? '8' : '7');
    }
  });

  test('without a start time: time-ordered ids keep one config (their start is read from the id); opaque ids never switch at a step', async () => {
    const { seen, mixed, onCandidate, convs } = await ramp(false);
    expect(convs.size).toBe(2100);
    expect(seen.size).toBeGreaterThan(1900);
    // UUIDv7 and ULID: the start is in the id, so they behave as if the caller had said (0 of 1,400).
    expect(mixed((c) => c.kind !== 'opaque')).toBe(0);
    expect(onCandidate((c) => c.kind !== 'opaque' && c.step === -1)).toBe(0);
    expect(onCandidate((c) => c.kind !== 'opaque' && c.step === 5)).toBeGreaterThan(0.82);
    // Opaque ids that started during the release: assigned with the first share (1 %) at every step, so none switches.
    expect(mixed((c) => c.kind === 'opaque' && c.step >= 0)).toBe(0);
    expect(onCandidate((c) => c.kind === 'opaque' && c.step >= 0)).toBeLessThan(0.04); // ~1 %, not the step's share
    // Opaque ids that started before the release: the one switch left, live → candidate at the release's start,
    // with the chance of the first share; measured and printed, bounded by the first share's binomial tail.
    const preSwitched = mixed((c) => c.kind === 'opaque' && c.step === -1);
    for (const arms of seen.values()) {
      const first = arms.indexOf('8');
      if (first >= 0) expect(arms.slice(first).every((a) => a === '8')).toBe(true); // never back
    }
    const count = (f: (c: { step: number; kind: IdKind }) => boolean) => [...seen.keys()].filter((id) => f(convs.get(id)!)).length;
    process.stdout.write(
      `without conversationStartedAt: ${mixed(() => true)} of ${seen.size} conversations saw two configs (${preSwitched} of ${count((c) => c.kind === 'opaque' && c.step === -1)} opaque ones started before the release; ${mixed((c) => c.kind !== 'opaque')} of ${count((c) => c.kind !== 'opaque')} time-ordered; ${mixed((c) => c.kind === 'opaque' && c.step >= 0)} of ${count((c) => c.kind === 'opaque' && c.step >= 0)} opaque started during it)\n`,
    );
    expect(preSwitched).toBeLessThanOrEqual(6); // Binomial(100, 1 %): P(> 6) < 1e-4
    expect(mixed(() => true)).toBe(preSwitched);
  });

  test('rollback to share 0 puts every conversation on live at once; no request id means per-request assignment', async () => {
    const { share, handler, telemetry } = setup();
    share.content = { share: doc('k2', 0.5, CANDIDATE._release!.contentHash) };
    const before = await Promise.all(Array.from({ length: 200 }, (_, i) => handler({ question: 'q' }, { awsRequestId: `req-${i}` })));
    expect(before.filter((o) => o.answer.startsWith('8')).length).toBeGreaterThan(60);
    expect(telemetry.lines.every((l) => l.assignment?.unitKind === 'request')).toBe(true);
    share.content = { share: doc('k2', 0, CANDIDATE._release!.contentHash) };
    const after = await Promise.all(Array.from({ length: 200 }, (_, i) => handler({ question: 'q', conversationId: `c${i}` }, { awsRequestId: `x${i}` })));
    expect(after.every((o) => o.answer.startsWith('7:live'))).toBe(true);
  });

  test('a candidate environment serving other content than the share names keeps the conversation on live, and says so', async () => {
    const { share, handler, telemetry, candidateConfig } = setup();
    share.content = { share: doc('k3', 0.99, CANDIDATE._release!.contentHash) };
    candidateConfig.content = {
      release: releaseDoc({ prompt: { version: '9', template: 'Hi {{question}}', variables: [{ name: 'question' }] } as never }),
      flags: NO_FLAGS,
    };
    const outs = await Promise.all(Array.from({ length: 50 }, (_, i) => handler({ question: 'q', conversationId: `c${i}` }, { awsRequestId: `r${i}` })));
    expect(outs.every((o) => o.answer.startsWith('7:live'))).toBe(true);
    expect(telemetry.lines.filter((l) => l.assignment?.fallback === 'candidate-mismatch').length).toBeGreaterThan(40);
    expect(telemetry.warnings.filter((w) => /serves content/.test(w))).toHaveLength(1); // once, not per request
  });

  test('an unusable share document keeps the last good share; a failed handler still stamps its arm on the failure record', async () => {
    const s2 = setup();
    s2.share.content = { share: doc('k4', 0.99, CANDIDATE._release!.contentHash) };
    await s2.handler({ question: 'q', conversationId: 'a' }, { awsRequestId: 'r1' });
    s2.share.content = { share: { schemaVersion: 1, releaseKey: 'k4', share: 7 } };
    const out = await s2.handler({ question: 'q', conversationId: 'a' }, { awsRequestId: 'r2' });
    expect(out.answer.startsWith('8:candidate')).toBe(true);
    expect(s2.telemetry.warnings.some((w) => /share document is not usable/.test(w))).toBe(true);
    s2.share.content = { share: doc('k4', 0.99, CANDIDATE._release!.contentHash) };
    // A handler that throws: the failure record carries the arm it failed on.
    const failing = new AssigningRuntime<{ question: string; conversationId?: string }, { answer: string }>({
      live: new AiRuntime({
        service: 'svc',
        releaseProfile: 'release',
        degradeProfile: 'flags',
        config: new Mutable({ release: LIVE, flags: NO_FLAGS }),
        telemetry: s2.telemetry,
        codeVersion: '3',
      }),
      candidate: new AiRuntime({
        service: 'svc',
        releaseProfile: 'release',
        degradeProfile: 'flags',
        config: s2.candidateConfig,
        telemetry: s2.telemetry,
        codeVersion: '3',
      }),
      share: s2.share,
      shareProfile: 'share',
      candidateConfig: s2.candidateConfig,
      releaseProfile: 'release',
      telemetry: s2.telemetry,
    });
    await expect(
      failing.invoke(async () => Promise.reject(new Error('model down')), { question: 'q', conversationId: 'a' }, { awsRequestId: 'r3' }),
    ).rejects.toThrow('model down');
    const record = s2.telemetry.failures.at(-1)!;
    expect(record.assignment).toMatchObject({ arm: 'candidate', releaseKey: 'k4', share: 0.99, unitKind: 'conversation' });
  });
});

// ---- the poll: how a share change reaches every execution environment ---------------------------------------------

describe("rollback by share, through the extension poll and the runtime's share reader", () => {
  /** The extension of one execution environment: serves the share as deployed at its last poll (servedAt's model). */
  class PollingExtension implements ConfigFetcher {
    constructor(
      private readonly deployments: { at: number; value: CanaryShareDocument }[],
      private readonly env: { pollPhase: number },
      private readonly m: PropagationModel,
      private readonly clock: () => number,
    ) {}
    async fetch() {
      // The runtime's ConfigCache decides when to ask (its TTL); the extension answers from its last poll.
      const value = servedAt(this.deployments, this.clock() / 1000, { pollPhase: this.env.pollPhase, ttlPhase: 0 }, { ...this.m, ttlSeconds: 0 });
      return { content: value };
    }
  }

  /** 20 environments with random poll phases serve a request a second; share 0.5, then 0 at 600 s. The last candidate request's lag. */
  async function rollbackLag(shareFor: (fetcher: ConfigFetcher, clock: () => number) => ConfigPort & { reads?: number }) {
    const m: PropagationModel = { pollIntervalSeconds: 15, ttlSeconds: 5, environments: 20 };
    const rollbackAt = 600; // seconds
    const deployments = [
      { at: 0, value: doc('k5', 0.5, CANDIDATE._release!.contentHash) },
      { at: rollbackAt, value: doc('k5', 0, CANDIDATE._release!.contentHash) },
    ];
    const random = rng(99);
    let nowMs = 0;
    const clock = () => nowMs;
    const ports: (ConfigPort & { reads?: number })[] = [];
    const envs = Array.from({ length: m.environments }, () => {
      const telemetry = new Recording();
      const candidateConfig = new Mutable({ release: CANDIDATE, flags: NO_FLAGS });
      const share = shareFor(new PollingExtension(deployments, { pollPhase: random() * m.pollIntervalSeconds }, m, clock), clock);
      ports.push(share);
      return new AssigningRuntime<{ conversationId: string }, string>({
        live: { invoke: async (_f, _i, _c, a) => `live:${a?.arm}` },
        candidate: { invoke: async () => 'candidate' },
        share,
        shareProfile: 'share',
        candidateConfig,
        releaseProfile: 'release',
        telemetry,
        now: clock,
      });
    });
    // Each environment serves a request every second, its conversation drawn from 1,000.
    let lastCandidateAt = -1;
    let candidateBefore = 0;
    let readsDuringRelease = 0;
    for (let t = 0; t <= rollbackAt + 60; t++) {
      nowMs = t * 1000 + 1; // just after the second's start
      if (t === rollbackAt) readsDuringRelease = ports.reduce((n, p) => n + (p.reads ?? 0), 0);
      for (const rt of envs) {
        const out = await rt.invoke(async () => ({ output: '' }), { conversationId: `c${Math.floor(random() * 1000)}` }, { awsRequestId: `r${t}` });
        if (out === 'candidate') {
          if (t >= rollbackAt) lastCandidateAt = t;
          else candidateBefore++;
        }
      }
    }
    const readsAfter = ports.reduce((n, p) => n + (p.reads ?? 0), 0) - readsDuringRelease;
    expect(candidateBefore).toBeGreaterThan(0.4 * rollbackAt * m.environments); // the canary really served ~50 %
    expect(lastCandidateAt).toBeGreaterThanOrEqual(rollbackAt); // the model has a lag at all (not instant by construction)
    return { lag: lastCandidateAt - rollbackAt, m, readsDuringRelease, readsAfter };
  }

  test('takes effect within one poll interval in every environment: the share is read through while a release runs (20 environments, random phases)', async () => {
    const now = await rollbackLag((f, clock) => new ShareReader(f, { idleTtlMs: 5000, now: clock }));
    // Before this branch the share had the runtime's 5-s TTL on top of the poll: the same traffic, for the record.
    const before = await rollbackLag((f, clock) => new ConfigCache(f, 5000, { now: clock }));
    process.stdout.write(
      `share-0 rollback: last candidate request ${now.lag} s after the deployment, read through (poll ${now.m.pollIntervalSeconds} s); ${before.lag} s with the 5-s TTL cache\n`,
    );
    expect(now.lag).toBeLessThan(now.m.pollIntervalSeconds); // one poll interval (whole-second requests: < 15)
    expect(before.lag).toBeLessThan(before.m.pollIntervalSeconds + before.m.ttlSeconds);
    // What it costs: one read per request while the share is above 0 (600 s x 20 environments, less the first
    // seconds, until each extension's first poll plus the idle TTL: at most 20 s each) ...
    expect(now.readsDuringRelease).toBeLessThanOrEqual(600 * 20);
    expect(now.readsDuringRelease).toBeGreaterThanOrEqual((600 - 20) * 20);
    // ... and after the rollback (share 0, no release) at most one per idle TTL per environment, plus the read that saw 0.
    expect(now.readsAfter).toBeLessThanOrEqual(20 * (Math.ceil(60 / 5) + 1) + 20 * 15);
  });

  test('ShareReader: an idle document is kept for its TTL, a failed read keeps the last good one and waits before trying again', async () => {
    let nowMs = 0;
    let content: unknown = doc('k6', 0);
    let fail = false;
    const fetcher: ConfigFetcher = {
      fetch: async () => {
        if (fail) throw new Error('extension down');
        return { content };
      },
    };
    const r = new ShareReader(fetcher, { idleTtlMs: 5000, now: () => nowMs });
    await expect(new ShareReader({ fetch: async () => Promise.reject(new Error('no')) }).get('s')).rejects.toThrow(/cannot read config profile s/);
    expect((await r.get('s')).content).toEqual(doc('k6', 0));
    nowMs = 4000;
    content = doc('k6', 0.1);
    expect((await r.get('s')).content).toEqual(doc('k6', 0)); // idle: kept for 5 s
    expect(r.reads).toBe(1);
    nowMs = 5000;
    expect((await r.get('s')).content).toEqual(doc('k6', 0.1)); // a release runs from here: every get reads
    nowMs = 5001;
    content = doc('k6', 0);
    expect(r.fresh('s')).toBeUndefined();
    expect((await r.get('s')).content).toEqual(doc('k6', 0)); // the rollback, seen at the next request
    expect(r.reads).toBe(3);
    content = doc('k6', 0.5);
    nowMs = 11_000;
    await r.get('s');
    fail = true;
    nowMs = 11_001;
    const stale = await r.get('s');
    expect(stale).toMatchObject({ content: doc('k6', 0.5), stale: true });
    nowMs = 12_000;
    expect(await r.get('s')).toMatchObject({ stale: true }); // not retried within 5 s of the failure
    expect(r.reads).toBe(5);
    fail = false;
    nowMs = 16_002;
    expect(await r.get('s')).toMatchObject({ stale: false });
    expect(r.reads).toBe(6);
  });

  test('servedAt: a value deployed at t is served from the first poll after t, then the first read after that', () => {
    const m: PropagationModel = { pollIntervalSeconds: 15, ttlSeconds: 5, environments: 1 };
    const d = [
      { at: 0, value: 'old' },
      { at: 100, value: 'new' },
    ];
    const env = { pollPhase: 7, ttlPhase: 2 }; // polls at 97, 112; reads at 97, 102, 107, 112, 117
    expect(servedAt(d, 99, env, m)).toBe('old');
    expect(servedAt(d, 111, env, m)).toBe('old'); // read at 107 saw the poll at 97
    expect(servedAt(d, 112, env, m)).toBe('new'); // read at 112 sees the poll at 112
    expect(servedAt(d, 50, { pollPhase: 0, ttlPhase: 0 }, { ...m, ttlSeconds: 0 })).toBe('old');
    expect(servedAt(d, -1, env, m)).toBeUndefined();
  });
});

describe('createAiRuntime wires the assignment from the environment ConfigShare.bind sets (loopback extension)', () => {
  test('live, candidate and share document each come from their own environment; the gate alias still reads the candidate', async () => {
    const http = await import('node:http');
    const share = { ...doc('config-assigned-8-env', 0.5, CANDIDATE._release!.contentHash) };
    const routes: Record<string, unknown> = {
      '/applications/app/environments/live/configurations/rel': LIVE,
      '/applications/app/environments/cand/configurations/rel': CANDIDATE,
      '/applications/app/environments/degenv/configurations/deg': NO_FLAGS,
      '/applications/app/environments/shr/configurations/shp': share,
    };
    const hits = new Set<string>();
    const server = http.createServer((req, res) => {
      hits.add(req.url ?? '');
      const body = routes[req.url ?? ''];
      if (body === undefined) res.writeHead(404).end('not found');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { createAiRuntime } = await import('../lambda/runtime');
    try {
      const telemetry = new Recording();
      const rt = createAiRuntime<{ question: string; conversationId?: string }, { answer: string }>({
        env: {
          AI_RELEASE_SERVICE: 's',
          AI_RELEASE_APPCONFIG_APPLICATION: 'app',
          AI_RELEASE_APPCONFIG_ENVIRONMENT: 'live',
          AI_RELEASE_CONFIG_PROFILE: 'rel',
          AI_RELEASE_DEGRADE_PROFILE: 'deg',
          AI_RELEASE_DEGRADE_ENVIRONMENT: 'degenv',
          AI_RELEASE_APPCONFIG_CANDIDATE_ENVIRONMENT: 'cand',
          AI_RELEASE_APPCONFIG_SHARE_ENVIRONMENT: 'shr',
          AI_RELEASE_SHARE_PROFILE: 'shp',
          AWS_APPCONFIG_EXTENSION_HTTP_PORT: String((server.address() as { port: number }).port),
        },
        telemetry,
        candidateTelemetry: telemetry,
      });
      const fn = async (_i: unknown, ctx: { config: { prompt: { version: string } }; assignment?: ConfigAssignment }) => ({
        output: { answer: `${ctx.config.prompt.version}:${ctx.assignment?.arm ?? 'none'}` },
      });
      const answers = new Map<string, Set<string>>();
      for (let turn = 0; turn < 3; turn++)
        for (let c = 0; c < 60; c++) {
          const out = await rt.invoke(fn as never, { question: 'q', conversationId: `c${c}` }, { awsRequestId: `r${turn}-${c}` });
          answers.set(`c${c}`, (answers.get(`c${c}`) ?? new Set()).add(out.answer));
        }
      const all = [...answers.values()];
      expect(all.every((s) => s.size === 1)).toBe(true);
      expect(all.filter((s) => s.has('8:candidate')).length).toBeGreaterThan(15);
      expect(all.filter((s) => s.has('7:live')).length).toBeGreaterThan(15);
      expect([...hits].sort()).toEqual(Object.keys(routes).sort());
      // Through the gate alias: the config gate's replay reads the candidate, unassigned.
      const gate = await rt.invoke(
        fn as never,
        { question: 'q', conversationId: 'c1' },
        { awsRequestId: 'g', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f:gate' },
      );
      expect(gate.answer).toBe('8:none');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('the assignment on stdout (Powertools): EMF metadata, log lines and failure records', () => {
  test('every EMF document and log line of an assigned invocation carries the arm; the next unassigned one carries none', async () => {
    const { PowertoolsTelemetry } = await import('../lambda/runtime/powertools-telemetry');
    const lines: string[] = [];
    const grab = ((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
      return true;
    }) as typeof process.stdout.write;
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
    try {
      const telemetry = new PowertoolsTelemetry('svc');
      const config = new Mutable({ release: LIVE, flags: NO_FLAGS });
      const candidateConfig = new Mutable({ release: CANDIDATE, flags: NO_FLAGS });
      const runtime = (c: ConfigPort) =>
        new AiRuntime<{ conversationId?: string }, { answer: string }>({
          service: 'svc',
          releaseProfile: 'release',
          degradeProfile: 'flags',
          config: c,
          telemetry,
          codeVersion: '3',
        });
      const assigning = new AssigningRuntime<{ conversationId?: string }, { answer: string }>({
        live: runtime(config),
        candidate: runtime(candidateConfig),
        share: new Mutable({ share: doc('config-assigned-8-emf', 0.999999, CANDIDATE._release!.contentHash) }),
        shareProfile: 'share',
        candidateConfig,
        releaseProfile: 'release',
        telemetry,
      });
      // Output breaks the contract (no `answer`): a failure record is written too.
      await assigning.invoke(
        async (_i, ctx) => {
          telemetry.logger.info('handler line');
          return { output: { wrong: ctx.assignment?.arm } as never };
        },
        { conversationId: 'conv-1' },
        { awsRequestId: 'req-a' },
      );
      await runtime(config).invoke(
        async () => {
          telemetry.logger.info('unassigned line');
          return { output: { answer: 'ok' } };
        },
        {},
        { awsRequestId: 'req-b' },
      );
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const docs = lines.map((l) => JSON.parse(l));
    const emf = docs.filter((d) => d._aws);
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({
      assignmentArm: 'candidate',
      assignmentReleaseKey: 'config-assigned-8-emf',
      assignmentShare: '0.999999',
      assignmentUnitKind: 'conversation',
    });
    expect(emf[0].assignmentUnit).toMatch(/^[0-9a-f]{16}$/);
    expect(emf[1].assignmentArm).toBeUndefined();
    const handlerLine = docs.find((d) => d.message === 'handler line');
    expect(handlerLine.assignment).toMatchObject({ arm: 'candidate', unit: emf[0].assignmentUnit });
    const failure = docs.find((d) => d.type === 'ai-release.failure');
    expect(failure.assignment).toMatchObject({ arm: 'candidate', releaseKey: 'config-assigned-8-emf' });
    expect(docs.find((d) => d.message === 'unassigned line').assignment).toBeUndefined();
  });
});
