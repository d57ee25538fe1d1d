"""Voortzetting: at the latest 2 months before the end date the parties discuss continuation."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from tests.conftest import (
    complete_task, consent_all, fired, one_task, open_consultation, start_amendment, start_procedure)


def record(app, values):
    task = one_task(app, role='secretaris', name='uitkomst_vastleggen')
    assert task['name'] == 'uitkomst_vastleggen'
    return complete_task(app, task['id'], 'secretaris', values)


@pytest.mark.rule('Continuation: consultation at the latest 2 months before the end date')
def test_the_scheduler_starts_the_consultation_two_months_before_the_end(app, clock):
    clock.set(datetime(2024, 1, 31, 23, 59, tzinfo=AMSTERDAM))
    assert fired(app) == []
    clock.set(datetime(2024, 2, 1, 0, 0, 5, tzinfo=AMSTERDAM))
    assert fired(app) == ['continuation_start']
    assert [p['type'] for p in app.procedures() if p['type'] != 'jaarcyclus'] == ['voortzetting']
    assert fired(app) == []


def test_the_projectleider_may_start_it_earlier_once(app, clock):
    clock.set(datetime(2023, 11, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    with pytest.raises(CommandRefused, match='already exists'):
        start_procedure(app, 'voortzetting')
    clock.set(datetime(2024, 2, 2, tzinfo=AMSTERDAM))
    assert fired(app) == []


@pytest.mark.rule('Continuation: extending the term is an amendment')
def test_continue_starts_an_amendment_of_the_end_date_that_all_must_consent(app, clock):
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    with pytest.raises(CommandRefused, match='new_end_date'):
        record(app, {'result': 'continue'})
    with pytest.raises(CommandRefused, match='new_end_date'):
        record(app, {'result': 'continue', 'new_end_date': '2024-03-01'})
    assert record(app, {'result': 'continue', 'new_end_date': '2025-04-01'})['outcome'] == 'continue'
    amendment = next(p for p in app.procedures() if p['type'] == 'wijziging')
    open_consultation(app, amendment['id'])
    assert len([t for t in app.tasks() if t['party']]) == 17  # raised by all together: everyone is asked
    assert consent_all(app, amendment['id'])['outcome'] == 'adopted'
    assert app.deal()['end'] == '2025-04-01'
    clock.set(datetime(2024, 4, 2, tzinfo=AMSTERDAM))
    assert fired(app) == []
    assert app.deal()['status'] == 'running'  # issue 11: not_started, running or ended


@pytest.mark.rule('Continuation: without continuation the deal ends')
def test_without_continuation_the_deal_ends_and_open_procedures_close(app, clock):
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    assert record(app, {'result': 'end', 'note': 'Doelen bereikt.'})['outcome'] == 'end'
    pid = start_amendment(app)
    clock.set(datetime(2024, 4, 1, 0, 0, 1, tzinfo=AMSTERDAM))
    with pytest.raises(CommandRefused, match='ended'):
        start_amendment(app)
    assert fired(app) == ['term_end']
    assert app.deal()['status'] == 'ended'
    assert app.show(pid)['status'] == 'cancelled'
    assert app.tasks() == []
    for start in (lambda: start_procedure(app, 'opzegging', by='bzk', circumstances='x'),
                  lambda: start_procedure(app, 'jaarcyclus', year=2024),
                  lambda: start_procedure(app, 'toetreding', applicant='X', kind='rijk', representative='Y', contribution='Z',
                                               endorses_goals=True), lambda: start_procedure(app, 'voortzetting')):
        with pytest.raises(CommandRefused, match='ended'):
            start()
    assert app.verify_audit().ok


def test_nothing_starts_before_the_deal_is_in_force(app, clock):
    clock.set(datetime(2021, 3, 3, 12, 0, tzinfo=AMSTERDAM))
    with pytest.raises(CommandRefused, match='in force from 2021-03-04'):
        start_amendment(app)
