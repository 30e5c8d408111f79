import {
  GuardrailContentFilterType,
  GuardrailContextualGroundingAction,
  GuardrailContextualGroundingFilterType,
  GuardrailFilterStrength,
  GuardrailPiiEntityType,
  GuardrailSensitiveInformationAction,
} from '@aws-sdk/client-bedrock';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import guardrail from '../example/support-assistant/guardrail.json';

/**
 * The example's guardrail definition (a CreateGuardrail request for `aws bedrock create-guardrail --cli-input-json`):
 * the release config names a guardrail by id and numbered version, so the guardrail itself is created outside the
 * stack; this file is what the example expects it to be. Checked against the SDK's own enums (a typo in a type or
 * an action fails here, not at create time) and against the limits of the CreateGuardrail API reference.
 */
const values = (e: Record<string, string>) => Object.values(e);

test('it has the contextual grounding policy the evaluator needs: GROUNDING and RELEVANCE, enabled, scored without blocking', () => {
  const filters = guardrail.contextualGroundingPolicyConfig.filtersConfig;
  expect(filters.map((f) => f.type).sort()).toEqual(['GROUNDING', 'RELEVANCE']);
  for (const f of filters) {
    expect(values(GuardrailContextualGroundingFilterType)).toContain(f.type);
    expect(values(GuardrailContextualGroundingAction)).toContain(f.action);
    // NONE: the trace carries the score and the answer is served, so the sample carries it to the evaluator (BLOCK
    // would replace a low-scoring answer by the blocked message: a safety failure, never a scored sample).
    expect(f.action).toBe('NONE');
    expect(f.enabled).toBe(true);
    // GuardrailContextualGroundingFilterConfig.threshold: at least 0 (API reference); below 1, or every answer is flagged.
    expect(f.threshold).toBeGreaterThanOrEqual(0);
    expect(f.threshold).toBeLessThan(1);
  }
});

test('the rest is a valid CreateGuardrail request: enums of the SDK, name and description within the API limits, both blocked messages', () => {
  // Name 1..50 of [0-9a-zA-Z_-], description up to 200 characters: the CreateGuardrail limits as we remember the API
  // reference (the search index here shows the fields, not the limits): a stricter check than needed is harmless.
  expect(guardrail.name).toMatch(/^[0-9a-zA-Z_-]{1,50}$/);
  expect(guardrail.description.length).toBeLessThanOrEqual(200);
  for (const f of guardrail.contentPolicyConfig.filtersConfig) {
    expect(values(GuardrailContentFilterType)).toContain(f.type);
    expect(values(GuardrailFilterStrength)).toContain(f.inputStrength);
    expect(values(GuardrailFilterStrength)).toContain(f.outputStrength);
  }
  // Prompt attacks are assessed on input only: the API takes output strength NONE for them.
  expect(guardrail.contentPolicyConfig.filtersConfig.find((f) => f.type === 'PROMPT_ATTACK')?.outputStrength).toBe('NONE');
  for (const e of guardrail.sensitiveInformationPolicyConfig.piiEntitiesConfig) {
    expect(values(GuardrailPiiEntityType)).toContain(e.type);
    expect(values(GuardrailSensitiveInformationAction)).toContain(e.action);
  }
  for (const m of [guardrail.blockedInputMessaging, guardrail.blockedOutputsMessaging]) expect(m.length).toBeGreaterThan(0);
});

test('the release config names a guardrail with a numbered version (the one to replace by the created guardrail)', () => {
  const model = parse(fs.readFileSync(path.join(__dirname, '../example/support-assistant/release-config/model.yaml'), 'utf8'));
  expect(model.guardrail).toEqual({ id: expect.stringMatching(/^[a-z0-9]+$/), version: expect.stringMatching(/^[1-9][0-9]*$/) });
});
