/**
 * Which service a shared gate function gates (issue 15 E): one gate function serves up to SERVICES_PER_GATE_FUNCTION
 * services of a platform, and neither of its events says which. A CodeDeploy lifecycle hook event carries only
 * DeploymentId and LifecycleEventHookExecutionId (CodeDeploy User Guide, "AppSpec 'hooks' section for an AWS Lambda
 * deployment"); the deployment (GetDeployment) names its application and deployment group, the group's tag
 * GATE_SETTINGS_TAG names the SSM parameter holding the service's settings (its release manifest parameter, which
 * CloudFormation writes, deploy-time ids resolved, before the alias update that starts the deployment), and that
 * document's locators must name the same group: a tag pointing at another service's settings is refused.
 *
 * Pure: the tags and the parameter come through SettingsSource. Every path that cannot name the service throws an
 * error that says what is missing and what sets it; the hook answers Failed with it, never Succeeded.
 */
import {
  CODE_CANARY_MAX_WINDOW_MS,
  type ConfigGateRequest,
  type DeployedReleaseManifest,
  GATE_SETTINGS_TAG,
  type GateEvaluationSettings,
} from '../shared/contract';
import { checkGateEvaluationSettings } from './evaluate';
import { type GateSettings, settingsFrom } from './gate';

/** Everything the gate needs to gate one service, read from its settings document. */
export interface ServiceGate {
  readonly service: string;
  /** Where the settings came from (the SSM parameter name), for messages. */
  readonly source: string;
  readonly targetFunction: string;
  readonly settings: GateSettings;
  /** The service's own gate timeout, milliseconds: its answer comes 10 s before it (and before the function's). */
  readonly timeoutMs: number;
  /** The deployment group this service's gate is the BeforeAllowTraffic hook of, when it is one. */
  readonly deploymentGroup?: { readonly application: string; readonly name: string };
  readonly evaluation?: {
    readonly settings: GateEvaluationSettings;
    readonly modelId: string;
    readonly application: string;
    readonly environment: string;
    readonly profile: string;
  };
  /** The code canary's announcement (issue 17 D): the service's share controller and its traffic shift's length. */
  readonly codeCanary?: { readonly controller: string; readonly shiftSeconds: number };
}

/** Reads the deployment group's tags (CodeDeploy ListTagsForResource) and SSM parameters (GetParameter). */
export interface SettingsSource {
  groupTags(application: string, deploymentGroup: string): Promise<Readonly<Record<string, string>>>;
  /** The parameter's value; undefined when it does not exist. */
  parameter(name: string): Promise<string | undefined>;
}

/** The settings of the service a CodeDeploy deployment belongs to; throws, saying why, when there is none. */
export async function serviceGateForDeployment(
  deploymentId: string,
  d: { readonly application?: string; readonly deploymentGroup?: string },
  source: SettingsSource,
): Promise<ServiceGate> {
  if (!d.application || !d.deploymentGroup)
    throw new Error(`deployment ${deploymentId} names no application or deployment group (GetDeployment); the shared gate cannot tell whose it is`);
  const group = `${d.application}/${d.deploymentGroup}`;
  const tags = await source.groupTags(d.application, d.deploymentGroup);
  const name = tags[GATE_SETTINGS_TAG];
  if (!name)
    throw new Error(
      `deployment group ${group} has no tag ${GATE_SETTINGS_TAG}: it is not gated by this platform's regression gate (AiRelease tags the groups it gates). Remove this function from the group's BeforeAllowTraffic hook, or deploy the service with AiRelease`,
    );
  const s = parseServiceGate(name, await source.parameter(name));
  const g = s.deploymentGroup;
  if (!g) throw new Error(`${name} (the settings that deployment group ${group} names) is not a hook's: its gate block says hook false`);
  if (g.application !== d.application || g.name !== d.deploymentGroup)
    throw new Error(`${name} (the settings that deployment group ${group} names) belongs to deployment group ${g.application}/${g.name}; refused`);
  return s;
}

/** The settings of the service a ConfigGateRequest is for; throws, saying why, when they cannot be read. */
export async function serviceGateForRequest(req: ConfigGateRequest, source: SettingsSource): Promise<ServiceGate> {
  if (typeof req.settingsParameter !== 'string' || req.settingsParameter === '')
    throw new Error(
      `ConfigGateRequest.settingsParameter is missing: a platform's shared gate reads the service's settings from that SSM parameter (ReleaseConfigDeployment sets it when AiRelease connects the gate)`,
    );
  const s = parseServiceGate(req.settingsParameter, await source.parameter(req.settingsParameter));
  if (s.service !== req.service)
    throw new Error(`ConfigGateRequest.service is "${req.service}", but ${req.settingsParameter} holds the settings of "${s.service}"`);
  return s;
}

