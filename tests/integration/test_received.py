"""Issue 11, points 1 and 2: periods count from the day a written request or notice was received, the
six weeks are the deadline for opening the consultation, and the answer window starts at the opening."""
from datetime import datetime

import pytest
from sqlalchemy import text

from engine.dates import AMSTERDAM
from engine.errors import CommandRefused
from engine.rights import Caller
from engine.roles import OPERATOR_PERSON
from tests.conftest import complete_task, one_task, open_consultation, snapshot, start_amendment, start_procedure

ACCESSION = dict(applicant='Provincie Limburg', kind='gemeente', representative='R. Thijs',
                 contribution='EUR 10.000 per jaar', endorses_goals=True)


def at(*args):
    return datetime(*args, tzinfo=AMSTERDAM)


def codes(refused):
    return [(p.code, p.field) for p in refused.value.problems]


def outbox(app, event):
    with app.engine.connect() as connection:
        return connection.execute(text('SELECT recipient FROM outbox WHERE event = :e ORDER BY id'),
                                  {'e': event}).scalars().all()


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_a_letter_received_before_it_was_entered_counts_from_the_day_received(app, clock):
    pid = start_amendment(app, received='2021-04-01', person='S. de Vries')  # entered on 12 April
    shown = app.show(pid)
    assert shown['deadline'] == '2021-05-13T23:59:59+02:00'  # 1 April + 6 weeks
    assert one_task(app, role='projectleider')['due'] == shown['deadline']
    request = shown['request']
    # typed in at the command line: the operator entered it, for the Party whose S. de Vries signed it
    assert (request['received'], request['entered_by']) == ('2021-04-01', OPERATOR_PERSON)
    assert request['entered_dt'].startswith('2021-04-12T')
    started = next(e for e in shown['timeline'] if e['event'] == 'procedure_started')
    assert started['at'].startswith('2021-04-12T') and started['data']['request']['received'] == '2021-04-01'
    assert (started['person'], started['acting_for']) == ('S. de Vries', 'bzk')
    assert started['data']['request']['entered_by'] == OPERATOR_PERSON
    registered = next(e for e in shown['timeline'] if e['event'] == 'request_registered')
    assert registered['data']['received'] == '2021-04-01'


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_without_received_it_is_today(app):
    pid = start_amendment(app)
    assert app.show(pid)['request']['received'] == '2021-04-12'
    assert app.show(pid)['deadline'] == '2021-05-24T23:59:59+02:00'


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
@pytest.mark.parametrize('day, code', [('2021-04-13', 'received.in_future'), ('2021-03-03', 'received.before_term'),
                                       ('2021-02-30', 'field.not_a_date')])
def test_a_received_day_in_the_future_or_before_the_term_is_refused_and_changes_nothing(app, day, code):
    before = snapshot(app)
    for start in (lambda: start_amendment(app, received=day),
                  lambda: start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.', received=day),
                  lambda: start_procedure(app, 'toetreding', received=day, **ACCESSION)):
        with pytest.raises(CommandRefused) as refused:
            start()
        assert codes(refused) == [(code, 'received')]
    assert snapshot(app) == before


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_the_notice_period_counts_from_the_day_the_notice_was_received(app):
    pid = start_procedure(app, 'opzegging', by='zayaz', circumstances='Fusie.', received='2021-03-31')['id']
    assert app.show(pid)['request']['effective_date'] == '2021-06-30'
    zayaz = next(p for p in app.parties() if p['code'] == 'zayaz')
    assert zayaz['status'] == 'withdrawing'


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_an_accession_counts_from_the_day_received(app):
    pid = start_procedure(app, 'toetreding', received='2021-04-05', **ACCESSION)['id']
    assert app.show(pid)['deadline'] == '2021-05-17T23:59:59+02:00'
    assert one_task(app, role='projectleider', name='criteria_toetsen')['due'] == app.show(pid)['deadline']


@pytest.mark.rule('Received: projectleider and secretaris register a paper document for a party, with its received date')
@pytest.mark.parametrize('role', ['projectleider', 'secretaris'])
def test_a_role_registers_a_paper_request_for_a_party_only_with_its_received_day(app, role):
    caller = Caller(person='J. Jansen', role=role, acting_for='arnhem')
    values = {'title': 'Werklijn 5', 'text': 'Voeg werklijn 5 toe.'}
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        app.start('wijziging', caller, values)
    assert codes(refused) == [('received.required_for_registration', 'received')]
    with pytest.raises(CommandRefused) as refused:
        app.start('wijziging', Caller(person='J. Jansen', role=role), dict(values, received='2021-04-01'))
    assert codes(refused) == [('rights.party_required', 'by')]
    assert snapshot(app) == before
    pid = app.start('wijziging', caller, dict(values, received='2021-04-01'))['id']
    shown = app.show(pid)
    assert (shown['request']['requester'], shown['request']['registered_by']) == ('arnhem', role)
    assert shown['request']['entered_by'] == 'J. Jansen'  # who registered it entered it
    started = next(e for e in shown['timeline'] if e['event'] == 'procedure_started')
    assert (started['person'], started['acting_for']) == ('J. Jansen', 'arnhem')
    notice = app.start('opzegging', caller, {'circumstances': 'Per brief: fusie.', 'received': '2021-04-02'})
    assert app.show(notice['id'])['request']['effective_date'] == '2021-07-02'


