#!/usr/bin/env bash
# `make run`: the deal loaded, the narrated demo, then everything running on the demo's database:
# the web app on http://127.0.0.1:5000, the scheduler, and a local mail sink (var/mail/), with the
# clock set just before the first reminders of the demo's second request.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SINK_PORT="${CITYDEAL_SINK_PORT:-8025}"
WEB_PORT="${CITYDEAL_WEB_PORT:-5000}"
# Mails link to the web app: to this one, on the port it serves (before the demo queues them).
export CITYDEAL_BASE_URL="${CITYDEAL_BASE_URL:-http://127.0.0.1:$WEB_PORT}"
DEMO_PASSWORD="energieke-wijken-demo"

"$BIN/citydeal" init
scripts/demo.sh

export CITYDEAL_DATABASE_URL="sqlite:///$PWD/var/demo.db"
export CITYDEAL_NOW="2021-05-18T08:59:30+02:00"
export CITYDEAL_SMTP_HOST=127.0.0.1 CITYDEAL_SMTP_PORT="$SINK_PORT" CITYDEAL_SMTP_TLS=none
export CITYDEAL_MAIL_FROM="secretariaat@energieke-wijken.example"

printf '\n\033[1m== Demo accounts, all with the password %s\033[0m\n' "$DEMO_PASSWORD"
echo "$DEMO_PASSWORD" | "$BIN/citydeal" users demo --password-stdin

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
# Ctrl-C is how this is meant to end: stop everything and report success.
trap 'cleanup; exit 0' INT TERM
"$BIN/citydeal" mail-sink --port "$SINK_PORT" --dir var/mail & pids+=($!)
sleep 1
"$BIN/citydeal" scheduler & pids+=($!)
printf '\n\033[1m== Running, the clock at %s\033[0m\n' "$CITYDEAL_NOW"
printf 'Web app:   http://127.0.0.1:%s  (tiwos@demo.example or zayaz@demo.example have a request to answer;\n' "$WEB_PORT"
printf '           projectleider@demo.example steers; auditor@demo.example audits)\n'
printf 'Yearly cycle: the 2021 cycle, due since the deal began, starts at once (procedure 3).\n'
printf 'Mail:      every message lands as a file in %s/var/mail/\n' "$PWD"
printf 'Scheduler: sends the queued mail now; reminds Tiwos and Zayaz at 09:00, thirty seconds from now.\n'
printf 'Ctrl-C stops everything.\n\n'
"$BIN/citydeal" serve --port "$WEB_PORT" & pids+=($!)
wait -n "${pids[@]}"
