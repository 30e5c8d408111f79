import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * The handlers the library deploys itself, one folder each under `lambda/` with a `handler.ts` exporting `handler`.
 * The package build (`npm run build`, run by `prepack`) bundles every one listed here; adding a handler is adding
 * its folder name to this line.
 */
export const LIBRARY_HANDLERS = [
  'cost-guard',
  'config-deployer',
  'config-gate-check',
  'gate',
  'review',
  'snapshot',
  'canary-judge',
  'canary-judge-tick',
  'share-controller',
  'evaluator',
] as const;
export type LibraryHandler = (typeof LIBRARY_HANDLERS)[number];

/** The file each bundled handler is written to; the Lambda handler setting is `index.handler`. */
export const BUNDLED_HANDLER_FILE = 'index.js';

export interface LibraryFunctionProps {
  /** The folder under `lambda/` that holds the handler; must be listed in `LIBRARY_HANDLERS`. */
  readonly handler: LibraryHandler;
  readonly description: string;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default none */
  readonly environment?: { [key: string]: string };
  /** The function's own log group (a subscription filter needs one that exists). @default Lambda's `/aws/lambda/<name>` */
  readonly logGroup?: logs.ILogGroup;
  /** A literal function name (a shared function other stacks name without a reference). @default CloudFormation's */
  readonly functionName?: string;
}

/**
 * A function the library deploys itself (cost guard, and later snapshot, review, gate). Every such function is made
 * here, so how its code is packaged is decided in one place: a plain `lambda.Function` with `Code.fromAsset` on a
 * pre-bundled folder, so an app using the package needs neither esbuild nor Docker, and nothing here depends on the
 * app's copy of aws-cdk-lib being the library's (NodejsFunction bundling did, through the app's lock file and tree).
 */
export function libraryFunction(scope: Construct, id: string, props: LibraryFunctionProps): lambda.Function {
  return new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(libraryHandlerDir(scope, props.handler)),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: props.timeout ?? Duration.seconds(30),
    memorySize: props.memorySize ?? 256,
    description: props.description,
    environment: props.environment,
    ...(props.logGroup ? { logGroup: props.logGroup } : {}),
    ...(props.functionName ? { functionName: props.functionName } : {}),
  });
}

/**
 * Where a library handler's deployable code is.
 *
 * - Installed package (compiled JavaScript): `dist/handlers/<name>/`, bundled by the package build.
 * - This repository (TypeScript sources: tests, `npx cdk synth` on a fresh clone): bundled on demand with the local
 *   esbuild into `node_modules/.cache/cdk-ai-release/handlers/<name>/`, by the same function the package build uses,
 *   so both give the same bytes. When the stack skips bundling (`'aws:cdk:bundling-stacks': []`, as unit tests do),
 *   the source folder stands in, as NodejsFunction does.
 */
export function libraryHandlerDir(scope: Construct, name: LibraryHandler): string {
  if (!(LIBRARY_HANDLERS as readonly string[]).includes(name)) {
    throw new Error(`"${name}" is not a library handler; add it to LIBRARY_HANDLERS in lib/private/library-function.ts`);
  }
  if (!RUNNING_FROM_SOURCE) {
    // dist/lib/private/library-function.js -> dist/handlers/<name>
    const dir = path.join(__dirname, '..', '..', 'handlers', name);
    if (!fs.existsSync(path.join(dir, BUNDLED_HANDLER_FILE))) {
      throw new Error(
        `cdk-ai-release: the pre-bundled handler ${path.join(dir, BUNDLED_HANDLER_FILE)} is missing; this copy of the package was not built with "npm run build" (npm pack and npm publish run it)`,
      );
    }
    return dir;
  }
  const root = path.join(__dirname, '..', '..');
  if (!Stack.of(scope).bundlingRequired) return path.join(root, 'lambda', name);
  const cached = onDemand.get(name);
  if (cached) return cached;
  // Loaded only here: the installed package never bundles, and does not ship or need the build script or esbuild.
  const { bundleHandler } = require(path.join(root, 'scripts', 'bundle-handlers')) as { bundleHandler: BundleHandler };
  const dir = bundleHandler(root, name, path.join(root, 'node_modules', '.cache', 'cdk-ai-release', 'handlers', name));
  onDemand.set(name, dir);
  return dir;
}

type BundleHandler = (root: string, name: string, outdir: string) => string;

/** TypeScript sources (this repository) rather than the compiled package. */
const RUNNING_FROM_SOURCE = path.extname(__filename) === '.ts';
const onDemand = new Map<string, string>();