@pytest.mark.rule('Received: projectleider and secretaris register a paper document for a party, with its received date')
def test_an_auditor_registers_nothing(app):
    with pytest.raises(CommandRefused):
        app.start('wijziging', Caller(person='A. Udit', role='auditor', acting_for='arnhem'),
                  {'title': 'x', 'text': 'y', 'received': '2021-04-01'})


@pytest.mark.rule('Wijzigingen lid 2: the answer window starts when the consultation opens and lasts consent_period_weeks')
def test_the_answer_window_starts_when_the_consultation_opens(app, clock):
    pid = start_amendment(app)
    clock.set(at(2021, 5, 3, 10, 0))
    open_consultation(app, pid)
    asked = [t for t in app.tasks() if t['party']]
    assert len(asked) == 16 and {t['due'] for t in asked} == {'2021-06-14T23:59:59+02:00'}  # 3 May + 6 weeks
    assert app.show(pid)['deadline'] == '2021-06-14T23:59:59+02:00'
    [opened] = [e for e in app.show(pid)['timeline'] if e['event'] == 'consultation_opened']
    assert opened['data'] == {'opening_deadline': '2021-05-24T23:59:59+02:00', 'late': False,
                              'answer_deadline': '2021-06-14T23:59:59+02:00', 'days_late': 0}


@pytest.mark.rule('Wijzigingen lid 2: the answer window starts when the consultation opens and lasts consent_period_weeks')
def test_an_accession_window_starts_when_the_request_is_found_complete(app, clock):
    pid = start_procedure(app, 'toetreding', **ACCESSION)['id']
    clock.set(at(2021, 5, 20, 10, 0))
    open_consultation(app, pid)
    assert {t['due'] for t in app.tasks() if t['party']} == {'2021-07-01T23:59:59+02:00'}


@pytest.mark.rule('Wijzigingen lid 2: the consultation opens within 6 weeks; a late opening is recorded as late')
def test_an_opening_not_done_in_time_is_reminded_and_escalated_to_the_secretaris(app, clock):
    pid = start_amendment(app)
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    assert outbox(app, 'opening_late') == ['secretaris']
    assert 'projectleider' in outbox(app, 'overdue')
    clock.set(at(2021, 5, 26, 9, 0))
    app.tick()
    assert outbox(app, 'opening_late') == ['secretaris']  # once
    open_consultation(app, pid)
    [opened] = [e for e in app.show(pid)['timeline'] if e['event'] == 'consultation_opened']
    assert (opened['data']['late'], opened['data']['days_late']) == (True, 2)


@pytest.mark.rule('Wijzigingen lid 2: the consultation opens within 6 weeks; a late opening is recorded as late')
def test_an_opening_in_time_is_not_escalated(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    assert outbox(app, 'opening_late') == []


@pytest.mark.rule('Wijzigingen lid 2: no answer window shorter than minimum_consent_days')
def test_a_window_the_end_of_the_term_would_cut_short_is_refused_naming_the_end(app, clock):
    clock.set(at(2024, 3, 15, 9, 0))
    pid = start_amendment(app)
    clock.set(at(2024, 3, 20, 9, 0))
    task = one_task(app, role='projectleider')
    before = snapshot(app)
    with pytest.raises(CommandRefused, match='2024-04-01') as refused:
        complete_task(app, task['id'], 'projectleider', {})
    assert codes(refused) == [('consultation.window_too_short', 'task')]
    assert snapshot(app) == before
    assert app.show(pid)['status'] == 'running'


@pytest.mark.rule('Wijzigingen lid 2: no answer window shorter than minimum_consent_days')
def test_a_window_cut_by_the_end_but_long_enough_closes_the_day_before_the_end(app, clock):
    clock.set(at(2024, 3, 1, 9, 0))
    pid = start_amendment(app)
    open_consultation(app, pid)
    assert {t['due'] for t in app.tasks() if t['party']} == {'2024-03-31T23:59:59+02:00'}
    assert app.show(pid)['deadline'] == '2024-03-31T23:59:59+02:00'


@pytest.mark.rule('Wijzigingen lid 2: no answer window shorter than minimum_consent_days')
def test_the_accession_window_is_bound_by_the_minimum_too(app, clock):
    clock.set(at(2024, 3, 15, 9, 0))
    start_procedure(app, 'toetreding', **ACCESSION)
    clock.set(at(2024, 3, 20, 9, 0))
    task = one_task(app, role='projectleider', name='criteria_toetsen')
    with pytest.raises(CommandRefused) as refused:
        complete_task(app, task['id'], 'projectleider', {'complete': 'true'})
    assert codes(refused) == [('consultation.window_too_short', 'task')]
    # returning an incomplete request opens no window: allowed
    complete_task(app, task['id'], 'projectleider', {'complete': 'false', 'reason': 'Te laat in de looptijd.'})


@pytest.mark.rule('Received: every period counts from the day the written request or notice was received')
def test_a_day_received_in_the_future_is_named_with_the_other_problems(app):
    before = snapshot(app)
    with pytest.raises(CommandRefused) as refused:
        start_procedure(app, 'wijziging', by='bzk', title='', text='Tekst.', received='2030-01-01')
    assert sorted((p.field, p.code) for p in refused.value.problems) == [
        ('received', 'received.in_future'), ('title', 'field.required')]
    assert snapshot(app) == before
