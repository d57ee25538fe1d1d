"""A process killed (SIGKILL) at any point of a command leaves the database as before the command
or as after it, never in between: state, answers, audit chain and outbox, across every kind of
command that changes them."""
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from engine.dates import AMSTERDAM
from tests.conftest import START, complete_task, consent_all, open_consultation, start_amendment, start_procedure
from tests.crash_driver import run

pytestmark = [pytest.mark.cli, pytest.mark.slow]
#: kill points per scenario, spread evenly over its statements: the first and the last on each database,
#: the ones between shared out between SQLite and PostgreSQL (each tries every other one), so that the two
#: runs together try all of them in half the time
POINTS = 6


def projection(url):
    """What must be all-or-nothing, without ids and serialized state that differ run to run.

    Procedures are numbered by their order: a PostgreSQL sequence is not rolled back, so a command
    killed before its commit still used up the number that a run after the restart would have had."""
    engine = create_engine(url)
    with engine.connect() as c:
        rank = {pid: n for n, (pid,) in enumerate(c.execute(text('SELECT id FROM procedures ORDER BY id')), 1)}

        def rows(sql, column=None):
            return [tuple(rank[v] if i == column else v for i, v in enumerate(row)) for row in c.execute(text(sql))]
        result = {
            'procedures': rows('SELECT id, type, status, outcome, version FROM procedures ORDER BY id', 0),
            'answers': rows('SELECT procedure_id, party_code, decision FROM answers ORDER BY 1, 2', 0),
            'parties': rows('SELECT code, status, left_on FROM parties ORDER BY code'),
            'appendices': rows('SELECT number, procedure_id FROM appendices', 1),
            'audit': rows('SELECT seq, event FROM audit_entries ORDER BY seq'),
            'outbox': rows('SELECT event, recipient FROM outbox ORDER BY id'),
            'open_tasks': rows('SELECT procedure_id, name, party_code, role FROM open_tasks ORDER BY 1, 2, 3, 4', 0),
            'reminders': rows('SELECT procedure_id, kind, recipient FROM reminders ORDER BY 1, 2, 3', 0),
            'owed': rows('SELECT party_code, year FROM contributions_owed'),
        }
    engine.dispose()
    return result


def scenario_last_consent(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz',))
    task = next(t['id'] for t in app.tasks(party='zayaz'))
    return clock.now(), {'op': 'complete', 'task': task, 'as': 'zayaz', 'values': {'decision': 'consent'}}


def scenario_timer(app, clock):
    """One due item: the notice takes effect (a tick fires each due item as a command of its own)."""
    start_procedure(app, 'opzegging', by='weert', circumstances='Herindeling.')
    pid = start_amendment(app)
    open_consultation(app, pid)
    clock.set(datetime(2021, 7, 11, 23, 59, tzinfo=AMSTERDAM))
    app.tick()
    return datetime(2021, 7, 12, 0, 0, 1, tzinfo=AMSTERDAM), {'op': 'tick'}


def scenario_notice(app, clock):
    return clock.now(), {'op': 'start_opzegging', 'by': 'tiwos', 'circumstances': 'Fusie.'}


def scenario_extension(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('zayaz', 'tiwos'))
    clock.advance(weeks=7)
    app.tick()
    task = next(t['id'] for t in app.tasks(role='projectleider') if t['name'] == 'verlengen_of_afsluiten')
    return clock.now(), {'op': 'complete', 'task': task, 'as': 'projectleider',
                         'values': {'choice': 'extend', 'new_deadline': '2021-07-15', 'reason': 'Zomer'}}


def scenario_admission(app, clock):
    pid = start_procedure(app, 'toetreding', applicant='Gemeente Eindhoven', kind='gemeente', representative='R. Thijs',
                               contribution='EUR 10.000 per jaar', endorses_goals=True)['id']
    open_consultation(app, pid)
    consent_all(app, pid)
    task = next(t['id'] for t in app.tasks(role='projectleider') if t['name'] == 'partij_vastleggen')
    return clock.now(), {'op': 'complete', 'task': task, 'as': 'projectleider',
                         'values': {'code': 'eindhoven', 'effective_date': '2021-07-01',
                                    # issue 11: a day other than the next yearly programme's start needs a reason
                                    'effective_date_reason': 'Start van Fase 2.'}}


def scenario_annual_cycle(app, clock):
    app.tick()  # the 2021 cycle starts
    for name, values in (('evaluatie_opleveren', {'initiatives_projects': 'x', 'goals_deel1': 'y'}),
                         ('plannen_opstellen', {'werkplan_concept': 'w', 'communicatieplan_concept': 'c',
                                                'begroting_concept': 'b'})):
        task = next(t['id'] for t in app.tasks(role='projectleider') if t['name'] == name)
        complete_task(app, task, 'projectleider', values)
    task = next(t['id'] for t in app.tasks(role='secretaris'))
    complete_task(app, task, 'secretaris', {'werkplan': 'adopted', 'communicatieplan': 'adopted', 'begroting': 'adopted'})
    task = next(t['id'] for t in app.tasks(role='secretaris'))
    return clock.now(), {'op': 'complete', 'task': task, 'as': 'secretaris', 'values': {'next_steps': 'Opschalen.'}}


def scenario_continuation(app, clock):
    clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
    start_procedure(app, 'voortzetting')
    task = next(t['id'] for t in app.tasks(role='secretaris') if t['name'] == 'uitkomst_vastleggen')
    return clock.now(), {'op': 'complete', 'task': task, 'as': 'secretaris',
                         'values': {'result': 'continue', 'new_end_date': '2025-04-01'}}


@pytest.mark.parametrize('scenario', [scenario_last_consent, scenario_timer, scenario_notice, scenario_extension,
                                      scenario_admission, scenario_annual_cycle, scenario_continuation])
def test_a_kill_at_any_point_leaves_the_state_before_or_after(databases, loaded_deals, scenario):
    seed = loaded_deals.copy_for(databases, START)
    clock = FakeClock(START)
    app = CityDeal(url=seed, clock=clock)
    now, command = scenario(app, clock)
    app.close()
    before = projection(seed)
    reference = databases.copy(seed)
    done = run(reference, now, 0, command)
    assert done.returncode == 0, done.error
    statements = done.statements
    after = projection(reference)
    assert after != before
    spread = [1 + i * (statements - 1) // (POINTS - 1) for i in range(1, POINTS - 1)]
    points = sorted({1, statements} | set(spread[0 if databases.kind == 'sqlite' else 1::2]))
    outcomes = []
    for point in points:
        victim = databases.copy(seed)
        killed = run(victim, now, point, command)
        assert killed.returncode == -9, (point, killed.error)
        state = projection(victim)
        assert state in (before, after), f'killed before statement {point}: a state in between'
        outcomes.append('before' if state == before else 'after')
        restarted = CityDeal(url=victim, clock=FakeClock(now))
        assert restarted.verify_audit().ok
        restarted.close()
        if state == before:  # the command, run again after the crash, completes as it would have
            assert run(victim, now, 0, command).returncode == 0
            assert projection(victim) == after
    # One file per scenario and database: the tests run in parallel workers.
    results = Path(__file__).parent.parent.parent / 'test-artifacts' / 'crashes' / f'{scenario.__name__}-{databases.kind}.json'
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({'statements': statements, 'kill_points': len(points), 'outcomes': outcomes}))
