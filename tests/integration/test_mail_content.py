"""What a mail says and how: a link to act on, the proposal in it, names and Dutch dates, a greeting,
user text that cannot forge the mail's facts, and the audit chain's head as an anchor."""
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from citydeal.bootstrap import CityDeal
from engine import audit
from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from engine.models import AuditEntry, OutboxMessage, Procedure
from engine.rights import Caller
from notifications.render import DEFAULT_BASE_URL, QUOTE_LIMIT, TEMPLATES, Renderer, base_url_from_environment
from notifications.wording import greeting
from tests.conftest import (
    DEAL_FILE, answer, complete_task, consent_all, one_task, open_consultation, start_amendment, start_procedure)

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
    assert 'Uw opzegging namens Tiwos is ontvangen op 12 april 2021 en vastgelegd op 12 april 2021 om 10:00.' \
        in own.body_text
    assert 'Tiwos zegt de deelname' not in own.body_text
    # where to see it: the procedure's page, in the text and as a link in the HTML
    procedure = f'{DEFAULT_BASE_URL}/procedures/{own.procedure_id}'
    assert procedure in own.body_text and f'href="{procedure}"' in own.body_html
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


def test_a_revised_decision_is_confirmed_like_a_first_one_and_says_what_it_replaced(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    task = one_task(app, party='zeist')
    answer(app, 'zeist', 'objection', 'Eerst overleg.')
    clock.set(datetime(2021, 4, 14, 9, 30, tzinfo=AMSTERDAM))
    done = app.revise(task['id'], Caller.operator_as('zeist'), {'decision': 'consent', 'statement': 'Na overleg: akkoord.'})
    first, revised = messages(app, 'decision_recorded', 'zeist')
    assert revised.subject == 'Vastgelegd: uw instemming met Werklijn 5: warmte (vervangt uw eerdere bezwaar)'
    assert ('Uw instemming namens Gemeente Zeist met "Werklijn 5: warmte" is vastgelegd op 14 april 2021 om 09:30.'
            in revised.body_text)
    assert 'Dit besluit vervangt uw eerdere bezwaar van 12 april 2021 om 10:00.' in revised.body_text
    assert 'Vervangt: bezwaar van 12 april 2021 om 10:00' in revised.body_text
    receipt = f"{DEFAULT_BASE_URL}/ontvangstbewijs/{done['receipt']}"
    assert receipt in revised.body_text and f'href="{receipt}"' in revised.body_html
    assert '> Na overleg: akkoord.' in revised.body_text
    assert revised.audit_head.startswith(f"{done['receipt']}:")  # the head holds the revision itself
    assert 'vervangt' not in first.subject and 'Vervangt' not in first.body_text


#: the messages that tell everyone a request was not adopted
NOT_ADOPTED = ('amendment_not_adopted', 'accession_refused', 'objection_closed')


def close_after_objection(app):
    """An objection goes to the projectleider (``bezwaar_behandelen``) where the round has that step: closed."""
    for task in app.tasks(role='projectleider'):
        if task['name'] == 'bezwaar_behandelen':
            complete_task(app, task['id'], 'projectleider', {'choice': 'close', 'reason': 'Geen overeenstemming.'})


def test_names_not_codes_in_an_outcome(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    answer(app, 'tilburg', 'objection', 'Te duur.')
    consent_all(app, pid)
    close_after_objection(app)
    [outcome] = [m for m in messages(app, recipient='zeist') if m.event in NOT_ADOPTED]
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
                             'Door', 'Vastgelegd op', 'Ontvangstbewijs', 'Geregistreerd op')
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
    close_after_objection(app)
    sent = [m for m in messages(app) if 'evil.example' in m.body_text]
    assert {m.event for m in sent} >= {'consultation_opened', 'decision_recorded'}
    assert {m.event for m in sent} & set(NOT_ADOPTED)
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
    # the chain alone cannot tell that entries were cut (a replay of the tables may see rows no entry accounts for)
    assert f'entry {anchor_seq} is missing' not in app.verify_audit().message
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
    from tests.integration.test_voortzetting import record
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    [task] = messages(app, 'task_opened', 'secretaris')
    # the end of the term is named by its last day in force, never by the end date (the first day after it)
    assert task.subject.endswith('(Voortzetting na 31 maart 2024)')
    record(app, {'result': 'continue', 'new_end_date': '2025-04-01'})
    [agreed] = messages(app, 'continuation_agreed', 'tiwos')
    assert 'Voorgestelde looptijd tot en met: 31 maart 2025' in agreed.body_text
    [registered] = messages(app, 'request_registered', 'projectleider')
    assert registered.subject == 'Verzoek geregistreerd: Voortzetting: looptijd tot en met 31 maart 2025'
    assert 'Namens de partijen gezamenlijk is een verzoek tot wijziging ingediend.' in registered.body_text
    assert not re.search(r'\d{4}-\d{2}-\d{2}', registered.body_text)


# --- issue 14 audit: documents, the old templates in the new shape, the requester's confirmation, wording ---------

def _own_task(app, party):
    return one_task(app, party=party)['id']


def _body(message):
    """The text of a mail above its footer: what the mail itself says."""
    return message.body_text.split('\n-- \n')[0]


def test_a_consent_request_lists_the_documents_of_the_request_with_their_links(app):
    pid = app.start('wijziging', Caller.operator_as('utrecht'), dict(
        title='Werklijn 5: warmte', text='Voeg werklijn 5 toe.', motivation='Zie de notitie.'),
        files=[('notitie-warmte.pdf', b'Een notitie over warmte in de wijk.\n')])['id']
    [document] = [d for d in _documents(app, pid)]
    open_consultation(app, pid)
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    url = f"{DEFAULT_BASE_URL}/documenten/{document['id']}"
    assert f'Bijlagen bij het verzoek:\n- notitie-warmte.pdf: {url}' in tiwos.body_text
    assert f'href="{url}">notitie-warmte.pdf</a>' in tiwos.body_html
    # the list stands apart from the mail's facts: a file name cannot pose as one of them
    assert 'Bijlagen' not in _Html(tiwos.body_html).labels


def _documents(app, procedure_id):
    from engine import documents
    with app.unit_of_work() as uow:
        return documents.of_procedure(uow.session, procedure_id)


def test_a_request_without_documents_lists_none(app):
    open_consultation(app, start_amendment(app))
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    assert 'Bijlagen' not in tiwos.body_text and '/documenten/' not in tiwos.body_html


def test_a_new_version_greets_links_each_party_to_its_task_and_quotes_the_reason(app):
    pid = start_amendment(app, by='utrecht')
    open_consultation(app, pid)
    answer(app, 'tiwos')
    app.new_version(pid, Caller.operator_as('utrecht'), {'text': 'Voeg werklijn 5 en 6 toe.',
                                                         'motivation': 'Na overleg met Tiwos.\nUiterlijk: nooit'})
    [tiwos] = messages(app, 'new_version', 'tiwos')
    task = f'{DEFAULT_BASE_URL}/taken/{_own_task(app, "tiwos")}'
    text = tiwos.body_text
    assert text.startswith('Geachte heer Scherpenisse,\n') and 'Beste' not in text
    assert task in text and f'href="{task}"' in tiwos.body_html
    assert 'Gemeente Utrecht legt een nieuwe versie voor' in text and 'Ingediend door: Gemeente Utrecht' in text
    assert 'utrecht' not in text.replace('@', ' ').split()
    assert '> Voeg werklijn 5 en 6 toe.' in text
    assert '> Na overleg met Tiwos.\n> Uiterlijk: nooit' in text and 'Waarom:' not in text
    assert not any(line.startswith('Uiterlijk: nooit') for line in text.splitlines())
    assert tiwos.subject.startswith('Nieuwe versie: uw instemming opnieuw gevraagd, uiterlijk 24 mei 2021')
    # the requester put it: its own consent goes with it, nothing to do; a role sees the procedure
    [own] = messages(app, 'new_version', 'utrecht')
    assert 'U hoeft niets te doen' in own.body_text and '/taken/' not in own.body_text
    [leader] = messages(app, 'new_version', 'projectleider')
    assert leader.body_text.startswith('Geachte projectleider,\n')
    assert f'{DEFAULT_BASE_URL}/procedures/{pid}' in leader.body_text and '/taken/' not in leader.body_text


def test_a_new_version_by_the_projectleider_is_named_as_such(app):
    pid = start_amendment(app, by='utrecht')
    open_consultation(app, pid)
    app.new_version(pid, Caller.operator_as('projectleider'), {'text': 'Een betere tekst.'})
    [utrecht] = messages(app, 'new_version', 'utrecht')
    assert 'De projectleider legt een nieuwe versie voor' in utrecht.body_text
    assert f"/taken/{_own_task(app, 'utrecht')}" in utrecht.body_text  # asked again: its consent went with the text


def test_a_late_opening_is_escalated_with_a_link_to_the_task_and_no_codes(app, clock):
    from tests.integration.test_reminders import at
    pid = start_amendment(app)
    [task] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == pid]
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    [late] = messages(app, 'opening_late', 'secretaris')
    url = f"{DEFAULT_BASE_URL}/taken/{task['id']}"
    text = late.body_text
    assert text.startswith('Geachte secretaris,\n') and 'Beste' not in text
    assert url in text and f'href="{url}"' in late.body_html
    assert f'{DEFAULT_BASE_URL}/procedures/{pid}' in text
    assert 'Taak-id' not in text and '(wijziging)' not in text and 'Procedure: 1 (verzoek tot wijziging)' in text
    assert 'uiterlijk maandag 24 mei 2021 om 23:59 moeten openen' in text
    assert 'Ingediend door: Ministerie van Binnenlandse Zaken en Koninkrijksrelaties' in text


