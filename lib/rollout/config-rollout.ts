import { Duration } from 'aws-cdk-lib';

/** How an AppConfig deployment of a config grows its share of clients. */
export enum ConfigGrowthType {
  LINEAR = 'LINEAR',
  EXPONENTIAL = 'EXPONENTIAL',
}

export interface ConfigRolloutOptions {
  /**
   * Percent of clients added per step (LINEAR), or the first step's percent, doubled each step (EXPONENTIAL).
   * 1–100.
   */
  readonly stepPercent: number;
  /** Time from the first step to 100 %. Whole minutes, 0–24 h. */
  readonly deploymentDuration: Duration;
  /** Time AppConfig keeps watching the monitors at 100 % before the deployment completes. Whole minutes, 0–24 h. */
  readonly finalBake: Duration;
}

/**
 * How a config change reaches clients: the AppConfig deployment strategy. Alarms attached as monitors roll the
 * deployment back at any point up to the end of the final bake.
 *
 * `ConfigRollout.DEFAULT` is a canary: 10 % of clients, then 20, 40, 80, 100 % over 3 minutes (a step every 36 s),
 * then 2 minutes of bake. With 10-second alarms that trip in well under a minute, a bad config is rolled back
 * while at most 10–20 % of clients have it.
 */
export class ConfigRollout {
  /** Canary 10 %, doubling every 36 s to 100 % in 3 minutes, 2 minutes of bake. */
  public static readonly DEFAULT = ConfigRollout.exponential({ stepPercent: 10, deploymentDuration: Duration.minutes(3), finalBake: Duration.minutes(2) });
  /**
   * The shape of AppConfig's predefined AppConfig.Canary10Percent20Minutes ("processes the deployment exponentially
   * using a 10% growth factor over 20 minutes. The system monitors for CloudWatch alarms for 10 minutes", AppConfig User
   * Guide, "Using predefined deployment strategies"): 10→20→40→80→100 % over 20 minutes, 10 minutes of bake, as a
   * strategy of the platform (the release's monitors and budget checks see its steps). 30 minutes: longer than one
   * Lambda invocation, inside the config plane's budget.
   */
  public static readonly CANARY_10_PERCENT_20_MINUTES = ConfigRollout.exponential({
    stepPercent: 10,
    deploymentDuration: Duration.minutes(20),
    finalBake: Duration.minutes(10),
  });
  /** Every client at once, no bake: for the degrade flags, which must act in one step. */
  public static readonly INSTANT = ConfigRollout.allAtOnce(Duration.minutes(0));

  public static linear(options: ConfigRolloutOptions): ConfigRollout {
    return new ConfigRollout(ConfigGrowthType.LINEAR, options);
  }

  public static exponential(options: ConfigRolloutOptions): ConfigRollout {
    return new ConfigRollout(ConfigGrowthType.EXPONENTIAL, options);
  }

  /** All clients at once, then an optional bake during which monitors can still roll back. */
  public static allAtOnce(finalBake: Duration = Duration.minutes(0)): ConfigRollout {
    return new ConfigRollout(ConfigGrowthType.LINEAR, { stepPercent: 100, deploymentDuration: Duration.minutes(0), finalBake });
  }

  public readonly growthType: ConfigGrowthType;
  public readonly stepPercent: number;
  public readonly deploymentDurationMinutes: number;
  public readonly finalBakeMinutes: number;

  private constructor(growthType: ConfigGrowthType, options: ConfigRolloutOptions) {
    if (!Number.isFinite(options.stepPercent) || options.stepPercent < 1 || options.stepPercent > 100) {
      throw new Error(`ConfigRollout stepPercent must be between 1 and 100, got ${options.stepPercent}; use e.g. 10 for a 10 % canary`);
    }
    this.growthType = growthType;
    this.stepPercent = options.stepPercent;
    this.deploymentDurationMinutes = wholeMinutes('deploymentDuration', options.deploymentDuration);
    this.finalBakeMinutes = wholeMinutes('finalBake', options.finalBake);
    if (this.stepPercent < 100 && this.deploymentDurationMinutes === 0) {
      throw new Error(
        `ConfigRollout with stepPercent ${this.stepPercent} needs a deploymentDuration of at least 1 minute; use ConfigRollout.allAtOnce() to deploy at once`,
      );
    }
  }

  /** The percent of clients after each step, as AppConfig computes it. */
  public get steps(): number[] {
    const steps: number[] = [];
    if (this.growthType === ConfigGrowthType.LINEAR) {
      for (let p = this.stepPercent; p < 100; p += this.stepPercent) steps.push(round(p));
    } else {
      for (let p = this.stepPercent; p < 100; p *= 2) steps.push(round(p));
    }
    steps.push(100);
    return steps;
  }

  /** Seconds between steps. */
  public get stepIntervalSeconds(): number {
    const n = this.steps.length;
    return n <= 1 ? 0 : (this.deploymentDurationMinutes * 60) / n;
  }

  /** A stable key, so services with the same rollout share one strategy. */
  public get key(): string {
    return `${this.growthType}-${this.stepPercent}-${this.deploymentDurationMinutes}m-${this.finalBakeMinutes}m`;
  }

  /** One line for people: `exponential 10→20→40→80→100 % over 3 min (step 36 s), bake 2 min`. */
  public describe(): string {
    const shape =
      this.steps.length === 1
        ? 'all at once'
        : `${this.growthType.toLowerCase()} ${this.steps.join('→')} % over ${this.deploymentDurationMinutes} min (step ${Math.round(this.stepIntervalSeconds)} s)`;
    return `${shape}, bake ${this.finalBakeMinutes} min`;
  }
}

function wholeMinutes(name: string, d: Duration): number {
  const seconds = d.toSeconds();
  if (seconds % 60 !== 0)
    throw new Error(`ConfigRollout ${name} must be whole minutes (AppConfig's unit), got ${d.toHumanString()}; round it to Duration.minutes(n)`);
  const minutes = seconds / 60;
  if (minutes < 0 || minutes > 1440) throw new Error(`ConfigRollout ${name} must be 0–1440 minutes, got ${minutes}`);
  return minutes;
}

function round(p: number): number {
  return Math.round(p * 100) / 100;
}
