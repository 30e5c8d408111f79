/**
 * Traffic for the drill: seeded randomness, Poisson arrivals, the injected faults, and the real runtime
 * (`lambda/runtime`) serving each request with a fake model, its EMF captured from stdout as CloudWatch would
 * receive it.
 */
import { AiRuntime, PowertoolsTelemetry } from '../../lambda/runtime';
import { contentHash } from '../../lambda/shared/canonical-json';
import { DIMENSION, METRIC } from '../../lambda/shared/contract';

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw (Knuth's product method, split into pieces of mean <= 30 so it stays exact and fast). */
export function poisson(mean: number, random: () => number): number {
  let n = 0;
  let left = mean;
  while (left > 0) {
    const piece = Math.min(left, 30);
    left -= piece;
    const limit = Math.exp(-piece);
    let p = random();
    while (p > limit) {
      n++;
      p *= random();
    }
  }
  return n;
}

export const FAULT_KINDS = ['none', 'error-spike', 'latency-creep', 'cost-jump', 'quality-drop', 'safety', 'contract', 'stale-index'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * What goes wrong in the bad release, from `startSeconds` after its deployment starts:
 *   error-spike: `size` = share of requests that fail (0.2 = 20 %);
 *   latency-creep: `size` = milliseconds added per minute since the start;
 *   cost-jump: `size` = factor on the tokens used (8 = eight times the cost);
 *   quality-drop: `size` = subtracted from the quality score (0..1);
 *   safety: `size` = share of answers with a safety violation;
 *   contract: `size` = share of answers that break the output contract;
 *   stale-index: `size` = share of questions answered from stale passages (the seed's incident: a retrieval index
 *     update serving outdated passages): fluent, error-free, cited, on time and wrong, so nothing the runtime measures
 *     changes (the self-reported quality, a citation heuristic, sees citations); only the evaluator can tell
 *     (lib/drill/stale-index.ts).
 */
export interface Fault {
  readonly kind: FaultKind;
  readonly size: number;
  readonly startSeconds: number;
}

export const DEFAULT_FAULT_SIZE: Record<FaultKind, number> = {
  none: 0,
  'error-spike': 0.2,
  'latency-creep': 6000,
  'cost-jump': 8,
  'quality-drop': 0.45,
  safety: 0.05,
  contract: 0.1,
  'stale-index': 0.3,
};

/** The healthy service, both versions: what a request costs and scores when nothing is wrong. */
export interface Baseline {
  /** Share of requests that fail anyway (model throttles, timeouts). @default 0.005 */
  readonly errorRate: number;
  /** Median latency, ms (log-normal, sigma 0.5: p99 about 3.2 x the median). @default 1500 */
  readonly latencyMedianMs: number;
  /** Input and output tokens per request (cost 0.004 USD at the drill's prices). @default 1000 / 250 */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Quality score: uniform in [mean - 0.1, mean + 0.1]. @default 0.8 */
  readonly qualityMean: number;
}

export const DEFAULT_BASELINE: Baseline = { errorRate: 0.005, latencyMedianMs: 1500, inputTokens: 1000, outputTokens: 250, qualityMean: 0.8 };

/** What one request does, decided before it runs. */
export interface RequestPlan {
  readonly error: boolean;
  readonly latencyMs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly quality: number;
  readonly unsafe: boolean;
  readonly breaksContract: boolean;
  /** The fault touched this request: a bad answer served (or a failed request). */
  readonly bad: boolean;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The plan of one request: healthy, or with the fault applied (`faultAgeSeconds` since the fault started). */
export function planRequest(base: Baseline, fault: Fault | undefined, faultAgeSeconds: number, random: () => number): RequestPlan {
  const latencyMs = base.latencyMedianMs * Math.exp(0.5 * gaussian(random));
  const quality = Math.min(1, Math.max(0, base.qualityMean + (random() - 0.5) * 0.2));
  const plan = {
    error: random() < base.errorRate,
    latencyMs,
    inputTokens: base.inputTokens,
    outputTokens: base.outputTokens,
    quality,
    unsafe: false,
    breaksContract: false,
    bad: false,
  };
  if (!fault || fault.kind === 'none' || faultAgeSeconds < 0) return plan;
  switch (fault.kind) {
    case 'error-spike':
      if (random() < fault.size) return { ...plan, error: true, bad: true };
      return plan;
    case 'latency-creep':
      return { ...plan, latencyMs: latencyMs + (fault.size * faultAgeSeconds) / 60, bad: true };
    case 'cost-jump':
      return { ...plan, inputTokens: Math.round(plan.inputTokens * fault.size), outputTokens: Math.round(plan.outputTokens * fault.size), bad: true };
    case 'quality-drop':
      return { ...plan, quality: Math.max(0, quality - fault.size), bad: true };
    case 'safety':
      return random() < fault.size ? { ...plan, unsafe: true, bad: true } : plan;
    case 'contract':
      return random() < fault.size ? { ...plan, breaksContract: true, bad: true } : plan;
    case 'stale-index':
      // A wrong answer served, and nothing measured changes.
      return random() < fault.size ? { ...plan, bad: true } : plan;
  }
}

/** One request as CloudWatch sees it: the values of its EMF document, by metric name, and its dimensions. */
export interface Outcome {
  readonly version: string;
  readonly values: Readonly<Record<string, number>>;
  readonly bad: boolean;
  /** The plan's latency without a latency-creep fault, so a resampled outcome can take the creep of its own time. */
  readonly creepMs: number;
}

/** The release config the drill's runtime serves (a valid one: the runtime checks it at the boundary). */
export function drillReleaseConfig(service: string): Record<string, unknown> {
  const sections = {
    prompt: { version: 'drill', template: 'Q: {{question}}', variables: [{ name: 'question' }] },
    model: {
      provider: 'bedrock',
      modelId: 'drill-model',
      pricing: { inputPer1kTokensUsd: 0.002, outputPer1kTokensUsd: 0.008 },
    },
    outputContract: {
      version: 'drill',
      schema: { type: 'object', required: ['answer'], properties: { answer: { type: 'string', minLength: 1 } } },
      qualityFloor: 0.5,
    },
  };
  const hash = contentHash(sections);
  return {
    ...sections,
    _release: {
      service,
      label: `cfg-${hash.slice(0, 12)}`,
      contentHash: hash,
      sections: Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, { label: 'drill', hash: contentHash(v) }])),
    },
  };
}

