import Ajv, { type Options, type ValidateFunction } from 'ajv';

/**
 * Output-contract validators, compiled once per schema (keyed by its JSON text, so a rollout that flips between two
 * versions, or a new config version with the same contract, never compiles again).
 *
 * Cold start: the schema was already compiled against its meta-schema, strictly, at synth (validate-release-config),
 * so the runtime skips ajv's meta-schema validation (`validateSchema: false`): that alone was ~20 of the ~30 ms of
 * the first compile (bench/RESULTS.md). A schema ajv cannot compile still throws here, and the config is refused.
 * Draft 2020-12 and `format` support load only when a schema asks for them.
 */
const OPTIONS: Options = { allErrors: false, strict: false, logger: false, validateSchema: false, code: { optimize: false, source: false } };

/** Validators kept: the current and previous config's contracts, with room for a rollout between them. */
const KEEP = 4;

export class ContractValidators {
  private draft07?: Ajv;
  private draft2020?: Ajv;
  private readonly byText = new Map<string, ValidateFunction>();

  /** The validator of a schema; throws when ajv cannot compile it. */
  public get(schema: unknown): ValidateFunction {
    const text = JSON.stringify(schema);
    const known = this.byText.get(text);
    if (known) return known;
    const ajv = this.ajvFor(schema, text);
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema as object);
    } finally {
      // ajv also caches by schema object; every config fetch parses a new one, so drop it (the function stays usable).
      if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
    }
    if (this.byText.size >= KEEP) this.byText.delete(this.byText.keys().next().value as string);
    this.byText.set(text, validate);
    return validate;
  }

  private ajvFor(schema: unknown, text: string): Ajv {
    const uri = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
    const is2020 = typeof uri === 'string' && uri.includes('2020-12');
    let ajv = is2020 ? this.draft2020 : this.draft07;
    if (!ajv) {
      // Loaded on demand: most contracts are draft-07, and every module required at start is paid on every cold start.
      ajv = is2020 ? new (require('ajv/dist/2020').default as typeof Ajv)(OPTIONS) : new Ajv(OPTIONS);
      if (is2020) this.draft2020 = ajv;
      else this.draft07 = ajv;
    }
    if (text.includes('"format"') && !(ajv as { formatsAdded?: boolean }).formatsAdded) {
      require('ajv-formats').default(ajv);
      (ajv as { formatsAdded?: boolean }).formatsAdded = true;
    }
    return ajv;
  }
}
