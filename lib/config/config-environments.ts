/**
 * Where a service's configs are deployed: its AppConfig application (the platform's, or its own with
 * `applicationPerService`) and its three environments — the live release-config environment and its monitors, the
 * degrade environment (never monitored) and the config gate's candidate environment. Built inside the
 * AiServiceConfig (`scope`), so its construct ids are the ones they always had.
 */
import { Lazy } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { AiReleasePlatform } from '../ai-release-platform';
import { namePrefix, physicalName } from '../private/physical-names';

/** AppConfig allows at most 5 monitors per environment. */
export const MAX_MONITORS = 5;

export class ConfigEnvironments {
  /** The AppConfig application of this service's environments and profiles. */
  public readonly application: appconfig.CfnApplication;
  /** The release config's environment: its monitors roll a bad config back. */
  public readonly environment: appconfig.CfnEnvironment;
  /** The degrade flags' environment: no monitors, so no alarm can refuse or roll back an emergency switch. */
  public readonly degradeEnvironment: appconfig.CfnEnvironment;
  /** The config gate's stage: a version is deployed here (instantly, no monitors) before the gate replays it. */
  public readonly candidateEnvironment: appconfig.CfnEnvironment;
  private readonly monitors: cloudwatch.IAlarm[] = [];

  constructor(
    scope: Construct,
    private readonly serviceName: string,
    private readonly platform: AiReleasePlatform,
  ) {
    // The platform's application, or (applicationPerService) one of the service's own: 3 environments each, well
    // inside AppConfig's 20 per application, so the platform's service count is bound by applications per account.
    this.application = platform.applicationPerService
      ? new appconfig.CfnApplication(scope, 'Application', {
          name: physicalName('appConfigApplication', namePrefix(scope), serviceName),
          description: `Release configs of AI service ${serviceName} (cdk-ai-release)`,
        })
      : platform.application;
    const applicationId = this.application.ref;

    this.environment = new appconfig.CfnEnvironment(scope, 'Environment', {
      applicationId,
      name: physicalName('appConfigEnvironment', serviceName),
      description: `Release configs of AI service ${serviceName}`,
      monitors: Lazy.any({ produce: () => this.renderMonitors() }, { omitEmptyArray: true }),
    });
    // Degrade switches answer the alarms: the cost guard flips one while the cost alarm is in ALARM. In an
    // environment those alarms monitor, AppConfig would roll the switch back (or refuse it during a config
    // rollout: one deployment per environment). Their own environment has no monitors, ever.
    this.degradeEnvironment = new appconfig.CfnEnvironment(scope, 'DegradeEnvironment', {
      applicationId,
      name: physicalName('appConfigEnvironment', serviceName, 'degrade'),
      description: `Degrade switches of AI service ${serviceName}: no monitors, so no alarm can block them`,
    });

    // The config gate's stage: no monitors (a replay of known failures must not roll anything back, and only gate
    // replays read it), no extension (the gate has not judged the version yet when it is deployed here).
    this.candidateEnvironment = new appconfig.CfnEnvironment(scope, 'CandidateEnvironment', {
      applicationId,
      name: physicalName('appConfigEnvironment', serviceName, 'candidate'),
      description: `Candidate release configs of AI service ${serviceName}: read only through the gate alias, by the config gate's replay`,
    });
  }

  /**
   * Adds a monitor of the live environment (AppConfig's limit: 5). AppConfig checks the monitors from the first
   * deployment on: the environment (and so every deployment into it) must not exist before the monitor role's policy
   * does, or the first deployment could find the alarm unreadable. The dependency on the role construct covers its
   * DefaultPolicy resource; the caller adds it to its deployments too.
   */
  public addMonitor(alarm: cloudwatch.IAlarm): void {
    if (this.monitors.length >= MAX_MONITORS) {
      throw new Error(
        `service "${this.serviceName}" already has ${MAX_MONITORS} AppConfig monitors, AppConfig's limit per environment; combine alarms into one composite alarm and add that`,
      );
    }
    this.monitors.push(alarm);
    this.environment.node.addDependency(this.platform.monitorRole);
  }

  private renderMonitors(): appconfig.CfnEnvironment.MonitorProperty[] | undefined {
    if (this.monitors.length === 0) return undefined;
    return this.monitors.map((a) => ({ alarmArn: a.alarmArn, alarmRoleArn: this.platform.monitorRole.roleArn }));
  }
}
