import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLED_HANDLER_FILE, LIBRARY_HANDLERS, libraryFunction, libraryHandlerDir } from '../lib/private/library-function';
import { bundleHandler } from '../scripts/bundle-handlers';
import { testStack } from './helpers';

const root = path.join(__dirname, '..');

describe('libraryFunction, running from the TypeScript sources', () => {
  test('a plain lambda.Function on Code.fromAsset: Node 24 on arm64, handler index.handler', () => {
    const stack = testStack();
    libraryFunction(stack, 'Guard', { handler: 'cost-guard', description: 'test' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Code: { S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
    });
  });

  test("with bundling skipped ('aws:cdk:bundling-stacks': []) the source folder stands in and esbuild does not run", () => {
    const stack = testStack();
    expect(stack.bundlingRequired).toBe(false);
    expect(libraryHandlerDir(stack, 'cost-guard')).toBe(path.join(root, 'lambda/cost-guard'));
  });

  test('with bundling, the handler is bundled on demand into a cache folder: one self-contained index.js', () => {
    const stack = new Stack(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'libfn-')) }), 'Bundled');
    expect(stack.bundlingRequired).toBe(true);
    const dir = libraryHandlerDir(stack, 'cost-guard');
    expect(dir).toBe(path.join(root, 'node_modules/.cache/cdk-ai-release/handlers/cost-guard'));
    expect(fs.readdirSync(dir)).toEqual([BUNDLED_HANDLER_FILE]);
    const code = fs.readFileSync(path.join(dir, BUNDLED_HANDLER_FILE), 'utf8');
    // the AWS SDK is bundled (only the optional CRT signer, loaded in a try, stays external)
    expect(code.match(/require\("@(aws-sdk\/client-|smithy\/)[^"]*"\)/g)).toBeNull();
    // and it loads as the Lambda runtime loads it (CommonJS), exporting the handler
    const env = { COST_GUARD_APPLICATION: 'a', COST_GUARD_ENVIRONMENT: 'e', COST_GUARD_PROFILE: 'p', COST_GUARD_STRATEGY: 's' };
    Object.assign(process.env, env);
    try {
      expect(typeof require(path.join(dir, BUNDLED_HANDLER_FILE)).handler).toBe('function');
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  });

  test('the on-demand bundle and the package build are the same function: same bytes, deterministic', () => {
    const a = bundleHandler(root, 'cost-guard', fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-a-')));
    const b = bundleHandler(root, 'cost-guard', fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-b-')));
    expect(fs.readFileSync(path.join(a, BUNDLED_HANDLER_FILE)).equals(fs.readFileSync(path.join(b, BUNDLED_HANDLER_FILE)))).toBe(true);
  });

  test('every listed handler has its lambda/<name>/handler.ts; an unlisted name is refused with the fix', () => {
    for (const name of LIBRARY_HANDLERS) expect(fs.existsSync(path.join(root, 'lambda', name, 'handler.ts'))).toBe(true);
    expect(() => libraryHandlerDir(testStack(), 'nope' as 'cost-guard')).toThrow(
      '"nope" is not a library handler; add it to LIBRARY_HANDLERS in lib/private/library-function.ts',
    );
    expect(() => bundleHandler(root, 'nope', os.tmpdir())).toThrow('library handler "nope" has no lambda/nope/handler.ts');
  });
});
