// Starts the slowest test files first, so the last file to finish is a short one and neither worker idles at the end.
// Jest does this itself from its timing cache (.jest-cache); a clean checkout (CI) has none, and jest then orders by
// file size, which started package-build.test.ts (33 s) among the last. This falls back to the seconds of a committed
// full run (test/fixtures/suite-seconds.json, refreshed by scripts/suite-seconds.ts) where the cache has no figure;
// files in neither (new ones) run first, as jest runs files it has no time for. Failed-first is jest's, unchanged.
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const committed = require('./fixtures/suite-seconds.json');

class SlowestFirstSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = committed[path.basename(test.path)];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = SlowestFirstSequencer;
