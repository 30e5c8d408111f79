import { simulateSchedule } from './lambda/judge/simulate';
import { BALANCED_50_20, DURING_STEP } from './test/judge-sim';
const sc = DURING_STEP[0];
const t = Date.now();
const r = simulateSchedule(BALANCED_50_20, sc.traffic(BALANCED_50_20), {}, 3, { baselineMinutes: 5, firstSeed: 7501, judge: { alpha: 0.2 } });
console.log(sc.name, r.byEnd, Date.now() - t);
