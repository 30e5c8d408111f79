import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LIBRARY_HANDLERS } from '../lib/private/library-function';

// The library as a user gets it: `npm pack` (which runs the build through `prepack`), then a separate app that
// installs the tarball and synthesizes three services, one with the cost guard, on the LOWEST aws-cdk-lib the peer
// range admits. That aws-cdk-lib is the devDependency alias `aws-cdk-lib-min` (so `npm ci` brings it from the lock
// file); the test places it as the app's `aws-cdk-lib`. No network: npm runs --offline, the app needs no registry.
// Node resolves a symlinked package from its real path, which is how the two layouts below get one or two copies.

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const MIN = require('aws-cdk-lib-min/package.json').version as string;
const DEV = require('aws-cdk-lib/package.json').version as string;

let work: string;
let tarball: string;
let files: string[];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ai-release-pkg-'));
  const out = execFileSync('npm', ['pack', '--json', '--offline', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  const [info] = JSON.parse(out.slice(out.indexOf('[')));
  tarball = path.join(work, info.filename);
  files = (info.files as { path: string }[]).map((f) => f.path);
}, 120_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the peer range starts at the aws-cdk-lib this test installs, and the exact pins stay dev-only', () => {
  expect(pkg.peerDependencies).toEqual({ 'aws-cdk-lib': `^${MIN}`, constructs: expect.stringMatching(/^\^10\./) });
  expect(pkg.dependencies['aws-cdk-lib']).toBeUndefined();
  expect(pkg.dependencies.constructs).toBeUndefined();
  expect(pkg.dependencies.esbuild).toBeUndefined();
  expect(pkg.devDependencies['aws-cdk-lib-min']).toBe(`npm:aws-cdk-lib@${MIN}`);
  expect(pkg.devDependencies['aws-cdk-lib']).toBe(DEV);
});

test('the tarball ships compiled code, declarations, the CLI and pre-bundled handlers; no sources or build tools', () => {
  // the dated Bedrock model lifecycle table that synth and `models check` read (lib/config/model-lifecycle.ts imports it)
  const data = ['dist/lib/config/data/bedrock-model-lifecycle.json', 'dist/bin/cli/models.js'];
  for (const f of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lambda/runtime/index.js', 'dist/bin/cdk-ai-release.js', ...data]) {
    expect(files).toContain(f);
  }
  // every handler listed next to libraryFunction, with no change to the build script
  expect(LIBRARY_HANDLERS.length).toBeGreaterThan(0);
  for (const name of LIBRARY_HANDLERS) expect(files).toContain(`dist/handlers/${name}/index.js`);
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => /^(scripts|test|bench|example)\/|^dist\/bin\/(app|example-stack)\./.test(f))).toEqual([]);
});

/** A separate app: its own node_modules with the tarball (or a link to this repository) and the lowest aws-cdk-lib. */
function consumerApp(layout: 'tarball' | 'linked'): string {
  const app = fs.mkdtempSync(path.join(work, `app-${layout}-`));
  const nm = path.join(app, 'node_modules');
  fs.mkdirSync(nm);
  if (layout === 'tarball') {
    // What `npm install cdk-ai-release-x.tgz` lays down: the package, and its dependencies beside it.
    const dest = path.join(nm, 'cdk-ai-release');
    fs.mkdirSync(dest);
    execFileSync('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1']);
    for (const dep of Object.keys(pkg.dependencies)) link(path.join(root, 'node_modules', dep), path.join(nm, dep));
  } else {
    // What `npm install ../cdk-ai-release` (or a workspace) lays down: a link to the library's folder, whose own
    // node_modules holds its dev copy of aws-cdk-lib, so the library and the app load two different copies.
    link(root, path.join(nm, 'cdk-ai-release'));
  }
  link(path.join(root, 'node_modules', 'aws-cdk-lib-min'), path.join(nm, 'aws-cdk-lib'));
  // A copy, not a link: the app has its own constructs, as an install would give it.
  fs.cpSync(path.dirname(require.resolve('constructs/package.json')), path.join(nm, 'constructs'), { recursive: true });
  fs.mkdirSync(path.join(nm, '@types'));
  link(path.join(root, 'node_modules/@types/node'), path.join(nm, '@types/node'));
  fs.cpSync(path.join(root, 'example/support-assistant/release-config'), path.join(app, 'release-config'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, dependencies: { 'cdk-ai-release': '*' } }));
  fs.writeFileSync(path.join(app, 'app.ts'), CONSUMER_APP);
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, types: ['node'], outDir: '.' },
      files: ['app.ts'],
    }),
  );
  return app;
}

function link(target: string, at: string) {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at, 'dir');
}

// Three services, one with the cost guard; everything from the app's own aws-cdk-lib.
const CONSUMER_APP = `
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AiRelease, ReleaseConfigSource } from 'cdk-ai-release';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
for (const [name, costGuard] of [['answers', true], ['summaries', false], ['triage', false]] as const) {
  const fn = new lambda.Function(stack, name, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  new AiRelease(stack, name + 'Release', {
    serviceName: name,
    function: fn,
    config: ReleaseConfigSource.fromDirectory('release-config'),
    ...(costGuard ? { costGuard: {} } : {}),
  });
}
app.synth();
const library = require.resolve('aws-cdk-lib', { paths: [require('fs').realpathSync(require.resolve('cdk-ai-release'))] });
console.log(JSON.stringify({ app: require('aws-cdk-lib/package.json').version, appCdk: require.resolve('aws-cdk-lib'), libraryCdk: library }));
`;

