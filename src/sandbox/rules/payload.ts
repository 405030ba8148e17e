import { graphErrors } from '../errors.js';
import { ScannedRows } from '../json-rows.js';
import { CellKind, DataSourceSubtype, isIdentifying, type UploadSchema } from './cells.js';
import { checkParsedRows, checkScannedRows, type CheckedRows } from './rows.js';

export { CellKind, cellProblem, DataSourceSubtype, EMPTY_SHA256, type UploadSchema } from './cells.js';
export { rowCells, type CheckedRows } from './rows.js';

/** Multi-key schema keys the users reference and the guide list (PAGEUID/APPUID are not for customer files). */
export const MULTI_KEYS: Readonly<Record<string, CellKind>> = {
  EXTERN_ID: CellKind.Plain,
  EMAIL: CellKind.Hashed,
  PHONE: CellKind.Hashed,
  GEN: CellKind.Hashed,
  DOBY: CellKind.Hashed,
  DOBM: CellKind.Hashed,
  DOBD: CellKind.Hashed,
  LN: CellKind.Hashed,
  FN: CellKind.Hashed,
  FI: CellKind.Hashed,
  CT: CellKind.Hashed,
  ST: CellKind.Hashed,
  ZIP: CellKind.Hashed,
  MADID: CellKind.Plain,
  COUNTRY: CellKind.Hashed,
  LOOKALIKE_VALUE: CellKind.Number,
  DATA_PROCESSING_OPTIONS: CellKind.Options,
  DATA_PROCESSING_OPTIONS_COUNTRY: CellKind.Number,
  DATA_PROCESSING_OPTIONS_STATE: CellKind.Number,
};

/** Single-key schema strings and the column they stand for. */
export const SINGLE_KEYS: Readonly<Record<string, CellKind>> = {
  EMAIL_SHA256: CellKind.Hashed,
  PHONE_SHA256: CellKind.Hashed,
  MOBILE_ADVERTISER_ID: CellKind.Plain,
  EXTERN_ID: CellKind.Plain,
};

const PAYLOAD_FIELDS = new Set(['schema', 'data', 'is_raw', 'app_ids', 'page_ids', 'data_source']);

export interface CheckedPayload {
  schema: UploadSchema;
  /** Valid rows only. */
  rows: CheckedRows;
  received: number;
  invalid: number;
}

export function checkSchema(schema: unknown): UploadSchema {
  if (typeof schema === 'string') {
    const kind = SINGLE_KEYS[schema];
    if (!kind)
      throw graphErrors.invalidParameter(`payload.schema: unknown single-key schema ${JSON.stringify(schema)}`);
    return { keys: [schema], kinds: [kind], subtype: DataSourceSubtype.HashesOrUserIds };
  }
  if (!Array.isArray(schema) || schema.length === 0) {
    throw graphErrors.invalidParameter('payload.schema must be a key or a non-empty list of keys');
  }
  const kinds = schema.map((key: unknown) => {
    const kind = typeof key === 'string' ? MULTI_KEYS[key] : undefined;
    if (!kind) throw graphErrors.invalidParameter(`payload.schema: unknown key ${JSON.stringify(key)}`);
    return kind;
  });
  if (new Set(schema).size !== schema.length) throw graphErrors.invalidParameter('payload.schema lists a key twice');
  const identifying = (schema as string[]).some((k) => isIdentifying(k));
  if (!identifying) throw graphErrors.invalidParameter('payload.schema has no identifying key');
  return { keys: schema as string[], kinds, subtype: DataSourceSubtype.MultiHashes };
}

const tooManyRows = (n: number, maxRows: number) =>
  graphErrors.invalidParameter(`payload.data has ${n} rows; at most ${maxRows} per request`);

/**
 * Checks a `payload` object the way Meta does: shape errors refuse the whole request (100); bad cells make
 * their row an invalid entry (counted, never stored), as does a row with no identifying value.
 */
export function checkPayload(payload: unknown, maxRows: number): CheckedPayload {
  if (payload === undefined || payload === null)
    throw graphErrors.invalidParameter('The parameter payload is required');
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    throw graphErrors.invalidParameter('Param payload must be a JSON object');
  }
  const p = payload as Record<string, unknown>;
  for (const field of Object.keys(p)) {
    if (!PAYLOAD_FIELDS.has(field)) throw graphErrors.invalidParameter(`payload has an unknown field ${field}`);
  }
  if (p.is_raw !== undefined && typeof p.is_raw !== 'boolean') {
    throw graphErrors.invalidParameter('payload.is_raw must be a boolean');
  }
  const schema = checkSchema(p.schema);
  const data = p.data;
  if (data instanceof ScannedRows) {
    if (data.count > maxRows) throw tooManyRows(data.count, maxRows);
    const { rows, invalid } = checkScannedRows(data, schema);
    return { schema, rows, received: data.count, invalid };
  }
  if (!Array.isArray(data) || data.length === 0) throw graphErrors.invalidParameter('payload.data must not be empty');
  if (data.length > maxRows) throw tooManyRows(data.length, maxRows);
  const { rows, invalid } = checkParsedRows(data, schema);
  return { schema, rows, received: data.length, invalid };
}
