/**
 * What AWS API calls a function makes, as IAM authorizes them. Each handler folder declares its calls next to its
 * code (`aws-calls.ts`); `test/iam-sar.test.ts` checks every call against the Service Authorization Reference and the
 * synthesized policy, and that every SDK command in the folder is declared. A new call without a grant fails there.
 */

/** Where one variable of a resource ARN (`${ApplicationId}`, `${ResourceId}`…) comes from. */
export type ArnVariableSource =
  /** An environment variable of the function; the first one that is set (a list allows a renamed variable). */
  | { readonly env: string | readonly string[] }
  /**
   * A field of the release config the function serves, as a dotted path (`model.fallback.modelId`); skipped when
   * absent. `profileModel`: the field is a system-defined inference profile id (`us.anthropic…`), and the variable is
   * the foundation model it routes to (the id without its geography prefix); skipped when the id has no such prefix.
   */
  | { readonly config: string; readonly profileModel?: boolean }
  /** The function's asynchronous on-failure destination: its resource name, or the id of the KMS key encrypting it. */
  | { readonly onFailureDestination: 'name' | 'keyId' }
  /**
   * A property of the custom resources the function serves (a custom-resource handler reads its ids from the event's
   * `ResourceProperties`): every such resource's value is checked.
   */
  | { readonly resourceProperty: string }
  /**
   * A field of a JSON environment variable (the evaluator's per-service map), as a dotted path
   * (`support-assistant.functionName`); with `qualifiers`, one value per qualifier (`<value>:<qualifier>`, the
   * versions a replay invokes).
   */
  | { readonly envJson: string; readonly path: string; readonly qualifiers?: readonly string[] }
  /** An id the service assigns at run time (an AppConfig deployment number): the grant must cover these samples. */
  | { readonly assignedAtRunTime: readonly string[] }
  /**
   * A field of a service's deployed release manifest (its SSM parameter's JSON, as a dotted path: `locators.function`),
   * where a function shared by a platform's services reads that service's settings (the regression gate, issue 15 E).
   */
  | { readonly manifest: string; readonly qualifiers?: readonly string[] }
  /** The name of a service's release manifest parameter, without its leading "/" (as SSM parameter ARNs hold it). */
  | { readonly manifestParameter: true };

export interface AwsCall {
  /** The SDK command or API (for people and for the undeclared-command check): `StartDeployment`, `Converse`. */
  readonly api: string;
  /** The IAM action that authorizes it: `appconfig:StartDeployment`; Converse is `bedrock:InvokeModel`. */
  readonly action: string;
  /**
   * The resource types (Service Authorization Reference names) the call touches. Needed when the reference lists
   * alternatives (bedrock:InvokeModel: foundation-model, inference-profile, …).
   * @default every resource type the reference marks required for the action
   */
  readonly resourceTypes?: readonly string[];
  /** Where each ARN variable comes from; partition, region and account are the function's own. */
  readonly arnVariables: Readonly<Record<string, ArnVariableSource>>;
  /**
   * Regions the call reaches besides the function's own, as samples the grant must cover: the destination Regions of
   * a cross-Region inference profile, where Bedrock checks the foundation model's ARN.
   * @default only the function's Region
   */
  readonly destinationRegions?: readonly string[];
  /**
   * The call reaches its foundation model through the system-defined inference profile this config field names:
   * Bedrock authorizes the model with `bedrock:InferenceProfileArn` set to the profile's ARN in the function's Region,
   * which the checker puts in the request's context.
   * @default no inference profile
   */
  readonly viaInferenceProfile?: { readonly config: string };
  /** Who makes the call when it is not the function's code (e.g. Lambda, sending to a destination with the role). */
  readonly madeBy?: string;
  /**
   * Condition keys the request carries (`cloudwatch:namespace` of a PutMetricData), for policies that grant the call
   * only under a condition. An action with no required resource type is checked on "*".
   */
  readonly requestContext?: Readonly<Record<string, string>>;
}

/**
 * Converse with the release config's evaluator model (the gate's evaluated replays and the evaluator): authorized as
 * bedrock:InvokeModel on the inference profile in the function's Region and on the foundation model it routes to in
 * each destination Region, only through that profile ("Prerequisites for inference profiles", Bedrock user guide).
 */
export const EVALUATOR_MODEL_CALLS: readonly AwsCall[] = [
  {
    api: 'Converse',
    action: 'bedrock:InvokeModel',
    resourceTypes: ['inference-profile'],
    arnVariables: { ResourceId: { config: 'evaluation.evaluatorModel.modelId' } },
  },
  {
    api: 'Converse',
    action: 'bedrock:InvokeModel',
    resourceTypes: ['foundation-model'],
    arnVariables: { ResourceId: { config: 'evaluation.evaluatorModel.modelId', profileModel: true } },
    destinationRegions: ['us-east-1', 'us-east-2', 'us-west-2'],
    viaInferenceProfile: { config: 'evaluation.evaluatorModel.modelId' },
  },
];
