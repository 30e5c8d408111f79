/**
 * A small interpreting JSON Schema validator for the keywords output contracts use (type, enum, const, string and
 * number limits, pattern, required, properties, additionalProperties, items, array and object sizes, allOf, anyOf,
 * oneOf, not). It exists for the cold start: loading ajv and compiling the first contract took ~25 ms of every
 * cold start (bench/RESULTS.md), while interpreting a contract costs microseconds and no module load.
 *
 * It answers exactly like ajv (draft-07, `strict: false`, `allErrors: false`): same validity, same error messages
 * and instance paths (test/schema-interpreter.test.ts checks both against ajv). A schema with any other keyword
 * ($ref, format, if/then/else, patternProperties, uniqueItems, multipleOf, tuple items…) is not interpreted:
 * `interpret` returns undefined and the caller compiles it with ajv.
 */

export interface SchemaError {
  readonly instancePath: string;
  readonly message: string;
}

/** A validator with ajv's calling convention: returns validity, leaves the errors of the last call on `.errors`. */
export interface InterpretedValidator {
  (data: unknown): boolean;
  errors: SchemaError[] | null;
}

type Schema = boolean | Record<string, unknown>;

/** Keywords that only annotate: no effect on validity (ajv ignores them too). */
const ANNOTATIONS = new Set(['$schema', '$comment', 'title', 'description', 'default', 'examples', 'readOnly', 'writeOnly', 'deprecated', 'version']);
const SUPPORTED = new Set([
  'type',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'required',
  'properties',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);

/** A validator for the schema, or undefined when it uses a keyword this interpreter leaves to ajv. */
export function interpret(schema: unknown): InterpretedValidator | undefined {
  const patterns = new Map<string, RegExp>();
  if (!supported(schema, patterns)) return undefined;
  // Two passes: a verdict compiled to closures (no allocation: the hot path), and, only for a failing output, the
  // walk that names the errors the way ajv does.
  const ok = verdict(schema as Schema, patterns);
  const validate = ((data: unknown) => {
    if (ok(data)) {
      validate.errors = null;
      return true;
    }
    const errors: SchemaError[] = [];
    check(schema as Schema, data, '', errors, patterns);
    validate.errors = errors.length > 0 ? errors : [{ instancePath: '', message: 'must match the output contract' }];
    return false;
  }) as InterpretedValidator;
  validate.errors = null;
  return validate;
}

function supported(schema: unknown, patterns: Map<string, RegExp>): boolean {
  if (typeof schema === 'boolean') return true;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return false;
  const s = schema as Record<string, unknown>;
  for (const [k, v] of Object.entries(s)) {
    if (ANNOTATIONS.has(k)) continue;
    if (!SUPPORTED.has(k)) return false;
    switch (k) {
      case 'type': {
        const list = Array.isArray(v) ? v : [v];
        if (list.length === 0 || !list.every((t) => typeof t === 'string' && TYPES.has(t))) return false;
        break;
      }
      case 'enum':
        if (!Array.isArray(v) || v.some((x) => typeof x === 'object' && x !== null)) return false; // deep equality: ajv
        break;
      case 'const':
        if (typeof v === 'object' && v !== null) return false;
        break;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
      case 'minProperties':
      case 'maxProperties':
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0)) return false;
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof v !== 'number' || !Number.isFinite(v)) return false;
        break;
      case 'pattern':
        if (typeof v !== 'string') return false;
        try {
          patterns.set(v, new RegExp(v, 'u')); // ajv's default: unicodeRegExp
        } catch {
          return false; // let ajv report it
        }
        break;
      case 'required':
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return false;
        break;
      case 'properties':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
        for (const [name, sub] of Object.entries(v)) if (name === '__proto__' || !supported(sub, patterns)) return false;
        break;
      case 'additionalProperties':
      case 'not':
        if (!supported(v, patterns)) return false;
        break;
      case 'items':
        if (Array.isArray(v) || !supported(v, patterns)) return false; // tuple form: ajv
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (!Array.isArray(v) || v.length === 0 || !v.every((x) => supported(x, patterns))) return false;
        break;
    }
  }
  return true;
}

