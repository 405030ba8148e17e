-- Figures /metrics derives at scrape time (the API and the workers are separate processes, so no in-memory
-- counters): how long each page's upload took, and how often and how long a run waited out rate limits.
ALTER TABLE export_run_pages ADD COLUMN IF NOT EXISTS duration_ms integer;
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS throttle_waits integer NOT NULL DEFAULT 0;
ALTER TABLE export_runs ADD COLUMN IF NOT EXISTS waited_ms bigint NOT NULL DEFAULT 0;
