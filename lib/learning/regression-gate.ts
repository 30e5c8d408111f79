import { ArnFormat, type CfnElement, CfnResource, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import { appConfigReadStatement } from '../config/config-grants';
import { nagText } from '../private/nag-text';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  CODE_CANARY_MAX_WINDOW_MS,
  GATE_ALIAS_NAME,
  GATE_CANDIDATE_MODES,
  GATE_DEPLOYMENT_ENV,
  GATE_ENV,
  GATE_EVALUATION_ENV,
  type GateCandidateMode,
  type GateEvaluationSettings,
  type GateReplayPass,
  GATE_SETTINGS_TAG,
  GATE_SHARED_ENV,
  type GateServiceSettingsDocument,
  LEARNING_ENV,
  STORE_PREFIX,
} from '../../lambda/shared/contract';
import { libraryFunction } from '../private/library-function';
import { namePrefix, physicalName } from '../private/physical-names';
import { manifestStackPath } from '../config/release-manifest-recorder';
import { checkGateEvaluationSettings, DEFAULT_GATE_EVALUATION, DEFAULT_PAIRWISE } from '../../lambda/gate/evaluate';
import { evaluatorModelStatements, routedFoundationModel } from './release-evaluator';

/**
 * How the gate's evaluator judges replayed cases (issue 17 E). Only cases that carry a reference answer
 * (`expectation.reference`) or rubric floors (`expectation.minScores`) are judged by it; every other case is replayed
 * once, as before. The rubrics, scale and deterministic checks are the LIVE config's evaluation section: a release is
 * never judged by a rubric it changes itself.
 */
export interface RegressionGateEvaluationOptions {
  /** Replays of each evaluated case: LLM answers vary, so one replay is one draw. 1 to 10. @default 3 */
  readonly replays?: number;
  /** How many replays must pass: `'majority'` (more than half), `'all'`, or `{ atLeast: n }`. @default 'majority' */
  readonly pass?: GateReplayPass;
  /**
   * Most the evaluator model may cost in one gate run, USD. The gate's own cap, not the evaluation section's ledger
   * (the canary's budget is left whole); a call it refuses leaves the replay unscored, so not passed. At Claude Sonnet
   * prices a call costs about 0.002–0.004 USD, so 500 evaluated cases with one floor (about 1,150 calls at majority
   * of 3) cost 2–5 USD; pairwise adds 2 × `replays` calls per case (3 answers per side: 6). @default 10
   */
  readonly maxUsd?: number;
  /**
   * Config gate: compare the candidate config's answers with the live config's on every replayed case, `replays`
   * answers per side (LLM answers vary): the candidate's answer i against the live config's answer i, the evaluator
   * asked in both orders (its position bias only adds ties), and the case goes to the side that won more of its
   * comparisons. The gate fails when the candidate loses more than `maxLossRate` of the decided cases and a one-sided
   * sign test over cases at `alpha` shows it loses more than it wins. Costs `replays` replays on the live config, up to
   * `replays` − 1 more on the candidate (a case judged once, or decided early), and 2 × `replays` evaluator calls per
   * case, all evaluator calls under `maxUsd`. @default false (off)
   */
  readonly pairwise?: boolean | { readonly maxLossRate?: number; readonly alpha?: number };
}

/** How the gate replays and judges; every setting has the default a burned team would pick. */
export interface RegressionGateOptions {
  /** Cases above which a stratified sample (by failure kind, newest first, last release's cases always in) is replayed. @default 500 */
  readonly caseCap?: number;
  /** Invocations of the service in flight at once. @default 10 */
  readonly concurrency?: number;
  /** Longest one replay may take; a case over it fails with a timeout. @default Duration.seconds(30) */
  readonly caseTimeout?: Duration;
  /** Share of the blocking cases that must pass, 0..1. @default 1 (every accepted case) */
  readonly passRate?: number;
  /** Candidates (cases not yet accepted): not replayed, replayed and reported, or replayed and blocking. @default 'off' */
  readonly candidates?: GateCandidateMode;
  /**
   * The gate function's timeout. The gate answers CodeDeploy 10 s before it, whatever is still running (cases not run
   * count as not passed), and stops starting replays 5 s before that to write its report.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * The evaluator judging replays of cases with a reference answer or rubric floors; `false` turns it off (those
   * cases are then judged on their other expectations, and the report says so).
   * @default on, with the RegressionGateEvaluationOptions defaults, when the release config has an evaluation section
   */
  readonly evaluation?: boolean | RegressionGateEvaluationOptions;
}

