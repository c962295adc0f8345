#!/bin/sh
# Run once by the official postgres image when it creates the primary's database
# (/docker-entrypoint-initdb.d): a role that may stream the WAL, and the pg_hba.conf line
# letting it in with a password. The image's defaults already stream (wal_level=replica,
# max_wal_senders=10). Harmless without the `replica` profile: nobody connects as it.
set -eu
psql -v ON_ERROR_STOP=1 -v password="${REPLICATION_PASSWORD:-replicator}" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
