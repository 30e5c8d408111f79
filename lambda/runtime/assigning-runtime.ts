/**
 * The runtime of a service whose config canary is assigned (issue 16 C): reads the share document, assigns the
 * invocation's conversation (or request) to live or candidate (assignment.ts), and runs it on the runtime of that
 * arm — each with its own config cache and last good config, so an arm never serves the other's config. The arm is
 * stamped on every log line, EMF document and failure record the chosen runtime writes.
 *
 * Safety: anything unclear sends the invocation to live. An unreadable share document is share 0 (or the last good
 * one); a candidate environment serving other content than the share names (a newer candidate staged for the gate) or
 * no usable candidate config sends the conversation to live and says why (`fallback`), so the judge can discount it.
 */
import { CONFIG_GATE_ENV, type CanaryShareDocument, type ConfigAssignment } from '../shared/contract';
import type { AiHandler, AiRuntime, ConfigPort, InvocationContext, TelemetryPort } from './ai-runtime';
import {
  type AssignmentUnit,
  assign,
  defaultConversationId,
  defaultConversationStart,
  NO_RELEASE,
  shareDocumentProblems,
  startFromConversationId,
} from './assignment';
import { ConfigTimeoutError, messageOf, raceSignal, type ServedConfig } from './config-cache';
import type { CodeCanarySignal } from './evaluation-sampler';

export interface AssigningRuntimeOptions<I, O> {
  /** Runs on the live environment's release config. */
  readonly live: Pick<AiRuntime<I, O>, 'invoke'>;
  /** Runs on the candidate environment's release config (same service, same telemetry as live: it is live traffic). */
  readonly candidate: Pick<AiRuntime<I, O>, 'invoke'>;
  /** Where the share document comes from (a ConfigCache over the share environment). */
  readonly share: ConfigPort;
  readonly shareProfile: string;
  /** The candidate's release config: the same port the candidate runtime reads (so the check costs no extra fetch). */
  readonly candidateConfig: ConfigPort;
  readonly releaseProfile: string;
  /** Warnings (unusable share document, candidate mismatch), rate-limited to one per cause and document. */
  readonly telemetry: Pick<TelemetryPort, 'warn'>;
  /** The caller's conversation id. @default defaultConversationId (input.conversationId, input.sessionId, ClientContext custom.conversationId) */
  readonly conversationId?: (input: I, context: InvocationContext) => string | undefined;
  /**
   * When the caller's conversation started (epoch ms): the conversation is then assigned with the share in force at its
   * start and keeps one arm across the ramp's steps. When it gives none, the start is read from a time-ordered
   * conversation id (UUIDv7, ULID; `readStartFromConversationId`); when neither says, the conversation is assigned
   * with the release's first share at every step (it cannot switch at a step either; assignment.ts).
   * @default defaultConversationStart (input.conversationStartedAt, ClientContext custom.conversationStartedAt)
   */
  readonly conversationStartedAt?: (input: I, context: InvocationContext) => number | undefined;
  /**
   * Read a conversation's start from its id when the caller gives none: UUIDv7 and ULID carry their creation time in
   * ms (startFromConversationId). Turn it off when your ids are time-ordered but not minted at the conversation's start.
   * @default true
   */
  readonly readStartFromConversationId?: boolean;
  /**
   * How long after a step of the share it counts for conversations that start then (ms): at least the most an
   * execution environment lags the share document (one extension poll; the share is read through while a release
   * runs), plus the skew between the clocks that mint conversation ids and the controller's. Shorter, a conversation
   * that starts just after a step on an environment that has not polled it yet can switch at its next turn.
   * @default 20000 (AiServiceConfig.bind's 15-s poll + 5 s); createAiRuntime: the extension's poll interval + 5 s
   */
  readonly stepSettleMs?: number;
  /**
   * The share document announces the code plane's canary (SHARE_ENV.CODE_CANARY): code-plane pair-only samples are then
   * drawn only on the announced version until its expiry. @default false (not announced: every answer is drawn)
   */
  readonly codeCanaries?: boolean;
  /** Longest the share and candidate reads may wait, each. @default 1000 */
  readonly readTimeoutMs?: number;
  readonly now?: () => number;
}

