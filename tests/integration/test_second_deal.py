"""Issue 11: a second deal file (deals/gezonde-schoolomgeving-twente.toml) runs the same procedures, and
nothing of the City Deal Energieke wijken shows in its pages, messages or refusals."""
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from citydeal.bootstrap import OPERATOR, CityDeal
from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from engine.models import OutboxMessage
from engine.rights import Caller
from tests.conftest import complete_task, consent_all, one_task, start_procedure
from tests.web_support import browser

OTHER_DEAL = Path(__file__).resolve().parent.parent.parent / 'deals' / 'gezonde-schoolomgeving-twente.toml'
#: a Monday inside the other deal's term
START = datetime(2023, 3, 13, 10, 0, tzinfo=AMSTERDAM)
#: words of the deal text the engine was first written for: none may show in another deal
FOREIGN = ('Energieke', 'energieke', 'Agenda Stad', 'Wijzigingen lid', 'Opzegging lid', 'Toetreding nieuwe Partijen',
           'Gegevenswisseling lid', 'Slotbepalingen', 'Inwerkingtreding en looptijd', 'Monitoring en evaluatie',
           'Deel 2', 'Deel 4', '6 weken', '1 maanden', 'Rotterdam', 'Platform31',
           # the kind of agreement is the deal file's too: this one is a Convenant
           'City Deal')


@pytest.fixture
def other(db_url, clock):
    clock.set(START)
    instance = CityDeal(url=db_url, clock=clock)
    instance.init(OTHER_DEAL)
    yield instance
    instance.close()


def leaks(text):
    return [word for word in FOREIGN if word in text]


def refusal_texts(refused):
    return ' '.join(f'{p.message("nl")} {p.message("en")} {p.rule}' for p in refused.problems)


def run_everything(app, clock):
    """An amendment, an accession with a pledge, a notice and some refusals, on the other deal."""
    refusals = []
    amendment = start_procedure(app, 'wijziging', by='enschede', title='Extra pilotschool',
                                text='Voeg een vierde pilotschool toe.', motivation='Meer aanmeldingen.')['id']
    complete_task(app, one_task(app, role='projectleider')['id'], 'projectleider', {})
    consent_all(app, amendment)
    applicant = start_procedure(app, 'toetreding', applicant='Sportbedrijf Twente', kind='bedrijf',
                                representative='de heer T. Kok, directeur', contribution='Beweegcoaches op de pleinen',
                                endorses_goals=True, pledge_eur='5000', pledge_per='year',
                                email='info@sportbedrijf.example')['id']
    complete_task(app, one_task(app, role='projectleider', name='criteria_toetsen')['id'], 'projectleider',
                  {'complete': 'true'})
    consent_all(app, applicant)
    complete_task(app, one_task(app, role='projectleider', name='partij_vastleggen')['id'], 'projectleider',
                  {'code': 'sportbedrijf'})
    for bad in (lambda: start_procedure(app, 'opzegging', by='hengelo', circumstances='  '),
                lambda: start_procedure(app, 'toetreding', applicant='Ministerie X', kind='rijk', representative='X',
                                        contribution='Y', endorses_goals=True),
                lambda: start_procedure(app, 'wijziging', by='enschede', title='', text='')):
        with pytest.raises(CommandRefused) as refused:
            bad()
        refusals.append(refused.value)
    start_procedure(app, 'opzegging', by='hengelo', circumstances='De gemeente bundelt haar onderwijsbeleid regionaal.')
    return amendment, applicant, refusals


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_the_procedures_run_on_another_deal_with_its_own_periods(other, clock):
    amendment, applicant, _ = run_everything(other, clock)
    assert other.show(amendment)['outcome'] == 'adopted'
    deal = other.deal()
    assert (deal['name'], deal['status'], deal['parties']) == ('Convenant Gezonde Schoolomgeving Twente', 'running', 6)
    sport = next(p for p in other.parties() if p['code'] == 'sportbedrijf')
    # the next yearly programme of this deal starts on 1 September
    assert (sport['status'], sport['joined_on'], sport['annual_contribution_eur']) == ('admitted', '2023-09-01', 5000)
    hengelo = next(p for p in other.parties() if p['code'] == 'hengelo')
    assert hengelo['withdrawal_effective_on'] == '2023-04-13'  # one month's notice
    notice = next(m for m in other.outbox() if m['event'] == 'notice_of_withdrawal')
    assert 'De opzegtermijn is 1 maand:' in notice['text']
    registered = [m for m in other.outbox() if m['event'] == 'request_registered']
    assert all('binnen 4 weken' in m['text'] for m in registered)


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_refusals_cite_the_clauses_of_the_loaded_deal(other, clock):
    _, _, refusals = run_everything(other, clock)
    notice, kind, _ = refusals
    assert [(p.field, str(p.rule)) for p in notice.problems] == [('circumstances', 'Artikel 10 lid 1')]
    [wrong_kind] = kind.problems
    assert wrong_kind.field == 'kind' and 'rijk' not in wrong_kind.message()
    assert all(leaks(refusal_texts(r)) == [] for r in refusals), [leaks(refusal_texts(r)) for r in refusals]


