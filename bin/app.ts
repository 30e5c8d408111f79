#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ReleaseConfigError } from '../lib';
import { ExampleStack } from './example-stack';

const app = new App();
try {
  new ExampleStack(app, 'AiReleaseExample', {
    description: 'cdk-ai-release example: a support assistant whose every release is versioned, canaried and reversible',
    // -c configDir=<dir> synthesizes the example with another release config (e.g. to see how a bad one is reported).
    configDir: app.node.tryGetContext('configDir'),
  });
  app.synth();
} catch (e) {
  // An invalid config is the user's input, not a bug: print the problems (every service's, listed by synth's
  // validation), not a stack trace or the problem objects, and fail with exit code 1.
  const name = (e as Error)?.name;
  if (e instanceof ReleaseConfigError || name === 'ValidationError' || /^Validation failed with the following errors/.test((e as Error)?.message ?? '')) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  throw e;
}
