#!/bin/sh
# The PostgreSQL roles and databases of the production topology, none of them a superuser:
#   TEMPORAL_DB_USER  Temporal's role: creates and owns its two databases (deploy/temporal-schema.sh)
#   APP_DB_USER       owner of our database APP_DB: migrations create our tables (and runs' staging tables) there
#   SOURCE_DB_USER    read-only on the profile source SOURCE_DB: SELECT on its tables, nothing else (no CREATE,
#                     no temporary tables). The api and workers read profiles as this role (SOURCE_DATABASE_URL);
#                     runs' staging tables are made in APP_DB, the segment streamed there by a read-only COPY.
# Runs as a superuser through psql (PGHOST, PGPORT, PGUSER, PGPASSWORD). docker-compose.yml's postgres-setup job
# and `audience-export cluster up` both run this file. Safe to run again; passwords are (re)set every time.
set -eu
psql -v ON_ERROR_STOP=1 -q -d "${PGDATABASE:-postgres}" \
  -v temporal_user="${TEMPORAL_DB_USER:-temporal}" -v temporal_password="${TEMPORAL_DB_PASSWORD:-}" \
  -v app_db="${APP_DB:-audience_export}" -v app_user="${APP_DB_USER:-audience_export}" \
  -v app_password="${APP_DB_PASSWORD:-}" \
  -v source_db="${SOURCE_DB:-profiles}" -v source_user="${SOURCE_DB_USER:-audience_export_reader}" \
  -v source_password="${SOURCE_DB_PASSWORD:-}" <<'SQL'
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY[:'temporal_user', :'app_user', :'source_user']) AS r
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
-- An empty password means none (trust or peer authentication, as on a developer's machine).
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER CREATEDB PASSWORD %L', :'temporal_user', nullif(:'temporal_password', '')) \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'app_user', nullif(:'app_password', '')) \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'source_user', nullif(:'source_password', '')) \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'app_db') \gexec

-- The source belongs to whoever loads the profiles (here: the role running this file); the reader may only read.
SELECT format('CREATE DATABASE %I', :'source_db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'source_db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'source_db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'source_db', :'source_user') \gexec
\connect :"source_db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'source_user') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'source_user') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I', :'source_user') \gexec
SQL
