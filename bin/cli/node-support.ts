/**
 * The Node versions the CLI supports (package.json `engines`: >= 20.19), and the SDK noise it turns off on them.
 *
 * The AWS SDK for JavaScript v3 prints a `NodeVersionSupportWarning` on every run under Node < 22: SDK versions
 * published after the first week of January 2027 will require Node 22. This package pins its SDK versions exactly,
 * so the notice is about SDK releases it does not use; on a supported Node it is noise in every command's output, and
 * the SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true) turns it off. Below the supported
 * range nothing is turned off: that run is unsupported, and every warning may matter. A value the user set wins.
 */
export const MIN_NODE = { major: 20, minor: 19 } as const;

export const SDK_NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Whether `version` (process.version, e.g. v20.20.2) is in the supported range. */
export function isSupportedNode(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)\./.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
}

/** The environment the CLI runs its SDK clients with: the SDK's Node notice off on a supported Node. */
export function quietSdkEnvironment(version: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!isSupportedNode(version) || env[SDK_NODE_WARNING_SWITCH] !== undefined) return {};
  return { [SDK_NODE_WARNING_SWITCH]: 'true' };
}