type Test = (d: unknown) => boolean;

/** The schema's verdict as a tree of closures: the same validity as `check`, without its error bookkeeping. */
function verdict(schema: Schema, patterns: Map<string, RegExp>): Test {
  if (schema === true) return () => true;
  if (schema === false) return () => false;
  const s = schema;
  const tests: Test[] = [];
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (types.length === 1) {
      const t = types[0];
      tests.push((d) => typeOk(t, d));
    } else tests.push((d) => types.some((t) => typeOk(t, d)));
  }
  if (s.const !== undefined) {
    const c = s.const;
    tests.push((d) => d === c);
  }
  if (Array.isArray(s.enum)) {
    const values = s.enum;
    tests.push((d) => values.includes(d));
  }
  if (s.not !== undefined) {
    const not = verdict(s.not as Schema, patterns);
    tests.push((d) => !not(d));
  }
  if (Array.isArray(s.anyOf)) {
    const subs = (s.anyOf as Schema[]).map((x) => verdict(x, patterns));
    tests.push((d) => subs.some((t) => t(d)));
  }
  if (Array.isArray(s.oneOf)) {
    const subs = (s.oneOf as Schema[]).map((x) => verdict(x, patterns));
    tests.push((d) => {
      let passing = 0;
      for (const t of subs) if (t(d) && ++passing > 1) return false;
      return passing === 1;
    });
  }
  if (Array.isArray(s.allOf)) {
    const subs = (s.allOf as Schema[]).map((x) => verdict(x, patterns));
    tests.push((d) => subs.every((t) => t(d)));
  }
  const num = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);
  const [max, min, xmax, xmin] = [num('maximum'), num('minimum'), num('exclusiveMaximum'), num('exclusiveMinimum')];
  if (max !== undefined || min !== undefined || xmax !== undefined || xmin !== undefined) {
    tests.push((d) => {
      if (typeof d !== 'number') return true;
      if (Number.isNaN(d)) return false;
      return !((max !== undefined && d > max) || (min !== undefined && d < min) || (xmax !== undefined && d >= xmax) || (xmin !== undefined && d <= xmin));
    });
  }
  const [maxLength, minLength] = [num('maxLength'), num('minLength')];
  const pattern = typeof s.pattern === 'string' ? (patterns.get(s.pattern) as RegExp) : undefined;
  if (maxLength !== undefined || minLength !== undefined || pattern) {
    tests.push((d) => {
      if (typeof d !== 'string') return true;
      if (maxLength !== undefined || minLength !== undefined) {
        // code points only when the UTF-16 length could disagree with a limit
        const n = d.length > (maxLength ?? Number.POSITIVE_INFINITY) || d.length < (minLength ?? 0) * 2 ? codePoints(d) : d.length;
        if ((maxLength !== undefined && n > maxLength) || (minLength !== undefined && n < minLength)) return false;
      }
      return !pattern || pattern.test(d);
    });
  }
  const [maxItems, minItems] = [num('maxItems'), num('minItems')];
  const items = s.items !== undefined ? verdict(s.items as Schema, patterns) : undefined;
  if (maxItems !== undefined || minItems !== undefined || items) {
    tests.push((d) => {
      if (!Array.isArray(d)) return true;
      if ((maxItems !== undefined && d.length > maxItems) || (minItems !== undefined && d.length < minItems)) return false;
      if (items) for (let i = 0; i < d.length; i++) if (!items(d[i])) return false;
      return true;
    });
  }
  const [maxProps, minProps] = [num('maxProperties'), num('minProperties')];
  const required = Array.isArray(s.required) ? (s.required as string[]) : undefined;
  const props = s.properties !== undefined ? Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => [k, verdict(v, patterns)] as const) : [];
  const known = new Set(props.map(([k]) => k));
  const additional = s.additionalProperties;
  const additionalTest = additional !== undefined && additional !== false ? verdict(additional as Schema, patterns) : undefined;
  if (maxProps !== undefined || minProps !== undefined || required || props.length > 0 || additional !== undefined) {
    tests.push((d) => {
      if (typeof d !== 'object' || d === null || Array.isArray(d)) return true;
      const o = d as Record<string, unknown>;
      if (maxProps !== undefined || minProps !== undefined) {
        const n = Object.keys(o).length;
        if ((maxProps !== undefined && n > maxProps) || (minProps !== undefined && n < minProps)) return false;
      }
      if (required) for (const r of required) if (o[r] === undefined) return false;
      if (additional !== undefined) {
        for (const k in o) {
          if (known.has(k)) continue;
          if (additional === false || (additionalTest && !additionalTest(o[k]))) return false;
        }
      }
      for (const [k, t] of props) if (o[k] !== undefined && !t(o[k])) return false;
      return true;
    });
  }
  if (tests.length === 1) return tests[0];
  return (d) => {
    for (const t of tests) if (!t(d)) return false;
    return true;
  };
}

