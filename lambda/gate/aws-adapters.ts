import {
  type CodeDeployClient,
  GetDeploymentCommand,
  ListTagsForResourceCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type CodeCanaryEvent, GATE_CLIENT_CONTEXT_KEY } from '../shared/contract';
import { s3Store } from '../snapshot/s3-store';
import { withRetries } from '../snapshot/store';
import { parseLambdaAppSpec } from './appspec';
import type { CodeCanaryPort, DeploymentPort, GateStore, Invoker } from './ports';
import type { SettingsSource } from './service-settings';

/** The ClientContext that asks the runtime for its verdict: base64 JSON, well under Invoke's 3,583-byte limit. */
export const GATE_CLIENT_CONTEXT = Buffer.from(JSON.stringify({ custom: { [GATE_CLIENT_CONTEXT_KEY]: '1' } })).toString('base64');

/** The regression store on S3, with the retry policy bounded by the time left. */
export function s3GateStore(client: S3Client, bucket: string, remainingMs: () => number): GateStore {
  const base = withRetries(s3Store(client, bucket), { maxAttempts: 4, remainingMs });
  return {
    get: base.get,
    put: base.put,
    list: base.list,
    async newest(prefix, suffix) {
      let best: { key: string; at: number } | undefined;
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) {
          const at = o.LastModified?.getTime() ?? 0;
          if (o.Key?.endsWith(suffix) && (!best || at > best.at || (at === best.at && o.Key > best.key))) best = { key: o.Key, at };
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return best?.key;
    },
  };
}

/** Invokes `<function>:<qualifier>` synchronously with the gate's ClientContext. */
export function lambdaInvoker(client: LambdaClient, functionName: string): Invoker {
  return {
    async invoke(qualifier, payload, signal) {
      const r = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          Qualifier: qualifier,
          InvocationType: 'RequestResponse',
          ClientContext: GATE_CLIENT_CONTEXT,
          Payload: new TextEncoder().encode(payload),
        }),
        { abortSignal: signal },
      );
      return { ...(r.FunctionError ? { functionError: r.FunctionError } : {}), payload: r.Payload ? new TextDecoder().decode(r.Payload) : '' };
    },
  };
}

/** GetDeployment (the AppSpec's target version, and who created the deployment) and the hook's answer. */
export function codeDeployPort(client: CodeDeployClient): DeploymentPort {
  return {
    async target(deploymentId) {
      const r = await client.send(new GetDeploymentCommand({ deploymentId }));
      const info = r.deploymentInfo;
      const content = info?.revision?.appSpecContent?.content ?? info?.revision?.string?.content;
      if (!content) throw new Error(`deployment ${deploymentId} has no AppSpec content (revisionType ${info?.revision?.revisionType ?? 'unknown'})`);
      return {
        ...parseLambdaAppSpec(content),
        ...(info?.creator ? { creator: info.creator } : {}),
        ...(info?.applicationName ? { application: info.applicationName } : {}),
        ...(info?.deploymentGroupName ? { deploymentGroup: info.deploymentGroupName } : {}),
      };
    },
    async answer(deploymentId, hookExecutionId, status) {
      await client.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: hookExecutionId, status }));
    },
  };
}

/**
 * A shared gate's settings lookup: the deployment group's tags (ListTagsForResource on
 * `<groupArnPrefix><application>/<group>`, every page) and an SSM parameter (GetParameter; ParameterNotFound is
 * undefined, every other error propagates).
 */
export function settingsSource(codedeploy: CodeDeployClient, ssm: SSMClient, groupArnPrefix: string): SettingsSource {
  return {
    async groupTags(application, deploymentGroup) {
      const tags: Record<string, string> = {};
      let token: string | undefined;
      do {
        const r = await codedeploy.send(
          new ListTagsForResourceCommand({ ResourceArn: `${groupArnPrefix}${application}/${deploymentGroup}`, NextToken: token }),
        );
        for (const t of r.Tags ?? []) if (t.Key !== undefined && t.Value !== undefined) tags[t.Key] = t.Value;
        token = r.NextToken;
      } while (token);
      return tags;
    },
    async parameter(name) {
      try {
        return (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
      } catch (e) {
        if ((e as { name?: string }).name === 'ParameterNotFound') return undefined;
        throw e;
      }
    },
  };
}

/**
 * The code canary's announcement: a synchronous invoke of the service's share controller (the share environment's
 * only writer), so two announcements of one hook arrive in order. Rejects when the controller answers an error.
 */
export function shareControllerAnnouncer(client: LambdaClient, controllerFunction: string): CodeCanaryPort {
  return {
    async announce(functionVersion, releaseKey, forSeconds) {
      const event: CodeCanaryEvent = { kind: 'ai-release.code-canary', functionVersion, releaseKey, forSeconds: Math.round(forSeconds) };
      const send = () =>
        client.send(
          new InvokeCommand({ FunctionName: controllerFunction, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
        );
      // The controller runs one look at a time (reserved concurrency 1): an invoke during its minute look is throttled
      // (TooManyRequestsException); its looks take a second or two, so a few spaced attempts get through.
      let r: Awaited<ReturnType<typeof send>>;
      for (let attempt = 1; ; attempt++) {
        try {
          r = await send();
          break;
        } catch (e) {
          if ((e as { name?: string }).name !== 'TooManyRequestsException' || attempt >= 4) throw e;
          await new Promise<void>((done) => setTimeout(done, 400 * attempt).unref());
        }
      }
      if (r.FunctionError)
        throw new Error(`the share controller answered ${r.FunctionError}: ${r.Payload ? new TextDecoder().decode(r.Payload).slice(0, 200) : ''}`);
    },
  };
}
