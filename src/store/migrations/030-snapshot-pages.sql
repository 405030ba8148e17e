-- Snapshot rows confirmed page by page (#15). A page's rows are written `possibly_sent` with the page that carries
-- them before it is posted; once Meta accepts the page, one row here confirms them all, where rewriting each row
-- (a non-HOT update: `state` is in an index predicate) cost PostgreSQL more CPU than inserting it.
-- A row is confirmed sent when state = 'sent', or state = 'possibly_sent' and (run_id, page) is listed here
-- (snapshots.ts `confirmedSentSql`, the one place that says so).
ALTER TABLE audience_snapshots ADD COLUMN page integer;

CREATE TABLE audience_snapshot_pages (
  audience_id text NOT NULL,
  run_id      uuid NOT NULL,
  page        integer NOT NULL,
  PRIMARY KEY (run_id, page)
);
CREATE INDEX audience_snapshot_pages_audience_idx ON audience_snapshot_pages (audience_id);

-- Settling a run at its end touches only rows it must rewrite: removing rows and rows recorded without a page.
-- Paged possibly-sent rows stay out of this index (they are most of an audience and are never rewritten).
DROP INDEX audience_snapshots_run_idx;
CREATE INDEX audience_snapshots_unsettled_idx ON audience_snapshots (audience_id, run_id)
  WHERE state = 'removing' OR (state = 'possibly_sent' AND page IS NULL);
