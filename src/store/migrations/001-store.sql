-- Our own tables (design "Storage"). Works on PostgreSQL 13+ and PGlite: no extensions.
-- Timestamps that page lists are timestamptz(3), so a JavaScript Date carries them exactly in keyset cursors.

CREATE TABLE destinations (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name      text NOT NULL,
  facebook_app_id   text NOT NULL,
  ad_account_id     text NOT NULL CHECK (ad_account_id ~ '^act_[0-9]+$'),
  audience_id       text CHECK (audience_id ~ '^[0-9]+$'),
  new_audience_name text,
  status            text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'needs_reconnect', 'needs_terms', 'paused', 'deleted')),
  created_at        timestamptz(3) NOT NULL DEFAULT now(),
  updated_at        timestamptz(3) NOT NULL DEFAULT now(),
  CHECK (audience_id IS NOT NULL OR new_audience_name IS NOT NULL)
);
-- Two destinations may not point at one audience: their mirror exports would undo each other.
CREATE UNIQUE INDEX destinations_audience_key ON destinations (ad_account_id, audience_id) WHERE audience_id IS NOT NULL;
CREATE INDEX destinations_created_idx ON destinations (created_at, id);

CREATE TABLE credentials (
  destination_id uuid PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('system_user', 'login')),
  -- AES-256-GCM: [key version][IV][tag][ciphertext]; the destination id is the associated data.
  token_sealed   bytea NOT NULL,
  scopes         text[] NOT NULL DEFAULT '{}',
  expires_at     timestamptz,
  verified_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credentials_expires_idx ON credentials (expires_at) WHERE expires_at IS NOT NULL;

-- Append-only evidence of who agreed to Meta's terms for a destination; kept after the destination is deleted.
CREATE TABLE consent_records (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  destination_id    uuid NOT NULL,
  given_by          text NOT NULL,
  given_at          timestamptz(3) NOT NULL DEFAULT now(),
  statement_version text NOT NULL,
  withdrawn_at      timestamptz(3),
  withdrawn_by      text,
  CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
);
CREATE INDEX consent_records_destination_idx ON consent_records (destination_id, given_at DESC);

CREATE TABLE export_configs (
  destination_id    uuid PRIMARY KEY REFERENCES destinations (id) ON DELETE CASCADE,
  key_identifier    text NOT NULL CHECK (key_identifier IN ('EMAIL', 'PHONE', 'NAME_ADDRESS')),
  mapping           jsonb NOT NULL DEFAULT '{}',
  segments          text[] NOT NULL DEFAULT '{}',
  mode              text NOT NULL DEFAULT 'mirror' CHECK (mode IN ('mirror', 'replace', 'add')),
  consent_attribute text,
  limited_data_use  boolean NOT NULL DEFAULT false,
  default_country   text CHECK (default_country ~ '^[A-Z]{2}$'),
  schedule          jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Run history outlives Temporal's retention and the destination itself (no foreign key on purpose).
CREATE TABLE export_runs (
  id                    uuid PRIMARY KEY,
  destination_id        uuid NOT NULL,
  ad_account_id         text NOT NULL,
  audience_id           text,
  segments              text[] NOT NULL DEFAULT '{}',
  mode                  text NOT NULL CHECK (mode IN ('mirror', 'replace', 'add')),
  trigger               text NOT NULL CHECK (trigger IN ('manual', 'schedule', 'refresh')),
  workflow_id           text NOT NULL,
  temporal_run_id       text,
  status                text NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'partial')),
  phase                 text NOT NULL DEFAULT 'validating',
  started_at            timestamptz(3) NOT NULL DEFAULT now(),
  finished_at           timestamptz(3),
  segment_size          bigint,
  sent                  bigint NOT NULL DEFAULT 0,
  dropped               jsonb NOT NULL DEFAULT '{}',
  received              bigint NOT NULL DEFAULT 0,
  invalid               bigint NOT NULL DEFAULT 0,
  matched               bigint,
  pages_total           integer,
  pages_done            integer NOT NULL DEFAULT 0,
  audience_lower_bound  bigint,
  audience_upper_bound  bigint,
  operation_status_code integer,
  delivery_status_code  integer,
  health_checks         jsonb NOT NULL DEFAULT '[]',
  error_message         text,
  error_type            text,
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX export_runs_started_idx ON export_runs (started_at DESC, id DESC);
CREATE INDEX export_runs_destination_idx ON export_runs (destination_id, started_at DESC, id DESC);
CREATE INDEX export_runs_running_idx ON export_runs (status) WHERE status = 'running';

-- One row per page of a run, so a retried page activity overwrites its own figures instead of adding twice.
CREATE TABLE export_run_pages (
  run_id   uuid NOT NULL REFERENCES export_runs (id) ON DELETE CASCADE,
  page     integer NOT NULL,
  sent     integer NOT NULL,
  received integer NOT NULL DEFAULT 0,
  invalid  integer NOT NULL DEFAULT 0,
  dropped  jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, page)
);

-- What each audience holds, as far as we know (design "Modes"). Millions of rows per audience, so rows are lean:
-- a 16-byte fingerprint of the mapped raw attributes and the cells last sent in snapshot-codec form.
-- The key (audience, profile, fingerprint) lets a changed member keep its old row until the profile leaves.
CREATE TABLE audience_snapshots (
  audience_id text NOT NULL,
  profile_key text NOT NULL,
  fingerprint bytea NOT NULL,
  cells       bytea NOT NULL,
  state       text NOT NULL CHECK (state IN ('sent', 'possibly_sent', 'removing')),
  run_id      uuid NOT NULL,
  PRIMARY KEY (audience_id, profile_key, fingerprint)
);
-- Committing or cleaning up one run touches only its own rows.
CREATE INDEX audience_snapshots_run_idx ON audience_snapshots (audience_id, run_id) WHERE state <> 'sent';

-- Meta's rate limits are per ad account: every export to a blocked account waits (design "Rate limits").
CREATE TABLE ad_account_blocks (
  ad_account_id text PRIMARY KEY,
  blocked_until timestamptz(3) NOT NULL,
  reason        text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
