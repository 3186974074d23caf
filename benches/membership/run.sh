#!/usr/bin/env bash
# Bounded load test of membership-app: two instances on one database, webhook deliveries and
# authenticated reads at the same time for DURATION_S seconds (benches/benches/membership.rs),
# on SQLite (a file both instances share) and on PostgreSQL (a throwaway cluster on a free
# loopback port, default settings but for its size, fsync on). Every answer is checked: a 5xx
# or a lost request fails the run. Results and conditions: docs/benchmarks.md ("membership-app").
#
#   benches/membership/run.sh                   # DURATION_S=20 WRITERS=4 READERS=8
#
# Needs PostgreSQL's server (apt-get install postgresql; /usr/lib/postgresql/*/bin). As root,
# PostgreSQL runs as the `postgres` user. Everything listens on 127.0.0.1 and is stopped and
# removed at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DURATION_S=${DURATION_S:-20} WRITERS=${WRITERS:-4} READERS=${READERS:-8}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release -q -p clerk-examples --bin membership-app
cargo bench -q -p clerk-benches --bench membership --no-run 2>/dev/null
export MEMBERSHIP_APP=$CARGO_TARGET_DIR/release/membership-app

WORK=$(mktemp -d)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$WORK"
    as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi
cleanup() {
    if [ -f "$WORK/pg/postmaster.pid" ]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" stop -D "$WORK/pg" -m fast -w >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$PG_BIN/postgres" --version)" >&2
echo "| backend | deliveries/s | p50 | p99 | reads/s | p50 | p99 | requests |"
echo "|---|---|---|---|---|---|---|---|"

BACKEND=sqlite DATABASE_PATH="$WORK/membership.db" cargo bench -q -p clerk-benches --bench membership

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" start -D "$WORK/pg" -w -l "$WORK/pg.log" \
    -o "-h 127.0.0.1 -p $PORT -k '' -c shared_buffers=128MB" >/dev/null
BACKEND=postgres DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres" \
    cargo bench -q -p clerk-benches --bench membership
