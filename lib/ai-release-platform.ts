import { Names, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import { Construct, IConstruct } from 'constructs';
import { ConfigRollout } from './config-rollout';

export interface AiReleasePlatformProps {
  /**
   * Name of the AppConfig application that holds every service's configs in this stack.
   * @default the stack name
   */
  readonly applicationName?: string;
}

/**
 * What the AI services of one stack share: the AppConfig application and the deployment strategies. A platform
 * stack holds many services, and each shared resource is one fewer per service. Each service still gets its own
 * AppConfig environment, because alarms act as monitors per environment and AppConfig runs one deployment per
 * environment at a time: sharing it would let one service's alarm roll back another's config.
 */
export class AiReleasePlatform extends Construct {
  /** The platform of the stack `scope` is in, created with defaults on first use. */
  public static of(scope: IConstruct): AiReleasePlatform {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(AiReleasePlatform.ID);
    if (existing instanceof AiReleasePlatform) return existing;
    return new AiReleasePlatform(stack, AiReleasePlatform.ID);
  }

  private static readonly ID = 'AiReleasePlatform';

  public readonly application: appconfig.CfnApplication;
  /** The AppConfig application id (a deploy-time token). */
  public readonly applicationId: string;
  private readonly strategies = new Map<string, appconfig.CfnDeploymentStrategy>();

  constructor(scope: Construct, id: string, props: AiReleasePlatformProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const existing = stack.node.tryFindChild(AiReleasePlatform.ID);
    if (existing && existing !== this) {
      throw new Error(`stack ${stack.stackName} already has an AiReleasePlatform; create it once (before the services) or use AiReleasePlatform.of(scope)`);
    }
    this.application = new appconfig.CfnApplication(this, 'Application', {
      name: props.applicationName ?? stack.stackName,
      description: 'Release configs of the AI services in this stack (cdk-ai-release)',
    });
    this.applicationId = this.application.ref;
  }

  /** The deployment strategy for a rollout, one per distinct rollout in the stack. */
  public strategyFor(rollout: ConfigRollout): appconfig.CfnDeploymentStrategy {
    const found = this.strategies.get(rollout.key);
    if (found) return found;
    const id = `Strategy-${rollout.key}`;
    const strategy = new appconfig.CfnDeploymentStrategy(this, id, {
      name: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).slice(0, 40) + `-${rollout.key}`.slice(0, 24),
      description: `cdk-ai-release: ${rollout.describe()}`,
      growthType: rollout.growthType,
      growthFactor: rollout.stepPercent,
      deploymentDurationInMinutes: rollout.deploymentDurationMinutes,
      finalBakeTimeInMinutes: rollout.finalBakeMinutes,
      replicateTo: 'NONE',
    });
    this.strategies.set(rollout.key, strategy);
    return strategy;
  }
}
