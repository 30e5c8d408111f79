import type { ToolConfig } from '../../lambda/shared/contract';

/** One tool's IAM grant, exactly as its release config declares it. */
export interface ToolGrant {
  readonly tool: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** A wildcard a tool's declared permissions carry: cdk-nag reports it (AwsSolutions-IAM5) under `finding`. */
export interface ToolWildcard {
  readonly tool: string;
  readonly kind: 'Action' | 'Resource';
  readonly value: string;
  /** The cdk-nag finding id, to acknowledge on the function if the wildcard is intended. */
  readonly finding: string;
  /** The id of the synth warning that names it (`Annotations.of(fn).acknowledgeWarning(id, why)` silences it). */
  readonly warning: string;
  /** The tool's `permissions.wildcardReason`, when it gives one. */
  readonly reason?: string;
}

/**
 * The IAM grants the tools of a release config declare: one per tool with actions. A tool that names actions must
 * name resources too (IAM needs them; '*' with a wildcardReason where an action has no resource type).
 */
export function toolGrants(tools: readonly ToolConfig[]): ToolGrant[] {
  const grants: ToolGrant[] = [];
  tools.forEach((tool, i) => {
    const actions = [...new Set(tool.permissions?.actions ?? [])];
    const resources = [...new Set(tool.permissions?.resources ?? [])];
    if (actions.length === 0) {
      if (resources.length > 0)
        throw new Error(
          `tools.tools[${i}] ("${tool.name}") lists permissions.resources but no permissions.actions: name the actions the tool calls on them, or remove the resources`,
        );
      return; // hosts only, or nothing: no AWS access
    }
    if (resources.length === 0)
      throw new Error(
        `tools.tools[${i}] ("${tool.name}") lists permissions.actions but no permissions.resources: name the resource ARNs, or "*" with permissions.wildcardReason where the action supports no resource`,
      );
    grants.push({ tool: tool.name, actions, resources });
  });
  return grants;
}

/** Every wildcard in the tools' declared actions and resources, with the cdk-nag finding it raises. */
export function toolWildcards(tools: readonly ToolConfig[]): ToolWildcard[] {
  const found: ToolWildcard[] = [];
  for (const g of toolGrants(tools)) {
    const reason = (tools.find((t) => t.name === g.tool)?.permissions as { wildcardReason?: string } | undefined)?.wildcardReason;
    for (const [kind, values] of [
      ['Action', g.actions],
      ['Resource', g.resources],
    ] as const)
      for (const value of values)
        if (value.includes('*'))
          found.push({
            tool: g.tool,
            kind,
            value,
            finding: `AwsSolutions-IAM5[${kind}::${value}]`,
            warning: `cdk-ai-release:tool-wildcard:${g.tool}:${value}`,
            ...(reason ? { reason } : {}),
          });
  }
  return found;
}
