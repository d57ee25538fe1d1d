#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on loopback only: `scripts/postgres.sh start|stop`.
# Installs Debian's PostgreSQL when it is missing (as root, which CI is). Prints the admin URL.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${CITYDEAL_PG_PORT:-54329}"
# Outside the checkout: the postgres user must reach it, whoever owns the folders above the checkout.
DATA="${TMPDIR:-/tmp}/citydeal-pgdata-$(printf '%s' "$PWD" | cksum | cut -d' ' -f1)"
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
start)
    if [ -z "$(bindir)" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    BIN="$(bindir)"
    if [ ! -s "$DATA/PG_VERSION" ]; then
        rm -rf "$DATA" && mkdir -p "$DATA" && chmod 700 "$DATA"
        if [ "$(id -u)" = 0 ]; then chown postgres "$DATA"; fi
        as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -o "-h 127.0.0.1 -p $PORT -k /tmp -F" start >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
stop)
    BIN="$(bindir)"
    [ -s "$DATA/PG_VERSION" ] && as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    ;;
esac
