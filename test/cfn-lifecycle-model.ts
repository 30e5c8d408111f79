/**
 * A model of how CloudFormation creates and deletes a stack's resources, built from the synthesized template, with
 * the AppConfig rule that matters for `cdk destroy`:
 *
 * - Order: the dependency graph from `Ref`, `Fn::GetAtt`, `Fn::Sub` (`${Id}`, `${Id.Attr}`) and `DependsOn`.
 *   CloudFormation creates a resource after everything it depends on and deletes it before everything it depends on
 *   (CloudFormation User Guide, "DependsOn attribute": "resources are deleted in the reverse order of creation").
 *   Among independent resources the model picks the order adversarially where the test asks it to.
 * - DeletionPolicy: `Retain` keeps the resource on stack delete and on the rollback of a failed create;
 *   `RetainExceptOnCreate` keeps it on stack delete but deletes it when the operation that created it rolls back
 *   ("RetainExceptOnCreate behaves like Retain for stack operations, except for the stack operation that initially
 *   created the resource. If the stack operation that created the resource is rolled back, CloudFormation deletes the
 *   resource", CloudFormation template reference, DeletionPolicy attribute).
 * - AppConfig: DeleteConfigurationProfile fails while the profile has hosted versions ("Cannot delete configuration
 *   profile … because there are still hosted configuration versions existing under it", BadRequestException,
 *   aws-cdk#26804). Hosted versions also appear outside CloudFormation (the cost guard's CreateHostedConfigurationVersion).
 * - Custom::AiReleaseConfigVersions: on Delete, deletes every hosted version of its ConfigurationProfiles (the handler's
 *   behaviour, lambda/config-deployer/version-cleanup.ts); its delete needs its service token's function to exist.
 */

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
}
export interface TemplateJson {
  readonly Resources: Record<string, Resource>;
}

/** The logical ids a value refers to. */
function references(value: Json, ids: ReadonlySet<string>, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, ids, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      if (k === 'Ref' && typeof v === 'string' && ids.has(v)) out.add(v);
      else if (k === 'Fn::GetAtt') {
        const target = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
        if (typeof target === 'string' && ids.has(target)) out.add(target);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string') for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) if (ids.has(m[1])) out.add(m[1]);
        if (Array.isArray(v)) references(v[1], ids, out);
      } else references(v, ids, out);
    }
  }
  return out;
}

/** For each resource, the resources it depends on. */
export function dependencyGraph(t: TemplateJson): Map<string, Set<string>> {
  const ids = new Set(Object.keys(t.Resources));
  const graph = new Map<string, Set<string>>();
  for (const [id, r] of Object.entries(t.Resources)) {
    const deps = references(r.Properties ?? {}, ids, new Set());
    for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
    deps.delete(id);
    graph.set(id, deps);
  }
  return graph;
}

/** A creation order (dependencies first); ties broken by `prefer` (earlier first), else by id. */
function createOrder(graph: Map<string, Set<string>>, only: ReadonlySet<string>, prefer: (id: string) => number): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < only.size) {
    const ready = [...only].filter((id) => !done.has(id) && [...graph.get(id)!].every((d) => !only.has(d) || done.has(d)));
    if (ready.length === 0) throw new Error('dependency cycle in the template');
    ready.sort((a, b) => prefer(a) - prefer(b) || a.localeCompare(b));
    done.add(ready[0]);
    order.push(ready[0]);
  }
  return order;
}

/** A deletion order (dependents first); ties broken by `prefer` (earlier first). */
function deleteOrder(graph: Map<string, Set<string>>, only: ReadonlySet<string>, prefer: (id: string) => number): string[] {
  const dependents = new Map<string, Set<string>>([...only].map((id) => [id, new Set<string>()]));
  for (const id of only) for (const d of graph.get(id)!) if (only.has(d)) dependents.get(d)!.add(id);
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < only.size) {
    const ready = [...only].filter((id) => !done.has(id) && [...dependents.get(id)!].every((x) => done.has(x)));
    if (ready.length === 0) throw new Error('dependency cycle in the template');
    ready.sort((a, b) => prefer(a) - prefer(b) || a.localeCompare(b));
    done.add(ready[0]);
    order.push(ready[0]);
  }
  return order;
}

/** What exists in the account: the stack's live resources and AppConfig's hosted versions per profile (by logical id). */
export class World {
  readonly live = new Set<string>();
  /** Logical resources CloudFormation retained (they outlive the stack). */
  readonly retained = new Set<string>();
  /** profile logical id → hosted version ids (`cfn:<logical id>` or `external:<n>`). */
  readonly versions = new Map<string, Set<string>>();
  readonly failures: string[] = [];
  readonly log: string[] = [];

  constructor(private readonly t: TemplateJson) {}

  private profileOf(id: string, prop: string): string | undefined {
    const ref = (this.t.Resources[id].Properties?.[prop] as { Ref?: string } | undefined)?.Ref;
    return ref && this.t.Resources[ref]?.Type === 'AWS::AppConfig::ConfigurationProfile' ? ref : undefined;
  }

  /** The profiles a cleanup resource names (ConfigurationProfiles, or one ConfigurationProfile). */
  private profilesOf(id: string): string[] {
    const props = this.t.Resources[id].Properties ?? {};
    const list = Array.isArray(props.ConfigurationProfiles)
      ? (props.ConfigurationProfiles as { Ref?: string }[])
      : [props.ConfigurationProfile as { Ref?: string }];
    return list.map((v) => v?.Ref).filter((ref): ref is string => !!ref && this.t.Resources[ref]?.Type === 'AWS::AppConfig::ConfigurationProfile');
  }

