import { diffWordsWithSpace, structuredPatch } from 'diff';
import { canonicalJson, contentHash, sha256Hex } from './canonical-json';
import { CONFIG_SECTIONS, MANIFEST_COMPONENTS, SHORT_HASH_LENGTH, type ManifestComponent, type ManifestComponentName, type ReleaseManifest } from './contract';

/** What a release is made of, before hashing. */
export interface ReleaseManifestInput {
  readonly service: string;
  /** The validated release config: one entry per present section. */
  readonly config: { readonly [section: string]: unknown };
  /** The code: a content hash of the deployed artifact (asset hash or inline code hash), and an optional label. */
  readonly code?: { readonly hash: string; readonly label?: string };
  readonly configLabel: string;
  readonly degradeLabel: string;
  readonly facts?: { readonly [key: string]: string | number | boolean };
}

export const ABSENT: ManifestComponent = { label: 'none', hash: '' };

/** The manifest component of one config section: its label (the section's own `version` if given) and content hash. */
export function sectionComponent(value: unknown): ManifestComponent {
  if (value === undefined) return ABSENT;
  const hash = contentHash(value);
  const own = (value as { version?: unknown }).version;
  return { label: typeof own === 'string' ? own : hash.slice(0, SHORT_HASH_LENGTH), hash, content: JSON.parse(canonicalJson(value)) };
}

/**
 * The version tuple of one release. Deterministic: the same inputs give the same manifest, byte for byte, and
 * the release id depends only on the component hashes.
 */
export function computeReleaseManifest(input: ReleaseManifestInput): ReleaseManifest {
  const components = {} as Record<ManifestComponentName, ManifestComponent>;
  components.code = input.code ? { label: input.code.label ?? input.code.hash.slice(0, SHORT_HASH_LENGTH), hash: input.code.hash } : ABSENT;
  for (const section of CONFIG_SECTIONS) components[section] = sectionComponent(input.config[section]);
  // The evaluation section came later: a service without one keeps the release id it had before the section existed.
  const hashed = MANIFEST_COMPONENTS.filter((c) => c !== 'evaluation' || components[c].hash !== '');
  const releaseId = sha256Hex(canonicalJson({ service: input.service, components: Object.fromEntries(hashed.map((c) => [c, components[c].hash])) }));
  return {
    schemaVersion: 1,
    service: input.service,
    releaseId,
    components,
    configLabel: input.configLabel,
    degradeLabel: input.degradeLabel,
    ...(input.facts ? { facts: { ...input.facts } } : {}),
  };
}

/** The manifest without section content: what the stack keeps (an SSM parameter has a size limit). */
export function compactManifest(manifest: ReleaseManifest): ReleaseManifest {
  const components = {} as Record<ManifestComponentName, ManifestComponent>;
  for (const c of MANIFEST_COMPONENTS) components[c] = { label: manifest.components[c].label, hash: manifest.components[c].hash };
  return { ...manifest, components };
}

export type ChangeKind = 'added' | 'removed' | 'modified' | 'unchanged';

/** One changed key inside a component's JSON; multi-line text carries a unified line diff. */
export interface KeyChange {
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
  /** Unified diff lines (`-`, `+`, ` `, `@@`) when both sides are multi-line text. */
  readonly lines?: readonly string[];
}

export interface ComponentChange {
  readonly component: ManifestComponentName;
  readonly change: ChangeKind;
  readonly before: { readonly label: string; readonly hash: string };
  readonly after: { readonly label: string; readonly hash: string };
  /** Key-level changes, when both manifests carry the content. */
  readonly keys?: readonly KeyChange[];
  /** Set when the content changed but the section's own version label did not. */
  readonly warning?: string;
  /**
   * Set when the evaluation's rubrics or evaluator model changed: what "good" means changed, so this release is judged
   * by the stable (previous) rubric, and its scores cannot be compared with earlier releases' scores as they are.
   */
  readonly meaningChanged?: string;
}

export interface ManifestDiff {
  readonly service: string;
  /** True when every component hash is equal. */
  readonly identical: boolean;
  readonly changed: readonly ManifestComponentName[];
  readonly components: readonly ComponentChange[];
}

