// Keep unit tests fast and offline: CloudFormation schema validation off, no CLI telemetry.
process.env.CDK_VALIDATION = 'false';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
// Every construct and annotation captures and source-maps a stack trace for the assembly's metadata, which no test
// reads: about a tenth of constructing the example app.
process.env.CDK_DISABLE_STACK_TRACE = '1';
// That covers annotations only: every CfnElement and Stack still captures its creation stack unless the app's context
// sets `aws:cdk:disable-creation-stack-traces` (aws-cdk-lib 2.276), and jest source-maps each of those traces (up to
// 100 frames): 12 % of ai-release.test.ts's CPU. An App takes CDK_CONTEXT_JSON's keys over its props' context (only
// this key is set here), so every App a test builds gets it; a process a test spawns inherits it (the cdk CLI sets
// its own).
process.env.CDK_CONTEXT_JSON = JSON.stringify({
  'aws:cdk:disable-creation-stack-traces': true,
  ...(process.env.CDK_CONTEXT_JSON ? JSON.parse(process.env.CDK_CONTEXT_JSON) : {}),
});
// Tests must never reach AWS: fake credentials and region, and no instance-metadata lookups, so any SDK call a test
// forgot to mock fails fast at the mock boundary instead of searching for real credentials.
process.env.AWS_ACCESS_KEY_ID = 'AKIDTESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-secret';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// Nor from a developer's ~/.aws (a profile could name another region or a credential process).
delete process.env.AWS_PROFILE;
process.env.AWS_CONFIG_FILE = '/nonexistent/cdk-ai-release-test/aws-config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/cdk-ai-release-test/aws-credentials';
// An SDK call a test forgot to mock goes to the discard port on this machine and is refused at once, instead of
// resolving an AWS host (the SDK reads AWS_ENDPOINT_URL for every service).
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
// And anything else that tries to leave the machine (a socket or a DNS lookup off loopback) is refused.
require('./net-guard.cjs');
// The SDK's notice that it will require Node 22 in 2027 is not news in a test run (Lambda runs Node 24).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'object' ? (rest[0] as { type?: string })?.type : rest[0];
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
// The library's functions log one JSON record per line (console.log/error; in Lambda the runtime sends them to
// CloudWatch Logs and applies the function's log level). A handler test's records are the handler's output, not
// the test run's: they are held back here, as a log level above INFO would, unless CDK_AI_RELEASE_TEST_LOGS=1.
// A test that asserts a log line spies on console (jest.spyOn replaces these wrappers), so it still sees every line;
// anything that is not such a record (a test's own debugging output) prints as before.
if (process.env.CDK_AI_RELEASE_TEST_LOGS !== '1') {
  const isLogRecord = (line: unknown): boolean => {
    if (typeof line !== 'string' || !line.startsWith('{') || !line.endsWith('}')) return false;
    try {
      const record = JSON.parse(line) as Record<string, unknown> | null;
      return record !== null && typeof record === 'object' && (typeof record.message === 'string' || typeof record.level === 'string');
    } catch {
      return false;
    }
  };
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    const print = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (args.length === 1 && isLogRecord(args[0])) return;
      print(...args);
    };
  }
}
// CDK_AI_RELEASE_COUNT_SYNTHS=<dir>: every synthesis a test file runs (Stage.synth that builds an assembly, not a
// cached one) appends one line to <dir>/<pid>.jsonl: the test file, its stacks, how many AiRelease constructs, whether
// it is the example app (bench/RESULTS.md § h11-synth counts them). Off by default: it loads aws-cdk-lib in every file.
if (process.env.CDK_AI_RELEASE_COUNT_SYNTHS) {
  const dir = process.env.CDK_AI_RELEASE_COUNT_SYNTHS;
  const fs = require('node:fs') as typeof import('node:fs');
  const { Stage, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const synth = Stage.prototype.synth;
  Stage.prototype.synth = function (this: InstanceType<typeof Stage>, options?: Parameters<typeof synth>[0]) {
    const cached = (this as unknown as { assembly?: unknown }).assembly !== undefined && !options?.force;
    const start = performance.now();
    const result = synth.call(this, options);
    if (cached) return result;
    const all = this.node.findAll();
    const stacks = all.filter((c) => Stack.isStack(c));
    const line = {
      test: (globalThis as { expect?: { getState(): { testPath?: string } } }).expect?.getState().testPath?.replace(/.*\/test\//, ''),
      ms: Math.round(performance.now() - start),
      stacks: stacks.map((s) => s.node.path),
      releases: all.filter((c) => c.constructor.name === 'AiRelease').length,
      example: stacks.some((s) => s.constructor.name === 'ExampleStack'),
      constructs: all.length,
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.appendFileSync(`${dir}/${process.pid}.jsonl`, `${JSON.stringify(line)}\n`);
    return result;
  } as typeof synth;
}
