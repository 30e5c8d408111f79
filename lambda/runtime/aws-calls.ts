import type { AwsCall } from '../shared/aws-calls';
import { CONFIG_GATE_ENV, ENV } from '../shared/contract';

const configuration = (profileEnv: string, environmentEnv: string | readonly string[]) => ({
  ApplicationId: { env: ENV.APPCONFIG_APPLICATION },
  EnvironmentId: { env: environmentEnv },
  ConfigurationProfileId: { env: profileEnv },
});
// The degrade flags are read from their own environment when the function has one, else from the release environment.
const degradeEnvironment = [ENV.DEGRADE_ENVIRONMENT, ENV.APPCONFIG_ENVIRONMENT];

/**
 * Every AWS call the runtime makes for a service (data-api-fetcher.ts; the AppConfig Lambda extension makes the same
 * two calls with the function's role): a session and the latest content, for each of the two profiles.
 */
export const AWS_CALLS: readonly AwsCall[] = [
  {
    api: 'StartConfigurationSession',
    action: 'appconfig:StartConfigurationSession',
    arnVariables: configuration(ENV.CONFIG_PROFILE, ENV.APPCONFIG_ENVIRONMENT),
  },
  { api: 'GetLatestConfiguration', action: 'appconfig:GetLatestConfiguration', arnVariables: configuration(ENV.CONFIG_PROFILE, ENV.APPCONFIG_ENVIRONMENT) },
  // Invocations through the `gate` alias read the release config from the candidate environment (gate-selection.ts).
  {
    api: 'StartConfigurationSession',
    action: 'appconfig:StartConfigurationSession',
    arnVariables: configuration(ENV.CONFIG_PROFILE, CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT),
  },
  {
    api: 'GetLatestConfiguration',
    action: 'appconfig:GetLatestConfiguration',
    arnVariables: configuration(ENV.CONFIG_PROFILE, CONFIG_GATE_ENV.CANDIDATE_ENVIRONMENT),
  },
  { api: 'StartConfigurationSession', action: 'appconfig:StartConfigurationSession', arnVariables: configuration(ENV.DEGRADE_PROFILE, degradeEnvironment) },
  { api: 'GetLatestConfiguration', action: 'appconfig:GetLatestConfiguration', arnVariables: configuration(ENV.DEGRADE_PROFILE, degradeEnvironment) },
];
