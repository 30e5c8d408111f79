import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AppConfigClient, DeleteHostedConfigurationVersionCommand, ListHostedConfigurationVersionsCommand } from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { hostedVersionsPort } from '../lambda/config-deployer/appconfig-port';
import { type CleanupEvent, cleanUp, cleanupApplication, type HostedVersionsPort } from '../lambda/config-deployer/version-cleanup';
import { markerKey } from '../lambda/shared/contract';
import { eventId, memoryMarkerStore, take } from '../lambda/shared/idempotency';
import { s3MarkerStore } from '../lambda/shared/s3-marker-store';

/**
 * A test S3 that honours `If-None-Match: *` as S3 documents it (s3rver ignores the header): a conditional PUT of an
 * existing key answers 412 PreconditionFailed; a conditional PUT racing another on the same key may answer 409
 * ConditionalRequestConflict. Latency per call: a random 0–`maxLatencyMs` ms, so concurrent writers interleave.
 */
function conditionalS3(maxLatencyMs = 5, conflictEvery = 0) {
  const objects = new Map<string, string>();
  const inFlight = new Set<string>();
  let puts = 0;
  const s3 = mockClient(S3Client);
  const pause = () => new Promise((r) => setTimeout(r, Math.random() * maxLatencyMs));
  const error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  s3.on(PutObjectCommand).callsFake(async (input) => {
    const key = input.Key as string;
    puts++;
    if (input.IfNoneMatch === '*') {
      if (conflictEvery > 0 && inFlight.has(key) && puts % conflictEvery === 0) throw error('ConditionalRequestConflict', 409);
      inFlight.add(key);
      await pause();
      inFlight.delete(key);
      // The check and the write are one step, as in S3: the first to arrive wins.
      if (objects.has(key)) throw error('PreconditionFailed', 412);
      objects.set(key, String(input.Body));
      return { ETag: '"1"' };
    }
    await pause();
    objects.set(key, String(input.Body));
    return { ETag: '"2"' };
  });
  s3.on(GetObjectCommand).callsFake(async (input) => {
    await pause();
    const body = objects.get(input.Key as string);
    if (body === undefined) throw error('NoSuchKey', 404);
    return { Body: { transformToString: async () => body } };
  });
  return { s3, objects };
}

describe('request markers: exactly one delivery takes a request', () => {
  afterEach(() => mockClient(S3Client).restore());

  test.each([
    ['the in-memory store', () => memoryMarkerStore()],
    ['S3 with If-None-Match (412 for the losers)', () => s3MarkerStore(new S3Client({ region: 'us-east-1' }), 'store')],
    ['S3 with If-None-Match (some losers see 409)', () => s3MarkerStore(new S3Client({ region: 'us-east-1' }), 'store')],
  ])('%s: 16 concurrent deliveries, 20 repetitions: one first, fifteen repeats that read its marker', async (name, make) => {
    for (let rep = 0; rep < 20; rep++) {
      if (name.startsWith('S3')) conditionalS3(8, name.includes('409') ? 3 : 0);
      const store = make();
      const key = markerKey('config-deployer', eventId('stack', 'Rollout', `req-${rep}`));
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => take(store, key, JSON.stringify({ state: 'taken', by: i }))));
      const firsts = results.filter((r) => r.first);
      expect(firsts).toHaveLength(1);
      const repeats = results.filter((r) => !r.first) as { first: false; existing?: string }[];
      expect(repeats).toHaveLength(15);
      const winner = repeats.map((r) => r.existing).find((e) => e !== undefined);
      expect(repeats.every((r) => r.existing === undefined || r.existing === winner)).toBe(true);
    }
  });

  test('a store error is not mistaken for a repeat: it is thrown with the key', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const store = s3MarkerStore(new S3Client({ region: 'us-east-1' }), 'store');
    await expect(store.create('markers/config-deployer/k.json', '{}')).rejects.toThrow(
      'marker s3://store/markers/config-deployer/k.json: PutObject (If-None-Match) failed: AccessDenied: Access Denied',
    );
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ IfNoneMatch: '*', Key: 'markers/config-deployer/k.json' });
  });

  test('event ids: stable for one request, different for another', () => {
    expect(eventId('s', 'l', 'r')).toBe(eventId('s', 'l', 'r'));
    expect(eventId('s', 'l', 'r')).not.toBe(eventId('s', 'l', 'r2'));
    expect(eventId('s', 'l', 'r')).not.toBe(eventId('s', 'lr', ''));
    expect(markerKey('config-deployer', 'abc')).toBe('markers/config-deployer/abc.json');
  });
});

