-- Nonces of OAuth `state` values already redeemed, so each signed state works once (API, Facebook callback).
-- Rows are only needed until the state expires; the API sweeps older ones as it redeems new ones.
CREATE TABLE oauth_states_used (
  nonce          text PRIMARY KEY,
  destination_id uuid NOT NULL,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_states_used_expires_idx ON oauth_states_used (expires_at);
