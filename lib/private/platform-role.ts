import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/**
 * A platform role as a service at `scope` should grant to it. In the platform's own stack it is the role itself
 * (grants land in its default policy, as they always did). From another stack (the "platform stack + one stack per
 * service" layout, or a service in a nested stack) it is the role imported by ARN into the service's stack, mutable:
 * CDK then writes the service's grants into a policy of the service's stack attached to the role, so the platform's
 * stack never refers to a service's resources (that reference, with the service's references to the platform, is a
 * dependency cycle between the stacks). Whatever must not run before the grants exist depends on the returned role.
 */
export function platformRole(scope: Construct, owner: lambda.IFunction | iam.IRole): iam.IRole {
  const role = 'roleArn' in owner ? owner : owner.role;
  if (!role) throw new Error(`${owner.node.path} has no role to grant to`);
  if (Stack.of(scope) === Stack.of(role)) return role;
  const host = Stack.of(scope);
  const id = `PlatformRole-${Stack.of(role).node.addr.slice(0, 8)}-${role.node.addr.slice(0, 8)}`;
  const existing = host.node.tryFindChild(id) as iam.IRole | undefined;
  return existing ?? iam.Role.fromRoleArn(host, id, role.roleArn, { mutable: true });
}

/** Adds `statement` to the role of a platform function, from a service at `scope` (see platformRole). */
export function grantToPlatformFunction(scope: Construct, fn: lambda.IFunction, statement: iam.PolicyStatement): iam.IRole {
  const role = platformRole(scope, fn);
  role.addToPrincipalPolicy(statement);
  return role;
}
