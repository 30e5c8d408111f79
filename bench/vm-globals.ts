/**
 * Why simulations run slower under jest than under tsx (h11-simplan): jest runs each module inside a vm context, and
 * in Node 20 every read of a global there (Math, Number, Map, ...) goes through the context's property interceptor.
 * This script runs the same loop (5e6 × Math.log plus a seeded generator with Math.imul) four ways and prints the
 * milliseconds: in this realm; in a vm context reading the global `Math`; in a vm context with `Math` bound once in
 * the module's closure (what jest.config.js's `sandboxInjectedGlobals` does: jest passes them as module-wrapper
 * parameters).
 * `npx tsx bench/vm-globals.ts`
 */
import * as vm from 'node:vm';

const BODY = `
  let a = 7, s = 0;
  for (let i = 0; i < 5e6; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    s += Math.log(1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  exports.s = s;`;

function run(label: string, f: () => number): void {
  const t = process.hrtime.bigint();
  const s = f();
  process.stdout.write(`${label}: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(0)} ms (sum ${s})\n`);
}

// Same realm, as under tsx.
run('this realm', () => {
  const exports: { s?: number } = {};
  new Function('exports', BODY)(exports);
  return exports.s as number;
});
// A vm context, the way jest's module wrapper runs a module.
const inContext = (code: string) => () => {
  const exports: { s?: number } = {};
  const fn = vm.runInContext(`(function (module, exports, require) {${code}\n})`, vm.createContext({})) as (m: unknown, e: unknown, r: unknown) => void;
  fn.call(exports, { exports }, exports, require);
  return exports.s as number;
};
run('vm context, global Math', inContext(BODY));
run('vm context, Math bound in the module', inContext(`const Math = globalThis.Math;${BODY}`));
run('vm context, Math as a module-wrapper parameter', () => {
  const exports: { s?: number } = {};
  const ctx = vm.createContext({});
  const fn = vm.runInContext(`(function (module, exports, require, Math) {${BODY}\n})`, ctx) as (m: unknown, e: unknown, r: unknown, M: unknown) => void;
  fn.call(exports, { exports }, exports, require, vm.runInContext('Math', ctx));
  return exports.s as number;
});