def test_the_escalation_at_the_deadline_links_the_task_to_extend_or_close(app, clock):
    from tests.integration.test_reminders import at
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('tiwos',))
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    [escalation] = messages(app, 'escalation', 'projectleider')
    task = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    url = f"{DEFAULT_BASE_URL}/taken/{task['id']}"
    assert url in escalation.body_text and f'href="{url}"' in escalation.body_html
    assert escalation.task_id == task['id']
    assert 'Nog geen antwoord van: Tiwos' in escalation.body_text


def test_the_requester_of_an_amendment_gets_a_confirmation_with_the_procedure(app):
    pid = start_amendment(app, by='utrecht')
    [own] = messages(app, 'request_received')
    assert own.recipient == 'utrecht' and own.procedure_id == pid
    assert own.subject == 'Uw verzoek tot wijziging is ontvangen: Werklijn 5: warmte'
    text = own.body_text
    assert text.startswith('Geachte mevrouw Van Hooijdonk,\n')
    assert ('Uw verzoek tot wijziging namens Gemeente Utrecht is ontvangen op 12 april 2021 en geregistreerd op '
            '12 april 2021 om 10:00.') in text
    url = f'{DEFAULT_BASE_URL}/procedures/{pid}'
    assert url in text and f'href="{url}"' in own.body_html
    assert 'Overleg openen uiterlijk op: maandag 24 mei 2021 om 23:59' in text
    # the other parties hear of it when the consultation opens, not now
    assert {m.recipient for m in messages(app)} == {'utrecht', 'projectleider', 'secretaris'}


