/**
 * The IAM actions the operator commands need, per command: what a person's or a pipeline's role must allow. The README
 * lists them; test/cli-aws-calls.test.ts checks each against the Service Authorization Reference data and against the
 * SDK commands the CLI's sources actually send.
 */
export const CLI_IAM_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  locate: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
  status: [
    'codedeploy:ListDeployments',
    'codedeploy:GetDeployment',
    'codedeploy:GetDeploymentGroup',
    'codedeploy:GetDeploymentConfig',
    'codedeploy:ListDeploymentTargets',
    'codedeploy:GetDeploymentTarget',
    'lambda:GetAlias',
    'appconfig:ListDeployments',
    'appconfig:GetDeployment',
    'cloudwatch:DescribeAlarms',
  ],
  rollback: ['codedeploy:StopDeployment', 'appconfig:StopDeployment'],
  degrade: [
    'appconfig:ListHostedConfigurationVersions',
    'appconfig:GetHostedConfigurationVersion',
    'appconfig:CreateHostedConfigurationVersion',
    'appconfig:ListDeployments',
    'appconfig:StartDeployment',
  ],
  store: ['s3:ListBucket', 's3:GetObject', 's3:PutObject', 's3:DeleteObject'],
};
