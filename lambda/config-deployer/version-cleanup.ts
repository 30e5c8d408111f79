/**
 * The hosted-version cleanup of a service's configuration profiles (its release config and its degrade flags), as one
 * custom resource per service (Custom::AiReleaseConfigVersions) served by the config deployer's provider.
 *
 * Why: AppConfig refuses to delete a configuration profile that still has hosted versions ("Cannot delete
 * configuration profile … because there are still hosted configuration versions existing under it",
 * BadRequestException; aws-cdk#26804). The versions CloudFormation created are retained (RETAIN_EXCEPT_ON_CREATE:
 * superseded versions stay as the history AppConfig rolls back to), and the cost guard creates versions
 * CloudFormation never knew. So `cdk destroy` would end in DELETE_FAILED on the profile. This resource depends on
 * both profiles and every hosted version resource of both depends on it: CloudFormation deletes in reverse dependency
 * order, so on a stack delete (or the rollback of a failed first create) it runs after the versions' own deletes
 * (skipped when retained) and before the profiles', and deletes every version left (DeleteHostedConfigurationVersion).
 *
 * Create and Update delete nothing. The physical id names the profiles: when they are replaced (moved to an
 * application of their own: both at once, as they share the application and their other replacing properties are
 * constants), an Update answers a new id and CloudFormation's Delete of the old id cleans the profiles that id names,
 * whatever properties the Delete carries. An Update that replaces one profile and keeps the other is refused: the
 * old id's Delete would clean the kept one, which is still in use.
 *
 * Legacy events: until issue 15 E, each profile had a cleanup resource of its own (`ConfigurationProfile`, one id).
 * Updating a stack to one resource per service removes those, and CloudFormation sends them a Delete while their
 * profiles stay: this code (already updated) answers it without deleting anything, because the per-service resource
 * covers the profile now. Old code still serves the stacks that were never updated.
 *
 * Pure: the hosted-version API is a port.
 */

export const VERSION_CLEANUP_RESOURCE_TYPE = 'Custom::AiReleaseConfigVersions';

export interface VersionCleanupProps {
  readonly Application: string;
  /** The profiles whose versions are removed (not `Profile`: that names the deployed profile of a config deployment). */
  readonly ConfigurationProfiles?: readonly string[];
  /** A legacy resource's one profile (one cleanup resource per profile, before issue 15 E). */
  readonly ConfigurationProfile?: string;
}

/** Port: the hosted versions of one application. */
export interface HostedVersionsPort {
  /** Every hosted version number of the profile (all pages). */
  list(profile: string): Promise<number[]>;
  /** Deletes one; resolves also when it is already gone (ResourceNotFoundException). */
  delete(profile: string, version: number): Promise<void>;
}

export interface CleanupEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: VersionCleanupProps & { readonly ServiceToken?: string };
  readonly OldResourceProperties?: VersionCleanupProps & { readonly ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** The physical id names the profiles, so replaced profiles get a new id and the old ones are cleaned on its Delete. */
export function cleanupPhysicalId(props: VersionCleanupProps): string {
  return `${props.Application}/${profilesOf(props).join('+')}/hosted-versions`;
}

/** The application of the resource: the one its physical id names (a replaced id's), else its properties'. */
export function cleanupApplication(event: CleanupEvent): string {
  const m = /^([^/]+)\/[^/]+\/hosted-versions$/.exec(event.PhysicalResourceId ?? '');
  return m ? m[1] : event.ResourceProperties?.Application;
}

/** The profiles a physical id of this resource names (`<application>/<p1>+<p2>/hosted-versions`), if it is one. */
function profilesIn(physicalId: string | undefined): string[] | undefined {
  const m = /^[^/]+\/([^/]+)\/hosted-versions$/.exec(physicalId ?? '');
  return m ? m[1].split('+').filter((p) => p !== '') : undefined;
}

function profilesOf(props: VersionCleanupProps): string[] {
  if (Array.isArray(props.ConfigurationProfiles)) return [...props.ConfigurationProfiles];
  return typeof props.ConfigurationProfile === 'string' && props.ConfigurationProfile !== '' ? [props.ConfigurationProfile] : [];
}

/** What the cleanup did: the versions it deleted per profile (for the log and the answer), or why it deleted none. */
export async function cleanUp(
  event: CleanupEvent,
  versions: HostedVersionsPort,
): Promise<{ physicalResourceId: string; deleted: number[]; byProfile: Record<string, number[]>; skipped?: string }> {
  const props = event.ResourceProperties;
  const profiles = props ? profilesOf(props) : [];
  const legacy = props !== undefined && !Array.isArray(props.ConfigurationProfiles);
  const missing = [
    ...(typeof props?.Application !== 'string' || props.Application === '' ? ['Application'] : []),
    ...(profiles.length === 0 || profiles.some((p) => typeof p !== 'string' || p === '') ? ['ConfigurationProfiles'] : []),
  ];
  if (missing.length > 0) throw new Error(`hosted version cleanup: missing properties ${missing.join(', ')}`);
  if (event.RequestType === 'Create') return { physicalResourceId: cleanupPhysicalId(props), deleted: [], byProfile: {} };
  if (event.RequestType === 'Update') {
    const before = event.OldResourceProperties ? profilesOf(event.OldResourceProperties) : (profilesIn(event.PhysicalResourceId) ?? []);
    const kept = profiles.filter((p) => before.includes(p));
    if (kept.length > 0 && (kept.length !== profiles.length || kept.length !== before.length)) {
      throw new Error(
        `hosted version cleanup: profiles ${before.join(', ')} became ${profiles.join(', ')}: one was replaced and one kept, and the Delete of the old physical id would clean the kept one while it is in use. Replace both (their application) or neither`,
      );
    }
    return { physicalResourceId: cleanupPhysicalId(props), deleted: [], byProfile: {} };
  }
  const physicalResourceId = event.PhysicalResourceId ?? cleanupPhysicalId(props);
  if (legacy) {
    return {
      physicalResourceId,
      deleted: [],
      byProfile: {},
      skipped: `a per-profile cleanup resource of an older library version was removed; the service's one cleanup resource covers profile ${profiles[0]} now, so no version is deleted`,
    };
  }
  // The profiles this resource was made for: its physical id (the properties' on a plain delete, the old ones when
  // CloudFormation deletes a replaced id).
  const targets = profilesIn(physicalResourceId) ?? profiles;
  const byProfile: Record<string, number[]> = {};
  for (const profile of targets) {
    const numbers = (await versions.list(profile)).sort((a, b) => a - b);
    for (const n of numbers) await versions.delete(profile, n);
    // Anything written meanwhile (the cost guard racing the delete) is caught by a second look.
    const late = await versions.list(profile);
    for (const n of late) await versions.delete(profile, n);
    byProfile[profile] = [...numbers, ...late];
  }
  return { physicalResourceId, deleted: Object.values(byProfile).flat(), byProfile };
}
