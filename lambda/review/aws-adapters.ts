/**
 * The review's ports over the AWS SDK: thin translations, no decisions. Shapes follow the API references
 * (CodeDeploy GetDeployment / GetDeploymentConfig, AppConfig GetDeployment, SSM GetParameterHistory, CloudWatch
 * DescribeAlarms / DescribeAlarmHistory / GetMetricData, S3, SNS Publish).
 */
import type { AppConfigClient } from '@aws-sdk/client-appconfig';
import { type CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { type CodeDeployClient, type DeploymentInfo, GetDeploymentCommand, GetDeploymentConfigCommand } from '@aws-sdk/client-codedeploy';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParameterHistoryCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { parse as parseYaml } from 'yaml';
import { parseReleaseManifest } from '../shared/release-manifest';
import { type GuardrailTerm, parseGuardrailTerm } from '../shared/guardrail-terms';
import { describeConfigDeployment } from './appconfig-deployments';
import type { CaseIndex, SnapshotBatch } from '../shared/case-index';
import { type JudgeRecord, judgeKey, manifestParameterName, METRIC_NAMESPACE, type RegressionCase, STORE_PREFIX } from '../shared/contract';
import { casesOfBatch } from '../snapshot/cases';
import { mapLimit } from '../snapshot/store';
import type { StoredEvaluation } from './evaluation';
import type {
  AlarmInfo,
  AlarmPort,
  AlarmTransition,
  CasesPort,
  EvaluationsPort,
  DeploymentFacts,
  DeploymentPort,
  JudgePort,
  ManifestHistoryPort,
  ManifestVersion,
  MetricSeries,
  MetricsPort,
  NotifierPort,
  ReleaseEnd,
  StorePort,
} from './ports';

const isoOf = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

/** CodeDeploy (code plane) and AppConfig (config plane) deployments. */
export function deploymentsPort(codeDeploy: CodeDeployClient, appConfig: AppConfigClient): DeploymentPort {
  return {
    describe: (r) => (r.plane === 'code' ? describeCodeDeployment(codeDeploy, r) : describeConfigDeployment(appConfig, r)),
  };
}

async function describeCodeDeployment(cd: CodeDeployClient, r: ReleaseEnd): Promise<DeploymentFacts> {
  const info = (await cd.send(new GetDeploymentCommand({ deploymentId: r.deploymentId }))).deploymentInfo;
  if (!info) throw new Error(`GetDeployment ${r.deploymentId} returned no deploymentInfo`);
  if (info.rollbackInfo?.rollbackTriggeringDeploymentId) return { steps: [], rollbackOf: info.rollbackInfo.rollbackTriggeringDeploymentId };
  // CloudFormation taking the alias back after a failed stack update: the tail of the release it undid.
  if (info.creator === 'CloudFormationRollback') return { steps: [], rollbackOf: 'a failed stack update (CloudFormation rollback)' };
  const startedAt = isoOf(info.createTime);
  const endedAt = isoOf(info.completeTime);
  let rollback: DeploymentFacts['rollback'];
  const rollbackId = info.rollbackInfo?.rollbackDeploymentId;
  const by = info.errorInformation?.code === 'ALARM_ACTIVE' ? 'alarm' : info.errorInformation?.code === 'MANUAL_STOP' ? 'user' : undefined;
  if (rollbackId) {
    const rb = (await cd.send(new GetDeploymentCommand({ deploymentId: rollbackId }))).deploymentInfo;
    // CodeDeploy starts the rollback deployment when it stops the failed one.
    rollback = {
      startedAt: isoOf(rb?.createTime) ?? endedAt,
      ...(rb?.completeTime && ['Succeeded', 'Failed', 'Stopped'].includes(rb.status ?? '') ? { endedAt: isoOf(rb.completeTime) } : {}),
      ...(by ? { by } : {}),
    };
  }
  const versions = appSpecVersions(info);
  const steps = startedAt && info.deploymentConfigName ? await trafficSteps(cd, info.deploymentConfigName, startedAt, rollback?.startedAt ?? endedAt) : [];
  const message = info.errorInformation?.message ?? info.rollbackInfo?.rollbackMessage;
  return {
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
    ...versions,
    steps,
    ...(rollback ? { rollback } : {}),
    ...(message ? { message } : {}),
  };
}

/** CurrentVersion / TargetVersion from the deployment's AppSpec (JSON or YAML), as CloudFormation writes it. */
export function appSpecVersions(info: DeploymentInfo): { from?: string; to?: string } {
  const content = info.revision?.appSpecContent?.content ?? info.revision?.string?.content;
  if (!content) return {};
  const spec = parseYaml(content) as { Resources?: Record<string, { Properties?: { CurrentVersion?: unknown; TargetVersion?: unknown } }>[] };
  for (const entry of spec?.Resources ?? []) {
    for (const res of Object.values(entry ?? {})) {
      const p = res?.Properties;
      if (p?.TargetVersion !== undefined) return { ...(p.CurrentVersion !== undefined ? { from: String(p.CurrentVersion) } : {}), to: String(p.TargetVersion) };
    }
  }
  return {};
}

/** The traffic steps the deployment config plans (TimeBasedCanary / TimeBasedLinear / AllAtOnce), up to the end. */
async function trafficSteps(cd: CodeDeployClient, configName: string, startedAt: string, until?: string): Promise<{ at: string; percent: number }[]> {
  const routing = (await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: configName }))).deploymentConfigInfo?.trafficRoutingConfig;
  const t0 = Date.parse(startedAt);
  const plan: { at: number; percent: number }[] = [];
  if (routing?.type === 'TimeBasedCanary' && routing.timeBasedCanary) {
    const c = routing.timeBasedCanary;
    plan.push({ at: t0, percent: c.canaryPercentage ?? 0 }, { at: t0 + (c.canaryInterval ?? 0) * 60_000, percent: 100 });
  } else if (routing?.type === 'TimeBasedLinear' && routing.timeBasedLinear) {
    const l = routing.timeBasedLinear;
    const step = Math.max(1, l.linearPercentage ?? 100);
    for (let i = 0, p = step; p < 100 + step; i++, p += step) plan.push({ at: t0 + i * (l.linearInterval ?? 0) * 60_000, percent: Math.min(100, p) });
  } else {
    plan.push({ at: t0, percent: 100 });
  }
  const end = until ? Date.parse(until) : Number.POSITIVE_INFINITY;
  return plan.filter((s) => s.at <= end).map((s) => ({ at: new Date(s.at).toISOString(), percent: s.percent }));
}

