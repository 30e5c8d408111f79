import { Deadlines } from '../lambda/runtime/deadlines';

/**
 * The invocations' deadlines on one timer (h12-hot): each fires when a timer of its own would have, never before and
 * never for an invocation that ended; one setTimeout serves steady traffic; the loop is held open only while one waits.
 */
describe('Deadlines', () => {
  // The fake clock: Date.now moves with the fake timers (and alone with setSystemTime).
  const clock = () => Date.now();
  const advance = (ms: number) => jest.advanceTimersByTime(ms);
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test.each([
    ['one deadline', [{ start: 0, ms: 100, endAt: undefined }], [100]],
    ['ended before its deadline: never fires', [{ start: 0, ms: 100, endAt: 99 }], [undefined]],
    [
      'a later one, then an earlier one (the timer re-armed for it)',
      [
        { start: 0, ms: 1000, endAt: undefined },
        { start: 5, ms: 10, endAt: undefined },
      ],
      [1000, 15],
    ],
    [
      'an earlier one, then later ones (no re-arm needed): each at its own time',
      [
        { start: 0, ms: 50, endAt: undefined },
        { start: 10, ms: 100, endAt: undefined },
        { start: 20, ms: 300, endAt: 200 },
      ],
      [50, 110, undefined],
    ],
  ] as [string, { start: number; ms: number; endAt?: number }[], (number | undefined)[]][])('%s', (_name, calls, expected) => {
    const d = new Deadlines(clock);
    const fired: (number | undefined)[] = calls.map(() => undefined);
    const events = [
      ...calls.map((c, i) => ({ at: c.start, run: () => Object.assign(calls[i], { handle: d.watch(c.ms, () => (fired[i] = Date.now())) }) })),
      ...calls.flatMap((c, i) => (c.endAt === undefined ? [] : [{ at: c.endAt, run: () => d.done((calls[i] as unknown as { handle: never }).handle) }])),
    ].sort((a, b) => a.at - b.at);
    for (const e of events) {
      advance(e.at - Date.now());
      e.run();
    }
    advance(2000);
    expect(fired).toEqual(expected);
    expect(d.size).toBe(0);
  });

  test('steady traffic (10,000 invocations of 1 ms, 30-s deadlines): at most one setTimeout per deadline period, none fired', () => {
    const d = new Deadlines(clock);
    const spy = jest.spyOn(globalThis, 'setTimeout');
    let expired = 0;
    for (let i = 0; i < 10_000; i++) {
      const h = d.watch(30_000, () => expired++);
      advance(1);
      d.done(h);
      advance(1);
    }
    expect(expired).toBe(0);
    // 20 s of traffic: the first arm, no other.
    expect(spy.mock.calls.length).toBe(1);
    spy.mockRestore();
  });

  test('a clock that moved on while the timer did not fire (an overdue timer): the next deadline re-arms and fires on time', () => {
    const d = new Deadlines(clock);
    d.done(d.watch(29_500, () => undefined));
    jest.setSystemTime(600_000); // the clock moves, no timer runs
    let at: number | undefined;
    d.watch(5_000, () => (at = Date.now()));
    advance(4_999);
    expect(at).toBeUndefined();
    advance(1);
    expect(at).toBe(605_000);
  });

  test('every expired deadline runs though one throws; the first throw is rethrown from the timer', () => {
    const d = new Deadlines(clock);
    const ran: string[] = [];
    d.watch(10, () => {
      ran.push('a');
      throw new Error('first');
    });
    d.watch(10, () => ran.push('b'));
    expect(() => advance(10)).toThrow('first');
    expect(ran).toEqual(['a', 'b']);
    expect(d.size).toBe(0);
  });
});

describe('Deadlines on the real loop', () => {
  test('the timer holds the loop open while a deadline waits (ref), not after the last ends (unref), and fires on time', async () => {
    const d = new Deadlines();
    const timer = () => (d as unknown as { timer?: NodeJS.Timeout }).timer;
    const h = d.watch(10_000, () => undefined);
    expect(timer()?.hasRef()).toBe(true);
    d.done(h);
    expect(timer()?.hasRef()).toBe(false);
    // Waiting again on the same (still armed) timer refs it again.
    const h2 = d.watch(20_000, () => undefined);
    expect(timer()?.hasRef()).toBe(true);
    d.done(h2);
    const t0 = performance.now();
    const firedAfter = await new Promise<number>((resolve) => d.watch(30, () => resolve(performance.now() - t0)));
    expect(firedAfter).toBeGreaterThanOrEqual(29);
    expect(firedAfter).toBeLessThan(1000);
  });
});
