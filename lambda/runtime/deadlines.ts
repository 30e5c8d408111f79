/**
 * The invocations' deadlines on one timer (h12-hot, issue 17 B). A setTimeout and a clearTimeout per invocation cost a
 * Timeout object, a timer list made and dropped and the loop's timer re-armed, on every request, for a deadline that
 * almost never fires. Here the timer is armed for the earliest deadline waiting and re-armed only when a deadline
 * comes earlier than the one it is armed for, or it is overdue; an invocation that ends only leaves the set. In steady
 * traffic (one function timeout, so later invocations have later deadlines) that is one setTimeout per timeout period.
 *
 * The same behaviour as a timer per invocation: the deadline fires `ms` after `watch` (on the monotonic clock the
 * timers use, performance.now, never the runtime's injectable `now`), and the timer holds the event loop open while a
 * deadline waits (ref'd), as each invocation's own timer did, and not when none waits (unref'd). Pure Node.js.
 */

/** One waiting deadline. */
export interface Deadline {
  readonly at: number;
  readonly expire: () => void;
}

/**
 * Timers of libuv fire by its loop clock, whole milliseconds taken at the start of the loop's iteration, so a timer may
 * fire up to a millisecond before performance.now reaches its due time: deadlines that close count as reached (a timer
 * per invocation fired with the same granularity).
 */
const GRANULARITY_MS = 1;

export class Deadlines {
  private readonly waiting = new Set<Deadline>();
  private timer?: ReturnType<typeof setTimeout>;
  /** When the timer is due (performance.now). */
  private due = 0;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** `expire` runs once, `ms` from now, unless `done` is called first. `ms` > 0. */
  public watch(ms: number, expire: () => void): Deadline {
    const now = this.clock();
    const d: Deadline = { at: now + ms, expire };
    this.waiting.add(d);
    if (this.timer === undefined || !(now < this.due && this.due <= d.at)) this.arm(d.at, now);
    else if (this.waiting.size === 1) this.timer.ref();
    return d;
  }

  /** The invocation ended: its deadline no longer waits. */
  public done(d: Deadline): void {
    if (this.waiting.delete(d) && this.waiting.size === 0) this.timer?.unref();
  }

  /** How many deadlines wait (for tests). */
  public get size(): number {
    return this.waiting.size;
  }

  private arm(at: number, now: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(this.fire, Math.max(1, at - now));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = this.clock();
    const expired: Deadline[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.waiting) {
      if (d.at <= now + GRANULARITY_MS) expired.push(d);
      else if (d.at < next) next = d.at;
    }
    for (const d of expired) this.waiting.delete(d);
    if (this.waiting.size > 0) this.arm(next, now);
    // Each expires, whatever another one throws; the first throw is rethrown (from the timer, as a timer per
    // invocation threw it).
    let failure: { error: unknown } | undefined;
    for (const d of expired) {
      try {
        d.expire();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  };
}

/** The process's deadlines: every runtime of a service shares the one timer, as they share the event loop. */
export const deadlines = new Deadlines();
