import type { EvaluationConfig } from '../../../lambda/shared/evaluation';
import Ajv, { type Options as AjvOptions } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import AjvDraft04, { type ErrorObject } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { canonicalJson } from '../../../lambda/shared/canonical-json';
import { APPCONFIG_HOSTED_MAX_BYTES, CONFIG_SECTIONS, RELEASE_META_KEY, REQUIRED_SECTIONS, TEMPLATE_VARIABLE } from '../../../lambda/shared/contract';
import { type JsonSchemaDraft, jsonSchemaDraft } from '../../../lambda/shared/json-schema-draft';
import releaseConfigSchema from '../../../schemas/release-config.schema.json';
import type { ReleaseConfigPart } from '../release-config-source';
import { type ConfigProblem, didYouMean, hasInvisible, jsonPath, showText } from './config-problem';
import { findSecretInText, isSecretKeyName, isSecretReference, maskSecret } from './config-secrets';

/** The release config JSON Schema that ships with the package (draft-04, what AppConfig's validator speaks). */
export const RELEASE_CONFIG_SCHEMA: object = releaseConfigSchema;

// Compiled once per process: synth validates many services with the same schema.
const draft04 = new AjvDraft04({ allErrors: true, verbose: true, strict: false });
const validateAgainstSchema = draft04.compile(releaseConfigSchema);

/** The fields each section may have, from the shipped schema. */
const SECTION_FIELDS: Record<string, object> = Object.fromEntries(
  CONFIG_SECTIONS.map((s) => [s, (releaseConfigSchema.definitions as Record<string, { properties?: object }>)[s]?.properties ?? {}]),
);

/** Deepest nesting of a release config; see MAX_CONFIG_DEPTH in release-config-source (same limit for inline objects). */
const MAX_DEPTH = 64;

