/**
 * A fake Lambda Runtime API on loopback and a driver that runs a handler the way the Node.js runtime interface client
 * does (github:aws/aws-lambda-nodejs-runtime-interface-client @ da5777a, src/Runtime.js, src/CallbackContext.js,
 * src/RAPIDClient.js), for test/runtime-after-response.test.ts and bench/runtime-after-response.ts (h11-hot).
 *
 * What is the RIC's and what is not:
 * - The loop: `scheduleIteration` queues `handleOnce` with setImmediate (Runtime.js:35-38); `handleOnce` GETs
 *   /runtime/invocation/next (Runtime.js:62), calls the handler (:76), and settles a promise result into
 *   succeed/fail (:82-85); a synchronous throw goes to the callback (:87-89).
 * - The callback (CallbackContext.js:41-56): with `callbackWaitsForEmptyEventLoop` (default true) the response waits
 *   for the process's `beforeExit` (then a setImmediate); false: posted at once. `done` / `succeed` / `fail` post at once.
 * - Posting (RAPIDClient.js:45-49, :110-116): the native client's `done()` / `error()` is a BLOCKING POST, then
 *   `scheduleNext`. Here the main thread blocks in Atomics.wait while a worker thread makes the POST over loopback
 *   HTTP to the fake API (which also lives in that worker, so it answers while the main thread is blocked).
 * - /next: the native client's `next()` is a promise (rapid-client.cc, an AsyncWorker); here an HTTP GET from the main
 *   thread (as the RIC's alternative client, RAPIDClient.js:125-154), `agent: false` so no socket keeps the loop alive.
 * - Response streaming (Runtime.js:95-159): the handler gets a writable that POSTs the body chunked
 *   (`Lambda-Runtime-Function-Response-Mode: streaming`) from the main thread; the loop awaits the handler, then the
 *   POST's own response, then schedules /next.
 * - Not modelled: X-Ray, the init phase, error shapes beyond errorType/errorMessage.
 *
 * Every event at the API (a GET of /next, a response or error POST) and every mark the test makes on the main thread
 * takes a number from one shared counter, so their order is what happened, across the two threads.
 */
