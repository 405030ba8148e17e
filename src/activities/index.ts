/**
 * Temporal activities: thin adapters from the export workflow to domain, facebook, store and sources.
 * Built by a factory so their I/O is injected and tests can swap it.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ActivityDeps {}

export function createActivities(_deps: ActivityDeps) {
  return {};
}

export type Activities = ReturnType<typeof createActivities>;