export interface ValidateOptions {
  /** Largest allowed hosted content, bytes. @default 1 MiB (AppConfig's hosted configuration limit) */
  readonly maxContentBytes?: number;
  /**
   * The hosted content exactly as it will be stored (with the `_release` block), so the size limit is measured on
   * what AppConfig receives.
   * @default the canonical JSON of the sections alone
   */
  readonly hostedContent?: (config: Record<string, unknown>) => string;
  /** The file or directory the config came from, named by problems that belong to no single file. */
  readonly origin?: string;
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
    if (!part) return { file: options.origin, path: jsonPath(segments) };
    const inner = part.section !== undefined ? segments.slice(1) : segments;
    const pos = part.locate?.(inner);
    return { file: part.file, line: pos?.line, column: pos?.column, path: jsonPath(segments) };
  };
  const add = (segments: readonly (string | number)[], message: string, fix?: string) => problems.push({ ...where(segments), message, fix });

  // 0. Only JSON can be hosted: no Infinity or NaN (they become null), no undefined, no class instances, no
  //    __proto__ keys (assigning one sets a prototype instead of a key), nothing nested deeper than MAX_DEPTH.
  let tooDeep = false;
  for (const part of parts) {
    const base = part.section !== undefined ? [part.section] : [];
    tooDeep = checkJsonValue(part.value, base, (segments, message, fix) => problems.push({ ...whereIn(part, segments, base.length), message, fix })) || tooDeep;
  }
  if (tooDeep) return { config, problems };
  // Values JSON cannot carry (a bigint, a Date, undefined…) are reported with their paths; nothing past the merge may
  // walk them (canonical JSON and the schema would throw or misreport).
  const notJson = problems.length > 0;

  // 1. Merge: each section exactly once, only known sections.
  for (const part of parts) {
    const entries: [string, unknown][] = [];
    if (part.section !== undefined) {
      // A whole release config passed as one section's file: say so, instead of "unknown field" for each section.
      if (isPlainObject(part.value) && part.section in part.value && !(part.section in (SECTION_FIELDS[part.section] ?? {}))) {
        problems.push({
          file: part.file,
          path: jsonPath([part.section]),
          message: `this file should hold only the ${part.section} section, but it has a "${part.section}" key: it looks like a whole release config`,
          fix: 'pass it with ReleaseConfigSource.fromFile, or move the content of its section to the top level of this file',
        });
        owner.set(part.section, part);
        continue;
      }
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
      if (key === '__proto__') continue; // reported above
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
          message: `unknown section ${showText(key)}; a release config has the sections ${CONFIG_SECTIONS.join(', ')}`,
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
  // When a part is not an object at all, "section missing" would only repeat that.
  const unreadable = problems.some((p) => p.message.startsWith('the release config must be an object'));
  for (const section of unreadable ? [] : REQUIRED_SECTIONS) {
    if (!(section in config)) {
      problems.push({
        file: options.origin,
        path: jsonPath([section]),
        message: `the required section "${section}" is missing`,
        fix: `add ${article(section)} section (or ${article(kebab(section))}.yaml file in the config directory)`,
      });
    }
  }
  // Unknown, doubled or missing sections do not stop the checks of the sections that are there.
  if (unreadable || notJson) return { config, problems };

  // 2. Shape, with the same schema AppConfig enforces at deployment.
  const misshapen = new Set<string>();
  if (!validateAgainstSchema(config)) {
    // Suggestions cost an edit distance each; past the first thousand problems nobody reads them.
    collapseErrors(validateAgainstSchema.errors ?? []).forEach((error, i) => {
      const segments = pointerToSegments(error.instancePath);
      // An unknown field is pointed at itself (its own line), not at the object that holds it.
      if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
      // A missing section is reported above, with the file to add.
      if (segments.length === 0 && error.keyword === 'required' && (REQUIRED_SECTIONS as readonly string[]).includes(String(error.params.missingProperty)))
        return;
      // The section the error is in; an error at the root (no section) leaves no section checkable.
      misshapen.add(segments.length > 0 ? String(segments[0]) : '*');
      const { message, fix } = explain(error, i < 1000);
      add(segments, message, fix);
    });
  }

  // 3. What a schema cannot say, in every section whose shape is right: a schema error in one section no longer
  //    hides the other sections' problems (one synth, one report). A misshapen section is not walked: its checks
  //    assume the shape.
  checkSemantics(config, add, (section) => section in config && !misshapen.has(section) && !misshapen.has('*'));
  scanForSecrets(config, add);

  // Measured on the content AppConfig receives (with the _release block), in UTF-8 bytes, which is what its limit counts.
  // (The hosted content is built from well-shaped sections only; with problems already found, the sections alone.)
  const hosted = problems.length === 0 ? (options.hostedContent ?? canonicalJson) : canonicalJson;
  const bytes = Buffer.byteLength(hosted(config), 'utf8');
  const max = options.maxContentBytes ?? APPCONFIG_HOSTED_MAX_BYTES;
  if (bytes > max) {
    add(
      [],
      `the hosted release config is ${bytes} bytes, over the ${max}-byte limit of an AppConfig hosted configuration`,
      'move large few-shot examples or tool schemas out (e.g. to a Bedrock prompt version or S3), or shorten them',
    );
  }
  return { config, problems };
}

type Add = (segments: readonly (string | number)[], message: string, fix?: string) => void;

function whereIn(part: ReleaseConfigPart, segments: readonly (string | number)[], baseLength: number) {
  const pos = part.locate?.(segments.slice(baseLength));
  return { file: part.file, line: pos?.line, column: pos?.column, path: jsonPath(segments) };
}

/**
 * Reports what JSON cannot carry, iteratively (no recursion, so depth cannot crash it). Returns true when the value
 * nests deeper than MAX_DEPTH, in which case nothing else may walk it.
 */
function checkJsonValue(value: unknown, base: (string | number)[], add: Add): boolean {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: base }];
  let reported = 0;
  const report: Add = (segments, message, fix) => {
    if (reported++ < 200) add(segments, message, fix);
  };
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        report(
          path,
          `${v} is not a JSON number: AppConfig would store null${Number.isNaN(v) ? '' : ' (a YAML .inf, or a literal beyond ±1.8e308 such as 1e400)'}`,
          'write a finite number',
        );
      continue;
    }
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) continue;
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
      report(
        path,
        `${typeof v === 'bigint' ? 'a bigint' : typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`} is not JSON`,
        'use a string, number, boolean, null, array or object',
      );
      continue;
    }
    if (path.length - base.length >= MAX_DEPTH) {
      add(
        path.slice(0, base.length + 6),
        `the config is nested more than ${MAX_DEPTH} levels deep (or an inline object refers to itself)`,
        'flatten the structure; a release config needs far fewer levels',
      );
      return true;
    }
    // Children are pushed last-first, so problems come out in document order.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (v instanceof Date || v instanceof Set || v instanceof Map || v instanceof Uint8Array) {
      // What YAML 1.1 (`%YAML 1.1`) and its tags produce: a timestamp, !!set, !!omap/!!pairs, !!binary.
      const what =
        v instanceof Date
          ? ['a Date (YAML 1.1 reads an unquoted 2026-11-01 as a timestamp)', 'write it as a string: "2026-11-01"']
          : v instanceof Uint8Array
            ? ['binary data (!!binary)', 'write the text itself, or base64 in a string']
            : [`a ${v.constructor.name} (!!set, !!omap or !!pairs)`, 'write a list or a mapping'];
      report(path, `${what[0]} is not JSON data`, what[1]);
      continue;
    }
    if (proto !== Object.prototype && proto !== null) {
      report(
        path,
        `${(v as object).constructor?.name ?? 'an object'} is not plain JSON data (it would be written as ${JSON.stringify(safeJson(v))})`,
        'use a plain object, string or number',
      );
      continue;
    }
    for (const key of Object.keys(v).reverse()) {
      if (key === '__proto__') {
        report(
          [...path, key],
          'a "__proto__" key cannot be part of a config: JavaScript treats it as the object\'s prototype, not as data',
          'rename or remove the key',
        );
        continue;
      }
      stack.push({ v: (v as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return false;
}

function safeJson(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v) ?? 'null');
  } catch {
    return null;
  }
}

function checkSemantics(config: Record<string, any>, add: Add, wellShaped: (section: string) => boolean = () => true) {
  const prompt = config.prompt;
  if (wellShaped('prompt') && typeof prompt.template === 'string') {
    const declared = new Set<string>((prompt.variables ?? []).map((v: { name: string }) => v.name));
    const used = new Map<string, string>();
    for (const field of ['template', 'system'] as const) {
      const text = prompt[field];
      if (typeof text !== 'string') continue;
      for (const m of text.matchAll(TEMPLATE_VARIABLE)) if (!used.has(m[1])) used.set(m[1], field);
      checkPlaceholders(text, ['prompt', field], add);
    }
    for (const [name, field] of used) {
      if (!declared.has(name))
        add(['prompt', field], `the ${field} uses {{${name}}}, which is not declared in prompt.variables`, `add { name: ${name} } to prompt.variables`);
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
  if (wellShaped('model')) checkModel(model, add);
  if (wellShaped('retrieval')) {
    checkInvisible(config.retrieval.source.id, ['retrieval', 'source', 'id'], add);
    checkInvisible(config.retrieval.indexVersion, ['retrieval', 'indexVersion'], add);
  }

  const tools: any[] = wellShaped('tools') ? (config.tools?.tools ?? []) : [];
  const names = new Map<string, number>();
  tools.forEach((tool, i) => {
    const at = ['tools', 'tools', i];
    if (names.has(tool.name))
      add(
        [...at, 'name'],
        `tool name "${tool.name}" is used twice (also tools[${names.get(tool.name)}])`,
        'tool names must be unique: the model calls tools by name',
      );
    names.set(tool.name, i);
    const schemaError = compileError(tool.inputSchema);
    if (schemaError)
      add([...at, 'inputSchema'], `the input schema of tool "${tool.name}" is not a valid JSON Schema: ${schemaError}`, `fix the schema (${COMPILE_NOTE})`);
    else if (!isObjectSchema(tool.inputSchema))
      add(
        [...at, 'inputSchema'],
        `the input schema of tool "${tool.name}" must describe an object (type: object at its root), got ${tool.inputSchema.type === undefined ? 'no type' : `type ${JSON.stringify(tool.inputSchema.type)}`}: model APIs pass tool input as a JSON object`,
        'wrap the input: { type: object, properties: { <name>: <your schema> }, required: [<name>] }',
      );
    const perms = tool.permissions ?? {};
    (perms.actions ?? []).forEach((action: string, j: number) => {
      if (action === '*' || action.endsWith(':*'))
        add(
          [...at, 'permissions', 'actions', j],
          `tool "${tool.name}" asks for every action ("${action}"); a permission boundary names actions`,
          `list the actions "${tool.name}" calls, e.g. "dynamodb:GetItem"`,
        );
    });
    (perms.resources ?? []).forEach((resource: string, j: number) => {
      const wildcard = resourceWildcard(resource);
      if (wildcard && !perms.wildcardReason)
        add(
          [...at, 'permissions', 'resources', j],
          `tool "${tool.name}" may reach ${wildcard} (${showText(resource, 120)}) without a reason`,
          'name the resource (e.g. table/orders), or, where the action supports no resource-level permission, add permissions.wildcardReason',
        );
      else if (!wildcard && resource !== '*' && !/^arn:/.test(resource))
        add(
          [...at, 'permissions', 'resources', j],
          `tool "${tool.name}" names a resource that is not an ARN (${showText(resource, 120)}); permissions become IAM statements, which take ARNs`,
          'write the ARN, e.g. arn:aws:dynamodb:us-east-1:123456789012:table/orders',
        );
    });
    (perms.hosts ?? []).forEach((host: string, j: number) => {
      const broad = hostWildcard(host);
      if (broad) add([...at, 'permissions', 'hosts', j], `tool "${tool.name}" may reach ${broad} ("${host}")`, 'name the hosts it calls, e.g. api.example.com');
    });
  });

  const contractError = wellShaped('outputContract') ? compileError(config.outputContract.schema) : undefined;
  if (contractError) add(['outputContract', 'schema'], `the output contract is not a valid JSON Schema: ${contractError}`, `fix the schema (${COMPILE_NOTE})`);

  if (wellShaped('evaluation')) checkEvaluation(config.evaluation, add);
  if (wellShaped('evaluation') && config.evaluation.guardrailScores === true && !config.model?.guardrail)
    add(
      ['evaluation', 'guardrailScores'],
      'guardrail scores are judged, but model.guardrail names no guardrail, so no answer would carry them',
      'set model.guardrail (a guardrail with a contextual grounding policy, trace enabled), or remove guardrailScores',
    );
}

/** The evaluation section: what the schema cannot say about scales, floors, rubrics, patterns and the budget. */
// Typed: the schema has already checked the section's shape when this runs.
function checkEvaluation(e: EvaluationConfig, add: Add) {
  checkInvisible(e.evaluatorModel.modelId, ['evaluation', 'evaluatorModel', 'modelId'], add);
  const scale = e.scale ?? { min: 1, max: 5 };
  if (e.scale && !(e.scale.min < e.scale.max))
    add(['evaluation', 'scale'], `the score scale runs from ${e.scale.min} to ${e.scale.max}: min must be below max`, 'write e.g. { min: 1, max: 5 }');
  const seen = new Map<string, number>();
  e.rubrics.forEach((r, i) => {
    if (seen.has(r.criterion))
      add(
        ['evaluation', 'rubrics', i, 'criterion'],
        `criterion "${r.criterion}" has two rubrics (also rubrics[${seen.get(r.criterion)}])`,
        'keep one rubric per criterion: scores per criterion are compared across versions',
      );
    seen.set(r.criterion, i);
    if (r.floor !== undefined && (r.floor < scale.min || r.floor > scale.max))
      add(
        ['evaluation', 'rubrics', i, 'floor'],
        `floor ${r.floor} of "${r.criterion}" is outside the scale ${scale.min}..${scale.max}`,
        `write a floor between ${scale.min} and ${scale.max}`,
      );
  });
  const d = e.deterministic ?? {};
  (d.forbiddenPatterns ?? []).forEach((pattern, i) => {
    try {
      new RegExp(pattern, 'iu');
    } catch (err) {
      add(
        ['evaluation', 'deterministic', 'forbiddenPatterns', i],
        `${showText(pattern, 80)} is not a valid regular expression (${(err as Error).message})`,
        'fix or remove it (JavaScript RegExp syntax, matched case-insensitively)',
      );
    }
  });
  if (d.minChars !== undefined && d.maxChars !== undefined && d.minChars > d.maxChars)
    add(
      ['evaluation', 'deterministic', 'minChars'],
      `minChars ${d.minChars} is above maxChars ${d.maxChars}, so every answer fails the length check`,
      'lower minChars or raise maxChars',
    );
  const pairRate = typeof e.paired === 'object' && e.paired !== null ? e.paired.samplingRate : undefined;
  if (pairRate !== undefined && pairRate < e.samplingRate)
    add(
      ['evaluation', 'paired', 'samplingRate'],
      `the pairing rate ${pairRate} is below samplingRate ${e.samplingRate}: every canary answer scoring draws is paired anyway, so it would add no pairs`,
      `raise paired.samplingRate above ${e.samplingRate} (the share of the canary's answers compared during a release), or write paired: true`,
    );
  const configPairRate = typeof e.paired === 'object' && e.paired !== null ? e.paired.configSamplingRate : undefined;
  if (configPairRate !== undefined && configPairRate < e.samplingRate)
    add(
      ['evaluation', 'paired', 'configSamplingRate'],
      `the config plane's pairing rate ${configPairRate} is below samplingRate ${e.samplingRate}: every config canary answer scoring draws is paired anyway, so it would add no pairs`,
      `raise paired.configSamplingRate above ${e.samplingRate} (the share of a config canary's answers compared during a config release), or leave it out to pair at paired.samplingRate`,
    );
  if ((e.samplingRate > 0 || (pairRate ?? 0) > 0 || (configPairRate ?? 0) > 0) && (e.budget.perReleaseUsd === 0 || e.budget.perDayUsd === 0))
    add(
      ['evaluation', 'budget'],
      `answers are sampled (samplingRate ${e.samplingRate}${pairRate !== undefined ? `, paired.samplingRate ${pairRate}` : ''}${configPairRate !== undefined ? `, paired.configSamplingRate ${configPairRate}` : ''}) but a budget is 0 USD, so no sample would ever be scored`,
      'set perReleaseUsd and perDayUsd above 0, or samplingRate to 0',
    );
  if (e.budget.perReleaseUsd > e.budget.perDayUsd && e.budget.perDayUsd > 0)
    add(
      ['evaluation', 'budget', 'perReleaseUsd'],
      `the release budget (${e.budget.perReleaseUsd} USD) is above the day budget (${e.budget.perDayUsd} USD), so a release can never spend it`,
      'lower perReleaseUsd to at most perDayUsd, or raise perDayUsd',
    );
}

