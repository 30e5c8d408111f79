import Ajv from 'ajv';
import AjvDraft04, { type ErrorObject } from 'ajv-draft-04';
import { canonicalJson } from '../../lambda/shared/canonical-json';
import { APPCONFIG_HOSTED_MAX_BYTES, CONFIG_SECTIONS, RELEASE_META_KEY, REQUIRED_SECTIONS, TEMPLATE_VARIABLE } from '../../lambda/shared/contract';
import { findSecret, SECRET_KEY_NAMES } from '../../lambda/shared/secrets';
import releaseConfigSchema from '../../schemas/release-config.schema.json';
import type { ReleaseConfigPart } from '../release-config-source';
import { type ConfigProblem, didYouMean, jsonPath } from './config-problem';

/** The release config JSON Schema that ships with the package (draft-04, what AppConfig's validator speaks). */
export const RELEASE_CONFIG_SCHEMA: object = releaseConfigSchema;

// Compiled once per process: synth validates many services with the same schema.
const draft04 = new AjvDraft04({ allErrors: true, verbose: true, strict: false });
const validateAgainstSchema = draft04.compile(releaseConfigSchema);
// Output contracts and tool inputs are ordinary JSON Schema (draft-07), compiled the way the runtime will.
// strictSchema catches typos such as "requierd" that would otherwise make a contract silently accept anything.
const contractAjv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false });

export interface ValidateOptions {
  /** Largest allowed hosted content, bytes. @default 1 MiB (AppConfig's hosted configuration limit) */
  readonly maxContentBytes?: number;
}

export interface ValidationResult {
  /** The merged release config (sections only, no metadata). Meaningful only when `problems` is empty. */
  readonly config: Record<string, unknown>;
  readonly problems: ConfigProblem[];
}

/**
 * Merges the parts of a release config and checks everything that can be known at synth: shape (the same JSON
 * Schema AppConfig enforces), sections, template variables, tool and contract schemas, permission wildcards,
 * pasted secrets and size. Pure: all problems are returned together, nothing is thrown.
 */
export function validateReleaseConfig(parts: readonly ReleaseConfigPart[], options: ValidateOptions = {}): ValidationResult {
  const problems: ConfigProblem[] = [];
  const config: Record<string, unknown> = {};
  const owner = new Map<string, ReleaseConfigPart>();

  const where = (segments: readonly (string | number)[]): Pick<ConfigProblem, 'file' | 'line' | 'column' | 'path'> => {
    const part = segments.length > 0 ? owner.get(String(segments[0])) : undefined;
    if (!part) return { path: jsonPath(segments) };
    const inner = part.section !== undefined ? segments.slice(1) : segments;
    const pos = part.locate?.(inner);
    return { file: part.file, line: pos?.line, column: pos?.column, path: jsonPath(segments) };
  };
  const add = (segments: readonly (string | number)[], message: string, fix?: string) => problems.push({ ...where(segments), message, fix });

  // 1. Merge: each section exactly once, only known sections.
  for (const part of parts) {
    const entries: [string, unknown][] = [];
    if (part.section !== undefined) {
      entries.push([part.section, part.value]);
    } else if (isPlainObject(part.value)) {
      entries.push(...Object.entries(part.value));
    } else {
      problems.push({
        file: part.file,
        path: '$',
        message: `the release config must be an object with sections, got ${describe(part.value)}`,
        fix: `write an object with keys ${CONFIG_SECTIONS.join(', ')}`,
      });
      continue;
    }
    for (const [key, value] of entries) {
      if (key === RELEASE_META_KEY) {
        problems.push({
          file: part.file,
          path: jsonPath([key]),
          message: `"${RELEASE_META_KEY}" is written by cdk-ai-release at synth`,
          fix: `remove "${RELEASE_META_KEY}" from the config`,
        });
        continue;
      }
      if (!(CONFIG_SECTIONS as readonly string[]).includes(key)) {
        const guess = didYouMean(key, CONFIG_SECTIONS);
        problems.push({
          file: part.file,
          ...(part.locate?.(part.section !== undefined ? [] : [key]) ?? {}),
          path: jsonPath([key]),
          message: `unknown section "${key}"; a release config has the sections ${CONFIG_SECTIONS.join(', ')}`,
          fix: guess ? `did you mean "${guess}"?` : 'remove it, or move its content into one of the sections',
        });
        continue;
      }
      const previous = owner.get(key);
      if (previous) {
        problems.push({
          file: part.file,
          path: jsonPath([key]),
          message: `section "${key}" is defined twice (also in ${previous.file ?? 'an inline object'})`,
          fix: 'keep one definition',
        });
        continue;
      }
      owner.set(key, part);
      config[key] = value;
    }
  }
  for (const section of REQUIRED_SECTIONS) {
    if (!(section in config)) {
      problems.push({
        path: jsonPath([section]),
        message: `the required section "${section}" is missing`,
        fix: `add a ${section} section (or a ${kebab(section)}.yaml file in the config directory)`,
      });
    }
  }
  if (problems.length > 0) return { config, problems };

  // 2. Shape, with the same schema AppConfig enforces at deployment.
  if (!validateAgainstSchema(config)) {
    for (const error of collapseErrors(validateAgainstSchema.errors ?? [])) {
      const segments = pointerToSegments(error.instancePath);
      const { message, fix } = explain(error);
      add(segments, message, fix);
    }
    return { config, problems };
  }

  // 3. What a schema cannot say.
  checkSemantics(config, add);
  scanForSecrets(config, [], add);

  const bytes = Buffer.byteLength(canonicalJson(config), 'utf8');
  const max = options.maxContentBytes ?? APPCONFIG_HOSTED_MAX_BYTES;
  if (bytes > max) {
    add(
      [],
      `the release config is ${bytes} bytes, over the ${max}-byte limit of an AppConfig hosted configuration`,
      'move large few-shot examples or tool schemas out (e.g. to a Bedrock prompt version or S3), or shorten them',
    );
  }
  return { config, problems };
}