const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function typeOk(t: string, d: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof d === 'string';
    case 'number':
      return typeof d === 'number';
    case 'integer':
      // ajv without strictNumbers: !(data % 1) && !isNaN(data)
      return typeof d === 'number' && !(d % 1) && !Number.isNaN(d);
    case 'boolean':
      return typeof d === 'boolean';
    case 'null':
      return d === null;
    case 'array':
      return Array.isArray(d);
    default:
      return typeof d === 'object' && d !== null && !Array.isArray(d);
  }
}

/** Unicode code points, as ajv counts string length (ucs2length). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    n++;
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if ((next & 0xfc00) === 0xdc00) i++;
    }
  }
  return n;
}

const GROUPS = {
  number: ['maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum'],
  string: ['maxLength', 'minLength', 'pattern'],
  array: ['maxItems', 'minItems', 'items'],
  object: ['maxProperties', 'minProperties', 'required', 'additionalProperties', 'properties'],
} as const;
type Group = keyof typeof GROUPS;
const GROUP_ORDER: readonly Group[] = ['number', 'string', 'array', 'object'];

/**
 * Checks one schema in ajv's order: the type (unless it is a single type with keywords of its own, which ajv checks
 * with that type's group), then const, enum, not, anyOf, oneOf, allOf, then the number, string, array and object
 * keywords. At the top level ajv stops at the first error; inside anyOf/oneOf branches it collects each branch's.
 */