  /** Versions written outside CloudFormation (the cost guard) under a profile. */
  writeExternalVersion(profile: string): void {
    const set = this.versions.get(profile) ?? new Set<string>();
    set.add(`external:${set.size + 1}`);
    this.versions.set(profile, set);
  }

  create(id: string): void {
    const r = this.t.Resources[id];
    this.live.add(id);
    this.log.push(`create ${id}`);
    if (r.Type === 'AWS::AppConfig::HostedConfigurationVersion') {
      const profile = this.profileOf(id, 'ConfigurationProfileId');
      if (!profile || !this.live.has(profile)) throw new Error(`${id}: its profile does not exist yet`);
      const set = this.versions.get(profile) ?? new Set<string>();
      set.add(`cfn:${id}`);
      this.versions.set(profile, set);
    }
  }

  /** Deletes one resource as CloudFormation would in `operation`; a failure is recorded and the resource stays. */
  delete(id: string, operation: 'destroy' | 'rollback-of-create', graph: Map<string, Set<string>>): void {
    const r = this.t.Resources[id];
    const policy = r.DeletionPolicy ?? 'Delete';
    if (policy === 'Retain' || policy === 'Snapshot' || (policy === 'RetainExceptOnCreate' && operation === 'destroy')) {
      this.live.delete(id);
      this.retained.add(id);
      this.log.push(`retain ${id}`);
      return;
    }
    if (r.Type === 'AWS::AppConfig::ConfigurationProfile') {
      const left = this.versions.get(id);
      if (left && left.size > 0) {
        this.failures.push(
          `${id} (AWS::AppConfig::ConfigurationProfile): Cannot delete configuration profile because there are still hosted configuration versions existing under it (${[...left].join(', ')})`,
        );
        return;
      }
    }
    if (r.Type === 'AWS::AppConfig::HostedConfigurationVersion') {
      const profile = this.profileOf(id, 'ConfigurationProfileId');
      if (profile) this.versions.get(profile)?.delete(`cfn:${id}`);
    }
    if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
      // The provider must still be there to answer the Delete: its function and everything that function needs.
      const token = references(r.Properties?.ServiceToken, new Set(Object.keys(this.t.Resources)), new Set());
      const needed = new Set<string>();
      const visit = (x: string) => {
        if (needed.has(x)) return;
        needed.add(x);
        for (const d of graph.get(x) ?? []) visit(d);
      };
      for (const x of token) visit(x);
      const gone = [...needed].filter((x) => !this.live.has(x));
      if (gone.length > 0) {
        this.failures.push(`${id} (${r.Type}): its provider is gone (${gone.join(', ')})`);
        return;
      }
      if (r.Type === 'Custom::AiReleaseConfigVersions') {
        // One per service, naming both profiles (ConfigurationProfiles); a single ConfigurationProfile before issue 15 E.
        for (const profile of this.profilesOf(id)) this.versions.set(profile, new Set());
      }
    }
    this.live.delete(id);
    this.log.push(`delete ${id}`);
  }
}

export interface Outcome {
  readonly world: World;
  /** DELETE_COMPLETE / DELETE_FAILED, ROLLBACK_COMPLETE / ROLLBACK_FAILED. */
  readonly status: string;
}

/**
 * Tie-breaking that hurts most: hosted versions and custom resources first when creating (so they exist before a
 * later failure), profiles as early as allowed when deleting (so a missing dependency shows).
 */
const adversarialCreate = (t: TemplateJson) => (id: string) => {
  const type = t.Resources[id].Type;
  return type === 'AWS::AppConfig::HostedConfigurationVersion' || type.startsWith('Custom::AiReleaseConfigVersions') ? 0 : 1;
};
const adversarialDelete = (t: TemplateJson) => (id: string) => (t.Resources[id].Type === 'AWS::AppConfig::ConfigurationProfile' ? 0 : 1);

/** Creates the whole stack, lets `externalVersions` be written under each profile named in `external`, then deletes it. */
export function destroy(t: TemplateJson, external: readonly string[] = [], externalVersions = 2): Outcome {
  const graph = dependencyGraph(t);
  const all = new Set(Object.keys(t.Resources));
  const world = new World(t);
  for (const id of createOrder(graph, all, adversarialCreate(t))) world.create(id);
  for (const p of external) for (let i = 0; i < externalVersions; i++) world.writeExternalVersion(p);
  for (const id of deleteOrder(graph, all, adversarialDelete(t))) {
    // CloudFormation does not delete what a resource it failed to delete still depends on.
    if ([...world.failures].some((f) => graph.get(f.split(' ')[0])?.has(id))) continue;
    world.delete(id, 'destroy', graph);
  }
  return { world, status: world.failures.length === 0 ? 'DELETE_COMPLETE' : 'DELETE_FAILED' };
}

/**
 * The first create of the stack fails at `failing` (its create answers FAILED): everything that does not depend on it
 * was created first (the adversarial case: as much as could be), then CloudFormation deletes what it created.
 */
export function failedFirstCreate(t: TemplateJson, failing: string): Outcome {
  const graph = dependencyGraph(t);
  const dependsOnFailing = new Set<string>([failing]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, deps] of graph) {
      if (!dependsOnFailing.has(id) && [...deps].some((d) => dependsOnFailing.has(d))) {
        dependsOnFailing.add(id);
        grew = true;
      }
    }
  }
  const created = new Set([...graph.keys()].filter((id) => !dependsOnFailing.has(id)));
  const world = new World(t);
  for (const id of createOrder(graph, created, adversarialCreate(t))) world.create(id);
  for (const id of deleteOrder(graph, created, adversarialDelete(t))) {
    if ([...world.failures].some((f) => graph.get(f.split(' ')[0])?.has(id))) continue;
    world.delete(id, 'rollback-of-create', graph);
  }
  return { world, status: world.failures.length === 0 ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED' };
}
