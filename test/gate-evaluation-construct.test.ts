/**
 * The regression gate's evaluator in the template (issue 17 E): its settings reach the function, and its role may
 * call the evaluator model only — the inference profile in the function's Region and the foundation model it routes
 * to (Converse is authorized as bedrock:InvokeModel: "Prerequisites for running model inference" and "Prerequisites
 * for inference profiles", Amazon Bedrock User Guide) — read only the LIVE environment's config, and never invoke the
 * callers' alias. IAM is simulated over the synthesized policies.
 */
import { ReleaseConfigSource } from '../lib';
import type { Stack } from 'aws-cdk-lib';
import type { AiRelease } from '../lib';
import { testRelease, validConfig } from './helpers';
import { functionRole, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';
import type { AiReleaseProps } from '../lib';

const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const evaluationSection = {
  evaluatorModel: { modelId: PROFILE, pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
  rubrics: [{ criterion: 'groundedness', instructions: 'Every claim is supported by the retrieved passages.' }],
  samplingRate: 0.05,
  budget: { perReleaseUsd: 20, perDayUsd: 50 },
};

/** The service's release manifest as deployed (resolved): where the shared gate reads its settings. */
function gateDocument(json: any, stack: Stack, r: AiRelease): any {
  const p = json.Resources[stack.getLogicalId(r.manifest.parameter.node.defaultChild as never)];
  return JSON.parse(String(resolveTemplate(json, 'Rel').resolve(p.Properties.Value)));
}

const release = (props: Partial<AiReleaseProps> = {}, evaluation: unknown = evaluationSection) =>
  testRelease(
    { config: ReleaseConfigSource.fromObject({ ...validConfig(), ...(evaluation ? { evaluation } : {}) }), ...props },
    { env: { account: '111122223333', region: 'us-west-2' } },
  );

describe('the gate with an evaluator', () => {
  test('defaults: 3 replays, majority, 10 USD a run, pairwise off', () => {
    const { r } = release();
    expect(r.regressionGate!.evaluationSettings).toEqual({ k: 3, pass: 'majority', maxUsd: 10 });
  });

  test('settings as written, with pairwise defaults filled in', () => {
    const { r, stack, template } = release({ regressionGate: { evaluation: { replays: 5, pass: { atLeast: 4 }, maxUsd: 2, pairwise: true } } });
    expect(r.regressionGate!.evaluationSettings).toEqual({ k: 5, pass: { atLeast: 4 }, maxUsd: 2, pairwise: { maxLossRate: 0.6, alpha: 0.01 } });
    // The shared gate reads them from the service's release manifest parameter: the gate block, and the live
    // environment among the locators.
    const json = template().toJSON();
    const doc = gateDocument(json, stack, r);
    const { modelId, ...settings } = doc.gate.evaluation;
    expect(settings).toEqual(r.regressionGate!.evaluationSettings);
    expect(modelId).toBe(PROFILE);
    expect(doc.locators.appConfig.environment).toBe(resolveTemplate(json, 'Rel').resolve({ Ref: stack.getLogicalId(r.config.environment) }));
  });

  test.each([
    [{ replays: 0 }, /regressionGate.evaluation.replays must be a whole number of replays from 1 to 10, got 0/],
    [{ replays: 3, pass: { atLeast: 5 } }, /regressionGate.evaluation.pass.atLeast must be a whole number from 1 to k \(3\)/],
    [{ maxUsd: -1 }, /regressionGate.evaluation.maxUsd must be a positive number of USD/],
    [{ pairwise: { maxLossRate: 1.2 } }, /regressionGate.evaluation.pairwise.maxLossRate must be in \[0.5, 1\)/],
  ])('refuses %j, naming the field', (evaluation, message) => {
    expect(() => release({ regressionGate: { evaluation: evaluation as never } })).toThrow(message);
  });

  test('no evaluation section, or evaluation: false: no evaluator settings and no Bedrock grant', () => {
    for (const { r, stack, template } of [release({}, null), release({ regressionGate: { evaluation: false } })]) {
      expect(r.regressionGate!.evaluationSettings).toBeUndefined();
      const json = template().toJSON();
      expect(gateDocument(json, stack, r).gate.evaluation).toBeUndefined();
      const rt = resolveTemplate(json, 'Rel');
      const roleId = functionRole(rt, stack.getLogicalId(r.regressionGate!.function.node.defaultChild as never));
      const actions = roleIdentityPolicies(rt, roleId).flatMap((p) => p.policy.Statement.flatMap((st: any) => [st.Action].flat()));
      expect(actions.filter((a: string) => a.startsWith('bedrock:') || a.startsWith('appconfig:'))).toEqual([]);
    }
  });

  test('IAM: the evaluator model only (profile + its foundation model), the live config only, never the callers alias', async () => {
    const { r, stack, fn, template } = release({ regressionGate: { evaluation: { pairwise: true } } });
    const rt = resolveTemplate(template().toJSON(), 'Rel');
    const roleId = functionRole(rt, stack.getLogicalId(r.regressionGate!.function.node.defaultChild as never));
    const policies = roleIdentityPolicies(rt, roleId);
    const allowed = async (action: string, resource: string, context?: Record<string, string>) =>
      (await simulate({ principal: rt.arnOf(roleId), action, resource, identityPolicies: policies, ...(context ? { context } : {}) })).decision === 'Allowed';
    // The system-defined cross-Region profile in the function's Region, and the model it routes to in a destination
    // Region through that profile (Bedrock names it in the request's context) -- never the model called directly.
    const profileArn = `arn:aws:bedrock:us-west-2:111122223333:inference-profile/${PROFILE}`;
    expect(await allowed('bedrock:InvokeModel', profileArn)).toBe(true);
    const routed = 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0';
    expect(await allowed('bedrock:InvokeModel', routed, { 'bedrock:InferenceProfileArn': profileArn })).toBe(true);
    expect(await allowed('bedrock:InvokeModel', routed)).toBe(false);
    // Nothing else: another model, another profile, the service's own model.
    expect(await allowed('bedrock:InvokeModel', 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-20250514-v1:0')).toBe(false);
    expect(await allowed('bedrock:InvokeModel', 'arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.amazon.nova-pro-v1:0')).toBe(false);
    expect(await allowed('bedrock:InvokeModelWithResponseStream', `arn:aws:bedrock:us-west-2:111122223333:inference-profile/${PROFILE}`)).toBe(false);
    const app = rt.resolve({ Ref: stack.getLogicalId(r.config.application) });
    const live = rt.resolve({ Ref: stack.getLogicalId(r.config.environment) });
    const profile = rt.resolve({ Ref: stack.getLogicalId(r.config.profile) });
    const cfg = (env: string) => `arn:aws:appconfig:us-west-2:111122223333:application/${app}/environment/${env}/configuration/${profile}`;
    expect(await allowed('appconfig:StartConfigurationSession', cfg(live))).toBe(true);
    expect(await allowed('appconfig:GetLatestConfiguration', cfg(live))).toBe(true);
    // The candidate environment is never read by the gate: the candidate's own rubric must not judge it.
    const candidate = rt.resolve({ Ref: stack.getLogicalId(r.config.candidateEnvironment) });
    expect(await allowed('appconfig:GetLatestConfiguration', cfg(candidate))).toBe(false);
    // Pairwise replays the live config through a version number; the callers' alias stays denied.
    const fnArn = rt.arnOf(stack.getLogicalId(fn.node.defaultChild as never));
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:7`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:gate`)).toBe(true);
    expect(await allowed('lambda:InvokeFunction', `${fnArn}:live`)).toBe(false);
    expect(await allowed('lambda:InvokeFunction', fnArn)).toBe(false);
  });
});