function check(schema: Schema, d: unknown, path: string, errors: SchemaError[], patterns: Map<string, RegExp>): boolean {
  if (schema === true) return true;
  if (schema === false) {
    errors.push({ instancePath: path, message: 'boolean schema is false' });
    return false;
  }
  const s = schema;
  const fail = (message: string) => {
    errors.push({ instancePath: path, message });
    return false;
  };
  const types = (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]) as string[];
  const typeMessage = `must be ${types.join(',')}`;
  const has = (g: Group) => GROUPS[g].some((k) => s[k] !== undefined);
  const deferType = types.length === 1 && types[0] in GROUPS && has(types[0] as Group);
  if (types.length > 0 && !deferType && !types.some((t) => typeOk(t, d))) return fail(typeMessage);

  if (s.const !== undefined && d !== s.const) return fail('must be equal to constant');
  if (Array.isArray(s.enum) && !s.enum.includes(d)) return fail('must be equal to one of the allowed values');
  if (s.not !== undefined && check(s.not as Schema, d, path, [], patterns)) return fail('must NOT be valid');
  if (Array.isArray(s.anyOf)) {
    const branch: SchemaError[] = [];
    if (!(s.anyOf as Schema[]).some((sub) => check(sub, d, path, branch, patterns))) {
      errors.push(...branch);
      return fail('must match a schema in anyOf');
    }
  }
  if (Array.isArray(s.oneOf)) {
    const branch: SchemaError[] = [];
    let passing = 0;
    for (const sub of s.oneOf as Schema[]) {
      if (check(sub, d, path, branch, patterns)) passing++;
      if (passing > 1) break;
    }
    if (passing !== 1) {
      if (passing === 0) errors.push(...branch);
      return fail('must match exactly one schema in oneOf');
    }
  }
  if (Array.isArray(s.allOf)) {
    for (const sub of s.allOf as Schema[]) if (!check(sub, d, path, errors, patterns)) return false;
  }

  for (const g of GROUP_ORDER) {
    if (!has(g)) continue;
    if (!typeOk(g, d)) {
      if (deferType && types[0] === g) return fail(typeMessage);
      continue;
    }
    if (g === 'number') {
      const n = d as number;
      // ajv's own comparisons: a limit fails on NaN too
      const nan = Number.isNaN(n);
      if (typeof s.maximum === 'number' && (n > s.maximum || nan)) return fail(`must be <= ${s.maximum}`);
      if (typeof s.minimum === 'number' && (n < s.minimum || nan)) return fail(`must be >= ${s.minimum}`);
      if (typeof s.exclusiveMaximum === 'number' && (n >= s.exclusiveMaximum || nan)) return fail(`must be < ${s.exclusiveMaximum}`);
      if (typeof s.exclusiveMinimum === 'number' && (n <= s.exclusiveMinimum || nan)) return fail(`must be > ${s.exclusiveMinimum}`);
    } else if (g === 'string') {
      const str = d as string;
      if (typeof s.maxLength === 'number' && codePoints(str) > s.maxLength) return fail(`must NOT have more than ${s.maxLength} characters`);
      if (typeof s.minLength === 'number' && codePoints(str) < s.minLength) return fail(`must NOT have fewer than ${s.minLength} characters`);
      if (typeof s.pattern === 'string' && !(patterns.get(s.pattern) as RegExp).test(str)) return fail(`must match pattern "${s.pattern}"`);
    } else if (g === 'array') {
      const a = d as unknown[];
      if (typeof s.maxItems === 'number' && a.length > s.maxItems) return fail(`must NOT have more than ${s.maxItems} items`);
      if (typeof s.minItems === 'number' && a.length < s.minItems) return fail(`must NOT have fewer than ${s.minItems} items`);
      if (s.items !== undefined) for (let i = 0; i < a.length; i++) if (!check(s.items as Schema, a[i], pointer(path, i), errors, patterns)) return false;
    } else {
      const o = d as Record<string, unknown>;
      if (typeof s.maxProperties === 'number' && Object.keys(o).length > s.maxProperties) return fail(`must NOT have more than ${s.maxProperties} properties`);
      if (typeof s.minProperties === 'number' && Object.keys(o).length < s.minProperties) return fail(`must NOT have fewer than ${s.minProperties} properties`);
      if (Array.isArray(s.required)) for (const r of s.required as string[]) if (o[r] === undefined) return fail(`must have required property '${r}'`);
      const props = (s.properties ?? {}) as Record<string, Schema>;
      if (s.additionalProperties !== undefined) {
        // for…in, as ajv iterates
        for (const k in o) {
          if (Object.hasOwn(props, k)) continue;
          if (s.additionalProperties === false) return fail('must NOT have additional properties');
          if (!check(s.additionalProperties as Schema, o[k], pointer(path, k), errors, patterns)) return false;
        }
      }
      for (const [k, sub] of Object.entries(props)) if (o[k] !== undefined && !check(sub, o[k], pointer(path, k), errors, patterns)) return false;
    }
  }
  return true;
}
