import { REVIEW_SERVICE_PARAMETER } from '../shared/contract';
import type { ReleaseEnd } from './ports';

/**
 * A CodeDeploy deployment state-change event, as EventBridge delivers it (CodeDeploy User Guide, "Monitoring
 * deployments with Amazon EventBridge"). A service's own rule adds `service` to the target input; the platform's one
 * rule sends the event as it is, and the deployment group names the service (`deploymentGroups`).
 */
export interface CodeDeployStateChange {
  readonly source: 'aws.codedeploy';
  readonly 'detail-type': 'CodeDeploy Deployment State-change Notification';
  readonly time: string;
  readonly service?: string;
  readonly detail: {
    readonly application: string;
    readonly deploymentGroup: string;
    readonly deploymentId: string;
    readonly state: string;
    readonly region?: string;
    readonly instanceGroupId?: string;
  };
}

/**
 * The request AppConfig sends a Lambda extension at an ON_* action point (AppConfig User Guide, "Creating a Lambda
 * function for a custom AWS AppConfig extension"; the same body as the SNS / EventBridge notification extensions):
 * `Type` is `OnDeploymentComplete` or `OnDeploymentRolledBack`; `Parameters` carries the association's parameters.
 */
export interface AppConfigExtensionEvent {
  readonly InvocationId?: string;
  readonly Type: string;
  readonly Parameters?: Readonly<Record<string, string>>;
  readonly Application: { readonly Id: string; readonly Name?: string };
  readonly Environment: { readonly Id: string; readonly Name?: string };
  readonly ConfigurationProfile?: { readonly Id: string; readonly Name?: string };
  /** A number in the Lambda payload, a string in the SNS example: accept both. */
  readonly DeploymentNumber: number | string;
  readonly ConfigurationVersion?: string;
  readonly Description?: string | null;
}

const CODE_STATES = { SUCCESS: 'SUCCESS', FAILURE: 'FAILURE', STOP: 'STOP' } as const;
const CONFIG_TYPES = { OnDeploymentComplete: 'COMPLETE', OnDeploymentRolledBack: 'ROLLED_BACK' } as const;

/**
 * What ended, from either event; `undefined` for an event the review does not handle (with the reason).
 * `deploymentGroups`: the service of each deployment group whose events come through the platform's rule, without
 * `service`.
 */
export function parseReleaseEnd(
  event: unknown,
  now: string,
  deploymentGroups: Readonly<Record<string, string>> = {},
): { release?: ReleaseEnd; ignored?: string } {
  const e = event as Record<string, unknown> | null;
  if (!e || typeof e !== 'object') throw new Error('review event is not an object; expected a CodeDeploy state-change event or an AppConfig extension request');
  if (e.source === 'aws.codedeploy') return parseCodeDeploy(e as unknown as CodeDeployStateChange, deploymentGroups);
  if (typeof e.Type === 'string' && e.Application) return parseAppConfig(e as unknown as AppConfigExtensionEvent, now);
  throw new Error(
    `review event is neither a CodeDeploy state-change event (source "aws.codedeploy") nor an AppConfig extension request (Type, Application); got keys ${Object.keys(e).join(', ')}`,
  );
}

function parseCodeDeploy(e: CodeDeployStateChange, deploymentGroups: Readonly<Record<string, string>>): { release?: ReleaseEnd; ignored?: string } {
  const d = e.detail;
  if (!d || typeof d.deploymentId !== 'string' || typeof d.deploymentGroup !== 'string') {
    throw new Error(
      'CodeDeploy event has no detail.deploymentId / detail.deploymentGroup; is the rule matching "CodeDeploy Deployment State-change Notification"?',
    );
  }
  const known = Object.keys(deploymentGroups).length > 0;
  const service =
    typeof e.service === 'string' && e.service !== ''
      ? e.service
      : Object.hasOwn(deploymentGroups, d.deploymentGroup)
        ? deploymentGroups[d.deploymentGroup]
        : undefined;
  if (service === undefined) {
    // The platform's rule matches every deployment of the platform's CodeDeploy application; a service in another
    // stack is reviewed through a rule of its own, which names it.
    if (known)
      return {
        ignored: `deployment group ${d.deploymentGroup} is not one of the services this reviewer's rule serves (a service in another stack has a rule of its own)`,
      };
    throw new Error(
      'CodeDeploy event has no "service" and the reviewer knows no deployment groups: invoke the reviewer through the ReleaseReview rules (AI_RELEASE_REVIEW_DEPLOYMENT_GROUPS, or a service rule that adds "service")',
    );
  }
  const state = CODE_STATES[d.state as keyof typeof CODE_STATES];
  if (!state) return { ignored: `CodeDeploy state ${d.state} is not the end of a release` };
  return {
    release: {
      plane: 'code',
      service,
      releaseKey: `code-${safeKey(d.deploymentId)}`,
      deploymentId: d.deploymentId,
      state,
      at: e.time,
      codeDeploy: { application: d.application, deploymentGroup: d.deploymentGroup },
    },
  };
}

function parseAppConfig(e: AppConfigExtensionEvent, now: string): { release?: ReleaseEnd; ignored?: string } {
  const state = CONFIG_TYPES[e.Type as keyof typeof CONFIG_TYPES];
  if (!state) return { ignored: `AppConfig action ${e.Type} is not the end of a release` };
  const service = e.Parameters?.[REVIEW_SERVICE_PARAMETER];
  if (typeof service !== 'string' || service === '') {
    throw new Error(`AppConfig extension request has no Parameters.${REVIEW_SERVICE_PARAMETER}: the ReleaseReview extension association sets it`);
  }
  const deploymentNumber = Number(e.DeploymentNumber);
  if (!Number.isInteger(deploymentNumber) || deploymentNumber < 1)
    throw new Error(`AppConfig DeploymentNumber must be a positive integer, got ${String(e.DeploymentNumber)}`);
  return {
    release: {
      plane: 'config',
      service,
      releaseKey: `config-${safeKey(e.Environment.Id)}-${deploymentNumber}`,
      deploymentId: String(deploymentNumber),
      state,
      at: now,
      appConfig: {
        applicationId: e.Application.Id,
        environmentId: e.Environment.Id,
        deploymentNumber,
        ...(e.ConfigurationVersion ? { configurationVersion: e.ConfigurationVersion } : {}),
      },
    },
  };
}

/** Keys stay within [A-Za-z0-9-_.]: ids from events never write outside the service's review folder. */
function safeKey(id: string): string {
  const s = String(id).replace(/[^A-Za-z0-9_.-]/g, '_');
  if (s === '' || s === '.' || s === '..') throw new Error(`deployment id "${id}" cannot name a review`);
  return s;
}
