"""Every audit event the engine writes has a Dutch name on the audit page and in its CSV export
(issue 14, point 7): a new event without one would show its code to a person."""
import re
from pathlib import Path

from web.labels import EVENTS

ENGINE = Path(__file__).resolve().parents[2] / 'engine'
#: audit.append(..., event='name', ...) and runner.record(ctx, procedure, 'name', ...)
WRITTEN = re.compile(r"event='([a-z_]+)'|record\(ctx, [a-z_.]+, '([a-z_]+)'")
#: events named by a variable: geheimhouding's decisions pass them on through _decided(..., event)
PASSED_ON = re.compile(r"_decided\(ctx, procedure, '[a-z]+', .*, '([a-z_]+)'\)$", re.MULTILINE)


def events_in_engine():
    found = set()
    for path in ENGINE.rglob('*.py'):
        text = path.read_text(encoding='utf-8')
        found |= {a or b for a, b in WRITTEN.findall(text)} | set(PASSED_ON.findall(text))
    return found


def test_the_scan_finds_the_events_it_should():
    found = events_in_engine()
    assert {'procedure_started', 'answer_revised', 'confidentiality_lifted', 'calendar_feed_created'} <= found


def test_every_audit_event_has_a_dutch_name():
    assert sorted(events_in_engine() - set(EVENTS)) == []
