#!/usr/bin/env bash
# A narrated amendment through all 17 parties, typed as a user would, on its own database
# (var/demo.db) with the clock set inside the deal's term.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var
rm -f var/demo.db

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Each word as the shell reads it back: bare when it is safe, else in single quotes (' as '\'').
quoted() {
    local word out=()
    for word in "$@"; do
        if [[ $word =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$word"); else out+=("'${word//\'/\'\\\'\'}'"); fi
    done
    printf '%s' "${out[*]}"
}
# Printed so that it can be pasted as it is (in this directory, with the exports printed before it).
run() { printf '$ %s\n' "$(quoted "$BIN/citydeal" "$@")"; "$BIN/citydeal" "$@"; }
setting() { export "$1=$2"; printf '$ export %s\n' "$(quoted "$1=$2")"; }
first_task() { "$BIN/citydeal" tasks "$@" --json | "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])'; }

say "The deal is loaded into a fresh demo database; the clock stands at 12 April 2021, 10:00."
setting CITYDEAL_DATABASE_URL "sqlite:///$PWD/var/demo.db"
setting CITYDEAL_NOW "2021-04-12T10:00:00+02:00"
run init

say "BZK asks in writing to amend the deal (Wijzigingen lid 1). The request reaches projectleider and secretaris now; the consultation runs 6 weeks."
run start wijziging --by bzk --title "Werklijn 5: warmte in de wijk" \
    --text "Aan Deel 1 wordt een vijfde werklijn toegevoegd: collectieve warmte in kwetsbare wijken." \
    --motivation "De proeftuinen vragen om een gezamenlijke aanpak van warmtenetten."
run show 1

say "The projectleider informs the other 16 parties and asks for their consent (Wijzigingen lid 2)."
run complete "$(first_task --role projectleider)" --as projectleider
run tasks

say "Each party's representative consents, with a written statement."
for party in $("$BIN/citydeal" tasks --json | "$BIN/python" -c 'import json, sys; print(" ".join(t["party"] for t in json.load(sys.stdin) if t["party"]))'); do
    # The statement in the party's own words; the bijlage names the party beside it.
    run complete "$(first_task --party "$party")" --as "$party" --decision consent \
        --statement "Wij stemmen in met de toevoeging van werklijn 5."
done

say "All 17 consented: the amendment and the statements are attached as a bijlage (Wijzigingen lid 3)."
run show 1
run appendices

say "Bijlage 1 as a PDF sealed with the installation's seal, then checked against the register."
run appendices pdf 1 -o var/bijlage-1.pdf
run appendices verify var/bijlage-1.pdf

say "A second request, on 20 April: two parties have not answered yet when the demo ends."
setting CITYDEAL_NOW "2021-04-20T10:00:00+02:00"
run start wijziging --by utrecht --title "Monitor energiearmoede" \
    --text "Partijen monitoren energiearmoede per wijk met een gedeelde set indicatoren." --json
run complete "$(first_task --role projectleider)" --as projectleider
say "Fourteen of the sixteen parties asked consent; Tiwos and Zayaz have not answered yet."
for party in $("$BIN/citydeal" tasks --json | "$BIN/python" -c 'import json, sys; print(" ".join(t["party"] for t in json.load(sys.stdin) if t["party"] and t["party"] not in ("tiwos", "zayaz")))'); do
    run complete "$(first_task --party "$party")" --as "$party" --decision consent
done
run show 2
run calendar --party tiwos

say "The audit chain holds every step; verify it."
run audit verify
