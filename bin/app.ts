#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ExampleStack } from './example-stack';

const app = new App();
new ExampleStack(app, 'AiReleaseExample', {
  description: 'cdk-ai-release example: a support assistant whose every release is versioned, canaried and reversible',
});
app.synth();
