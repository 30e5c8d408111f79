import * as fs from 'node:fs';
import * as path from 'node:path';

// Every relative link in the README and the concept pages points at a file that exists and, for a `#anchor` into a
// Markdown page, at a heading that page has (GitHub's slugs). Pages move and headings change; links must follow.

const root = path.join(__dirname, '..');
const pages = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const incoming = path.join(root, 'docs/incoming');
if (fs.existsSync(incoming))
  pages.push(
    ...fs
      .readdirSync(incoming)
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/incoming/${f}`),
  );

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

function links(page: string): { target: string; line: number }[] {
  const lines = fs.readFileSync(path.join(root, page), 'utf8').split('\n');
  let fence = false;
  const found: { target: string; line: number }[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('```')) fence = !fence;
    if (fence) return;
    for (const m of l.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1])) found.push({ target: m[1], line: i + 1 });
  });
  return found;
}

test('slug follows GitHub', () => {
  expect(slug('`AiReleasePlatform`')).toBe('aireleaseplatform');
  expect(slug('The AppConfig agent (Lambda extension)')).toBe('the-appconfig-agent-lambda-extension');
  expect(slug('The release review (复盘)')).toBe('the-release-review-复盘');
});

test.each(pages)('%s: every relative link resolves', (page) => {
  const broken: string[] = [];
  for (const { target, line } of links(page)) {
    const [file, anchor] = target.split('#');
    const resolved = file === '' ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), file);
    if (!fs.existsSync(resolved)) broken.push(`${page}:${line} ${target}: no such file`);
    else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${page}:${line} ${target}: no such heading`);
  }
  expect(broken).toEqual([]);
});
