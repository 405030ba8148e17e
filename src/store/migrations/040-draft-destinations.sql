-- The connector's order (#28): a destination is created with its name, Facebook is connected, and only then are the
-- ad account and the audience chosen from what the connection can see. Until then both are empty (a draft).
ALTER TABLE destinations ALTER COLUMN ad_account_id DROP NOT NULL;
ALTER TABLE destinations DROP CONSTRAINT destinations_check;
ALTER TABLE destinations ADD CONSTRAINT destinations_audience_in_account
  CHECK (audience_id IS NULL OR ad_account_id IS NOT NULL);