export interface RegressionGateProps extends RegressionGateOptions {
  readonly serviceName: string;
  /** The service function: the gate invokes its versions (code plane) and its `gate` alias (config plane). */
  readonly function: lambda.IFunction;
  /** The regression store: cases/ and reviews/ are read, gates/ written. */
  readonly bucket: s3.IBucket;
  /** The deployment group whose pre-traffic (BeforeAllowTraffic) hook the gate becomes. @default none: not a hook (config plane only) */
  readonly deploymentGroup?: codedeploy.LambdaDeploymentGroup;
  /**
   * The service's evaluator: the model the gate may call (granted `bedrock:InvokeModel` on it only) and the live
   * environment whose evaluation section judges. AiRelease sets it from the release config's evaluation section.
   * @default none: no evaluator (evaluated cases are judged on their other expectations)
   */
  readonly evaluator?: {
    readonly modelId: string;
    readonly appConfig: { readonly applicationId: string; readonly environmentId: string; readonly profileId: string };
  };
  /**
   * The construct whose shared gate function this service joins (AiRelease: its platform): one function, role and
   * policy for up to SERVICES_PER_GATE_FUNCTION services, which reads each service's settings (`settingsDocument`)
   * from `settingsParameter` when an event comes (issue 15 E). The caller writes the document there (AiRelease: the
   * service's release manifest parameter, with locators naming the function, the deployment group and the live
   * AppConfig ids) and the alias update waits for it.
   * @default none: a function of this gate's own, its settings in its environment
   */
  readonly host?: Construct;
  /**
   * With `host`: the name of the SSM parameter that holds this service's settings document (the deployment group is
   * tagged GATE_SETTINGS_TAG with it). Required with `host`.
   * @default none
   */
  readonly settingsParameter?: string;
}

/**
 * The regression gate of one service: replays the accepted regression cases against a new code version before it
 * gets traffic (CodeDeploy BeforeAllowTraffic), and against a candidate config through the `gate` alias (a
 * ConfigGateRequest, invoked synchronously by the config plane). Writes `gates/<service>/<release>.json|.md` and
 * always answers CodeDeploy, on every path, before its own timeout. With a `host` (AiRelease: its platform) the
 * function is shared by up to SERVICES_PER_GATE_FUNCTION services and reads this service's settings from
 * `settingsParameter`; alone, it is a function of this gate's own.
 */
export class RegressionGate extends Construct {
  public readonly function: lambda.Function;
  public readonly serviceName: string;
  /** The settings as deployed (defaults filled in). */
  public readonly settings: {
    readonly caseCap: number;
    readonly concurrency: number;
    readonly caseTimeoutMs: number;
    readonly passRate: number;
    readonly candidates: GateCandidateMode;
  };

  /** The evaluator's settings as deployed, when it judges replays. */
  public readonly evaluationSettings?: GateEvaluationSettings;
  /**
   * The settings as a shared gate function reads them (the `gate` block of the service's release manifest parameter):
   * literals only; the function, deployment group and AppConfig ids are the manifest's locators.
   */
  public readonly settingsDocument: GateServiceSettingsDocument;
  /** With a host: the SSM parameter the shared function reads this service's settings from. */
  public readonly settingsParameter?: string;
  private readonly hosted: boolean;
  private announced = false;