/** The manifest parameter's history: every version SSM keeps (the last 100), oldest first. */
export function ssmManifestHistory(ssm: SSMClient, stack: string): ManifestHistoryPort {
  return {
    history: async (service) => {
      const name = manifestParameterName(stack, service);
      const out: ManifestVersion[] = [];
      let token: string | undefined;
      do {
        const page = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 50, NextToken: token }));
        for (const p of page.Parameters ?? []) {
          if (!p.Value || !p.LastModifiedDate) continue;
          try {
            out.push({ at: p.LastModifiedDate.toISOString(), manifest: parseReleaseManifest(JSON.parse(p.Value), `${name} version ${p.Version}`) });
          } catch {
            // A hand-edited or foreign value is not a release: skip it rather than lose the review.
          }
        }
        token = page.NextToken;
      } while (token);
      return out.sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}

export function cloudWatchAlarms(cw: CloudWatchClient): AlarmPort {
  return {
    alarms: async (prefix) => {
      const out: AlarmInfo[] = [];
      let token: string | undefined;
      do {
        const page = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, AlarmTypes: ['MetricAlarm'], NextToken: token }));
        for (const a of page.MetricAlarms ?? []) {
          const info = alarmInfo(a);
          if (info) out.push(info);
        }
        token = page.NextToken;
      } while (token);
      return out;
    },
    history: async (names, start, end) => {
      const out: AlarmTransition[] = [];
      for (const name of names) {
        let token: string | undefined;
        do {
          const page = await cw.send(
            new DescribeAlarmHistoryCommand({
              AlarmName: name,
              HistoryItemType: 'StateUpdate',
              StartDate: new Date(Date.parse(start) - 60_000),
              EndDate: new Date(end),
              ScanBy: 'TimestampAscending',
              NextToken: token,
            }),
          );
          for (const h of page.AlarmHistoryItems ?? []) {
            const data = safeJson(h.HistoryData) as { oldState?: { stateValue?: string }; newState?: { stateValue?: string } } | undefined;
            if (!h.Timestamp || !data?.newState?.stateValue) continue;
            out.push({ alarm: h.AlarmName ?? name, at: h.Timestamp.toISOString(), from: data.oldState?.stateValue ?? '?', to: data.newState.stateValue });
          }
          token = page.NextToken;
        } while (token);
      }
      return out.sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}