function synth(app: string, typeCheck: boolean) {
  if (typeCheck) {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
  } else {
    // TypeScript cannot assign one copy's classes to the other's (their private members differ), so a linked
    // install type-checks only when the app resolves the same aws-cdk-lib; what must hold here is synth itself.
    const ts = require('typescript') as typeof import('typescript');
    const js = ts.transpileModule(CONSUMER_APP, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
    fs.writeFileSync(path.join(app, 'app.js'), js.outputText);
  }
  const run = spawnSync(process.execPath, ['app.js'], {
    cwd: app,
    encoding: 'utf8',
    timeout: 60_000,
    // Any Docker bundling would fail on this, and esbuild is not installed in the app: neither is needed.
    env: { ...process.env, CDK_DOCKER: path.join(app, 'no-docker'), NODE_PATH: '' },
  });
  expect(run.stderr).not.toMatch(/Error|PathNotUnderRoot|pass a lambda\.Function/);
  expect(run.status).toBe(0);
  const versions = JSON.parse(run.stdout.trim().split('\n').pop()!);
  const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out/Consumer.template.json'), 'utf8'));
  return { versions, template, out: path.join(app, 'cdk.out') };
}

function checkSynth({ template, out }: ReturnType<typeof synth>) {
  const resources = Object.values(template.Resources as Record<string, { Type: string; Properties: any }>);
  // three services, each with its canary deployment group, manifest and config deployment
  expect(resources.filter((r) => r.Type === 'AWS::CodeDeploy::DeploymentGroup')).toHaveLength(3);
  for (const s of ['answers', 'summaries', 'triage']) {
    const manifest = JSON.parse(fs.readFileSync(path.join(out, `${s}.release-manifest.json`), 'utf8'));
    expect(manifest.components.code.hash).toMatch(/^[0-9a-f]{64}$/);
  }
  // the library's own functions: plain functions on the
  // pre-bundled assets shipped in the package, byte for byte
  // (CDK's own LogRetention provider, for service functions without a log group of their own, has no description)
  // (aws-cdk-lib's custom resource Provider framework, which relays the config deployer's requests, brings its own
  // functions from the app's aws-cdk-lib: counted apart)
  const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Code.S3Key !== undefined && r.Properties.Description);
  const framework = functions.filter((r) => String(r.Properties.Description).startsWith('AWS CDK resource provider framework'));
  expect(framework.map((r) => r.Properties.Handler).sort()).toEqual(['framework.isComplete', 'framework.onEvent', 'framework.onTimeout']);
  const library = functions.filter((r) => !framework.includes(r));
  const bundles = LIBRARY_HANDLERS.map((name) => fs.readFileSync(path.join(root, `dist/handlers/${name}/index.js`)));
  // the cost guard, and the platform's regression gate and canary judge (one each for up to 20 services in their
  // stack), config deployer, snapshot function, release reviewer, config gate check and canary judge tick; and the evaluator
  // (the example's release config, which these services use, has an evaluation section)
  expect(library).toHaveLength(9);
  for (const fn of library) {
    const assetDir = path.join(out, `asset.${(fn.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
    expect(fs.readdirSync(assetDir)).toEqual(['index.js']);
    const shipped = fs.readFileSync(path.join(assetDir, 'index.js'));
    expect(bundles.filter((b) => b.equals(shipped))).toHaveLength(1);
  }
}

test(`a separate app installs the tarball and synthesizes three services on aws-cdk-lib ${MIN}, without esbuild or Docker`, () => {
  const app = consumerApp('tarball');
  const library = path.join(app, 'node_modules/cdk-ai-release');
  expect(() => require.resolve('esbuild', { paths: [library] })).toThrow();
  const result = synth(app, true);
  expect(result.versions.app).toBe(MIN);
  // one copy: the library uses the app's aws-cdk-lib
  expect(result.versions.libraryCdk).toBe(result.versions.appCdk);
  checkSynth(result);
  // the installed command, compiled, on what this app synthesized
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(library, pkg.bin['cdk-ai-release']), ...args], { cwd: app, encoding: 'utf8', timeout: 30_000 });
  expect(cli('--version').stdout).toBe(`${pkg.version}\n`);
  const same = cli('diff', 'cdk.out/answers.release-manifest.json', 'cdk.out', '--service', 'answers', '--exit-code');
  expect(same.stdout).toContain('answers: nothing changed (same release)');
  expect(same.status).toBe(0);
  expect(cli('diff', 'cdk.out/answers.release-manifest.json', 'cdk.out').status).toBe(2);
}, 90_000);

test(`two copies of aws-cdk-lib (the library's dev ${DEV}, the app's ${MIN}) do not break synth`, () => {
  const app = consumerApp('linked');
  const result = synth(app, false);
  expect(result.versions.app).toBe(MIN);
  expect(fs.realpathSync(result.versions.libraryCdk)).not.toBe(fs.realpathSync(result.versions.appCdk));
  expect(require(path.join(path.dirname(result.versions.libraryCdk), 'package.json')).version).toBe(DEV);
  checkSynth(result);
}, 90_000);
