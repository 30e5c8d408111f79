/**
 * What synth says about one release: the release policy's violations fail synth (every message at once), its waivers
 * and warnings and the worst case are printed, and the canary strategy card (`<service>.canary-card.md`) is written to
 * the cloud assembly. All evaluated at synth, from the alarms as synthesized. Attached to the AiRelease; builds no
 * resources.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, attachCustomSynthesis } from 'aws-cdk-lib';
import type { AiRelease } from '../ai-release';
import { renderCanaryCard } from './canary-card';
import { DEFAULT_POLICY_RULES, evaluatePolicy, type ReleasePolicyRule } from './release-policy';
import { formatSeconds } from './worst-case';

/** Policy violations fail synth; waivers, warnings and the worst case are announced once. */
export function attachPolicyCheck(release: AiRelease, budgetSeconds: number): void {
  const service = release.serviceName;
  let announced = false;
  release.node.addValidation({
    validate: () => {
      const policy = release.policy;
      if (!announced) {
        announced = true;
        for (const w of policy.waived)
          Annotations.of(release).addWarningV2(`cdk-ai-release:waived-${w.rule}`, `release policy "${w.rule}" waived for ${service}: ${w.reason}`);
        (policy.warnings ?? []).forEach((w, i) =>
          Annotations.of(release).addWarningV2(`cdk-ai-release:${w.rule}-${i}`, `release policy "${w.rule}" (service ${service}): ${w.message}`),
        );
        const wc = release.worstCase;
        Annotations.of(release).addInfo(
          `${service}: worst case from a first bad request to rollback start: code ${formatSeconds(wc.code.seconds)}, config ${formatSeconds(wc.config.seconds)} (budget ${formatSeconds(budgetSeconds)})`,
        );
      }
      return policy.violations.map((v) => `release policy "${v.rule}" (service ${service}): ${v.message}`);
    },
  });
}

/** Writes the strategy card to the cloud assembly at synth. */
export function attachCanaryCard(release: AiRelease, rules: readonly ReleasePolicyRule[] = DEFAULT_POLICY_RULES): void {
  attachCustomSynthesis(release, {
    onSynthesize: (session) => {
      const facts = release.facts;
      fs.writeFileSync(path.join(session.outdir, release.cardFileName), renderCanaryCard(facts, evaluatePolicy(facts, rules)));
    },
  });
}
