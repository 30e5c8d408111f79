import Ajv from 'ajv';
import { interpret } from '../lambda/runtime/schema-interpreter';

// The reference: ajv as the runtime used it before (draft-07, strict off, first error only).
const ajv = new Ajv({ allErrors: false, strict: false, logger: false });

const schemas: Record<string, unknown>[] = [
  { type: 'object', required: ['answer'], properties: { answer: { type: 'string', minLength: 1 } } },
  {
    type: 'object',
    required: ['answer', 'citations'],
    additionalProperties: false,
    properties: {
      answer: { type: 'string', minLength: 1, maxLength: 20 },
      citations: { type: 'array', maxItems: 2, items: { type: 'string', pattern: '^kb-[a-z0-9-]+$' } },
      degraded: { type: 'boolean' },
    },
  },
  { type: 'object', properties: { score: { type: 'number', minimum: 0, maximum: 1 }, n: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 } } },
  { type: ['string', 'null'], maxLength: 3 },
  { type: 'string' },
  { enum: ['a', 'b', 1, null] },
  { const: 'fixed' },
  { type: 'object', enum: ['x'] },
  {
    anyOf: [
      { type: 'string', minLength: 2 },
      { type: 'number', minimum: 5 },
    ],
  },
  { oneOf: [{ type: 'integer' }, { type: 'number', maximum: 2 }] },
  {
    allOf: [
      { type: 'object', required: ['a'] },
      { type: 'object', required: ['b'] },
    ],
  },
  { not: { type: 'string' } },
  { type: 'object', minProperties: 1, maxProperties: 2, additionalProperties: { type: 'number' } },
  { type: 'array', minItems: 1, items: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
  { type: 'object', properties: { 'a/b': { type: 'string' }, 'c~d': { type: 'number' } } },
  { type: 'object', required: ['x'], properties: { x: false } },
  { type: 'string', pattern: '^\\p{Lu}' },
  { title: 'annotated', description: 'only annotations', $schema: 'http://json-schema.org/draft-07/schema#' },
];

const values: unknown[] = [
  null,
  true,
  0,
  1,
  1.5,
  3,
  7,
  12,
  -1,
  Number.NaN,
  '',
  'x',
  'ab',
  'abcd',
  'Épée',
  '😀😀😀',
  'fixed',
  'kb-1',
  [],
  [1],
  ['kb-restore-01'],
  ['kb-a', 'kb-b', 'kb-c'],
  [{ id: 'a' }, { id: 2 }],
  [{}],
  {},
  { answer: '' },
  { answer: 'Restore from Trash.' },
  { answer: 'ok', citations: ['kb-a'] },
  { answer: 'ok', citations: ['bad id'] },
  { answer: 'ok', citations: [], extra: 1 },
  { answer: 'x'.repeat(30), citations: [] },
  { answer: 'ok', citations: [], degraded: 'yes' },
  { score: 0.5, n: 3 },
  { score: 2, n: 3 },
  { score: 0.5, n: 0 },
  { score: 0.5, n: 2.5 },
  { a: 1 },
  { a: 1, b: 2 },
  { a: 1, b: 2, c: 3 },
  { a: 'x' },
  { 'a/b': 1 },
  { 'c~d': 'x' },
  { x: 1 },
];

describe('the interpreter answers exactly as ajv', () => {
  test.each(schemas.map((s, i) => [i, JSON.stringify(s).slice(0, 90), s] as const))('schema %i %s', (_i, _text, schema) => {
    const mine = interpret(schema);
    expect(mine).toBeDefined();
    const theirs = ajv.compile(schema);
    const composite = JSON.stringify(schema).includes('anyOf') || JSON.stringify(schema).includes('oneOf');
    for (const value of values) {
      const expected = theirs(value);
      const actual = mine!(value);
      const view = (errors: { instancePath: string; message?: string }[] | null | undefined) =>
        (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
      expect({ value, valid: actual }).toEqual({ value, valid: expected });
      // Inside anyOf/oneOf branches ajv may list more than one error per branch; the verdict (last error) agrees.
      if (composite) expect(view(mine!.errors).at(-1)).toEqual(view(theirs.errors).at(-1));
      else expect({ value, errors: view(mine!.errors) }).toEqual({ value, errors: view(theirs.errors) });
    }
  });

  test.each([
    [{ $ref: '#/definitions/a', definitions: { a: { type: 'string' } } }],
    [{ type: 'string', format: 'email' }],
    [JSON.parse('{"if":{"type":"string"},"then":{"minLength":2}}')], // parsed: an object literal with `then` would be a thenable
    [{ type: 'array', items: [{ type: 'string' }] }],
    [{ type: 'array', uniqueItems: true }],
    [{ type: 'number', multipleOf: 2 }],
    [{ type: 'object', patternProperties: { '^x': { type: 'string' } } }],
    [{ enum: [{ a: 1 }] }],
    [{ type: 'strng' }],
    [{ type: 'string', pattern: '(' }],
    [{ properties: { a: { $ref: '#' } } }],
  ])('a keyword it does not interpret is left to ajv: %j', (schema) => {
    expect(interpret(schema)).toBeUndefined();
  });

  test('boolean schemas', () => {
    expect(interpret(true)!({})).toBe(true);
    const no = interpret(false)!;
    expect(no(1)).toBe(false);
    expect(no.errors).toEqual([{ instancePath: '', message: 'boolean schema is false' }]);
  });
});