type Add = (segments: readonly (string | number)[], message: string, fix?: string) => void;

function checkSemantics(config: Record<string, any>, add: Add) {
  const prompt = config.prompt;
  if (typeof prompt.template === 'string') {
    const declared = new Set<string>((prompt.variables ?? []).map((v: { name: string }) => v.name));
    const used = new Set<string>();
    for (const text of [prompt.template, prompt.system ?? '']) {
      for (const m of (text as string).matchAll(TEMPLATE_VARIABLE)) used.add(m[1]);
    }
    for (const name of used) {
      if (!declared.has(name))
        add(['prompt', 'template'], `the template uses {{${name}}}, which is not declared in prompt.variables`, `add { name: ${name} } to prompt.variables`);
    }
    (prompt.variables ?? []).forEach((v: { name: string; required?: boolean }, i: number) => {
      if (!used.has(v.name) && v.required !== false)
        add(
          ['prompt', 'variables', i, 'name'],
          `variable "${v.name}" is declared but the template never uses {{${v.name}}}`,
          'use it in the template, remove it, or mark it required: false',
        );
    });
    const seen = new Set<string>();
    (prompt.variables ?? []).forEach((v: { name: string }, i: number) => {
      if (seen.has(v.name)) add(['prompt', 'variables', i, 'name'], `variable "${v.name}" is declared twice`, 'keep one declaration');
      seen.add(v.name);
    });
  }

  const model = config.model;
  if (model.fallback && model.fallback.modelId === model.modelId) {
    add(
      ['model', 'fallback', 'modelId'],
      `the fallback model is the primary model ("${model.modelId}"), so falling back changes nothing`,
      'name a different (cheaper or more available) model, or remove fallback',
    );
  }

  const tools: any[] = config.tools?.tools ?? [];
  const names = new Map<string, number>();
  tools.forEach((tool, i) => {
    if (names.has(tool.name))
      add(
        ['tools', 'tools', i, 'name'],
        `tool name "${tool.name}" is used twice (also tools[${names.get(tool.name)}])`,
        'tool names must be unique: the model calls tools by name',
      );
    names.set(tool.name, i);
    const schemaError = compileError(tool.inputSchema);
    if (schemaError)
      add(
        ['tools', 'tools', i, 'inputSchema'],
        `the input schema of tool "${tool.name}" is not a valid JSON Schema: ${schemaError}`,
        'fix the schema (it is compiled with ajv, draft-07, strict)',
      );
    const perms = tool.permissions ?? {};
    (perms.actions ?? []).forEach((action: string, j: number) => {
      if (action === '*' || action.endsWith(':*'))
        add(
          ['tools', 'tools', i, 'permissions', 'actions', j],
          `tool "${tool.name}" asks for every action ("${action}"); a permission boundary names actions`,
          `list the actions "${tool.name}" calls, e.g. "dynamodb:GetItem"`,
        );
    });
    (perms.resources ?? []).forEach((resource: string, j: number) => {
      if (resource === '*' && !perms.wildcardReason)
        add(
          ['tools', 'tools', i, 'permissions', 'resources', j],
          `tool "${tool.name}" may reach every resource ("*") without a reason`,
          'name the resource ARNs, or, where the action supports no resource, add permissions.wildcardReason',
        );
    });
    (perms.hosts ?? []).forEach((host: string, j: number) => {
      if (host === '*') add(['tools', 'tools', i, 'permissions', 'hosts', j], `tool "${tool.name}" may reach any host`, 'name the hosts it calls');
    });
  });

  const contractError = compileError(config.outputContract.schema);
  if (contractError)
    add(
      ['outputContract', 'schema'],
      `the output contract is not a valid JSON Schema: ${contractError}`,
      'fix the schema (it is compiled with ajv, draft-07, strict, exactly as the runtime compiles it)',
    );
}