describe('hosted-version cleanup (pure, table-driven)', () => {
  const fake = (initial: number[], addDuringDelete: number[] = []) => {
    const versions = new Set(initial);
    const deleted: number[] = [];
    let added = false;
    const port: HostedVersionsPort = {
      async list() {
        return [...versions];
      },
      async delete(_p, n) {
        versions.delete(n);
        deleted.push(n);
        if (!added) {
          added = true;
          for (const v of addDuringDelete) versions.add(v); // the cost guard writing during the delete
        }
      },
    };
    return { port, versions, deleted };
  };
  const ev = (type: CleanupEvent['RequestType'], profiles = ['prof1', 'flags1'], physical?: string, old?: string[]): CleanupEvent => ({
    RequestType: type,
    ResourceProperties: { Application: 'app1', ConfigurationProfiles: profiles },
    ...(physical ? { PhysicalResourceId: physical } : {}),
    ...(old ? { OldResourceProperties: { Application: 'app1', ConfigurationProfiles: old } } : {}),
  });
  const both = 'app1/prof1+flags1/hosted-versions';

  test.each([
    ['Create does nothing', ev('Create'), [1, 2], [], both, [1, 2]],
    ['Update with the same profiles does nothing, same id', ev('Update', undefined, both, ['prof1', 'flags1']), [1, 2], [], both, [1, 2]],
    ['Delete removes every version of both profiles, lowest first', ev('Delete', undefined, both), [3, 1, 2], [1, 2, 3], both, []],
    ['Delete with no versions', ev('Delete', undefined, both), [], [], both, []],
    // Replaced profiles: the Delete of the old physical id cleans the old profiles, whatever the properties say.
    ['Delete of a replaced id cleans the profiles it names', ev('Delete', ['prof2', 'flags2'], both), [5], [5], both, []],
    // Both replaced (an application of their own): a new id, so CloudFormation deletes the old one.
    [
      'Update replacing both profiles answers a new id',
      ev('Update', ['prof2', 'flags2'], both, ['prof1', 'flags1']),
      [5],
      [],
      'app1/prof2+flags2/hosted-versions',
      [5],
    ],
  ])('%s', async (_n, event, initial, deleted, physical, left) => {
    const f = fake(initial);
    const out = await cleanUp(event, f.port);
    expect(out.physicalResourceId).toBe(physical);
    expect(f.deleted).toEqual(deleted);
    expect([...f.versions]).toEqual(left);
  });

  test('each profile named is cleaned under its own id (the fake above shares one set of versions)', async () => {
    const calls: string[] = [];
    const port: HostedVersionsPort = {
      list: async (p) => (calls.filter((c) => c === `delete ${p} 1`).length > 0 ? [] : [1]),
      delete: async (p, n) => void calls.push(`delete ${p} ${n}`),
    };
    const out = await cleanUp(ev('Delete', undefined, both), port);
    expect(calls).toEqual(['delete prof1 1', 'delete flags1 1']);
    expect(out.byProfile).toEqual({ prof1: [1], flags1: [1] });
    // A replaced id: the profiles it names, not the (new) ones in the properties.
    calls.length = 0;
    const replaced = await cleanUp(ev('Delete', ['prof2', 'flags2'], both), port);
    expect(Object.keys(replaced.byProfile)).toEqual(['prof1', 'flags1']);
  });

  test('an Update that replaces one profile and keeps the other is refused (the old id would clean the kept one)', async () => {
    const f = fake([1]);
    await expect(cleanUp(ev('Update', ['prof1', 'flags2'], both, ['prof1', 'flags1']), f.port)).rejects.toThrow(/one was replaced and one kept/);
    expect(f.deleted).toEqual([]);
  });

  test('the Delete of a per-profile resource of an older version (removed when the stack is updated) deletes nothing', async () => {
    const f = fake([1, 2]);
    const legacy: CleanupEvent = {
      RequestType: 'Delete',
      ResourceProperties: { Application: 'app1', ConfigurationProfile: 'flags1' },
      PhysicalResourceId: 'app1/flags1/hosted-versions',
    };
    const out = await cleanUp(legacy, f.port);
    expect(f.deleted).toEqual([]);
    expect(out.skipped).toMatch(/older library version/);
    expect(out.physicalResourceId).toBe('app1/flags1/hosted-versions');
  });

  test('the application is the one the physical id names (a replaced id is cleaned where it was made)', () => {
    expect(cleanupApplication({ ...ev('Delete', undefined, 'appOld/prof1+flags1/hosted-versions') })).toBe('appOld');
    expect(cleanupApplication(ev('Create'))).toBe('app1');
  });

  test('a version written while the cleanup runs (the cost guard) is caught by the second look', async () => {
    const f = fake([1, 2], [9]);
    await cleanUp(ev('Delete', ['prof1'], 'app1/prof1/hosted-versions'), f.port);
    expect([...f.versions]).toEqual([]);
    expect(f.deleted).toEqual([1, 2, 9]);
  });

  test('missing properties fail with the field named', async () => {
    await expect(cleanUp({ RequestType: 'Delete', ResourceProperties: { Application: 'a' } as never }, fake([]).port)).rejects.toThrow(
      'hosted version cleanup: missing properties ConfigurationProfiles',
    );
  });

  test('over the SDK: every page is listed, an already deleted version is not an error', async () => {
    const ac = mockClient(AppConfigClient);
    ac.on(ListHostedConfigurationVersionsCommand, { NextToken: undefined }).resolves({ Items: [{ VersionNumber: 1 }, { VersionNumber: 2 }], NextToken: 't' });
    ac.on(ListHostedConfigurationVersionsCommand, { NextToken: 't' }).resolves({ Items: [{ VersionNumber: 3 }] });
    ac.on(DeleteHostedConfigurationVersionCommand, { VersionNumber: 2 }).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    ac.on(DeleteHostedConfigurationVersionCommand, { VersionNumber: 3 }).resolves({});
    ac.on(DeleteHostedConfigurationVersionCommand, { VersionNumber: 1 }).resolves({});
    const port = hostedVersionsPort(new AppConfigClient({ region: 'us-east-1' }), 'app1');
    expect(await port.list('prof1')).toEqual([1, 2, 3]);
    await expect(port.delete('prof1', 2)).resolves.toBeUndefined();
    ac.on(DeleteHostedConfigurationVersionCommand, { VersionNumber: 4 }).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(port.delete('prof1', 4)).rejects.toThrow('denied');
    ac.restore();
  });
});
