import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type * as AppConfigData from '@aws-sdk/client-appconfigdata';
import type * as BedrockRuntime from '@aws-sdk/client-bedrock-runtime';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { AiServiceConfig, ReleaseConfigSource } from '../lib';

// The example service end to end, offline: its real release config (as the construct hosts it) served by a
// loopback stand-in for the AppConfig extension, Bedrock mocked with aws-sdk-client-mock.
const svc = new AiServiceConfig(new Stack(new App(), 'S'), 'C', {
  serviceName: 'support-assistant',
  source: ReleaseConfigSource.fromDirectory(path.join(__dirname, '../example/support-assistant/release-config')),
});
const hosted = svc.hostedVersion.content as string;
const flags = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    useFallbackModel: { enabled: false },
    disableTools: { enabled: false },
    disableRetrieval: { enabled: false },
    staticAnswer: { enabled: false, message: 'Back soon.' },
    ...over,
  });

let degradeBody = flags();
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.endsWith('/configurations/rel')) res.writeHead(200, { 'configuration-version': '4' }).end(hosted);
    else if (req.url?.endsWith('/configurations/deg')) res.writeHead(200, { 'configuration-version': '2' }).end(degradeBody);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
interface Loaded {
  handler: typeof import('../lambda/support-assistant/handler').handler;
  bedrock: AwsStub<any, any, any>;
  ConverseCommand: typeof BedrockRuntime.ConverseCommand;
}

/**
 * Loads the handler module fresh (its runtime and clients live at module scope, read from the environment), with
 * the SDK clients of that same module registry mocked.
 */
function loadHandler(
  extensionPort: number,
  setup: (m: { bedrock: AwsStub<any, any, any>; br: typeof BedrockRuntime; appconfig: AwsStub<any, any, any>; acd: typeof AppConfigData }) => void = () => {},
): Loaded {
  Object.assign(process.env, {
    AI_RELEASE_SERVICE: 'support-assistant',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
    AWS_LAMBDA_FUNCTION_VERSION: '5',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(extensionPort),
    AWS_REGION: 'us-east-1',
  });
  let loaded: Loaded | undefined;
  jest.isolateModules(() => {
    const br = require('@aws-sdk/client-bedrock-runtime') as typeof BedrockRuntime;
    const acd = require('@aws-sdk/client-appconfigdata') as typeof AppConfigData;
    const bedrock = mockClient(br.BedrockRuntimeClient);
    const appconfig = mockClient(acd.AppConfigDataClient);
    setup({ bedrock, br, appconfig, acd });
    loaded = { handler: require('../lambda/support-assistant/handler').handler, bedrock, ConverseCommand: br.ConverseCommand };
  });
  return loaded!;
}

function silence() {
  const out: string[] = [];
  const grab = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  // Node's own warnings are plain text; the service writes JSON lines only.
  return {
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

test('answers with the configured model, prompt and guardrail, and reports usage as metrics', async () => {
  const { handler, bedrock, ConverseCommand } = loadHandler(port, ({ bedrock, br }) =>
    bedrock.on(br.ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'Open Trash, select the file and choose Restore. [kb-restore-01]' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 850, outputTokens: 40, cacheReadInputTokens: 3000, cacheWriteInputTokens: 500, totalTokens: 4390 },
      metrics: { latencyMs: 300 },
    }),
  );
  const io = silence();
  let answer;
  try {
    answer = await handler({ question: 'How do I restore a deleted file?' }, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 });
  } finally {
    io.restore();
  }
  expect(answer).toEqual({ answer: 'Open Trash, select the file and choose Restore.', citations: ['kb-restore-01'] });
  const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input as BedrockRuntime.ConverseCommandInput;
  // A system-defined cross-Region inference profile: Claude 4-family models refuse their bare id on demand.
  expect(input.modelId).toBe('us.anthropic.claude-haiku-4-5-20251001-v1:0');
  expect(input.guardrailConfig).toEqual({ guardrailIdentifier: 'abcd1234efgh', guardrailVersion: '1', trace: 'enabled' });
  // The customer's question is guarded and is the contextual grounding check's query; the retrieved passages are
  // its grounding source (not guarded otherwise); the instructions are plain text.
  const user = input.messages!.at(-1)!.content!;
  expect(user.filter((b) => b.guardContent).map((b) => b.guardContent!.text!.qualifiers)).toEqual([['query', 'guard_content'], ['grounding_source']]);
  expect(user.find((b) => b.guardContent)!.guardContent!.text!.text).toBe('How do I restore a deleted file?');
  expect(user.filter((b) => b.guardContent).at(-1)!.guardContent!.text!.text).toContain('[kb-restore-01]');
  expect(
    user
      .filter((b) => b.text)
      .map((b) => b.text)
      .join(''),
  ).toContain('Passages (cite them by id)');
  expect(input.system?.[0]).toMatchObject({ text: expect.stringContaining('support assistant of Acme Cloud Storage') });
  expect(input.inferenceConfig).toMatchObject({ temperature: 0.2, maxTokens: 600 });
  expect(input.toolConfig?.tools?.[0].toolSpec?.name).toBe('lookup_order_status');
  const emf = io.lines().find((l) => l._aws);
  expect(emf).toMatchObject({
    Service: 'support-assistant',
    Version: '5',
    Invocations: 1,
    InputTokens: 850,
    OutputTokens: 40,
    QualityScore: 1,
    prompt: '3',
    model: '2026-11-27',
  });
  for (const counter of ['Errors', 'SafetyViolations', 'ContractViolations', 'Degraded']) expect(emf[counter]).toBeUndefined();
  // Cache reads at 0.0001 and writes at 0.00125 per 1k (the example's Claude Haiku 4.5 prices), input 0.001, output 0.005.
  expect(emf.CostUsd).toBeCloseTo(0.85 * 0.001 + 0.04 * 0.005 + 3 * 0.0001 + 0.5 * 0.00125, 10);
});

