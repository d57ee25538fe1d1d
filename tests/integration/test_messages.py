"""What the parties receive: Dutch text, safe HTML, calendar entries in Amsterdam time, valid addresses."""
import tomllib

import pytest
from icalendar import Calendar
from sqlalchemy import select

from engine import deal_file
from engine.errors import CommandRefused
from engine.models import OutboxMessage
from tests.conftest import DEAL_FILE, complete_task, open_consultation, start_procedure


def messages(app, event):
    with app.unit_of_work() as uow:
        return uow.session.scalars(select(OutboxMessage).where(OutboxMessage.event == event)
                                   .order_by(OutboxMessage.id)).all()


def test_a_consultation_invitation_carries_the_full_request_and_its_deadline(app):
    pid = start_procedure(app, 'wijziging', by='bzk', title='Werklijn <5> & warmte', text='Tekst met <script>alert(1)</script>',
                              motivation='Omdat het kan.')['id']
    open_consultation(app, pid)
    zeist = next(m for m in messages(app, 'consultation_opened') if m.recipient == 'zeist')
    assert zeist.to_address == 'zeist@energieke-wijken.example'
    assert zeist.subject == 'Uw instemming gevraagd, uiterlijk 24 mei 2021: Werklijn <5> & warmte'
    assert 'Uiterlijk: maandag 24 mei 2021 om 23:59' in zeist.body_text
    assert '> Tekst met <script>alert(1)</script>' in zeist.body_text
    assert '<script>' not in zeist.body_html and '&lt;script&gt;alert(1)&lt;/script&gt;' in zeist.body_html
    assert '<th scope="row"' in zeist.body_html and 'lang="nl"' in zeist.body_html
    assert '<td style="padding: 0.2em 0;">Werklijn &lt;5&gt; &amp; warmte</td>' in zeist.body_html
    assert '<5>' not in zeist.body_html
    calendar = Calendar.from_ical(zeist.ics)
    [event] = calendar.walk('VEVENT')
    assert str(event['summary']).startswith('Overlegtermijn sluit')
    start = event.decoded('dtstart')
    assert (start.isoformat(), event['dtstart'].params['TZID']) == ('2021-05-24T23:59:59+02:00', 'Europe/Amsterdam')
    assert [tz['tzid'] for tz in calendar.walk('VTIMEZONE')] == ['Europe/Amsterdam']


def test_a_withdrawal_notice_reaches_everyone_with_its_effective_date(app):
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie met <b>Woonmij</b>.')
    sent = messages(app, 'notice_of_withdrawal')
    assert len(sent) == 19  # 17 parties, projectleider, secretaris
    one = sent[0]
    assert 'Gaat in op: 12 juli 2021' in one.body_text
    event = Calendar.from_ical(one.ics).walk('VEVENT')[0]
    assert event.decoded('dtstart').isoformat() == '2021-07-12T00:00:00+02:00'


def test_an_objection_reaches_the_projectleider_with_its_statement(app):
    pid = start_procedure(app, 'wijziging', by='bzk', title='T', text='X')['id']
    open_consultation(app, pid)
    task = next(t for t in app.tasks(party='tilburg'))
    complete_task(app, task['id'], 'tilburg', {'decision': 'objection', 'statement': 'Te duur.'})
    [message] = messages(app, 'objection_received')
    assert (message.recipient, message.subject) == ('projectleider', 'Bezwaar van Gemeente Tilburg: T')
    assert 'Te duur.' in message.body_text and message.ics is None


def test_an_invalid_address_in_the_deal_file_is_refused_at_init(tmp_path):
    raw = tomllib.loads(DEAL_FILE.read_text())
    raw['parties'][5]['email'] = 'arnhem at example'
    raw['roles']['secretaris']['email'] = ''
    with pytest.raises(CommandRefused) as refused:
        deal_file.parse(raw)
    assert sorted(p.field for p in refused.value.problems) == ['parties[5].email', 'roles.secretaris.email']


def test_changed_addresses_update_a_loaded_deal(app, tmp_path):
    moved = tmp_path / 'moved.toml'
    moved.write_text(DEAL_FILE.read_text().replace('weert@energieke-wijken.example', 'griffie@weert.example'))
    assert app.init(moved) == ('energieke-wijken', 'contacts updated')
    weert_entry = app.audit()[-1]
    assert weert_entry['event'] == 'contacts_updated'
    assert weert_entry['data']['party_emails'] == {'weert': 'griffie@weert.example'}
    start_procedure(app, 'opzegging', by='bzk', circumstances='Herindeling.')
    assert 'griffie@weert.example' in [m.to_address for m in messages(app, 'notice_of_withdrawal')]
