/**
 * Every AWS call of the library's functions ends by its deadline. In this SDK version `requestTimeout` alone only warns
 * (the request keeps waiting); `deadline()` adds `throwOnRequestTimeout`, and `logFailures()` names the operation and
 * the resource in the log line and the error. Against a loopback server that accepts connections and never answers.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { GetDeploymentCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { deadline, logFailures, resourceOf } from '../lambda/shared/sdk-deadline';
import { s3Store } from '../lambda/snapshot/s3-store';

let server: http.Server;
let endpoint: string;
const held: http.ServerResponse[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    held.push(res); // never answered
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const r of held) r.destroy();
  server.closeAllConnections?.();
  await new Promise<void>((r) => server.close(() => r()));
});

const base = { endpoint: '', region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' } };
const within = async <T>(p: Promise<T>, ms: number) => {
  const started = Date.now();
  const outcome = await Promise.race([
    p.then(
      () => 'resolved',
      (e: Error) => e,
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms)),
  ]);
  return { outcome, elapsed: Date.now() - started };
};

describe('deadline() makes requestTimeout an error; logFailures() names the operation and resource', () => {
  test('without throwOnRequestTimeout the SDK only warns: the call is still pending long after requestTimeout (why deadline() exists)', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const controller = new AbortController();
    const plain = new S3Client({ ...base, endpoint, forcePathStyle: true, maxAttempts: 1, requestHandler: { requestTimeout: 200 } });
    try {
      const r = await within(plain.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }), { abortSignal: controller.signal }), 1200);
      expect(r.outcome).toBe('pending');
    } finally {
      controller.abort();
      plain.destroy();
      warn.mockRestore();
    }
  });

  test.each([
    [
      'S3 GetObject',
      () => logFailures(new S3Client(deadline(300, { ...base, endpoint, forcePathStyle: true, maxAttempts: 1 })), (l) => lines.push(l)),
      (c: any) => c.send(new GetObjectCommand({ Bucket: 'store', Key: 'index/svc.json' })),
      /GetObject s3:\/\/store\/index\/svc\.json/,
    ],
    [
      'Lambda Invoke',
      () => logFailures(new LambdaClient(deadline(300, { ...base, endpoint, maxAttempts: 1 })), (l) => lines.push(l)),
      (c: any) => c.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: '7' })),
      /Invoke FunctionName=fn:7/,
    ],
    [
      'CodeDeploy GetDeployment',
      () => logFailures(new CodeDeployClient(deadline(300, { ...base, endpoint, maxAttempts: 1 })), (l) => lines.push(l)),
      (c: any) => c.send(new GetDeploymentCommand({ deploymentId: 'd-ABC' })),
      /GetDeployment deploymentId=d-ABC/,
    ],
  ])('%s against a server that never answers: fails by its deadline, logged with operation and resource', async (_, make, call, named) => {
    lines.length = 0;
    const client = make();
    try {
      const r = await within(call(client), 3000);
      expect(r.outcome).toBeInstanceOf(Error);
      expect(r.elapsed).toBeLessThan(2500);
      expect((r.outcome as Error).message).toMatch(named);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'ERROR', message: 'AWS call failed', detail: expect.stringMatching(/requestTimeout/) });
      expect(lines[0]).toMatch(named.source.replace(/\\/g, '').split(' ')[0]);
    } finally {
      (client as { destroy(): void }).destroy();
    }
  });

  test('through the regression store adapter: a read of an unanswering S3 fails by its deadline, not at the Lambda timeout', async () => {
    const client = logFailures(new S3Client(deadline(300, { ...base, endpoint, forcePathStyle: true, maxAttempts: 1 })), () => {});
    try {
      const r = await within(s3Store(client, 'store').get('cases/svc/accepted/x.json'), 3000);
      expect(r.outcome).toBeInstanceOf(Error);
      expect((r.outcome as Error).message).toMatch(/GetObject s3:\/\/store\/cases\/svc\/accepted\/x\.json/);
    } finally {
      client.destroy();
    }
  });

  test('the resource of a call, from its input', () => {
    expect(resourceOf({ Bucket: 'b', Key: 'k' })).toBe('s3://b/k');
    expect(resourceOf({ Bucket: 'b', Prefix: 'cases/' })).toBe('s3://b/cases/');
    expect(resourceOf({ FunctionName: 'f' })).toBe('FunctionName=f');
    expect(resourceOf(undefined)).toBe('');
    expect(() => deadline(0)).toThrow(/requestTimeoutMs must be a positive number/);
  });

  test('every SDK client a library function builds goes through deadline() and logFailures()', () => {
    const dir = path.join(__dirname, '..', 'lambda');
    const unbounded: string[] = [];
    for (const fn of fs.readdirSync(dir)) {
      const file = path.join(dir, fn, 'handler.ts');
      if (!fs.existsSync(file) || fn === 'support-assistant') continue; // the example service, not a library function
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new (\w+Client)\(([^)]*)\)/g)) {
        if (!/^(S3|Lambda|CodeDeploy|AppConfig)Client$/.test(m[1])) continue; // Bedrock, CloudWatch, Logs, SNS, SSM: outside this item
        const before = text.slice(Math.max(0, m.index! - 'logFailures('.length), m.index);
        if (!m[2].startsWith('deadline(')) unbounded.push(`${fn}: ${m[0]} has no deadline()`);
        // AppConfig clients may log their own failures (the cost guard's one structured line); the others go through logFailures.
        if (m[1] !== 'AppConfigClient' && before !== 'logFailures(') unbounded.push(`${fn}: ${m[0]} is not wrapped in logFailures()`);
      }
    }
    expect(unbounded).toEqual([]);
  });
});

const lines: string[] = [];