test("the guardrail's contextual grounding scores in the Converse trace reach the evaluation sample", async () => {
  // The Converse response as the Bedrock API Reference shapes it: trace.guardrail (GuardrailTraceAssessment) with
  // outputAssessments keyed by guardrail id, each an array of GuardrailAssessment whose contextualGroundingPolicy
  // carries GuardrailContextualGroundingFilter entries (type, threshold, score, action; detected on newer SDKs).
  const { handler, bedrock, ConverseCommand } = loadHandler(port, ({ bedrock, br }) =>
    bedrock.on(br.ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'Open Trash, select the file and choose Restore. [kb-restore-01]' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 850, outputTokens: 40, totalTokens: 890 },
      metrics: { latencyMs: 300 },
      trace: {
        guardrail: {
          inputAssessment: { abcd1234efgh: {} },
          outputAssessments: {
            abcd1234efgh: [
              {
                contextualGroundingPolicy: {
                  filters: [
                    { type: 'GROUNDING', threshold: 0.75, score: 0.91, action: 'NONE', detected: false },
                    { type: 'RELEVANCE', threshold: 0.5, score: 0.44, action: 'NONE', detected: true },
                  ],
                },
              },
            ],
          },
        },
      },
    }),
  );
  // A request id the example's 0.5 % sampling draws (the draw hashes the request id: evaluation-sampler.ts).
  const { shouldSample } = require('../lambda/runtime/evaluation-sampler') as typeof import('../lambda/runtime/evaluation-sampler');
  let n = 0;
  while (!shouldSample(`req-g${n}`, 0.005)) n++;
  const io = silence();
  try {
    await handler({ question: 'How do I restore a deleted file?' }, { awsRequestId: `req-g${n}`, getRemainingTimeInMillis: () => 30_000 });
  } finally {
    io.restore();
  }
  const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input as BedrockRuntime.ConverseCommandInput;
  expect(input.guardrailConfig?.trace).toBe('enabled');
  const sample = io.lines().find((l) => l.type === 'ai-release.evaluation-sample');
  expect(sample).toBeDefined();
  expect(sample.guardrail).toEqual({
    guardrail: 'abcd1234efgh',
    groundedness: { score: 0.91, threshold: 0.75, blocked: false },
    relevance: { score: 0.44, threshold: 0.5, blocked: false },
  });
  // Only the scores travel: none of the rest of the trace.
  expect(JSON.stringify(sample)).not.toContain('outputAssessments');
});

test('a guardrail intervention is a safety violation with a failure record', async () => {
  const { handler } = loadHandler(port, ({ bedrock, br }) =>
    bedrock.on(br.ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'Sorry, I cannot help with that.' }] } },
      stopReason: 'guardrail_intervened',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      metrics: { latencyMs: 1 },
      trace: {
        guardrail: {
          inputAssessment: {
            abcd1234efgh: {
              sensitiveInformationPolicy: { piiEntities: [{ type: 'CREDIT_DEBIT_CARD_NUMBER', match: '4111 1111 1111 1111', action: 'BLOCKED' }], regexes: [] },
            },
          },
        },
      },
    }),
  );
  const io = silence();
  let out: unknown;
  try {
    out = await handler({ question: 'my card is 4111 1111 1111 1111' });
  } finally {
    io.restore();
  }
  expect(out).toEqual({ answer: 'Sorry, I cannot help with that.', citations: [] });
  const lines = io.lines();
  expect(lines.find((l) => l._aws).SafetyViolations).toBe(1);
  const record = lines.find((l) => l.type === 'ai-release.failure');
  expect(record).toMatchObject({
    kind: 'safety',
    details: ['safety: input: sensitive information CREDIT_DEBIT_CARD_NUMBER (BLOCKED)'],
    input: '{"question":"my card is [REDACTED:CARD]"}',
  });
  expect(JSON.stringify(record)).not.toContain('4111 1111');
});

