/**
 * Who created a CodeDeploy deployment (GetDeployment → deploymentInfo.creator, the CodeDeploy API's DeploymentCreator
 * enum: `user`, `autoscaling`, `autoscalingTermination`, `codeDeployRollback`, `CodeDeploy`, `CodeDeployAutoUpdate`,
 * `CloudFormation`, `CloudFormationRollback`). Two of them are rollbacks: CodeDeploy's own automatic rollback of a
 * failed deployment, and CloudFormation's rollback of a stack update (the alias goes back to the old version).
 *
 * A rollback moves traffic back to the version that was live; nothing new is on the way to traffic. So neither the
 * regression gate (BeforeAllowTraffic) nor the canary judge (AfterAllowTraffic, schedule) holds one up: blocking or
 * judging it could only keep the bad version live. Shared by lambda/gate and lambda/canary-judge.
 */
export const ROLLBACK_CREATORS: readonly string[] = ['codeDeployRollback', 'CloudFormationRollback'];

/** True when `creator` (GetDeployment's deploymentInfo.creator) names a rollback deployment. */
export function isRollbackCreator(creator: string | undefined): boolean {
  return creator !== undefined && ROLLBACK_CREATORS.includes(creator);
}