interface ModelShape {
  readonly modelId: string;
  readonly provider?: string;
  readonly fallback?: { readonly modelId: string; readonly provider?: string };
}

function checkModel(model: ModelShape, add: Add) {
  checkInvisible(model.modelId, ['model', 'modelId'], add);
  if (model.fallback) {
    checkInvisible(model.fallback.modelId, ['model', 'fallback', 'modelId'], add);
    if (model.fallback.modelId.trim() === model.modelId.trim() && (model.fallback.provider ?? model.provider) === model.provider) {
      add(
        ['model', 'fallback', 'modelId'],
        `the fallback model is the primary model (${showText(model.modelId.trim(), 80)}), so falling back changes nothing`,
        'name a different (cheaper or more available) model, or remove fallback',
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Placeholders

// `{{ … }}` whose inside could be meant as a name (no spaces inside, quotes, colons or braces), so JSON-looking
// literal text in a prompt ("{{"a": 1}}") is left alone.
const PLACEHOLDER_LIKE = /\{\{([^{}\s"':,]{1,80}|\s+[^{}\s"':,]{1,80}\s*|[^{}\s"':,]{1,80}\s+)\}\}/g;
const PLACEHOLDER_NAME = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*$/;

function checkPlaceholders(text: string, at: (string | number)[], add: Add) {
  for (const m of text.matchAll(PLACEHOLDER_LIKE)) {
    const inner = m[1];
    if (PLACEHOLDER_NAME.test(inner)) continue;
    const suggestion = inner
      .replace(/[\p{Cf}\p{Cc}]/gu, '')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '');
    add(
      at,
      `{{${showText(inner, 80).slice(1, -1)}}} is not a placeholder the runtime fills (names are a letter or _, then letters, digits or _${hasInvisible(inner) ? '; this one holds an invisible character' : ''}): it would reach the model as literal text`,
      suggestion && /^[A-Za-z_]/.test(suggestion)
        ? `write {{${suggestion}}} (and declare ${suggestion} in prompt.variables)`
        : 'rename it to letters, digits and _',
    );
  }
}

function checkInvisible(value: unknown, at: (string | number)[], add: Add) {
  if (typeof value === 'string' && hasInvisible(value))
    add(at, `${showText(value, 120)} holds an invisible character, so it names a different thing than it shows`, 'retype the id');
}

// ---------------------------------------------------------------------------------------------------------------
// Permissions

// Services whose ARN resource part starts with the resource's own name, not a resource type (`arn:aws:s3:::bucket`).
const NAME_FIRST_SERVICES = new Set(['s3', 'sqs', 'sns', 'execute-api', 'apigateway', 'iot']);

/** What a resource ARN reaches when its name is a wildcard (`*`, `table/*`, `arn:aws:s3:::*`); undefined when it is named. */
function resourceWildcard(resource: string): string | undefined {
  if (resource.trim() === '*') return 'every resource';
  const m = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/s.exec(resource);
  if (!m) return undefined;
  const [, , service, , , rest] = m;
  if (service === '' || service.includes('*')) return 'every service';
  if (rest === '' || /^\*+$/.test(rest)) return `every ${service} resource`;
  const segments = rest.split(/[/:]/);
  const nameIndex = NAME_FIRST_SERVICES.has(service) || segments.length === 1 ? 0 : 1;
  const name = segments[nameIndex] ?? '';
  if (/^[*?]*$/.test(name)) return nameIndex === 0 ? `every ${service} resource` : `every ${service} ${segments[0]}`;
  return undefined;
}

// Second-level labels under country codes that are public suffixes (co.uk, com.au, ne.jp…), and shared hosting
// domains where anyone can have a subdomain: a wildcard under either reaches hosts nobody in the team controls.
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'gob', 'mil', 'nic']);
const SHARED_HOSTING = new Set([
  'amazonaws.com',
  'cloudfront.net',
  'on.aws',
  'elasticbeanstalk.com',
  'herokuapp.com',
  'github.io',
  'githubusercontent.com',
  'azurewebsites.net',
  'cloudapp.net',
  'blob.core.windows.net',
  'appspot.com',
  'web.app',
  'firebaseapp.com',
  'vercel.app',
  'netlify.app',
  'pages.dev',
  'workers.dev',
  'ngrok.io',
  'ngrok-free.app',
]);

function hostWildcard(host: string): string | undefined {
  if (host === '*') return 'any host';
  // The instance metadata endpoint hands out the caller's credentials; no tool has business there.
  if (/^169\.254\.\d{1,3}\.\d{1,3}(:\d+)?$/.test(host) || /^metadata\.google\.internal(:\d+)?$/i.test(host))
    return 'the link-local metadata endpoint, which serves credentials';
  if (!host.startsWith('*.')) return undefined;
  const domain = host.slice(2).replace(/:\d+$/, '').toLowerCase();
  const labels = domain.split('.');
  if (labels.length === 1) return `every host under the top-level domain .${domain}`;
  if (labels.length === 2 && labels[1].length === 2 && SECOND_LEVEL.has(labels[0])) return `every host under the public suffix .${domain}`;
  for (let i = 0; i < labels.length - 1; i++) {
    const suffix = labels.slice(i).join('.');
    if (SHARED_HOSTING.has(suffix)) return `every host under ${suffix}, where anyone can get a subdomain`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Tool and contract schemas

const COMPILE_NOTE = 'compiled with ajv in strict mode, with ajv-formats; draft-07 unless its $schema names draft-04, 2019-09 or 2020-12';

// strict catches typos such as "requierd" that would otherwise make a contract silently accept anything.
const STRICT: AjvOptions = { allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, logger: false };
type Compiler = { compile(schema: object): unknown; removeSchema(schema: object): unknown };
const compilers = new Map<string, Compiler>();

/** One ajv per draft, made on first use and kept: most configs never need more than draft-07. */
function compilerFor(draft: JsonSchemaDraft): Compiler {
  let ajv = compilers.get(draft);
  if (!ajv) {
    const made =
      draft === '2020-12'
        ? new Ajv2020(STRICT)
        : draft === '2019-09'
          ? new Ajv2019(STRICT)
          : draft === 'draft-04'
            ? new AjvDraft04(STRICT as ConstructorParameters<typeof AjvDraft04>[0])
            : new Ajv(STRICT);
    addFormats(made as Ajv);
    // OpenAPI-style annotation that model tool schemas often carry; it changes no validation.
    made.addKeyword({ keyword: 'example' });
    made.addKeyword({ keyword: 'discriminator' });
    ajv = made;
    compilers.set(draft, ajv);
  }
  return ajv;
}

function compileError(schema: unknown): string | undefined {
  if (!isPlainObject(schema)) return 'a schema must be an object';
  const draft = jsonSchemaDraft(schema);
  if (!draft)
    return `unsupported $schema ${JSON.stringify(schema.$schema)} (use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema#)`;
  const ajv = compilerFor(draft);
  // ajv adds the meta-schema's own URL form; compile a shallow copy without $schema so the draft chosen above decides.
  const { $schema: _ignored, ...rest } = withoutExtensions(schema) as Record<string, unknown>;
  try {
    ajv.compile(rest);
    return undefined;
  } catch (e) {
    return friendlyAjvError((e as Error).message, rest);
  } finally {
    // Compiled schemas are cached by ajv; a config is validated once, so drop them to keep memory flat.
    ajv.removeSchema(rest);
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A copy without OpenAPI-style `x-…` extension keys, which carry no validation and strict mode would refuse. */
function withoutExtensions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExtensions);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('x-'))
      .map(([k, v]) => [k, withoutExtensions(v)]),
  );
}

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

function friendlyAjvError(message: string, schema: Record<string, unknown>): string {
  // "schema is invalid: data/properties/a/type must be equal to one of the allowed values, data/properties/a/type
  // must be array, …": one clause per place, with the value that is wrong, instead of ajv's list.
  const invalid = /^schema is invalid: (.*)$/s.exec(message);
  if (invalid) {
    const places = new Map<string, string>();
    for (const clause of invalid[1].split(/, (?=data[/ ])/)) {
      const m = /^data(\S*) (.*)$/s.exec(clause);
      if (m && !places.has(m[1])) places.set(m[1], m[2]);
    }
    const described = [...places].slice(0, 3).map(([pointer, what]) => {
      const value = valueAt(schema, pointer);
      if (pointer.endsWith('/type') && typeof value === 'string') {
        const guess = didYouMean(value, JSON_TYPES);
        return `at ${pointer}: "${value}" is not a JSON Schema type (${guess ? `did you mean "${guess}"?` : `use one of ${JSON_TYPES.join(', ')}`})`;
      }
      if (pointer.endsWith('/items') && Array.isArray(value)) return `at ${pointer}: a list of item schemas is prefixItems in 2020-12 (items takes one schema)`;
      return `at ${pointer || '/'}: ${what.replace(/must be object,boolean/, 'must be a schema (an object)')}${value !== undefined && typeof value !== 'object' ? ` (got ${JSON.stringify(value)})` : ''}`;
    });
    if (described.length > 0) return described.join('; ');
  }
  const unknownKeyword = /unknown keyword: "([^"]+)"/.exec(message);
  if (unknownKeyword) {
    const guess = didYouMean(unknownKeyword[1], KNOWN_KEYWORDS);
    return `unknown keyword "${unknownKeyword[1]}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
  }
  const unknownFormat = /unknown format "([^"]+)"/.exec(message);
  if (unknownFormat) {
    const guess = didYouMean(unknownFormat[1], KNOWN_FORMATS);
    return `unknown format "${unknownFormat[1]}"${guess ? ` (did you mean "${guess}"?)` : ` (known: ${KNOWN_FORMATS.join(', ')})`}`;
  }
  return message.replace(/^strict mode: /, '');
}

const KNOWN_KEYWORDS = [
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'const',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'format',
  'description',
  'title',
  'default',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'patternProperties',
  'uniqueItems',
  'examples',
  'prefixItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'dependentRequired',
  'dependentSchemas',
  'propertyNames',
  'contains',
  'minContains',
  'maxContains',
  'if',
  'then',
  'else',
  '$defs',
  'definitions',
  '$ref',
  'multipleOf',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minProperties',
  'maxProperties',
  'additionalItems',
];
const KNOWN_FORMATS = [
  'date',
  'time',
  'date-time',
  'duration',
  'uri',
  'uri-reference',
  'uri-template',
  'url',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'regex',
  'uuid',
  'json-pointer',
  'relative-json-pointer',
  'byte',
  'int32',
  'int64',
  'float',
  'double',
  'password',
  'binary',
];

function isObjectSchema(schema: Record<string, unknown>): boolean {
  const t = schema.type;
  return t === 'object' || (Array.isArray(t) && t.length === 1 && t[0] === 'object');
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

function scanForSecrets(root: unknown, add: Add) {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: root, path: [] }];
  while (stack.length > 0) {
    const { v: value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const hit = findSecretInText(value);
      if (hit) add(path, secretMessage(hit.description, hit.match), 'keep the secret in Secrets Manager and put its ARN or name in the config');
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ v: value[i], path: [...path, i] });
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value).reverse()) {
        const keyHit = findSecretInText(k);
        if (keyHit) {
          add([...path, k], `a key ${secretMessage(keyHit.description, keyHit.match).replace(/^this /, '')}`, 'remove the credential from the key');
          continue;
        }
        // JSON Schemas legitimately have properties named "password"; their values are schemas, not secrets.
        if (typeof v === 'string' && isSecretKeyName(k) && !isSecretReference(v)) {
          add(
            [...path, k],
            `"${k}" holds a literal credential (${maskSecret(v)}); secrets must not sit in a config: configs are readable by every function that reads the service's config and stay in AppConfig's version history`,
            'keep it in Secrets Manager and put its ARN in the config instead',
          );
          continue;
        }
        stack.push({ v, path: [...path, k] });
      }
    }
  }
}

function secretMessage(description: string, match: string): string {
  return `this looks like ${description} (${maskSecret(match)}); secrets must not sit in a config: configs are readable by every function that reads the service's config and stay in AppConfig's version history`;
}

// ---------------------------------------------------------------------------------------------------------------
// Schema errors in words

/** ajv reports a failed `oneOf` plus every branch's failure; keep the `oneOf`, and one error per path and keyword. */
function collapseErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (e.keyword === 'required' && oneOfPaths.has(e.instancePath) && e.schemaPath.includes('/oneOf/')) return false;
    // An object where a oneOf allows a boolean or an object (evaluation.paired): the boolean branch's type error says
    // nothing the object's own errors and the oneOf's forms do not.
    if (e.keyword === 'type' && oneOfPaths.has(e.instancePath) && e.schemaPath.includes('/oneOf/') && e.data !== null && typeof e.data === 'object')
      return false;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function explain(error: ErrorObject, suggest = true): { message: string; fix?: string } {
  const desc = (error.parentSchema as { description?: string } | undefined)?.description;
  const got = `got ${describe(error.data)}`;
  switch (error.keyword) {
    case 'type': {
      const expected = String(error.params.type);
      let fix = desc ? `expected ${desc}` : undefined;
      // YAML 1.2 reads yes/no/on/off as strings, and an unquoted 3 as a number: say how to write what was meant.
      if (expected === 'boolean' && typeof error.data === 'string' && /^(?:y|yes|n|no|on|off)$/i.test(error.data))
        fix = `write true or false (YAML 1.2 reads ${error.data} as a string)`;
      else if (expected === 'string' && typeof error.data === 'number') fix = `quote it: "${error.data}"`;
      return { message: `must be ${article(expected)} (${got})`, fix };
    }
    case 'required':
      return { message: `missing required field "${error.params.missingProperty}"`, fix: `add "${error.params.missingProperty}"` };
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      const guess = suggest ? didYouMean(extra, known) : undefined;
      const invisible = hasInvisible(extra) ? ' (it holds an invisible character)' : '';
      return {
        message: `unknown field ${showText(extra, 80)}${invisible} (allowed: ${known.join(', ')})`,
        fix: guess ? `did you mean "${guess}"?` : `remove ${showText(extra, 80)}`,
      };
    }
    case 'enum':
      return { message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (${got})` };
    case 'pattern':
      // Never a bare regex: every patterned field of the shipped schema carries a description.
      return { message: `${desc ? `must be ${desc}` : 'has the wrong form'} (${got})` };
    case 'minimum':
    case 'maximum':
      // draft-04's exclusiveMinimum is a flag on minimum; ajv reports the comparison it applied.
      return { message: `must be ${error.params.comparison ?? (error.keyword === 'minimum' ? '>=' : '<=')} ${error.params.limit} (${got})` };
    case 'minLength':
      return { message: error.params.limit === 1 ? `must not be empty (${got})` : `must be at least ${error.params.limit} characters (${got})` };
    case 'maxLength':
      return { message: `must be at most ${error.params.limit} characters (got ${typeof error.data === 'string' ? error.data.length : '?'})` };
    case 'maxItems':
      return { message: `must have at most ${error.params.limit} items (got ${Array.isArray(error.data) ? error.data.length : '?'})` };
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
  if (typeof value === 'string') return `string ${showText(value)}`;
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