/** What changed from one release to the next, component by component. */
export function diffReleaseManifests(previous: ReleaseManifest, next: ReleaseManifest): ManifestDiff {
  if (previous.service !== next.service) {
    throw new Error(`cannot diff manifests of different services ("${previous.service}" vs "${next.service}"); pass two manifests of the same service`);
  }
  const components: ComponentChange[] = MANIFEST_COMPONENTS.map((name) => {
    const a = previous.components[name] ?? ABSENT;
    const b = next.components[name] ?? ABSENT;
    const change: ChangeKind = a.hash === b.hash ? 'unchanged' : a.hash === '' ? 'added' : b.hash === '' ? 'removed' : 'modified';
    const base = { component: name, change, before: { label: a.label, hash: a.hash }, after: { label: b.label, hash: b.hash } };
    if (change === 'unchanged') return base;
    // Key diffs need both sides' content (an added or removed component has only one side to show).
    const comparable = (a.content !== undefined || a.hash === '') && (b.content !== undefined || b.hash === '');
    const keys = comparable ? diffJson(a.content, b.content) : undefined;
    const warning =
      change === 'modified' && a.label === b.label && a.label !== a.hash.slice(0, SHORT_HASH_LENGTH)
        ? `content changed but its version label stayed "${a.label}": bump ${name}.version so people can tell the versions apart`
        : undefined;
    const meaningChanged = name === 'evaluation' && change === 'modified' ? evaluationMeaningChange(keys) : undefined;
    return { ...base, ...(keys ? { keys } : {}), ...(warning ? { warning } : {}), ...(meaningChanged ? { meaningChanged } : {}) };
  });
  const changed = components.filter((c) => c.change !== 'unchanged').map((c) => c.component);
  return { service: next.service, identical: changed.length === 0, changed, components };
}

