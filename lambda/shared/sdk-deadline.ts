/**
 * Every AWS call a library function makes ends by a deadline, and a failed one says which operation on which resource.
 *
 * In this SDK version (@smithy/node-http-handler 4.x) `requestTimeout` alone only logs a warning when a request runs
 * over it; the request keeps waiting (node_modules/@smithy/node-http-handler/dist-cjs/index.js, setRequestTimeout:
 * "Init client requestHandler with throwOnRequestTimeout=true to turn this into an error"). So every client is built
 * with `throwOnRequestTimeout: true` beside its timeouts, through `deadline`, and with `logFailures`, which logs one
 * JSON line per failed call (operation, resource, error, HTTP status, elapsed time) and puts the operation and the
 * resource into the error's message, which is what Lambda records when the invocation fails.
 */

/** Client configuration fields this module sets (a structural subset of every SDK v3 client's config). */
export interface DeadlineConfig {
  readonly requestHandler?: {
    readonly connectionTimeout?: number;
    readonly requestTimeout?: number;
    readonly throwOnRequestTimeout?: boolean;
  };
}

/** Milliseconds to wait for a TCP connection before the call fails (then retried, within the caller's budget). */
export const CONNECTION_TIMEOUT_MS = 3000;

/**
 * The client config with a request deadline that is enforced (`throwOnRequestTimeout`): a request that has not been
 * answered in `requestTimeoutMs` fails with a TimeoutError instead of waiting for Lambda to kill the invocation.
 */
export function deadline<T extends object>(requestTimeoutMs: number, config: T = {} as T): T & DeadlineConfig {
  if (!(requestTimeoutMs > 0)) throw new Error(`requestTimeoutMs must be a positive number of milliseconds, got ${requestTimeoutMs}`);
  return {
    ...config,
    requestHandler: { connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, requestTimeoutMs), requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
}

/** The resource a call names, from its input: the S3 key, the function, the deployment, the application. */
export function resourceOf(input: Record<string, unknown> | undefined): string {
  if (!input) return '';
  if (typeof input.Bucket === 'string')
    return `s3://${input.Bucket}/${typeof input.Key === 'string' ? input.Key : typeof input.Prefix === 'string' ? input.Prefix : ''}`;
  for (const k of ['FunctionName', 'deploymentId', 'ApplicationId', 'Name', 'logGroupName', 'TopicArn', 'Namespace']) {
    const v = input[k];
    if (typeof v === 'string') return `${k}=${v}${k === 'FunctionName' && typeof input.Qualifier === 'string' ? `:${input.Qualifier}` : ''}`;
  }
  return '';
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; name: string; override?: boolean }): void;
  };
}

/** Adds the failure log and message to a client; returns the client. */
export function logFailures<C>(client: C, log: (line: string) => void = (l) => console.error(l)): C {
  const middleware =
    (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string; clientName?: string }) =>
    async (args: { input: Record<string, unknown> }) => {
      const started = Date.now();
      try {
        return await next(args);
      } catch (e) {
        const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        const operation = (context.commandName ?? 'call').replace(/Command$/, '');
        const resource = resourceOf(args.input);
        // Conditional writes that lose (412/409) and reads of a missing key (404) are answers the callers expect, not failures.
        const status = err?.$metadata?.httpStatusCode;
        if (!(status === 404 || status === 412 || status === 409)) {
          log(
            JSON.stringify({
              level: 'ERROR',
              message: 'AWS call failed',
              operation,
              resource,
              error: err?.name ?? 'Error',
              detail: String(err?.message ?? e).slice(0, 300),
              ...(status !== undefined ? { httpStatus: status } : {}),
              elapsedMs: Date.now() - started,
            }),
          );
        }
        if (err && typeof err === 'object' && typeof err.message === 'string' && !err.message.startsWith(`${operation} `))
          err.message = `${operation} ${resource}: ${err.message}`.replace(/ : /, ': ');
        throw e;
      }
    };
  (client as unknown as MiddlewareClient).middlewareStack.add(middleware, { step: 'initialize', name: 'cdkAiReleaseLogFailures', override: true });
  return client;
}
