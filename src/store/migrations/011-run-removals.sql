-- Mirror and add runs remove rows too (who left the segment, who withdrew consent): removal pages are recorded
-- apart from add pages, and the run keeps its removal total and the mode it actually ran in (a first mirror run
-- on an audience that already has members runs as a replace).
ALTER TABLE export_run_pages ADD COLUMN kind text NOT NULL DEFAULT 'add' CHECK (kind IN ('add', 'remove'));
ALTER TABLE export_run_pages ADD COLUMN removed integer NOT NULL DEFAULT 0;
ALTER TABLE export_run_pages DROP CONSTRAINT export_run_pages_pkey;
ALTER TABLE export_run_pages ADD PRIMARY KEY (run_id, kind, page);
ALTER TABLE export_runs ADD COLUMN removed bigint NOT NULL DEFAULT 0;
ALTER TABLE export_runs ADD COLUMN effective_mode text CHECK (effective_mode IN ('mirror', 'replace', 'add'));
