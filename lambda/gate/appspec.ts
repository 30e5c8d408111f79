// Moved to lambda/shared/appspec.ts: the canary judge reads the same AppSpec.
export { type LambdaAppSpecTarget, parseLambdaAppSpec } from '../shared/appspec';
