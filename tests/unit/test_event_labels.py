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


def test_the_audit_spreadsheet_takes_the_pages_words_and_repeats_none():
    """web/audit_csv.py heads a column with the pages' words (web.labels.FIELDS, EVENTS) unless a column needs
    other ones: an entry of its own that says the same is a twin to drift apart."""
    from web.audit_csv import CODES, HEADERS
    from web.labels import FIELDS
    pages = {**{name: str(words) for name, words in EVENTS.items()}, **{name: str(words) for name, words in FIELDS.items()}}
    twins = {name: str(words) for name, words in HEADERS.items()
             if name.split('.')[-1] in pages and str(words) == pages[name.split('.')[-1]]
             and (name == name.split('.')[-1] or name.split('.')[-1] not in HEADERS)
             and words is not EVENTS.get(name)}
    assert twins == {}
    own = {words for codes in CODES.values() for words in codes.values() if not any(words is e for e in EVENTS.values())}
    assert not {str(words) for words in own} & {str(words) for words in EVENTS.values()}