/** Parses a release manifest parameter's value into a service's gate settings; throws naming the field. */
export function parseServiceGate(name: string, text: string | undefined): ServiceGate {
  if (text === undefined) throw new Error(`the SSM parameter ${name} does not exist; it is written by the service's stack (AiRelease's release manifest)`);
  let doc: DeployedReleaseManifest;
  try {
    doc = JSON.parse(text) as DeployedReleaseManifest;
  } catch (e) {
    throw new Error(`the SSM parameter ${name} is not JSON (${(e as Error).message}); it should hold the service's release manifest`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`the SSM parameter ${name} holds ${JSON.stringify(doc)}, not a release manifest`);
  const gate = doc.gate;
  const loc = doc.locators;
  if (!gate || typeof gate !== 'object')
    throw new Error(
      `the SSM parameter ${name} has no gate block: the service "${String(doc.service)}" has no regression gate (regressionGate false), or was deployed by an older cdk-ai-release`,
    );
  if (typeof doc.service !== 'string' || doc.service === '') throw new Error(`the SSM parameter ${name} names no service`);
  if (!loc || typeof loc.function !== 'string' || loc.function === '')
    throw new Error(`the SSM parameter ${name} has no locators.function (the service function the gate replays)`);
  const field = (k: string) => `${name} gate.${k}`;
  const raw = gate as unknown as Record<string, unknown>;
  const labels = {
    caseCap: field('caseCap'),
    concurrency: field('concurrency'),
    caseTimeoutMs: field('caseTimeoutMs'),
    passRate: field('passRate'),
    candidates: field('candidates'),
  };
  const byLabel = new Map(Object.entries(labels).map(([k, label]) => [label, raw[k]]));
  const settings = settingsFrom((label) => {
    const v = byLabel.get(label);
    return v === undefined || v === null ? undefined : String(v);
  }, labels);
  const timeoutMs = gate.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < settings.caseTimeoutMs + 20_000)
    throw new Error(
      `${field('timeoutMs')} must be an integer of at least caseTimeoutMs + 20000 (${settings.caseTimeoutMs + 20_000}), got ${JSON.stringify(timeoutMs)}`,
    );
  let deploymentGroup: ServiceGate['deploymentGroup'];
  if (gate.hook === true) {
    const cd = loc.codeDeploy;
    if (!cd || typeof cd.application !== 'string' || typeof cd.deploymentGroup !== 'string')
      throw new Error(`the SSM parameter ${name} has gate.hook true but no locators.codeDeploy (application, deploymentGroup)`);
    deploymentGroup = { application: cd.application, name: cd.deploymentGroup };
  } else if (gate.hook !== false) throw new Error(`${field('hook')} must be true or false, got ${JSON.stringify(gate.hook)}`);
  let evaluation: ServiceGate['evaluation'];
  if (gate.evaluation !== undefined) {
    const { modelId, ...evalSettings } = gate.evaluation;
    checkGateEvaluationSettings(evalSettings, field('evaluation'));
    if (typeof modelId !== 'string' || modelId === '') throw new Error(`${field('evaluation.modelId')} must name the evaluator model`);
    const a = loc.appConfig;
    if (!a || typeof a.application !== 'string' || typeof a.environment !== 'string' || typeof a.profile !== 'string')
      throw new Error(
        `the SSM parameter ${name} has gate.evaluation but no locators.appConfig (application, environment, profile: the live evaluation section)`,
      );
    evaluation = { settings: evalSettings, modelId, application: a.application, environment: a.environment, profile: a.profile };
  }
  let codeCanary: ServiceGate['codeCanary'];
  if (gate.codeCanary !== undefined) {
    const c = gate.codeCanary as unknown as Record<string, unknown> | null;
    if (!c || typeof c !== 'object')
      throw new Error(`${field('codeCanary')} must be an object { controller, shiftSeconds }, got ${JSON.stringify(gate.codeCanary)}`);
    if (typeof c.controller !== 'string' || c.controller === '')
      throw new Error(
        `${field('codeCanary.controller')} must name the service's share controller function, got ${JSON.stringify(c.controller)}; ConfigShare.announceCodeCanaries sets it`,
      );
    // The runtime ignores an announcement longer than CODE_CANARY_MAX_WINDOW_MS (49 h): a longer shift is a mistake.
    const max = CODE_CANARY_MAX_WINDOW_MS / 1000;
    if (!Number.isInteger(c.shiftSeconds) || (c.shiftSeconds as number) < 0 || (c.shiftSeconds as number) > max)
      throw new Error(
        `${field('codeCanary.shiftSeconds')} must be whole seconds from 0 to ${max} (the traffic shift's length), got ${JSON.stringify(c.shiftSeconds)}`,
      );
    codeCanary = { controller: c.controller, shiftSeconds: c.shiftSeconds as number };
  }
  return {
    service: doc.service,
    source: name,
    targetFunction: loc.function,
    settings,
    timeoutMs,
    ...(deploymentGroup ? { deploymentGroup } : {}),
    ...(evaluation ? { evaluation } : {}),
    ...(codeCanary ? { codeCanary } : {}),
  };
}
