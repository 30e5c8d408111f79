/**
 * Graded degradation: when the service's cost alarm fires, switch it to the fallback model by deploying the degrade
 * flags with `useFallbackModel` on. Pure logic behind a small port; the handler wires AppConfig.
 */
import { DEGRADE_FLAGS } from '../shared/contract';

/** The part of a CloudWatch alarm-action event (Lambda action) the guard reads. */
export interface AlarmEvent {
  readonly alarmData?: { readonly alarmName?: string; readonly state?: { readonly value?: string; readonly reason?: string } };
}

/** Port: the degrade profile in AppConfig. */
export interface DegradeStore {
  /** The latest hosted version of the degrade flags: number and the full feature-flags document. */
  latest(): Promise<{ version: number; document: FeatureFlagsDocument }>;
  /** Creates a hosted version, returns its number. */
  create(document: FeatureFlagsDocument, label: string): Promise<number>;
  /** Deploys a version with the instant strategy. */
  deploy(version: number, description: string): Promise<string>;
}

export interface FeatureFlagsDocument {
  readonly version: string;
  readonly flags: Readonly<Record<string, unknown>>;
  readonly values: Readonly<Record<string, { readonly enabled?: boolean } & Record<string, unknown>>>;
}

export type GuardOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'already-degraded'; readonly version: number }
  | { readonly action: 'deployed'; readonly version: number; readonly deploymentNumber: string };

/** The flags document with the fallback switch on; `changed` is false when it already was. */
export function withFallbackOn(doc: FeatureFlagsDocument): { changed: boolean; document: FeatureFlagsDocument } {
  const flag = DEGRADE_FLAGS.USE_FALLBACK_MODEL;
  if (!(flag in (doc.flags ?? {}))) throw new Error(`the degrade profile has no "${flag}" flag; was it created by AiServiceConfig?`);
  if (doc.values?.[flag]?.enabled === true) return { changed: false, document: doc };
  return { changed: true, document: { ...doc, values: { ...doc.values, [flag]: { ...doc.values?.[flag], enabled: true } } } };
}

export async function guard(event: AlarmEvent, store: DegradeStore, now: () => Date = () => new Date()): Promise<GuardOutcome> {
  const state = event.alarmData?.state?.value;
  if (state !== 'ALARM') return { action: 'ignored', reason: `alarm state is ${state ?? 'unknown'}, not ALARM` };
  const latest = await store.latest();
  const next = withFallbackOn(latest.document);
  if (!next.changed) return { action: 'already-degraded', version: latest.version };
  const stamp = now().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const version = await store.create(next.document, `cost-guard-${stamp}`);
  const deploymentNumber = await store.deploy(version, `cost guard: ${event.alarmData?.alarmName ?? 'cost alarm'} in ALARM; switching to the fallback model`);
  return { action: 'deployed', version, deploymentNumber };
}
