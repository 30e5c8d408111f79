/**
 * The evaluation budget: spend per release and per UTC day, never exceeded. Pure arithmetic over a ledger the
 * handler keeps (in the regression store, one object per service, updated by compare-and-swap).
 *
 * A call is admitted only when its worst-case cost (input tokens estimated from the text, output at maxTokens) still
 * fits both caps; the ledger is then charged the actual cost from the response's usage, which is never more than the
 * worst case. So spend ≤ cap holds whatever the evaluator answers.
 *
 * Which release a sample's spend belongs to (issue 17, h5-evtrust): the release IN PROGRESS, keyed by the version
 * tuple the manifest records (code version and config label). A release is in progress while answers of two version
 * tuples arrive within RELEASE_WINDOW_MS of each other (a canary on either plane serves both; after promotion or
 * rollback one tuple is left); the release is the newer of them (first seen later). Both arms' samples are charged to
 * it, so the stable arm's scores during a canary come out of the release's budget too. Outside a release (one tuple),
 * only the day cap applies: the steady state is the day budget's. A caller may name the release instead (`releaseKey`,
 * e.g. a gate replay), which is then charged whatever the tuples say.
 */
import { sha256Hex } from '../shared/canonical-json';
import type { VersionTuple } from '../shared/contract';

/** USD per 1,000 tokens, the `pricing` shape of the release config. */
export interface Prices {
  readonly inputPer1kTokensUsd: number;
  readonly outputPer1kTokensUsd: number;
}

/** How long after its last answer a version tuple still counts as serving, for telling a release in progress. */
export const RELEASE_WINDOW_MS = 15 * 60_000;
/** Most tuples and releases a ledger remembers (the oldest go first). */
const MAX_TUPLES = 16;
const MAX_RELEASES = 32;

/** What one release has spent, and whether (when, by which cap) its sampling stopped. */
export interface ReleaseSpend {
  readonly spentUsd: number;
  readonly firstSeen: string;
  /** The tuple's code version and config label, when the release was told from the tuples (the review finds it by them). */
  readonly codeVersion?: string;
  readonly config?: string;
  /** Set once a cap refused one of the release's samples: the review says sampling stopped, and when. */
  readonly stoppedAt?: string;
  readonly stoppedBy?: 'release' | 'day';
  /**
   * Set once the throttle refused one of the release's samples (the spend passed THROTTLE_FROM of a cap): from then on
   * both arms were scored at the same falling rate, by case-id hash. `lowestRate` is the lowest rate applied.
   */
  readonly throttledAt?: string;
  readonly throttledBy?: 'release' | 'day';
  readonly lowestRate?: number;
}

export interface Ledger {
  readonly schemaVersion: 2;
  /** UTC day (YYYY-MM-DD) the day's spend belongs to. */
  readonly day: string;
  readonly daySpentUsd: number;
  /** Set once the day cap refused a call today. */
  readonly dayStoppedAt?: string;
  /** Version tuples seen recently, by key (`tupleKey`). */
  readonly tuples: Readonly<Record<string, { readonly firstSeen: string; readonly lastSeen: string; readonly codeVersion: string; readonly config: string }>>;
  readonly releases: Readonly<Record<string, ReleaseSpend>>;
}

export interface Caps {
  readonly perReleaseUsd: number;
  readonly perDayUsd: number;
}

export function costUsd(prices: Prices, inputTokens: number, outputTokens: number): number {
  return (inputTokens / 1000) * prices.inputPer1kTokensUsd + (outputTokens / 1000) * prices.outputPer1kTokensUsd;
}

/**
 * Tokens a text will take at most, for admission. Bedrock models use roughly 4 characters per token for English;
 * scripts without spaces use more tokens per character, so this counts every non-ASCII character as a token.
 */
export function estimateInputTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3) + other + 16;
}

/** The key of a release told from its tuple: the code version (and code hash) and the config label. */
export function tupleKey(t: Pick<VersionTuple, 'codeVersion' | 'codeHash' | 'config'>): string {
  return `code-${t.codeVersion}${t.codeHash ? `-${t.codeHash}` : ''}+config-${t.config}`;
}

export function newLedger(now: Date): Ledger {
  return { schemaVersion: 2, day: now.toISOString().slice(0, 10), daySpentUsd: 0, tuples: {}, releases: {} };
}

