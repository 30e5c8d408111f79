import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml';
import { CONFIG_SECTIONS, type ConfigSection } from '../../lambda/shared/contract';
import { type ConfigProblem, didYouMean, formatProblems, jsonPath, showText } from './private/config-problem';
import { type ValidateOptions, validateReleaseConfig } from './private/validate-release-config';

/** Where one part of a release config came from, and how to point at a line in it. */
export interface ReleaseConfigPart {
  /** The section this part holds, or `undefined` when it holds a whole release config (several sections). */
  readonly section?: string;
  readonly value: unknown;
  readonly file?: string;
  /** Line and column of a path inside this part, when the source knows it. */
  readonly locate?: (segments: readonly (string | number)[]) => { line: number; column: number } | undefined;
}

/** The parts of a release config as read, plus whatever could not be read. */
export interface LoadedReleaseConfig {
  readonly parts: readonly ReleaseConfigPart[];
  readonly problems: readonly ConfigProblem[];
  /** The file or directory the config came from, named by problems that belong to no single file (a missing section). */
  readonly origin?: string;
}

/** A release config that cannot be released: every problem with file, line, JSON path and fix. */
export class ReleaseConfigError extends Error {
  constructor(
    public readonly serviceName: string,
    public readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `release config of service "${serviceName}" is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${formatProblems(problems)}`,
    );
    this.name = 'ReleaseConfigError';
  }
}

/**
 * Reads and validates a release config as synth does, without building anything: the validated sections, or every
 * problem. `AiServiceConfig` reports the problems as a construct validation error; direct callers (a CI check, a
 * script) can call `checkReleaseConfig` to get a `ReleaseConfigError`.
 */
export function loadReleaseConfig(source: ReleaseConfigSource, options: ValidateOptions = {}): { config: Record<string, unknown>; problems: ConfigProblem[] } {
  const loaded = source.load();
  const result = validateReleaseConfig(loaded.parts, { origin: loaded.origin, ...options });
  if (loaded.problems.length === 0) return result;
  // The files that did load are still checked, so one synth shows everything; a section reported missing may be
  // the file that failed to load, so that report would only repeat it.
  const rest = result.problems.filter((p) => !/^the required section "[^"]+" is missing$/.test(p.message));
  return { config: result.config, problems: [...loaded.problems, ...rest] };
}

/** Like `loadReleaseConfig`, but throws a `ReleaseConfigError` listing every problem. */
export function checkReleaseConfig(serviceName: string, source: ReleaseConfigSource, options: ValidateOptions = {}): Record<string, unknown> {
  const { config, problems } = loadReleaseConfig(source, options);
  if (problems.length > 0) throw new ReleaseConfigError(serviceName, problems);
  return config;
}

const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml'];

/**
 * Where a service's release config comes from: one file with every section, a directory with one file per
 * section, named section files, or an inline object. JSON and YAML both work; content is canonicalised, so
 * reformatting a file or moving between JSON and YAML changes no version.
 */
export abstract class ReleaseConfigSource {
  /** One JSON or YAML file holding every section (`prompt`, `model`, `retrieval`, `tools`, `outputContract`). */
  public static fromFile(file: string): ReleaseConfigSource {
    return new FileSource([{ file }]);
  }

  /** Several JSON or YAML files, each holding one or more whole sections (e.g. a shared base plus a service file). */
  public static fromFiles(files: readonly string[]): ReleaseConfigSource {
    return new FileSource(files.map((file) => ({ file })));
  }

  /**
   * A directory with one file per section, named after it: `prompt.yaml`, `model.json`, `retrieval.yml`,
   * `tools.yaml`, `output-contract.json` (kebab-case or camelCase). Other JSON/YAML files are an error, so a
   * misnamed section can never be silently dropped; files of other types (README.md) are ignored.
   */
  public static fromDirectory(dir: string): ReleaseConfigSource {
    return new DirectorySource(dir);
  }

  /** Named files, one per section. */
  public static fromSectionFiles(files: { readonly [section: string]: string }): ReleaseConfigSource {
    return new FileSource(Object.entries(files).map(([section, file]) => ({ file, section })));
  }

