/**
 * Which CommonJS files in node_modules would stop compiling as a jest module body if the given names were injected
 * as its wrapper's parameters (jest.config.js sandboxInjectedGlobals)? A file that declares one of them with
 * let/const/class at its top level does.
 *   npx tsx bench/jest-injected-globals.ts [Name,Name,...]   (default: jest.config.js's list plus Map and Buffer)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

const root = path.join(__dirname, '..');
const configured = (require(path.join(root, 'jest.config.js')) as { sandboxInjectedGlobals: string[] }).sandboxInjectedGlobals;
const names = process.argv[2] ? process.argv[2].split(',') : [...configured, 'Map', 'Buffer'];
const base = ['module', 'exports', 'require', '__dirname', '__filename', 'jest'];
const files: string[] = [];
const walk = (dir: string) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(p).isDirectory())) {
      if (e.name !== 'typescript') walk(p);
    } else if (/\.c?js$/.test(e.name)) files.push(p);
  }
};
walk(path.join(root, 'node_modules'));
let checked = 0;
const conflicts: string[] = [];
for (const f of files) {
  const code = fs.readFileSync(f, 'utf8');
  try {
    vm.compileFunction(code, base);
  } catch {
    continue; // an ES module or not a module body: jest does not load it this way
  }
  checked++;
  try {
    vm.compileFunction(code, [...base, ...names]);
  } catch (e) {
    conflicts.push(`${path.relative(root, f)}: ${(e as Error).message}`);
  }
}
console.log(`names: ${names.join(', ')}`);
console.log(`CommonJS files checked: ${checked} of ${files.length}; conflicts: ${conflicts.length}`);
for (const c of conflicts) console.log(`  ${c}`);
