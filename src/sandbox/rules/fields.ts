import { graphErrors } from '../errors.js';

/**
 * Parses a Graph `fields` list (`id,name,business{id,name}`) into top-level names and refuses names the node
 * does not have, as Graph does.
 */
export function selectFields(
  fields: string | undefined,
  known: readonly string[],
  nodeType: string,
  fallback: readonly string[],
): string[] {
  if (fields === undefined || fields.trim() === '') return [...fallback];
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of fields) {
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (depth === 0 && ch === ',') {
      names.push(current.trim());
      current = '';
    } else if (depth === 0) current += ch;
  }
  names.push(current.trim());
  const picked = names.map((n) => n.replace(/\..*$/, '')).filter((n) => n !== '');
  for (const name of picked) if (!known.includes(name)) throw graphErrors.nonexistingField(name, nodeType);
  return [...new Set(picked.includes('id') ? picked : ['id', ...picked])];
}

export function pick(obj: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of names) if (obj[n] !== undefined) out[n] = obj[n];
  return out;
}