function compileError(schema: unknown): string | undefined {
  try {
    contractAjv.compile(schema as object);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    // Compiled contracts are cached by ajv; a config is validated once, so drop them to keep memory flat.
    contractAjv.removeSchema(schema as object);
  }
}

function scanForSecrets(value: unknown, segments: (string | number)[], add: Add) {
  if (typeof value === 'string') {
    const hit = findSecret(value);
    if (hit)
      add(
        segments,
        `this looks like ${hit.description} (${mask(value, hit.pattern)}); secrets must not sit in a config: configs are readable by every function that reads the service's config and stay in AppConfig's version history`,
        'keep the secret in Secrets Manager and put its ARN or name in the config',
      );
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => scanForSecrets(v, [...segments, i], add));
    return;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      // JSON Schemas legitimately have properties named "password"; their values are schemas, not secrets.
      if (SECRET_KEY_NAMES.test(k) && typeof v === 'string' && v.length > 0 && !/^arn:|^\{\{resolve:/.test(v)) {
        add(
          [...segments, k],
          `"${k}" holds a literal credential (${mask(v)}); secrets must not sit in a config`,
          'keep it in Secrets Manager and put its ARN in the config instead',
        );
        continue;
      }
      scanForSecrets(v, [...segments, k], add);
    }
  }
}

/** Shows where a secret is without repeating it: the first 4 characters of the match. */
function mask(text: string, pattern?: RegExp): string {
  const match = pattern ? (pattern.exec(text)?.[0] ?? text) : text;
  return `${match.slice(0, 4)}… ${match.length} chars`;
}

/** ajv reports a failed `oneOf` plus every branch's failure; keep the `oneOf`, and one error per path and keyword. */
function collapseErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (e.keyword === 'required' && oneOfPaths.has(e.instancePath) && e.schemaPath.includes('/oneOf/')) return false;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function explain(error: ErrorObject): { message: string; fix?: string } {
  const desc = (error.parentSchema as { description?: string } | undefined)?.description;
  const got = `got ${describe(error.data)}`;
  switch (error.keyword) {
    case 'type':
      return { message: `must be ${article(String(error.params.type))} (${got})`, fix: desc ? `expected ${desc}` : undefined };
    case 'required':
      return { message: `missing required field "${error.params.missingProperty}"`, fix: `add "${error.params.missingProperty}"` };
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      const guess = didYouMean(extra, known);
      return { message: `unknown field "${extra}" (allowed: ${known.join(', ')})`, fix: guess ? `did you mean "${guess}"?` : `remove "${extra}"` };
    }
    case 'enum':
      return { message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (${got})` };
    case 'pattern':
      return { message: `${desc ? `must be ${desc}` : `must match ${error.params.pattern}`} (${got})` };
    case 'minimum':
    case 'maximum':
      return { message: `must be ${error.keyword === 'minimum' ? '>=' : '<='} ${error.params.limit} (${got})` };
    case 'minLength':
      return { message: error.params.limit === 1 ? `must not be empty (${got})` : `must be at least ${error.params.limit} characters (${got})` };
    case 'maxItems':
    case 'maxLength':
      return { message: `${error.message} (${got})` };
    case 'oneOf':
      return { message: desc ? `must be ${desc}` : 'must match exactly one of the allowed forms', fix: 'see schemas/release-config.schema.json' };
    default:
      return { message: `${error.message ?? 'is invalid'} (${got})`, fix: desc ? `expected ${desc}` : undefined };
  }
}

function pointerToSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
