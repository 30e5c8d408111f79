import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../bin/cli/io';
import { createProgram } from '../bin/cli/program';
import { ExampleStack } from '../bin/example-stack';
import { testApp } from './helpers';

/**
 * The strategy card names the default drill's figures (as paths, not links: they exist only once the drill has run);
 * the command it gives writes exactly those files.
 */
test('the canary card gives the drill command, and the files it names are the ones that command writes', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-card-'));
  const outdir = path.join(root, 'cdk.out');
  const app = testApp(outdir);
  new ExampleStack(app, 'Example');
  app.synth();
  const card = fs.readFileSync(path.join(outdir, 'support-assistant.canary-card.md'), 'utf8');
  expect(card).toContain('## Drill: how surely and how fast a bad release is caught');
  const command = /npx cdk-ai-release (drill .*)/.exec(card)?.[1];
  expect(command).toBe('drill cdk.out --service support-assistant --rate 5 --out drill/support-assistant');
  const named = [...card.matchAll(/`(drill\/[^`]+\.(?:md|svg))`/g)].map((m) => m[1]);
  expect(named).toEqual(['drill/support-assistant/drill.md', 'drill/support-assistant/drill-default.svg']);
  // not linked: synth has not written them
  expect(card).not.toMatch(/\]\([^)]*drill[^)]*\)/);

  // Run the card's command from the project root (here: the directory holding cdk.out), fast settings added.
  const argv = (command as string).split(' ').map((a) => (a === 'cdk.out' ? outdir : a.startsWith('drill/') ? path.join(root, a) : a));
  let code = -1;
  let out = '';
  const program = createProgram({ out: (t) => (out += t), err: (t) => (out += t) }, (c) => (code = c));
  try {
    await program.parseAsync([...argv, '--runs', '10', '--samples', '100', '--resampled', '--no-reference'], { from: 'user' });
  } catch (e) {
    if (e instanceof UsageError) throw new Error(`the card's command was refused: ${e.message}`);
    throw e;
  }
  expect(code).toBe(0);
  expect(out).toMatch(/^Drill — code plane: linear \+5 % every 3 min;/); // the example's code schedule (bin/example-stack.ts)
  for (const file of named) expect(fs.existsSync(path.join(root, file))).toBe(true);
});