/** Key-level diff of two JSON values; paths are JSON paths relative to the component. */
export function diffJson(before: unknown, after: unknown, path = '$'): KeyChange[] {
  if (canonicalJson(before) === canonicalJson(after)) return [];
  if (before === undefined) return [{ path, kind: 'added', after }];
  if (after === undefined) return [{ path, kind: 'removed', before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffJson(before[k], after[k], childPath(path, k)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((v, i) => diffJson(v, after[i], `${path}[${i}]`));
  }
  if (typeof before === 'string' && typeof after === 'string' && (before.includes('\n') || after.includes('\n'))) {
    return [{ path, kind: 'changed', before, after, lines: lineDiff(before, after) }];
  }
  return [{ path, kind: 'changed', before, after }];
}

function lineDiff(before: string, after: string): string[] {
  const patch = structuredPatch('before', 'after', ensureNewline(before), ensureNewline(after), '', '', { context: 2 });
  return patch.hunks.flatMap((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines]);
}

/** Human-readable diff, as the CLI prints it. */
export function renderManifestDiff(diff: ManifestDiff): string {
  const out: string[] = [];
  out.push(
    diff.identical
      ? `${diff.service}: nothing changed (same release)`
      : `${diff.service}: ${diff.changed.length} of ${diff.components.length} components changed (${diff.changed.join(', ')})`,
  );
  for (const c of diff.components) {
    const name = c.component.padEnd(15);
    if (c.change === 'unchanged') {
      out.push(`  ${name} unchanged  ${c.after.label}`);
      continue;
    }
    out.push(
      `  ${name} ${c.change.toUpperCase().padEnd(9)}  ${c.before.label} -> ${c.after.label}  (sha256 ${short(c.before.hash)} -> ${short(c.after.hash)})`,
    );
    if (c.warning) out.push(`      ! ${c.warning}`);
    if (c.meaningChanged) out.push(`      ! ${c.meaningChanged}`);
    if (c.keys === undefined && c.component !== 'code') out.push('      (content not in these manifests: hashes only)');
    for (const k of c.keys ?? []) {
      if (k.lines) {
        out.push(`      ${k.path}:`);
        for (const line of k.lines) out.push(`        ${line}`);
      } else if (k.kind === 'added') {
        out.push(`      + ${k.path} = ${json(k.after)}`);
      } else if (k.kind === 'removed') {
        out.push(`      - ${k.path} (was ${json(k.before)})`);
      } else {
        out.push(`      ~ ${k.path}: ${changedValue(json(k.before), json(k.after))}`);
      }
    }
  }
  return out.join('\n');
}

/** Which of the evaluation's changes alter what "good" means (rubrics, scale, evaluator model), in words. */
function evaluationMeaningChange(keys: readonly KeyChange[] | undefined): string | undefined {
  const meaning = (keys ?? []).filter((k) => /^\$\.(rubrics|scale|evaluatorModel\.modelId)/.test(k.path));
  if (keys !== undefined && meaning.length === 0) return undefined;
  const what = keys === undefined ? 'the evaluation section' : [...new Set(meaning.map((k) => k.path.replace(/^\$\.([A-Za-z]+).*/, '$1')))].join(', ');
  return `${what} changed: what "good" means changed. This release is judged by the stable version's rubric; compare its scores with earlier releases' only under one rubric`;
}

/** Reads a manifest from parsed JSON, with a clear error when it is not one. */
export function parseReleaseManifest(json: unknown, source = 'manifest'): ReleaseManifest {
  // Also accept the output of `aws ssm get-parameter` for the deployed (compact) manifest.
  const ssmValue = (json as { Parameter?: { Value?: unknown } } | null)?.Parameter?.Value;
  if (typeof ssmValue === 'string') {
    try {
      json = JSON.parse(ssmValue);
    } catch {
      throw new Error(`${source}: Parameter.Value is not JSON; is this the release-manifest parameter?`);
    }
  }
  const m = json as Partial<ReleaseManifest> | null;
  if (!m || typeof m !== 'object' || m.schemaVersion !== 1 || typeof m.service !== 'string' || !m.components) {
    throw new Error(`${source} is not a release manifest (schemaVersion 1 with service and components); pass a <service>.release-manifest.json from cdk.out`);
  }
  for (const c of MANIFEST_COMPONENTS) {
    const comp = m.components[c];
    if (comp !== undefined && (typeof comp.hash !== 'string' || typeof comp.label !== 'string')) {
      throw new Error(`${source}: components.${c} needs a string label and hash`);
    }
  }
  return m as ReleaseManifest;
}

function json(v: unknown): string {
  return JSON.stringify(v) ?? 'undefined';
}

/** Values this long or shorter are shown whole, `before -> after`. */
const INLINE_MAX = 80;
/** Unchanged words kept on each side of a change in a word diff. */
const WORD_CONTEXT = 4;

/**
 * A changed value, never cut where it changed: short values whole, long ones as a word diff (`[-old-]{+new+}`, as
 * `git diff --word-diff` writes it) in which every changed word is shown and only long unchanged runs are elided.
 */
export function changedValue(before: string, after: string): string {
  if (before.length <= INLINE_MAX && after.length <= INLINE_MAX) return `${before} -> ${after}`;
  return wordDiff(before, after);
}

/** Word diff of two strings: changed words in full, unchanged runs kept to WORD_CONTEXT words around each change. */
export function wordDiff(before: string, after: string): string {
  const parts = mergeChanges(diffWordsWithSpace(before, after));
  return parts
    .map((p, i) => {
      if (p.removed !== undefined) return `${p.removed ? `[-${p.removed}-]` : ''}${p.added ? `{+${p.added}+}` : ''}`;
      const tokens = p.value!.match(/\s+|\S+/g) ?? [];
      const words = tokens.filter((t) => /\S/.test(t)).length;
      const first = i === 0;
      const last = i === parts.length - 1;
      const keep = (first ? 0 : WORD_CONTEXT) + (last ? 0 : WORD_CONTEXT);
      if (words <= keep + 1) return p.value;
      const head = first ? [] : takeWords(tokens, WORD_CONTEXT);
      const tail = last ? [] : takeWords([...tokens].reverse(), WORD_CONTEXT).reverse();
      return `${head.join('')}…${tail.join('')}`;
    })
    .join('');
}

type WordPart = { readonly value: string; readonly removed?: undefined } | { readonly value?: undefined; readonly removed: string; readonly added: string };

/** Joins changes separated only by spaces into one `[-…-]{+…+}`, as `git diff --word-diff` reads best. */
function mergeChanges(changes: readonly { value: string; added?: boolean; removed?: boolean }[]): WordPart[] {
  const out: WordPart[] = [];
  let removed = '';
  let added = '';
  let open = false;
  let pendingSpace = '';
  const flush = () => {
    if (open) out.push({ removed, added });
    if (pendingSpace) out.push({ value: pendingSpace });
    removed = added = pendingSpace = '';
    open = false;
  };
  for (const c of changes) {
    if (c.added || c.removed) {
      if (open && pendingSpace) {
        removed += pendingSpace;
        added += pendingSpace;
        pendingSpace = '';
      } else if (!open) {
        flush();
      }
      open = true;
      if (c.removed) removed += c.value;
      else added += c.value;
    } else if (open && /^\s+$/.test(c.value)) {
      pendingSpace = c.value;
    } else {
      flush();
      out.push({ value: c.value });
    }
  }
  flush();
  return out;
}

/** The leading tokens holding n words (and the spaces between them). */
function takeWords(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  let words = 0;
  for (const t of tokens) {
    if (/\S/.test(t)) {
      if (words === n) break;
      words++;
    }
    out.push(t);
  }
  return out;
}

function short(hash: string): string {
  return hash === '' ? '(none)' : hash.slice(0, 8);
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
