#!/bin/sh
# Temporal's two databases and their schemas, from the schema embedded in the sql tool (so no schema folder is
# needed). The tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD itself. docker-compose.yml's
# temporal-schema job and `audience-export cluster up` both run this file; TEMPORAL_SQL_TOOL names the binary.
# Safe to run again: existing databases are kept and the schemas are brought up to date.
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
db="${TEMPORAL_DB:-temporal}"
visibility="${TEMPORAL_VISIBILITY_DB:-temporal_visibility}"
export SQL_PLUGIN="${SQL_PLUGIN:-postgres12}"
for name in "$db" "$visibility"; do
  "$tool" --db "$name" create-database 2>/dev/null || echo "database $name exists"
done
"$tool" --db "$db" setup-schema -v 0.0
"$tool" --db "$db" update-schema --schema-name postgresql/v12/temporal
"$tool" --db "$visibility" setup-schema -v 0.0
"$tool" --db "$visibility" update-schema --schema-name postgresql/v12/visibility
