/**
 * Which JSON Schema draft a schema in a release config is written in, from its `$schema`. Synth compiles output
 * contracts and tool input schemas with the matching ajv class (ajv, ajv/dist/2019, ajv/dist/2020, ajv-draft-04)
 * plus ajv-formats; the runtime must pick the same, or a contract synth accepted would not compile when served.
 */
export type JsonSchemaDraft = 'draft-04' | 'draft-07' | '2019-09' | '2020-12';

const DRAFTS: Readonly<Record<string, JsonSchemaDraft>> = {
  'json-schema.org/draft-04/schema': 'draft-04',
  // draft-06 is a subset of draft-07 as far as ajv is concerned
  'json-schema.org/draft-06/schema': 'draft-07',
  'json-schema.org/draft-07/schema': 'draft-07',
  'json-schema.org/draft/2019-09/schema': '2019-09',
  'json-schema.org/draft/2020-12/schema': '2020-12',
  'json-schema.org/schema': '2020-12', // "the latest draft"
};

/** The draft a schema declares (draft-07 when it declares none), or undefined for a `$schema` no ajv class speaks. */
export function jsonSchemaDraft(schema: { readonly $schema?: unknown }): JsonSchemaDraft | undefined {
  const declared = schema.$schema;
  if (declared === undefined) return 'draft-07';
  if (typeof declared !== 'string') return undefined;
  return DRAFTS[declared.replace(/^https?:\/\//, '').replace(/#$/, '')];
}
