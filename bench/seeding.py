"""Databases to measure on, filled through the engine itself, at one deal time."""
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import update

from citydeal.bootstrap import CityDeal
from engine import register, runner
from engine import procedures as registry
from engine.clock import FakeClock
from engine.dates import AMSTERDAM, local_date
from engine.models import OutboxMessage
from engine.rights import Caller
from engine.runner import Actor

#: a Monday inside the term (the tests' start too): every process of a world starts its clock here
DEAL_START = datetime(2021, 4, 12, 10, 0, tzinfo=AMSTERDAM)
PASSWORD = 'bench-wachtwoord-2021'
REQUESTER = 'bzk'


def database_url(scratch, name):
    return f'sqlite:///{Path(scratch) / name}.db'


def city_deal(url, deal_path, at=DEAL_START):
    """The engine on a new database with the deal loaded; its clock stands still at ``at``."""
    app = CityDeal(url=url, clock=FakeClock(at))
    app.init(deal_path)
    return app


def open_amendment(app):
    """A wijziging by BZK with its consultation opened: every other party has a consent task."""
    procedure_id = app.start('wijziging', Caller.operator_as(REQUESTER), {
        'title': 'Werklijn 5: warmte', 'text': 'Voeg werklijn 5 toe.',
        'motivation': 'Nieuwe inzichten uit de proeftuinen.'})['id']
    [opening] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == procedure_id]
    app.complete(opening['id'], Caller.operator_as('projectleider'), {})
    return procedure_id


def email_of(party):
    return f'{party}@bench.example'


def add_accounts(app, parties):
    """One representative's account per party (argon2 at its production cost, as the web app checks it)."""
    for party in parties:
        app.add_user(email_of(party), PASSWORD, party=party)


def clone_procedure(app, template_id, copies, timer_step_seconds=0):
    """``copies`` copies of a procedure row, in one INSERT ... SELECT: starting thousands through the
    engine would take minutes. Each copy gets its own id and subject key; with ``timer_step_seconds``
    the n-th copy's timer falls due n steps after the template's. Returns the copies' ids."""
    with app.engine.begin() as connection:
        before = connection.exec_driver_sql('SELECT coalesce(max(id), 0) FROM procedures').scalar()
        connection.exec_driver_sql(
            """WITH RECURSIVE copy(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copy WHERE n < ?)
               INSERT INTO procedures (deal_id, type, status, outcome, subject_key, initiated_by, request, started_dt,
                                       ended_dt, deadline_dt, next_timer_dt, state, state_format, version)
               SELECT deal_id, type, status, outcome, 'bench-copy:' || id || ':' || n, initiated_by, request,
                      started_dt, ended_dt, deadline_dt,
                      strftime('%Y-%m-%d %H:%M:%S.000000', next_timer_dt, '+' || (n * ?) || ' seconds'),
                      state, state_format, version
               FROM procedures, copy WHERE id = ?""", (copies, timer_step_seconds, template_id))
        return [row[0] for row in connection.exec_driver_sql('SELECT id FROM procedures WHERE id > ? ORDER BY id',
                                                             (before,))]


def plant_timers(app, dues):
    """One notice of withdrawal per party, taking effect at each due time: one real workflow timer each.

    ``start_opzegging`` computes the effective day itself (three months on); the benchmark needs
    chosen instants, so it launches the same model with them, as the scheduler tests do.
    """
    with app.unit_of_work() as uow:
        parties = register.parties(uow.session)
        if len(parties) < len(dues):
            raise ValueError(f'{len(dues)} timers need as many parties; the deal has {len(parties)}')
        for party, due in zip(parties, dues, strict=False):
            request = {'circumstances': 'benchmark', 'received': str(local_date(uow.now)),
                       'effective_date': str(local_date(due))}
            runner.launch(uow.context(Actor('bench', party.code)), registry.get('opzegging'), request,
                          {'party': party.code, 'effective_at': due.isoformat()}, initiated_by=party.code,
                          deadline=due)
        # The notices' own mail belongs to the set-up, not to what is measured after it.
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.status == 'queued').values(status='sent'))
        uow.commit()


def clone_open_task(app, template_task_id, procedure_ids):
    """A copy of an open task row for each of ``procedure_ids`` (copies of the task's procedure)."""
    with app.engine.begin() as connection:
        for procedure_id in procedure_ids:
            connection.exec_driver_sql(
                """INSERT INTO open_tasks (id, procedure_id, name, label, party_code, role, due_dt, opened_dt)
                   SELECT ?, ?, name, label, party_code, role, due_dt, opened_dt FROM open_tasks WHERE id = ?""",
                (str(uuid.uuid4()), procedure_id, template_task_id))