def test_an_applicant_gets_a_confirmation_at_the_address_of_its_request(app):
    start_procedure(app, 'toetreding', applicant='Gemeente Leiden', kind='gemeente',
                    representative='mevrouw A. de Jong', contribution='Kennis en menskracht.', endorses_goals=True,
                    email='leiden@example.org', pledge_eur=10000, pledge_per='year')
    [own] = messages(app, 'request_received')
    assert (own.recipient, own.to_address) == ('applicant', 'leiden@example.org')
    assert own.body_text.startswith('Geachte mevrouw De Jong,\n')
    assert 'Uw verzoek tot toetreding namens Gemeente Leiden is ontvangen op 12 april 2021' in own.body_text
    assert 'U krijgt de uitkomst op dit e-mailadres.' in own.body_text
    # an applicant has no account: no link to a page it cannot open
    assert '/procedures/' not in own.body_text


def test_a_request_of_the_parties_together_has_no_one_to_confirm_to(app, clock):
    from tests.integration.test_voortzetting import record
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    record(app, {'result': 'continue', 'new_end_date': '2025-04-01'})
    assert messages(app, 'request_received') == []


def test_a_pledge_is_written_in_euros(app):
    pid = start_procedure(app, 'toetreding', applicant='Gemeente Leiden', kind='gemeente',
                          representative='mevrouw A. de Jong', contribution='Kennis.', endorses_goals=True,
                          pledge_eur=10000, pledge_per='year')['id']
    open_consultation(app, pid)
    [tiwos] = messages(app, 'consultation_opened', 'tiwos')
    assert 'Financiële toezegging: € 10.000 per jaar' in tiwos.body_text and 'EUR' not in tiwos.body_text


def test_every_template_greets_with_the_greeting():
    for template in Path(TEMPLATES).glob('*.txt'):
        if template.name.startswith('_'):
            continue
        body = template.read_text().split('{% block body %}', 1)[1]
        first = next(line for line in body.splitlines() if line.strip())
        assert first == '{{ greeting }}', template.name
        assert 'Beste' not in body, template.name


