import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';

export const root = path.join(__dirname, '..');

/** Nearest-rank percentile of an ascending array. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The example's release config as AppConfig hosts it, and degrade flags all off: what a loopback extension serves. */
export async function exampleServedConfigs(): Promise<{ hosted: string; flags: string }> {
  const { AiServiceConfig, ReleaseConfigSource } = await import('../lib');
  const svc = new AiServiceConfig(new Stack(new App(), 'B'), 'C', {
    serviceName: 'support-assistant',
    source: ReleaseConfigSource.fromDirectory(path.join(root, 'example/support-assistant/release-config')),
  });
  const flags = JSON.stringify({
    useFallbackModel: { enabled: false },
    disableTools: { enabled: false },
    disableRetrieval: { enabled: false },
    staticAnswer: { enabled: false, message: 'x' },
  });
  return { hosted: svc.hostedVersion.content as string, flags };
}
