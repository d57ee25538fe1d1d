#!/usr/bin/env bash
# `make run`: the deal loaded, the narrated demo, then the scheduler on the demo's database with a
# local mail sink, its clock set just before the first reminders of the demo's second request.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SINK_PORT="${CITYDEAL_SINK_PORT:-8025}"

"$BIN/citydeal" init
scripts/demo.sh

export CITYDEAL_DATABASE_URL="sqlite:///$PWD/var/demo.db"
export CITYDEAL_NOW="2021-05-18T08:59:50+02:00"
export CITYDEAL_SMTP_HOST=127.0.0.1 CITYDEAL_SMTP_PORT="$SINK_PORT" CITYDEAL_SMTP_TLS=none
export CITYDEAL_MAIL_FROM="secretariaat@energieke-wijken.example"

"$BIN/citydeal" mail-sink --port "$SINK_PORT" --dir var/mail &
SINK=$!
trap 'kill $SINK 2>/dev/null || true' EXIT
sleep 1
printf '\n\033[1m== The scheduler runs on the demo, its clock at %s.\033[0m\n' "$CITYDEAL_NOW"
printf 'It sends the queued mail now and reminds Tiwos and Zayaz at 09:00, ten seconds from now.\n'
printf 'Every message lands as a file in %s/var/mail/. Ctrl-C stops.\n\n' "$PWD"
"$BIN/citydeal" scheduler
