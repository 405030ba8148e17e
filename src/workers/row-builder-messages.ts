import type { BuiltRows, ProfileInput, RowOptions } from '../domain/canonical-row.js';
import type { AttributeMapping } from '../domain/mapping.js';

/** One page for `buildRows`: what the upload activity would pass it. */
export interface RowBuilderPage {
  readonly profiles: ReadonlyArray<ProfileInput>;
  readonly mapping: AttributeMapping;
  readonly options: RowOptions;
}

export interface ThreadTask {
  readonly id: number;
  readonly page: RowBuilderPage;
}

export type ThreadReply =
  { readonly id: number; readonly built: BuiltRows } | { readonly id: number; readonly failure: string };