  /** An inline object holding every section. */
  public static fromObject(config: { readonly [section: string]: unknown }): ReleaseConfigSource {
    return new InlineSource(config);
  }

  /** Reads the source. Never throws for bad content: problems are returned, so all of them are reported at once. */
  public abstract load(): LoadedReleaseConfig;
}

class InlineSource extends ReleaseConfigSource {
  constructor(private readonly config: unknown) {
    super();
  }
  public load(): LoadedReleaseConfig {
    return { parts: [{ value: this.config }], problems: [] };
  }
}

class FileSource extends ReleaseConfigSource {
  constructor(private readonly files: readonly { file: string; section?: string }[]) {
    super();
  }
  public load(): LoadedReleaseConfig {
    const parts: ReleaseConfigPart[] = [];
    const problems: ConfigProblem[] = [];
    for (const { file, section } of this.files) {
      const result = readConfigFile(file, section);
      if ('part' in result) parts.push(result.part);
      else problems.push(...result.problems);
    }
    return { parts, problems, origin: this.files.length === 1 ? this.files[0].file : undefined };
  }
}

class DirectorySource extends ReleaseConfigSource {
  constructor(private readonly dir: string) {
    super();
  }
  public load(): LoadedReleaseConfig {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.dir).sort();
    } catch (e) {
      return {
        parts: [],
        problems: [
          {
            file: this.dir,
            path: '$',
            message: `cannot read the config directory (${(e as NodeJS.ErrnoException).code ?? e})`,
            fix: 'pass the directory that holds prompt.yaml, model.yaml, …',
          },
        ],
      };
    }
    const files: { file: string; section?: string }[] = [];
    const problems: ConfigProblem[] = [];
    for (const name of entries) {
      if (name.startsWith('.')) continue; // editor and tool dotfiles (.prettierrc.json) are not sections
      const ext = path.extname(name).toLowerCase();
      if (!CONFIG_EXTENSIONS.includes(ext)) continue;
      const file = path.join(this.dir, name);
      const section = sectionForFileName(path.basename(name, path.extname(name)));
      if (section) {
        files.push({ file, section });
      } else {
        const stem = path.basename(name, path.extname(name));
        const guess = didYouMean(stem, [...CONFIG_SECTIONS, 'output-contract']);
        problems.push({
          file,
          path: '$',
          message: `"${name}" is not a release config section (sections: ${CONFIG_SECTIONS.join(', ')})`,
          fix: guess ? `rename it to ${guess}${ext}` : 'rename it after a section, or move it out of the config directory',
        });
      }
    }
    if (files.length === 0 && problems.length === 0) {
      problems.push({
        file: this.dir,
        path: '$',
        message: 'the config directory holds no section files',
        fix: 'add prompt.yaml, model.yaml and output-contract.yaml at least',
      });
    }
    const loaded = new FileSource(files).load();
    return { parts: loaded.parts, problems: [...problems, ...loaded.problems], origin: this.dir };
  }
}

function sectionForFileName(stem: string): ConfigSection | undefined {
  const camel = stem.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
  return CONFIG_SECTIONS.find((s) => s === camel);
}

/**
 * Deepest nesting a release config may have. Real configs (JSON Schemas included) stay under 20 levels; the limit
 * keeps every recursive consumer (YAML composer, ajv, canonical JSON, CloudFormation) far from its stack limit.
 */
export const MAX_CONFIG_DEPTH = 64;
/**
 * Most characters a file may expand to once YAML aliases are resolved. Far above AppConfig's 1 MiB, so it only
 * stops alias bombs (a 1 MB string aliased a hundred times), before anything copies the expansion.
 */
export const MAX_EXPANDED_CHARS = 16 * 1024 * 1024;

type ReadResult = { part: ReleaseConfigPart } | { problem: ConfigProblem; problems: readonly ConfigProblem[] };

/**
 * Reads one JSON or YAML file into a part that can point at its own lines. Never throws for bad content: encoding,
 * syntax, nesting, aliases and duplicate keys become problems naming the file (and line, where there is one).
 */