/**
 * A stored ledger as this version reads it. A ledger of the first format (one release slot keyed by service and day)
 * keeps its day spend; its release slot was a day, not a release, and is dropped.
 */
export function readLedger(raw: unknown, now: Date): Ledger {
  const l = raw as Partial<Ledger> & { releaseKey?: unknown; stoppedBy?: unknown; stoppedAt?: unknown };
  if (!l || typeof l !== 'object') return newLedger(now);
  if (l.schemaVersion === 2) return l as Ledger;
  return {
    ...newLedger(now),
    day: typeof l.day === 'string' ? l.day : now.toISOString().slice(0, 10),
    daySpentUsd: typeof l.daySpentUsd === 'number' ? l.daySpentUsd : 0,
    ...(l.stoppedBy === 'day' && typeof l.stoppedAt === 'string' ? { dayStoppedAt: l.stoppedAt } : {}),
  };
}

/** Rolls the day over (a new day starts its own spend). */
export function currentLedger(l: Ledger, now: Date): Ledger {
  const day = now.toISOString().slice(0, 10);
  if (l.day === day) return l;
  const { dayStoppedAt: _gone, ...rest } = l;
  return { ...rest, day, daySpentUsd: 0 };
}

const newest = <T>(entries: [string, T][], n: number, by: (v: T) => string) =>
  Object.fromEntries(entries.sort((a, b) => (by(a[1]) < by(b[1]) ? 1 : by(a[1]) > by(b[1]) ? -1 : 0)).slice(0, n));

/**
 * Records that an answer of `tuple` was produced at `at`, and says which release it is charged to: the release in
 * progress (see the module comment), or undefined in the steady state.
 */
export function observeTuple(l: Ledger, tuple: Pick<VersionTuple, 'codeVersion' | 'codeHash' | 'config'>, at: Date): { ledger: Ledger; releaseKey?: string } {
  const key = tupleKey(tuple);
  const iso = at.toISOString();
  const old = l.tuples[key];
  const seen = {
    firstSeen: old && old.firstSeen < iso ? old.firstSeen : iso,
    lastSeen: old && old.lastSeen > iso ? old.lastSeen : iso,
    codeVersion: tuple.codeVersion,
    config: tuple.config,
  };
  const tuples = newest(Object.entries({ ...l.tuples, [key]: seen }), MAX_TUPLES, (v) => v.lastSeen);
  const from = new Date(at.getTime() - RELEASE_WINDOW_MS).toISOString();
  const serving = Object.entries(tuples).filter(([, v]) => v.lastSeen >= from);
  let ledger: Ledger = { ...l, tuples };
  if (serving.length < 2) return { ledger };
  const [releaseKey, t] = serving.reduce((a, b) => (b[1].firstSeen > a[1].firstSeen ? b : a));
  if (!ledger.releases[releaseKey])
    ledger = withRelease(ledger, releaseKey, { spentUsd: 0, firstSeen: t.firstSeen, codeVersion: t.codeVersion, config: t.config });
  return { ledger, releaseKey };
}

function withRelease(l: Ledger, key: string, r: ReleaseSpend): Ledger {
  return { ...l, releases: newest(Object.entries({ ...l.releases, [key]: r }), MAX_RELEASES, (v) => v.firstSeen) };
}

/** A named release (not told from tuples) gets its entry on first use. */
export function ensureRelease(l: Ledger, releaseKey: string, now: Date): Ledger {
  return l.releases[releaseKey] ? l : withRelease(l, releaseKey, { spentUsd: 0, firstSeen: now.toISOString() });
}

export type Admission = { readonly admit: true } | { readonly admit: false; readonly by: 'release' | 'day'; readonly ledger: Ledger };

/**
 * Share of a cap spent (reservations included) from which the admission rate falls (issue 17 A, h8-detjudge): the
 * rate is 1 up to here, then falls linearly to 0 at the cap, so a release's spend approaches its cap like an
 * exponential (each admitted sample lowers the rate of the next) instead of running into it mid-canary.
 */
export const THROTTLE_FROM = 0.5;

/** The admission rate a cap allows at a spend: 1 up to THROTTLE_FROM of the cap, then (1 - x) / (1 - THROTTLE_FROM). */
export function admissionRate(spentUsd: number, capUsd: number): number {
  if (!(capUsd > 0)) return 0;
  const x = spentUsd / capUsd;
  return x <= THROTTLE_FROM ? 1 : Math.max(0, (1 - x) / (1 - THROTTLE_FROM));
}

