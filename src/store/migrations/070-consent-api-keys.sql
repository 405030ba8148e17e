-- Who agreed and who withdrew, as the API knows it (#25): the name of the API key that called, beside the free text
-- the caller gave. Records from before keys had names keep NULL.
ALTER TABLE consent_records ADD COLUMN given_by_key text;
ALTER TABLE consent_records ADD COLUMN withdrawn_by_key text;
