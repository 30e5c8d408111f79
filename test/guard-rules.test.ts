import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTROL_TOWER_RULES, ruleFiles, rulesForAbsentTypes, ruleTypes, templateTypes } from './guard-rules';

// TypedCfnGuardValidator (test/guard-rules.ts) skips the Control Tower rules that name no resource type of the
// template. That gives the same findings only while every rule names the types it selects; these tests pin that
// on the rules installed today, and the selection itself.

describe('the cfn-guard rules a template can trigger', () => {
  const files = ruleFiles();

  test('every installed Control Tower rule names the resource type it selects, so none is skipped blindly', () => {
    expect(files.length).toBeGreaterThan(200);
    const unnamed: string[] = [];
    const unselected: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const types = ruleTypes(text);
      if (types.size === 0) unnamed.push(path.relative(CONTROL_TOWER_RULES, f));
      // A rule reaches the template's resources through `Resources.*[ Type == %X ... ]` selections (a hook document
      // through `%INPUT_DOCUMENT.%X`): each selection must filter by types the rule names, and no `Resources.*` may go
      // unfiltered. (Lookups of a referenced resource by its logical id do not select: they follow a selected one.)
      const vars = new Set([...text.matchAll(/let\s+(\w+)\s*=\s*["']([A-Za-z0-9:]+)["']/g)].filter((m) => types.has(m[2])).map((m) => m[1]));
      const selections = [...text.matchAll(/Resources\.\*\s*\[([^\]]*)\]/g)].map((m) =>
        [...m[1].matchAll(/Type\s*==\s*(%\w+|["'][^"']+["'])/g)].map((t) => t[1]),
      );
      const named = (t: string) => (t.startsWith('%') ? vars.has(t.slice(1)) : types.has(t.slice(1, -1)));
      if (selections.length !== (text.match(/Resources\.\*/g) ?? []).length || !selections.every((sel) => sel.length > 0 && sel.every(named)))
        unselected.push(path.relative(CONTROL_TOWER_RULES, f));
    }
    expect(unnamed).toEqual([]);
    expect(unselected).toEqual([]);
  });

  test('a rule is skipped exactly when none of its types is in the template', () => {
    const types = (...t: string[]) => templateTypes([{ Resources: Object.fromEntries(t.map((type, i) => [`R${i}`, { Type: type }])) }]);
    const lambdaOnly = rulesForAbsentTypes(types('AWS::Lambda::Function'));
    const withBucket = rulesForAbsentTypes(types('AWS::Lambda::Function', 'AWS::S3::Bucket'));
    const none = rulesForAbsentTypes(types());
    expect(none).toHaveLength(files.length);
    // the Lambda rules run on a Lambda-only template, the S3 rules only once a bucket is in it
    expect(lambdaOnly).not.toContain('ct-lambda-pr-3');
    expect(lambdaOnly).toContain('ct-s3-pr-1');
    expect(withBucket).not.toContain('ct-s3-pr-1');
    expect(withBucket.length).toBeLessThan(lambdaOnly.length);
    // a rule that also names a type it follows references to (the function's subnets) is kept when only that one is
    // present: the selection errs toward running a rule
    expect(rulesForAbsentTypes(types('AWS::EC2::Subnet'))).not.toContain('ct-lambda-pr-3');
    expect(rulesForAbsentTypes(types('AWS::EC2::Subnet'))).toContain('ct-lambda-pr-4');
  });
});
