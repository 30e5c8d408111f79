// Keep unit tests fast and offline: CloudFormation schema validation off, no CLI telemetry.
process.env.CDK_VALIDATION = 'false';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
// Tests must never reach AWS: fake credentials and region, and no instance-metadata lookups, so any SDK call a test
// forgot to mock fails fast at the mock boundary instead of searching for real credentials.
process.env.AWS_ACCESS_KEY_ID = 'AKIDTESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-secret';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// The SDK's notice that it will require Node 22 in 2027 is not news in a test run (Lambda runs Node 24).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'object' ? (rest[0] as { type?: string })?.type : rest[0];
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
