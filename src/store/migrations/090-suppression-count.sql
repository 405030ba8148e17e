-- How many entries the erasure suppression list holds, kept beside it in one row. Every upload page asks twice
-- (before building its rows and inside its snapshot write) whether anyone was listed since, and count(*) reads the
-- whole list, which only grows. suppressions.ts `add` moves it in the transaction that lists the entries.
CREATE TABLE erasure_suppression_count (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  entries  bigint NOT NULL CHECK (entries >= 0)
);
INSERT INTO erasure_suppression_count (entries) SELECT count(*) FROM erasure_suppressions;
