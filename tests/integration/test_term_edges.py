"""Edges of the term and of party membership, where procedures meet the calendar."""
from datetime import datetime, timedelta

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import (
    complete_task, consent_all, fired, one_task, open_consultation, snapshot, start_amendment, start_procedure)


@pytest.mark.rule('Continuation: without continuation the deal ends')
def test_a_first_tick_long_after_the_end_ends_the_deal(app, clock):
    clock.set(datetime(2024, 4, 2, tzinfo=AMSTERDAM))
    assert fired(app) == ['term_end']
    assert app.deal()['status'] == 'ended'
    assert app.procedures() == []


def test_nothing_moves_after_the_end_date_even_before_tick(app, clock):
    clock.set(datetime(2024, 3, 1, 9, 0, tzinfo=AMSTERDAM))
    pid = start_amendment(app, new_end_date='2025-04-01')
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz',))
    task = one_task(app, party='zayaz')
    clock.set(datetime(2024, 4, 2, tzinfo=AMSTERDAM))
    before = snapshot(app)
    with pytest.raises(CommandRefused, match='ended on 2024-04-01'):
        complete_task(app, task['id'], 'zayaz', {'decision': 'consent'})
    assert snapshot(app) == before
    app.tick()
    assert app.deal() == dict(app.deal(), end='2024-04-01', status='ended')


def test_consultations_close_before_the_term_ends(app, clock):
    clock.set(datetime(2024, 3, 15, 9, 0, tzinfo=AMSTERDAM))
    pid = start_amendment(app)
    assert app.show(pid)['deadline'] == '2024-03-31T23:59:59+02:00'


def test_an_end_date_agreed_for_a_day_already_past_ends_the_deal(app, clock):
    pid = start_amendment(app, new_end_date='2021-05-01')
    open_consultation(app, pid)
    clock.set(datetime(2021, 5, 10, 9, 0, tzinfo=AMSTERDAM))
    assert consent_all(app, pid)['outcome'] == 'adopted'
    assert fired(app) == ['term_end']
    assert app.deal()['status'] == 'ended'


@pytest.mark.rule('Wijzigingen lid 2: the consultation opens within 6 weeks; a late opening is recorded as late')
def test_a_late_projectleider_still_opens_and_every_party_gets_the_full_window(app, clock):
    pid = start_amendment(app)
    clock.set(clock.now() + timedelta(weeks=7))
    open_consultation(app, pid)
    asked = [t for t in app.tasks() if t['party']]
    assert len(asked) == 16  # issue 11: no longer "no party asked" after a late opening
    assert {t['due'] for t in asked} == {'2021-07-12T23:59:59+02:00'}  # 31 May + 6 weeks, from the opening
    [opened] = [e for e in app.show(pid)['timeline'] if e['event'] == 'consultation_opened']
    assert opened['data']['late'] is True and opened['data']['days_late'] == 7


@pytest.mark.rule('Opzegging lid 1: 3 months notice')
def test_a_withdrawn_party_cannot_answer_and_its_open_requests_lapse(app, clock):
    start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.')
    clock.set(datetime(2021, 7, 1, 9, 0, tzinfo=AMSTERDAM))
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz',))
    task = one_task(app, party='zayaz')
    clock.set(datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()  # the notice takes effect on 12 July: zayaz is withdrawn and no longer asked
    with pytest.raises(CommandRefused, match='task'):
        complete_task(app, task['id'], 'zayaz', {'decision': 'objection', 'statement': 'Nee.'})
    shown = app.show(pid)
    assert (shown['status'], shown['outcome']) == ('completed', 'adopted')
    assert 'zayaz' not in [s['party'] for s in app.appendices()[0]['statements']]
    assert any(e['event'] == 'consent_request_lapsed' for e in shown['timeline'])


@pytest.mark.rule('Opzegging lid 3: contribution for the year of notice stays due')
def test_a_notice_overtaken_by_the_end_of_the_term_still_leaves_the_contribution_due(app, clock):
    clock.set(datetime(2024, 1, 15, 9, 0, tzinfo=AMSTERDAM))
    pid = start_procedure(app, 'opzegging', by='weert', circumstances='Bezuinigingen.')['id']
    clock.set(datetime(2024, 4, 1, 0, 0, 1, tzinfo=AMSTERDAM))
    app.tick()
    weert = next(p for p in app.parties() if p['code'] == 'weert')
    assert (weert['status'], weert['left_on']) == ('withdrawn', '2024-04-01')
    assert app.show(pid)['contributions_owed'] == [{'party': 'weert', 'year': 2024, 'amount_eur': 10000}]


def test_an_applicant_applies_once_and_joins_on_its_date(app):
    values = dict(applicant='Gemeente Eindhoven', kind='gemeente', representative='R. Thijs',
                  contribution='EUR 10.000 per jaar', endorses_goals=True)
    pid = start_procedure(app, 'toetreding', **values)['id']
    with pytest.raises(CommandRefused, match='already running'):
        start_procedure(app, 'toetreding', **dict(values, applicant='gemeente eindhoven'))
    open_consultation(app, pid)
    consent_all(app, pid)
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    # issue 11: a day other than the next yearly programme's start (2022-01-15) needs a reason
    complete_task(app, task['id'], 'projectleider', {'code': 'eindhoven', 'effective_date': '2022-01-01',
                                                     'effective_date_reason': 'Begin van het kalenderjaar.'})
    for start in (lambda: start_amendment(app, by='eindhoven'),
                  lambda: start_procedure(app, 'opzegging', by='eindhoven', circumstances='x')):
        with pytest.raises(CommandRefused, match='becomes a party on 2022-01-01'):
            start()


def test_odd_values_are_refused_not_crashed_on(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(clock.now() + timedelta(weeks=7))
    app.tick()
    decide = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    for day in ('9999-12-31', '2021-02-30', '2024-04-01'):
        with pytest.raises(CommandRefused, match='new_deadline'):
            complete_task(app, decide['id'], 'projectleider', {'choice': 'extend', 'new_deadline': day, 'reason': 'x'})
    with pytest.raises(CommandRefused, match='procedure'):
        app.show(10 ** 30)
    with pytest.raises(CommandRefused, match='person'):
        start_amendment(app, by='arnhem', person='x' * 301)
    with pytest.raises(CommandRefused, match='party'):
        app.tasks(party='nobody')
    with pytest.raises(CommandRefused, match='unknown field|Unknown field'):
        complete_task(app, decide['id'], 'projectleider', {'choice': 'close', 'colour': 'red'})
