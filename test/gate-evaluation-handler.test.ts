/**
 * The gate handler with its evaluator wired from the environment RegressionGate sets (issue 17 E), end to end over
 * real adapters: the case in s3rver, the target's replays (Lambda Invoke), the live evaluation section (AppConfig data
 * API) and the evaluator model (Bedrock Converse) through aws-sdk-client-mock; and a misconfigured environment named.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { GATE_ENV, GATE_EVALUATION_ENV, GATE_RESPONSE_KEY, type GateReport, LEARNING_ENV } from '../lambda/shared/contract';
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

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const SERVICE = 'eval-svc';

function env(over: Record<string, string | undefined> = {}): () => void {
  const vars: Record<string, string | undefined> = {
    [GATE_ENV.SERVICE]: SERVICE,
    [GATE_ENV.TARGET_FUNCTION]: 'svc-fn',
    [LEARNING_ENV.BUCKET]: BUCKET,
    [GATE_EVALUATION_ENV.SETTINGS]: JSON.stringify({ k: 3, pass: 'majority', maxUsd: 5 }),
    [GATE_EVALUATION_ENV.MODEL_ID]: MODEL,
    [GATE_EVALUATION_ENV.APPLICATION]: 'app1',
    [GATE_EVALUATION_ENV.LIVE_ENVIRONMENT]: 'live1',
    [GATE_EVALUATION_ENV.PROFILE]: 'prof1',
    ...over,
  };
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  return () => {
    for (const [k, v] of Object.entries(before))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
}

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

/** Loads the handler in its own module registry: S3 to s3rver, the other clients mocked. */
function load(answers: string[]): { handler: Handler; converse: () => unknown[]; live: () => unknown[]; restore: () => void } {
  let handler!: Handler;
  let calls!: { converse: () => unknown[]; live: () => unknown[]; restore: () => void };
  jest.isolateModules(() => {
    const s3m = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const lm = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
    const bm = require('@aws-sdk/client-bedrock-runtime') as typeof import('@aws-sdk/client-bedrock-runtime');
    const am = require('@aws-sdk/client-appconfigdata') as typeof import('@aws-sdk/client-appconfigdata');
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
    let n = 0;
    const lambda = mockClient(lm.LambdaClient);
    lambda.on(lm.InvokeCommand).callsFake(async () => {
      const text = answers[Math.min(n++, answers.length - 1)];
      const verdict = {
        output: { answer: text },
        kinds: [],
        details: [],
        latencyMs: 30,
        degraded: false,
        tuple: { codeVersion: '7' },
        evidence: { answer: text, passages: [{ id: 'p1', text: 'Refunds are paid within 5 days.' }], citations: text.includes('[p1]') ? ['p1'] : [] },
      };
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ [GATE_RESPONSE_KEY]: verdict })) as never };
    });
    const appconfig = mockClient(am.AppConfigDataClient);
    appconfig.on(am.StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 't0' });
    appconfig.on(am.GetLatestConfigurationCommand).resolves({
      NextPollConfigurationToken: 't1',
      NextPollIntervalInSeconds: 60,
      VersionLabel: 'cfg-live',
      Configuration: new TextEncoder().encode(
        JSON.stringify({
          evaluation: {
            version: 'rubric-live-v3',
            evaluatorModel: { modelId: MODEL, pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
            rubrics: [{ criterion: 'groundedness', instructions: 'LIVE: every claim is supported by a passage.' }],
            samplingRate: 0.1,
            budget: { perReleaseUsd: 10, perDayUsd: 20 },
          },
        }),
      ) as never,
    });
    const bedrock = mockClient(bm.BedrockRuntimeClient);
    bedrock.on(bm.ConverseCommand).callsFake(async (input: { messages: { content: { text: string }[] }[] }) => {
      const answer = input.messages[0].content[0].text.split('<answer>\n')[1] ?? '';
      return {
        output: {
          message: {
            role: 'assistant',
            content: [{ toolUse: { toolUseId: 'tu1', name: 'record_score', input: { score: answer.includes('[p1]') ? 5 : 2, reason: 'cites p1 or not' } } }],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 300, outputTokens: 20, totalTokens: 320 },
        metrics: { latencyMs: 100 },
      };
    });
    ({ handler } = require('../lambda/gate/handler'));
    spy.mockRestore();
    calls = {
      converse: () => bedrock.commandCalls(bm.ConverseCommand).map((c) => c.args[0].input),
      live: () => appconfig.commandCalls(am.StartConfigurationSessionCommand).map((c) => c.args[0].input),
      restore: () => {
        lambda.restore();
        appconfig.restore();
        bedrock.restore();
      },
    };
  });
  return { handler, ...calls };
}

