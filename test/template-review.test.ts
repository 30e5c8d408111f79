/**
 * Defects found by the template review (docs/template-review.md), each pinned by a test that failed before its fix.
 */
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiRelease, AiReleasePlatform, ReleaseConfigSource } from '../lib';
import { inlineFunction, testApp, validConfig } from './helpers';

/** The AppConfig application name the template asks for (a literal, or a token when it is a stack name). */
function applicationName(t: Template): unknown {
  const apps = Object.values(t.findResources('AWS::AppConfig::Application'));
  expect(apps).toHaveLength(1);
  return (apps[0] as any).Properties.Name;
}

function service(stack: Stack) {
  new AiRelease(stack, 'Release', {
    serviceName: 'alpha',
    function: inlineFunction(stack, 'Fn'),
    config: ReleaseConfigSource.fromObject(validConfig()),
  });
  return Template.fromStack(stack);
}

describe('AppConfig application name: 1 to 64 characters (AppConfig API reference, CreateApplication: Name)', () => {
  test('in a nested stack it is a literal of at most 64 characters, not AWS::StackName (parent-logicalId-GUID, longer than 64)', () => {
    const parent = new Stack(testApp(), 'Parent');
    const name = applicationName(service(new NestedStack(parent, 'Services')));
    expect(typeof name).toBe('string');
    expect((name as string).length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/Services/);
  });

  test('a top-level stack name longer than 64 characters is shortened, uniquely', () => {
    const long = `Team-${'x'.repeat(70)}`;
    const a = applicationName(service(new Stack(testApp(), 'A', { stackName: `${long}-a` }))) as string;
    const b = applicationName(service(new Stack(testApp(), 'B', { stackName: `${long}-b` }))) as string;
    expect(a.length).toBeLessThanOrEqual(64);
    expect(b.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
  });

  test('a stack name of 64 characters or fewer is kept as it was (no replacement of existing applications)', () => {
    expect(applicationName(service(new Stack(testApp(), 'AiReleaseExample')))).toBe('AiReleaseExample');
  });

  test('an explicit applicationName over 64 characters is refused at synth, naming the prop and the limit', () => {
    const stack = new Stack(testApp(), 'S');
    expect(() => new AiReleasePlatform(stack, 'P', { applicationName: 'a'.repeat(65) })).toThrow(/applicationName .*65 characters.*at most 64/);
  });
});