test('a tool loop that runs out of turns is a contract violation with a typed record, and the customer gets no pre-tool text', async () => {
  const { handler, bedrock, ConverseCommand } = loadHandler(port, ({ bedrock, br }) =>
    bedrock.on(br.ConverseCommand).resolves({
      output: {
        message: {
          role: 'assistant',
          content: [
            { text: 'Let me check that order.' },
            { toolUse: { toolUseId: 't1', name: 'lookup_order_status', input: { orderNumber: 'ORD-20261101' } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      metrics: { latencyMs: 1 },
    }),
  );
  const io = silence();
  let out: any;
  try {
    out = await handler({ question: 'Where is order ORD-20261101?' });
  } finally {
    io.restore();
  }
  expect(out.answer).not.toContain('Let me check');
  expect(out).toEqual({ answer: 'Sorry, I could not answer that. Please rephrase your question or contact support.', citations: [] });
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(3);
  const lines = io.lines();
  expect(lines.find((l) => l._aws)).toMatchObject({ ContractViolations: 1, QualityScore: 0 });
  const record = lines.find((l) => l.type === 'ai-release.failure');
  expect(record.kinds).toContain('contract');
  expect(record.details).toContainEqual(expect.stringMatching(/^contract: turns-exhausted: the model still asked for tools \(lookup_order_status\)/));
});

test('the fallback-model switch reaches Bedrock', async () => {
  degradeBody = flags({ useFallbackModel: { enabled: true } });
  const { handler, bedrock, ConverseCommand } = loadHandler(port, ({ bedrock, br }) =>
    bedrock.on(br.ConverseCommand).resolves({
      output: { message: { role: 'assistant', content: [{ text: 'ok [kb-plans-01]' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      metrics: { latencyMs: 1 },
    }),
  );
  const io = silence();
  try {
    const out = await handler({ question: 'storage plans' });
    expect(out).toMatchObject({ degraded: true });
  } finally {
    io.restore();
    degradeBody = flags();
  }
  expect((bedrock.commandCalls(ConverseCommand)[0].args[0].input as BedrockRuntime.ConverseCommandInput).modelId).toBe('us.amazon.nova-2-lite-v1:0');
  expect(io.lines().find((l) => l._aws).Degraded).toBe(1);
});

test('no extension and no data API on a cold start: the degraded answer, never a crash', async () => {
  // nothing listens on port 1, and the data API refuses. The runtime loads the data API client lazily, from the
  // registry current at that time, so mock that one too.
  const acdTop = require('@aws-sdk/client-appconfigdata') as typeof AppConfigData;
  const top = mockClient(acdTop.AppConfigDataClient);
  top.on(acdTop.StartConfigurationSessionCommand).rejects(new Error('AccessDeniedException: not authorized'));
  const { handler, bedrock, ConverseCommand } = loadHandler(1, ({ appconfig, acd }) =>
    appconfig.on(acd.StartConfigurationSessionCommand).rejects(new Error('AccessDeniedException: not authorized')),
  );
  const io = silence();
  let out;
  try {
    out = await handler({ question: 'hello' });
  } finally {
    io.restore();
  }
  expect(out).toEqual({ answer: 'The assistant is temporarily unavailable. Please try again in a few minutes.', citations: [], degraded: true });
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  const record = io.lines().find((l) => l.type === 'ai-release.failure');
  expect(record.error.message).toContain('cannot read config profile rel: AccessDeniedException: not authorized');
  top.restore();
});

test('a malformed request is answered before the AI path', async () => {
  const { handler, bedrock, ConverseCommand } = loadHandler(port);
  await expect(handler({})).resolves.toEqual({ error: 'send {"question": "..."} with 1 to 4000 characters' });
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
});

test('the Bedrock call gets the deadline signal and is aborted at the deadline', async () => {
  const { handler, bedrock, ConverseCommand } = loadHandler(port, ({ bedrock, br }) => bedrock.on(br.ConverseCommand).callsFake(() => new Promise(() => {})));
  const io = silence();
  try {
    // 800 ms left, of which the runtime keeps 500 for the record: the model call gets ~300 ms
    await expect(handler({ question: 'How do I restore a deleted file?' }, { getRemainingTimeInMillis: () => 800 })).rejects.toThrow(/did not finish within/);
  } finally {
    io.restore();
  }
  const options = (bedrock.commandCalls(ConverseCommand)[0].args as unknown[])[1] as { abortSignal?: AbortSignal };
  expect(options.abortSignal?.aborted).toBe(true);
  expect(options.abortSignal?.reason?.name).toBe('AiTimeoutError');
  expect(io.lines().find((l) => l.type === 'ai-release.failure')).toMatchObject({ kind: 'timeout' });
});
