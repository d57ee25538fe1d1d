"""Issue 11: a second deal file (deals/gezonde-schoolomgeving-twente.toml) runs the same procedures, and
nothing of the City Deal Energieke wijken shows in its pages, messages or refusals."""
from datetime import datetime
from pathlib import Path

import pytest

from citydeal.bootstrap import CityDeal
from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import complete_task, consent_all, one_task, start_procedure
from tests.web_support import Browser, add_accounts, fast_hashing
from web.app import create_app

OTHER_DEAL = Path(__file__).resolve().parent.parent.parent / 'deals' / 'gezonde-schoolomgeving-twente.toml'
#: a Monday inside the other deal's term
START = datetime(2023, 3, 13, 10, 0, tzinfo=AMSTERDAM)
#: words of the deal text the engine was first written for: none may show in another deal
FOREIGN = ('Energieke', 'energieke', 'Agenda Stad', 'Wijzigingen lid', 'Opzegging lid', 'Toetreding nieuwe Partijen',
           'Gegevenswisseling lid', 'Slotbepalingen', 'Inwerkingtreding en looptijd', 'Monitoring en evaluatie',
           'Deel 2', 'Deel 4', '6 weken', '1 maanden', 'Rotterdam', 'Platform31')


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


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_no_word_of_energieke_wijken_in_its_messages_or_pages(other, clock, monkeypatch):
    run_everything(other, clock)
    clock.set(datetime(2023, 4, 14, 9, 0, tzinfo=AMSTERDAM))
    other.tick()  # the notice takes effect; the first yearly cycle started with the deal
    messages = other.outbox()
    assert {m['event'] for m in messages} >= {'consultation_opened', 'amendment_adopted', 'party_admitted',
                                              'notice_of_withdrawal', 'party_withdrawn', 'task_opened'}
    assert [(m['event'], leaks(m['subject'] + m['text'])) for m in messages if leaks(m['subject'] + m['text'])] == []
    assert leaks(other.calendar()) == []
    fast_hashing(monkeypatch)
    add_accounts(other)
    monkeypatch.setenv('CITYDEAL_SECRET_KEY', 'test-secret')
    site = create_app(other, {'TESTING': True})
    pages = {'/openbaar', '/toetreden', '/deal', '/procedures', '/procedures/1', '/procedures/2', '/taken',
             '/procedures/nieuw/wijziging', '/procedures/nieuw/opzegging', '/procedures/nieuw/voortzetting',
             '/procedures/nieuw/geheimhouding', '/procedures/nieuw/jaarcyclus'}
    for who in ('enschede', 'projectleider'):
        browser = Browser(site.test_client())
        assert browser.login(who).status_code == 302
        for path in sorted(pages):
            page = browser.get(path)
            if page.status_code == 200:
                body = page.get_data(as_text=True)
                assert leaks(body) == [], (who, path, leaks(body))
                assert 'Convenant' in body, (who, path)


@pytest.mark.rule('Deal file: nothing of one deal in another')
def test_the_days_begin_and_end_in_the_deal_files_zone(db_url, clock, tmp_path):
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