const request = { kind: 'ai-release.config-gate', service: SERVICE, configVersion: '9', qualifier: 'gate' };
const context = { getRemainingTimeInMillis: () => 120_000 };

test('a config gate judges an evaluated case with the live rubric through Bedrock, replaying it by the rule', async () => {
  const c = gateCase({ service: SERVICE, expectation: { minScores: { groundedness: 4 } } });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `cases/${SERVICE}/accepted/${c.caseId}.json`, Body: JSON.stringify(c) }));
  const restoreEnv = env();
  const logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const h = load(['vague', 'Refunds take 5 days [p1].', 'vague']);
  try {
    const report = (await h.handler(request, context)) as GateReport;
    // Replay 1 scores 2 (under the floor 4), replay 2 scores 5, replay 3 scores 2: 1 of 3, majority not met.
    expect(report.cases[0]).toMatchObject({ outcome: 'failed', replays: { k: 3, run: 3, passed: 1 } });
    expect(report.verdict).toBe('failed');
    expect(report.evaluation).toMatchObject({ rubric: 'rubric-live-v3', evaluatorModel: MODEL, evaluatedCases: 1, capUsd: 5 });
    // The live environment's section judged; the granted model was called with the forced tool.
    expect(h.live()).toEqual([
      expect.objectContaining({ ApplicationIdentifier: 'app1', EnvironmentIdentifier: 'live1', ConfigurationProfileIdentifier: 'prof1' }),
    ]);
    const sent = h.converse() as { modelId: string; toolConfig: unknown; messages: { content: { text: string }[] }[] }[];
    expect(sent).toHaveLength(3);
    for (const r of sent) {
      expect(r.modelId).toBe(MODEL);
      expect(r.toolConfig).toMatchObject({ toolChoice: { tool: { name: 'record_score' } } });
      expect(r.messages[0].content[0].text).toContain('LIVE: every claim is supported by a passage.');
    }
  } finally {
    h.restore();
    restoreEnv();
    logs.mockRestore();
    out.mockRestore();
  }
});

test.each([
  [
    'settings with k 0',
    { [GATE_EVALUATION_ENV.SETTINGS]: '{"k":0,"pass":"majority","maxUsd":5}' },
    /AI_RELEASE_GATE_EVALUATION\.k must be a whole number of replays from 1 to 10, got 0/,
  ],
  ['settings that are not JSON', { [GATE_EVALUATION_ENV.SETTINGS]: 'k=3' }, /environment variable AI_RELEASE_GATE_EVALUATION is not JSON/],
  ['no evaluator model', { [GATE_EVALUATION_ENV.MODEL_ID]: undefined }, /environment variable AI_RELEASE_GATE_EVALUATOR_MODEL is not set/],
])('a misconfigured evaluator environment (%s) fails the gate with the variable named', async (_label, over, message) => {
  const restoreEnv = env(over);
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const h = load(['x']);
  try {
    await expect(h.handler(request, context)).rejects.toThrow(message);
  } finally {
    h.restore();
    restoreEnv();
    err.mockRestore();
  }
});
