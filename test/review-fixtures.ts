/** Facts of one release, shared by the review tests: a canary that an alarm rolled back, and its neighbours. */
// Times are in the past of any test run: the store adapter reads only objects modified since the release started.
import { computeReleaseManifest } from '../lambda/shared/release-manifest';
import type { RegressionCase, VersionTuple } from '../lambda/shared/contract';
import type { AlarmInfo, AlarmTransition, DeploymentFacts, ManifestVersion, MetricSeries, ReleaseEnd } from '../lambda/review/ports';
import { validConfig } from './helpers';

export const T0 = Date.parse('2026-01-15T10:00:00.000Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** The CodeDeploy event from the CodeDeploy User Guide's EventBridge example, as the review rule delivers it. */
export function codeDeployEvent(state = 'FAILURE', deploymentId = 'd-123456789', service = 'svc') {
  return {
    account: '123456789012',
    region: 'us-east-1',
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    source: 'aws.codedeploy',
    version: '0',
    time: at(170),
    id: 'c071bfbf-83c4-49ca-a6ff-3df053957145',
    detail: {
      instanceGroupId: '9fd2fbef-2157-40d8-91e7-6845af69e2d2',
      region: 'us-east-1',
      application: 'myApplication',
      deploymentId,
      state,
      deploymentGroup: 'myDeploymentGroup',
    },
    service,
  };
}

/** The AppConfig extension request, as in the AppConfig User Guide's notification examples, with our parameter. */
export function appConfigEvent(type = 'OnDeploymentRolledBack', deploymentNumber: number | string = 3, service = 'svc') {
  return {
    InvocationId: '7itcaxp',
    Parameters: { service },
    Application: { Id: '1a2b3c4d', Name: 'MyApp' },
    Environment: { Id: 'pgil2o7', Name: 'MyEnv' },
    ConfigurationProfile: { Id: 'ga3tqep', Name: 'MyConfigProfile' },
    Description: null,
    DeploymentNumber: deploymentNumber,
    ConfigurationVersion: '4',
    Type: type,
  };
}

export const codeRelease: ReleaseEnd = {
  plane: 'code',
  service: 'svc',
  releaseKey: 'code-d-123456789',
  deploymentId: 'd-123456789',
  state: 'FAILURE',
  at: at(170),
  codeDeploy: { application: 'myApplication', deploymentGroup: 'myDeploymentGroup' },
};

export const rolledBackDeployment: DeploymentFacts = {
  startedAt: at(0),
  endedAt: at(160),
  from: '6',
  to: '7',
  steps: [{ at: at(0), percent: 10 }],
  rollback: { startedAt: at(160), endedAt: at(170), by: 'alarm' },
  message: 'One or more alarms have been activated',
};

export function manifests(): ManifestVersion[] {
  const before = validConfig();
  const after = validConfig();
  after.prompt.version = '2';
  after.prompt.system = 'You answer from the passages, briefly.';
  const m = (config: Record<string, unknown>, code: string, worst: number) =>
    computeReleaseManifest({
      service: 'svc',
      config,
      code: { hash: code.repeat(64) },
      configLabel: `cfg-${code}`,
      degradeLabel: 'deg',
      facts: { worstCaseCodeSeconds: worst, worstCaseConfigSeconds: 200 },
    });
  return [
    { at: '2026-01-14T09:00:00.000Z', manifest: m(before, 'a', 80) },
    { at: at(-60), manifest: m(after, 'b', 80) },
  ];
}

export const alarmInfos: AlarmInfo[] = [
  { name: 'Rev-svc-version-error-rate', threshold: 0.05, comparison: '>', periodSeconds: 10, minInvocations: 5 },
  { name: 'Rev-svc-version-quality', threshold: 0.5, comparison: '<', periodSeconds: 10, minInvocations: 5 },
  { name: 'Rev-svc-service-error-rate', threshold: 0.05, comparison: '>', periodSeconds: 10, minInvocations: 5 },
  // Another service whose name starts like ours: never ours.
  { name: 'Rev-svc-two-version-error-rate', threshold: 0.05, comparison: '>', periodSeconds: 10, minInvocations: 5 },
];

export const transitions: AlarmTransition[] = [{ alarm: 'Rev-svc-version-error-rate', at: at(130), from: 'OK', to: 'ALARM' }];

/** 10-second series on the new version: 20 invocations a period, errors from 110 s on. */
export function metricData(): Record<string, MetricSeries> {
  const times = Array.from({ length: 17 }, (_, i) => at(i * 10));
  const series = (f: (t: number) => number): MetricSeries => ({ timestamps: times, values: times.map((_, i) => f(i * 10)) });
  return {
    s_inv: series(() => 20),
    s_err: series((t) => (t >= 110 ? 5 : 0)),
    s_lat: series(() => 900),
    s_cost: series(() => 0.02),
    s_q: series(() => 0.8),
    s_safety: series(() => 0),
    s_contract: series(() => 0),
    a_inv: series(() => 200),
    a_err: series((t) => (t >= 110 ? 5 : 0)),
    c_inv: { timestamps: [at(0)], values: [340] },
    c_err: { timestamps: [at(0)], values: [30] },
    c_lat: { timestamps: [at(0)], values: [950] },
    c_cost: { timestamps: [at(0)], values: [0.34] },
    c_q: { timestamps: [at(0)], values: [0.79] },
    c_safety: { timestamps: [at(0)], values: [0] },
    c_contract: { timestamps: [at(0)], values: [2] },
    b_inv: { timestamps: [at(0)], values: [3060] },
    b_err: { timestamps: [at(0)], values: [3] },
    b_lat: { timestamps: [at(0)], values: [870] },
    b_cost: { timestamps: [at(0)], values: [3.06] },
    b_q: { timestamps: [at(0)], values: [0.81] },
    b_safety: { timestamps: [at(0)], values: [0] },
  };
}

export function tuple(codeVersion: string, config = 'cfg-b'): VersionTuple {
  return { service: 'svc', codeVersion, config, prompt: '2', model: 'm', retrieval: 'r', tools: 't', outputContract: 'o', degrade: 'deg' };
}

export function regressionCase(over: Partial<RegressionCase> & { caseId: string }): RegressionCase {
  return {
    schemaVersion: 1,
    service: 'svc',
    state: 'candidate',
    input: '{"question":"where is my order [EMAIL]"}',
    kinds: ['error'],
    failedOn: [tuple('7')],
    firstSeen: at(112),
    lastSeen: at(150),
    count: 12,
    sampleRequestIds: ['r1'],
    expectation: {},
    history: [{ from: 'new', to: 'candidate', at: at(112), by: 'snapshot', reason: 'failure record' }],
    ...over,
  };
}

export function cases(): RegressionCase[] {
  return [
    regressionCase({ caseId: 'c-new-1' }),
    regressionCase({ caseId: 'c-new-2', kinds: ['error', 'contract'], count: 3, firstSeen: at(140) }),
    // Accepted long ago, seen again on this version: not new.
    regressionCase({ caseId: 'c-old', state: 'accepted', firstSeen: '2026-01-01T00:00:00.000Z', count: 40, failedOn: [tuple('5'), tuple('7')] }),
    // Failed only on another version: not this release's.
    regressionCase({ caseId: 'c-other', failedOn: [tuple('6')], firstSeen: at(30) }),
  ];
}
