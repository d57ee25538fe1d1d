"""What a mail says and how: a link to act on, the proposal in it, names and Dutch dates, a greeting,
user text that cannot forge the mail's facts, and the audit chain's head as an anchor."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from citydeal.bootstrap import CityDeal
from engine import audit
from engine.errors import CommandRefused
from engine.models import AuditEntry, OutboxMessage, Procedure
from notifications.render import DEFAULT_BASE_URL, QUOTE_LIMIT, TEMPLATES, Renderer, base_url_from_environment
from notifications.wording import greeting
from tests.conftest import (
    DEAL_FILE, answer, consent_all, open_consultation, start_amendment, start_procedure)

FORGED = 'Kleine correctie\nUiterlijk: 14 juli 2021\nTaak: antwoord per mail aan secretariaat@evil.example'
#: every character that opens a new line somewhere
BREAKS = ('\n', '\r\n', '\r', '\u2028', '\u2029', '\x85', '\x0b', '\x0c', '\x1c', '\x1e')


def messages(app, event=None, recipient=None):
    with app.unit_of_work() as uow:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if event:
            query = query.where(OutboxMessage.event == event)
        if recipient:
            query = query.where(OutboxMessage.recipient == recipient)
        return uow.session.scalars(query).all()


class _Html(HTMLParser):
    """The text of an HTML mail as it shows: the table's labels, and each line outside a quote."""

    def __init__(self, html):
        super().__init__()
        self.labels, self.lines, self.hrefs, self._in, self._quote, self._line = [], [], [], None, 0, ''
        self.feed(html)
        self._break()

    def _break(self):
        if self._line.strip() and not self._quote:
            self.lines.append(self._line.strip())
        self._line = ''

    def handle_starttag(self, tag, attrs):
        if tag == 'a':
            self.hrefs.append(dict(attrs)['href'])
        if tag in ('p', 'br', 'tr', 'th', 'td', 'blockquote', 'h1', 'table'):
            self._break()
        self._quote += tag == 'blockquote'
        self._in = tag

    def handle_endtag(self, tag):
        if tag in ('p', 'th', 'td', 'blockquote', 'h1'):
            self._break()
        self._quote -= tag == 'blockquote'

    def handle_data(self, data):
        if self._in == 'th':
            self.labels.append(data.strip())
        self._line += data


def test_a_consent_request_links_to_the_decision_and_holds_the_proposal(app):
    pid = start_amendment(app, by='utrecht')
    open_consultation(app, pid)
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    task = next(t['id'] for t in app.tasks(party='tiwos'))
    url = f'{DEFAULT_BASE_URL}/taken/{task}'
    text = tiwos.body_text
    assert url in text and f'href="{url}"' in tiwos.body_html
    assert text.startswith('Geachte heer Scherpenisse,\n')
    assert 'Gemeente Utrecht stelt een wijziging van de City Deal Energieke wijken voor.' in text
    assert 'De projectleider vraagt Tiwos om instemming.' in text
    assert 'Voorgesteld door: Gemeente Utrecht' in text and 'Onderwerp: Werklijn 5: warmte' in text
    assert '> Voeg werklijn 5 toe.' in text and '> Nieuwe inzichten uit de proeftuinen.' in text
    assert 'Uiterlijk: maandag 24 mei 2021 om 23:59' in text
    assert 'utrecht' not in text.replace('@', ' ').split() and '2021-05-24' not in text
    html = _Html(tiwos.body_html)
    assert html.labels.count('Uiterlijk') == 1 and url in html.hrefs


def test_a_long_text_is_quoted_up_to_its_limit_with_a_link_to_the_whole(app):
    long_text = ('Een zin van de voorgestelde tekst. ' * 200).strip()
    assert len(long_text) > QUOTE_LIMIT
    pid = start_procedure(app, 'wijziging', by='bzk', title='Lang', text=long_text + ' HET EINDE')['id']
    open_consultation(app, pid)
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    task = next(t['id'] for t in app.tasks(party='tiwos'))
    assert 'HET EINDE' not in tiwos.body_text and 'HET EINDE' not in tiwos.body_html
    assert 'De tekst is ingekort. U leest de volledige tekst op:' in tiwos.body_text
    assert tiwos.body_text.count(f'/taken/{task}') == 2


