/**
 * One judge function serves up to SERVICES_PER_JUDGE_FUNCTION services (issue 15 E, h7-shared): IAM allows 10,240
 * characters of inline policies per role in total, and each service adds its log group (and its own AppConfig
 * application) to its judge's role. Measured on synthesized templates with realistic name lengths
 * (bench/judge-policy-size.ts, which runs the 50-service case: 5 functions, largest role 7,667 characters nested,
 * 5,033 flat).
 */
import { judgeRolePolicyChars, ROLE_POLICY_LIMIT } from '../bench/judge-policy-size';
import { SERVICES_PER_JUDGE_FUNCTION } from '../lib/judge/canary-judge';

describe('the judge functions of a platform with many services', () => {
  test('25 services in nested stacks (each grant in its own stack): 3 judge functions, every role under IAM 10,240 characters', () => {
    const { chars, policies, roles } = judgeRolePolicyChars(25, 'nested');
    expect(roles).toBe(Math.ceil(25 / SERVICES_PER_JUDGE_FUNCTION));
    // a full function: its own policy and one per service in another stack
    expect(policies).toBe(SERVICES_PER_JUDGE_FUNCTION + 1);
    expect(chars).toBeLessThan(ROLE_POLICY_LIMIT);
    expect(chars).toBeGreaterThan(ROLE_POLICY_LIMIT / 2); // the grants are counted (not an empty policy)
  }, 120_000);
});
