#!/usr/bin/env bash
# The test suite again on PostgreSQL: a throwaway cluster on loopback, a fresh database per test.
# The tests that run separate processes against their own SQLite files (marked `cli`) run once, on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
URL="$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop' EXIT
CITYDEAL_TEST_POSTGRES="$URL" .venv/bin/python -m pytest -m "not cli or postgres" "$@"
