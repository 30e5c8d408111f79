import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';

// cfn-guard costs about 8 s of CPU per example template with all 237 Control Tower rule files, most of them for
// resource types the library never creates (RDS, EC2, CloudFront, ...). A Control Tower rule picks its resources by
// type (`Resources.*[ Type == "AWS::..." ]`) and names every type it reads, the ones it follows references to
// included; a rule none of whose types is in the template selects nothing and is skipped, so it cannot report a
// finding. Guarding a template with only the rules that name one of its types therefore gives the same findings:
// on the example template 46 of 237 rule files, 2.2 s instead of 7.7 s CPU, and the same 11 non-compliant checks
// (bench/RESULTS.md § h10-speed; `npx tsx bench/guard-rules.ts` repeats the comparison).

/** The Control Tower rule files shipped with @cdklabs/cdk-validator-cfnguard. */
export const CONTROL_TOWER_RULES = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules/control-tower/cfn-guard');

/** Every `*.guard` file under a rules folder. */
export function ruleFiles(dir = CONTROL_TOWER_RULES): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return ruleFiles(p);
    return e.name.endsWith('.guard') ? [p] : [];
  });
}

/** The resource types a rule file names (quoted `AWS::Service::Resource` strings). */
export function ruleTypes(text: string): Set<string> {
  return new Set([...text.matchAll(/["']((?:AWS|Custom|Alexa)::[A-Za-z0-9]+(?:::[A-Za-z0-9]+)?)["']/g)].map((m) => m[1]));
}

/** The resource types in CloudFormation templates. */
export function templateTypes(templates: { Resources?: Record<string, { Type?: string }> }[]): Set<string> {
  return new Set(templates.flatMap((t) => Object.values(t.Resources ?? {}).map((r) => String(r.Type))));
}

/**
 * The rule files (by name, as `disabledRules` takes them) that can report nothing on templates with these types:
 * those that name no type present. A rule that names no type at all is kept (it could select by something else).
 */
export function rulesForAbsentTypes(types: Set<string>, files = ruleFiles()): string[] {
  return files
    .filter((f) => {
      const named = ruleTypes(fs.readFileSync(f, 'utf8'));
      return named.size > 0 && ![...named].some((t) => types.has(t));
    })
    .map((f) => path.parse(f).name);
}

/**
 * The cfn-guard Control Tower validator, run at synth with only the rules that name a resource type of the
 * synthesized templates. Same plugin name as CfnGuardValidator, so acknowledgements
 * (`cdk-validator-cfnguard::<rule>`) and reports read the same.
 */
export class TypedCfnGuardValidator implements IPolicyValidationPluginBeta1 {
  public readonly name: string;
  public readonly version?: string;
  /** The rule files the last validation skipped (their types are absent). */
  public skipped: string[] = [];

  constructor() {
    const probe = new CfnGuardValidator({ controlTowerRulesEnabled: true });
    this.name = probe.name;
    this.version = probe.version;
  }

  public validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const templates = context.templatePaths.map((p) => JSON.parse(fs.readFileSync(p, 'utf8')));
    const files = ruleFiles();
    this.skipped = rulesForAbsentTypes(templateTypes(templates), files);
    const skipped = new Set(this.skipped);
    // The kept rule files by path: CfnGuardValidator's `disabledRules` can pass the whole rules folder instead (its
    // getRules compares the count of files kept below a folder with the count of its entries, which can coincide).
    const rules = files.filter((f) => !skipped.has(path.parse(f).name));
    return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate(context);
  }
}