import http from 'node:http';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const shared = new Int32Array(workerData.shared);
const events = workerData.events;
let next = 0;
const log = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = req.url || '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      log.push({ kind: 'next', seq: Atomics.add(shared, 0, 1) });
      if (next >= events.length) { res.writeHead(204, { connection: 'close' }).end(); return; }
      const e = events[next++];
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'close',
        'lambda-runtime-aws-request-id': e.id,
        'lambda-runtime-deadline-ms': String(Date.now() + 30000),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:support-assistant:live',
      });
      res.end(e.body);
      return;
    }
    const m = /^\\/2018-06-01\\/runtime\\/invocation\\/([^/]+)\\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      log.push({ kind: m[2], id: decodeURIComponent(m[1]), seq: Atomics.add(shared, 0, 1), body: Buffer.concat(chunks).toString('utf8'), streaming: req.headers['lambda-runtime-function-response-mode'] === 'streaming' });
      res.writeHead(202, { connection: 'close' }).end();
      return;
    }
    res.writeHead(404, { connection: 'close' }).end();
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'listening', port: server.address().port }));
parentPort.on('message', (m) => {
  if (m.type === 'post') {
    const req = http.request(
      { host: '127.0.0.1', port: server.address().port, method: 'POST', path: m.path, agent: false, headers: { 'content-type': 'application/json', ...(m.headers || {}) } },
      (res) => {
        res.resume();
        res.on('end', () => {
          Atomics.store(shared, 1, 1);
          Atomics.notify(shared, 1);
        });
      },
    );
    req.on('error', () => { Atomics.store(shared, 1, 2); Atomics.notify(shared, 1); });
    req.end(m.body);
  } else if (m.type === 'log') parentPort.postMessage({ type: 'log', log: log.splice(0) });
  else if (m.type === 'close') server.close(() => parentPort.close());
});
`;

export interface ApiEvent {
  readonly kind: 'next' | 'response' | 'error' | 'mark';
  readonly seq: number;
  readonly id?: string;
  readonly body?: string;
  readonly streaming?: boolean;
  readonly label?: string;
}

/** Per invocation, on the main thread (process.hrtime.bigint, ns): the driver's own moments. */
export interface InvocationTimes {
  readonly id: string;
  /** /next answered: the event is in hand (before JSON.parse, as the RIC). */
  readonly start: bigint;
  /** The response POST begins (postInvocationResponse / error entered, body not yet serialized). */
  readonly post0: bigint;
  /** The blocking POST returned. */
  readonly post1: bigint;
  /** The next GET of /next is issued (the environment would freeze while it waits). */
  readonly next: bigint;
  /** With `cpu`: the process's CPU time (user + system, µs, process.cpuUsage) at the same four moments. */
  readonly cpu?: readonly [start: number, post0: number, post1: number, next: number];
}

export type HandlerStyle = 'async' | 'callback-nowait' | 'callback-wait' | 'streaming';

type Context = Record<string, unknown> & { callbackWaitsForEmptyEventLoop: boolean };
type AnyHandler = (...args: any[]) => unknown;

const BEFORE_EXIT = Symbol.for('fake-ric.beforeExit');

export class FakeRuntimeApi {
  private readonly shared: Int32Array;
  private readonly marks: ApiEvent[] = [];

  private constructor(
    private readonly worker: Worker,
    shared: SharedArrayBuffer,
    public readonly port: number,
  ) {
    this.shared = new Int32Array(shared);
  }

  /** The API serves `events` (id, JSON body) in order, then answers /next with 204 (the driver stops). */
  public static async start(events: readonly { id: string; body: string }[]): Promise<FakeRuntimeApi> {
    const shared = new SharedArrayBuffer(8);
    const worker = new Worker(WORKER, { eval: true, workerData: { shared, events } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m: { type: string; port: number }) => resolve(m.port));
    });
    // The worker must not keep the process alive: the RIC's default callback waits for an empty event loop.
    worker.unref();
    return new FakeRuntimeApi(worker, shared, port);
  }

  /** A mark on the main thread, ordered with the API's events. */
  public mark(label: string, id?: string): void {
    this.marks.push({ kind: 'mark', label, id, seq: Atomics.add(this.shared, 0, 1) });
  }

  /** Everything so far, in order. */
  public async events(): Promise<ApiEvent[]> {
    this.worker.ref();
    const log = await new Promise<ApiEvent[]>((resolve) => {
      this.worker.once('message', (m: { log: ApiEvent[] }) => resolve(m.log));
      this.worker.postMessage({ type: 'log' });
    });
    this.worker.unref();
    const all = [...log, ...this.marks.splice(0)];
    return all.sort((a, b) => a.seq - b.seq);
  }

  public async close(): Promise<void> {
    this.worker.ref();
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' });
    });
  }

  /** The native client's blocking POST (RAPIDClient.js:47 `nativeClient.done`, :114 `nativeClient.error`). */
  private postBlocking(path: string, body: string, headers?: Record<string, string>): void {
    Atomics.store(this.shared, 1, 0);
    this.worker.postMessage({ type: 'post', path, body, headers });
    Atomics.wait(this.shared, 1, 0);
    if (Atomics.load(this.shared, 1) !== 1) throw new Error(`the fake Runtime API refused POST ${path}`);
  }

  private nextInvocation(): Promise<{ bodyJson: string; headers: http.IncomingHttpHeaders } | undefined> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, path: '/2018-06-01/runtime/invocation/next', method: 'GET', agent: false }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          data += c;
        });
        res.on('end', () => resolve(res.statusCode === 204 ? undefined : { bodyJson: data, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Runs `handler` until the API has no more events, as the RIC's loop does; resolves with each invocation's times.
   * `callback-wait` relies on the process's `beforeExit`: run it in a process of its own (not under jest).
   */
  public run(handler: AnyHandler, style: HandlerStyle, options: { cpu?: boolean } = {}): Promise<InvocationTimes[]> {
    const cpuNow = options.cpu
      ? () => {
          const u = process.cpuUsage();
          return u.user + u.system;
        }
      : () => 0;
    const times: InvocationTimes[] = [];
    return new Promise((resolveRun, rejectRun) => {
      const g = globalThis as unknown as Record<symbol, (() => void) | undefined>;
      const onBeforeExit = () => g[BEFORE_EXIT]?.();
      process.on('beforeExit', onBeforeExit);
      type Pending = { id: string; start: bigint; post0?: bigint; post1?: bigint; cpu: number[] };
      let pending: Pending | undefined;
      const scheduleIteration = () => {
        setImmediate(() => {
          handleOnce().catch((e) => {
            process.off('beforeExit', onBeforeExit);
            rejectRun(e);
          });
        });
      };
      const handleOnce = async () => {
        const issued = process.hrtime.bigint();
        const issuedCpu = cpuNow();
        if (pending) {
          const [c0, c1 = issuedCpu, c2 = issuedCpu] = pending.cpu;
          times.push({
            id: pending.id,
            start: pending.start,
            post0: pending.post0 ?? issued,
            post1: pending.post1 ?? issued,
            next: issued,
            ...(options.cpu ? { cpu: [c0, c1, c2, issuedCpu] as const } : {}),
          });
        }
        pending = undefined;
        const inv = await this.nextInvocation();
        if (!inv) {
          process.off('beforeExit', onBeforeExit);
          resolveRun(times);
          return;
        }
        const startCpu = cpuNow();
        const start = process.hrtime.bigint();
        const id = String(inv.headers['lambda-runtime-aws-request-id']);
        const deadline = Number(inv.headers['lambda-runtime-deadline-ms']);
        const current: Pending = { id, start, cpu: [startCpu] };
        pending = current;
        let completed = false;
        const post = (kind: 'response' | 'error', payload: string) => {
          if (completed) return;
          completed = true;
          current.post0 = process.hrtime.bigint();
          current.cpu.push(cpuNow());
          this.postBlocking(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/${kind}`, payload);
          current.post1 = process.hrtime.bigint();
          current.cpu.push(cpuNow());
          scheduleIteration();
        };
        const succeedWith = (result: unknown) => post('response', JSON.stringify(result === undefined ? null : result));
        const failWith = (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          post('error', JSON.stringify({ errorType: e.name, errorMessage: e.message }));
        };
        let wait = true;
        g[BEFORE_EXIT] = undefined;
        const callback = (err: unknown, result?: unknown) => {
          g[BEFORE_EXIT] = undefined;
          if (err !== undefined && err !== null) failWith(err);
          else if (!wait) succeedWith(result);
          else g[BEFORE_EXIT] = () => setImmediate(() => succeedWith(result));
        };
        const context: Context = {
          awsRequestId: id,
          invokedFunctionArn: String(inv.headers['lambda-runtime-invoked-function-arn']),
          functionName: 'support-assistant',
          getRemainingTimeInMillis: () => deadline - Date.now(),
          get callbackWaitsForEmptyEventLoop() {
            return wait;
          },
          set callbackWaitsForEmptyEventLoop(v: boolean) {
            wait = v;
          },
          succeed: succeedWith,
          fail: failWith,
          done: (err: unknown, result: unknown) => (err ? failWith(err) : succeedWith(result)),
        };
        if (style === 'streaming') {
          const stream = this.responseStream(id);
          try {
            const r = handler(JSON.parse(inv.bodyJson), stream.writable, context);
            await r;
            await stream.done;
            completed = true;
            current.post0 = stream.ended ?? process.hrtime.bigint();
            current.post1 = process.hrtime.bigint();
          } catch (e) {
            stream.writable.destroy();
            failWith(e);
            return;
          }
          scheduleIteration();
          return;
        }
        try {
          const result = handler(JSON.parse(inv.bodyJson), context, callback);
          if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(succeedWith, failWith).catch(failWith);
        } catch (e) {
          callback(e);
        }
      };
      scheduleIteration();
    });
  }

  /** The streamed response (RAPIDClient.js:60-84, ResponseStream.js): a chunked POST from the main thread. */
  private responseStream(id: string): { writable: Writable; done: Promise<void>; ended?: bigint } {
    const req = http.request({
      host: '127.0.0.1',
      port: this.port,
      method: 'POST',
      path: `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      agent: false,
      headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Transfer-Encoding': 'chunked', 'content-type': 'application/octet-stream' },
    });
    const out: { writable: Writable; done: Promise<void>; ended?: bigint } = {
      writable: new Writable({
        write(chunk, _enc, cb) {
          req.write(chunk, cb);
        },
        final(cb) {
          out.ended = process.hrtime.bigint();
          req.end(cb);
        },
      }),
      done: new Promise<void>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
      }),
    };
    return out;
  }
}
