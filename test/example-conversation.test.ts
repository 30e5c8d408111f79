import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type * as BedrockRuntime from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { AiServiceConfig, ReleaseConfigSource } from '../lib';
import { conversationProblem } from '../lambda/support-assistant/service';

// The example ships an assigned config canary (bin/example-stack.ts): its handler must hand the caller's conversation
// to the runtime, or every turn is placed on its own and a conversation can switch configs mid-dialogue. Offline: the
// real release config as live and candidate, and a share document at 50 %, served by a loopback stand-in for the
// AppConfig extension; Bedrock mocked.
const svc = new AiServiceConfig(new Stack(new App(), 'S'), 'C', {
  serviceName: 'support-assistant',
  source: ReleaseConfigSource.fromDirectory(path.join(__dirname, '../example/support-assistant/release-config')),
});
const hosted = svc.hostedVersion.content as string;
const flags = JSON.stringify({
  useFallbackModel: { enabled: false },
  disableTools: { enabled: false },
  disableRetrieval: { enabled: false },
  staticAnswer: { enabled: false, message: 'Back soon.' },
});
const share = JSON.stringify({
  schemaVersion: 1,
  releaseKey: 'release-7',
  share: 0.5,
  candidateContentHash: svc.contentHash,
  history: [{ at: new Date(Date.now() - 600_000).toISOString(), share: 0.5 }],
});

let server: http.Server;
let port = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.endsWith('/configurations/rel')) res.writeHead(200, { 'configuration-version': '4' }).end(hosted);
    else if (req.url?.endsWith('/configurations/deg')) res.writeHead(200, { 'configuration-version': '2' }).end(flags);
    else if (req.url?.endsWith('/environments/share-env/configurations/share-prof')) res.writeHead(200, { 'configuration-version': '3' }).end(share);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function loadHandler() {
  Object.assign(process.env, {
    AI_RELEASE_SERVICE: 'support-assistant',
    AI_RELEASE_APPCONFIG_APPLICATION: 'app',
    AI_RELEASE_APPCONFIG_ENVIRONMENT: 'env',
    AI_RELEASE_APPCONFIG_CANDIDATE_ENVIRONMENT: 'cand',
    AI_RELEASE_APPCONFIG_SHARE_ENVIRONMENT: 'share-env',
    AI_RELEASE_SHARE_PROFILE: 'share-prof',
    AI_RELEASE_CONFIG_PROFILE: 'rel',
    AI_RELEASE_DEGRADE_PROFILE: 'deg',
    AWS_LAMBDA_FUNCTION_VERSION: '5',
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String(port),
    AWS_REGION: 'us-east-1',
  });
  let handler: typeof import('../lambda/support-assistant/handler').handler | undefined;
  jest.isolateModules(() => {
    const br = require('@aws-sdk/client-bedrock-runtime') as typeof BedrockRuntime;
    mockClient(br.BedrockRuntimeClient)
      .on(br.ConverseCommand)
      .resolves({
        output: { message: { role: 'assistant', content: [{ text: 'Open Trash, select the file and choose Restore. [kb-restore-01]' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 850, outputTokens: 40, totalTokens: 890 },
        metrics: { latencyMs: 300 },
      });
    handler = require('../lambda/support-assistant/handler').handler;
  });
  return handler!;
}

/** Runs `f` with stdout/stderr captured; returns the JSON lines written. */
async function capture(f: () => Promise<void>): Promise<Record<string, any>[]> {
  const out: string[] = [];
  const grab = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(grab), jest.spyOn(process.stderr, 'write').mockImplementation(grab)];
  try {
    await f();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return out
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

test('every turn of a conversation keeps one arm of the assigned canary; without an id each request is its own unit', async () => {
  const handler = loadHandler();
  const conversations = Array.from({ length: 12 }, (_, i) => `chat-${i}`);
  let n = 0;
  const ask = (extra: Record<string, unknown>) =>
    handler({ question: 'How do I restore a deleted file?', ...extra }, { awsRequestId: `req-${n++}`, getRemainingTimeInMillis: () => 30_000 });
  const lines = await capture(async () => {
    for (let turn = 0; turn < 3; turn++) for (const id of conversations) await ask({ conversationId: id });
    for (let i = 0; i < 6; i++) await ask({});
  });
  // The EMF line of each invocation carries the assignment (metadata, not a dimension).
  const emf = lines.filter((l) => l._aws && l.assignmentUnitKind !== undefined);
  expect(emf).toHaveLength(12 * 3 + 6);
  const byUnit = new Map<string, Set<string>>();
  for (const l of emf.slice(0, 36)) {
    expect(l).toMatchObject({ assignmentUnitKind: 'conversation', assignmentReleaseKey: 'release-7', assignmentShare: '0.5' });
    byUnit.set(l.assignmentUnit, (byUnit.get(l.assignmentUnit) ?? new Set()).add(l.assignmentArm));
  }
  // 12 conversations, 12 units, each on one arm for all three turns; at 50 % both arms get some.
  expect(byUnit.size).toBe(12);
  for (const arms of byUnit.values()) expect(arms.size).toBe(1);
  const arms = [...byUnit.values()].map((s) => [...s][0]);
  expect(arms).toContain('candidate');
  expect(arms).toContain('live');
  for (const l of emf.slice(36)) expect(l.assignmentUnitKind).toBe('request');
  // The unit is a keyed hash, never the caller's id: no field carries an id but an evaluation sample's `input`, the
  // request as the caller sent it (redacted, and replayed as sent by the evaluator's shadow path).
  const withoutInput = lines.map(({ input: _input, ...rest }) => rest);
  expect(JSON.stringify(withoutInput)).not.toContain('chat-');
});

test.each([
  [{ conversationId: '' }, /conversationId must be a string of 1 to 256 characters/],
  [{ conversationId: 42 }, /conversationId must be a string/],
  [{ conversationId: 'x'.repeat(257) }, /1 to 256 characters/],
  [{ conversationId: 'c', conversationStartedAt: 'yesterday' }, /conversationStartedAt must be epoch milliseconds or an ISO-8601 time/],
  [{ conversationId: 'c', conversationStartedAt: -5 }, /conversationStartedAt must be/],
  [{ conversationStartedAt: 1_765_000_000_000 }, /conversationStartedAt needs conversationId/],
])('a bad conversation field %j is the caller error, naming the field and the fix', async (fields, message) => {
  expect(conversationProblem(fields as never)).toMatch(message);
  const handler = loadHandler();
  await expect(handler({ question: 'hi', ...(fields as object) })).resolves.toEqual({ error: expect.stringMatching(message) });
});

test.each([
  [{}],
  [{ conversationId: 'chat-1' }],
  [{ conversationId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' }],
  [{ conversationId: 'c', conversationStartedAt: '2026-12-08T03:00:00Z' }],
  [{ conversationId: 'c', conversationStartedAt: 1_765_000_000_000 }],
])('usable conversation fields %j pass', (fields) => {
  expect(conversationProblem(fields as never)).toBeUndefined();
});
