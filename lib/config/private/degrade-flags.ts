import { DEFAULT_STATIC_ANSWER, DEGRADE_FLAGS } from '../../../lambda/shared/contract';

/** The state the degrade flags are deployed in. Normally all off; flip them in an emergency. */
export interface DegradeFlagState {
  /** Answer with `model.fallback` instead of the primary model. @default false */
  readonly useFallbackModel?: boolean;
  /** Answer without calling any tool. @default false */
  readonly disableTools?: boolean;
  /** Answer without retrieval. @default false */
  readonly disableRetrieval?: boolean;
  /** Serve a fixed message instead of calling the model at all. @default false */
  readonly staticAnswer?: boolean;
  /**
   * The message served when `staticAnswer` is on.
   * @default DEFAULT_STATIC_ANSWER ("The assistant is temporarily unavailable. Please try again in a few minutes.")
   */
  readonly staticAnswerMessage?: string;
}

/** AppConfig feature-flags (AWS.AppConfig.FeatureFlags, format version 1) content for the degrade profile. */
export function degradeFlagsDocument(state: DegradeFlagState = {}): object {
  const message = state.staticAnswerMessage ?? DEFAULT_STATIC_ANSWER;
  if (message.trim() === '') throw new Error('degrade.staticAnswerMessage must not be empty; it is what users see when staticAnswer is on');
  return {
    version: '1',
    flags: {
      [DEGRADE_FLAGS.USE_FALLBACK_MODEL]: { name: 'Use fallback model', description: 'Answer with model.fallback instead of the primary model' },
      [DEGRADE_FLAGS.DISABLE_TOOLS]: { name: 'Disable tools', description: 'Answer without calling tools' },
      [DEGRADE_FLAGS.DISABLE_RETRIEVAL]: { name: 'Disable retrieval', description: 'Answer without retrieval' },
      [DEGRADE_FLAGS.STATIC_ANSWER]: {
        name: 'Static answer',
        description: 'Serve a fixed message instead of calling the model',
        attributes: { message: { constraints: { type: 'string', required: true } } },
      },
    },
    values: {
      [DEGRADE_FLAGS.USE_FALLBACK_MODEL]: { enabled: state.useFallbackModel ?? false },
      [DEGRADE_FLAGS.DISABLE_TOOLS]: { enabled: state.disableTools ?? false },
      [DEGRADE_FLAGS.DISABLE_RETRIEVAL]: { enabled: state.disableRetrieval ?? false },
      [DEGRADE_FLAGS.STATIC_ANSWER]: { enabled: state.staticAnswer ?? false, message },
    },
  };
}
