/**
 * AppConfig's quota of environments per application, checked at synth: each service has 3 environments in its
 * platform's one application (live release, degrade, candidate), and AppConfig allows 20 per application ("Environments:
 * 20 max per application", AppConfig API reference, ServiceQuotaExceededException).
 */
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AiReleasePlatform, AiServiceConfig, APPCONFIG_ENVIRONMENTS_PER_APPLICATION, ReleaseConfigSource } from '../lib';
import { testApp, validConfig } from './helpers';

function services(stack: Stack, n: number, prefix = 'svc') {
  for (let i = 0; i < n; i++) {
    new AiServiceConfig(stack, `Service${i}`, { serviceName: `${prefix}-${i}`, source: ReleaseConfigSource.fromObject(validConfig()) });
  }
}

describe('AppConfig environments per application (synth-time quota check)', () => {
  test('the default quota is AppConfig’s 20; each service has 3 environments, so 6 services fit', () => {
    expect(APPCONFIG_ENVIRONMENTS_PER_APPLICATION).toBe(20);
    const app = testApp();
    const stack = new Stack(app, 'Six');
    services(stack, 6);
    expect(() => app.synth()).not.toThrow();
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::AppConfig::Environment'))).toHaveLength(18);
  });

  test('a seventh service fails synth, naming the count, the quota and the fix', () => {
    const app = testApp();
    const stack = new Stack(app, 'Seven');
    services(stack, 7);
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("21 AppConfig environments in this platform's application exceed AppConfig's quota of 20 environments per application");
    expect(message).toContain('ServiceQuotaExceededException');
    expect(message).toContain('7 services (Seven/Service0, Seven/Service1');
    expect(message).toContain('one platform holds at most 6');
    expect(message).toContain('Set applicationPerService on the AiReleasePlatform');
    expect(message).toContain('appConfigEnvironmentQuota');
  });

  test('appConfigEnvironmentQuota: a raised quota admits more services, a lower one fewer', () => {
    const raised = testApp();
    const big = new Stack(raised, 'Raised');
    new AiReleasePlatform(big, 'Platform', { appConfigEnvironmentQuota: 30 });
    services(big, 10);
    expect(() => raised.synth()).not.toThrow();

    const lowered = testApp();
    const small = new Stack(lowered, 'Lowered');
    new AiReleasePlatform(small, 'Platform', { appConfigEnvironmentQuota: 10 });
    services(small, 4);
    expect(() => lowered.synth()).toThrow(/12 AppConfig environments .* quota of 10 .* at most 3/);
  });

  test('services in a nested stack have their own platform and application: they do not count against the parent’s', () => {
    const app = testApp();
    const stack = new Stack(app, 'Parent');
    services(stack, 6, 'parent');
    const nested = new NestedStack(stack, 'More');
    services(nested, 6, 'nested');
    expect(AiReleasePlatform.of(nested)).not.toBe(AiReleasePlatform.of(stack));
    expect(() => app.synth()).not.toThrow();
  });

  test('a quota that is not a positive whole number is refused, naming the prop', () => {
    const stack = new Stack(testApp(), 'Bad');
    expect(() => new AiReleasePlatform(stack, 'Platform', { appConfigEnvironmentQuota: 0 })).toThrow(
      "appConfigEnvironmentQuota 0 is not a positive whole number; set it to the account's AppConfig quota",
    );
  });
});
