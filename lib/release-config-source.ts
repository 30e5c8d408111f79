import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCollection, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { CONFIG_SECTIONS, type ConfigSection } from '../lambda/shared/contract';
import { type ConfigProblem, didYouMean, jsonPath } from './private/config-problem';

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
      else problems.push(result.problem);
    }
    return { parts, problems };
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
    return { parts: loaded.parts, problems: [...problems, ...loaded.problems] };
  }
}

function sectionForFileName(stem: string): ConfigSection | undefined {
  const camel = stem.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
  return CONFIG_SECTIONS.find((s) => s === camel);
}

/** Reads one JSON or YAML file into a part that can point at its own lines. */
export function readConfigFile(file: string, section?: string): { part: ReleaseConfigPart } | { problem: ConfigProblem } {
  const basePath = jsonPath(section ? [section] : []);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return {
      problem: {
        file,
        path: basePath,
        message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})`,
        fix: 'check the path; relative paths resolve from the directory cdk runs in',
      },
    };
  }
  const ext = path.extname(file).toLowerCase();
  if (!CONFIG_EXTENSIONS.includes(ext)) {
    return { problem: { file, path: basePath, message: `unsupported file type "${ext}"`, fix: 'use .json, .yaml or .yml' } };
  }
  if (text.trim() === '') {
    return {
      problem: {
        file,
        path: basePath,
        message: 'the file is empty',
        fix: section ? `write the ${section} section as an object` : 'write the release config as an object',
      },
    };
  }
  if (ext === '.json') {
    try {
      JSON.parse(text);
    } catch (e) {
      return { problem: { file, path: basePath, message: `not valid JSON: ${(e as Error).message}` } };
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const pos = lineCounter.linePos(err.pos[0]);
    return {
      problem: {
        file,
        line: pos.line,
        column: pos.col,
        path: basePath,
        message: `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${err.message.split('\n')[0]}`,
      },
    };
  }
  return {
    part: {
      file,
      section,
      value: doc.toJS({ maxAliasCount: 100 }),
      locate: (segments) => locateInDocument(doc, lineCounter, segments),
    },
  };
}

/** Line/column of the deepest node along a path that exists, so a missing key points at its parent. */
function locateInDocument(doc: Document, lineCounter: LineCounter, segments: readonly (string | number)[]) {
  let node: unknown = doc.contents;
  let range: [number, number, number] | undefined = (doc.contents as { range?: [number, number, number] } | null)?.range;
  for (const seg of segments) {
    if (!isCollection(node)) break;
    const next = node.get(seg, true) as unknown;
    if (next === undefined) break;
    node = next;
    const r = (next as { range?: [number, number, number] }).range;
    if (r) range = r;
    if (isScalar(next)) break;
  }
  if (!range) return undefined;
  const pos = lineCounter.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}
