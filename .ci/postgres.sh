# Source me (bash): `source .ci/postgres.sh`. Starts a throwaway PostgreSQL server on
# 127.0.0.1:${ANZE_PG_PORT:-54329} in a temporary data folder (Debian's `postgresql` package; as the
# postgres user when run as root) and exports TEST_POSTGRES_URL for the tests and for
# `npm run db:migration` / `db:check`. A server this script started earlier on that port is reused.
# `anze_pg_stop` stops the one it started. Installing the package is .ci/run's job.

ANZE_PG_PORT="${ANZE_PG_PORT:-54329}"
export TEST_POSTGRES_URL="postgres://anze:anze@127.0.0.1:${ANZE_PG_PORT}/anze"

anze_pg_bin() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$bin" ] || { echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2; return 1; }
  echo "$bin"
}

# As the postgres user when we are root: initdb and the server refuse to run as root.
anze_pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

anze_pg_start() {
  local bin dir
  bin="$(anze_pg_bin)" || return 1
  if "$bin/psql" "$TEST_POSTGRES_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    echo "PostgreSQL already serves $TEST_POSTGRES_URL"
    return 0
  fi
  dir="$(mktemp -d /tmp/anze-pg.XXXXXX)"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  # C collation: text sorts by code point, as SQLite's does; UTF8 for the Chinese names.
  anze_pg_as "$bin/initdb" -D "$dir/data" -U postgres --encoding=UTF8 --locale=C \
    --auth-local=peer --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  # Throwaway data: no fsync. Loopback only; the socket in /tmp.
  anze_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-k /tmp -c listen_addresses=127.0.0.1 -p ${ANZE_PG_PORT} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
    { cat "$dir/server.log" >&2; return 1; }
  # The tests' role creates (and drops) a database per test file.
  anze_pg_as "$bin/psql" -h /tmp -p "$ANZE_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE anze LOGIN CREATEDB PASSWORD 'anze'" -c "CREATE DATABASE anze OWNER anze" || return 1
  ANZE_PG_DIR="$dir"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') serves $TEST_POSTGRES_URL (data in $dir)"
}

anze_pg_stop() {
  [ -n "${ANZE_PG_DIR:-}" ] || return 0
  anze_pg_as "$(anze_pg_bin)/pg_ctl" -D "$ANZE_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$ANZE_PG_DIR"
  unset ANZE_PG_DIR
}

anze_pg_start
