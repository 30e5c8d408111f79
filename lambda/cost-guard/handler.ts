import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { COST_GUARD_ENV } from '../shared/contract';
import { appConfigStore } from './appconfig-store';
import { type AlarmEvent, CostGuardGaveUp, guard } from './cost-guard';
import { deadline } from '../shared/sdk-deadline';

/** Stop starting attempts this long before the function's timeout, so the give-up record is always written. */
const SAFETY_MARGIN_MS = 10_000;

// A hung connection must not eat the retry budget: each request gives up after 10 s (the SDK then retries it).
// Deadline only: the guard logs its own one structured line when it gives up (naming the operation).
const client = new AppConfigClient(deadline(10_000));
const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the cost guard is created by AiRelease({ costGuard: {} })`);
  return v;
};
const ids = {
  application: need(COST_GUARD_ENV.APPLICATION),
  environment: need(COST_GUARD_ENV.ENVIRONMENT),
  profile: need(COST_GUARD_ENV.PROFILE),
  strategy: need(COST_GUARD_ENV.STRATEGY),
};
const store = appConfigStore(client, ids);

export async function handler(event: AlarmEvent, context: { getRemainingTimeInMillis(): number }) {
  try {
    const outcome = await guard(event, store, { deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS });
    console.log(JSON.stringify({ level: 'INFO', message: 'cost guard', alarm: event.alarmData?.alarmName, ...outcome }));
    return outcome;
  } catch (e) {
    const record = e instanceof CostGuardGaveUp ? { ...e.record, ...ids } : undefined;
    console.error(JSON.stringify({ level: 'ERROR', message: 'cost guard gave up', ...(record ?? { error: String(e) }) }));
    // Thrown, so Lambda retries asynchronously and, after the last retry, sends this record to the on-failure destination.
    throw record ? new CostGuardGaveUp(record) : e;
  }
}
