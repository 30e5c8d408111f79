import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetParameterCommand, GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type DeployedReleaseManifest, manifestParameterName, type ReleaseLocators } from '../../lambda/shared/contract';
import { parseReleaseManifest } from '../../lambda/shared/release-manifest';
import { aws, errorName } from './aws';
import { UsageError } from './io';

/** How a command finds a deployed service: `--stack`, `--app <cdk.out>`, or (neither) the manifests deployed in SSM. */
export interface LocateOptions {
  readonly stack?: string;
  readonly app?: string;
  /** A deployed manifest already at hand: a file with the parameter's value, or `aws ssm get-parameter` output. */
  readonly manifest?: string;
}

/** One deployed service: its manifest parameter, the deployed manifest and the locators it carries. */
export interface LocatedService {
  readonly service: string;
  readonly parameterName: string;
  readonly manifest: DeployedReleaseManifest;
  readonly locators: ReleaseLocators;
}

/** `/cdk-ai-release/<stack path>/<service>/release-manifest`. */
const PARAMETER = /^\/cdk-ai-release\/(.+)\/([^/]+)\/release-manifest$/;
const ROOT = '/cdk-ai-release/';
/** Pages of GetParametersByPath read at most (10 parameters each, the API's maximum). */
const MAX_PAGES = 50;

/** Finds the service's deployed manifest and its locators, or explains in one line why not. */
export async function locateService(ssm: SSMClient, service: string, options: LocateOptions): Promise<LocatedService> {
  if (options.manifest !== undefined) return fromFile(options.manifest, service);
  let parameterName: string;
  if (options.stack !== undefined) {
    parameterName = manifestParameterName(options.stack, service);
  } else {
    const found = options.app !== undefined ? parametersInAssembly(options.app) : await deployedParameters(ssm);
    const where = options.app !== undefined ? options.app : 'this account and region (SSM parameters under /cdk-ai-release/)';
    const mine = found.filter((p) => p.service === service);
    if (mine.length === 0) {
      const services = [...new Set(found.map((p) => p.service))].sort();
      throw new UsageError(`no service "${service}" in ${where}; services found: ${services.join(', ')}`);
    }
    if (mine.length > 1) {
      throw new UsageError(`service "${service}" is in several stacks (${mine.map((p) => p.stackPath).join(', ')}); choose one with --stack <name>`);
    }
    parameterName = mine[0].name;
  }
  return located(service, parameterName, await readParameter(ssm, parameterName, service, options), false);
}

function located(service: string, source: string, text: string, file: boolean): LocatedService {
  let manifest: DeployedReleaseManifest;
  try {
    manifest = parseReleaseManifest(JSON.parse(text.replace(/^\uFEFF/, '')), source) as DeployedReleaseManifest;
  } catch (e) {
    throw new UsageError(`the deployed manifest ${source} is not readable: ${(e as Error).message}`);
  }
  if (manifest.service !== service) throw new UsageError(`${source} is the manifest of service "${manifest.service}", not "${service}"`);
  const locators = manifest.locators;
  if (!locators?.codeDeploy || !locators.appConfig) {
    throw new UsageError(
      file
        ? `${source} carries no locators: it is the cdk.out file (which cannot know deploy-time names) or was deployed by an older cdk-ai-release; pass the deployed one (aws ssm get-parameter output) of a stack deployed with this version`
        : `the deployed manifest ${source} carries no locators (it was deployed by an older cdk-ai-release); deploy the stack once with this version`,
    );
  }
  return { service, parameterName: source, manifest, locators };
}

/** `--manifest <file>`: the deployed manifest as a file (its value, or `aws ssm get-parameter` output). */
function fromFile(file: string, service: string): LocatedService {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return located(service, file, text, true);
}

async function readParameter(ssm: SSMClient, name: string, service: string, options: LocateOptions): Promise<string> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    return out.Parameter?.Value ?? '';
  } catch (e) {
    if (errorName(e) !== 'ParameterNotFound') return aws(`ssm:GetParameter ${name}`, () => Promise.reject(e));
    // Name the services that are there, so a typo or a wrong stack is one look away.
    const prefix = options.stack !== undefined ? `${ROOT}${options.stack}/` : ROOT;
    const there = (await deployedParameters(ssm, prefix)).map((p) => p.service);
    const hint = there.length ? `services deployed there: ${[...new Set(there)].sort().join(', ')}` : 'nothing of cdk-ai-release is deployed there';
    throw new UsageError(`no deployed service "${service}"${options.stack !== undefined ? ` in stack ${options.stack}` : ''} (no parameter ${name}); ${hint}`);
  }
}

interface FoundParameter {
  readonly name: string;
  readonly stackPath: string;
  readonly service: string;
}

/** The release-manifest parameters under a path (recursive), newest API first; none is an error naming the fix. */
async function deployedParameters(ssm: SSMClient, prefix = ROOT): Promise<FoundParameter[]> {
  const found: FoundParameter[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await aws(`ssm:GetParametersByPath ${prefix}`, () =>
      ssm.send(new GetParametersByPathCommand({ Path: prefix.replace(/\/$/, ''), Recursive: true, NextToken: token })),
    );
    for (const p of out.Parameters ?? []) {
      const m = PARAMETER.exec(p.Name ?? '');
      if (m) found.push({ name: p.Name!, stackPath: m[1], service: m[2] });
    }
    token = out.NextToken;
    if (!token) break;
  }
  if (found.length === 0 && prefix === ROOT) {
    throw new UsageError(
      'no cdk-ai-release service is deployed in this account and region (no /cdk-ai-release/<stack>/<service>/release-manifest parameter); check --region and --profile, or pass --stack',
    );
  }
  return found;
}

/** The release-manifest parameters the templates of a cloud assembly declare (nested stages and stacks included). */
export function parametersInAssembly(dir: string): FoundParameter[] {
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new UsageError(`${dir} is not a cloud assembly (no manifest.json); run \`cdk synth\` first, or pass --stack`);
  }
  const found: FoundParameter[] = [];
  const scan = (d: string, depth: number) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isFile() && entry.name.endsWith('.template.json')) {
        let template: { Resources?: Record<string, { Type?: string; Properties?: { Name?: unknown } }> };
        try {
          template = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (e) {
          throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
        }
        for (const r of Object.values(template.Resources ?? {})) {
          const name = r.Type === 'AWS::SSM::Parameter' ? r.Properties?.Name : undefined;
          const m = typeof name === 'string' ? PARAMETER.exec(name) : null;
          if (m) found.push({ name: name as string, stackPath: m[1], service: m[2] });
        }
      } else if (entry.isDirectory() && depth < 2 && entry.name.startsWith('assembly-')) {
        scan(file, depth + 1);
      }
    }
  };
  scan(dir, 0);
  if (found.length === 0) {
    throw new UsageError(
      `${dir} has no cdk-ai-release service: no template declares a release-manifest parameter. Is AiRelease (or ReleaseManifestRecorder) in this app?`,
    );
  }
  return found;
}