  constructor(scope: Construct, id: string, props: RegressionGateProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.serviceName = props.serviceName;
    const caseCap = props.caseCap ?? 500;
    const concurrency = props.concurrency ?? 10;
    const caseTimeoutMs = (props.caseTimeout ?? Duration.seconds(30)).toMilliseconds();
    const passRate = props.passRate ?? 1;
    const candidates = props.candidates ?? 'off';
    const timeout = props.timeout ?? Duration.minutes(15);
    if (!Number.isInteger(caseCap) || caseCap < 1) throw new Error(`regressionGate.caseCap must be a positive integer, got ${caseCap}`);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
      throw new Error(`regressionGate.concurrency must be an integer from 1 to 1000, got ${concurrency}`);
    if (!(passRate >= 0 && passRate <= 1)) throw new Error(`regressionGate.passRate must be between 0 and 1 (1 = every accepted case), got ${passRate}`);
    if (!(GATE_CANDIDATE_MODES as readonly string[]).includes(candidates))
      throw new Error(`regressionGate.candidates must be one of ${GATE_CANDIDATE_MODES.join(', ')}, got "${candidates}"`);
    // Room for at least one replay after the answer margin (10 s) and the report reserve (5 s).
    if (timeout.toMilliseconds() < caseTimeoutMs + 20_000)
      throw new Error(
        `regressionGate.timeout (${timeout.toSeconds()} s) must exceed caseTimeout (${caseTimeoutMs / 1000} s) by at least 20 s: the gate answers CodeDeploy 10 s before its timeout and keeps 5 s to write its report`,
      );
    this.settings = { caseCap, concurrency, caseTimeoutMs, passRate, candidates };

    const environment: Record<string, string> = {
      [GATE_ENV.SERVICE]: props.serviceName,
      [GATE_ENV.TARGET_FUNCTION]: props.function.functionName,
      [GATE_ENV.CASE_CAP]: String(caseCap),
      [GATE_ENV.CONCURRENCY]: String(concurrency),
      [GATE_ENV.CASE_TIMEOUT_MS]: String(caseTimeoutMs),
      [GATE_ENV.PASS_RATE]: String(passRate),
      [GATE_ENV.CANDIDATES]: candidates,
      [GATE_DEPLOYMENT_ENV.TARGET_GATE_ALIAS]: `${props.function.functionName}:${GATE_ALIAS_NAME}`,
      [LEARNING_ENV.BUCKET]: props.bucket.bucketName,
    };
    const evalOptions = typeof props.evaluation === 'object' ? props.evaluation : {};
    if (props.evaluator && props.evaluation !== false) {
      const pw = evalOptions.pairwise;
      const settings: GateEvaluationSettings = {
        k: evalOptions.replays ?? DEFAULT_GATE_EVALUATION.k,
        pass: evalOptions.pass ?? DEFAULT_GATE_EVALUATION.pass,
        maxUsd: evalOptions.maxUsd ?? DEFAULT_GATE_EVALUATION.maxUsd,
        ...(pw ? { pairwise: { ...DEFAULT_PAIRWISE, ...(typeof pw === 'object' ? pw : {}) } } : {}),
      };
      // The names the user wrote: `replays`, not the settings' `k`.
      try {
        checkGateEvaluationSettings(settings, 'regressionGate.evaluation');
      } catch (e) {
        throw new Error((e as Error).message.replace('regressionGate.evaluation.k ', 'regressionGate.evaluation.replays '));
      }
      this.evaluationSettings = settings;
      environment[GATE_EVALUATION_ENV.SETTINGS] = JSON.stringify(settings);
      environment[GATE_EVALUATION_ENV.MODEL_ID] = props.evaluator.modelId;
      environment[GATE_EVALUATION_ENV.APPLICATION] = props.evaluator.appConfig.applicationId;
      environment[GATE_EVALUATION_ENV.LIVE_ENVIRONMENT] = props.evaluator.appConfig.environmentId;
      environment[GATE_EVALUATION_ENV.PROFILE] = props.evaluator.appConfig.profileId;
    }
    this.settingsDocument = {
      ...this.settings,
      timeoutMs: timeout.toMilliseconds(),
      hook: props.deploymentGroup !== undefined,
      ...(this.evaluationSettings && props.evaluator ? { evaluation: { ...this.evaluationSettings, modelId: props.evaluator.modelId } } : {}),
    };
    this.hosted = props.host !== undefined;
    if (props.host) {
      if (!props.settingsParameter)
        throw new Error(`RegressionGate ${this.node.path}: a gate with a host needs settingsParameter, the SSM parameter that holds its settings document`);
      this.settingsParameter = props.settingsParameter;
      this.function = joinSharedGate(this, props, props.host, props.settingsParameter);
      return;
    }
    if (props.deploymentGroup) {
      environment[GATE_DEPLOYMENT_ENV.APPLICATION] = props.deploymentGroup.application.applicationName;
      environment[GATE_DEPLOYMENT_ENV.DEPLOYMENT_GROUP] = props.deploymentGroup.deploymentGroupName;
    }
    this.function = libraryFunction(this, 'Function', {
      handler: 'gate',
      description: `${props.serviceName}: regression gate (replays the accepted cases before a version or config gets traffic)`,
      timeout,
      memorySize: 512,
      environment,
    });
    const fn = this.function;

    // Every version and alias of the service function (`<arn>:*`): a grant on the one new version would change the
    // policy at each deploy, seconds before the hook runs, and race IAM's propagation (AccessDenied on the first
    // replays, aws/serverless-application-model#838). The unqualified ARN ($LATEST) is not granted.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${props.function.functionArn}:*`] }));
    const svc = props.serviceName;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          props.bucket.arnForObjects(`${STORE_PREFIX.CASES}/${svc}/*`),
          props.bucket.arnForObjects(`${STORE_PREFIX.REVIEWS}/${svc}/*`),
          // Candidates seen again that have no object live in the index (counters) and their first batch (content):
          // the gate reads them there when candidates report or block (lambda/gate/select.ts).
          props.bucket.arnForObjects(`${STORE_PREFIX.INDEX}/${svc}.json`),
          props.bucket.arnForObjects(`${STORE_PREFIX.BATCHES}/${svc}/*`),
        ],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(`${STORE_PREFIX.GATES}/${svc}/*`)] }));
    props.bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');

    if (this.evaluationSettings && props.evaluator) {
      // Converse is authorized as bedrock:InvokeModel ("Prerequisites for running model inference", Bedrock user
      // guide): on the evaluator's inference profile and the foundation model it routes to, nothing else.
      for (const statement of evaluatorModelStatements(stack, props.evaluator.modelId)) fn.addToRolePolicy(statement);
      const c = props.evaluator.appConfig;
      fn.addToRolePolicy(appConfigReadStatement(stack, c.applicationId, c.environmentId, c.profileId));
      const routed = routedFoundationModel(props.evaluator.modelId);
      if (routed)
        Validations.of(fn).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${routed}]`,
          reason:
            'A cross-Region inference profile routes to the named foundation model in any of its destination Regions; Bedrock authorizes the model there (Bedrock user guide, inference profile prerequisites).',
        });
    }

    if (props.deploymentGroup) {
      const group = props.deploymentGroup;
      // addPreHook grants codedeploy:PutLifecycleEventHookExecutionStatus on this deployment group and sets the
      // alias's UpdatePolicy BeforeAllowTrafficHook to this function.
      group.addPreHook(fn);
      const groupArn = stack.formatArn({
        service: 'codedeploy',
        resource: 'deploymentgroup',
        resourceName: `${group.application.applicationName}/${group.deploymentGroupName}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [groupArn] }));
      // addPreHook also lets CodeDeploy's role invoke the hook (`<arn>` and `<arn>:*`, LambdaDeploymentGroup's grant):
      // the managed AWSCodeDeployRoleForLambdaLimited only covers functions named CodeDeployHook_*.
      Validations.of(group.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason: "Scoped wildcard: CodeDeploy invokes this service's regression gate (the pre-traffic hook) and its versions; CDK's addPreHook grant.",
      });
    }

    const bucketArn = nagText(stack, props.bucket.bucketArn) ?? JSON.stringify(stack.resolve(props.bucket.bucketArn));
    const fnArn = nagText(stack, props.function.functionArn) ?? JSON.stringify(stack.resolve(props.function.functionArn));
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "AWSLambdaBasicExecutionRole only lets the gate write its own logs (and its EMF metrics); it is AWS's maintained minimum for Lambda.",
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: 'The gate calls only AWS APIs (Lambda Invoke, S3, CodeDeploy) over TLS with IAM auth; it holds no network-reachable data.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${fnArn}:*]`,
        reason: "Scoped wildcard: the versions and aliases of this service's function (the version under test is known only at deploy time).",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${STORE_PREFIX.CASES}/${svc}/*]`,
        reason: "Scoped wildcard: this service's regression cases, read only.",
      },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${STORE_PREFIX.REVIEWS}/${svc}/*]`, reason: "Scoped wildcard: this service's reviews, read only." },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${STORE_PREFIX.BATCHES}/${svc}/*]`,
        reason: "Scoped wildcard: this service's snapshot batches (redacted records; delivery keys chosen at run time), read only.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${STORE_PREFIX.GATES}/${svc}/*]`,
        reason: "Scoped wildcard: this service's gate reports, one per release.",
      },
    );
  }

  /**
   * The code canary's announcement (issue 17 D): the pre-traffic hook tells `controller` (the service's share
   * controller) the version under test, for the hook's run plus `shiftSeconds` (the traffic shift's length) plus 60 s.
   * Grants `lambda:InvokeFunction` on the controller's unqualified ARN. A shared gate (with a host) reads the two
   * settings from this service's gate block (`settingsDocument.codeCanary`, in the release manifest parameter), its
   * grant in the host's invoke statement (a service in the host's stack) or this service's own grants policy (a
   * service in another stack: the host's stack never refers to it). A gate of its own takes them in its environment.
   * Called by ConfigShare.announceCodeCanaries; once per gate.
   */
  public announceCodeCanaryTo(controller: lambda.IFunction, shiftSeconds: number): void {
    const max = CODE_CANARY_MAX_WINDOW_MS / 1000;
    if (!Number.isInteger(shiftSeconds) || shiftSeconds < 0 || shiftSeconds > max)
      throw new Error(
        `RegressionGate ${this.node.path}: the code canary's shiftSeconds must be whole seconds from 0 to ${max} (the traffic shift's length; the runtime ignores longer announcements), got ${shiftSeconds}`,
      );
    if (this.announced) throw new Error(`RegressionGate ${this.node.path}: the code canary is already announced to a share controller`);
    this.announced = true;
    // The unqualified function only (the announcer invokes it by name): no version or alias wildcard.
    const arn = controller.functionArn;
    if (this.hosted) {
      (this.settingsDocument as { codeCanary?: GateServiceSettingsDocument['codeCanary'] }).codeCanary = {
        controller: controller.functionName,
        shiftSeconds,
      };
      const joined = JOINED.get(this);
      if (!joined) throw new Error(`RegressionGate ${this.node.path}: not joined to its host's gate function`);
      if (joined.ownInvoke) joined.ownInvoke.addResources(arn);
      else joined.host.addResources('invoke', [arn]);
      return;
    }
    this.function.addEnvironment(GATE_ENV.CODE_CANARY_CONTROLLER, controller.functionName);
    this.function.addEnvironment(GATE_ENV.CODE_CANARY_SHIFT_SECONDS, String(shiftSeconds));
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [arn] }));
  }
}

