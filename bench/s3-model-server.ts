/**
 * The S3 model (test/s3-model.ts) as a process of its own, so a benchmark's peak RSS is the snapshot function's, not
 * the model's object store. Prints `endpoint <url>` on stdout when listening; S3_MODEL_LATENCY="10,80" sets latency.
 */
import { startS3Model } from '../test/s3-model';

const [lo, hi] = (process.env.S3_MODEL_LATENCY ?? '10,80').split(',').map(Number);
startS3Model({ bucket: process.env.S3_MODEL_BUCKET ?? 'regression-store-test', latencyMs: [lo, hi] }).then((m) => {
  process.stdout.write(`endpoint ${m.endpoint}\n`);
  process.on('SIGTERM', () => m.close().then(() => process.exit(0)));
});