/** Threshold, comparison, period and invocation guard of one metric alarm, as described. */
export function alarmInfo(a: MetricAlarm): AlarmInfo | undefined {
  if (!a.AlarmName || a.Threshold === undefined) return undefined;
  const periods = [a.Period, ...(a.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period)].filter((p): p is number => typeof p === 'number');
  const expression = (a.Metrics ?? []).find((m) => m.ReturnData !== false && m.Expression)?.Expression ?? '';
  // A combined alarm returns MAX of its terms: the guard and the thresholds are in the terms' expressions.
  const terms: GuardrailTerm[] = [];
  for (const m of a.Metrics ?? []) {
    if (m.ReturnData !== false || !m.Id || !m.Expression) continue;
    try {
      const t = parseGuardrailTerm(m.Id, m.Expression);
      if (t) terms.push(t);
    } catch {
      // An edited term: the review charts and names the others.
    }
  }
  const guard = [expression, ...(a.Metrics ?? []).map((m) => m.Expression ?? '')].map((e) => /\binv\s*>=\s*(\d+)/.exec(e)).find((g) => g);
  return {
    name: a.AlarmName,
    threshold: a.Threshold,
    comparison: (a.ComparisonOperator ?? '').startsWith('Less') ? '<' : '>',
    periodSeconds: periods.length > 0 ? Math.max(...periods) : 60,
    minInvocations: guard ? Number(guard[1]) : 1,
    ...(terms.length > 0 ? { terms } : {}),
  };
}

export function cloudWatchMetrics(cw: CloudWatchClient): MetricsPort {
  return {
    fetch: async (queries, start, end) => {
      const out: Record<string, { timestamps: string[]; values: number[] }> = {};
      let token: string | undefined;
      do {
        const page = await cw.send(
          new GetMetricDataCommand({
            StartTime: new Date(start),
            EndTime: new Date(end),
            ScanBy: 'TimestampAscending',
            NextToken: token,
            MetricDataQueries: queries.map((q) => ({
              Id: q.id,
              ReturnData: true,
              MetricStat: {
                Metric: {
                  Namespace: METRIC_NAMESPACE,
                  MetricName: q.metricName,
                  Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })),
                },
                Period: q.periodSeconds,
                Stat: q.stat,
              },
            })),
          }),
        );
        for (const r of page.MetricDataResults ?? []) {
          if (!r.Id) continue;
          const s = out[r.Id] ?? { timestamps: [], values: [] };
          out[r.Id] = s;
          (r.Timestamps ?? []).forEach((t, i) => {
            s.timestamps.push(t.toISOString());
            s.values.push(r.Values?.[i] ?? 0);
          });
        }
        token = page.NextToken;
      } while (token);
      for (const s of Object.values(out)) {
        const order = s.timestamps.map((t, i) => [t, s.values[i]] as const).sort((a, b) => a[0].localeCompare(b[0]));
        s.timestamps = order.map((o) => o[0]);
        s.values = order.map((o) => o[1]);
      }
      return out as Record<string, MetricSeries>;
    },
  };
}

/** At most this many case and batch objects are read per review (the newest first): a review is not a scan of the store. */
export const MAX_CASES_READ = 200;

