import * as fs from 'node:fs';
import * as path from 'node:path';

// jest.config.js passes Math, JSON, Number, ... as parameters of every module's wrapper (sandboxInjectedGlobals), so a
// hot loop reads them as locals instead of through the vm context's interceptor (100x slower: nodejs/node#31658).
const config = require('../jest.config.js') as { sandboxInjectedGlobals: string[] };
const injected = config.sandboxInjectedGlobals;

test('Math, JSON, Number and the typed arrays reach this module as locals, not as reads of the global object', () => {
  // Were Math read from the global object, hiding it there would hide it here.
  const g = globalThis as { Math?: Math; JSON?: JSON; Float64Array?: Float64ArrayConstructor };
  const saved = { Math: g.Math, JSON: g.JSON, Float64Array: g.Float64Array };
  try {
    g.Math = undefined;
    g.JSON = undefined;
    g.Float64Array = undefined;
    expect(Math.ceil(1.5)).toBe(2);
    expect(JSON.stringify([1])).toBe('[1]');
    expect(new Float64Array(2).length).toBe(2);
  } finally {
    Object.assign(g, saved);
  }
  // They are the test environment's own objects: a spy on them is what the code under test calls.
  expect(Math).toBe(saved.Math);
  const spy = jest.spyOn(Math, 'random').mockReturnValue(0.25);
  expect(Math.random()).toBe(0.25);
  spy.mockRestore();
});

test('no clock or timer is injected, so fake timers still replace Date and setTimeout', () => {
  for (const name of ['Date', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'performance', 'process', 'console'])
    expect(injected).not.toContain(name);
  jest.useFakeTimers({ now: 1_765_000_000_123 });
  try {
    expect(Date.now()).toBe(1_765_000_000_123);
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 1000);
    jest.advanceTimersByTime(1000);
    expect(fired).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

test("no module the tests load declares an injected name at its top level (it would no longer compile as jest's module body)", () => {
  // aws-cdk-lib's aws-stepfunctions/lib/states/map.js declares `class Map` and @babel/generator's buffer.js
  // `class Buffer` (bench/jest-injected-globals.ts scans every CommonJS file in node_modules): both stay out. (Its
  // third finding, `Array` in @sinclair/typebox's parser, is a module of jest's own that tests never load.)
  expect(injected).not.toContain('Map');
  expect(injected).not.toContain('Buffer');
  const vm = require('node:vm') as typeof import('node:vm');
  const base = ['module', 'exports', 'require', '__dirname', '__filename', 'jest'];
  const stepFunctionsMap = fs.readFileSync(path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'aws-stepfunctions/lib/states/map.js'), 'utf8');
  expect(() => vm.compileFunction(stepFunctionsMap, [...base, ...injected])).not.toThrow();
  expect(() => vm.compileFunction(stepFunctionsMap, [...base, 'Map'])).toThrow(/Identifier 'Map' has already been declared/);
  // The library's own sources and tests: no top-level declaration of an injected name.
  const root = path.join(__dirname, '..');
  const names = injected.join('|');
  const declares = new RegExp(`^(export )?(declare )?(const|let|var|class|function|enum|namespace) (${names})\\b`, 'm');
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p);
      } else if (/\.(ts|js|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && declares.test(fs.readFileSync(p, 'utf8')))
        offenders.push(path.relative(root, p));
    }
  };
  for (const dir of ['lib', 'lambda', 'bin', 'test', 'bench', 'scripts']) if (fs.existsSync(path.join(root, dir))) walk(path.join(root, dir));
  expect(offenders).toEqual([]);
});

test('apps built in tests capture no creation stack traces (setup-env.ts sets the context through CDK_CONTEXT_JSON)', () => {
  const { App, CfnResource, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const traced = (app: InstanceType<typeof App>) => {
    const stack = new Stack(app, 'S');
    const resource = new CfnResource(stack, 'R', { type: 'AWS::SNS::Topic' });
    return [...stack.node.metadata, ...resource.node.metadata].filter((m) => m.type === 'aws:cdk:creationStack').length;
  };
  // an App with context of its own still gets it
  expect(traced(new App({ context: { 'aws:cdk:bundling-stacks': [] } }))).toBe(0);
  // and the context key is what turns them off (so the test above is not vacuous)
  expect(traced(new App({ postCliContext: { 'aws:cdk:disable-creation-stack-traces': false } }))).toBe(2);
});
