import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lib from '../lib';

// The package's runtime exports are its public API: moving a file between rooms of lib/ must not change them.
// When an export is added on purpose, add its name to test/fixtures/public-api.txt in the same commit.
test('lib/index.ts exports exactly the pinned names', () => {
  const pinned = fs
    .readFileSync(path.join(__dirname, 'fixtures', 'public-api.txt'), 'utf8')
    .split('\n')
    .filter(Boolean);
  expect(Object.keys(lib).sort()).toEqual(pinned);
});
