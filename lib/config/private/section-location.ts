import type { ReleaseConfigSource } from '../release-config-source';
import type { ConfigProblem } from './config-problem';

/**
 * Where a section of a release config was written (file, line, column), for a problem found after validation —
 * one that depends on construct props, like a missing fallback under `costGuard` — so it points at the file a user
 * must edit, as every other problem does. Nothing for an inline object or a section that is not there.
 */
export function sectionLocation(source: ReleaseConfigSource, section: string, inner: readonly string[] = []): Pick<ConfigProblem, 'file' | 'line' | 'column'> {
  for (const part of source.load().parts) {
    // A section file holds the section itself; a whole-config file holds it under its name.
    const segments = part.section === section ? inner : part.section === undefined && hasKey(part.value, section) ? [section, ...inner] : undefined;
    if (segments === undefined) continue;
    const pos = part.locate?.(segments);
    return { ...(part.file ? { file: part.file } : {}), ...(pos ? { line: pos.line, column: pos.column } : {}) };
  }
  return {};
}

function hasKey(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key);
}
