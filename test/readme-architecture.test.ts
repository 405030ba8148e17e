import { readFileSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Entry {
  path: string;
  description: string;
}

/**
 * The entries of the README's "## Architecture" block: one per line that starts at column 0, a path then at least
 * two spaces and its description; indented lines continue the description above them.
 */
function architectureEntries(readme: string): Entry[] {
  const lines = readme.split('\n');
  const heading = lines.indexOf('## Architecture');
  if (heading < 0) throw new Error('README.md has no "## Architecture" section');
  const open = lines.findIndex((l, i) => i > heading && l.startsWith('```'));
  const close = lines.findIndex((l, i) => i > open && l.startsWith('```'));
  const next = lines.findIndex((l, i) => i > heading && l.startsWith('## '));
  if (open < 0 || close < 0 || (next >= 0 && open > next)) throw new Error('"## Architecture" has no code block');
  const entries: Entry[] = [];
  for (const line of lines.slice(open + 1, close)) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const last = entries.at(-1);
      if (!last) throw new Error(`continuation line before any entry: ${line}`);
      last.description += ` ${line.trim()}`;
      continue;
    }
    const m = /^(\S+) {2,}(\S.*)$/.exec(line);
    if (!m) throw new Error(`not "path  description": ${line}`);
    entries.push({ path: m[1]!, description: m[2]! });
  }
  return entries;
}

/** A folder's entries as the block writes them: folders with a trailing slash; dot-files left out. */
const listing = (dir: string, keep: (d: Dirent) => boolean = () => true): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && keep(d))
    .map((d) => (d.isDirectory() ? `${d.name}/` : d.name))
    .sort();

/** Top-level folders .gitignore names whole (`node_modules/`, `dist/`): build output and local state, not parts. */
const ignoredTopLevel = new Set(
  readFileSync(join(ROOT, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => /^\/?([^/\s*]+)\/?$/.exec(l.trim())?.[1])
    .filter((name): name is string => name !== undefined),
);

const difference = (a: string[], b: string[]): string[] => a.filter((x) => !b.includes(x));

describe("the README's architecture block", () => {
  const entries = architectureEntries(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const paths = entries.map((e) => e.path);

  it('names every folder and top-level file of src/, and nothing under src/ that does not exist', () => {
    const listed = paths.filter((p) => p.startsWith('src/')).map((p) => p.slice('src/'.length));
    const actual = listing('src');
    expect.soft(difference(actual, listed), 'in src/ but not in the block').toEqual([]);
    expect.soft(difference(listed, actual), 'in the block but not in src/').toEqual([]);
  });

  it('names every top-level folder but src/ (build output and local state aside), and each that it names exists', () => {
    const listed = paths.filter((p) => !p.startsWith('src/'));
    const folders = listing('.', (d) => d.isDirectory() && !ignoredTopLevel.has(d.name)).filter((f) => f !== 'src/');
    expect(difference(folders, listed), 'top-level folders not in the block').toEqual([]);
    const absent = listed.filter((p) => {
      try {
        return statSync(join(ROOT, p)).isDirectory() !== p.endsWith('/');
      } catch {
        return true;
      }
    });
    expect(absent, 'named in the block, but no such folder (trailing /) or file').toEqual([]);
  });

  it('names each path once, with a description', () => {
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
    expect(entries.filter((e) => e.description.trim().length < 10)).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['bench/', 'bin/', 'console/', 'deploy/', 'docs/', 'test/']));
  });
});
