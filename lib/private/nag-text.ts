import { type Stack, Token } from 'aws-cdk-lib';

/**
 * How cdk-nag prints a value in a finding id, so an acknowledgment can name it: a literal as itself, a GetAtt as
 * `<LogicalId.Attr>`, a Ref as `<LogicalId>`, and an `Fn::Join` with an empty separator as its parts so printed.
 * `undefined` when the value has another shape (cdk-nag would print it differently; the caller decides).
 */
export function nagText(stack: Stack, value: string): string | undefined {
  const v = stack.resolve(value) as unknown;
  if (typeof v === 'string') return v;
  const part = (p: unknown): string | undefined => {
    if (typeof p === 'string') return p;
    const o = p as { Ref?: unknown; 'Fn::GetAtt'?: unknown } | null;
    if (typeof o?.Ref === 'string') return `<${o.Ref}>`;
    if (Array.isArray(o?.['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    return undefined;
  };
  const single = part(v);
  if (single !== undefined) return single;
  const join = (v as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join?.[0] !== '') return undefined;
  let s = '';
  for (const p of join[1]) {
    const t = part(p);
    if (t === undefined) return undefined;
    s += t;
  }
  return Token.isUnresolved(s) ? undefined : s;
}
