/**
 * CloudFormation's quota of resources per stack (500, or the app's `@aws-cdk/core:stackResourceLimit`), checked at
 * synth for every stack that holds AI services and named with the layouts that lift it. CDK's own check comes later
 * (while it writes the template) and names the count only; this one names the services, what each costs and the fix.
 * With every default on and an application per service, a service adds about 27 resources (22 under its AiRelease:
 * one subscription filter, no review rule, cannot-judge alarm or dashboard of its own, and one of the platform's
 * shared judge schedule rules per five services) and the platform about 67–73, plus what synth adds: IAM managed
 * policies when the platform roles' per-service statements outgrow their inline policies (6 at 15 services of the
 * test config, 10 with the example's evaluation section). So one flat stack holds 15 services of the test config
 * (480 resources; 16: 509) and 15 with an evaluation section (490; with this repository's cdk.json flags 498);
 * bench/RESULTS.md § "h9-schedule", docs/constructs.md "Many services". This check counts the construct tree when synth validates,
 * after those policies exist. A NestedStack or a stack per service holds any number.
 *
 * Kept on the Stack under a global symbol, not in a module-level map, so two copies of the library see one list.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

const RELEASES = Symbol.for('cdk-ai-release.stack-releases');
/** CloudFormation quotas: "Resources: 500 per stack" (aws-cdk-lib core applies the same default). */
const MAX_RESOURCES = 500;
const STACK_RESOURCE_LIMIT_CONTEXT = '@aws-cdk/core:stackResourceLimit';

/** Registers `release` (an AiRelease) with its stack; the first one of a stack adds the stack's check. */
export function claimStackCapacity(release: Construct, serviceName: string): void {
  const stack = Stack.of(release);
  const holder = stack as unknown as Record<symbol, { release: Construct; serviceName: string }[] | undefined>;
  let releases = holder[RELEASES];
  if (!releases) {
    const list: { release: Construct; serviceName: string }[] = [];
    releases = list;
    Object.defineProperty(stack, RELEASES, { value: list, enumerable: false });
    stack.node.addValidation({ validate: () => capacityProblems(stack, list) });
  }
  releases.push({ release, serviceName });
}

function resourcesOf(scope: Construct, stack: Stack): number {
  return scope.node.findAll().filter((c) => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
}

function capacityProblems(stack: Stack, releases: readonly { release: Construct; serviceName: string }[]): string[] {
  // As CDK reads it (Stack.maxResources, private): the context value, else CloudFormation's 500; 0 turns it off.
  const context = stack.node.tryGetContext(STACK_RESOURCE_LIMIT_CONTEXT);
  const limit = context !== undefined ? Number.parseInt(String(context), 10) : MAX_RESOURCES;
  if (!(limit > 0)) return [];
  const total = resourcesOf(stack, stack);
  if (total <= limit) return [];
  const perService = Math.round(releases.reduce((n, r) => n + resourcesOf(r.release, stack), 0) / releases.length);
  const names = releases.map((r) => r.serviceName);
  const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
  return [
    `${total} resources in stack ${stack.node.path} exceed CloudFormation's quota of ${limit} resources per stack (CDK refuses to write the template; CloudFormation would refuse to create it): ${releases.length} AI service${releases.length === 1 ? '' : 's'} (${shown}) at about ${perService} resources each under their AiRelease, plus their functions and the platform. ` +
      'Put each service in a NestedStack of its own under the platform\'s stack, or in a stack of its own beside a platform stack, with applicationPerService on the AiReleasePlatform (docs/constructs.md, "Many services"); both layouts hold any number of services per platform up to AppConfig\'s 100 applications per account',
  ];
}
