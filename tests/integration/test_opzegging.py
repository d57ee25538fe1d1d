"""Opzegging: a party withdraws with 3 months' notice stating changed circumstances."""
from datetime import datetime, timedelta

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import (
    complete_task, consent_all, fired, one_task, open_consultation, snapshot, start_amendment, start_procedure)

CIRCUMSTANCES = 'Fusie van de corporatie; de wijkaanpak gaat over naar de nieuwe organisatie.'


def party(app, code):
    return next(p for p in app.parties() if p['code'] == code)


@pytest.mark.rule('Opzegging lid 1: 3 months notice')
def test_notice_on_30_november_takes_effect_on_28_february(app, clock):
    clock.set(datetime(2021, 11, 30, 15, 0, tzinfo=AMSTERDAM))
    pid = start_procedure(app, 'opzegging', by='tiwos', circumstances=CIRCUMSTANCES)['id']
    tiwos = party(app, 'tiwos')
    assert (tiwos['status'], tiwos['withdrawal_effective_on']) == ('withdrawing', '2022-02-28')
    assert app.show(pid)['next_timer'] == '2022-02-28T00:00:00+01:00'


@pytest.mark.rule('Opzegging lid 1: 3 months notice')
@pytest.mark.rule('Opzegging lid 3: contribution for the year of notice stays due')
def test_at_the_effective_date_the_party_is_withdrawn_and_owes_the_year(app, clock):
    clock.set(datetime(2021, 11, 30, 15, 0, tzinfo=AMSTERDAM))
    pid = start_procedure(app, 'opzegging', by='weert', circumstances=CIRCUMSTANCES)['id']
    clock.set(datetime(2022, 2, 27, 23, 59, tzinfo=AMSTERDAM))
    assert fired(app) == []
    assert party(app, 'weert')['status'] == 'withdrawing'
    clock.set(datetime(2022, 2, 28, 0, 0, 1, tzinfo=AMSTERDAM))
    assert fired(app) == ['timer']
    weert = party(app, 'weert')
    assert (weert['status'], weert['left_on']) == ('withdrawn', '2022-02-28')
    shown = app.show(pid)
    assert shown['contributions_owed'] == [{'party': 'weert', 'year': 2021, 'amount_eur': 10000}]
    assert shown['status'] == 'running'  # the projectleider has not acknowledged yet
    task = one_task(app, role='projectleider', name='opzegging_bevestigen')
    result = complete_task(app, task['id'], 'projectleider', {'deal_stands': 'true', 'note': 'Deal blijft in stand.'})
    assert result == dict(result, procedure_id=pid, status='completed', outcome='withdrawn')


@pytest.mark.rule('Opzegging lid 2: the deal stays in force for the others')
def test_projectleider_records_whether_the_deal_stands(app):
    pid = start_procedure(app, 'opzegging', by='zayaz', circumstances=CIRCUMSTANCES)['id']
    task = one_task(app, role='projectleider', name='opzegging_bevestigen')
    with pytest.raises(CommandRefused, match='deal_stands'):
        complete_task(app, task['id'], 'projectleider', {})
    # issue 11: a deal that does not stand ends for all, so the reason is required then
    with pytest.raises(CommandRefused, match='reason'):
        complete_task(app, task['id'], 'projectleider', {'deal_stands': 'false', 'note': 'Werklijn 3 vervalt.'})
    complete_task(app, task['id'], 'projectleider', {'deal_stands': 'false', 'note': 'Werklijn 3 vervalt.',
                                                     'reason': 'Zonder de corporatie valt werklijn 3 weg.'})
    entry = next(e for e in app.show(pid)['timeline'] if e['event'] == 'notice_acknowledged')
    assert entry['data'] == {'deal_stands': False, 'note': 'Werklijn 3 vervalt.',
                             'reason': 'Zonder de corporatie valt werklijn 3 weg.'}


@pytest.mark.rule('Opzegging lid 1: the notice must state the changed circumstances')
def test_a_notice_without_circumstances_is_incomplete(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        start_procedure(app, 'opzegging', by='tiwos', circumstances='  \n ')
    assert refused.value.problems[0].field == 'circumstances'
    assert 'Opzegging' in str(refused.value.problems[0].rule)
    assert snapshot(app) == before


def test_a_party_gives_notice_once(app):
    start_procedure(app, 'opzegging', by='tiwos', circumstances=CIRCUMSTANCES)
    with pytest.raises(CommandRefused, match='withdrawing'):
        start_procedure(app, 'opzegging', by='tiwos', circumstances=CIRCUMSTANCES)


def test_a_withdrawing_party_is_still_asked_a_withdrawn_one_no_longer(app, clock):
    start_procedure(app, 'opzegging', by='tiwos', circumstances=CIRCUMSTANCES)
    pid = start_amendment(app)
    open_consultation(app, pid)
    assert app.tasks(party='tiwos')
    consent_all(app, pid)
    clock.set(clock.now() + timedelta(days=100))
    app.tick()
    pid = start_amendment(app, by='arnhem')
    open_consultation(app, pid)
    assert app.tasks(party='tiwos') == []
    assert len([t for t in app.tasks() if t['party']]) == 15
    with pytest.raises(CommandRefused, match='no longer a party'):
        start_amendment(app, by='tiwos')


@pytest.mark.rule('Opzegging lid 1: 3 months notice')
def test_a_notice_that_takes_effect_inside_the_projectleiders_command_withdraws_the_party(app, clock):
    """Notice on 30 November 2021 takes effect on 28 February 2022 at the latest (1 March at 00:00 ...); the
    projectleider confirms it on 1 March 2022 before any tick: the timer fires inside that command, the
    party withdraws and its open consent requests lapse (this crashed when effects lacked a callback)."""
    clock.set(datetime(2021, 11, 30, 10, 0, tzinfo=AMSTERDAM))
    notice = start_procedure(app, 'opzegging', by='tiwos', circumstances=CIRCUMSTANCES)['id']
    clock.set(datetime(2022, 2, 1, 10, 0, tzinfo=AMSTERDAM))
    pid = start_procedure(app, 'wijziging', by='bzk', title='Werklijn 6', text='Een zesde werklijn.')['id']
    open_consultation(app, pid)
    assert 'tiwos' in {t['party'] for t in app.tasks() if t['procedure_id'] == pid}  # still a Party: asked
    clock.set(datetime(2022, 3, 1, 9, 0, tzinfo=AMSTERDAM))
    task = one_task(app, 'opzegging_bevestigen', role='projectleider')
    result = complete_task(app, task['id'], 'projectleider', {'deal_stands': 'true'})
    assert result['procedure_id'] == notice and result['outcome'] == 'withdrawn'
    assert {p['code']: p['status'] for p in app.parties()}['tiwos'] == 'withdrawn'
    assert 'tiwos' not in {t['party'] for t in app.tasks() if t['procedure_id'] == pid}
    assert [e['data']['party'] for e in app.show(pid)['timeline'] if e['event'] == 'consent_request_lapsed'] == ['tiwos']
