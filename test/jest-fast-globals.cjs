// A jest transformer: @swc/jest, then each CommonJS module is wrapped so that the vm context's builtins (Math, Number,
// Map, ...) are closure bindings of the module instead of global lookups.
//
// Why: jest runs every module inside a vm context, and in Node 20 each read of a global there goes through the
// context's property interceptor (a call into C++ that V8 cannot optimize away). A hot loop that calls Math.log pays
// it on every call: measured on this machine (h11-simplan, bench/RESULTS.md), 5e6 `Math.log` calls take ~1.8 s inside
// a jest test and ~0.1 s with `Math` bound in the module; the planner's engine simulations run 3–5× slower under jest
// than under tsx for this reason alone.
//
// What it keeps: the same objects (globalThis.Math of the test's own context, read once when the module loads), so
// jest.spyOn(Math, 'random') still works; a module that declares its own `Map` shadows the binding as before (the
// module's code runs in an inner function); top-level `this` is still `module.exports`; line numbers are unchanged
// (the prefix shares line 1). Left out on purpose: Date, timers, Promise, Buffer, process, console, fetch — anything a
// test replaces on the global (jest.useFakeTimers replaces global Date) must stay a live global lookup. ESM output
// (processAsync) is passed through unchanged.
//
// Wire it in jest.config.js: transform: { '^.+\\.tsx?$': ['<rootDir>/test/jest-fast-globals.cjs', <@swc/jest options>] }.
const crypto = require('node:crypto');
const fs = require('node:fs');
const swcJest = require('@swc/jest');

const BUILTINS = [
  'Math',
  'Number',
  'Array',
  'Object',
  'JSON',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Float64Array',
  'Float32Array',
  'Uint8Array',
  'Uint16Array',
  'Uint32Array',
  'Int32Array',
  'String',
  'Symbol',
  'Boolean',
  'BigInt',
  'RegExp',
  'Error',
  'TypeError',
  'RangeError',
  'isFinite',
  'isNaN',
  'parseInt',
  'parseFloat',
];
const PREFIX = `(function(${BUILTINS.join(',')}){return function(){`;
const SUFFIX = `\n}})(${BUILTINS.map((n) => `globalThis.${n}`).join(',')}).call(this);\n`;
const SELF = crypto.createHash('sha1').update(fs.readFileSync(__filename)).digest('hex');

function wrap(code) {
  return PREFIX + code + SUFFIX;
}

function createTransformer(options) {
  const inner = swcJest.createTransformer(options);
  return {
    ...inner,
    process(src, filename, jestOptions) {
      const out = inner.process(src, filename, jestOptions);
      if (jestOptions?.supportsStaticESM) return out;
      return typeof out === 'string' ? wrap(out) : { ...out, code: wrap(out.code) };
    },
    getCacheKey(src, filename, ...rest) {
      return crypto
        .createHash('sha1')
        .update(inner.getCacheKey(src, filename, ...rest))
        .update(SELF)
        .digest('hex');
    },
  };
}

module.exports = { createTransformer, wrap, BUILTINS };