/**
 * A uniform number in [0, 1) from a sample's unit (its case id) and a salt (the release, or the day): the throttle
 * admits a sample when this is under the rate. It depends on the input only, never on the version that answered, so
 * at any time both arms are admitted at the same rate; the salt draws a fresh subset of inputs per release.
 */
export function admissionUnit(salt: string, unit: string): number {
  return Number.parseInt(sha256Hex(`evaluation-admission\n${salt}\n${unit}`).slice(0, 13), 16) / 2 ** 52;
}

/** The admission rate for a claim charged to `releaseKey` (or to the day only), and which cap sets it. */
export function claimRate(l: Ledger, caps: Caps, releaseKey?: string): { readonly rate: number; readonly by: 'release' | 'day' } {
  const r = releaseKey ? l.releases[releaseKey] : undefined;
  const day = admissionRate(l.daySpentUsd, caps.perDayUsd);
  const rel = r ? admissionRate(r.spentUsd, caps.perReleaseUsd) : 1;
  return rel < day ? { rate: rel, by: 'release' } : { rate: day, by: 'day' };
}

/**
 * Whether a call of `worstCaseUsd` fits the caps; a refusal returns the ledger with the stop recorded. A release (or
 * day) whose stop was recorded admits nothing more, however small the claim: otherwise the small claims (unpaired
 * answers, the stable arm's) would go on fitting where the large ones (a canary's paired answers) no longer do, and
 * the canary would lose its scores first.
 */
export function admit(l: Ledger, caps: Caps, worstCaseUsd: number, now: Date, releaseKey?: string): Admission {
  const r = releaseKey ? l.releases[releaseKey] : undefined;
  const by =
    r && (r.stoppedAt !== undefined || r.spentUsd + worstCaseUsd > caps.perReleaseUsd)
      ? 'release'
      : l.dayStoppedAt !== undefined || l.daySpentUsd + worstCaseUsd > caps.perDayUsd
        ? 'day'
        : undefined;
  if (!by) return { admit: true };
  // The ledger changes only when a stop is recorded for the first time (so a refusal usually writes nothing).
  const at = now.toISOString();
  let ledger: Ledger = by === 'day' && !l.dayStoppedAt ? { ...l, dayStoppedAt: at } : l;
  if (r && releaseKey && !r.stoppedAt) ledger = { ...ledger, releases: { ...ledger.releases, [releaseKey]: { ...r, stoppedAt: at, stoppedBy: by } } };
  return { admit: false, by, ledger };
}

/** Charges (or, negative, refunds) the day and the release; never below zero. */
export function charge(l: Ledger, usd: number, releaseKey?: string): Ledger {
  const r = releaseKey ? l.releases[releaseKey] : undefined;
  // A refund that crosses a day boundary must not leave a negative spend behind.
  const out: Ledger = { ...l, daySpentUsd: Math.max(0, l.daySpentUsd + usd) };
  return r && releaseKey ? { ...out, releases: { ...out.releases, [releaseKey]: { ...r, spentUsd: Math.max(0, r.spentUsd + usd) } } } : out;
}

/**
 * The ledger entry of the release a review is about: the first one (the release that brought it in) whose code
 * version (code plane) or config label (config plane) is the release's new one.
 */
export function releaseEntryFor(l: Ledger, plane: 'code' | 'config', to: string): { key: string; spend: ReleaseSpend } | undefined {
  const found = Object.entries(l.releases)
    .filter(([, r]) => (plane === 'code' ? r.codeVersion === to : r.config === to))
    .sort((a, b) => (a[1].firstSeen < b[1].firstSeen ? -1 : 1))[0];
  return found ? { key: found[0], spend: found[1] } : undefined;
}

/** One sample's claim in a batch reservation: its tuple and answer time (which release it is charged to) and its worst case. */
export interface BatchClaim {
  readonly tuple: Pick<VersionTuple, 'codeVersion' | 'codeHash' | 'config'>;
  readonly at: Date;
  readonly worstCaseUsd: number;
  /**
   * The sample's unit for the throttle (its case id): admitted only while `admissionUnit(release or day, unit)` is
   * under the rate the caps allow (`claimRate`). Absent: no throttle, the caps alone decide.
   */
  readonly unit?: string;
}