/**
 * Services per shared gate function. IAM allows 10,240 characters of inline policies per role in total (IAM quotas,
 * "Role policy size"; an AWS::IAM::Policy attached to the role counts), and a service adds to its gate's role only
 * what the library cannot name by a pattern: `lambda:InvokeFunction` on its function's versions (and, with an
 * evaluator, its live configuration). Everything else is one statement for every service: the store's prefixes, the
 * platform CodeDeploy application's groups, the manifest parameters of the platform's stack, the Deny on every `live`
 * alias. Measured by bench/gate-policy-size.ts (bench/RESULTS.md § h8-gate): +47 characters per service in the
 * function's stack (+154 with an evaluator), +294 to +303 in a stack of its own (a policy each) beside about 1,150
 * of the role's own; an assigned config canary adds its share controller (+41 to +45, h8-codepairs2), so one role
 * would hold 26 services at worst. 20 keep the largest role at 50 services at 7,858 characters (77 %, nested,
 * assigned; 6,958 without), with room for names longer than the bench's; a flat stack (about 15 services) needs one.
 */
export const SERVICES_PER_GATE_FUNCTION = 20;

/** The shared gate function of a host, its grants, and how many services it gates. */
interface GateHost {
  readonly function: lambda.Function;
  readonly functionName: string;
  readonly bucket: s3.IBucket;
  services: number;
  /** Adds resources to the host's one statement of that kind (deduplicated). */
  addResources(kind: 'invoke' | 'appconfig' | 'parameters' | 'groups', arns: readonly string[]): void;
  /** Adds a statement once (by its rendered text). */
  addOnce(statement: iam.PolicyStatement): void;
  /** The CodeDeploy roles already allowed to invoke the hook. */
  readonly hookRoles: Set<iam.IRole>;
}
const GATE_HOSTS = new WeakMap<Construct, GateHost[]>();

