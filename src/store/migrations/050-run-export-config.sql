-- The export config a run uses, frozen into its record when it starts (#26): its later steps read this, so changing
-- the destination's config mid-run does not change the pages still to send. Null for runs recorded before.
ALTER TABLE export_runs ADD COLUMN export_config jsonb;
