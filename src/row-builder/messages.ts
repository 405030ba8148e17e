import type { BuiltRows, ProfileInput, RowOptions } from '../domain/canonical-row.js';
import { mappedAttributes, type AttributeMapping } from '../domain/mapping.js';

/** One page for `buildRows`: what the upload activity would pass it. */
export interface RowBuilderPage {
  readonly profiles: ReadonlyArray<ProfileInput>;
  readonly mapping: AttributeMapping;
  readonly options: RowOptions;
}

/**
 * A page as it crosses to a thread: only the attributes the encoder reads, one array per attribute. Arrays of
 * primitives clone in about half the time of 10,000 small objects, and values keep their types (a structured clone,
 * not JSON), so the thread builds from exactly what the page held.
 */
export interface ThreadTask {
  readonly id: number;
  readonly keys: string[];
  readonly names: string[];
  readonly columns: unknown[][];
  readonly mapping: AttributeMapping;
  readonly options: RowOptions;
}

/**
 * The built rows come back as JSON text: one string crosses in a single copy and `JSON.parse` makes the row
 * objects faster than a structured clone does. Exact, because every part of `BuiltRows` is JSON (strings, the
 * numbers 0 and counts, string arrays).
 */
export type ThreadReply =
  { readonly id: number; readonly builtJson: string } | { readonly id: number; readonly failure: string };

export function toThreadTask(id: number, page: RowBuilderPage): ThreadTask {
  const names = mappedAttributes(page.mapping, page.options.consentAttribute);
  const { profiles } = page;
  const keys = new Array<string>(profiles.length);
  const columns = names.map(() => new Array<unknown>(profiles.length));
  for (let row = 0; row < profiles.length; row++) {
    const profile = profiles[row]!;
    keys[row] = profile.key;
    const attributes = profile.attributes;
    for (let column = 0; column < names.length; column++) {
      const name = names[column]!;
      // Own properties only: an inherited one (`toString`) reads the same from the plain object rebuilt there.
      columns[column]![row] = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    }
  }
  return { id, keys, names, columns, mapping: page.mapping, options: page.options };
}

export function fromThreadTask(task: ThreadTask): ProfileInput[] {
  const { keys, names, columns } = task;
  const profiles = new Array<ProfileInput>(keys.length);
  for (let row = 0; row < keys.length; row++) {
    const attributes: Record<string, unknown> = {};
    for (let column = 0; column < names.length; column++) {
      const value = columns[column]![row];
      if (value === undefined) continue;
      const name = names[column]!;
      // Assigning `__proto__` would set the prototype instead of a property.
      if (name === '__proto__') Object.defineProperty(attributes, name, { value, enumerable: true, writable: true });
      else attributes[name] = value;
    }
    profiles[row] = { key: keys[row]!, attributes };
  }
  return profiles;
}

export function parseBuiltRows(json: string): BuiltRows {
  return JSON.parse(json) as BuiltRows;
}
