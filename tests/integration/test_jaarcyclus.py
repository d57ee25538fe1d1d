"""Jaarcyclus: every year an evaluation, and a werkplan, communicatieplan and begroting adopted."""
from datetime import datetime

import pytest

from engine.dates import AMSTERDAM

from engine.errors import CommandRefused
from tests.conftest import complete_task, consent_all, open_consultation, start_amendment, start_procedure

EVALUATION = {'initiatives_projects': 'Twaalf proeftuinen lopen.', 'goals_deel1': 'Koppelkansen zichtbaar.'}
PLANS = {'werkplan_concept': 'Werkplan 2022', 'communicatieplan_concept': 'Communicatieplan 2022',
         'begroting_concept': 'Begroting 2022'}


def do(app, role, name, values):
    task = next(t for t in app.tasks(role=role) if t['name'] == name)
    return complete_task(app, task['id'], role, values)


@pytest.mark.rule('Jaarcyclus: projectleider evaluates every year with Agenda Stad, on two levels')
@pytest.mark.rule('Jaarcyclus: coalitieoverleg adopts werkplan, communicatieplan and begroting')
@pytest.mark.rule('Jaarcyclus: stuurgroep decides on next steps')
def test_the_annual_cycle_with_a_plan_sent_back_to_draft(app):
    pid = start_procedure(app, 'jaarcyclus', year=2021)['id']
    assert sorted(t['name'] for t in app.tasks(role='projectleider')) == ['evaluatie_opleveren', 'plannen_opstellen']
    with pytest.raises(CommandRefused) as refused:
        do(app, 'projectleider', 'evaluatie_opleveren', {'initiatives_projects': 'x'})
    assert refused.value.problems[0].field == 'goals_deel1'
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    do(app, 'projectleider', 'plannen_opstellen', PLANS)
    with pytest.raises(CommandRefused, match='begroting_reason'):
        do(app, 'secretaris', 'coalitieoverleg_besluit',
           {'werkplan': 'adopted', 'communicatieplan': 'adopted', 'begroting': 'not_adopted'})
    do(app, 'secretaris', 'coalitieoverleg_besluit', {'werkplan': 'adopted', 'communicatieplan': 'adopted',
                                                      'begroting': 'not_adopted', 'begroting_reason': 'Te hoog.'})
    assert [t['name'] for t in app.tasks(role='projectleider')] == ['plannen_opstellen']
    do(app, 'projectleider', 'plannen_opstellen', PLANS)
    do(app, 'secretaris', 'coalitieoverleg_besluit',
       {'werkplan': 'adopted', 'communicatieplan': 'adopted', 'begroting': 'adopted'})
    result = do(app, 'secretaris', 'stuurgroep_besluit', {'next_steps': 'Opschalen naar G40.'})
    assert result == dict(result, procedure_id=pid, status='completed', outcome='adopted')


@pytest.mark.rule('Jaarcyclus: midterm report halfway through the term')
def test_the_year_holding_the_midpoint_adds_a_midterm_report(app):
    start_procedure(app, 'jaarcyclus', year=2022)
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    assert 'midterm_opleveren' in [t['name'] for t in app.tasks(role='projectleider')]
    start_procedure(app, 'jaarcyclus', year=2023)
    assert len([t for t in app.tasks(role='projectleider') if t['name'] == 'evaluatie_opleveren']) == 1


def test_one_cycle_per_year_inside_the_term(app):
    start_procedure(app, 'jaarcyclus', year=2021)
    with pytest.raises(CommandRefused, match='already exists'):
        start_procedure(app, 'jaarcyclus', year=2021)
    with pytest.raises(CommandRefused, match='outside the term'):
        start_procedure(app, 'jaarcyclus', year=2030)
    with pytest.raises(CommandRefused, match='not a whole number'):
        start_procedure(app, 'jaarcyclus', year='volgend jaar')


@pytest.mark.rule('Jaarcyclus: every task has a due date')
def test_every_task_of_the_cycle_has_a_due_date_and_the_first_werkplan_is_due_at_the_end_of_fase_1(app):
    start_procedure(app, 'jaarcyclus', year=2021)
    due = {t['name']: t['due'] for t in app.tasks(role='projectleider')}
    # nothing of the first cycle is due before the end of Fase 1
    assert due == {'evaluatie_opleveren': '2021-07-31T23:59:59+02:00',
                   'plannen_opstellen': '2021-07-31T23:59:59+02:00'}
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    do(app, 'projectleider', 'plannen_opstellen', PLANS)
    [decision] = app.tasks(role='secretaris')
    assert decision['due'] == '2021-09-30T23:59:59+02:00'


@pytest.mark.rule('Jaarcyclus: every task has a due date')
def test_a_late_task_of_the_cycle_is_reminded_at_its_due_date(app, clock):
    start_procedure(app, 'jaarcyclus', year=2021)
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    clock.set(datetime(2021, 8, 1, 9, 0, tzinfo=AMSTERDAM))
    app.tick()
    overdue = [m for m in app.outbox() if m['event'] == 'overdue' and m['recipient'] == 'projectleider']
    assert any('31 juli 2021' in m['text'] for m in overdue)
    # a task of the cycle opens no consultation: it is never escalated as a consultation opened late
    assert [m for m in app.outbox() if m['event'] == 'opening_late'] == []


@pytest.mark.rule('Jaarcyclus: midterm report halfway through the term')
def test_the_midterm_report_is_due_at_the_midpoint_recomputed_when_the_term_changes(app, clock):
    clock.set(datetime(2021, 12, 1, 10, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'jaarcyclus', year=2022)  # started early, as the projectleider may
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    [midterm] = [t for t in app.tasks(role='projectleider') if t['name'] == 'midterm_opleveren']
    assert midterm['due'] == '2022-09-17T23:59:59+02:00'
    with pytest.raises(CommandRefused) as refused:
        do(app, 'projectleider', 'midterm_opleveren', {'report': 'Eerste inzichten.'})
    assert [p.code for p in refused.value.problems] == ['jaarcyclus.midterm_not_yet']
    clock.set(datetime(2022, 1, 3, 10, 0, tzinfo=AMSTERDAM))
    pid = start_amendment(app, new_end_date='2025-04-01')
    open_consultation(app, pid)
    consent_all(app, pid)
    [midterm] = [t for t in app.tasks(role='projectleider') if t['name'] == 'midterm_opleveren']
    assert midterm['due'] == '2023-03-18T23:59:59+01:00'
    # asked in the 2022 cycle, it stays there: filed in 2022 (early for the new midpoint), never asked again
    clock.set(datetime(2022, 6, 1, 10, 0, tzinfo=AMSTERDAM))
    do(app, 'projectleider', 'midterm_opleveren', {'report': 'Halverwege: de proeftuinen lopen.'})
    start_procedure(app, 'jaarcyclus', year=2023)
    assert [t for t in app.tasks(role='projectleider') if t['name'] == 'midterm_opleveren'] == []
    do(app, 'projectleider', 'evaluatie_opleveren', EVALUATION)
    assert [t for t in app.tasks(role='projectleider') if t['name'] == 'midterm_opleveren'] == []
