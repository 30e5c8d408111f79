import type Ajv from 'ajv';
import type { Options } from 'ajv';
import { interpret } from './schema-interpreter';

/** An output-contract validator, with ajv's calling convention (validity; the errors of the last call on `.errors`). */
export interface ContractValidator {
  (data: unknown): boolean;
  errors?: readonly { readonly instancePath: string; readonly message?: string }[] | null;
}

/**
 * Output-contract validators, built once per schema (keyed by its JSON text, so a rollout that flips between two
 * versions, or a new config version with the same contract, never builds again).
 *
 * Cold start (measured, bench/RESULTS.md): loading ajv, constructing it and compiling the first contract was ~25 ms
 * of every cold start. Contracts that use the common keywords are interpreted instead (schema-interpreter.ts, same
 * answers as ajv); ajv loads only for a schema that needs it ($ref, format, if/then/else…). When it does, it skips
 * meta-schema validation: the schema was compiled against its meta-schema, strictly, at synth
 * (validate-release-config). A schema ajv cannot compile still throws here, and the config is refused.
 */
const OPTIONS: Options = { allErrors: false, strict: false, logger: false, validateSchema: false, code: { optimize: false, source: false } };

/** Validators kept: the current and previous config's contracts, with room for a rollout between them. */
const KEEP = 4;

export class ContractValidators {
  private draft07?: Ajv;
  private draft2020?: Ajv;
  private readonly byText = new Map<string, ContractValidator>();

  /** The validator of a schema; throws when the schema cannot be compiled. */
  public get(schema: unknown): ContractValidator {
    const text = JSON.stringify(schema);
    const known = this.byText.get(text);
    if (known) return known;
    const validate = interpret(schema) ?? this.compile(schema, text);
    if (this.byText.size >= KEEP) this.byText.delete(this.byText.keys().next().value as string);
    this.byText.set(text, validate);
    return validate;
  }

  private compile(schema: unknown, text: string): ContractValidator {
    const ajv = this.ajvFor(schema, text);
    try {
      return ajv.compile(schema as object);
    } finally {
      // ajv also caches by schema object; every config fetch parses a new one, so drop it (the function stays usable).
      if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
    }
  }

  private ajvFor(schema: unknown, text: string): Ajv {
    const uri = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined;
    const is2020 = typeof uri === 'string' && uri.includes('2020-12');
    let ajv = is2020 ? this.draft2020 : this.draft07;
    if (!ajv) {
      // Required here, not imported: a module imported at the top is paid on every cold start.
      const Draft = (is2020 ? require('ajv/dist/2020') : require('ajv')).default as typeof Ajv;
      ajv = new Draft(OPTIONS);
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
