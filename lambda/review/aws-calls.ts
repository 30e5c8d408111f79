/**
 * Every AWS call the review function makes, with the resource it is allowed on (checked against the Service
 * Authorization Reference by the IAM test). Placeholders: `<stack>` the stack name, `<manifest-path>` the manifest
 * parameters' stack path (the top-level stack's name, then nested stack ids), `<codedeploy-app>` the platform's
 * CodeDeploy application, `<appconfig-app>` the AppConfig application id, `<store>` the regression store bucket,
 * `<topic>` the notification topic, `<topic-key>` its KMS key. One function serves every service of the platform, so
 * resources are scoped to the stack's (or application's) own names, not to one service.
 */
export const AWS_CALLS = [
  // Code plane: the deployment, its rollback deployment, and the deployment config's traffic routing.
  { api: 'GetDeployment', action: 'codedeploy:GetDeployment', resource: 'arn:aws:codedeploy:<region>:<account>:deploymentgroup:<codedeploy-app>/*' },
  { api: 'GetDeploymentConfig', action: 'codedeploy:GetDeploymentConfig', resource: 'arn:aws:codedeploy:<region>:<account>:deploymentconfig:*' },
  // Config plane: the deployment and its event log.
  { api: 'GetDeployment', action: 'appconfig:GetDeployment', resource: 'arn:aws:appconfig:<region>:<account>:application/<appconfig-app>' },
  { api: 'GetDeployment', action: 'appconfig:GetDeployment', resource: 'arn:aws:appconfig:<region>:<account>:application/<appconfig-app>/environment/*' },
  {
    api: 'GetDeployment',
    action: 'appconfig:GetDeployment',
    resource: 'arn:aws:appconfig:<region>:<account>:application/<appconfig-app>/environment/*/deployment/*',
  },
  // What changed: the manifest parameter's history.
  { api: 'GetParameterHistory', action: 'ssm:GetParameterHistory', resource: 'arn:aws:ssm:<region>:<account>:parameter/cdk-ai-release/<manifest-path>/*' },
  // The release alarms (thresholds, windows) and what they did.
  { api: 'DescribeAlarms', action: 'cloudwatch:DescribeAlarms', resource: 'arn:aws:cloudwatch:<region>:<account>:alarm:<stack>-*' },
  { api: 'DescribeAlarmHistory', action: 'cloudwatch:DescribeAlarmHistory', resource: 'arn:aws:cloudwatch:<region>:<account>:alarm:<stack>-*' },
  // GetMetricData requires no resource type (the reference lists only an optional dataset): "*".
  { api: 'GetMetricData', action: 'cloudwatch:GetMetricData', resource: '*' },
  // Cases (read) and reviews (HeadObject / PutObject); ListBucket so a missing key is a 404, not a 403.
  { api: 'ListObjectsV2', action: 's3:ListBucket', resource: 'arn:aws:s3:::<store>' },
  { api: 'GetObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/cases/*' },
  { api: 'HeadObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/reviews/*' },
  // Is there a gate report of this release to link (HeadObject)?
  { api: 'HeadObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/gates/*' },
  // The canary judge's verdict of the release (judge/<service>/<releaseKey>.json).
  { api: 'GetObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/judge/*' },
  // The evaluator's scored samples of the release (evaluations/<service>/samples/<id>.json, listed by prefix), its
  // ledger (did sampling stop for the budget; evaluator-trust.ts) and people's labels (the evaluator's agreement).
  { api: 'GetObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/evaluations/support-assistant/samples/s1.json' },
  { api: 'GetObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/evaluations/support-assistant/ledger.json' },
  { api: 'GetObject', action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/evaluations/support-assistant/labels.json' },
  // Also the review of a config release the gate stopped (gate-stopped.ts): the same HeadObject / PutObject / Publish,
  // no lookups (the config deployer's event carries the gate's findings).
  { api: 'PutObject', action: 's3:PutObject', resource: 'arn:aws:s3:::<store>/reviews/*' },
  // The announcement, on the KMS-encrypted topic (also the function's on-failure destination).
  { api: 'Publish', action: 'sns:Publish', resource: '<topic>' },
  { api: 'Publish', action: 'kms:GenerateDataKey', resource: '<topic-key>' },
  { api: 'Publish', action: 'kms:Decrypt', resource: '<topic-key>' },
] as const;
