import { App } from 'aws-cdk-lib';
import { ExampleStack } from './bin/example-stack';
const app = new App({ outdir: '/tmp/exout', context: { 'aws:cdk:bundling-stacks': [] } });
new ExampleStack(app, 'Example');
app.synth();
