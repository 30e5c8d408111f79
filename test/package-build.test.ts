import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The library as a consumer gets it: compiled to JavaScript with declarations (npm run build), loaded from the
// compiled files, synthesizing a release with the cost guard (whose function entry is then a .js file).
const root = path.join(__dirname, '..');
const out = path.join(root, '.build-test');

test('the compiled package loads and synthesizes a release', () => {
  fs.rmSync(out, { recursive: true, force: true });
  execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'pipe' });
  expect(fs.existsSync(path.join(out, 'lib/index.d.ts'))).toBe(true);
  expect(fs.existsSync(path.join(out, 'lambda/runtime/index.js'))).toBe(true);
  expect(fs.existsSync(path.join(out, 'lambda/cost-guard/handler.ts'))).toBe(false);

  const lib = require(path.join(out, 'lib/index.js'));
  const { App, Stack } = require('aws-cdk-lib');
  const lambda = require('aws-cdk-lib/aws-lambda');
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Pkg');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler=async()=>1'),
  });
  const release = new lib.AiRelease(stack, 'R', {
    serviceName: 'pkg',
    function: fn,
    config: lib.ReleaseConfigSource.fromDirectory(path.join(root, 'example/support-assistant/release-config')),
    costGuard: {},
  });
  const template = app.synth().getStackByName('Pkg').template;
  // the service, the cost guard, the config deployer (the release config's deployment), the snapshot function (its
  // entry is the compiled lambda/snapshot/handler.js) and CDK's LogRetention provider (`function.logGroup` of a
  // function with no log group of its own, in an app without useCdkManagedLogGroup)
  const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: { Description?: string } }>).filter(
    (r) => r.Type === 'AWS::Lambda::Function',
  );
  expect(functions).toHaveLength(5);
  expect(functions.some((f) => f.Properties.Description?.includes('regression case candidates'))).toBe(true);
  expect(release.worstCase.code.seconds).toBe(80);
  expect(typeof require(path.join(out, 'lambda/runtime/index.js')).createAiRuntime).toBe('function');
  fs.rmSync(out, { recursive: true, force: true });
});
