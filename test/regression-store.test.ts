import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as logsDestinations from 'aws-cdk-lib/aws-logs-destinations';
import { AWS_CALLS, FORWARD_CALLS } from '../lambda/snapshot/aws-calls';
import { AiRelease, AiReleasePlatform, type AiReleaseProps, FAILURE_FILTER_NAME, RegressionStore, ReleaseConfigSource } from '../lib';
import { inlineFunction, validConfig } from './helpers';
import { ACCOUNT, REGION, resolveTemplate, simulate } from './iam-template';

/** As the repository's cdk.json (and new CDK apps): functions get a CDK-managed log group, so `function.logGroup` is real. */
const testApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/aws-lambda:useCdkManagedLogGroup': true } });

function stackWith(services: { name: string; props?: Partial<AiReleaseProps> }[], platformProps?: ConstructorParameters<typeof AiReleasePlatform>[2]) {
  const stack = new Stack(testApp(), 'Store');
  const platform = new AiReleasePlatform(stack, 'Platform', platformProps);
  const functions = Object.fromEntries(services.map((s) => [s.name, inlineFunction(stack, `Fn-${s.name}`)]));
  const releases = services.map(
    (s) =>
      new AiRelease(stack, `Svc-${s.name}`, {
        serviceName: s.name,
        function: functions[s.name],
        config: ReleaseConfigSource.fromObject(validConfig()),
        ...s.props,
      }),
  );
  return { stack, platform, releases, functions, template: () => Template.fromStack(stack) };
}

/** validConfig() with an evaluation section: the service's answers are scored by the platform's evaluator. */
const evaluatedConfig = () => ({
  ...validConfig(),
  evaluation: {
    evaluatorModel: { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', pricing: { inputPer1kTokensUsd: 0.003, outputPer1kTokensUsd: 0.015 } },
    rubrics: [{ criterion: 'groundedness', instructions: 'Every claim is supported by the retrieved passages.' }],
    samplingRate: 0.05,
    budget: { perReleaseUsd: 20, perDayUsd: 50 },
  },
});

const resources = (t: Template, type: string) => Object.entries(t.findResources(type)) as [string, any][];

describe('the regression store bucket', () => {
  const { template, stack, platform } = stackWith([{ name: 'assistant' }]);
  const t = template();
  const storeId = stack.getLogicalId(platform.regressionStore.bucket.node.defaultChild as any);
  const logsId = stack.getLogicalId(platform.regressionStore.accessLogsBucket.node.defaultChild as any);
  const bucket = () => t.toJSON().Resources[storeId];

  test('encrypted (SSE-S3 by default), versioned, public access blocked, ACLs off', () => {
    expect(bucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket().Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  test('SSL only: the bucket policy denies every request without TLS', () => {
    const policies = resources(t, 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket.Ref === storeId);
    expect(policies).toHaveLength(1);
    expect(policies[0][1].Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
  });

  test('lifecycle: noncurrent versions, old candidates by tag, old batches by prefix', () => {
    const rules = bucket().Properties.LifecycleConfiguration.Rules;
    const byId = Object.fromEntries(rules.map((r: any) => [r.Id, r]));
    expect(byId['noncurrent-versions']).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
    expect(byId['expired-delete-markers']).toMatchObject({ ExpiredObjectDeleteMarker: true });
    expect(byId['old-candidates']).toMatchObject({ ExpirationInDays: 90, TagFilters: [{ Key: 'ai-release-state', Value: 'candidate' }] });
    expect(byId['old-candidates'].Prefix).toBeUndefined();
    expect(byId['old-batches']).toMatchObject({ ExpirationInDays: 90, Prefix: 'batches/' });
    expect(byId['old-markers']).toMatchObject({ ExpirationInDays: 7, Prefix: 'markers/' });
  });

  test('server access logging to its own bucket, which the logging service may write through a scoped bucket policy', () => {
    expect(bucket().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'regression-store/' });
    const logPolicy = resources(t, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === logsId)![1];
    expect(logPolicy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [storeId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
      ]),
    );
  });

  test('retained when the stack is deleted (both buckets), unless told otherwise', () => {
    expect(bucket().DeletionPolicy).toBe('Retain');
    expect(bucket().UpdateReplacePolicy).toBe('Retain');
    expect(t.toJSON().Resources[logsId].DeletionPolicy).toBe('Retain');
    const { stack: s2, platform: p2 } = stackWith([{ name: 'assistant' }], { regressionStore: { removalPolicy: RemovalPolicy.DESTROY } });
    expect(Template.fromStack(s2).toJSON().Resources[s2.getLogicalId(p2.regressionStore.bucket.node.defaultChild as any)].DeletionPolicy).toBe('Delete');
  });

  test('a KMS key: SSE-KMS with a bucket key, and the snapshot function may use the key', () => {
    const stack = new Stack(testApp(), 'Kms');
    const key = new kms.Key(stack, 'Key');
    const store = new RegressionStore(stack, 'Store', { encryptionKey: key });
    const tk = Template.fromStack(stack);
    const b = tk.toJSON().Resources[stack.getLogicalId(store.bucket.node.defaultChild as any)];
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as any), 'Arn'] } },
      BucketKeyEnabled: true,
    });
    const statements = resources(tk, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements.some((s: any) => [s.Action].flat().includes('kms:Decrypt') && [s.Action].flat().includes('kms:GenerateDataKey*'))).toBe(true);
  });

  test('bad retention is refused with the fix', () => {
    expect(() => new RegressionStore(new Stack(testApp(), 'Bad'), 'Store', { candidateExpiry: Duration.days(5) })).toThrow(
      /candidateExpiry must be longer than 7 days \(live candidates are rewritten that often\), got 5 days/,
    );
  });
});

