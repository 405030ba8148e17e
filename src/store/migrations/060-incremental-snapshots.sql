-- Refreshes that cost the change (#24) and mirror after a mapping change (#28).

-- A member the run examined and dropped (no usable key identifier, no consent...): nothing of it is at Meta, but the
-- snapshot remembers its fingerprint, so a refresh does not examine it again until it changes. Its cells are empty.
ALTER TABLE audience_snapshots DROP CONSTRAINT audience_snapshots_state_check;
ALTER TABLE audience_snapshots ADD CONSTRAINT audience_snapshots_state_check
  CHECK (state IN ('sent', 'possibly_sent', 'removing', 'dropped'));

-- What an audience's snapshot rows were computed under: a digest of the mapping, key identifier, default country,
-- consent attribute, Limited Data Use and the fingerprint's own version (domain/snapshot-basis.ts). A mirror run
-- whose basis differs replaces the audience, so rows sent under the old mapping go. The change watermark is the
-- largest value of the profile source's change column that the last completed run had seen.
CREATE TABLE audience_snapshot_meta (
  audience_id      text PRIMARY KEY,
  basis            text NOT NULL,
  change_column    text,
  change_watermark text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Pages whose rows were written to the snapshot in one go (COPY), so a retried page knows its rows are already
-- there instead of writing them twice.
CREATE TABLE audience_snapshot_recorded_pages (
  audience_id text NOT NULL,
  run_id      uuid NOT NULL,
  page        integer NOT NULL,
  PRIMARY KEY (run_id, page)
);
CREATE INDEX audience_snapshot_recorded_pages_audience_idx ON audience_snapshot_recorded_pages (audience_id);

-- Why a run uses its mode (a mirror run may replace), what it froze (the whole segment or only what changed) and the
-- change watermark its freeze saw.
ALTER TABLE export_runs ADD COLUMN mode_reason text;
ALTER TABLE export_runs ADD COLUMN freeze_scope text CHECK (freeze_scope IN ('segment', 'changes'));
ALTER TABLE export_runs ADD COLUMN change_watermark text;
