/**
 * The tick-only function (issue 15-A5) as Lambda loads it: environment at module load, the S3 client at module scope,
 * the judge records in s3rver. It routes by the association's `service` parameter and never throws to AppConfig.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { judgeKey } from '../lambda/shared/contract';
import { BUCKET, s3Client, startS3 } from './s3rver-harness';

let s3: Awaited<ReturnType<typeof startS3>>;
let direct: S3Client;
const saved = { ...process.env };
let handler: (event: unknown, ctx?: { getRemainingTimeInMillis(): number }) => Promise<{ Directive: string; Description?: string }>;
const logged: string[] = [];

beforeAll(async () => {
  s3 = await startS3();
  direct = s3Client(s3.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AI_RELEASE_STORE_BUCKET: BUCKET,
  });
  delete process.env.AI_RELEASE_JUDGE_SERVICE;
  jest.spyOn(console, 'log').mockImplementation((line: string) => {
    logged.push(line);
  });
  handler = require('../lambda/canary-judge-tick/handler').handler;
  const record = {
    schemaVersion: 1,
    service: 'alpha',
    plane: 'config',
    releaseKey: 'config-env1-3',
    canary: 'cfg-new',
    phase: 'canary',
    until: 0,
    updates: 9,
    samples: { canary: 90, stable: 400 },
    verdict: 'regression',
    evidence: [{ metric: 'error', eValue: 1500, threshold: 1200, canary: { n: 90, value: 0.3 }, stable: { n: 400, value: 0.01 } }],
    engine: {},
  };
  await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: judgeKey('alpha', 'config-env1-3'), Body: JSON.stringify(record) }));
});
afterAll(async () => {
  process.env = saved;
  direct?.destroy();
  await s3?.close();
});

const ctx = { getRemainingTimeInMillis: () => 5000 };
const tick = (service: string | undefined, n = 3) => ({
  InvocationId: 'inv-1',
  Type: 'AtDeploymentTick',
  Parameters: service ? { service } : {},
  Application: { Id: 'app1' },
  Environment: { Id: 'env1' },
  ConfigurationProfile: { Id: 'prof1' },
  DeploymentNumber: n,
  ConfigurationVersion: '9',
  PercentageComplete: 20,
});

test("a regression stored for the association's service: ROLL_BACK, with the evidence", async () => {
  expect(await handler(tick('alpha'), ctx)).toEqual({
    Directive: 'ROLL_BACK',
    Description: 'canary judge: config cfg-new regressed on error (e-value 1500 >= 1200); rolling back',
  });
});

test('the service comes from the association: the same rollout number of another service continues', async () => {
  expect(await handler(tick('beta'), ctx)).toEqual({ Directive: 'CONTINUE' });
  expect(await handler(tick('alpha', 4), ctx)).toEqual({ Directive: 'CONTINUE' });
});

test('never an error to AppConfig: no service parameter, not a tick, no environment, no event at all: CONTINUE, and the log says why', async () => {
  logged.length = 0;
  expect(await handler(tick(undefined), ctx)).toEqual({ Directive: 'CONTINUE' });
  expect(await handler({ ...tick('alpha'), Type: 'OnDeploymentStart' }, ctx)).toEqual({ Directive: 'CONTINUE' });
  expect(await handler({ ...tick('alpha'), Environment: undefined }, ctx)).toEqual({ Directive: 'CONTINUE' });
  expect(await handler(null, ctx)).toEqual({ Directive: 'CONTINUE' });
  const why = logged.map((l) => JSON.parse(l).message);
  expect(why).toEqual(
    expect.arrayContaining([
      expect.stringContaining('sets no "service" parameter'),
      expect.stringContaining('not an AT_DEPLOYMENT_TICK event'),
      expect.stringContaining('names no Environment.Id'),
    ]),
  );
});

test('the bundle is the tick alone: it loads the S3 client and nothing of the judge, its engine or its other clients', () => {
  const { buildSync } = require('esbuild');
  const path = require('node:path');
  const out = buildSync({
    entryPoints: [path.join(__dirname, '..', 'lambda', 'canary-judge-tick', 'handler.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(out.metafile.inputs);
  expect(inputs.filter((f) => /client-(cloudwatch|codedeploy|appconfig|cloudwatch-logs)\//.test(f))).toEqual([]);
  expect(inputs.filter((f) => /lambda\/(judge|canary-judge)\/(judge|engine|samples|canary-judge|aws-adapters)\.ts$/.test(f))).toEqual([]);
  expect(inputs.some((f) => f.includes('client-s3'))).toBe(true);
});
