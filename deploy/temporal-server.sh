#!/bin/sh
# Starts the Temporal Server with deploy/temporal/production.yaml (PostgreSQL persistence; TLS when the
# TEMPORAL_SERVER_TLS_* files are set). docker-compose.yml and `audience-export cluster up` both run this file;
# TEMPORAL_SERVER names the binary (the image's `temporal-server`, or the one `go install` built).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export TEMPORAL_SERVER_DYNAMIC_CONFIG="${TEMPORAL_SERVER_DYNAMIC_CONFIG:-$here/temporal-dynamicconfig.yaml}"
# No authorizer: clients are authenticated by TLS (mutual TLS) or by the network the server is reachable on.
exec "${TEMPORAL_SERVER:-temporal-server}" --root "$here" --config temporal --env production --allow-no-auth start
