/**
 * The canary judge reads the evaluator's results in the example app (issue 17 E): its environment names the
 * evaluator's log group and the evaluation metrics judged, and its role may start Logs Insights queries on that log
 * group only (test/iam-sar.test.ts simulates the call against the Service Authorization Reference).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ExampleStack } from '../bin/example-stack';
import { judgedEvaluationMetrics } from '../lib/judge/canary-judge';
import { judgeEvaluationLine, renderCanaryCard } from '../lib/rollout/canary-card';
import { DEFAULT_POLICY_RULES, evaluatePolicy } from '../lib/rollout/release-policy';
import { JUDGE_ENV } from '../lambda/shared/contract';
import type { EvaluationConfig } from '../lambda/shared/evaluation';
import { judgeTargetOf, testApp } from './helpers';

describe('the canary judge judges the evaluator results of the example', () => {
  const stack = new ExampleStack(testApp(), 'Example');
  const template = Template.fromStack(stack);
  const judge = stack.release.canaryJudge!;
  const evaluator = stack.release.evaluator!;
  const judgeId = stack.getLogicalId(judge.function.node.defaultChild as never);
  const logsId = stack.getLogicalId(evaluator.logGroup.node.defaultChild as never);
  // The service's settings document: its schedule rule's input (the platform's one judge function has no service env).
  const rule = template.findResources('AWS::Events::Rule')[stack.getLogicalId(judge.schedule.node.defaultChild as never)] as any;
  const input = judgeTargetOf(rule, stack.release.serviceName).Input['Fn::Join'][1] as unknown[];

  test("the service's settings name the evaluator's log group and the metrics: the rubrics' criteria and paired", () => {
    expect(input.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: logsId }))).toBe(true);
    // tokens stand as their JSON between quotes
    const text = input.map((p) => (typeof p === 'string' ? p : `__${JSON.stringify(p).replace(/"/g, "'")}__`)).join('');
    const env = Object.fromEntries(
      Object.entries<string>(JSON.parse(text).settings).map(([k, v]) => [k, /^__.*__$/.test(v) ? JSON.parse(v.slice(2, -2).replace(/'/g, '"')) : v]),
    );
    expect(judgeId).toMatch(/^AiReleasePlatformCanaryJudge/);
    expect(env[JUDGE_ENV.EVALUATION_LOG_GROUP]).toEqual({ Ref: logsId });
    // The rubrics' criteria, the example's five deterministic checks (h8-detjudge), the guardrail's two scores
    // (guardrailScores, h11-eval17), and the paired outcomes.
    expect(env[JUDGE_ENV.EVALUATION_METRICS]).toBe(
      'groundedness,relevance,citation-validity,refusal-phrase,language-match,length,forbidden-pattern,guardrail-groundedness,guardrail-relevance,paired',
    );
    // How long a window of samples waits for its outstanding results (evaluationMaxWait, default 5 minutes).
    expect(env[JUDGE_ENV.EVALUATION_MAX_WAIT_SECONDS]).toBe('300');
    expect(judge.evaluationMetrics).toEqual([
      'evaluation:groundedness',
      'evaluation:relevance',
      'evaluation:citation-validity',
      'evaluation:refusal-phrase',
      'evaluation:language-match',
      'evaluation:length',
      'evaluation:forbidden-pattern',
      'evaluation:guardrail-groundedness',
      'evaluation:guardrail-relevance',
      'evaluation:paired',
    ]);
  });

  test("logs:StartQuery on the evaluator's log group (and its streams), beside the service's", () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
      JSON.stringify(p.Properties.Roles).includes(stack.getLogicalId(judge.function.role!.node.defaultChild as never)),
    ) as any[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    // One statement for every log group the judge queries (IAM's 10,240 characters per role): the service's and the
    // evaluator's, each in both ARN forms.
    const startQuery = statements.filter((s) => s.Action === 'logs:StartQuery');
    expect(startQuery).toHaveLength(1);
    const onEvaluator = (startQuery[0].Resource as unknown[]).filter((r) => JSON.stringify(r).includes(logsId));
    expect(onEvaluator).toHaveLength(2);
    expect(JSON.stringify(onEvaluator[1])).toMatch(/:\*"\]\]\}$/);
    expect(startQuery[0].Resource).toHaveLength(4);
  });

  test('judgeEvaluations is called once, and names a criterion it cannot use', () => {
    expect(() => judge.judgeEvaluations(evaluator.logGroup, { criteria: ['relevance'], paired: true })).toThrow(/call judgeEvaluations once/);
  });

  test('correctness is not judged live (live answers carry no reference); paired unless switched off', () => {
    const section = (rubrics: string[], paired?: boolean) =>
      ({ rubrics: rubrics.map((criterion) => ({ criterion, instructions: 'x' })), ...(paired === undefined ? {} : { paired }) }) as unknown as EvaluationConfig;
    // The checks every section runs by default (citation validity, refusal phrases, language match) are judged too.
    const defaults = ['citation-validity', 'refusal-phrase', 'language-match'];
    expect(judgedEvaluationMetrics(section(['groundedness', 'correctness']))).toEqual({ criteria: ['groundedness', ...defaults], paired: true });
    expect(judgedEvaluationMetrics(section(['safety'], false))).toEqual({ criteria: ['safety', ...defaults], paired: false });
    // Turned off, they are not; bounds and patterns add theirs; a refusal rubric and the refusal check are judged apart.
    const off = { ...section(['relevance']), deterministic: { citationValidity: false, languageMatch: false, maxChars: 10 } } as EvaluationConfig;
    expect(judgedEvaluationMetrics(off).criteria).toEqual(['relevance', 'refusal-phrase', 'length']);
    const refusalRubric = { ...section(['refusal']), deterministic: { forbiddenPatterns: ['x'] } } as EvaluationConfig;
    expect(judgedEvaluationMetrics(refusalRubric).criteria).toEqual(['refusal', 'citation-validity', 'refusal-phrase', 'language-match', 'forbidden-pattern']);
    expect(Stack.of(judge)).toBe(stack);
  });

  test('the card says which evaluation metrics the judge judges', () => {
    const facts = stack.release.facts;
    const card = renderCanaryCard(facts, evaluatePolicy(facts, DEFAULT_POLICY_RULES));
    expect(card).toContain(
      '**Evaluation metrics judged:** `evaluation:groundedness`, `evaluation:relevance`, `evaluation:citation-validity`, `evaluation:refusal-phrase`, `evaluation:language-match`, `evaluation:length`, `evaluation:forbidden-pattern`, `evaluation:guardrail-groundedness`, `evaluation:guardrail-relevance`, `evaluation:paired`',
    );
    expect(judgeEvaluationLine([])).toMatch(/none \(no `evaluation` section/);
    // The example's model.guardrail: its scores are judged (evaluation.guardrailScores on since h11-eval17: good
    // releases 0 of 1,000 rolled back per row, bench/guardrail-judge.ts).
    expect(facts.guardrail?.scores).toBe('judged');
    expect(card).toMatch(/\*\*Guardrail:\*\* `[a-z0-9]+` version \d+; its contextual grounding scores are \*\*judged\*\* by the canary judge/);
  });
});
