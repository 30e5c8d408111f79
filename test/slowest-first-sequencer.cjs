// Runs the test files in the order of a committed full run, slowest first (test/fixtures/suite-seconds.json,
// refreshed by scripts/suite-seconds.ts), with or without jest's timing cache; files not in it (new ones) run first, as
// jest runs files it has no time for. Without a cache (a clean checkout, CI) jest orders by file size, which started
// package-build.test.ts (33 s) among the last. With its cache jest orders by the last run's times, which starts the
// suites that spawn heavy child processes (package-build's npm pack and tsc, cli-synth's cdk synth, readme-example's
// type check) together: measured 6 min 0 s and 6 min 21 s against 4 min 42 s to 5 min 6 s in the committed order
// (bench/RESULTS.md § h11 integration). Failed-first is jest's, unchanged.
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const committed = require('./fixtures/suite-seconds.json');

class SlowestFirstSequencer extends Sequencer {
  time(test) {
    const seconds = committed[path.basename(test.path)];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = SlowestFirstSequencer;
