/**
 * The release policy's `records-survive-log-level` rule (h8-loglevel, issue 17 B): at synth, from the service function
 * as synthesized (its LoggingConfig and environment), a warning naming the setting and the fix wherever the runtime's
 * evaluation samples, failure records or metrics could still be dropped (test/runtime-log-levels.test.ts shows each
 * case at run time); silence where they arrive in every configuration.
 */
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AiRelease, DEFAULT_POLICY_RULES, RULE_RECORDS_SURVIVE_LOG_LEVEL, ReleaseConfigSource, recordDropRisks, renderCanaryCard } from '../lib';
import { testApp, validConfig } from './helpers';

function release(fnProps: Partial<lambda.FunctionProps>, after?: (fn: lambda.Function) => void) {
  const stack = new Stack(testApp(), 'Rel');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    ...fnProps,
  });
  const r = new AiRelease(stack, 'Assistant', { serviceName: 'assistant', function: fn, config: ReleaseConfigSource.fromObject(validConfig()) });
  after?.(fn);
  const template = Template.fromStack(stack); // synth: validations (the policy) run
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('records-survive-log-level'));
  return { stack, fn, r, template, warnings: warnings.map((w) => String(w.entry.data)) };
}

const JSON_AT = (level: lambda.ApplicationLogLevel) => ({ loggingFormat: lambda.LoggingFormat.JSON, applicationLogLevelV2: level });

describe('records-survive-log-level at synth', () => {
  test('is a default rule, a warning', () => {
    expect(DEFAULT_POLICY_RULES).toContain(RULE_RECORDS_SURVIVE_LOG_LEVEL);
    expect(RULE_RECORDS_SURVIVE_LOG_LEVEL.severity).toBe('warning');
  });

  test('ApplicationLogLevel FATAL: the template says so, and synth warns naming the setting and the fix', () => {
    const { template, warnings, r } = release(JSON_AT(lambda.ApplicationLogLevel.FATAL));
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { ApplicationLogLevel: 'FATAL', LogFormat: 'JSON' } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('release policy "records-survive-log-level" (service assistant)');
    expect(warnings[0]).toContain('LoggingConfig ApplicationLogLevel is FATAL');
    expect(warnings[0]).toContain('as CRITICAL, which is not one of');
    expect(warnings[0]).toContain('Fix: set the application log level to ERROR or lower (lambda.Function applicationLogLevelV2: ApplicationLogLevel.ERROR)');
    // The card shows every finding synth prints.
    expect(renderCanaryCard(r.facts, r.policy)).toContain('LoggingConfig ApplicationLogLevel is FATAL');
  });

  test.each([lambda.ApplicationLogLevel.WARN, lambda.ApplicationLogLevel.ERROR, lambda.ApplicationLogLevel.INFO, lambda.ApplicationLogLevel.DEBUG])(
    'ApplicationLogLevel %s: the records arrive in every configuration, no warning',
    (level) => {
      const { template, warnings } = release(JSON_AT(level));
      template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { ApplicationLogLevel: level } });
      expect(warnings).toEqual([]);
    },
  );

  test.each(['WARN', 'ERROR', 'CRITICAL'])('POWERTOOLS_LOG_LEVEL=%s: no warning (the runtime writes the records beside the Logger level)', (level) => {
    expect(release({ environment: { POWERTOOLS_LOG_LEVEL: level } }).warnings).toEqual([]);
  });

  test('POWERTOOLS_LOG_LEVEL=SILENT, also set after the AiRelease (read as synthesized): warns; LOG_LEVEL too', () => {
    const late = release({}, (fn) => fn.addEnvironment('POWERTOOLS_LOG_LEVEL', 'SILENT'));
    late.template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'SILENT' }) } });
    expect(late.warnings).toHaveLength(1);
    expect(late.warnings[0]).toContain('POWERTOOLS_LOG_LEVEL is SILENT');
    expect(late.warnings[0]).toContain('Fix: set POWERTOOLS_LOG_LEVEL to CRITICAL or lower');
    expect(release({ environment: { LOG_LEVEL: 'SILENT' } }).warnings[0]).toContain('Fix: set LOG_LEVEL to CRITICAL or lower');
    // With ALC, Powertools takes ALC's level and ignores the variable: nothing to warn about at ERROR.
    expect(release({ ...JSON_AT(lambda.ApplicationLogLevel.ERROR), environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } }).warnings).toEqual([]);
  });

  test('POWERTOOLS_DEV with the JSON log format warns; in the text format it is not this rule', () => {
    const dev = release({ loggingFormat: lambda.LoggingFormat.JSON, environment: { POWERTOOLS_DEV: 'true' } });
    expect(dev.warnings).toHaveLength(1);
    expect(dev.warnings[0]).toContain("the subscription filters' `$.type` no longer matches");
    expect(dev.warnings[0]).toContain('Fix: remove POWERTOOLS_DEV');
    expect(release({ environment: { POWERTOOLS_DEV: 'true' } }).warnings).toEqual([]);
    expect(release({ loggingFormat: lambda.LoggingFormat.JSON, environment: { POWERTOOLS_DEV: 'false' } }).warnings).toEqual([]);
  });

  test('an escape-hatch LoggingConfig (L1 edit) is read as synthesized', () => {
    const { warnings } = release({}, (fn) => {
      (fn.node.defaultChild as lambda.CfnFunction).loggingConfig = { logFormat: 'JSON', applicationLogLevel: 'FATAL' };
    });
    expect(warnings).toHaveLength(1);
  });

  test('the function as given by default (no logging settings): no warning', () => {
    expect(release({}).warnings).toEqual([]);
  });
});

describe('recordDropRisks (table)', () => {
  test.each<[string, Parameters<typeof recordDropRisks>[0], number]>([
    ['nothing set', { env: {} }, 0],
    ['ALC fatal, any case', { applicationLogLevel: 'fatal', logFormat: 'JSON', env: {} }, 1],
    ['ALC FATAL and POWERTOOLS_DEV in JSON: both', { applicationLogLevel: 'FATAL', logFormat: 'JSON', env: { POWERTOOLS_DEV: '1' } }, 2],
    ['POWERTOOLS_LOG_LEVEL silent in lower case (Powertools ignores it: INFO)', { env: { POWERTOOLS_LOG_LEVEL: 'silent' } }, 0],
    ['POWERTOOLS_LOG_LEVEL INFO with LOG_LEVEL SILENT (POWERTOOLS_LOG_LEVEL wins)', { env: { POWERTOOLS_LOG_LEVEL: 'INFO', LOG_LEVEL: 'SILENT' } }, 0],
  ])('%s', (_n, settings, n) => {
    expect(recordDropRisks(settings)).toHaveLength(n);
  });
});
