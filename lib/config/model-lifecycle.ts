import { didYouMean } from './private/config-problem';
/**
 * Bedrock model lifecycle for the models a release config names: a bundled, dated table (lib/data), checked at synth,
 * and an online refresh from the Bedrock control plane (ListFoundationModels / GetFoundationModel `modelLifecycle`).
 * Plain logic: no construct, and no AWS SDK import at load time (the SDK is a caller's choice, injected or required
 * lazily), so every CDK app can load it.
 *
 * Bedrock: "Every model on Amazon Bedrock has one of three states: Active, Legacy, or End-of-Life (EOL) … the state is
 * shown in the modelLifecycle field" of GetFoundationModel / ListFoundationModels (User Guide, "Model lifecycle").
 */
import bundled from './data/bedrock-model-lifecycle.json';

/** One model's lifecycle, as the bundled table or the Bedrock API reports it. Dates are ISO `YYYY-MM-DD` (UTC). */
export interface ModelLifecycleEntry {
  readonly name?: string;
  /** The state as of the table's date (`takenOn`); the check itself works from the dates. */
  readonly status?: 'ACTIVE' | 'LEGACY' | 'EOL';
  readonly legacyOn?: string;
  /** Start of the public extended access part of the Legacy period (higher prices). */
  readonly publicExtendedAccessOn?: string;
  /** The end of life: requests fail on or shortly after this date. */
  readonly endOfLifeOn?: string;
  /** The model card's promise for an Active model: no end of life before this date. */
  readonly eolNoSoonerThan?: string;
  /** Callable only through an inference profile (`us.` / `eu.` / `global.` …): a bare id is refused on demand. */
  readonly profileOnly?: boolean;
  /** The model the provider or Bedrock suggests instead. */
  readonly replacement?: string;
  readonly source?: string;
}

/** A lifecycle table: the date it was taken, and its models by bare foundation-model id. */
export interface ModelLifecycleTable {
  readonly takenOn: string;
  readonly about?: string;
  readonly sources?: readonly string[];
  /** Inference-profile prefixes (`us`, `eu`, `apac`, `global`, …) that map a profile id to its model. */
  readonly profilePrefixes?: readonly string[];
  readonly models: { readonly [modelId: string]: ModelLifecycleEntry };
}

/** The table shipped with this version of the library. */
export const BUNDLED_MODEL_LIFECYCLE: ModelLifecycleTable = bundled as ModelLifecycleTable;

/** Days before an end of life from which a model is reported (synth warning, exit 1). */
export const DEFAULT_EOL_WARNING_DAYS = 60;

/** Construct context key that pins "today" for the lifecycle check (`YYYY-MM-DD`): reproducible synths and tests. */
export const LIFECYCLE_TODAY_CONTEXT = 'cdk-ai-release:today';

const DEFAULT_PREFIXES = ['us', 'eu', 'apac', 'global', 'au', 'jp', 'ca', 'us-gov'];
const DAY_MS = 86_400_000;

/** A model a release config names, and where. */
export interface ModelReference {
  readonly modelId: string;
  readonly role: 'primary' | 'fallback';
  /** The service whose config names it, when known. */
  readonly service?: string;
}

/** How a model id names its model. */
export interface ResolvedModelId {
  /** The bare foundation-model id the lifecycle is looked up by; undefined when the id does not contain it. */
  readonly baseModelId?: string;
  readonly kind: 'foundation-model' | 'inference-profile' | 'application-inference-profile' | 'provisioned-or-custom' | 'unrecognised';
  /** The profile prefix (`us`, `eu`, `global`, …) of an inference-profile id or ARN. */
  readonly profilePrefix?: string;
}

/**
 * Maps what a config may name — a bare id, an inference-profile id (`us.anthropic…`), a foundation-model or
 * inference-profile ARN — to the foundation model behind it. Application inference profiles, provisioned and custom
 * models carry no model id: they resolve to no model (the online check can say more).
 */
