-- People erased on request (#25): a later export must not add them back. Only SHA-256 digests are kept, never the
-- identifier itself: of the profile key, of EXTERN_ID or MADID as sent, the EMAIL or PHONE cell's own hash, and for
-- name+ZIP the hash of the FN, LN and ZIP cells (domain/suppression.ts says exactly what is hashed).
CREATE TABLE erasure_suppressions (
  hash       bytea NOT NULL CHECK (octet_length(hash) = 32),
  kind       text NOT NULL CHECK (kind IN ('profile_key', 'EMAIL', 'PHONE', 'EXTERN_ID', 'MADID', 'NAME_ZIP')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hash, kind)
);