export function s3Cases(s3: S3Client, bucket: string): CasesPort {
  return {
    touchedSince: async (service, since) => {
      const keys: { key: string; at: number }[] = [];
      for (const state of ['candidate', 'accepted']) {
        let token: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: `${STORE_PREFIX.CASES}/${service}/${state}/`, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? []) {
            if (o.Key?.endsWith('.json') && o.LastModified && o.LastModified.getTime() >= Date.parse(since))
              keys.push({ key: o.Key, at: o.LastModified.getTime() });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
      const out: RegressionCase[] = [];
      for (const { key } of keys.sort((a, b) => b.at - a.at).slice(0, MAX_CASES_READ)) {
        const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
        const c = safeJson(body) as RegressionCase | undefined;
        // A moved marker (left where a promoted or retired case was) is not a case.
        if (c?.schemaVersion === 1 && c.service === service && !(c as { moved?: unknown }).moved) out.push(c);
      }
      // Candidates seen in one delivery only have no object: the index lists them under the batch that holds them.
      // The batches received since `since` are read (newest first, bounded like the objects) and folded.
      const index = safeJson(await getText(s3, bucket, `${STORE_PREFIX.INDEX}/${service}.json`)) as CaseIndex | undefined;
      const have = new Set(out.map((c) => c.caseId));
      const byBatch = new Map<string, { at: string; ids: string[] }>();
      for (const [deliveryKey, g] of Object.entries(index?.service === service ? (index.batched ?? {}) : {}))
        if (Date.parse(g.at) >= Date.parse(since)) byBatch.set(deliveryKey, { at: g.at, ids: [...g.ids] });
      // Candidates seen again whose object is not written (the snapshot writes one only when a case learns something):
      // the index entry holds their counters, their first batch their content.
      for (const [id, e] of Object.entries(index?.service === service ? index.cases : {})) {
        const touched = Math.max(Date.parse(e.lastSeen), Date.parse(e.written || e.lastSeen));
        if (e.state !== 'candidate' || !e.firstBatch || have.has(id) || touched < Date.parse(since)) continue;
        const g = byBatch.get(e.firstBatch) ?? { at: e.lastSeen, ids: [] };
        g.ids.push(id);
        byBatch.set(e.firstBatch, g);
      }
      const groups = [...byBatch].sort((a, b) => b[1].at.localeCompare(a[1].at));
      let budget = MAX_CASES_READ - out.length;
      for (const [deliveryKey, g] of groups) {
        if (budget <= 0) break;
        budget -= 1;
        const batch = safeJson(await getText(s3, bucket, `${STORE_PREFIX.BATCHES}/${service}/${deliveryKey}.json`)) as SnapshotBatch | undefined;
        if (batch?.schemaVersion !== 1 || batch.service !== service) continue;
        const folded = casesOfBatch(batch);
        for (const id of g.ids) {
          const c = folded.get(id);
          const e = index?.cases[id];
          if (c && !have.has(id)) out.push(e ? { ...c, count: e.count, firstSeen: e.firstSeen, lastSeen: e.lastSeen, kinds: e.kinds } : c);
        }
      }
      return out;
    },
  };
}

/** An object's text, or undefined when it does not exist. */
async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
  } catch (e) {
    if ((e as Error).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw e;
  }
}

/** The canary judge's records (judge/<service>/<releaseKey>.json); none is not an error (judge off, or never ran). */
export function s3JudgeRecords(s3: S3Client, bucket: string): JudgePort {
  return {
    async record(service, releaseKey) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: judgeKey(service, releaseKey) }));
        const r = JSON.parse(await out.Body!.transformToString()) as JudgeRecord;
        if (r.schemaVersion !== 1) throw new Error(`judge record ${judgeKey(service, releaseKey)} has schemaVersion ${r.schemaVersion}; this review reads 1`);
        return r;
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}

export function s3Store(s3: S3Client, bucket: string): StorePort {
  return {
    exists: async (key) => {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchKey') return false;
        throw e;
      }
    },
    put: async (key, body, contentType, ifAbsent) => {
      try {
        // If-None-Match: * makes S3 refuse to overwrite (412): two concurrent deliveries write one review.
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ...(ifAbsent ? { IfNoneMatch: '*' } : {}) }));
        return 'written';
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (ifAbsent && (status === 412 || status === 409 || (e as Error).name === 'PreconditionFailed')) return 'exists';
        throw e;
      }
    },
    location: (key) => `s3://${bucket}/${key}`,
  };
}

export function snsNotifier(sns: SNSClient, topicArn: string): NotifierPort {
  return {
    publish: async (subject, message) => {
      await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    },
  };
}

function safeJson(s: string | undefined): unknown {
  if (!s) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Most evaluation results one review reads (newest first): enough for the tests' power, bounded in time and cost. */
export const MAX_EVALUATIONS_READ = 2000;

/**
 * The evaluator's results of a service (evaluations/<service>/samples/*.json) written in the release window: listed
 * by LastModified (the evaluator writes each one once, minutes after the sample), then read, newest first, bounded.
 */
export function s3Evaluations(s3: S3Client, bucket: string): EvaluationsPort {
  return {
    samples: async (service, start, end) => {
      const from = Date.parse(start);
      // The evaluator runs off the hot path: results of samples near the end arrive a little later.
      const to = Date.parse(end) + 15 * 60_000;
      const keys: { key: string; at: number }[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `evaluations/${service}/samples/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          const at = o.LastModified?.getTime() ?? 0;
          if (o.Key?.endsWith('.json') && at >= from && at <= to) keys.push({ key: o.Key, at });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      // 16 reads in flight: 2,000 small objects in seconds, well inside the review function's 3 minutes.
      const read = await mapLimit(keys.sort((a, b) => b.at - a.at).slice(0, MAX_EVALUATIONS_READ), 16, async ({ key }) => {
        const r = safeJson(await getText(s3, bucket, key)) as StoredEvaluation | undefined;
        return r?.sample?.service === service && r.result && Array.isArray(r.result.scores) ? r : undefined;
      });
      return read.filter((r): r is StoredEvaluation => r !== undefined);
    },
  };
}
