/**
 * One AppConfig extension association per live environment (issue 15 E): the config gate check (PRE_START_DEPLOYMENT),
 * the canary judge's tick (AT_DEPLOYMENT_TICK) and the release review (ON_DEPLOYMENT_COMPLETE and
 * ON_DEPLOYMENT_ROLLED_BACK) are actions of ONE extension per host (the platform), and each service's live environment
 * gets ONE association carrying the parameters all of them read (`service`, `profile`).
 *
 * What the AppConfig documentation says, and what this relies on:
 * - An extension defines one or more actions, keyed by action point; "you specify the name, URI, and ARN for each
 *   action point defined in the extension" (API reference, Action), so each action point keeps its own function and
 *   the role AppConfig assumes to invoke it. The Actions map has at most 5 entries and each entry exactly 1 action
 *   (API reference, CreateExtension/UpdateExtension: "Map Entries: Maximum number of 5 items", "Array Members: Fixed
 *   number of 1 item"): the four action points used here fit, and two actions can never share an action point.
 * - The extension's Parameters are declared once; an association gives their values, and "for Lambda extension
 *   actions, these parameters are included in the Lambda request object" (CreateExtension: Parameters): every action
 *   of the association receives the same values, so the union of what the three handlers read is declared and set.
 * - What an action's error does depends on its action point, not on the extension (User Guide, "Create a custom AWS
 *   AppConfig extension"): an error at PRE_* prevents the action (the gate check refuses); ON_* are invoked
 *   asynchronously and their errors are ignored (the review); an error at AT_DEPLOYMENT_TICK stops the workflow and
 *   rolls the deployment back, so the tick function still never throws (lambda/canary-judge/tick.ts, issue 15 A5).
 *   Folding the associations changes none of this: AppConfig invokes each action point's own function.
 *
 * A service that turns one of the three off (no judge, no review, no gate) must not get that action: AppConfig
 * cannot leave out an action per association, so an association points to the host's extension for exactly its set
 * of actions (one extension per distinct set; with every default on, one for the whole platform). The set grows while
 * the app is built (AiRelease wires the judge, the gate and the review in turn; `connectConfigGate` may come later),
 * so the association is re-pointed on each addition and an extension no association uses any more is removed.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { namePrefix, physicalName } from '../private/physical-names';

/** The three release actions, in the order they are named (extension ids and names are built from it). */
export const RELEASE_ACTION_KINDS = ['config-gate-check', 'canary-judge', 'release-review'] as const;
export type ReleaseActionKind = (typeof RELEASE_ACTION_KINDS)[number];

/** One extension action of the release machinery: its action points, function and the role AppConfig assumes. */
export interface ReleaseAction {
  readonly kind: ReleaseActionKind;
  /** AppConfig action points (e.g. PRE_START_DEPLOYMENT); each gets this action, and no other action may take it. */
  readonly points: readonly string[];
  /** Action name (AppConfig Action: Name, 1 to 128 characters). */
  readonly name: string;
  readonly description: string;
  readonly function: lambda.IFunction;
  /** The role AppConfig assumes to invoke the function (lambda:InvokeFunction; lambda:InvokeAsync for ON_*). */
  readonly role: iam.IRole;
  /** The extension parameters the action's function reads from the association. */
  readonly parameters: { readonly [name: string]: { readonly required: boolean; readonly description: string } };
}

/** Where a host's extensions live and how they are named. */
export interface ReleaseExtensionHost {
  /** The construct the extensions are created in (the platform, shared by its services). */
  readonly scope: Construct;
  /** The extension's physical name for a set of action kinds (unique in the account, AppConfig CreateExtension: Name). */
  readonly extensionName: (kinds: readonly ReleaseActionKind[]) => string;
}

/** Where the association of an environment is created, the first time an action is added to it. */
export interface AssociationPlacement {
  readonly scope: Construct;
  readonly id: string;
}

/** The association of one environment with its host's extension, and what it carries. */
export interface ReleaseExtensionAssociation {
  readonly association: appconfig.CfnExtensionAssociation;
  /** The extension the association points to now (for its whole set of actions). */
  readonly extension: appconfig.CfnExtension;
  /** The action kinds the association runs. */
  readonly kinds: readonly ReleaseActionKind[];
}

interface EnvironmentEntry {
  association: appconfig.CfnExtensionAssociation;
  actions: Map<ReleaseActionKind, ReleaseAction>;
  values: Record<string, string>;
  extensionKey: string;
}

