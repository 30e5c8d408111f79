import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { COST_GUARD_ENV } from '../shared/contract';
import { appConfigStore } from './appconfig-store';
import { guard, type AlarmEvent } from './cost-guard';

const client = new AppConfigClient({});
const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`environment variable ${k} is not set; the cost guard is created by AiRelease({ degradeOnCost: true })`);
  return v;
};
const store = appConfigStore(client, {
  application: need(COST_GUARD_ENV.APPLICATION),
  environment: need(COST_GUARD_ENV.ENVIRONMENT),
  profile: need(COST_GUARD_ENV.PROFILE),
  strategy: need(COST_GUARD_ENV.STRATEGY),
});

export async function handler(event: AlarmEvent) {
  const outcome = await guard(event, store);
  console.log(JSON.stringify({ message: 'cost guard', alarm: event.alarmData?.alarmName, ...outcome }));
  return outcome;
}