def test_mails_about_an_account_or_a_request_to_join_greet_and_link(app):
    app.add_user('jansen@example.org', 'een-lang-en-goed-wachtwoord', name='de heer J. Jansen')
    app.request_password_reset('jansen@example.org', 'https://deal.example/wachtwoord-herstellen/')
    [reset] = messages(app, 'password_reset')
    assert reset.body_text.startswith('Geachte heer Jansen,\n')
    link = re.search(r'https://deal\.example/wachtwoord-herstellen/\S+', reset.body_text).group(0)
    assert f'href="{link}"' in reset.body_html
    app.request_accession({'applicant': 'Gemeente Leiden', 'kind': 'gemeente', 'representative': 'de heer J. Jansen',
                           'email': 'j.jansen@leiden.example', 'contribution': 'Kennis.', 'endorses_goals': 'on'},
                          lambda token: f'https://deal.example/toetreden/bevestigen/{token}')
    [confirm] = messages(app, 'accession_confirmation')
    assert confirm.body_text.startswith('Geachte heer Jansen,\n') and 'Beste' not in confirm.body_text
    link = re.search(r'https://deal\.example/toetreden/bevestigen/\S+', confirm.body_text).group(0)
    assert f'href="{link}"' in confirm.body_html


def test_the_end_of_the_term_is_its_last_day_and_the_deal_is_beeindigd(app, clock):
    clock.set(datetime(2024, 4, 1, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    [ended] = messages(app, 'deal_ended', 'tiwos')
    assert ended.subject == 'City Deal Energieke wijken is beëindigd'
    assert 'liep tot en met 31 maart 2024 en is daarmee beëindigd' in ended.body_text
    assert '1 april 2024' not in _body(ended) and 'geëindigd' not in ended.body_text


def test_a_deal_that_ends_by_a_withdrawal_says_beeindigd_throughout(app, clock):
    from tests.integration.test_deal_end import acknowledge, give_notice
    give_notice(app, clock)
    acknowledge(app, False, 'Zonder Rotterdam geen deal.')
    clock.set(datetime(2022, 2, 28, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    [ended] = messages(app, 'deal_ended', 'tiwos')
    assert 'is beëindigd met ingang van 28 februari 2022' in ended.body_text and 'geëindigd' not in ended.body_text


def test_a_declined_continuation_names_the_last_day_in_force(app, clock):
    from tests.integration.test_voortzetting import record
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    record(app, {'result': 'end'})
    [declined] = messages(app, 'continuation_declined', 'tiwos')
    assert 'De deal loopt nog tot en met 31 maart 2024 en eindigt daarna.' in declined.body_text
    assert '1 april 2024' not in _body(declined)


def test_an_amended_end_is_named_by_its_last_day(app):
    pid = start_amendment(app, new_end_date='2025-04-01')
    open_consultation(app, pid)
    [asked] = messages(app, 'consultation_opened', 'tiwos')
    assert 'Nieuwe looptijd tot en met: 31 maart 2025' in asked.body_text and '1 april 2025' not in asked.body_text
    consent_all(app, pid)
    [adopted] = messages(app, 'amendment_adopted', 'tiwos')
    assert 'loopt nu tot en met 31 maart 2025' in adopted.body_text and '1 april 2025' not in _body(adopted)


def test_a_late_task_of_the_yearly_cycle_is_named_by_its_own_due_date_in_the_past(app, clock):
    start_procedure(app, 'jaarcyclus', year=2021)
    clock.set(datetime(2021, 8, 1, 9, 0, tzinfo=AMSTERDAM))
    app.tick()
    late = [m for m in messages(app, 'overdue', 'projectleider') if m.created_dt >= clock.now()]
    assert late
    for message in late:
        assert 'overlegtermijn' not in message.body_text.lower() and 'loopt tot' not in message.body_text
        assert 'De taak had uiterlijk zaterdag 31 juli 2021 om 23:59 klaar moeten zijn.' in message.body_text
        assert '(jaarcyclus)' in message.body_text


def test_a_long_party_name_is_not_repeated_where_u_will_do(app, clock):
    name = 'Ministerie van Binnenlandse Zaken en Koninkrijksrelaties'
    start_procedure(app, 'opzegging', by='bzk', circumstances='Andere prioriteiten.')
    for message in messages(app, 'notice_of_withdrawal'):
        assert _body(message).count(name) <= 2, message.recipient
    clock.set(datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    for message in messages(app, 'party_withdrawn'):
        assert _body(message).count(name) <= 2, message.recipient
    [own] = messages(app, 'party_withdrawn', 'bzk')
    assert 'Vanaf 12 juli 2021 bent u geen partij meer' in own.body_text
