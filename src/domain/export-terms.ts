/** Words every layer uses for an export run: its modes, what started it, and its drop counts. */

/** How a run changes the audience (README "Modes"). */
export const EXPORT_MODES = ['mirror', 'replace', 'add'] as const;
export type ExportMode = (typeof EXPORT_MODES)[number];

/** What started a run: the API or CLI, a destination's schedule, or a refresh request. */
export const EXPORT_TRIGGERS = ['manual', 'schedule', 'refresh'] as const;
export type ExportTrigger = (typeof EXPORT_TRIGGERS)[number];

/** Rows not sent, by reason (e.g. `key_identifier_missing`, `no_consent`): counts only, never the rows. */
export type DropCounts = Record<string, number>;
