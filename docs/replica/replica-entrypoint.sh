#!/bin/sh
# The `replica` profile's standby: on first start (an empty data directory) copy the
# primary with pg_basebackup -R (which writes standby.signal and primary_conninfo), then
# run PostgreSQL as the official image does; it streams from the primary from then on
# and answers read-only queries (hot standby).
set -eu
: "${PRIMARY_HOST:=postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  until su-exec postgres pg_isready -h "$PRIMARY_HOST" -U replicator -q; do
    echo "waiting for the primary at $PRIMARY_HOST"
    sleep 1
  done
  PGPASSWORD="${REPLICATION_PASSWORD:-replicator}" su-exec postgres \
    pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -c fast
fi
exec docker-entrypoint.sh postgres
