"""Jaarcyclus: every year an evaluation, and a werkplan, communicatieplan and begroting adopted."""
import pytest

from engine.errors import CommandRefused
from tests.conftest import complete_task, start_procedure

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