export function resolveModelId(modelId: string, prefixes: readonly string[] = DEFAULT_PREFIXES): ResolvedModelId {
  let id = modelId.trim();
  const arn = /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:([a-z-]+)\/(.+)$/.exec(id);
  if (arn) {
    const [, type, rest] = arn;
    if (type === 'foundation-model') return { baseModelId: stripThroughput(rest), kind: 'foundation-model' };
    if (type === 'application-inference-profile') return { kind: 'application-inference-profile' };
    if (type === 'inference-profile') id = rest;
    else return { kind: 'provisioned-or-custom' };
  }
  const dot = id.indexOf('.');
  if (dot > 0) {
    const head = id.slice(0, dot);
    if (prefixes.includes(head) && id.indexOf('.', dot + 1) > dot + 1)
      return { baseModelId: stripThroughput(id.slice(dot + 1)), kind: 'inference-profile', profilePrefix: head };
    return { baseModelId: stripThroughput(id), kind: 'foundation-model' };
  }
  return arn ? { kind: 'unrecognised' } : { baseModelId: id, kind: 'unrecognised' };
}

/** `…-v1:0:200k` (a provisioned-throughput context variant) is the same model as `…-v1:0`. */
function stripThroughput(id: string): string {
  return id.replace(/(:\d+):\d+k$/, '$1');
}

const KIND_TEXT: Record<ResolvedModelId['kind'], string> = {
  'foundation-model': 'a foundation model id',
  'inference-profile': 'an inference profile',
  'application-inference-profile': 'an application inference profile',
  'provisioned-or-custom': 'a provisioned or custom model',
  unrecognised: 'this id',
};

export type ModelFindingCode = 'past-end-of-life' | 'near-end-of-life' | 'profile-only-bare-id' | 'legacy' | 'not-in-table' | 'not-resolvable' | 'ok';

/** What the check found for one model; `severity` orders them: error (past EOL) > warning > note > ok. */
export interface ModelFinding extends ModelReference {
  readonly code: ModelFindingCode;
  readonly severity: 'error' | 'warning' | 'note' | 'ok';
  readonly baseModelId?: string;
  readonly name?: string;
  readonly status?: string;
  readonly endOfLifeOn?: string;
  /** Whole days from today to the end of life (negative when past). */
  readonly daysLeft?: number;
  readonly message: string;
  /** What to change, when something should change. */
  readonly fix?: string;
  /** Where the lifecycle came from: the bundled table (with its date) or the Bedrock API. */
  readonly source: string;
}

export interface CheckModelsOptions {
  /** "Today" for the check. @default the current date */
  readonly today?: Date;
  /** Report a model this many days before its end of life. @default 60 */
  readonly warnDays?: number;
  /** @default BUNDLED_MODEL_LIFECYCLE */
  readonly table?: ModelLifecycleTable;
}

/** Checks models against a lifecycle table: end of life (past, or within `warnDays`), profile-only bare ids, unknowns. */
export function checkModels(models: readonly ModelReference[], options: CheckModelsOptions = {}): ModelFinding[] {
  const table = options.table ?? BUNDLED_MODEL_LIFECYCLE;
  const source = `bundled table of ${table.takenOn}`;
  return models.flatMap((m) => findingsFor(m, table.models, table.profilePrefixes ?? DEFAULT_PREFIXES, source, options));
}

