import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isSupportedNode, quietSdkEnvironment } from '../bin/cli/node-support';
import { installUserErrorReporting, isUserError, topFrameFile, userErrorText } from '../lib/private/user-errors';

// Errors a user can fix print like config errors — the message with its fix, no stack trace, exit code 1 — whatever
// the app's bin/ does. Each case runs a tiny app as a user writes it, in its own Node process (jest installs nothing:
// the reporting is off under jest), and reads stderr.

const root = path.join(__dirname, '..');
const lib = path.join(root, 'lib');
const tsx = path.join(root, 'node_modules/tsx/dist/cli.mjs');

function runApp(source: string, env: NodeJS.ProcessEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-error-'));
  const file = path.join(dir, 'app.ts');
  fs.writeFileSync(file, source.replaceAll('LIB', JSON.stringify(lib)));
  const run = spawnSync(process.execPath, [tsx, file], {
    cwd: dir,
    // NODE_PATH: the app, outside the repository, resolves aws-cdk-lib to the copy the library uses.
    env: { ...process.env, JEST_WORKER_ID: undefined, NODE_PATH: path.join(root, 'node_modules'), CDK_OUTDIR: path.join(dir, 'cdk.out'), ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
}

const STACK_FRAME = /\n\s+at .*:\d+:\d+/;

describe('a user error prints as its message, with no stack trace, and exits 1', () => {
  test('a bad prop thrown while the app is built (TrafficShift.canary(0)), with no try/catch in bin/', () => {
    const run = runApp(`
      import { App, Duration, Stack } from 'aws-cdk-lib';
      import { TrafficShift } from LIB;
      const app = new App();
      new Stack(app, 'S');
      TrafficShift.canary(0, Duration.minutes(5));
    `);
    expect(run.stderr).toBe('TrafficShift.canary percent must be a whole number from 1 to 99, got 0; e.g. TrafficShift.canary(10, Duration.minutes(5))\n');
    expect(run.status).toBe(1);
  });

  test('two platforms in a stack, thrown inside an async main (an unhandled rejection)', () => {
    const run = runApp(`
      import { App, Stack } from 'aws-cdk-lib';
      import { AiReleasePlatform } from LIB;
      async function main() {
        const app = new App();
        const stack = new Stack(app, 'Platforms');
        new AiReleasePlatform(stack, 'One');
        new AiReleasePlatform(stack, 'Two');
      }
      main();
    `);
    expect(run.stderr).toMatch(/^stack Platforms already has an AiReleasePlatform \(Platforms\/One\); create one per stack/);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.stderr).not.toContain('Node.js v');
    expect(run.status).toBe(1);
  });

  test("a synth validation error from the App's automatic synth at exit (as under cdk synth): two releases, one serviceName", () => {
    const run = runApp(
      `
      import { App, Stack } from 'aws-cdk-lib';
      import * as lambda from 'aws-cdk-lib/aws-lambda';
      import { AiRelease, ReleaseConfigSource } from LIB;
      import { validConfig } from ${JSON.stringify(path.join(__dirname, 'helpers'))};
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      for (const id of ['One', 'Two']) {
        const stack = new Stack(app, id);
        const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
        new AiRelease(stack, 'Release', { serviceName: 'assistant', function: fn, config: ReleaseConfigSource.fromObject(validConfig()) });
      }
    `,
      { CDK_VALIDATION: 'false' },
    );
    expect(run.stderr).toContain('Validation failed with the following errors:');
    expect(run.stderr).toContain('serviceName "assistant" is used by two releases in one app: One/Release and Two/Release');
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.stderr).not.toContain('aws-cdk-lib, node internals');
    expect(run.status).toBe(1);
  });

  test("a bug keeps its stack trace: a TypeError, or an app's own Error, is Node's to print", () => {
    const run = runApp(`
      import { TrafficShift } from LIB;
      void TrafficShift;
      throw new Error('the app itself failed');
    `);
    expect(run.stderr).toContain('Error: the app itself failed');
    expect(run.stderr).toMatch(STACK_FRAME);
    expect(run.status).toBe(1);
  });
});

describe("which errors are the user's (unit)", () => {
  const dirs = ['/pkg/lib/', '/pkg/lambda/shared/'];
  const thrownAt = (e: Error, file: string) => {
    e.stack = `${e.name}: ${e.message}\n    at fn (${file}:1:2)\n    at Object.<anonymous> (/app/bin/app.ts:3:4)`;
    return e;
  };

  test.each([
    ['a plain Error thrown from lib/', thrownAt(new Error('x'), '/pkg/lib/rollout/traffic-shift.ts'), true],
    ['a plain Error thrown from the contract in lambda/shared/', thrownAt(new Error('x'), '/pkg/lambda/shared/contract.ts'), true],
    ['a plain Error thrown from the app', thrownAt(new Error('x'), '/app/bin/app.ts'), false],
    ['a TypeError thrown from lib/ (a bug)', thrownAt(new TypeError('x'), '/pkg/lib/ai-release.ts'), false],
    ['a ReleaseConfigError', Object.assign(new Error('x'), { name: 'ReleaseConfigError' }), true],
    ["aws-cdk-lib's ValidationError", Object.assign(new Error('x'), { [Symbol.for('@aws-cdk/core.ValidationError')]: true }), true],
    ['not an error', 'a string', false],
  ])('%s', (_what, error, expected) => {
    expect(isUserError(error, dirs)).toBe(expected);
  });

  test("the printed text: the message, with an aws-cdk-lib ValidationError's construct path in front", () => {
    const { ValidationError } = require('aws-cdk-lib/core/lib/errors');
    const { App, Stack } = require('aws-cdk-lib');
    const scoped = new ValidationError('BadProp', 'memorySize must be at least 128', new Stack(new App(), 'S'));
    expect(isUserError(scoped)).toBe(true);
    expect(userErrorText(scoped)).toBe('[S] memorySize must be at least 128\n');
    expect(userErrorText(new Error('percent must be 1 to 99  \n'))).toBe('percent must be 1 to 99\n');
  });

  test('the top frame is read from both V8 frame forms and file URLs', () => {
    expect(topFrameFile('Error: x\n    at fn (/a/b.ts:1:2)')).toBe('/a/b.ts');
    expect(topFrameFile('Error: x\n    at /a/b.ts:1:2')).toBe('/a/b.ts');
    expect(topFrameFile('Error: x\n    at fn (file:///a/b%20c.mjs:1:2)')).toBe('/a/b c.mjs');
    expect(topFrameFile('Error: x')).toBeUndefined();
  });

  test('installed once per process, and silent when the app handles uncaught exceptions itself', () => {
    const listeners: Record<string, ((e: unknown) => void)[]> = {};
    let exited: number | undefined;
    const proc = {
      on: (event: string, l: (e: unknown) => void) => (listeners[event] ??= []).push(l),
      listenerCount: (event: string) => (listeners[event] ?? []).length,
      exit: (code: number) => {
        exited = code;
      },
    } as unknown as NodeJS.Process;
    installUserErrorReporting(proc);
    installUserErrorReporting(proc);
    expect(listeners.uncaughtExceptionMonitor).toHaveLength(1);
    listeners.uncaughtException = [() => undefined];
    listeners.uncaughtExceptionMonitor[0](Object.assign(new Error('x'), { name: 'ReleaseConfigError' }));
    expect(exited).toBeUndefined();
  });
});

describe('the CLI prints no SDK noise on a supported Node', () => {
  test.each([
    ['v20.19.0', true],
    ['v20.18.3', false],
    ['v22.1.0', true],
    ['v24.11.1', true],
    ['v18.20.8', false],
  ])('Node %s supported: %s', (version, supported) => {
    expect(isSupportedNode(version)).toBe(supported);
    expect(quietSdkEnvironment(version, {})).toEqual(supported ? { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } : {});
  });

  test("the user's own setting wins", () => {
    expect(quietSdkEnvironment('v20.20.0', { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' })).toEqual({});
  });

  test('a command that builds SDK clients prints its one error line and no warning (run on this Node)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1' };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    // The endpoint (discard port, from the jest setup) refuses at once: the command fails with exit code 4.
    const run = spawnSync(process.execPath, [tsx, path.join(root, 'bin/cdk-ai-release.ts'), 'status', 'assistant'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(4);
    expect(run.stderr).toMatch(/^cdk-ai-release: ssm:GetParametersByPath \/cdk-ai-release\/ failed: .*ECONNREFUSED.*\n$/);
    expect(run.stderr).not.toMatch(/Warning/);
  });
});