export function readConfigFile(file: string, section?: string): ReadResult {
  const basePath = jsonPath(section ? [section] : []);
  const fail = (...list: Omit<ConfigProblem, 'file' | 'path'>[]): ReadResult => {
    const problems = list.map((p) => ({ file, path: basePath, ...p }));
    return { problem: problems[0], problems };
  };
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return fail({
      message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})`,
      fix: 'check the path; relative paths resolve from the directory cdk runs in',
    });
  }
  const ext = path.extname(file).toLowerCase();
  if (!CONFIG_EXTENSIONS.includes(ext)) return fail({ message: `unsupported file type "${ext}"`, fix: 'use .json, .yaml or .yml' });
  const decoded = decodeUtf8(bytes);
  if ('problem' in decoded) return fail(decoded.problem);
  const text = decoded.text;
  if (text.trim() === '') {
    return fail({ message: 'the file is empty', fix: section ? `write the ${section} section as an object` : 'write the release config as an object' });
  }
  const lines = new LineIndex(text);
  const tooDeep = (at: readonly (string | number)[], pos?: { line: number; column: number }) => ({
    ...pos,
    message: `the content is nested more than ${MAX_CONFIG_DEPTH} levels deep (at ${jsonPath([...(section ? [section] : []), ...at.slice(0, 6)])}…)`,
    fix: 'flatten the structure; a release config needs far fewer levels',
  });

  let value: unknown;
  let doc: Document | undefined;
  if (ext === '.json') {
    const depth = jsonTextDepth(text, MAX_CONFIG_DEPTH);
    if (depth !== undefined) return fail(tooDeep([], lines.at(depth)));
    try {
      value = JSON.parse(text);
    } catch (e) {
      return fail(explainJsonError(text, e as Error, lines));
    }
    // The YAML parser reads JSON too: it gives line numbers and catches duplicate keys, which JSON.parse hides.
    // Best effort: content JSON.parse accepted is never refused for the YAML parser's sake.
    const yamlDoc = parseYaml(text);
    if (yamlDoc && yamlDoc.errors.length === 0) doc = yamlDoc;
  } else {
    doc = parseYaml(text);
    if (!doc) return fail(tooDeep([]));
    if (doc.errors.length > 0) {
      const overflow = doc.errors.find((e) => /call stack/i.test(e.message));
      if (overflow) return fail(tooDeep([], lines.at(overflow.pos[0])));
      const err = doc.errors[0];
      return fail({ ...lines.at(err.pos[0]), message: `not valid YAML: ${err.message.split('\n')[0]}` });
    }
    // An unknown tag (`!Ref`, `!GetAtt`, `!!js/function`) only warns, and its value silently becomes a plain string.
    const tags = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (tags.length > 0)
      return fail(
        ...tags.slice(0, 20).map((w) => {
          const tag = /Unresolved tag: (\S+)/.exec(w.message)?.[1] ?? 'a tag';
          return {
            ...lines.at(w.pos[0]),
            message: `the YAML tag ${tag.replace(/^tag:yaml\.org,2002:/, '!!')} is not resolved in a release config (its value would silently become a plain string)`,
            fix: 'write the value itself: a release config is data, CloudFormation intrinsics and custom tags do not apply to it',
          };
        }),
      );
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      if (e instanceof RangeError) return fail(tooDeep([]));
      if (/excessive alias count/i.test(message))
        return fail({
          message: 'YAML aliases expand to too much content (an alias bomb: aliases of aliases multiply)',
          fix: 'write the repeated content out, or alias it fewer times',
        });
      const unresolved = /Unresolved alias[^:]*: (.*)/.exec(message);
      if (unresolved) {
        const alias = findAlias(doc, unresolved[1]);
        return fail({
          ...(alias ? lines.at(alias) : {}),
          message: `the YAML alias *${unresolved[1]} has no anchor &${unresolved[1]} before it`,
          fix: `define &${unresolved[1]} before using *${unresolved[1]}, or write the value out`,
        });
      }
      return fail({ message: `not valid YAML: ${message.split('\n')[0]}` });
    }
  }
  if (value === null && doc && doc.contents === null)
    return fail({
      message: 'the file holds no content (only comments or a document marker)',
      fix: section ? `write the ${section} section as an object` : 'write the release config as an object',
    });
  const shape = measure(value);
  if (shape.tooDeepAt) return fail(tooDeep(shape.tooDeepAt, doc ? locateInDocument(doc, lines, shape.tooDeepAt) : undefined));
  if (shape.tooLarge)
    return fail({
      message: `the content expands to more than ${MAX_EXPANDED_CHARS} characters once YAML aliases are resolved`,
      fix: 'alias large values fewer times; AppConfig holds at most 1 MiB',
    });
  if (doc) {
    const duplicates = duplicateKeys(doc, lines, section ? [section] : []);
    if (duplicates.length > 0) return { problem: { file, ...duplicates[0] }, problems: duplicates.map((d) => ({ file, ...d })) };
  }
  const located = doc;
  return {
    part: {
      file,
      section,
      value,
      locate: located ? (segments) => locateInDocument(located, lines, segments) : undefined,
    },
  };
}

function parseYaml(text: string): Document | undefined {
  try {
    // Unique keys are checked by duplicateKeys (linear); the parser's own check is quadratic in the keys of a map.
    // merge: YAML merge keys (`<<: *base`) are common in shared config and resolve as YAML 1.1 defined them.
    return parseDocument(text, { uniqueKeys: false, prettyErrors: false, merge: true, keepSourceTokens: false });
  } catch {
    return undefined; // the parser's own recursion gave up: nesting far too deep
  }
}

/** Decodes UTF-8 (a BOM is allowed and dropped); any other encoding is a problem that names it. */
function decodeUtf8(bytes: Buffer): { text: string } | { problem: Omit<ConfigProblem, 'file' | 'path'> } {
  const fix = 'save the file as UTF-8 (AppConfig serves the config as UTF-8 JSON)';
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xfffe0000) return { problem: { message: 'the file is UTF-32 (little-endian), not UTF-8', fix } };
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x0000feff) return { problem: { message: 'the file is UTF-32 (big-endian), not UTF-8', fix } };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { problem: { message: 'the file is UTF-16 (little-endian), not UTF-8', fix } };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { problem: { message: 'the file is UTF-16 (big-endian), not UTF-8', fix } };
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  const nul = body.indexOf(0);
  if (nul >= 0) {
    const utf16 = body.length > 1 && (body[0] === 0 || body[1] === 0);
    return {
      problem: {
        message: utf16
          ? 'the file looks like UTF-16 without a byte order mark, not UTF-8'
          : `the file holds a NUL byte at offset ${nul + start}: it is binary, not text`,
        fix,
      },
    };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body) };
  } catch {
    const bad = firstInvalidUtf8(body);
    const before = new TextDecoder('utf-8').decode(body.subarray(0, bad));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const byte = body[bad];
    // 0x80–0xFF alone is what Latin-1 / Windows-1252 text (é = 0xE9, ’ = 0x92) looks like to a UTF-8 reader.
    const guess = byte >= 0x80 ? ' (it looks like Latin-1 / Windows-1252)' : '';
    return {
      problem: {
        line,
        column,
        message: `the file is not valid UTF-8${guess}: byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at line ${line}, column ${column}`,
        fix,
      },
    };
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    // Overlong forms, surrogates and code points above U+10FFFF.
    if (n === 2 && ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] >= 0xa0))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] >= 0x90))) return i;
    i += n + 1;
  }
  return i;
}

/** Offset where JSON text first nests deeper than `max`, skipping strings; linear and stack-free. */
function jsonTextDepth(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** JSON.parse's error with line and column, and the usual cause named. */
function explainJsonError(text: string, e: Error, lines: LineIndex): Omit<ConfigProblem, 'file' | 'path'> {
  const pos = /position (\d+)/.exec(e.message);
  const offset = pos ? Number(pos[1]) : /Unexpected end/i.test(e.message) ? text.length : undefined;
  const what = e.message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/^JSON\.parse: /, '')
    .replace(/, "[^"]*"\.\.\. is not valid JSON$/s, '');
  let hint: string | undefined;
  if (offset !== undefined) {
    const before = text.slice(0, offset).trimEnd();
    const here = text[offset];
    if ((here === '}' || here === ']') && before.endsWith(',')) hint = 'remove the trailing comma (JSON allows none)';
    else if (here === '/' && (text[offset + 1] === '/' || text[offset + 1] === '*')) hint = 'JSON has no comments: remove them, or write the file as YAML';
    else if (here === "'") hint = 'JSON strings use double quotes';
  }
  const at = offset !== undefined ? lines.at(offset) : undefined;
  return {
    ...at,
    message: `not valid JSON${at ? ` at line ${at.line}, column ${at.column}` : ''}: ${what}`,
    fix: hint ?? 'fix the syntax at that position (a YAML-aware editor or `node -e "JSON.parse(...)"` shows it too)',
  };
}

/** Line starts of a text, so an offset becomes line:column in O(log lines) (not a scan from the start each time). */
class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  public at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** Depth and expanded size of a parsed value, iteratively (aliases make a DAG; each visit counts, as JSON would). */
function measure(value: unknown): { tooDeepAt?: (string | number)[]; tooLarge?: boolean } {
  const stack: { v: unknown; depth: number; path: (string | number)[] }[] = [{ v: value, depth: 0, path: [] }];
  let chars = 0;
  while (stack.length > 0) {
    const { v, depth, path: at } = stack.pop()!;
    if (typeof v === 'string') chars += v.length + 2;
    else chars += 8;
    if (chars > MAX_EXPANDED_CHARS) return { tooLarge: true };
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_CONFIG_DEPTH) return { tooDeepAt: at };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: depth < 8 ? [...at, i] : at }));
    else
      for (const [k, x] of Object.entries(v)) {
        chars += k.length + 3;
        stack.push({ v: x, depth: depth + 1, path: depth < 8 ? [...at, k] : at });
      }
  }
  return {};
}

/** Keys written twice in one mapping, with the line and path of the second. Linear: one Set per mapping. */
function duplicateKeys(doc: Document, lines: LineIndex, base: readonly string[]): Omit<ConfigProblem, 'file'>[] {
  const out: Omit<ConfigProblem, 'file'>[] = [];
  const stack: { node: unknown; at: (string | number)[] }[] = [{ node: doc.contents, at: [...base] }];
  const seen = new Set<unknown>();
  while (stack.length > 0 && out.length < 100) {
    const { node, at } = stack.pop()!;
    if (!node || seen.has(node)) continue;
    seen.add(node);
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined && key !== '<<') {
          if (keys.has(key)) {
            const r = (pair.key as { range?: number[] }).range;
            out.push({
              ...(r ? lines.at(r[0]) : {}),
              path: jsonPath([...at, key]),
              message: `the key ${showText(key)} appears twice in the same mapping (the parser would silently keep one)`,
              fix: 'keep one of them',
            });
          }
          keys.add(key);
        }
        stack.push({ node: pair.value, at: [...at, key ?? '?'] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push({ node: item, at: [...at, i] }));
    }
  }
  return out;
}

function findAlias(doc: Document, name: string): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.source === name && found === undefined) found = node.range?.[0];
    },
  });
  return found;
}

/** Line/column of the deepest node along a path that exists, so a missing key points at its parent. */
function locateInDocument(doc: Document, lines: LineIndex, segments: readonly (string | number)[]) {
  let node: unknown = doc.contents;
  let range = (doc.contents as { range?: number[] } | null)?.range;
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(doc);
    const next = childOf(node, seg);
    if (next === undefined || next === null) break;
    node = next;
    const r = (next as { range?: number[] }).range;
    if (r) range = r;
    if (isScalar(next)) break;
  }
  if (!range) return undefined;
  return lines.at(range[0]);
}

// One key index per mapping, built on first use: locating N problems in a mapping of N keys stays linear.
const keyIndexes = new WeakMap<object, Map<string, unknown>>();

function childOf(node: unknown, seg: string | number): unknown {
  if (isSeq(node)) return typeof seg === 'number' ? node.items[seg] : undefined;
  if (!isMap(node)) return undefined;
  let index = keyIndexes.get(node);
  if (!index) {
    index = new Map();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && !index.has(key)) index.set(key, pair.value ?? pair.key);
    }
    keyIndexes.set(node, index);
  }
  return index.get(String(seg));
}