export class AssigningRuntime<I, O> {
  private lastGood: CanaryShareDocument = NO_RELEASE;
  private readonly warned = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly o: AssigningRuntimeOptions<I, O>) {
    this.now = o.now ?? Date.now;
  }

  public handler(fn: AiHandler<I, O>): (input: I, context?: InvocationContext) => Promise<O> {
    return (input, context) => this.invoke(fn, input, context);
  }

  public async invoke(fn: AiHandler<I, O>, input: I, context: InvocationContext = {}): Promise<O> {
    const a = await this.assignment(input, context);
    // The document the assignment used (the fresh one, else the last good one): its code canary, when announced.
    const codeCanary: CodeCanarySignal = this.o.codeCanaries ? { known: true, state: this.lastGood.codeCanary } : { known: false };
    return (a.arm === 'candidate' ? this.o.candidate : this.o.live).invoke(fn, input, context, a, codeCanary);
  }

  /** The arm of one invocation (exposed for tests and the drill). */
  public async assignment(input: I, context: InvocationContext): Promise<ConfigAssignment> {
    const doc = await this.shareDocument();
    const unit = this.unitOf(input, context);
    const a = assign(doc, unit, unit.kind === 'conversation' ? this.startOf(input, context, unit.id) : undefined, this.o.stepSettleMs ?? 20_000);
    if (a.arm !== 'candidate') return a;
    const candidate = await this.read(this.o.candidateConfig, this.o.releaseProfile);
    if (!candidate) {
      this.warnOnce(`unavailable\n${doc.releaseKey}`, 'assigned config canary: the candidate config cannot be read; its conversations are served live', {
        releaseKey: doc.releaseKey,
      });
      return { ...a, arm: 'live', fallback: 'candidate-unavailable' };
    }
    const hash = contentHashOf(candidate.content);
    if (hash !== doc.candidateContentHash) {
      this.warnOnce(
        `mismatch\n${doc.releaseKey}\n${hash}`,
        `assigned config canary: the candidate environment (${CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT}) serves content ${hash ?? '(no _release.contentHash)'}, not the ${doc.candidateContentHash} the share names; its conversations are served live until they agree`,
        { releaseKey: doc.releaseKey, served: hash ?? null, expected: doc.candidateContentHash ?? null },
      );
      return { ...a, arm: 'live', fallback: 'candidate-mismatch' };
    }
    return a;
  }

  private unitOf(input: I, context: InvocationContext): AssignmentUnit {
    let id: string | undefined;
    try {
      id = this.o.conversationId ? this.o.conversationId(input, context) : defaultConversationId(input, context?.clientContext);
    } catch {
      id = undefined;
    }
    if (typeof id === 'string' && id !== '') return { id, kind: 'conversation' };
    const requestId = typeof context?.awsRequestId === 'string' && context.awsRequestId !== '' ? context.awsRequestId : `local-${this.now()}-${Math.random()}`;
    return { id: requestId, kind: 'request' };
  }

  private startOf(input: I, context: InvocationContext, conversationId: string): number | undefined {
    let given: number | undefined;
    try {
      given = this.o.conversationStartedAt ? this.o.conversationStartedAt(input, context) : defaultConversationStart(input, context?.clientContext);
    } catch {
      given = undefined;
    }
    if (typeof given === 'number' && Number.isFinite(given)) return given;
    return this.o.readStartFromConversationId === false ? undefined : startFromConversationId(conversationId);
  }

  /** The share in force: the fresh document, else the last good one (NO_RELEASE before any). */
  private async shareDocument(): Promise<CanaryShareDocument> {
    const served = await this.read(this.o.share, this.o.shareProfile);
    if (!served) return this.lastGood;
    const problems = shareDocumentProblems(served.content);
    if (problems.length > 0) {
      this.warnOnce(`share\n${problems.join('\n')}`, 'assigned config canary: the share document is not usable; keeping the last good one', { problems });
      return this.lastGood;
    }
    this.lastGood = served.content as CanaryShareDocument;
    return this.lastGood;
  }

  private async read(port: ConfigPort, profile: string): Promise<ServedConfig | undefined> {
    const fresh = port.fresh?.(profile);
    if (fresh) return fresh;
    const ms = this.o.readTimeoutMs ?? 1000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ConfigTimeoutError(profile, ms)), ms);
    try {
      return await raceSignal(port.get(profile, { signal: controller.signal }), controller.signal);
    } catch (e) {
      this.warnOnce(`read\n${profile}`, `assigned config canary: reading ${profile} failed: ${messageOf(e)}`, {});
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private warnOnce(key: string, message: string, extra: Record<string, unknown>) {
    if (this.warned.has(key)) return;
    if (this.warned.size > 100) this.warned.clear();
    this.warned.add(key);
    try {
      this.o.telemetry.warn(message, extra);
    } catch {
      // a warning never fails an invocation
    }
  }
}

function contentHashOf(content: unknown): string | undefined {
  try {
    const h = (content as { _release?: { contentHash?: unknown } } | null)?._release?.contentHash;
    return typeof h === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}
