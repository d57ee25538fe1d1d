#!/usr/bin/env bash
# The whole suite, once on SQLite and once on PostgreSQL (every test that touches a database is
# parametrized over both): a throwaway PostgreSQL cluster on loopback for the run, two workers
# (`--dist worksteal`: the long tests, collected first, start early on one worker while the other runs
# the short ones, which mixes heavy and light work on two cores; the first done takes over the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
URL="$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT
CITYDEAL_TEST_POSTGRES="$URL" .venv/bin/python -m pytest -n "${CITYDEAL_TEST_WORKERS:-2}" --dist worksteal "$@"