def test_the_base_url_is_a_setting(db_url, clock, monkeypatch):
    monkeypatch.setenv('CITYDEAL_BASE_URL', 'https://citydeal.example/')
    instance = CityDeal(url=db_url, clock=clock)
    try:
        instance.init(DEAL_FILE)
        open_consultation(instance, start_amendment(instance))
        task = next(t['id'] for t in instance.tasks(party='tiwos'))
        [tiwos] = messages(instance, 'consultation_opened', 'tiwos')
        assert f'https://citydeal.example/taken/{task}' in tiwos.body_text
    finally:
        instance.close()
    assert base_url_from_environment({}) == 'http://127.0.0.1:5000'
    for wrong in ('citydeal.example', 'ftp://citydeal.example', 'https://x.example/?a=1', 'https://x.example\n/'):
        with pytest.raises(CommandRefused) as refused:
            base_url_from_environment({'CITYDEAL_BASE_URL': wrong})
        assert refused.value.problems[0].field == 'CITYDEAL_BASE_URL'


def test_greetings_name_the_person_or_else_the_organisation():
    assert greeting(['de heer R. Scherpenisse'], 'Tiwos') == 'Geachte heer Scherpenisse,'
    assert greeting(['mevrouw L. van Hooijdonk, wethouder'], 'x') == 'Geachte mevrouw Van Hooijdonk,'
    assert greeting(['de heer Ph. Broeksma, wethouder'], 'x') == 'Geachte heer Broeksma,'
    assert greeting(['de heer W. Catsburg, wethouder', 'de heer M. Fluitman, wethouder'], 'x') == \
        'Geachte heer Catsburg en heer Fluitman,'
    assert greeting(['Jan de Vries, directeur'], 'Woonstichting X') == 'Geachte Jan de Vries,'
    assert greeting([], 'Gemeente Utrecht') == 'Geachte Gemeente Utrecht,'
    assert greeting(['', None], 'Gemeente Utrecht') == 'Geachte Gemeente Utrecht,'


def test_roles_and_applicants_are_greeted_too(app):
    pid = start_procedure(app, 'toetreding', applicant='Gemeente Leiden', kind='gemeente', representative='mevrouw A. de Jong',
                               contribution='EUR 10.000 per jaar', endorses_goals=True, email='leiden@example.org')['id']
    [registered] = messages(app, 'request_registered', 'projectleider')
    assert registered.body_text.startswith('Geachte projectleider,\n')
    assert 'Gemeente Leiden heeft een verzoek tot toetreding ingediend.' in registered.body_text
    open_consultation(app, pid)
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    assert 'Gemeente Leiden vraagt om toe te treden tot de City Deal Energieke wijken.' in tiwos.body_text
    assert 'Vertegenwoordigd door: mevrouw A. de Jong' in tiwos.body_text
    assert '> EUR 10.000 per jaar' in tiwos.body_text


def test_the_withdrawing_party_gets_a_confirmation_not_the_news(app):
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie met Woonmij.\nUiterlijk: morgen')
    sent = messages(app, 'notice_of_withdrawal')
    own = next(m for m in sent if m.recipient == 'tiwos')
    other = next(m for m in sent if m.recipient == 'zeist')
    assert own.subject == 'Uw opzegging is ontvangen: Tiwos'
    assert 'Uw opzegging namens Tiwos is ontvangen op 12 april 2021 en vastgelegd.' in own.body_text
    assert 'Tiwos zegt de deelname' not in own.body_text
    assert other.subject == 'Opzegging door Tiwos'
    assert 'Tiwos zegt de deelname aan de City Deal Energieke wijken op.' in other.body_text
    assert '> Uiterlijk: morgen' in other.body_text
    assert not any(line.startswith('Uiterlijk:') for line in other.body_text.splitlines())


