"""Every party holds anchors: the chain's head is public (on /openbaar and at /api/v1/audit/head), and
a head kept from before finds entries cut from the end, which the chain alone cannot."""
import re

import pytest
from sqlalchemy import text

from engine.errors import CommandRefused
from tests.conftest import consent_all, open_consultation, start_amendment
from tests.web_support import browser




def test_the_head_is_public_on_the_page_and_in_the_api(app, site):
    pid = start_amendment(app)
    open_consultation(app, pid)
    head = app.audit_head()
    last = app.audit()[-1]
    assert head == {'seq': last['seq'], 'hash': last['hash']}
    client = site.test_client()
    got = client.get('/api/v1/audit/head')
    assert got.status_code == 200 and got.get_json() == head and got.headers['API-Version']
    page = client.get('/openbaar').get_data(as_text=True)
    assert re.search(r'<code id="audit-head">(\d+:[0-9a-f]{64})</code>', page).group(1) == \
        f"{head['seq']}:{head['hash']}"


def cut_last(app, count):
    with app.engine.begin() as connection:
        connection.execute(text('DELETE FROM audit_entries WHERE seq > (SELECT MAX(seq) FROM audit_entries) - :n'),
                           {'n': count})


def test_entries_cut_from_the_end_are_caught_with_an_anchor_taken_before(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid)
    head = app.audit_head()
    anchor = (head['seq'], head['hash'])
    assert app.verify_audit(anchor).ok
    cut_last(app, 5)
    alone = app.verify_audit()
    # the hashes alone cannot see a cut end (that is why parties keep heads); the tables the cut entries
    # accounted for may still give it away, but only the anchor names the missing entry
    assert f"entry {head['seq']} is missing" not in alone.message
    verdict = app.verify_audit(anchor)
    assert not verdict.ok and verdict.message.startswith(f"entry {head['seq']} is missing")


def test_the_audit_page_takes_an_anchor(app, site):
    pid = start_amendment(app)
    open_consultation(app, pid)
    head = app.audit_head()
    anchor = f"{head['seq']}:{head['hash']}"
    auditor = browser(site, 'auditor')
    page = auditor.get('/audit', query_string={'anchor': anchor})
    assert page.status_code == 200
    assert 'de keten bevat deze kop' in page.get_data(as_text=True)
    cut_last(app, 3)
    page = auditor.get('/audit', query_string={'anchor': anchor}).get_data(as_text=True)
    assert 'de keten klopt niet met deze kop' in page and f"entry {head['seq']} is missing" in page
    assert 'de keten bevat deze kop' not in auditor.get('/audit').get_data(as_text=True)
    bad = auditor.get('/audit', query_string={'anchor': '12:xyz'})
    assert bad.status_code == 422 and 'een getal, een dubbele punt en 64' in bad.get_data(as_text=True)


def test_an_anchor_is_refused_unless_seq_colon_hash(app):
    from engine.audit import parse_anchor
    assert parse_anchor('7:' + 'AB' * 32) == (7, 'ab' * 32)
    for raw in ('', '7', '7:abc', 'x:' + 'a' * 64, '7:' + 'g' * 64):
        with pytest.raises(CommandRefused) as refused:
            parse_anchor(raw)
        assert refused.value.problems[0].field == 'anchor'