const NO_FLAGS = {
  useFallbackModel: { enabled: false },
  disableTools: { enabled: false },
  disableRetrieval: { enabled: false },
  staticAnswer: { enabled: false, message: 'Back soon.' },
};

/**
 * The real runtime, one per code version, with a fake model that does what each request's plan says, and a
 * virtual clock so the latency it measures is the planned one. `serve` runs a batch and returns the outcomes parsed
 * from the EMF the runtime wrote to stdout (stdout is intercepted while the batch runs).
 */
export class RuntimeHarness {
  private clock = 0;
  private readonly runtimes = new Map<string, (plan: RequestPlan, id: string) => Promise<unknown>>();

  constructor(private readonly service: string) {}

  private runtime(version: string) {
    const r = this.runtimes.get(version);
    if (r) return r;
    const release = { content: drillReleaseConfig(this.service), version: '1', stale: false };
    const flags = { content: NO_FLAGS, version: '1', stale: false };
    const served = (profile: string) => (profile === 'rel' ? release : flags);
    const rt = new AiRuntime<{ question: string }, { answer: string }>({
      service: this.service,
      releaseProfile: 'rel',
      degradeProfile: 'deg',
      codeVersion: version,
      now: () => this.clock,
      config: { get: async (p) => served(p), fresh: (p) => served(p) },
      telemetry: new PowertoolsTelemetry(this.service),
    });
    const run = (plan: RequestPlan, id: string) =>
      rt.invoke(
        async () => {
          this.clock += plan.latencyMs;
          if (plan.error) throw new Error('drill: injected failure');
          return {
            output: { answer: plan.breaksContract ? '' : 'drill answer' },
            usage: { inputTokens: plan.inputTokens, outputTokens: plan.outputTokens },
            quality: plan.quality,
            safety: plan.unsafe ? { violated: true, reasons: ['drill: injected'] } : undefined,
          };
        },
        { question: 'drill' },
        { awsRequestId: id },
      );
    this.runtimes.set(version, run);
    return run;
  }

  /** Serves the requests in order; returns one outcome per request, from its EMF document. */
  public async serve(requests: readonly { version: string; plan: RequestPlan; creepMs?: number }[]): Promise<Outcome[]> {
    const lines: string[] = [];
    const write = process.stdout.write;
    const writeErr = process.stderr.write;
    let partial = '';
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = partial + String(chunk);
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
    // Failure records and warnings go to the log too; the drill reads only the EMF.
    process.stderr.write = ((_chunk: unknown, ...rest: unknown[]) => {
      (rest.find((x) => typeof x === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof process.stderr.write;
    const byId = new Map<string, Record<string, number>>();
    try {
      for (let i = 0; i < requests.length; i++) {
        const { version, plan } = requests[i];
        await this.runtime(version)(plan, `drill-${i}`).catch(() => undefined);
      }
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    if (partial) lines.push(partial);
    for (const line of lines) {
      if (!line.includes('"_aws"')) continue;
      const doc = JSON.parse(line);
      const names: string[] = doc._aws.CloudWatchMetrics.flatMap((d: { Metrics: { Name: string }[] }) => d.Metrics.map((m) => m.Name));
      byId.set(String(doc.requestId), Object.fromEntries(names.map((n) => [n, Number(doc[n])])));
      if (doc[DIMENSION.SERVICE] !== this.service) throw new Error(`drill: the runtime wrote Service=${doc[DIMENSION.SERVICE]}, expected ${this.service}`);
    }
    return requests.map((r, i) => {
      const values = byId.get(`drill-${i}`);
      if (values?.[METRIC.INVOCATIONS] !== 1) throw new Error(`drill: the runtime wrote no EMF document for request ${i}`);
      return { version: r.version, values, bad: r.plan.bad, creepMs: r.creepMs ?? 0 };
    });
  }
}
