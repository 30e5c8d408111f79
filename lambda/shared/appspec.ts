/**
 * The Lambda AppSpec of a CodeDeploy deployment (GetDeployment → deploymentInfo.revision.appSpecContent.content):
 * "For an AWS Lambda deployment, the content includes a Lambda function name, the alias for its original version, and
 * the alias for its replacement version" (CodeDeploy API reference, AppSpecContent). JSON or YAML:
 *
 *   Resources:
 *     - myFunction:
 *         Type: AWS::Lambda::Function
 *         Properties: { Name: fn, Alias: live, CurrentVersion: "3", TargetVersion: "4" }
 *
 * The gate reads the version to replay against here, not from its own environment: this is what the deployment
 * shifts traffic to, whatever order CloudFormation updated the gate in.
 */
export interface LambdaAppSpecTarget {
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
}

export function parseLambdaAppSpec(content: string): LambdaAppSpecTarget {
  let props: Record<string, unknown> | undefined;
  try {
    const doc = JSON.parse(content) as { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>[] };
    for (const entry of doc.Resources ?? [])
      for (const r of Object.values(entry ?? {})) if (r?.Type === 'AWS::Lambda::Function' && r.Properties) props = r.Properties;
  } catch {
    // YAML: the four keys are unique within a Lambda AppSpec (hooks name functions by value, not by these keys).
    const field = (k: string) => new RegExp(`^\\s*${k}\\s*:\\s*["']?([^"'\\s#]+)["']?\\s*$`, 'm').exec(content)?.[1];
    if (/AWS::Lambda::Function/.test(content))
      props = { Name: field('Name'), Alias: field('Alias'), CurrentVersion: field('CurrentVersion'), TargetVersion: field('TargetVersion') };
  }
  const s = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const target = {
    functionName: s(props?.Name),
    alias: s(props?.Alias),
    currentVersion: s(props?.CurrentVersion),
    targetVersion: s(props?.TargetVersion),
  };
  const missing = Object.entries(target)
    .filter(([, v]) => v === undefined || v === '')
    .map(([k]) => k);
  if (!props || missing.length > 0)
    throw new Error(
      `the deployment's AppSpec names no Lambda function target (missing ${missing.join(', ') || 'the AWS::Lambda::Function resource'}); is this a Lambda deployment?`,
    );
  if (!/^\d+$/.test(target.targetVersion!))
    throw new Error(`the deployment's AppSpec TargetVersion must be a published version number, got "${target.targetVersion}"`);
  return target as LambdaAppSpecTarget;
}

/**
 * The AppSpec text of a deployment's revision (GetDeployment → deploymentInfo.revision): `appSpecContent.content`
 * for an AppSpecContent revision (what CloudFormation's CodeDeployLambdaAliasUpdate creates), else `string.content`
 * (a String revision, the older form a caller may use for a Lambda deployment).
 */
export function lambdaAppSpecContent(
  deploymentId: string,
  revision: { revisionType?: string; appSpecContent?: { content?: string }; string?: { content?: string } } | undefined,
): string {
  const content = revision?.appSpecContent?.content ?? revision?.string?.content;
  if (!content)
    throw new Error(
      `deployment ${deploymentId} has no AppSpec content (revisionType ${revision?.revisionType ?? 'unknown'}; read revision.appSpecContent.content or revision.string.content)`,
    );
  return content;
}