describe('subscription and delivery', () => {
  test('each service log group (no evaluation): one filter matching failure records only, to the one snapshot function of the platform', () => {
    const { template, stack, platform, functions } = stackWith([{ name: 'assistant' }, { name: 'search' }]);
    const t = template();
    const fnId = stack.getLogicalId(platform.regressionStore.snapshotFunction.node.defaultChild as any);
    const filters = resources(t, 'AWS::Logs::SubscriptionFilter').map(([, f]) => f.Properties);
    expect(filters).toHaveLength(2);
    for (const f of filters) {
      expect(f.FilterPattern).toBe('{ $.type = "ai-release.failure" }');
      expect(f.FilterName).toBe(FAILURE_FILTER_NAME);
      expect(f.DestinationArn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    }
    const logGroupIds = Object.values(functions).map((f) => stack.getLogicalId(f.logGroup.node.defaultChild as any));
    expect(filters.map((f) => f.LogGroupName.Ref).sort()).toEqual(logGroupIds.sort());
    const snapshotFns = resources(t, 'AWS::Lambda::Function').filter(([, f]) => String(f.Properties.Description).includes('regression case candidates'));
    expect(snapshotFns).toHaveLength(1);
  });

  test('one Lambda permission for every service log group: CloudWatch Logs, this account, log groups of this account and Region', async () => {
    const { template, stack, platform } = stackWith([{ name: 'assistant' }, { name: 'search' }, { name: 'billing' }]);
    const t = template();
    const fnId = stack.getLogicalId(platform.regressionStore.snapshotFunction.node.defaultChild as any);
    const perms = resources(t, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'logs.amazonaws.com');
    expect(perms).toHaveLength(1);
    const [permId, perm] = perms[0];
    const rt = resolveTemplate(t.toJSON(), 'Store');
    expect(rt.resolve(perm.Properties)).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: rt.arnOf(fnId),
      Principal: 'logs.amazonaws.com',
      SourceAccount: ACCOUNT,
      SourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`,
    });
    // PutSubscriptionFilter checks the destination may be invoked: every filter waits for the permission.
    for (const [, f] of resources(t, 'AWS::Logs::SubscriptionFilter')) expect(f.DependsOn).toContain(permId);
    // The statement Lambda writes for it (AddPermission: ArnLike on AWS:SourceArn, StringEquals on AWS:SourceAccount),
    // against what CloudWatch Logs invokes with: the log group's ARN, `<name>:*`.
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'logs.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: rt.arnOf(fnId),
          Condition: {
            ArnLike: { 'AWS:SourceArn': rt.resolve(perm.Properties.SourceArn) },
            StringEquals: { 'AWS:SourceAccount': rt.resolve(perm.Properties.SourceAccount) },
          },
        },
      ],
    };
    const invoke = async (sourceArn: string, sourceAccount = ACCOUNT) =>
      (
        await simulate({
          principal: 'logs.amazonaws.com',
          action: 'lambda:InvokeFunction',
          resource: rt.arnOf(fnId),
          resourcePolicy: policy,
          context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
        })
      ).decision;
    expect(await invoke(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/assistant:*`)).toBe('Allowed');
    expect(await invoke(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:Store-FnsearchLogGroup-AbC123:*`)).toBe('Allowed');
    expect(await invoke(`arn:aws:logs:${REGION}:444455556666:log-group:/aws/lambda/assistant:*`, '444455556666')).not.toBe('Allowed');
    expect(await invoke(`arn:aws:logs:us-west-2:${ACCOUNT}:log-group:/aws/lambda/assistant:*`)).not.toBe('Allowed');
    expect(await invoke(`arn:aws:logs:${REGION}:${ACCOUNT}:destination:other`)).not.toBe('Allowed');
  });

  test("the user's own filter fits beside ours: the service log group has exactly 2, the library's 1", () => {
    const { stack, functions, template } = stackWith([{ name: 'assistant' }]);
    new logs.SubscriptionFilter(stack, 'Shipper', {
      logGroup: functions.assistant.logGroup,
      destination: new logsDestinations.LambdaDestination(inlineFunction(stack, 'ShipperFn')),
      filterPattern: logs.FilterPattern.allEvents(),
      filterName: 'log-shipper',
    });
    const logGroupId = stack.getLogicalId(functions.assistant.logGroup.node.defaultChild as any);
    const onGroup = resources(template(), 'AWS::Logs::SubscriptionFilter').filter(([, f]) => f.Properties.LogGroupName.Ref === logGroupId);
    expect(onGroup.map(([, f]) => f.Properties.FilterName).sort()).toEqual([FAILURE_FILTER_NAME, 'log-shipper']);
  });

  test('an evaluated service: one filter for both record kinds, samples forwarded by the snapshot function to the evaluator', () => {
    const { stack, functions, platform, template } = stackWith([{ name: 'assistant', props: { config: ReleaseConfigSource.fromObject(evaluatedConfig()) } }]);
    const t = template();
    const logGroupId = stack.getLogicalId(functions.assistant.logGroup.node.defaultChild as any);
    const onGroup = resources(t, 'AWS::Logs::SubscriptionFilter').filter(([, f]) => f.Properties.LogGroupName.Ref === logGroupId);
    expect(onGroup.map(([, f]) => f.Properties)).toEqual([
      expect.objectContaining({
        FilterName: FAILURE_FILTER_NAME,
        FilterPattern: '{ ($.type = "ai-release.failure") || ($.type = "ai-release.evaluation-sample") }',
        DestinationArn: { 'Fn::GetAtt': [stack.getLogicalId(platform.regressionStore.snapshotFunction.node.defaultChild as any), 'Arn'] },
      }),
    ]);
    // The evaluator's own log: low scores (failure records) only.
    const evalLogId = stack.getLogicalId(platform.evaluator.logGroup.node.defaultChild as any);
    const onEvalLog = resources(t, 'AWS::Logs::SubscriptionFilter').filter(([, f]) => f.Properties.LogGroupName.Ref === evalLogId);
    expect(onEvalLog.map(([, f]) => f.Properties.FilterPattern)).toEqual(['{ $.type = "ai-release.failure" }']);
    // No filter of the evaluator's own anywhere, and CloudWatch Logs may invoke nothing but the snapshot function.
    expect(resources(t, 'AWS::Logs::SubscriptionFilter').map(([, f]) => f.Properties.FilterName)).not.toContain('cdk-ai-release-evaluation');
    expect(resources(t, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'logs.amazonaws.com')).toHaveLength(1);
    const evaluatorId = stack.getLogicalId(platform.evaluator.function.node.defaultChild as any);
    const snapshot = t.toJSON().Resources[stack.getLogicalId(platform.regressionStore.snapshotFunction.node.defaultChild as any)];
    expect(snapshot.Properties.Environment.Variables.AI_RELEASE_EVALUATOR_FUNCTION).toEqual({ Ref: evaluatorId });
    const roleId = stack.getLogicalId(platform.regressionStore.snapshotFunction.role!.node.defaultChild as any);
    const invokes = resources(t, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('lambda:')));
    // The unqualified evaluator only (Invoke without a qualifier is authorized on the function's ARN).
    expect(invokes).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [evaluatorId, 'Arn'] } })]);
    expect(FORWARD_CALLS.map((c) => c.action)).toEqual(['lambda:InvokeFunction']);
  });

  test('evaluated with snapshots off: the one filter matches samples only', () => {
    const { stack, functions, template } = stackWith([
      { name: 'assistant', props: { snapshots: false, config: ReleaseConfigSource.fromObject(evaluatedConfig()) } },
    ]);
    const logGroupId = stack.getLogicalId(functions.assistant.logGroup.node.defaultChild as any);
    const onGroup = resources(template(), 'AWS::Logs::SubscriptionFilter').filter(([, f]) => f.Properties.LogGroupName.Ref === logGroupId);
    expect(onGroup.map(([, f]) => f.Properties.FilterPattern)).toEqual(['{ $.type = "ai-release.evaluation-sample" }']);
  });

  test('asynchronous invocation: 2 retries, 6 hours, then the on-failure queue (encrypted, SSL-only)', () => {
    const { template, stack, platform } = stackWith([{ name: 'assistant' }]);
    const t = template();
    const store = platform.regressionStore;
    const queueId = stack.getLogicalId(store.failedDeliveries.node.defaultChild as any);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: stack.getLogicalId(store.snapshotFunction.node.defaultChild as any) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('snapshots, reviews, the regression gate and the canary judge off: no filter and no store', () => {
    const { template } = stackWith([
      {
        name: 'assistant',
        props: {
          snapshots: false,
          releaseReview: false,
          regressionGate: false,
          canaryJudge: false,
          policyWaivers: [{ rule: 'regression-gate', reason: 'this test checks that nothing creates the store' }],
        },
      },
    ]);
    template().resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
    template().resourceCountIs('AWS::S3::Bucket', 0);
  });

  test('a log group already carrying two filters in the app: synth fails naming the quota and the way out', () => {
    const { stack, functions } = stackWith([{ name: 'assistant' }]);
    const fn = functions.assistant;
    for (const id of ['Shipper', 'Siem'])
      new logs.SubscriptionFilter(stack, id, {
        logGroup: fn.logGroup,
        destination: new logsDestinations.LambdaDestination(inlineFunction(stack, `${id}Fn`)),
        filterPattern: logs.FilterPattern.allEvents(),
      });
    expect(() => Template.fromStack(stack)).toThrow(
      /has 3 subscription filters .*CloudWatch Logs allows 2 per log group\. Remove one, or set snapshots: false/,
    );
  });
});

describe('least privilege of the snapshot function', () => {
  const { template, stack, platform } = stackWith([{ name: 'assistant' }]);
  const t = template();
  const store = platform.regressionStore;
  const roleId = stack.getLogicalId(store.snapshotFunction.role!.node.defaultChild as any);
  const storeId = stack.getLogicalId(store.bucket.node.defaultChild as any);
  const statements = resources(t, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as any[];
  const s3Grants = statements.flatMap((s) =>
    [s.Action]
      .flat()
      .filter((a: string) => a.startsWith('s3:'))
      .flatMap((a: string) => [s.Resource].flat().map((r: any) => [a, r])),
  );
  const isStoreArn = (r: any) => JSON.stringify(r) === JSON.stringify({ 'Fn::GetAtt': [storeId, 'Arn'] });
  /** A resource as aws-calls.ts writes it: `arn:aws:s3:::<store>` plus the object path. */
  const render = (r: any): string => {
    if (isStoreArn(r)) return 'arn:aws:s3:::<store>';
    const parts = r?.['Fn::Join']?.[1];
    if (Array.isArray(parts) && parts.length === 2 && isStoreArn(parts[0])) return `arn:aws:s3:::<store>${parts[1]}`;
    return JSON.stringify(r);
  };

  test('S3: get/put on the three prefixes, tagging on cases, list on the bucket; no delete, no wildcard action or resource', () => {
    const granted = s3Grants.map(([a, r]) => `${a} ${render(r)}`).sort();
    expect(granted).toEqual(
      [
        's3:GetObject arn:aws:s3:::<store>/batches/*',
        's3:GetObject arn:aws:s3:::<store>/cases/*',
        's3:GetObject arn:aws:s3:::<store>/index/*',
        's3:PutObject arn:aws:s3:::<store>/batches/*',
        's3:PutObject arn:aws:s3:::<store>/cases/*',
        's3:PutObject arn:aws:s3:::<store>/index/*',
        's3:PutObjectTagging arn:aws:s3:::<store>/cases/*',
        's3:ListBucket arn:aws:s3:::<store>',
      ].sort(),
    );
    for (const s of statements) {
      expect([s.Action].flat().some((a: string) => a.endsWith('*') && !a.startsWith('kms:'))).toBe(false);
      expect([s.Resource].flat()).not.toContain('*');
    }
  });

  test('the grants are exactly the declared AWS calls (lambda/snapshot/aws-calls.ts)', () => {
    const granted = s3Grants.map(([a, r]) => `${a} ${render(r)}`).sort();
    expect(AWS_CALLS.map((c) => `${c.action} ${c.resource}`).sort()).toEqual(granted);
  });

  test('the only other grant is sending failed events to its queue', () => {
    const others = statements.filter((s) => ![s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(others).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(store.failedDeliveries.node.defaultChild as any), 'Arn'] },
      }),
    ]);
  });

  test('the function knows its bucket and the candidate expiry', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { AI_RELEASE_STORE_BUCKET: { Ref: storeId }, AI_RELEASE_CANDIDATE_EXPIRY_DAYS: '90' } },
      Timeout: 60,
    });
  });
});

describe('read access for the gate and the CLI', () => {
  test('grantReadCases: read on cases/ and index/ only, never batches (every raw record) or writes', () => {
    const stack = new Stack(testApp(), 'Read');
    const store = new RegressionStore(stack, 'Store');
    const reader = new iam.Role(stack, 'Gate', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    store.grantReadCases(reader);
    const storeId = stack.getLogicalId(store.bucket.node.defaultChild as any);
    const statements = resources(Template.fromStack(stack), 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === stack.getLogicalId(reader.node.defaultChild as any)))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement) as any[];
    const actions = new Set(statements.flatMap((s) => [s.Action].flat()));
    expect([...actions].some((a) => /Put|Delete/.test(a))).toBe(false);
    const objectResources = statements
      .flatMap((s) => [s.Resource].flat())
      .filter((r: any) => r['Fn::Join'])
      .map((r: any) => r['Fn::Join'][1][1]);
    expect(new Set(objectResources)).toEqual(new Set(['/cases/*', '/index/*']));
    expect(JSON.stringify(statements)).toContain(storeId);
  });
});