interface HostState {
  readonly host: ReleaseExtensionHost;
  readonly extensions: Map<string, { extension: appconfig.CfnExtension; actions: readonly ReleaseAction[] }>;
  readonly environments: Map<appconfig.CfnEnvironment, EnvironmentEntry>;
}

const HOSTS = new WeakMap<Construct, HostState>();

/**
 * The inline policy of a role AppConfig assumes to run one action: invoke that one function (AppConfig User Guide,
 * "Configuring permissions for a custom AWS AppConfig extension": lambda:InvokeFunction for synchronous action points,
 * lambda:InvokeAsync too for ON_* ones). Inline, so the role and its permission are one resource.
 */
export function invokeOnly(fn: lambda.IFunction, actions: readonly string[]): { [name: string]: iam.PolicyDocument } {
  return { InvokeAction: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: [...actions], resources: [fn.functionArn] })] }) };
}

/** The extension's construct id in its host for a set of kinds: `ReleaseExtension` for all three. */
export function releaseExtensionId(kinds: readonly ReleaseActionKind[]): string {
  return kinds.length === RELEASE_ACTION_KINDS.length ? 'ReleaseExtension' : `ReleaseExtension-${kinds.join('-')}`;
}

/**
 * Adds `action` to the association of `environment` with `host`'s extension (created at `placement` with the first
 * action), with the parameter values it needs. Returns the association (one per environment and host).
 */
