import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

export interface LibraryFunctionProps {
  /** The folder under `lambda/` that holds the handler (`handler.ts`, exporting `handler`). */
  readonly handler: string;
  readonly description: string;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default none */
  readonly environment?: { [key: string]: string };
}

/**
 * A function the library deploys itself (cost guard, and later snapshot, review, gate). Every such function is made
 * here, so how its code is packaged is decided in one place.
 */
export function libraryFunction(scope: Construct, id: string, props: LibraryFunctionProps): lambda.Function {
  return new nodejs.NodejsFunction(scope, id, {
    // TypeScript source in this repository, compiled JavaScript in the published package.
    entry: ['handler.ts', 'handler.js'].map((f) => path.join(__dirname, '../../lambda', props.handler, f)).find((f) => fs.existsSync(f))!,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: props.timeout ?? Duration.seconds(30),
    memorySize: props.memorySize ?? 256,
    description: props.description,
    environment: props.environment,
    bundling: { minify: true, target: 'node24', externalModules: ['@aws-sdk/*'] },
  });
}
