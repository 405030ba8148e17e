-- A page is marked in flight (with its row count) just before it is posted and settled when Meta answers, so a run
-- that stops with pages in flight (cancelled, aborted, worker gone) says how many rows Meta may have applied
-- instead of reporting them as never sent. The run keeps the sums for adds and removes.
ALTER TABLE export_run_pages ADD COLUMN IF NOT EXISTS in_flight integer NOT NULL DEFAULT 0;
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS possibly_sent bigint NOT NULL DEFAULT 0;
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS possibly_removed bigint NOT NULL DEFAULT 0;
