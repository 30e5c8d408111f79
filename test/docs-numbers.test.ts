import * as fs from 'node:fs';
import * as path from 'node:path';

// docs/numbers.md cites each benchmark figure as "RESULTS.md § <section> (<date>)". Every number in the figure column
// must appear in that section of bench/RESULTS.md, and the section must carry the date: a figure typed by hand, or
// left behind when a re-run changed it, fails here. Rows citing a test must name a test file that exists.

const root = path.join(__dirname, '..');
const numbersPage = fs.readFileSync(path.join(root, 'docs/numbers.md'), 'utf8');
const results = fs.readFileSync(path.join(root, 'bench/RESULTS.md'), 'utf8');

/** The number tokens of a text, thousands separators dropped: "1,000 cases at 2.67 s" → ["1000", "2.67"]. */
function numbersIn(text: string): string[] {
  return [...text.matchAll(/\d+(?:,\d{3})*(?:\.\d+)?/g)].map((m) => m[0].replace(/,/g, ''));
}

/** The `## ` section of RESULTS.md whose heading starts with the given text (after the `## `). */
function section(name: string): { heading: string; body: string } {
  const parts = results.split(/^## /m).slice(1);
  const found = parts.filter((p) => p.startsWith(name));
  if (found.length === 0) throw new Error(`bench/RESULTS.md has no section starting "## ${name}"`);
  // one name may start several sections (re-runs appended later): the figure must be in one of them
  return { heading: found.map((p) => p.split('\n')[0]).join(' | '), body: found.join('\n') };
}

const rows = numbersPage
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| what '))
  .map((l) => l.slice(2, -2).split(' | '));
const benchRows = rows.filter((r) => r.length === 4);
const testRows = rows.filter((r) => r.length === 3);

test('the page has both tables, and every bench row cites a section with a date', () => {
  expect(benchRows.length).toBeGreaterThanOrEqual(20);
  expect(testRows.length).toBeGreaterThanOrEqual(4);
  for (const [what, , , source] of benchRows) {
    expect({ what, source }).toEqual({ what, source: expect.stringMatching(/^RESULTS\.md § .+ \(\d{4}-\d{2}-\d{2}\)$/) });
  }
});

test.each(benchRows.map((r) => [r[0], r[1], r[3]]))('%s: %s is in bench/RESULTS.md where cited', (_what, figure, source) => {
  const [, name, date] = source.match(/^RESULTS\.md § (.+) \((\d{4}-\d{2}-\d{2})\)$/) ?? [];
  const { heading, body } = section(name);
  expect({ heading, dated: body.includes(date) }).toEqual({ heading, dated: true });
  const present = new Set(numbersIn(body));
  const missing = numbersIn(figure).filter((n) => !present.has(n));
  expect({ figure, missing }).toEqual({ figure, missing: [] });
});

test.each(testRows.map((r) => [r[0], r[2]]))('%s: produced by %s', (_what, test) => {
  const file = test.replace(/`/g, '');
  expect(fs.existsSync(path.join(root, file))).toBe(true);
});

test('numbersIn reads thousands separators, decimals and ranges', () => {
  expect(numbersIn('1,000 cases; 2.67 s; 213–228 MB; ×3; 0.1 / 0.0 %')).toEqual(['1000', '2.67', '213', '228', '3', '0.1', '0.0']);
});
