from datetime import datetime
from pathlib import Path

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from citydeal.bootstrap import CityDeal
from engine.clock import FakeClock
from engine.dates import AMSTERDAM

ROOT = Path(__file__).resolve().parent.parent
DEAL_FILE = ROOT / 'deals' / 'energieke-wijken.toml'
#: a Monday inside the term, in Fase 1
START = datetime(2021, 4, 12, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def db_url(tmp_path):
    """A fresh database per test: an SQLite file, or with CITYDEAL_TEST_POSTGRES (an admin URL) a new
    PostgreSQL database, dropped afterwards."""
    admin = os.environ.get('CITYDEAL_TEST_POSTGRES')
    if not admin:
        yield f'sqlite:///{tmp_path / "citydeal.db"}'
        return
    name = f'citydeal_test_{uuid.uuid4().hex[:12]}'
    server = create_engine(admin, isolation_level='AUTOCOMMIT')
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE {name}')
    yield admin.rsplit('/', 1)[0] + '/' + name
    with server.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
    server.dispose()


@pytest.fixture
def app(db_url, clock):
    """The engine on a real SQLite file; every command saves and the next one reloads from it."""
    instance = CityDeal(url=db_url, clock=clock)
    instance.init(DEAL_FILE)
    yield instance
    instance.close()


def snapshot(app):
    """Every row of every table, to prove a refused command changed nothing."""
    with app.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return {t: connection.execute(text(f'SELECT * FROM {t} ORDER BY 1')).fetchall() for t in tables}


def one_task(app, name=None, **who):
    tasks = [t for t in app.tasks(**who) if name is None or t['name'] == name]
    assert len(tasks) == 1, tasks
    return tasks[0]


#: what the scheduler fires on its own around the procedures a test is about
BACKGROUND = ('annual_cycle_start', 'reminder')


def fired(app):
    """What a tick fired, leaving out the yearly cycles and reminders that fall due on the way."""
    return [f.what for f in app.tick() if f.what not in BACKGROUND]


def open_consultation(app, procedure_id):
    [task] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == procedure_id]
    assert task['name'] in ('consultatie_openen', 'criteria_toetsen')
    values = {} if task['name'] == 'consultatie_openen' else {'complete': 'true'}
    app.complete(task['id'], 'projectleider', values)


def answer(app, party, decision='consent', statement=None):
    task = one_task(app, party=party)
    values = {'decision': decision}
    if statement is not None:
        values['statement'] = statement
    return app.complete(task['id'], party, values)


def consent_all(app, procedure_id, except_=()):
    result = None
    for task in app.tasks():
        if task['procedure_id'] == procedure_id and task['party'] and task['party'] not in except_:
            result = app.complete(task['id'], task['party'], {'decision': 'consent',
                                                              'statement': f"{task['party']} stemt in"})
    return result


def start_amendment(app, by='bzk', **extra):
    return app.start_wijziging(by=by, title='Werklijn 5: warmte', text='Voeg werklijn 5 toe.',
                               motivation='Nieuwe inzichten uit de proeftuinen.', **extra)['id']
