/**
 * Every AWS call the snapshot function makes, with the resource it is allowed on (checked against the Service
 * Authorization Reference by the IAM test). `<store>` is the regression store bucket.
 */
export const AWS_CALLS = [
  // HeadObject (is this delivery stored?) and GetObject (index, cases, the first batch of a case seen again) need s3:GetObject.
  { action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/batches/*' },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/cases/*' },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::<store>/index/*' },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::<store>/batches/*' },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::<store>/cases/*' },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::<store>/index/*' },
  // PutObject with a Tagging header (candidate objects carry the lifecycle tag).
  { action: 's3:PutObjectTagging', resource: 'arn:aws:s3:::<store>/cases/*' },
  // Without it a missing key answers 403 instead of 404, and "not stored yet" cannot be told from "denied".
  { action: 's3:ListBucket', resource: 'arn:aws:s3:::<store>' },
] as const;

/**
 * Where the platform has an evaluator: the evaluation samples of a delivery are forwarded to it (Invoke, InvocationType
 * Event; lambda/snapshot/lambda-forward.ts). Invoke of the unqualified function is authorized on the function's ARN.
 */
export const FORWARD_CALLS = [{ api: 'Invoke', action: 'lambda:InvokeFunction', resource: 'arn:aws:lambda:<region>:<account>:function:<evaluator>' }] as const;