def talks_in_a_round(app):
    """A second amendment on the other deal: an objection revised, a new version of its text, a request to keep
    it confidential; its round stays open. Returns its id."""
    pid = start_procedure(app, 'wijziging', by='enschede', title='Schoolstraten', text='Maak drie schoolstraten.',
                          motivation='Veiliger oversteken.')['id']
    complete_task(app, one_task(app, 'consultatie_openen', role='projectleider')['id'], 'projectleider', {})
    task = one_task(app, party='saxion')
    complete_task(app, task['id'], 'saxion', {'decision': 'objection', 'statement': 'Eerst meten.'})
    app.revise(task['id'], Caller.operator_as('saxion'), {'decision': 'consent', 'statement': 'Na overleg: akkoord.'})
    app.new_version(pid, Caller.operator_as('enschede'), {'text': 'Maak twee schoolstraten en meet het effect.',
                                                         'motivation': 'Na overleg met Saxion.'})
    start_procedure(app, 'geheimhouding', by='ggd-twente', procedure=pid, grounds='Namen van scholen.')
    return pid


def pdf_text(pdf):
    from pypdf import PdfReader
    return '\n'.join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_no_word_of_energieke_wijken_in_its_messages_or_pages(other, clock, make_site, monkeypatch):
    run_everything(other, clock)
    in_talks = talks_in_a_round(other)
    clock.set(datetime(2023, 4, 14, 9, 0, tzinfo=AMSTERDAM))
    other.tick()  # the notice takes effect; the first yearly cycle started with the deal
    messages = other.outbox()
    assert {m['event'] for m in messages} >= {'consultation_opened', 'amendment_adopted', 'party_admitted',
                                              'notice_of_withdrawal', 'party_withdrawn', 'task_opened',
                                              'decision_recorded', 'new_version', 'confidentiality_requested'}
    assert [(m['event'], leaks(m['subject'] + m['text'])) for m in messages if leaks(m['subject'] + m['text'])] == []
    with other.unit_of_work() as uow:  # the HTML of every mail too
        html = uow.session.execute(select(OutboxMessage.event, OutboxMessage.body_html)).all()
    assert [(event, leaks(body)) for event, body in html if leaks(body)] == []
    assert leaks(other.calendar()) == []
    # the bijlagen as sealed PDFs, their text as a reader extracts it, and what the file says of itself (the
    # seal's reason, its metadata)
    for pdf in (other.appendix_pdf(2), other.deal_pdf()):
        text = pdf_text(pdf)
        assert 'Convenant Schoolomgeving Twente' in text and leaks(text) == [], leaks(text)
        assert b'City Deal' not in pdf
    from web import account
    otpauth = []
    monkeypatch.setattr(account, '_qr_data_uri', lambda uri: otpauth.append(uri) or 'data:,')
    site = make_site(city_deal=other)
    pages = {'/openbaar', '/toetreden', '/toegankelijkheid', '/deal', '/procedures', '/procedures/1', '/procedures/2',
             f'/procedures/{in_talks}', f'/procedures/{in_talks}/nieuwe-versie', '/procedures/1/nieuwe-versie',
             '/taken', '/overzicht', '/account', '/account/tweede-factor', '/tokens', '/delegeren',
             '/procedures/nieuw/wijziging', '/procedures/nieuw/opzegging', '/procedures/nieuw/voortzetting',
             '/procedures/nieuw/geheimhouding', '/procedures/nieuw/jaarcyclus',
             '/procedures/999', '/bestaat-niet'}  # error pages too
    for who in (None, 'enschede', 'saxion', 'projectleider'):
        b = browser(site, who)
        for path in sorted(pages | ({'/inloggen', '/wachtwoord-vergeten'} if who is None else set())):
            page = b.get(path)
            if page.status_code in (301, 302, 303):
                continue
            body = page.get_data(as_text=True)
            assert leaks(body) == [], (who, path, page.status_code, leaks(body))
            assert 'Convenant' in body, (who, path, page.status_code)
    pdf = browser(site).get('/deal.pdf')  # the public one, from the public page
    assert pdf.status_code == 200 and leaks(pdf_text(pdf.get_data())) == []
    # this deal's periods where the first deal's would be: one month's notice, talks 3 months before the end
    projectleider = browser(site, 'projectleider')
    notice = projectleider.get('/procedures/nieuw/opzegging').get_data(as_text=True)
    assert 'opzegtermijn van 1 maand' in notice and '3 maanden' not in notice
    assert 'uiterlijk 3 maanden voor de einddatum' in projectleider.get('/procedures/nieuw/voortzetting').get_data(
        as_text=True)
    # refusals at their fields speak of this deal
    refused = browser(site).post('/toetreden', {'applicant': 'X'})
    assert refused.status_code == 422 and leaks(refused.get_data(as_text=True)) == []
    # the authenticator app names this deal, and the personal calendar holds its deadlines
    assert otpauth and all('Convenant' in uri and 'City' not in uri for uri in otpauth), otpauth
    enschede = next(u for u in other.users() if u.email == 'enschede@deal.example')
    feed = site.test_client().get(f'/agenda/{other.create_calendar_feed(enschede.id, OPERATOR)}.ics')
    assert feed.status_code == 200 and 'Convenant' in feed.get_data(as_text=True)
    assert leaks(feed.get_data(as_text=True)) == []


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_the_days_begin_and_end_in_the_deal_files_zone(db_url, clock, tmp_path, make_site):
    london = tmp_path / 'london.toml'
    london.write_text(OTHER_DEAL.read_text(encoding='utf-8').replace(
        'timezone = "Europe/Amsterdam"', 'timezone = "Europe/London"'), encoding='utf-8')
    clock.set(START)
    app = CityDeal(url=db_url, clock=clock)
    try:
        app.init(london)
        pid = start_procedure(app, 'opzegging', by='hengelo', circumstances='Regionale bundeling.')['id']
        # the notice takes effect when 13 April begins in London, not in Amsterdam
        assert app.show(pid)['next_timer'] == '2023-04-13T00:00:00+01:00'
        assert 'TZID:Europe/London' in app.calendar()
        # the pages show its times in London too: started at 10:00 in Amsterdam, 09:00 in London
        page = browser(make_site(city_deal=app), 'projectleider').get(f'/procedures/{pid}').get_data(as_text=True)
        assert '13 maart 2023 om 09:00' in page and 'om 10:00' not in page
        # a read in a thread (a process) of its own, before any command loaded the deal there
        import threading
        fresh, shown = CityDeal(url=db_url, clock=clock), []
        reader = threading.Thread(target=lambda: shown.append(fresh.show(pid)['next_timer']))
        reader.start()
        reader.join()
        fresh.close()
        assert shown == ['2023-04-13T00:00:00+01:00']
    finally:
        app.close()
        from engine.dates import use_zone
        use_zone('Europe/Amsterdam')
