import { Stage } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

const CLAIMS = Symbol.for('cdk-ai-release.service-names');

/**
 * One `serviceName` per release in a cloud assembly. The name keys the files synth writes beside the templates
 * (`<service>.release-manifest.json`, `<service>.canary-card.md`), the AppConfig names, the alarm names and the
 * operator CLI's lookups, so a second release with the same name would silently overwrite the first one's manifest
 * and card. Claims are kept per Stage (the App is one): the same service in a `Beta` and a `Prod` stage writes to two
 * assemblies and is fine; two in one App — in one stack or two — fail synth with both construct paths.
 *
 * Kept on the Stage object under a global symbol, not in a module-level map, so two copies of the library in one
 * app still see each other's claims.
 */
export function claimServiceName(release: Construct, serviceName: string): void {
  const stage = Stage.of(release) ?? release.node.root;
  const holder = stage as unknown as Record<symbol, Map<string, Construct[]> | undefined>;
  let claims = holder[CLAIMS];
  if (!claims) {
    claims = new Map();
    Object.defineProperty(stage, CLAIMS, { value: claims, enumerable: false });
  }
  const holders = claims.get(serviceName) ?? [];
  holders.push(release);
  claims.set(serviceName, holders);
  if (holders.length === 1) return;
  const first = holders[0];
  release.node.addValidation({
    validate: () => [
      `serviceName "${serviceName}" is used by two releases in one app: ${first.node.path} and ${release.node.path}. ` +
        'The name keys the release manifest and canary card synth writes, the AppConfig and alarm names and the CLI, so one would overwrite the other. ' +
        'fix: give each release its own serviceName, or put the second one in its own Stage (a separate cloud assembly)',
    ],
  });
}
