import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type { Construct } from 'constructs';

/** CodeDeploy allows a Lambda deployment at most 48 hours of traffic shifting in all. */
const MAX_TOTAL_MINUTES = 48 * 60;

type Kind = 'canary' | 'linear' | 'all-at-once';

/**
 * How a new code version takes traffic on the `live` alias. Typed, validated at synth, and rendered either as a
 * predefined CodeDeploy config or as an `AWS::CodeDeploy::DeploymentConfig`.
 */
export class TrafficShift {
  /** 10 % for 5 minutes, then the rest. */
  public static readonly CANARY_10_PERCENT_5_MINUTES = TrafficShift.predefined('canary', 10, 5, codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES);
  public static readonly CANARY_10_PERCENT_10_MINUTES = TrafficShift.predefined('canary', 10, 10, codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES);
  public static readonly CANARY_10_PERCENT_15_MINUTES = TrafficShift.predefined('canary', 10, 15, codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES);
  public static readonly CANARY_10_PERCENT_30_MINUTES = TrafficShift.predefined('canary', 10, 30, codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES);
  public static readonly LINEAR_10_PERCENT_EVERY_1_MINUTE = TrafficShift.predefined(
    'linear',
    10,
    1,
    codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  );
  public static readonly LINEAR_10_PERCENT_EVERY_2_MINUTES = TrafficShift.predefined(
    'linear',
    10,
    2,
    codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  );
  public static readonly LINEAR_10_PERCENT_EVERY_3_MINUTES = TrafficShift.predefined(
    'linear',
    10,
    3,
    codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  );
  public static readonly LINEAR_10_PERCENT_EVERY_10_MINUTES = TrafficShift.predefined(
    'linear',
    10,
    10,
    codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
  );
  /** Everything at once: no canary. The release policy refuses it unless waived. */
  public static readonly ALL_AT_ONCE = TrafficShift.predefined('all-at-once', 100, 0, codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE);

  /** `percent` of traffic for `interval`, then the rest. */
  public static canary(percent: number, interval: Duration): TrafficShift {
    return new TrafficShift('canary', percent, minutes(interval, 'interval'));
  }

  /** `percent` more traffic every `interval` until 100 %. */
  public static linear(percent: number, interval: Duration): TrafficShift {
    return new TrafficShift('linear', percent, minutes(interval, 'interval'));
  }

  public readonly kind: Kind;
  /** Percent of traffic on the new version in the first step. */
  public readonly firstStepPercent: number;
  public readonly intervalMinutes: number;
  private readonly config?: codedeploy.ILambdaDeploymentConfig;

  private constructor(kind: Kind, percent: number, intervalMinutes: number, config?: codedeploy.ILambdaDeploymentConfig) {
    if (kind !== 'all-at-once') {
      if (!Number.isInteger(percent) || percent < 1 || percent > 99) {
        throw new Error(`TrafficShift.${kind} percent must be a whole number from 1 to 99, got ${percent}; e.g. TrafficShift.${kind}(10, Duration.minutes(5))`);
      }
      if (intervalMinutes < 1) throw new Error(`TrafficShift.${kind} interval must be at least 1 minute, got ${intervalMinutes}`);
    }
    this.kind = kind;
    this.firstStepPercent = percent;
    this.intervalMinutes = intervalMinutes;
    this.config = config;
    if (this.totalMinutes > MAX_TOTAL_MINUTES) {
      throw new Error(
        `TrafficShift.${kind}(${percent}, ${intervalMinutes} min) takes ${this.totalMinutes} minutes in all, over CodeDeploy's 48 hours; use a larger percent or a shorter interval`,
      );
    }
  }

  private static predefined(kind: Kind, percent: number, intervalMinutes: number, config: codedeploy.ILambdaDeploymentConfig) {
    return new TrafficShift(kind, percent, intervalMinutes, config);
  }

  /** The traffic steps: [minute, percent on the new version]. */
  public get steps(): [number, number][] {
    if (this.kind === 'all-at-once') return [[0, 100]];
    if (this.kind === 'canary')
      return [
        [0, this.firstStepPercent],
        [this.intervalMinutes, 100],
      ];
    const steps: [number, number][] = [];
    for (let i = 0, p = this.firstStepPercent; ; i++, p += this.firstStepPercent) {
      steps.push([i * this.intervalMinutes, Math.min(p, 100)]);
      if (p >= 100) break;
    }
    return steps;
  }

  /** Minutes from the first shift to 100 %. */
  public get totalMinutes(): number {
    const s = this.steps;
    return s[s.length - 1][0];
  }

  /** `canary 10 % for 5 min, then 100 %`. */
  public describe(): string {
    if (this.kind === 'all-at-once') return 'all at once (no canary)';
    if (this.kind === 'canary') return `canary ${this.firstStepPercent} % for ${this.intervalMinutes} min, then 100 %`;
    return `linear +${this.firstStepPercent} % every ${this.intervalMinutes} min (100 % after ${this.totalMinutes} min)`;
  }

  /** The CodeDeploy deployment config: predefined, or a custom one created once per stack scope. */
  public bind(scope: Construct): codedeploy.ILambdaDeploymentConfig {
    if (this.config) return this.config;
    const id = `DeploymentConfig-${this.kind}-${this.firstStepPercent}pct-${this.intervalMinutes}min`;
    const existing = scope.node.tryFindChild(id) as codedeploy.LambdaDeploymentConfig | undefined;
    if (existing) return existing;
    const interval = Duration.minutes(this.intervalMinutes);
    return new codedeploy.LambdaDeploymentConfig(scope, id, {
      trafficRouting:
        this.kind === 'canary'
          ? new codedeploy.TimeBasedCanaryTrafficRouting({ percentage: this.firstStepPercent, interval })
          : new codedeploy.TimeBasedLinearTrafficRouting({ percentage: this.firstStepPercent, interval }),
    });
  }
}

function minutes(d: Duration, name: string): number {
  const s = d.toSeconds({ integral: false });
  if (s % 60 !== 0) throw new Error(`TrafficShift ${name} must be whole minutes (CodeDeploy's unit), got ${d.toHumanString()}; use Duration.minutes(n)`);
  return s / 60;
}
