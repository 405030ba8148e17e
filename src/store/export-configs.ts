import type { ExportMode } from '../domain/export-terms.js';
import type { AttributeMapping, KeyIdentifier } from '../domain/mapping.js';
import type { Db } from './db.js';
import { NotFoundError } from './errors.js';
import { toDate } from './rows.js';

/** Either a cron expression (in `timezone`) or a fixed interval; `paused` keeps it without running it. */
export interface ExportSchedule {
  readonly cron?: string;
  readonly intervalSeconds?: number;
  /** IANA zone for cron. @default 'UTC' */
  readonly timezone?: string;
  readonly paused: boolean;
}

export interface ExportConfig {
  readonly destinationId: string;
  readonly keyIdentifier: KeyIdentifier;
  /** Meta key → profile attribute; the API validates it (domain/mapping.ts); stored as jsonb. */
  readonly mapping: AttributeMapping;
  readonly segments: readonly string[];
  readonly mode: ExportMode;
  /** Profile attribute whose false value withdraws a profile's consent; null when not used. */
  readonly consentAttribute: string | null;
  readonly limitedDataUse: boolean;
  /** ISO 3166-1 alpha-2, upper case; used for phones and addresses without a country. */
  readonly defaultCountry: string | null;
  readonly schedule: ExportSchedule | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a run uses of its destination's config: frozen into the run's record when it starts. */
export type FrozenExportConfig = Pick<
  ExportConfig,
  'keyIdentifier' | 'mapping' | 'segments' | 'mode' | 'consentAttribute' | 'limitedDataUse' | 'defaultCountry'
>;

export const frozenExportConfig = (c: ExportConfig): FrozenExportConfig => ({
  keyIdentifier: c.keyIdentifier,
  mapping: c.mapping,
  segments: [...c.segments],
  mode: c.mode,
  consentAttribute: c.consentAttribute,
  limitedDataUse: c.limitedDataUse,
  defaultCountry: c.defaultCountry,
});

export type ExportConfigInput = Pick<ExportConfig, 'keyIdentifier' | 'mapping' | 'segments'> &
  Partial<Pick<ExportConfig, 'mode' | 'consentAttribute' | 'limitedDataUse' | 'defaultCountry' | 'schedule'>>;

interface ExportConfigRow {
  destination_id: string;
  key_identifier: KeyIdentifier;
  mapping: AttributeMapping;
  segments: string[];
  mode: ExportMode;
  consent_attribute: string | null;
  limited_data_use: boolean;
  default_country: string | null;
  schedule: ExportSchedule | null;
  created_at: Date;
  updated_at: Date;
}

const fromRow = (r: ExportConfigRow): ExportConfig => ({
  destinationId: r.destination_id,
  keyIdentifier: r.key_identifier,
  mapping: r.mapping,
  segments: r.segments,
  mode: r.mode,
  consentAttribute: r.consent_attribute,
  limitedDataUse: r.limited_data_use,
  defaultCountry: r.default_country,
  schedule: r.schedule,
  createdAt: toDate(r.created_at),
  updatedAt: toDate(r.updated_at),
});

const COLUMNS = `destination_id, key_identifier, mapping, segments, mode, consent_attribute, limited_data_use,
  default_country, schedule, created_at, updated_at`;

export type ExportConfigRepository = ReturnType<typeof createExportConfigRepository>;

/** One export config per destination. */
export function createExportConfigRepository(db: Db) {
  return {
    /** Creates or replaces the destination's config (omitted optional fields take their defaults). @throws NotFoundError */
    async put(destinationId: string, input: ExportConfigInput): Promise<ExportConfig> {
      const [row] = await db.query<ExportConfigRow>(
        `INSERT INTO export_configs (destination_id, key_identifier, mapping, segments, mode, consent_attribute,
           limited_data_use, default_country, schedule)
         SELECT id, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb FROM destinations WHERE id = $1
         ON CONFLICT (destination_id) DO UPDATE SET key_identifier = EXCLUDED.key_identifier,
           mapping = EXCLUDED.mapping, segments = EXCLUDED.segments, mode = EXCLUDED.mode,
           consent_attribute = EXCLUDED.consent_attribute, limited_data_use = EXCLUDED.limited_data_use,
           default_country = EXCLUDED.default_country, schedule = EXCLUDED.schedule, updated_at = now()
         RETURNING ${COLUMNS}`,
        [
          destinationId,
          input.keyIdentifier,
          JSON.stringify(input.mapping),
          input.segments,
          input.mode ?? 'mirror',
          input.consentAttribute ?? null,
          input.limitedDataUse ?? false,
          input.defaultCountry ?? null,
          input.schedule ? JSON.stringify(input.schedule) : null,
        ],
      );
      if (!row) throw new NotFoundError('destination', destinationId);
      return fromRow(row);
    },

    /** @throws NotFoundError */
    async get(destinationId: string): Promise<ExportConfig> {
      const [row] = await db.query<ExportConfigRow>(`SELECT ${COLUMNS} FROM export_configs WHERE destination_id = $1`, [
        destinationId,
      ]);
      if (!row) throw new NotFoundError('export config', destinationId);
      return fromRow(row);
    },

    /** Sets, changes or (with null) removes the schedule alone. @throws NotFoundError */
    async setSchedule(destinationId: string, schedule: ExportSchedule | null): Promise<ExportConfig> {
      const [row] = await db.query<ExportConfigRow>(
        `UPDATE export_configs SET schedule = $2::jsonb, updated_at = now() WHERE destination_id = $1
         RETURNING ${COLUMNS}`,
        [destinationId, schedule ? JSON.stringify(schedule) : null],
      );
      if (!row) throw new NotFoundError('export config', destinationId);
      return fromRow(row);
    },

    /** Configs with a schedule that is not paused, for the refresh fan-out. */
    async listScheduled(): Promise<ExportConfig[]> {
      const rows = await db.query<ExportConfigRow>(
        `SELECT ${COLUMNS} FROM export_configs
         WHERE schedule IS NOT NULL AND NOT COALESCE((schedule ->> 'paused')::boolean, false)
         ORDER BY destination_id`,
      );
      return rows.map(fromRow);
    },

    /** @returns false when there was none. */
    async delete(destinationId: string): Promise<boolean> {
      const rows = await db.query('DELETE FROM export_configs WHERE destination_id = $1 RETURNING destination_id', [
        destinationId,
      ]);
      return rows.length > 0;
    },
  };
}
