/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // Slowest files first even without jest's timing cache (a clean checkout, CI): see the file.
  testSequencer: '<rootDir>/test/slowest-first-sequencer.cjs',
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  cacheDirectory: '<rootDir>/.jest-cache',
  testTimeout: 60000,
  // Jest's default is one worker fewer than the cores: on the 2-core machines this runs on, one worker, and the whole
  // suite ran file after file (bench/RESULTS.md, "npm test wall time"). Two workers keep both cores busy; the test
  // files share no ports or output paths (servers listen on port 0, outputs go to fresh temp directories).
  maxWorkers: 2,
  // Test files run in a vm context, where every read of a global (Math.ceil, Number.isFinite, Array.isArray) goes
  // through the context's interceptor instead of V8's global cache: 100x slower in a hot loop (nodejs/node#31658,
  // jestjs/jest#5163; measured here: 2e7 Math.ceil calls 10 s in jest, 40 ms in node). The release policy's
  // false-fire sums alone took 5.8 s of the example app's first synth in every test file (0.9 s with this).
  // Jest passes these as parameters of each module's wrapper, so modules read them as locals. They are the test
  // environment's own objects (a jest.spyOn(Math, 'random') still applies); no timer or clock global is here, so
  // fake timers still replace Date and setTimeout. A module that declares one of these names at its top level would
  // no longer compile: aws-cdk-lib's stepfunctions `Map` and @babel/generator's `Buffer` do, so those two are left out;
  // `Array` clashes only in @sinclair/typebox's parser, which jest loads outside the test context
  // (bench/jest-injected-globals.ts scans node_modules; test/jest-config.test.ts pins the list and the library's sources).
  sandboxInjectedGlobals: [
    'Math',
    'JSON',
    'Number',
    'Object',
    'Array',
    'String',
    'Boolean',
    'Symbol',
    'Reflect',
    'Promise',
    'RegExp',
    'Error',
    'TypeError',
    'BigInt',
    'Set',
    'WeakMap',
    'Float64Array',
    'Float32Array',
    'Int32Array',
    'Uint32Array',
    'Uint8Array',
    'ArrayBuffer',
    'DataView',
    'Proxy',
  ],
};
