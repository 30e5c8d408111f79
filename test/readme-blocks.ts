/**
 * The code blocks of a Markdown page marked for extraction: `<!-- readme-example: <path> -->` on the line before a
 * fenced block. Returns path → content (ending in a newline). A marker without a block, a path given twice or a path
 * that leaves the app folder is an error naming the marker, so a broken README fails loudly instead of shrinking.
 */
export function readmeExample(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const marker = lines[i].match(/^<!--\s*readme-example:\s*(\S+)\s*-->\s*$/);
    if (!marker) continue;
    const file = marker[1];
    if (file.startsWith('/') || file.split('/').includes('..')) throw new Error(`readme-example ${file} (line ${i + 1}): use a path inside the app`);
    if (files.has(file)) throw new Error(`readme-example ${file} (line ${i + 1}): marked twice; mark each file once`);
    const open = lines[i + 1]?.match(/^(```+)\w*\s*$/);
    if (!open) throw new Error(`readme-example ${file} (line ${i + 1}): the next line must open a fenced code block`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.trimEnd() === open[1]);
    if (end < 0) throw new Error(`readme-example ${file} (line ${i + 1}): the code block is never closed`);
    files.set(file, `${lines.slice(i + 2, end).join('\n')}\n`);
    i = end;
  }
  return files;
}
