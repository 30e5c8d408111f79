/**
 * Bundles the handlers the library deploys itself (LIBRARY_HANDLERS in lib/private/library-function.ts), each into
 * one self-contained `index.js`. Used by the package build (scripts/build.ts) and, when running from the TypeScript
 * sources, by `libraryFunction` on demand, so the package and the repository deploy the same bytes.
 *
 * The AWS SDK is bundled, not left to the one the Lambda runtime provides: that one changes under a function whose
 * code has not (AWS Lambda Operator Guide, "Managing AWS SDKs in Lambda functions"), and the asset hash should name
 * the code that runs. These functions run on alarms, not on requests, so the larger cold start does not matter.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as esbuildTypes from 'esbuild';

const FILE = 'index.js';

/**
 * Handlers bundled from their dependencies' ES modules (`module` before `main`), so esbuild drops what they do not
 * use: the AT_DEPLOYMENT_TICK function answers AppConfig within a few seconds from a cold start, and the S3 client's
 * ES build without its unused commands loads about a third faster (bench/cold-start.ts ticks). The others keep the
 * CommonJS builds they were measured with.
 */
const ESM_FIRST: ReadonlySet<string> = new Set(['canary-judge-tick']);

/** Bundles lambda/<name>/handler.ts into <outdir>/index.js and returns outdir. */
export function bundleHandler(root: string, name: string, outdir: string): string {
  const entry = path.join(root, 'lambda', name, 'handler.ts');
  if (!fs.existsSync(entry)) throw new Error(`library handler "${name}" has no ${path.relative(root, entry)}`);
  let esbuild: typeof esbuildTypes;
  try {
    esbuild = require('esbuild');
  } catch {
    throw new Error(`bundling the library handler "${name}" from source needs esbuild (a devDependency): run npm ci`);
  }
  const result = esbuild.buildSync({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    ...(ESM_FIRST.has(name) ? { mainFields: ['module', 'main'] } : {}),
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  fs.mkdirSync(outdir, { recursive: true });
  const file = path.join(outdir, FILE);
  // Written beside and renamed, so parallel test workers never see half a file; unchanged bytes are left alone.
  if (!fs.existsSync(file) || !fs.readFileSync(file).equals(code)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  }
  return outdir;
}

/** Bundles every library handler into <outdir>/<name>/index.js. */
export function bundleAll(root: string, outdir: string): string[] {
  const { LIBRARY_HANDLERS } = require(path.join(root, 'lib', 'private', 'library-function')) as { LIBRARY_HANDLERS: readonly string[] };
  return LIBRARY_HANDLERS.map((name) => bundleHandler(root, name, path.join(outdir, name)));
}