function findingsFor(
  m: ModelReference,
  models: ModelLifecycleTable['models'],
  prefixes: readonly string[],
  source: string,
  options: CheckModelsOptions,
): ModelFinding[] {
  const today = dayOf(options.today ?? new Date());
  const warnDays = options.warnDays ?? DEFAULT_EOL_WARNING_DAYS;
  const resolved = resolveModelId(m.modelId, prefixes);
  const base = { ...m, source };
  const where = `${m.role} model ${m.modelId}${m.service ? ` of service ${m.service}` : ''}`;
  if (!resolved.baseModelId) {
    return [
      {
        ...base,
        code: 'not-resolvable',
        severity: 'note',
        message: `${where}: ${KIND_TEXT[resolved.kind]} does not name its foundation model, so the bundled table cannot check it; check its model with \`aws bedrock get-inference-profile\` or the console`,
      },
    ];
  }
  const entry = models[resolved.baseModelId] ?? models[m.modelId];
  if (!entry) {
    // A few edits from a model the table knows: say which one (keeping the id's own profile prefix or ARN around
    // it). Still a note: real ids of one family differ by one character too (claude-opus-4-7, -4-8), so a model newer
    // than the table can look like a typo.
    const guess = nearestModelId(resolved.baseModelId, Object.keys(models));
    return [
      {
        ...base,
        baseModelId: resolved.baseModelId,
        code: 'not-in-table',
        severity: 'note',
        message: `${where}: not in the ${source}; no lifecycle alarm raised. Run \`cdk-ai-release models check\` with credentials to check it against Bedrock`,
        ...(guess
          ? {
              fix: `did you mean "${m.modelId.trim().replace(resolved.baseModelId, guess)}"${models[guess].name ? ` (${models[guess].name})` : ''}? If the id is right, the model is newer than the table`,
            }
          : {}),
      },
    ];
  }
  const known = { ...base, baseModelId: resolved.baseModelId, name: entry.name, status: entry.status };
  const out: ModelFinding[] = [];
  const instead = entry.replacement
    ? `move to ${entry.replacement}${entry.profileOnly || models[entry.replacement]?.profileOnly ? ' (through an inference profile)' : ''}`
    : 'move to an Active model';
  if (entry.endOfLifeOn) {
    const daysLeft = Math.round((dayOf(parseDay(entry.endOfLifeOn)) - today) / DAY_MS);
    const eol = { endOfLifeOn: entry.endOfLifeOn, daysLeft };
    if (daysLeft <= 0) {
      out.push({
        ...known,
        ...eol,
        code: 'past-end-of-life',
        severity: 'error',
        message: `${where} (${entry.name ?? resolved.baseModelId}) reached end of life on ${entry.endOfLifeOn}: Bedrock refuses calls to it`,
        fix: instead,
      });
    } else if (daysLeft <= warnDays) {
      out.push({
        ...known,
        ...eol,
        code: 'near-end-of-life',
        severity: 'warning',
        message: `${where} (${entry.name ?? resolved.baseModelId}) reaches end of life on ${entry.endOfLifeOn}, in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`,
        fix: instead,
      });
    } else if (entry.status === 'LEGACY' || (entry.legacyOn && dayOf(parseDay(entry.legacyOn)) <= today)) {
      out.push({ ...known, ...eol, code: 'legacy', severity: 'note', message: `${where} is Legacy; end of life on ${entry.endOfLifeOn}`, fix: instead });
    }
  } else if (entry.status === 'LEGACY' || entry.status === 'EOL' || (entry.legacyOn && dayOf(parseDay(entry.legacyOn)) <= today)) {
    out.push({
      ...known,
      code: 'legacy',
      severity: 'note',
      message: `${where} is ${entry.status === 'EOL' ? 'at end of life' : 'Legacy'} (no end-of-life date recorded)`,
      fix: instead,
    });
  }
  const bare = resolved.kind === 'foundation-model' || resolved.kind === 'unrecognised';
  if (entry.profileOnly && bare) {
    const ids = ['us', 'eu', 'global'].map((p) => `${p}.${resolved.baseModelId}`);
    out.push({
      ...known,
      code: 'profile-only-bare-id',
      severity: 'warning',
      message: `${where} (${entry.name ?? resolved.baseModelId}) is callable only through an inference profile; Bedrock refuses its bare id ("on-demand throughput isn't supported")`,
      fix: `name an inference profile instead: ${ids.join(', ')} (the geography your data may be processed in), or its ARN`,
    });
  }
  if (out.length === 0) out.push({ ...known, code: 'ok', severity: 'ok', message: `${where}: ${entry.status ?? 'no lifecycle dates recorded'}` });
  return out;
}

/** The primary and fallback models of a release config (its `model` section), for the check. */
export function modelsOfConfig(config: { readonly [section: string]: unknown }, service?: string): ModelReference[] {
  const model = config.model as { modelId?: unknown; provider?: unknown; fallback?: { modelId?: unknown; provider?: unknown } } | undefined;
  if (!model || typeof model !== 'object') return [];
  const onBedrock = (p: unknown) => p === undefined || p === 'bedrock';
  const out: ModelReference[] = [];
  if (typeof model.modelId === 'string' && onBedrock(model.provider)) out.push({ modelId: model.modelId, role: 'primary', ...(service ? { service } : {}) });
  const fb = model.fallback;
  if (fb && typeof fb.modelId === 'string' && onBedrock(fb.provider ?? model.provider))
    out.push({ modelId: fb.modelId, role: 'fallback', ...(service ? { service } : {}) });
  return out;
}

