/**
 * The gate handler as the platform deploys it (issue 15 E): no service in its environment, the service found per
 * event from the deployment group's tag and the service's release manifest parameter. End to end over real adapters:
 * the case in s3rver, CodeDeploy, SSM and Lambda through aws-sdk-client-mock. Asserts the status sent to CodeDeploy.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { GATE_ENV, GATE_RESPONSE_KEY, GATE_SETTINGS_TAG, GATE_SHARED_ENV, type GateReport, LEARNING_ENV } from '../lambda/shared/contract';
import { gateCase } from './gate-fixtures';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

let s3: Awaited<ReturnType<typeof startS3>>;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3();
  client = s3Client(s3.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

const PARAM = '/cdk-ai-release/Platform/svc-a/release-manifest';
const manifest = JSON.stringify({
  service: 'svc-a',
  releaseId: 'r1',
  locators: { function: 'svc-a-fn', alias: 'live', codeDeploy: { application: 'app', deploymentGroup: 'group-a' }, appConfig: {} },
  gate: { caseCap: 500, concurrency: 10, caseTimeoutMs: 30_000, passRate: 1, candidates: 'off', timeoutMs: 900_000, hook: true },
});
const appSpec = JSON.stringify({
  version: 0.0,
  Resources: [{ svc: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc-a-fn', Alias: 'live', CurrentVersion: '6', TargetVersion: '7' } } }],
});

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

function load(tags: { Key: string; Value: string }[], parameter: string = manifest) {
  const saved = { bucket: process.env[LEARNING_ENV.BUCKET], prefix: process.env[GATE_SHARED_ENV.GROUP_ARN_PREFIX], service: process.env[GATE_ENV.SERVICE] };
  process.env[LEARNING_ENV.BUCKET] = BUCKET;
  process.env[GATE_SHARED_ENV.GROUP_ARN_PREFIX] = 'arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:';
  delete process.env[GATE_ENV.SERVICE];
  let handler!: Handler;
  let calls!: { sent: () => unknown[]; invoked: () => unknown[]; payloads: (fn: string) => unknown[]; tagArns: () => unknown[]; restore: () => void };
  jest.isolateModules(() => {
    const s3m = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const lm = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    const cdm = require('@aws-sdk/client-codedeploy') as typeof import('@aws-sdk/client-codedeploy');
    const ssmm = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
    const Original = s3m.S3Client;
    const spy = jest.spyOn(s3m, 'S3Client').mockImplementation(
      () =>
        new Original({
          endpoint: s3.endpoint,
          forcePathStyle: true,
          region: 'us-east-1',
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          maxAttempts: 1,
        }),
    );
    const lambda = mockClient(lm.LambdaClient);
    const verdict = { output: { answer: 'ok' }, kinds: [], details: [], latencyMs: 5, degraded: false, tuple: {} };
    lambda.on(lm.InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ [GATE_RESPONSE_KEY]: verdict })) as never });
    const cd = mockClient(cdm.CodeDeployClient);
    cd.on(cdm.GetDeploymentCommand).resolves({
      deploymentInfo: {
        applicationName: 'app',
        deploymentGroupName: 'group-a',
        creator: 'CloudFormation',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } },
      },
    });
    cd.on(cdm.ListTagsForResourceCommand).resolves({ Tags: tags });
    cd.on(cdm.PutLifecycleEventHookExecutionStatusCommand).resolves({});
    const ssm = mockClient(ssmm.SSMClient);
    ssm.on(ssmm.GetParameterCommand, { Name: PARAM }).resolves({ Parameter: { Value: parameter } });
    ({ handler } = require('../lambda/gate/handler'));
    spy.mockRestore();
    calls = {
      sent: () => cd.commandCalls(cdm.PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status),
      invoked: () => lambda.commandCalls(lm.InvokeCommand).map((c) => `${c.args[0].input.FunctionName}:${c.args[0].input.Qualifier}`),
      payloads: (fn) =>
        lambda
          .commandCalls(lm.InvokeCommand)
          .filter((c) => c.args[0].input.FunctionName === fn)
          .map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array))),
      tagArns: () => cd.commandCalls(cdm.ListTagsForResourceCommand).map((c) => c.args[0].input.ResourceArn),
      restore: () => {
        lambda.restore();
        cd.restore();
        ssm.restore();
        for (const [k, v] of [
          [LEARNING_ENV.BUCKET, saved.bucket],
          [GATE_SHARED_ENV.GROUP_ARN_PREFIX, saved.prefix],
          [GATE_ENV.SERVICE, saved.service],
        ] as const)
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
      },
    };
  });
  return { handler, ...calls };
}

const context = { getRemainingTimeInMillis: () => 120_000 };

test("a tagged group: the service's case replayed on the deployment's version → Succeeded, its report in its folder", async () => {
  const c = gateCase({ service: 'svc-a' });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `cases/svc-a/accepted/${c.caseId}.json`, Body: JSON.stringify(c) }));
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const h = load([{ Key: GATE_SETTINGS_TAG, Value: PARAM }]);
  try {
    const r = (await h.handler({ DeploymentId: 'd-SH1', LifecycleEventHookExecutionId: 'h1' }, context)) as { status: string; service: string };
    expect(r).toMatchObject({ status: 'Succeeded', service: 'svc-a' });
    expect(h.sent()).toEqual(['Succeeded']);
    expect(h.invoked()).toEqual(['svc-a-fn:7']);
    expect(h.tagArns()).toEqual(['arn:aws:codedeploy:eu-west-1:111122223333:deploymentgroup:app/group-a']);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gates/svc-a/code-d-SH1.json' }));
    expect((JSON.parse(await got.Body!.transformToString()) as GateReport).verdict).toBe('passed');
  } finally {
    h.restore();
    out.mockRestore();
  }
});

test('an untagged group → Failed, nothing replayed', async () => {
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const h = load([{ Key: 'team', Value: 'x' }]);
  try {
    const r = (await h.handler({ DeploymentId: 'd-SH2', LifecycleEventHookExecutionId: 'h2' }, context)) as { status: string; summary: string };
    expect(r.status).toBe('Failed');
    expect(r.summary).toMatch(/has no tag cdk-ai-release:gate-settings/);
    expect(h.sent()).toEqual(['Failed']);
    expect(h.invoked()).toEqual([]);
  } finally {
    h.restore();
    out.mockRestore();
  }
});

test("a gate block with codeCanary: the service's share controller is told the version before the replay, then the shift after Succeeded", async () => {
  const c = gateCase({ service: 'svc-a' });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `cases/svc-a/accepted/${c.caseId}.json`, Body: JSON.stringify(c) }));
  const doc = JSON.parse(manifest);
  const withCanary = JSON.stringify({ ...doc, gate: { ...doc.gate, codeCanary: { controller: 'svc-a-share-controller', shiftSeconds: 300 } } });
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const h = load([{ Key: GATE_SETTINGS_TAG, Value: PARAM }], withCanary);
  try {
    const r = (await h.handler({ DeploymentId: 'd-SH3', LifecycleEventHookExecutionId: 'h3' }, context)) as { status: string };
    expect(r.status).toBe('Succeeded');
    expect(h.sent()).toEqual(['Succeeded']);
    // unqualified controller, then the replays of version 7 (this file's cases of svc-a), then the narrowing
    const invoked = h.invoked();
    expect(invoked[0]).toBe('svc-a-share-controller:undefined');
    expect(invoked.at(-1)).toBe('svc-a-share-controller:undefined');
    expect(invoked.slice(1, -1).length).toBeGreaterThan(0);
    expect(new Set(invoked.slice(1, -1))).toEqual(new Set(['svc-a-fn:7']));
    const [first, last] = h.payloads('svc-a-share-controller') as { kind: string; functionVersion: string; releaseKey: string; forSeconds: number }[];
    expect(first).toMatchObject({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-SH3' });
    // the hook's time to its answer (120 s less the 10 s margin) + 300 + 60
    expect(first.forSeconds).toBeGreaterThan(460);
    expect(first.forSeconds).toBeLessThanOrEqual(470);
    expect(last).toEqual({ kind: 'ai-release.code-canary', functionVersion: '7', releaseKey: 'code-d-SH3', forSeconds: 360 });
  } finally {
    h.restore();
    out.mockRestore();
  }
});
