#!/bin/sh
# Writes pgbouncer.ini and its user list from the environment (docker-compose.yml), then runs PgBouncer.
# Only the app's role is listed: migrations connect to PostgreSQL directly, not through the pooler.
set -eu
: "${PGBOUNCER_DB_HOST:=db}"
: "${PGBOUNCER_DB_PORT:=5432}"
: "${PGBOUNCER_USER:?set PGBOUNCER_USER (the app role, JIXIAO_DB_APP_ROLE)}"
: "${PGBOUNCER_PASSWORD:?set PGBOUNCER_PASSWORD (POSTGRES_APP_PASSWORD)}"
: "${PGBOUNCER_POOL_SIZE:=20}"
: "${PGBOUNCER_MAX_CLIENT_CONN:=500}"
: "${PGBOUNCER_SERVER_IDLE_TIMEOUT:=60}"
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"%s" "%s"\n' "$PGBOUNCER_USER" "$PGBOUNCER_PASSWORD" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=$PGBOUNCER_DB_HOST port=$PGBOUNCER_DB_PORT

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
; Transaction pooling: a server connection serves one transaction, then the next client's. The app
; runs with JIXIAO_DB_TRANSACTION_POOLER=true (no prepared statements; only SET LOCAL; no LISTEN).
pool_mode = transaction
; PostgreSQL sees at most this many connections from all the replicas together (per database and role).
default_pool_size = $PGBOUNCER_POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
; The replicas' own pools: every worker's pool + overflow, all replicas together, must fit.
max_client_conn = $PGBOUNCER_MAX_CLIENT_CONN
; Server connections idle this long are closed: the database gets them back when the load falls.
server_idle_timeout = $PGBOUNCER_SERVER_IDLE_TIMEOUT
server_lifetime = 3600
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
INI
exec pgbouncer "$dir/pgbouncer.ini"
