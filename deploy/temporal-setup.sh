#!/bin/sh
# The namespace and our search attributes (src/workflows/search-attributes.ts; a test checks the two agree).
# The Temporal CLI reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TEMPORAL_TLS_* variables itself.
# docker-compose.yml's temporal-setup job and `audience-export cluster up` both run this file; TEMPORAL_CLI names
# the binary. Safe to run again.
set -eu
cli="${TEMPORAL_CLI:-temporal}"
ns="${TEMPORAL_NAMESPACE:-default}"
"$cli" operator namespace describe -n "$ns" >/dev/null 2>&1 || "$cli" operator namespace create -n "$ns" --retention 30d
# A new namespace takes a few seconds to reach every service: retry until the attributes are registered.
attributes='DestinationId=Keyword AdAccountId=Keyword AudienceId=Keyword Segments=KeywordList ExportMode=Keyword ExportTrigger=Keyword'
flags=''
for pair in $attributes; do flags="$flags --name ${pair%=*} --type ${pair#*=}"; done
registered() {
  list=$("$cli" operator search-attribute list -n "$ns") || return 1
  for pair in $attributes; do echo "$list" | grep -q "${pair%=*}" || return 1; done
}
attempt=0
# shellcheck disable=SC2086 # $flags is a list of flags
until registered || "$cli" operator search-attribute create -n "$ns" $flags; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 60 ] || { echo "could not register the search attributes in $ns" >&2; exit 1; }
  sleep 1
done
echo "namespace $ns has our search attributes"
