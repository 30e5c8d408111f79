import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * An in-process S3-protocol server on loopback that behaves as S3 does where the regression store depends on it, for
 * the tests s3rver cannot serve (s3rver ignores If-None-Match and If-Match, answers a PUT before the object is
 * readable, and fails listing above 1,000 keys). Driven by the real SDK client and the real adapter
 * (lambda/snapshot/s3-store.ts), so what is tested is the code that runs in Lambda.
 *
 * What it models (S3 User Guide: "Amazon S3 data consistency model", "Add preconditions to S3 operations with
 * conditional requests"; API Reference: PutObject, ListObjectsV2):
 * - strong read-after-write: a PUT or DELETE takes effect at one instant (its commit), after which every GET, HEAD and
 *   LIST sees it; the answer to the writer may come later (latency after the commit);
 * - conditional writes, checked at the commit: `If-None-Match: *` on an existing key → 412 PreconditionFailed;
 *   `If-Match: <etag>` on a different version → 412, on a missing key → 404 NoSuchKey; optionally (`conflicts`) a
 *   conditional write while another conditional write to the same key is in flight → 409 ConditionalRequestConflict;
 * - ListObjectsV2 in UTF-8 key order, at most `max-keys` (≤ 1,000) per page, with IsTruncated and an opaque
 *   NextContinuationToken;
 * - latency: every request waits a random 10–80 ms (configurable) split around its commit, so concurrent requests
 *   interleave as they do against a remote service;
 * - interleaving on demand: `beforeCommit` may hold any request (e.g. "the batch PUT of delivery A waits until
 *   delivery B has finished") to build a race deterministically.
 */
export interface S3Model {
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** Committed objects, key → body (the model's truth, for assertions). */
  readonly objects: ReadonlyMap<string, { body: string; etag: string; tags?: string }>;
  /** Requests seen, by operation. */
  readonly counts: Record<string, number>;
  /** Awaited before a request commits; hold it to interleave requests. Cleared with `undefined`. */
  beforeCommit(hook: ((op: S3Op) => Promise<void> | void) | undefined): void;
  close(): Promise<void>;
}

export interface S3Op {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'LIST';
  readonly key: string;
  readonly body?: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface S3ModelOptions {
  readonly bucket?: string;
  /** Latency per request in ms, drawn uniformly. @default [10, 80] */
  readonly latencyMs?: readonly [number, number];
  /** Random source (seed it for a reproducible interleaving). @default Math.random */
  readonly random?: () => number;
  /** Answer 409 ConditionalRequestConflict to a conditional write racing another in flight on the same key. @default false */
  readonly conflicts?: boolean;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startS3Model(options: S3ModelOptions = {}): Promise<S3Model> {
  const bucket = options.bucket ?? 'regression-store-test';
  const [lo, hi] = options.latencyMs ?? [10, 80];
  const random = options.random ?? Math.random;
  const objects = new Map<string, { body: string; etag: string; tags?: string; modified: Date }>();
  const counts: Record<string, number> = {};
  const inFlightConditional = new Map<string, number>();
  let hook: ((op: S3Op) => Promise<void> | void) | undefined;

  const error = (res: http.ServerResponse, status: number, code: string, message: string, head = false) => {
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'MODEL' });
    res.end(
      head
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>MODEL</RequestId></Error>`,
    );
  };

  const handle = async (req: http.IncomingMessage, body: string, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://model');
    const parts = url.pathname.split('/');
    if (parts[1] !== bucket) return error(res, 404, 'NoSuchBucket', `no bucket ${parts[1]}`);
    const key = decodeURIComponent(parts.slice(2).join('/'));
    const isList = req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2';
    const method = (isList ? 'LIST' : req.method) as S3Op['method'];
    counts[method] = (counts[method] ?? 0) + 1;
    const delay = lo + random() * (hi - lo);
    const split = random();
    const conditional = method === 'PUT' && (req.headers['if-none-match'] !== undefined || req.headers['if-match'] !== undefined);
    if (conditional) inFlightConditional.set(key, (inFlightConditional.get(key) ?? 0) + 1);
    try {
      await sleep(delay * split);
      await hook?.({ method, key, body: method === 'PUT' ? body : undefined, headers: req.headers });
      // --- the commit: everything below up to the answer happens at one instant (no await)
      if (method === 'LIST') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000));
        const token = url.searchParams.get('continuation-token');
        const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (url.searchParams.get('start-after') ?? '');
        const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const page = keys.slice(0, max);
        const truncated = keys.length > max;
        const contents = page
          .map((k) => {
            const o = objects.get(k)!;
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.modified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${Buffer.byteLength(o.body)}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        const next = truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!, 'utf8').toString('base64url')}</NextContinuationToken>` : '';
        const xml = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token ? `<ContinuationToken>${token}</ContinuationToken>` : ''}${next}${contents}</ListBucketResult>`;
        await sleep(delay * (1 - split));
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(xml);
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        const o = objects.get(key);
        await sleep(delay * (1 - split));
        if (!o) return error(res, 404, method === 'HEAD' ? 'NotFound' : 'NoSuchKey', 'The specified key does not exist.', method === 'HEAD');
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(o.body),
          etag: o.etag,
          'last-modified': o.modified.toUTCString(),
        });
        res.end(method === 'HEAD' ? undefined : o.body);
        return;
      }
      if (method === 'DELETE') {
        objects.delete(key);
        await sleep(delay * (1 - split));
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === 'PUT') {
        const existing = objects.get(key);
        const ifNoneMatch = req.headers['if-none-match'];
        const ifMatch = req.headers['if-match'] as string | undefined;
        let refused: [number, string, string] | undefined;
        if (conditional && options.conflicts && (inFlightConditional.get(key) ?? 0) > 1)
          refused = [409, 'ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource.'];
        else if (ifNoneMatch === '*' && existing) refused = [412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'];
        else if (ifMatch !== undefined && !existing) refused = [404, 'NoSuchKey', 'The specified key does not exist.'];
        else if (ifMatch !== undefined && existing && existing.etag !== ifMatch)
          refused = [412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'];
        if (refused) {
          await sleep(delay * (1 - split));
          return error(res, ...refused);
        }
        const etag = `"${createHash('md5').update(body).digest('hex')}-${Date.now().toString(36)}${Math.floor(random() * 1e9).toString(36)}"`;
        const tags = req.headers['x-amz-tagging'] as string | undefined;
        objects.set(key, { body, etag, ...(tags ? { tags } : {}), modified: new Date() });
        await sleep(delay * (1 - split));
        res.writeHead(200, { etag });
        res.end();
        return;
      }
      return error(res, 405, 'MethodNotAllowed', `${req.method} is not modelled`);
    } finally {
      if (conditional) inFlightConditional.set(key, (inFlightConditional.get(key) ?? 1) - 1);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((e) => {
        if (!res.headersSent) error(res, 500, 'InternalError', String(e));
        else res.end();
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    objects,
    counts,
    beforeCommit: (h) => {
      hook = h;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/**
 * An SDK client for the model at `endpoint`: path style, checksums only when required (else stream bodies arrive as
 * aws-chunked frames), and no SDK retries, so the code under test does its own. `maxSockets` for fan-out tests.
 */
export function modelClient(endpoint: string, maxSockets?: number): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'MODEL', secretAccessKey: 'MODEL' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...(maxSockets !== undefined ? { requestHandler: { httpAgent: { maxSockets } } } : {}),
  });
}
