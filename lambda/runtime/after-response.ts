/**
 * Work the runtime does after the caller has its response and before the execution environment asks Lambda for the
 * next event (issue 17 B, h11-hot): the evaluation sample's build (redaction, case id, passage hashes, serialization)
 * and its log write, and the check-result line's checks and write. The request path only decides (the draws) and
 * captures references; the lines are built and written here. Pure Node.js, no AWS SDK import.
 *
 * Why one `setImmediate` queued during the invocation runs after the response is posted and before `/next` — the Lambda
 * Node.js runtime interface client (github:aws/aws-lambda-nodejs-runtime-interface-client, main @ da5777a, the
 * library the managed nodejs runtimes run):
 *
 * - src/Runtime.js:83-85: an async handler's promise settles into `callbackContext.succeed` / `fail` (a microtask).
 * - src/CallbackContext.js:63 (`done`) → :36 (`complete`) → src/RAPIDClient.js:47-48: `postInvocationResponse` hands
 *   the serialized result to the native client's `done()` — a synchronous, blocking POST of
 *   /runtime/invocation/{id}/response — and only then calls its callback, `scheduleNext`.
 * - src/Runtime.js:35-38: `scheduleNext` is `scheduleIteration`, which queues the next `handleOnce` with
 *   `setImmediate`; src/Runtime.js:62: `handleOnce` begins with `nextInvocation()`, the GET of /runtime/invocation/next.
 *
 * So the response is posted in the microtasks right after the handler's promise settles, and /next waits for a
 * setImmediate queued after that. Node runs setImmediate callbacks in the order they were queued (one check phase, or
 * the next one for callbacks queued during a check phase), so a callback queued DURING the invocation runs after the
 * response is posted and before the runtime's `handleOnce`, i.e. before /next. The AWS docs: "The runtime and each
 * extension indicate completion by sending a Next API request. Lambda freezes the execution environment when the runtime
 * and each extension have completed and there are no pending events"
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): the work runs before the freeze and
 * is billed (the invocation's duration runs until /next), which is why the bench reports occupancy beside latency.
 *
 * The other handler shapes, from the same source:
 * - callback style, `callbackWaitsForEmptyEventLoop = false` (CallbackContext.js:46-47): the callback posts at once
 *   and schedules /next with setImmediate, as above: the work runs after the response, before /next.
 * - callback style, `callbackWaitsForEmptyEventLoop = true`, the default (CallbackContext.js:48-53): the response is
 *   posted on `beforeExit`, when the event loop is empty, so the queued work runs BEFORE the response is posted: the
 *   caller waits for it as it does for the inline write (nothing gained, nothing lost).
 * - response streaming (Runtime.js:126-154): the runtime awaits the handler, then the streamed POST's own HTTP response
 *   (`rapidResponse`), then `scheduleNext`. Work queued during the handler runs after the handler returned (having
 *   ended the stream) and before /next; the stream's last bytes may still be in Node's socket buffer while it runs.
 * - the handler throws: nothing is deferred (the failure record is written inline, as before).
 * - a wrapper that awaits more I/O after the runtime's answer: the work runs during that I/O, before the response; it
 *   is still written before /next.
 * - process exit (`process.exit` in an extension's SIGTERM handler, a test runner): pending work is run on the
 *   process's `exit` event (synchronous stdout writes to a pipe or file on Linux), so a pending sample is written.
 * - Lambda Managed Instances (multi-concurrency, `AWS_LAMBDA_MAX_CONCURRENCY` set): the Node.js runtime there uses worker
 *   threads with many concurrent invocations per thread (docs: lambda-managed-instances-nodejs-runtime.html); that
 *   runtime's source is not in the repository above, so when and how it posts is not established: the runtime writes
 *   inline there (deferEvaluationLines defaults to false), as before.
 *
 * Each task runs once, in order; a task that throws is counted (`failures`) and logged on stderr, never surfaced to
 * the caller (the response is already posted).
 */

function messageOf(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unprintable error';
  }
}

/** One queue per process (worker thread): all runtimes of a service share it, as they share the event loop. */
export class AfterResponse {
  private queue: { run: () => void; what: string; extra?: Readonly<Record<string, unknown>> }[] = [];
  private scheduled = false;
  private exitHooked = false;
  /** Tasks that threw (each was logged on stderr). */
  public failures = 0;
  /** Tasks run. */
  public ran = 0;

  constructor(
    private readonly schedule: (run: () => void) => void = (run) => {
      setImmediate(run);
    },
    private readonly onExit: (run: () => void) => void = (run) => {
      process.once('exit', run);
    },
  ) {}

  /** Queues `task` to run after the response (see above). `what` and `extra` name it in the error line, if it throws. */
  public defer(task: () => void, what = 'work', extra?: Readonly<Record<string, unknown>>): void {
    this.queue.push({ run: task, what, extra });
    if (!this.exitHooked) {
      this.exitHooked = true;
      this.onExit(() => this.flush());
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** How many tasks wait. */
  public get pending(): number {
    return this.queue.length;
  }

  /**
   * Runs every waiting task now, in order, each once. Never throws. The runtime calls it at the start of an invocation
   * too: a task still waiting then (its setImmediate did not run: a caller that never yields to the event loop) is
   * written before the new invocation stamps its own request id on the logger.
   */
  public flush(): void {
    while (this.queue.length > 0) {
      const tasks = this.queue;
      this.queue = [];
      for (const task of tasks) {
        this.ran++;
        try {
          task.run();
        } catch (e) {
          this.failures++;
          try {
            console.error(
              JSON.stringify({
                level: 'ERROR',
                message: `ai-release: could not write ${task.what} after the response (${this.failures} failed in this environment): ${messageOf(e)}`,
                ...task.extra,
              }),
            );
          } catch {
            // stderr itself failed: the count stays
          }
        }
      }
    }
  }
}

/** The process's queue. */
export const afterResponse = new AfterResponse();

/**
 * Whether deferring is established safe here: under the Lambda Node.js runtime (`AWS_LAMBDA_RUNTIME_API` set) with one
 * invocation at a time per environment (`AWS_LAMBDA_MAX_CONCURRENCY` unset or 1).
 */
export function deferralSafe(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const max = env.AWS_LAMBDA_MAX_CONCURRENCY;
  return typeof env.AWS_LAMBDA_RUNTIME_API === 'string' && env.AWS_LAMBDA_RUNTIME_API !== '' && (max === undefined || max === '' || max === '1');
}
