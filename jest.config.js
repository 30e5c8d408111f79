/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  cacheDirectory: '<rootDir>/.jest-cache',
  testTimeout: 60000,
  // Jest's default is one worker fewer than the cores: on the 2-core machines this runs on, one worker, and the whole
  // suite ran file after file (bench/RESULTS.md, "npm test wall time"). Two workers keep both cores busy; the test
  // files share no ports or output paths (servers listen on port 0, outputs go to fresh temp directories).
  maxWorkers: 2,
};
