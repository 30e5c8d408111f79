/**
 * The hosted-version cleanup of one configuration profile, as a custom resource (Custom::AiReleaseConfigVersions)
 * served by the config deployer's provider.
 *
 * Why: AppConfig refuses to delete a configuration profile that still has hosted versions ("Cannot delete
 * configuration profile … because there are still hosted configuration versions existing under it",
 * BadRequestException; aws-cdk#26804). The versions CloudFormation created are retained (RETAIN_EXCEPT_ON_CREATE:
 * superseded versions stay as the history AppConfig rolls back to), and the cost guard creates versions
 * CloudFormation never knew. So `cdk destroy` would end in DELETE_FAILED on the profile. This resource depends on
 * the profile and every hosted version resource depends on it: CloudFormation deletes in reverse dependency order,
 * so on a stack delete (or the rollback of a failed first create) it runs after the versions' own deletes (skipped
 * when retained) and before the profile's, and deletes every version left (DeleteHostedConfigurationVersion).
 *
 * Create and Update do nothing. Delete with a changed profile (a replaced profile's old physical id) cleans the old
 * profile, as CloudFormation sends the Delete with the old properties.
 *
 * Pure: the hosted-version API is a port.
 */

export const VERSION_CLEANUP_RESOURCE_TYPE = 'Custom::AiReleaseConfigVersions';

export interface VersionCleanupProps {
  readonly Application: string;
  /** The profile whose versions are removed (not `Profile`: that names the deployed profile of a config deployment). */
  readonly ConfigurationProfile: string;
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
  readonly PhysicalResourceId?: string;
}

/** The physical id names the profile, so a replaced profile gets a new id and the old one is cleaned on its Delete. */
export function cleanupPhysicalId(props: VersionCleanupProps): string {
  return `${props.Application}/${props.ConfigurationProfile}/hosted-versions`;
}

/** What the cleanup did: the versions it deleted (for the log and the answer). */
export async function cleanUp(event: CleanupEvent, versions: HostedVersionsPort): Promise<{ physicalResourceId: string; deleted: number[] }> {
  const props = event.ResourceProperties;
  const missing = (['Application', 'ConfigurationProfile'] as const).filter((k) => typeof props?.[k] !== 'string' || props[k] === '');
  if (missing.length > 0) throw new Error(`hosted version cleanup: missing properties ${missing.join(', ')}`);
  const physicalResourceId = event.RequestType === 'Create' ? cleanupPhysicalId(props) : (event.PhysicalResourceId ?? cleanupPhysicalId(props));
  if (event.RequestType !== 'Delete')
    return { physicalResourceId: event.RequestType === 'Update' ? cleanupPhysicalId(props) : physicalResourceId, deleted: [] };
  // The profile this resource was made for: its physical id (the properties are the same on a plain delete).
  const profile = physicalResourceId.split('/')[1] || props.ConfigurationProfile;
  const numbers = (await versions.list(profile)).sort((a, b) => a - b);
  for (const n of numbers) await versions.delete(profile, n);
  // Anything written meanwhile (the cost guard racing the delete) is caught by a second look.
  const late = await versions.list(profile);
  for (const n of late) await versions.delete(profile, n);
  return { physicalResourceId, deleted: [...numbers, ...late] };
}
