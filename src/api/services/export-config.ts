import countries from 'i18n-iso-countries';
import type { z } from 'zod';
import {
  MAPPABLE_KEYS,
  mappingWarnings,
  plaintextMappingProblems,
  validateMapping,
  type AttributeMapping,
  type KeyIdentifier,
} from '../../domain/mapping.js';
import type { ExportConfig } from '../../store/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind, type FieldError } from '../problem.js';
import type { ExportConfigInputSchema } from '../schemas/export-config.js';

type Deps = Pick<ApiDeps, 'store' | 'source'>;
export type ExportConfigInput = z.output<typeof ExportConfigInputSchema>;

/** Checks a mapping against the domain's rules and the profile source's real attributes. */
export async function checkMapping(
  deps: Deps,
  input: {
    keyIdentifier: KeyIdentifier;
    mapping: AttributeMapping;
    consentAttribute?: string | null;
    defaultCountry?: string | null;
  },
  prefix = 'body',
): Promise<FieldError[]> {
  const errors: FieldError[] = validateMapping(input.keyIdentifier, input.mapping).map((p) => ({
    field: `${prefix}.${p.field}`,
    message: p.message,
  }));
  const attributes = new Set((await deps.source.listAttributes()).map((a) => a.name));
  for (const key of MAPPABLE_KEYS) {
    const mapped = input.mapping[key];
    if (mapped && !attributes.has(mapped.attribute)) {
      errors.push({ field: `${prefix}.mapping.${key}.attribute`, message: 'no such profile attribute' });
    }
  }
  for (const p of plaintextMappingProblems(input.mapping, deps.source.plaintextColumns)) {
    errors.push({ field: `${prefix}.${p.field}`, message: p.message });
  }
  if (input.consentAttribute && !attributes.has(input.consentAttribute)) {
    errors.push({ field: `${prefix}.consentAttribute`, message: 'no such profile attribute' });
  }
  if (input.defaultCountry && !countries.isValid(input.defaultCountry)) {
    errors.push({ field: `${prefix}.defaultCountry`, message: 'not an ISO 3166-1 country code' });
  }
  return errors;
}

async function checkSegments(deps: Deps, segments: readonly string[]): Promise<FieldError[]> {
  const known = new Set((await deps.source.listSegments()).map((s) => s.name));
  return segments.flatMap((s, i) =>
    known.has(s) ? [] : [{ field: `body.segments.${i}`, message: 'no such segment in the profile source' }],
  );
}

export const exportConfigView = (c: ExportConfig) => ({
  destinationId: c.destinationId,
  keyIdentifier: c.keyIdentifier,
  mapping: { ...c.mapping },
  segments: [...c.segments],
  mode: c.mode,
  consentAttribute: c.consentAttribute,
  limitedDataUse: c.limitedDataUse,
  defaultCountry: c.defaultCountry,
  updatedAt: c.updatedAt.toISOString(),
  warnings: mappingWarnings(c.mapping, c.defaultCountry),
});

/** Validates everything (reporting every fault at once) and stores the config; the schedule is kept. */
export async function putExportConfig(deps: Deps, destinationId: string, input: ExportConfigInput) {
  await deps.store.destinations.get(destinationId);
  const errors = [...(await checkMapping(deps, input)), ...(await checkSegments(deps, input.segments))];
  if (errors.length > 0)
    throw new ProblemError(400, ProblemKind.validation, 'Correct the fields listed in errors.', errors);
  // The store's put replaces the whole row: carry the schedule over, it is the schedules API's to change.
  const schedule = (await deps.store.exportConfigs.get(destinationId).catch(() => null))?.schedule ?? null;
  const saved = await deps.store.exportConfigs.put(destinationId, {
    schedule,
    keyIdentifier: input.keyIdentifier,
    mapping: input.mapping,
    segments: input.segments,
    mode: input.mode,
    consentAttribute: input.consentAttribute,
    limitedDataUse: input.limitedDataUse,
    defaultCountry: input.defaultCountry,
  });
  return exportConfigView(saved);
}