/** The worst severity of a set of findings. */
export function worstSeverity(findings: readonly ModelFinding[]): ModelFinding['severity'] {
  const order = ['ok', 'note', 'warning', 'error'] as const;
  return findings.reduce<ModelFinding['severity']>((w, f) => (order.indexOf(f.severity) > order.indexOf(w) ? f.severity : w), 'ok');
}

/** `YYYY-MM-DD` → the UTC midnight of that day; anything else is an error naming the value. */
export function parseDay(text: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text)
    throw new Error(`"${text}" is not a date; write it as YYYY-MM-DD (e.g. 2026-11-27)`);
  return d;
}

function dayOf(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function isoDay(d: Date | undefined): string | undefined {
  return d && !Number.isNaN(d.getTime()) ? d.toISOString().slice(0, 10) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Online refresh. The client is any object with the SDK's `send`: a BedrockClient, or a test double.

/** The part of `@aws-sdk/client-bedrock`'s BedrockClient the refresh uses. */
export interface BedrockControlPlane {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** The lifecycle fields of a FoundationModelSummary / FoundationModelDetails (Bedrock API reference). */
interface ApiModel {
  readonly modelId?: string;
  readonly modelName?: string;
  readonly inferenceTypesSupported?: readonly string[];
  readonly modelLifecycle?: {
    readonly status?: string;
    readonly legacyTime?: Date;
    readonly publicExtendedAccessTime?: Date;
    readonly endOfLifeTime?: Date;
  };
}

export interface CheckModelLifecycleOptions extends CheckModelsOptions {
  /**
   * A Bedrock control-plane client (`new BedrockClient({ region })`). Without one, `@aws-sdk/client-bedrock` is loaded
   * if installed and a client built from the default credential chain; without that package or credentials, the
   * bundled table answers and `refreshed` is false.
   */
  readonly client?: BedrockControlPlane;
  readonly signal?: AbortSignal;
}

export interface ModelLifecycleReport {
  readonly findings: ModelFinding[];
  /** True when Bedrock answered; false when the bundled table did (see `offlineReason`). */
  readonly refreshed: boolean;
  readonly offlineReason?: string;
  /** The table the findings were computed from: the bundled one, overlaid with what Bedrock reported. */
  readonly table: ModelLifecycleTable;
}

/**
 * The lifecycle check, refreshed from Bedrock: one ListFoundationModels call, then GetFoundationModel for a model the
 * list did not include. What Bedrock reports replaces the bundled entry (dates and status); profile-only comes from
 * `inferenceTypesSupported` (no ON_DEMAND). A model Bedrock does not know keeps the bundled entry. Any failure to
 * reach Bedrock (no credentials, no network, access denied) falls back to the bundled table, with the reason.
 */
export async function checkModelLifecycle(models: readonly ModelReference[], options: CheckModelLifecycleOptions = {}): Promise<ModelLifecycleReport> {
  const base = options.table ?? BUNDLED_MODEL_LIFECYCLE;
  let sdk: BedrockSdk | undefined;
  try {
    sdk = loadSdk();
  } catch (e) {
    return offline(models, base, options, `@aws-sdk/client-bedrock is not installed (${(e as Error).message}); install it to check online`);
  }
  let client = options.client;
  try {
    client ??= new sdk.BedrockClient({}) as BedrockControlPlane;
  } catch (e) {
    return offline(models, base, options, `no Bedrock client: ${(e as Error).message}`);
  }
  const prefixes = base.profilePrefixes ?? DEFAULT_PREFIXES;
  const wanted = [...new Set(models.map((m) => resolveModelId(m.modelId, prefixes).baseModelId).filter((x): x is string => !!x))];
  const found = new Map<string, ApiModel>();
  try {
    const listed = (await client.send(new sdk.ListFoundationModelsCommand({}), { abortSignal: options.signal })) as {
      modelSummaries?: ApiModel[];
    };
    for (const s of listed.modelSummaries ?? []) if (s.modelId) found.set(s.modelId, s);
  } catch (e) {
    return offline(models, base, options, `Bedrock did not answer ListFoundationModels: ${errorText(e)}`);
  }
  const unknownToBedrock = new Set<string>();
  for (const id of wanted.filter((w) => !found.has(w))) {
    try {
      const got = (await client.send(new sdk.GetFoundationModelCommand({ modelIdentifier: id }), { abortSignal: options.signal })) as {
        modelDetails?: ApiModel;
      };
      if (got.modelDetails) found.set(id, got.modelDetails);
    } catch (e) {
      if ((e as { name?: string })?.name === 'ResourceNotFoundException' || (e as { name?: string })?.name === 'ValidationException') unknownToBedrock.add(id);
      else return offline(models, base, options, `Bedrock did not answer GetFoundationModel for ${id}: ${errorText(e)}`);
    }
  }
  const merged: Record<string, ModelLifecycleEntry> = { ...base.models };
  for (const [id, m] of found) merged[id] = { ...base.models[id], ...fromApi(m), source: 'Bedrock API' };
  const today = isoDay(options.today ?? new Date()) as string;
  const table: ModelLifecycleTable = { ...base, takenOn: today, models: merged };
  const findings = models.flatMap((m) => {
    const id = resolveModelId(m.modelId, prefixes).baseModelId;
    const src = id && found.has(id) ? `Bedrock API on ${today}` : `bundled table of ${base.takenOn}`;
    const fs = findingsFor(m, merged, prefixes, src, options);
    if (id && unknownToBedrock.has(id) && !base.models[id])
      return fs.map((f) =>
        f.code === 'not-in-table'
          ? {
              ...f,
              severity: 'warning' as const,
              message: `${f.role} model ${f.modelId}: Bedrock does not offer ${id} in this region (GetFoundationModel found no such model)`,
            }
          : f,
      );
    return fs;
  });
  return { findings, refreshed: true, table };
}

function fromApi(m: ApiModel): ModelLifecycleEntry {
  const lc = m.modelLifecycle ?? {};
  const eol = isoDay(lc.endOfLifeTime);
  const status = lc.status === 'LEGACY' ? 'LEGACY' : lc.status === 'ACTIVE' ? 'ACTIVE' : undefined;
  return {
    ...(m.modelName ? { name: m.modelName } : {}),
    ...(status ? { status } : {}),
    ...(isoDay(lc.legacyTime) ? { legacyOn: isoDay(lc.legacyTime) } : {}),
    ...(isoDay(lc.publicExtendedAccessTime) ? { publicExtendedAccessOn: isoDay(lc.publicExtendedAccessTime) } : {}),
    ...(eol ? { endOfLifeOn: eol } : {}),
    // ON_DEMAND absent from inferenceTypesSupported: the bare id cannot be invoked; only a profile can.
    ...(m.inferenceTypesSupported ? { profileOnly: !m.inferenceTypesSupported.includes('ON_DEMAND') } : {}),
  };
}

function offline(models: readonly ModelReference[], table: ModelLifecycleTable, options: CheckModelsOptions, reason: string): ModelLifecycleReport {
  return { findings: checkModels(models, { ...options, table }), refreshed: false, offlineReason: reason, table };
}

interface BedrockSdk {
  BedrockClient: new (config: object) => unknown;
  ListFoundationModelsCommand: new (input: object) => unknown;
  GetFoundationModelCommand: new (input: { modelIdentifier: string }) => unknown;
}

/** `@aws-sdk/client-bedrock`, loaded only when the online check runs (it is not a dependency of synth). */
function loadSdk(): BedrockSdk {
  return require('@aws-sdk/client-bedrock') as BedrockSdk;
}

function errorText(e: unknown): string {
  const name = (e as { name?: unknown })?.name;
  const message = (e as { message?: unknown })?.message;
  return `${typeof name === 'string' ? `${name}: ` : ''}${typeof message === 'string' ? message : String(e)}`;
}

/**
 * The table's model id nearest to `id` (case-insensitive), when it is close enough to be a typo of it: at most 2
 * edits, 3 for ids of 36 characters or more (the dated ids, e.g. anthropic.claude-3-5-haiku-20241022-v1:0).
 */
function nearestModelId(id: string, known: readonly string[]): string | undefined {
  return didYouMean(id, known, id.length >= 36 ? 3 : 2);
}
