/**
 * The shared judge's routing, pure (lambda/canary-judge/service-input.ts): the schedule leaves a pointer per deployment
 * in progress; the hook waits for it on a fake clock; a pointer that cannot be written never fails the schedule.
 */
import type { Clock, DeploymentsPort } from '../lambda/canary-judge/canary-judge';
import { awaitPointer, isServiceInput, type PointerPort, serviceSettings, withPointers } from '../lambda/canary-judge/service-input';

function memoryPointers(failWrites = false): PointerPort & { store: Map<string, Record<string, string>> } {
  const store = new Map<string, Record<string, string>>();
  return {
    store,
    async read(id) {
      return store.get(id);
    },
    async write(id, settings) {
      if (failWrites) throw new Error('AccessDenied');
      store.set(id, { ...settings });
    },
  };
}

const deployments = (ids: string[]): DeploymentsPort => ({
  inProgress: async () => ids,
  describe: async () => {
    throw new Error('not called');
  },
  answerHook: async () => {},
});

function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('the schedule leaves a pointer to its settings for every deployment in progress', () => {
  test.each([[[]], [['d-1']], [['d-1', 'd-2', 'd-3']]])('deployments %j', async (ids) => {
    const pointers = memoryPointers();
    const settings = { AI_RELEASE_JUDGE_SERVICE: 'alpha' };
    const out = await withPointers(deployments(ids), pointers, settings, () => {}).inProgress();
    expect(out).toEqual(ids);
    expect([...pointers.store.keys()]).toEqual(ids);
    for (const id of ids) expect(pointers.store.get(id)).toEqual(settings);
  });

  test('a pointer that cannot be written is logged, and the schedule still gets its deployments', async () => {
    const lines: unknown[] = [];
    const out = await withPointers(deployments(['d-9']), memoryPointers(true), {}, (m, e) => lines.push([m, e])).inProgress();
    expect(out).toEqual(['d-9']);
    expect(lines).toEqual([['canary judge: could not write the deployment pointer', { deploymentId: 'd-9', error: 'Error: AccessDenied' }]]);
  });
});

describe('the hook waits for its pointer', () => {
  test('found at once: no wait', async () => {
    const p = memoryPointers();
    await p.write('d-1', { AI_RELEASE_JUDGE_SERVICE: 'beta' });
    const clock = fakeClock();
    expect(await awaitPointer(p, 'd-1', clock, 120_000)).toEqual({ AI_RELEASE_JUDGE_SERVICE: 'beta' });
    expect(clock.slept).toEqual([]);
  });

  test('written by the next schedule minute (60 s later): found after 12 polls of 5 s', async () => {
    const p = memoryPointers();
    const clock = fakeClock();
    const read = p.read;
    p.read = async (id) => {
      if (clock.now() >= 60_000) await p.write(id, { AI_RELEASE_JUDGE_SERVICE: 'gamma' });
      return read(id);
    };
    expect(await awaitPointer(p, 'd-2', clock, 120_000)).toEqual({ AI_RELEASE_JUDGE_SERVICE: 'gamma' });
    expect(clock.slept).toHaveLength(12);
  });

  test('never written: undefined once the wait is over, without sleeping past it; a failing read counts as none', async () => {
    const p = memoryPointers();
    p.read = async () => {
      throw new Error('SlowDown');
    };
    const clock = fakeClock();
    expect(await awaitPointer(p, 'd-3', clock, 120_000)).toBeUndefined();
    expect(clock.now()).toBeLessThanOrEqual(120_000);
    expect(clock.now()).toBeGreaterThanOrEqual(115_000);
  });
});

describe('the schedule input', () => {
  test.each([
    [{ source: 'cdk-ai-release.canary-judge', settings: {} }, true],
    [{ source: 'aws.events', 'detail-type': 'Scheduled Event' }, false],
    [null, false],
    [{ DeploymentId: 'd', LifecycleEventHookExecutionId: 'e' }, false],
  ])('%j is a service input: %s', (e, yes) => {
    expect(isServiceInput(e)).toBe(yes);
  });

  test('settings must be a map of strings, named in the error', () => {
    expect(serviceSettings({ source: 'cdk-ai-release.canary-judge', settings: { A: 'x' } })).toEqual({ A: 'x' });
    expect(() => serviceSettings({ source: 'cdk-ai-release.canary-judge', settings: ['x'] } as never)).toThrow('has no settings object');
    expect(() => serviceSettings({ source: 'cdk-ai-release.canary-judge', settings: { A: 1 } } as never)).toThrow('settings.A must be a string, got 1');
  });
});