/** The shared gate function a new service of `host` joins: the last one while it has room, else a new one. */
function gateHost(host: Construct, bucket: s3.IBucket): GateHost {
  const shards = GATE_HOSTS.get(host) ?? [];
  const last = shards.at(-1);
  if (last && last.bucket !== bucket)
    throw new Error('every regression gate of one host must keep its cases in the same bucket: the shared gate function reads one regression store');
  if (last && last.services < SERVICES_PER_GATE_FUNCTION) {
    last.services++;
    return last;
  }
  const made = newGateHost(host, bucket, shards.length + 1);
  GATE_HOSTS.set(host, [...shards, made]);
  return made;
}

function newGateHost(host: Construct, bucket: s3.IBucket, shard: number): GateHost {
  const suffix = shard === 1 ? '' : String(shard);
  const stack = Stack.of(host);
  const functionName = physicalName('lambdaFunction', namePrefix(host), `regression-gate${suffix ? `-${suffix}` : ''}`);
  const fn = libraryFunction(host, `RegressionGate${suffix}`, {
    handler: 'gate',
    // A literal name: each service's alias names it as its BeforeAllowTraffic hook without a cross-stack reference.
    functionName,
    description: 'cdk-ai-release: the regression gate of every service on this platform (replays the accepted cases before a version or config gets traffic)',
    // Lambda's maximum: each service's own gate timeout bounds its run (its settings), the answer 10 s before it.
    timeout: Duration.minutes(15),
    memorySize: 512,
    environment: {
      [LEARNING_ENV.BUCKET]: bucket.bucketName,
      [GATE_SHARED_ENV.GROUP_ARN_PREFIX]: `arn:${stack.partition}:codedeploy:${stack.region}:${stack.account}:deploymentgroup:`,
    },
  });
  const statements = {
    invoke: new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'] }),
    appconfig: new iam.PolicyStatement({ actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'] }),
    parameters: new iam.PolicyStatement({ actions: ['ssm:GetParameter'] }),
    // GetDeployment (the deployment's group and AppSpec) and ListTagsForResource (which service: the group's tag) on
    // the Service Authorization Reference's deploymentgroup; PutLifecycleEventHookExecutionStatus has no resource type
    // there, yet CodeDeploy authorizes it on the group (as LambdaDeploymentGroup.addPreHook grants it).
    groups: new iam.PolicyStatement({
      actions: ['codedeploy:GetDeployment', 'codedeploy:ListTagsForResource', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
    }),
  };
  const added = new Set<string>();
  const seen = new Set<string>();
  const key = (v: unknown) => JSON.stringify(stack.resolve(v));
  // The store: every service's cases, reviews, index entries and batches read, gate reports written (the function
  // gates every service of the platform, so it holds their union; S3 keys never leave the service's folder: hook.ts).
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [STORE_PREFIX.CASES, STORE_PREFIX.REVIEWS, STORE_PREFIX.INDEX, STORE_PREFIX.BATCHES].map((p) => bucket.arnForObjects(`${p}/*`)),
    }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${STORE_PREFIX.GATES}/*`)] }));
  bucket.encryptionKey?.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
  // It replays versions and the gate alias, never the callers' alias of any service: their traffic and alarms are
  // not its to touch. One Deny for every service (the alias is `live` in every AiRelease).
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: ['lambda:InvokeFunction'],
      // Any Region and account: a Deny may be broader than what it guards.
      resources: [`arn:${stack.partition}:lambda:*:*:function:*:${LIVE_ALIAS}`],
    }),
  );
  const made: GateHost = {
    function: fn,
    functionName,
    bucket,
    services: 1,
    hookRoles: new Set(),
    addResources(kind, arns) {
      const fresh = arns.filter((a) => {
        const k = `${kind}:${key(a)}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      if (fresh.length === 0) return;
      statements[kind].addResources(...fresh);
      if (!added.has(kind)) fn.addToRolePolicy(statements[kind]);
      added.add(kind);
    },
    addOnce(statement) {
      const k = `once:${key(statement.toStatementJson())}`;
      if (seen.has(k)) return;
      seen.add(k);
      fn.addToRolePolicy(statement);
    },
  };
  const text = (v: string) => nagText(stack, v);
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "AWSLambdaBasicExecutionRole only lets the gate write its own logs (and its EMF metrics); it is AWS's maintained minimum for Lambda.",
    },
    {
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason: 'The gate calls only AWS APIs (Lambda Invoke, S3, CodeDeploy, SSM) over TLS with IAM auth; it holds no network-reachable data.',
    },
    ...[
      [STORE_PREFIX.CASES, "the platform services' regression cases, read only"],
      [STORE_PREFIX.REVIEWS, "the platform services' reviews, read only"],
      [STORE_PREFIX.INDEX, "the platform services' case index entries, read only"],
      [STORE_PREFIX.BATCHES, "the platform services' snapshot batches (redacted records; delivery keys chosen at run time), read only"],
      [STORE_PREFIX.GATES, "the platform services' gate reports, one per release"],
    ]
      .filter(([p]) => text(bucket.arnForObjects(`${p}/*`)))
      .map(([p, what]) => ({ id: `AwsSolutions-IAM5[Resource::${text(bucket.arnForObjects(`${p}/*`))}]`, reason: `Scoped wildcard: ${what}.` })),
  );
  // The wildcards the services add (their functions' versions, the platform application's groups, the manifest
  // parameters of the platform's stack, their live configurations), acknowledged as printed once they are known.
  fn.node.addValidation({
    validate: () => {
      for (const arn of [
        ...statements.invoke.resources,
        ...statements.groups.resources,
        ...statements.parameters.resources,
        ...statements.appconfig.resources,
      ]) {
        const t = arn.endsWith('*') ? text(arn) : undefined;
        if (t)
          Validations.of(fn).acknowledge({
            id: `AwsSolutions-IAM5[Resource::${t}]`,
            reason:
              "Scoped wildcard: the versions and aliases of a gated service's function (the version under test is known only at deploy time; its live alias is denied), the deployment groups of the platform's CodeDeploy application, or the release manifest parameters of the platform's stack (read only).",
          });
      }
      return [];
    },
  });
  return made;
}

/** The callers' alias of every AiRelease (rollout/code-plane.ts). */
const LIVE_ALIAS = 'live';

/**
 * Joins `gate` to its host's shared gate function: this service's grants, the hook, and the tag on its deployment
 * group that names its settings. Grants the platform's stack cannot hold without referring to the service's stack
 * (its function, its AppConfig ids) go, for a service in another stack, into a policy of the service's stack
 * attached to the shared role: the platform stack never depends on a service stack.
 */
function joinSharedGate(gate: RegressionGate, props: RegressionGateProps, hostScope: Construct, settingsParameter: string): lambda.Function {
  const host = gateHost(hostScope, props.bucket);
  const fn = host.function;
  const hostStack = Stack.of(fn);
  const here = Stack.of(gate);
  const sameStack = here === hostStack;
  const fnArnAll = `${props.function.functionArn}:*`;
  const paramArn = (name: string) => `arn:${hostStack.partition}:ssm:${hostStack.region}:${hostStack.account}:parameter${name}`;
  const ownStatements: iam.PolicyStatement[] = [];
  let ownInvoke: iam.PolicyStatement | undefined;
  // Every version and alias of the service function (`<arn>:*`): a grant on the one new version would change the
  // policy at each deploy, seconds before the hook runs, and race IAM's propagation (AccessDenied on the first
  // replays, aws/serverless-application-model#838). The unqualified ARN ($LATEST) is not granted.
  if (sameStack) {
    host.addResources('invoke', [fnArnAll]);
    // The manifest parameters of the host's stack, one pattern for all of them (read only; not secret).
    host.addResources('parameters', [paramArn(`/cdk-ai-release/${manifestStackPath(hostStack)}/*`)]);
  } else {
    ownInvoke = new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fnArnAll] });
    ownStatements.push(ownInvoke);
    ownStatements.push(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [`arn:${here.partition}:ssm:${here.region}:${here.account}:parameter${settingsParameter}`],
      }),
    );
  }
  if (gate.evaluationSettings && props.evaluator) {
    // Converse is authorized as bedrock:InvokeModel ("Prerequisites for running model inference", Bedrock user
    // guide): on the evaluator's inference profile and the foundation model it routes to (pseudo parameters only:
    // the host's role holds them once per model).
    for (const statement of evaluatorModelStatements(hostStack, props.evaluator.modelId)) host.addOnce(statement);
    const c = props.evaluator.appConfig;
    const live = appConfigReadStatement(here, c.applicationId, c.environmentId, c.profileId);
    if (sameStack) host.addResources('appconfig', live.resources);
    else ownStatements.push(live);
    const routed = routedFoundationModel(props.evaluator.modelId);
    if (routed)
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${routed}]`,
        reason:
          'A cross-Region inference profile routes to the named foundation model in any of its destination Regions; Bedrock authorizes the model there (Bedrock user guide, inference profile prerequisites).',
      });
  }
  let policy: iam.Policy | undefined;
  if (ownStatements.length > 0) {
    policy = new iam.Policy(gate, 'Grants', { roles: [fn.role as iam.IRole], statements: ownStatements });
    const t = nagText(here, fnArnAll);
    if (t)
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${t}]`,
        reason:
          "Scoped wildcard: the versions and aliases of this service's function (the version under test is known only at deploy time; its live alias is denied).",
      });
  }

  if (props.deploymentGroup) {
    const group = props.deploymentGroup;
    // Which service a hook event is for: the group's tag names the settings parameter (lambda/gate/service-settings.ts).
    if (settingsParameter.length > 256)
      throw new Error(
        `the settings parameter of ${props.serviceName} (${settingsParameter}) has ${settingsParameter.length} characters, over the 256 of a CodeDeploy tag value; shorten the stack or service name`,
      );
    Tags.of(group).add(GATE_SETTINGS_TAG, settingsParameter);
    // Every deployment group of the group's CodeDeploy application (the platform's, shared by its services).
    host.addResources('groups', [
      hostStack.formatArn({
        service: 'codedeploy',
        resource: 'deploymentgroup',
        resourceName: `${group.application.applicationName}/*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ]);
    // Not group.addPreHook(fn): it grants the hook's role PutLifecycleEventHookExecutionStatus on this group, a
    // statement per service on the shared role that would also make the platform stack refer to a service stack.
    // Here the alias's UpdatePolicy names the hook (a literal), and the group's role may invoke it.
    setBeforeAllowTrafficHook(group, host.functionName);
    const codeDeployRole = group.role;
    if (!host.hookRoles.has(codeDeployRole)) {
      host.hookRoles.add(codeDeployRole);
      codeDeployRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn, `${fn.functionArn}:*`] }));
      Validations.of(codeDeployRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${hostStack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          "Scoped wildcard: CodeDeploy invokes the platform's regression gate (the BeforeAllowTraffic hook) and its versions, as LambdaDeploymentGroup.addPreHook grants it.",
      });
    }
  }
  GRANTS_POLICY.set(gate, policy);
  JOINED.set(gate, { host, ...(ownInvoke ? { ownInvoke } : {}) });
  return fn;
}

/** A hosted gate's host and, for a service in another stack, the invoke statement of its own grants policy. */
const JOINED = new WeakMap<RegressionGate, { readonly host: GateHost; readonly ownInvoke?: iam.PolicyStatement }>();

/** The policy of a service in another stack than its shared gate function (the alias update waits for it). */
const GRANTS_POLICY = new WeakMap<RegressionGate, iam.Policy | undefined>();

/** The service's own grants policy on the shared gate's role, when its stack is not the gate's. */
export function gateGrantsPolicy(gate: RegressionGate): iam.Policy | undefined {
  return GRANTS_POLICY.get(gate);
}

/** Names `functionName` as the BeforeAllowTraffic hook in the UpdatePolicy of the alias `group` deploys. */
function setBeforeAllowTrafficHook(group: codedeploy.LambdaDeploymentGroup, functionName: string): void {
  const groupRef = (group.node.defaultChild as CfnResource).ref;
  const stack = Stack.of(group);
  const alias = stack.node
    .findAll()
    .filter((c): c is lambda.CfnAlias => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Lambda::Alias')
    .find((a) => a.cfnOptions.updatePolicy?.codeDeployLambdaAliasUpdate?.deploymentGroupName === groupRef);
  const update = alias?.cfnOptions.updatePolicy?.codeDeployLambdaAliasUpdate;
  if (!alias || !update) throw new Error(`RegressionGate: no alias in stack ${stack.stackName} is deployed by the deployment group ${group.node.path}`);
  if (update.beforeAllowTrafficHook !== undefined && stack.resolve(update.beforeAllowTrafficHook))
    throw new Error(`RegressionGate: the deployment group ${group.node.path} already has a BeforeAllowTraffic hook`);
  alias.cfnOptions.updatePolicy = { ...alias.cfnOptions.updatePolicy, codeDeployLambdaAliasUpdate: { ...update, beforeAllowTrafficHook: functionName } };
}
