import { buildRows, CANONICAL_SCHEMA, countPhonesWithoutCountry, DropReason } from '../../domain/canonical-row.js';
import { mappedAttributes, MAPPABLE_KEYS, type AttributeMapping, type KeyIdentifier } from '../../domain/mapping.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { checkMapping } from './export-config.js';

type Deps = Pick<ApiDeps, 'store' | 'source'>;

/** Profiles examined by a preview: the first ones of the segment in key order. One page of a real export. */
export const PREVIEW_SAMPLE_LIMIT = 10_000;

export interface PreviewInput {
  segment: string;
  keyIdentifier?: KeyIdentifier | undefined;
  mapping?: AttributeMapping | undefined;
  consentAttribute?: string | null | undefined;
  defaultCountry?: string | null | undefined;
}

/** The canonical column that shows a key is present (DOB expands to DOBY, DOBM, DOBD). */
const columnOf = (key: string): number => CANONICAL_SCHEMA.indexOf((key === 'DOB' ? 'DOBY' : key) as never);

async function resolveInput(deps: Deps, destinationId: string, input: PreviewInput) {
  await deps.store.destinations.get(destinationId);
  const stored = await deps.store.exportConfigs.get(destinationId).catch(() => null);
  const keyIdentifier = input.keyIdentifier ?? stored?.keyIdentifier;
  const mapping = input.mapping ?? stored?.mapping;
  if (!keyIdentifier || !mapping) {
    throw new ProblemError(
      400,
      ProblemKind.validation,
      'Give keyIdentifier and mapping, or PUT an export config first.',
      [{ field: keyIdentifier ? 'body.mapping' : 'body.keyIdentifier', message: 'required without an export config' }],
    );
  }
  const consentAttribute = input.consentAttribute === undefined ? stored?.consentAttribute : input.consentAttribute;
  const defaultCountry = input.defaultCountry === undefined ? stored?.defaultCountry : input.defaultCountry;
  return {
    keyIdentifier,
    mapping,
    consentAttribute: consentAttribute ?? undefined,
    defaultCountry: defaultCountry ?? undefined,
  };
}

/**
 * Reports, before anything is sent, how many profiles of a segment have a usable key identifier and each mapped
 * key. It reads the first PREVIEW_SAMPLE_LIMIT members as a freeze stages them (the same attribute values, in
 * place: no staging table, so a preview of 10 million members reads 10,000 and counts the rest) and normalises
 * them with the domain's buildRows, as a page of the export would. Only counts leave here.
 */
export async function previewExport(deps: Deps, destinationId: string, input: PreviewInput) {
  const opts = await resolveInput(deps, destinationId, input);
  const errors = await checkMapping(deps, opts);
  if ((await deps.source.unknownSegments([input.segment])).length > 0)
    errors.push({ field: 'body.segment', message: 'no such segment in the profile source' });
  if (errors.length > 0)
    throw new ProblemError(400, ProblemKind.validation, 'Correct the fields listed in errors.', errors);

  const { rows, segmentSize } = await deps.source.sample({
    segments: [input.segment],
    attributes: mappedAttributes(opts.mapping, opts.consentAttribute),
    limit: PREVIEW_SAMPLE_LIMIT,
  });
  const built = buildRows(rows, opts.mapping, opts);
  const keys: Record<string, number> = {};
  for (const key of MAPPABLE_KEYS) {
    if (!opts.mapping[key]) continue;
    const col = columnOf(key);
    keys[key] = built.rows.filter((r) => r.cells[col] !== '' && r.cells[col] !== undefined).length;
  }
  const noKey =
    built.droppedByReason[DropReason.KEY_IDENTIFIER_MISSING] +
    built.droppedByReason[DropReason.KEY_IDENTIFIER_INVALID] +
    built.droppedByReason[DropReason.PHONE_COUNTRY_UNKNOWN];
  return {
    segment: input.segment,
    segmentSize,
    sampled: rows.length,
    sampleLimit: PREVIEW_SAMPLE_LIMIT,
    usableKeyIdentifier: rows.length - noKey,
    exportable: built.rows.length,
    keys,
    dropped: { ...built.droppedByReason },
    phonesWithoutCountry: countPhonesWithoutCountry(rows, opts.mapping, opts),
  };
}