export type BatchGrant =
  | { readonly admit: true; readonly releaseKey?: string }
  | { readonly admit: false; readonly by: 'release' | 'day'; readonly releaseKey?: string; readonly throttled?: true };

/**
 * Reserves for a whole delivery batch in ONE ledger update (issue 17, h7-evaluator): the claims are observed in answer
 * order (so the release each is charged to is told as one by one), and each is admitted only while its worst case
 * still fits both caps after the claims admitted before it; admitted worst cases are charged at once. So the sum of
 * what a batch may spend is under the caps whatever its samples then cost, and the caps hold across concurrent
 * batches because each batch's update is one compare-and-swap. `recordStop` records a refusal as a stop (the review
 * reports it); a caller that will retry the refused claims after its refund passes false the first time.
 *
 * Version-independent skips (issue 17 A, h8-detjudge): a claim with a `unit` passes the throttle first (admitted while
 * its unit's hash is under the rate the spend allowed before the batch, the same rate for both arms at any time); and
 * once a cap refused
 * a claim of the batch, every later claim charged to that cap is refused too, whatever its size: a skip never depends
 * on how expensive the arm's samples are.
 */
export function reserveBatch(
  l: Ledger,
  caps: Caps,
  claims: readonly BatchClaim[],
  now: Date,
  options: { readonly named?: string; readonly recordStop: boolean },
): { readonly ledger: Ledger; readonly grants: readonly BatchGrant[] } {
  const order = claims.map((_, i) => i).sort((a, b) => claims[a].at.getTime() - claims[b].at.getTime() || a - b);
  const grants: BatchGrant[] = new Array(claims.length);
  let ledger = l;
  const refusedReleases = new Set<string>();
  let dayRefused = false;
  for (const i of order) {
    const c = claims[i];
    let releaseKey: string | undefined;
    if (options.named) {
      releaseKey = options.named;
      ledger = ensureRelease(ledger, releaseKey, now);
    } else {
      const o = observeTuple(ledger, c.tuple, c.at);
      ledger = o.ledger;
      releaseKey = o.releaseKey;
    }
    const key = releaseKey ? { releaseKey } : {};
    if (dayRefused || (releaseKey !== undefined && refusedReleases.has(releaseKey))) {
      grants[i] = { admit: false, by: dayRefused ? 'day' : 'release', ...key };
      continue;
    }
    if (c.unit !== undefined) {
      // The rate as the ledger stood before this batch: one rate for all of the batch's claims, so a batch dense with
      // expensive claims (a canary's pairs) does not lower the rate of its own later samples.
      const t = claimRate(l, caps, releaseKey);
      if (t.rate < 1 && !(admissionUnit(releaseKey ?? `day-${ledger.day}`, c.unit) < t.rate)) {
        grants[i] = { admit: false, by: t.by, throttled: true, ...key };
        const r = releaseKey ? ledger.releases[releaseKey] : undefined;
        if (r && releaseKey && (r.throttledAt === undefined || (r.lowestRate ?? 1) > t.rate))
          ledger = {
            ...ledger,
            releases: {
              ...ledger.releases,
              [releaseKey]: {
                ...r,
                throttledAt: r.throttledAt ?? now.toISOString(),
                throttledBy: r.throttledBy ?? t.by,
                lowestRate: Math.min(r.lowestRate ?? 1, t.rate),
              },
            },
          };
        continue;
      }
    }
    const a = admit(ledger, caps, c.worstCaseUsd, now, releaseKey);
    if (a.admit) {
      ledger = charge(ledger, c.worstCaseUsd, releaseKey);
      grants[i] = { admit: true, ...key };
    } else {
      if (options.recordStop) ledger = a.ledger;
      if (a.by === 'day') dayRefused = true;
      else if (releaseKey !== undefined) refusedReleases.add(releaseKey);
      grants[i] = { admit: false, by: a.by, ...key };
    }
  }
  return { ledger, grants };
}

/** Gives back what a batch's admitted claims did not spend (worst case − actual, per release), in one ledger update. */
export function settleBatch(l: Ledger, refunds: readonly { readonly releaseKey?: string; readonly usd: number }[]): Ledger {
  return refunds.reduce((acc, r) => (r.usd === 0 ? acc : charge(acc, -r.usd, r.releaseKey)), l);
}
