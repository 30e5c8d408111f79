import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { FAILURE_RECORD_TYPE, type FailureKind, type FailureRecord, type VersionTuple } from '../lambda/shared/contract';
import type { CloudWatchLogsEvent } from '../lambda/snapshot/snapshot';

// s3rver ships no types.
const S3rver: any = require('s3rver');

export const BUCKET = 'regression-store-test';

/** s3rver on loopback with a temporary directory and the bucket created. */
export async function startS3(): Promise<{ endpoint: string; port: number; dir: string; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const addr = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    dir,
    close: async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An SDK v3 client for s3rver: path-style, fake credentials, no SDK retries (the store's retry layer decides). */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // Without these the SDK sends aws-chunked bodies with trailing checksums, which s3rver stores verbatim.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Requests seen, faults answered. */
  readonly counts: { requests: number; faults: number };
  /** Which requests to fail from now on, by their 1-based number since the proxy started. */
  setFault(fault: (n: number, req: http.IncomingMessage) => boolean): void;
  close(): Promise<void>;
}

/**
 * A proxy in front of s3rver that answers 503 SlowDown (S3's throttling error, as XML) to the requests `fault`
 * picks and forwards the rest unchanged.
 */
export async function startFaultProxy(targetPort: number, fault: (n: number, req: http.IncomingMessage) => boolean = () => false): Promise<FaultProxy> {
  const counts = { requests: 0, faults: 0 };
  let pick = fault;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    counts.requests += 1;
    if (pick(counts.requests, req)) {
      counts.faults += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>',
        );
      });
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    setFault: (f) => {
      pick = f;
    },
    close: () =>
      new Promise<void>((r) => {
        agent.destroy();
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/** Every object in the bucket, key → body. */
export async function dumpBucket(client: S3Client, bucket = BUCKET): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) {
      const g = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      out.set(o.Key!, await g.Body!.transformToString('utf8'));
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export function tuple(service: string, codeVersion = '7', config = 'cfg-aaaaaaaaaaaa'): VersionTuple {
  return {
    service,
    codeVersion,
    codeHash: 'c0dec0dec0de',
    config,
    prompt: 'prompt-111111111111',
    model: 'model-222222222222',
    retrieval: 'retrieval-333333333333',
    tools: 'tools-444444444444',
    outputContract: 'contract-555555555555',
    degrade: 'degrade-666666666666',
  };
}

let seq = 0;
/** A failure record as the runtime writes it. */
export function record(o: {
  service?: string;
  input: unknown;
  output?: unknown;
  kinds?: FailureKind[];
  time?: string;
  requestId?: string;
  tuple?: VersionTuple;
  details?: string[];
  error?: { name: string; message: string };
  latencyMs?: number;
}): FailureRecord {
  const service = o.service ?? 'assistant';
  const kinds = o.kinds ?? ['error'];
  seq += 1;
  return {
    type: FAILURE_RECORD_TYPE,
    schemaVersion: 1,
    kind: kinds[0],
    kinds,
    service,
    requestId: o.requestId ?? `req-${seq.toString().padStart(6, '0')}`,
    time: o.time ?? new Date(Date.UTC(2026, 10, 27, 6, 0, 0) + seq * 1000).toISOString(),
    tuple: o.tuple ?? tuple(service),
    measurements: { latencyMs: o.latencyMs ?? 1200 },
    input: typeof o.input === 'string' ? o.input : JSON.stringify(o.input),
    ...(o.output !== undefined ? { output: typeof o.output === 'string' ? o.output : JSON.stringify(o.output) } : {}),
    ...(o.error ? { error: o.error } : {}),
    ...(o.details ? { details: o.details } : {}),
    truncated: false,
  };
}

/** A CloudWatch Logs subscription delivery carrying the given log lines, as Lambda receives it. */
export function delivery(
  lines: readonly (FailureRecord | string)[],
  o: { logGroup?: string; logStream?: string; firstId?: bigint; messageType?: 'DATA_MESSAGE' | 'CONTROL_MESSAGE' } = {},
): CloudWatchLogsEvent {
  const first = o.firstId ?? 37000000000000000000000000000000000000000000000000000000n;
  const data = {
    messageType: o.messageType ?? 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: o.logGroup ?? '/aws/lambda/assistant',
    logStream: o.logStream ?? '2026/11/27/[7]0123456789abcdef0123456789abcdef',
    subscriptionFilters: ['cdk-ai-release-failures'],
    logEvents: lines.map((l, i) => ({ id: String(first + BigInt(i)), timestamp: 1795000000000 + i, message: typeof l === 'string' ? l : JSON.stringify(l) })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
}
