#!/usr/bin/env bash
# The whole suite, once on SQLite and once on PostgreSQL (every test that touches a database is
# parametrized over both): a throwaway PostgreSQL cluster on loopback for the run, two workers
# (`--dist worksteal`: the long tests, collected first, start early on one worker while the other runs
# the short ones, which mixes heavy and light work on two cores; the first done takes over the rest).
#
# The run's temporary files (test folders, SQLite databases, the cluster's data) go to memory when
# /dev/shm is a tmpfs with room: the tests create and drop a database each, and ext4 slows down
# creating files among thousands just deleted (a PostgreSQL copy took 0.5 s on disk, 0.03 s in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CITYDEAL_TEST_TMPDIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] \
        && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 4194304 ]; then
    CITYDEAL_TEST_TMPDIR="$(mktemp -d /dev/shm/citydeal-test.XXXXXX)"
    chmod 1777 "$CITYDEAL_TEST_TMPDIR"  # the postgres user keeps the cluster's data in it
    REMOVE_TMPDIR=1
fi
if [ -n "${CITYDEAL_TEST_TMPDIR:-}" ]; then export TMPDIR="$CITYDEAL_TEST_TMPDIR"; fi
cleanup() {
    scripts/postgres.sh stop
    if [ -n "${REMOVE_TMPDIR:-}" ]; then rm -rf "$CITYDEAL_TEST_TMPDIR"; fi
}
trap cleanup EXIT
URL="$(scripts/postgres.sh start)"
CITYDEAL_TEST_POSTGRES="$URL" .venv/bin/python -m pytest -n "${CITYDEAL_TEST_WORKERS:-2}" --dist worksteal "$@"
