// Keep unit tests fast and offline: CloudFormation schema validation off, no CLI telemetry.
process.env.CDK_VALIDATION = 'false';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