def test_every_decision_is_confirmed_to_the_party_with_its_receipt(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent = answer(app, 'tiwos', statement='Tiwos stemt in.\nMet plezier.')
    objection = answer(app, 'zeist', 'objection', 'Te duur.')
    [tiwos] = messages(app, 'decision_recorded', 'tiwos')
    [zeist] = messages(app, 'decision_recorded', 'zeist')
    assert tiwos.to_address == 'tiwos@energieke-wijken.example'
    assert tiwos.subject == 'Vastgelegd: uw instemming met Werklijn 5: warmte'
    assert ('Uw instemming namens Tiwos met "Werklijn 5: warmte" is vastgelegd op 12 april 2021 om 10:00.'
            in tiwos.body_text)
    receipt = f"{DEFAULT_BASE_URL}/ontvangstbewijs/{consent['receipt']}"
    assert receipt in tiwos.body_text and f'href="{receipt}"' in tiwos.body_html
    assert '> Tiwos stemt in.\n> Met plezier.' in tiwos.body_text
    assert zeist.subject == 'Vastgelegd: uw bezwaar tegen Werklijn 5: warmte'
    assert f"/ontvangstbewijs/{objection['receipt']}" in zeist.body_text
    assert 'Geachte heer Catsburg en heer Fluitman,' in zeist.body_text
    # the confirmation carries the head with the decision's own entry in it
    assert tiwos.audit_head.startswith(f"{consent['receipt']}:")


def test_names_not_codes_in_an_outcome(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tilburg', 'objection', 'Te duur.')
    consent_all(app, pid)
    [outcome] = messages(app, 'amendment_not_adopted', 'zeist')
    assert 'Bezwaar van: Gemeente Tilburg' in outcome.body_text
    assert outcome.body_text.startswith('Geachte heer Catsburg en heer Fluitman,')


def _forged_lines(text):
    return [line for line in text.splitlines() if 'evil.example' in line and
            (line.startswith('Uiterlijk:') or line.startswith('Taak:'))]


@pytest.mark.parametrize('line_break', BREAKS)
def test_a_title_with_line_breaks_cannot_forge_facts(app, line_break):
    title = FORGED.replace('\n', line_break)
    text = 'Regel 1\nUiterlijk: 1 januari 2030\nTaak: niets'
    try:
        pid = start_procedure(app, 'wijziging', by='bzk', title=title, text=text)['id']
    except CommandRefused:
        # Refused at input already; the mail must hold even for a title that got past the input.
        pid = start_procedure(app, 'wijziging', by='bzk', title='Eerst iets anders', text=text)['id']
        with app.unit_of_work() as uow:
            procedure = uow.session.get(Procedure, pid)
            procedure.request = dict(procedure.request, title=title)
            uow.commit()
    open_consultation(app, pid)
    statement_break = line_break if line_break in ('\n', '\u2028') else '\n'
    answer(app, 'tilburg', 'objection', f'Bezwaar.{statement_break}Taak: mail het secretariaat@evil.example')
    sent = messages(app)
    assert {m.event for m in sent} >= {'request_registered', 'task_opened', 'consultation_opened',
                                        'decision_recorded', 'objection_received'}
    assert sum('evil.example' in m.body_text for m in sent) >= 17
    for message in sent:
        text_lines = message.body_text.splitlines()
        assert _forged_lines(message.body_text) == [], message.event
        # the template's own facts only: one deadline at most, and never one from the title
        deadlines = [line for line in text_lines if line.startswith('Uiterlijk:')]
        assert len(deadlines) <= 1 and all('juli' not in line and '2030' not in line for line in deadlines)
        assert not any(line.startswith('Taak:') and 'niets' in line for line in text_lines)
        for separator in BREAKS[3:]:
            assert separator not in message.subject and separator not in message.body_html
        html = _Html(message.body_html)
        assert html.labels.count('Uiterlijk') <= 1, message.event
        assert [line for line in html.lines if line.startswith(('Uiterlijk:', 'Taak:'))] == [], message.event
        assert all(label in ('Onderwerp', 'Voorgesteld door', 'Uiterlijk', 'Procedure', 'Taak', 'Ingediend door',
                             'Overleg uiterlijk tot', 'Overleg openen uiterlijk op', 'Ontvangen op', 'Besluit', 'Namens',
                             'Door', 'Vastgelegd op', 'Ontvangstbewijs')
                   for label in html.labels), html.labels
    [tiwos] = [m for m in sent if m.event == 'consultation_opened' and m.recipient == 'tiwos']
    assert '> Uiterlijk: 1 januari 2030' in tiwos.body_text


def test_an_applicant_name_with_line_breaks_cannot_forge_facts(app):
    forged = 'Gemeente Leiden\u2028Uiterlijk: 14 juli 2021\nTaak: antwoord per mail aan secretariaat@evil.example'
    request = dict(kind='gemeente', representative='mevrouw A. de Jong', contribution='Kennis.\nUiterlijk: nooit',
                   endorses_goals=True, email='leiden@example.org')
    try:
        pid = start_procedure(app, 'toetreding', applicant=forged, **request)['id']
    except CommandRefused:
        pid = start_procedure(app, 'toetreding', applicant='Gemeente Leiden', **request)['id']
        with app.unit_of_work() as uow:
            procedure = uow.session.get(Procedure, pid)
            procedure.request = dict(procedure.request, applicant=forged)
            uow.commit()
    open_consultation(app, pid)
    answer(app, 'tiwos', 'objection', 'Nee.')
    consent_all(app, pid)
    sent = [m for m in messages(app) if 'evil.example' in m.body_text]
    assert {m.event for m in sent} >= {'consultation_opened', 'accession_refused', 'decision_recorded'}
    assert 'applicant' in {m.recipient for m in sent}
    for message in sent:
        assert _forged_lines(message.body_text) == [] and '\u2028' not in message.subject + message.body_html
        assert [line for line in _Html(message.body_html).lines if line.startswith(('Uiterlijk:', 'Taak:'))] == []


def test_every_message_carries_the_audit_head_it_was_queued_under(app):
    pid = start_amendment(app)
    with app.unit_of_work() as uow:
        seq, hash_ = audit.head(uow.session)
    first = messages(app)
    assert {m.audit_head for m in first} == {f'{seq}:{hash_}'}
    assert f'Stand van het logboek bij verzending: {seq}:{hash_}.' in first[0].body_text
    assert f'{seq}:{hash_}' in first[0].body_html
    open_consultation(app, pid)
    listed = app.outbox()
    assert all(re.fullmatch(r'\d+:[0-9a-f]{64}', m['audit_head']) for m in listed)
    assert listed[-1]['text'].startswith('Geachte ') and int(listed[-1]['audit_head'].split(':')[0]) > seq


def test_the_head_from_the_last_mail_catches_entries_cut_from_the_end(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tiwos')
    last_mail = app.outbox()[-1]
    anchor_seq, anchor_hash = last_mail['audit_head'].split(':')
    assert app.verify_audit((int(anchor_seq), anchor_hash)).ok
    with app.unit_of_work() as uow:
        uow.session.execute(delete(AuditEntry).where(AuditEntry.seq >= int(anchor_seq) - 1))
        uow.commit()
    assert app.verify_audit().ok  # the chain alone cannot tell
    verdict = app.verify_audit((int(anchor_seq), anchor_hash))
    assert not verdict.ok and f'entry {anchor_seq} is missing' in verdict.message


def test_the_templates_name_no_deal_party_or_code_of_their_own():
    deal = DEAL_FILE.read_text()
    codes = re.findall(r'^code = "([^"]+)"', deal, re.MULTILINE)
    names = re.findall(r'^name = "([^"]+)"', deal, re.MULTILINE)
    assert 'bzk' in codes and 'City Deal Energieke wijken, duurzaam en sociaal' in names
    for template in Path(TEMPLATES).iterdir():
        words = set(re.findall(r"[\w'-]+", template.read_text()))
        assert not [code for code in codes if code in words], template.name
        assert not [name for name in names if name in template.read_text()], template.name
        assert 'Energieke' not in template.read_text(), template.name


def test_a_renderer_alone_makes_links_of_its_own_base():
    assert Renderer('https://a.example/').base_url == 'https://a.example'


def test_a_continuation_is_named_with_dutch_dates(app, clock):
    from datetime import datetime

    from engine.dates import AMSTERDAM
    from tests.integration.test_voortzetting import record
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    [task] = messages(app, 'task_opened', 'secretaris')
    assert task.subject.endswith('(Voortzetting na 1 april 2024)')
    record(app, {'result': 'continue', 'new_end_date': '2025-04-01'})
    [registered] = messages(app, 'request_registered', 'projectleider')
    assert registered.subject == 'Verzoek geregistreerd: Voortzetting: einddatum 1 april 2025'
    assert 'Namens de partijen gezamenlijk is een verzoek tot wijziging ingediend.' in registered.body_text
    assert not re.search(r'\d{4}-\d{2}-\d{2}', registered.body_text)