export function addReleaseAction(
  host: ReleaseExtensionHost,
  environment: appconfig.CfnEnvironment,
  action: ReleaseAction,
  values: { readonly [name: string]: string },
  placement: AssociationPlacement,
): ReleaseExtensionAssociation {
  let state = HOSTS.get(host.scope);
  if (!state) {
    state = { host, extensions: new Map(), environments: new Map() };
    HOSTS.set(host.scope, state);
  }
  let entry = state.environments.get(environment);
  if (entry) {
    const known = entry.actions.get(action.kind);
    if (known && known.function !== action.function) {
      throw new Error(
        `the live environment ${environment.node.path} already runs the ${action.kind} action with ${known.function.node.path}; an environment has one ${action.kind} (AppConfig allows one action per action point of an extension)`,
      );
    }
    const resolved = (v: string) => JSON.stringify(Stack.of(environment).resolve(v));
    for (const [name, value] of Object.entries(values)) {
      const had = entry.values[name];
      if (had !== undefined && resolved(had) !== resolved(value))
        throw new Error(
          `the extension association of ${environment.node.path} already sets parameter "${name}" to ${resolved(had)}; the ${action.kind} action needs ${resolved(value)}: one association carries one value per parameter for all its actions`,
        );
    }
  } else {
    const stack = Stack.of(environment);
    const association = new appconfig.CfnExtensionAssociation(placement.scope, placement.id, {
      // Re-pointed below, once the set of actions is known.
      extensionIdentifier: 'pending',
      resourceIdentifier: stack.formatArn({
        service: 'appconfig',
        resource: 'application',
        resourceName: `${environment.applicationId}/environment/${environment.ref}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    });
    entry = { association, actions: new Map(), values: {}, extensionKey: '' };
    state.environments.set(environment, entry);
  }
  for (const a of entry.actions.values()) {
    const shared = a.kind !== action.kind ? a.points.filter((p) => action.points.includes(p)) : [];
    if (shared.length > 0)
      throw new Error(
        `the ${action.kind} and ${a.kind} actions both use action point ${shared.join(', ')}; an AppConfig extension has exactly one action per action point (CreateExtension: Actions)`,
      );
  }
  entry.actions.set(action.kind, action);
  entry.values = { ...entry.values, ...values };
  entry.association.parameters = { ...entry.values };
  repoint(state, entry);
  const extension = state.extensions.get(entry.extensionKey)!.extension;
  return { association: entry.association, extension, kinds: kindsOf(entry) };
}

/** The association of `environment` with `host`'s extension, if any action was added to it. */
export function releaseExtensionAssociationOf(hostScope: Construct, environment: appconfig.CfnEnvironment): ReleaseExtensionAssociation | undefined {
  const state = HOSTS.get(hostScope);
  const entry = state?.environments.get(environment);
  if (!state || !entry) return undefined;
  return { association: entry.association, extension: state.extensions.get(entry.extensionKey)!.extension, kinds: kindsOf(entry) };
}

function kindsOf(entry: EnvironmentEntry): ReleaseActionKind[] {
  return RELEASE_ACTION_KINDS.filter((k) => entry.actions.has(k));
}

/** Points the entry's association at the extension for its set of actions, creating it, and drops an unused one. */
function repoint(state: HostState, entry: EnvironmentEntry): void {
  const kinds = kindsOf(entry);
  const key = kinds.join('+');
  const previous = entry.extensionKey;
  const actions = kinds.map((k) => entry.actions.get(k)!);
  let ext = state.extensions.get(key);
  if (ext) {
    // Every association of one set must run the same functions: the extension names them.
    for (const a of actions) {
      const theirs = ext.actions.find((b) => b.kind === a.kind)!;
      if (theirs.function !== a.function || theirs.role !== a.role)
        throw new Error(
          `the ${a.kind} action of ${entry.association.node.path} runs ${a.function.node.path}, but the host's extension for ${key} runs ${theirs.function.node.path}; every service of one platform shares its release actions`,
        );
    }
  } else {
    const extension = new appconfig.CfnExtension(state.host.scope, releaseExtensionId(kinds), {
      name: state.host.extensionName(kinds),
      description: `cdk-ai-release: ${kinds.map(describeKind).join('; ')}`,
      actions: Object.fromEntries(
        actions.flatMap((a) => a.points.map((p) => [p, [{ Name: a.name, Description: a.description, Uri: a.function.functionArn, RoleArn: a.role.roleArn }]])),
      ),
      parameters: Object.fromEntries(
        actions
          .flatMap((a) => Object.entries(a.parameters))
          .reduce((m, [name, p]) => {
            const had = m.get(name);
            m.set(name, { required: (had?.required ?? false) || p.required, description: had?.description ?? p.description });
            return m;
          }, new Map<string, { required: boolean; description: string }>()),
      ),
    });
    // AppConfig checks that it can assume each action's role and invoke its function when the extension is created.
    for (const a of actions) extension.node.addDependency(a.role);
    ext = { extension, actions };
    state.extensions.set(key, ext);
  }
  entry.extensionKey = key;
  entry.association.extensionIdentifier = ext.extension.attrId;
  if (previous && previous !== key && ![...state.environments.values()].some((e) => e.extensionKey === previous)) {
    const unused = state.extensions.get(previous)!;
    state.extensions.delete(previous);
    state.host.scope.node.tryRemoveChild(unused.extension.node.id);
  }
}

function describeKind(kind: ReleaseActionKind): string {
  switch (kind) {
    case 'config-gate-check':
      return 'only release config versions that passed the config gate (or were live before) may start';
    case 'canary-judge':
      return 'at each tick of a config rollout, ROLL_BACK when the canary judge has shown a regression';
    case 'release-review':
      return 'a review of every config release (completed or rolled back)';
  }
}

/**
 * The platform as a host: its extensions are named `<name prefix>-release-actions` (all three actions) or
 * `<name prefix>-release-actions-<kinds>`, names unlike the three older ones (`-config-gate-check`,
 * `-canary-judge-tick`, `-release-review`), so an update of a deployed stack can create the new extension before it
 * deletes the old ones (extension names are unique in the account).
 */
export function platformReleaseExtensions(platform: Construct): ReleaseExtensionHost {
  return {
    scope: platform,
    extensionName: (kinds) =>
      physicalName(
        'appConfigExtension',
        namePrefix(platform),
        kinds.length === RELEASE_ACTION_KINDS.length ? 'release-actions' : `release-actions-${kinds.join('-')}`,
      ),
  };
}

/**
 * Adds `action` to the one association of a service's live environment with the platform's extension: created in the
 * environment's AiServiceConfig as `ReleaseExtensions`, whichever action comes first.
 */
export function addPlatformReleaseAction(
  platform: Construct,
  environment: appconfig.CfnEnvironment,
  action: ReleaseAction,
  values: { readonly [name: string]: string },
): ReleaseExtensionAssociation {
  const scope = environment.node.scope;
  if (!scope) throw new Error(`internal: the environment ${environment.node.path} has no scope`);
  return addReleaseAction(platformReleaseExtensions(platform), environment, action, values, { scope: scope as Construct, id: 'ReleaseExtensions' });
}
