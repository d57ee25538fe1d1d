"""Stored state: round trips change nothing, old blobs still load, the schema matches, lookups stay cheap."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from citydeal.bootstrap import CityDeal
from engine import procedures as registry
from engine import timers, workflow_runtime
from engine.clock import FakeClock, SystemClock
from engine.errors import CommandRefused, Conflict
from engine.models import Base, Procedure
from tests.conftest import (
    DEAL_FILE, complete_task, consent_all, one_task, open_consultation, snapshot, start_amendment,
    start_procedure)

DATA = Path(__file__).parent.parent / 'data'


def stored_state(app, pid):
    with app.unit_of_work() as uow:
        return uow.session.get(Procedure, pid).state


def test_a_save_restore_round_trip_mid_procedure_changes_nothing(app, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('tiwos', 'zayaz'))
    state = stored_state(app, pid)
    again = workflow_runtime.dump(workflow_runtime.load(state, clock))
    assert json.loads(again) == json.loads(state)


def test_a_new_process_picks_up_where_the_last_one_stopped(app, app_url, clock):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('tiwos',))
    app.close()
    restarted = CityDeal(url=app_url, clock=clock)
    task = one_task(restarted, party='tiwos')
    assert complete_task(restarted, task['id'], 'tiwos', {'decision': 'consent'})['outcome'] == 'adopted'
    restarted.close()


def test_a_stored_state_of_serializer_format_1_5_still_runs(app, clock):
    """tests/data keeps a blob as written by format 1.5; later formats must still read it."""
    blob = (DATA / 'wijziging-mid-consultation-format-1.5.json').read_text()
    workflow = workflow_runtime.load(blob, clock)
    ready = workflow_runtime.ready_tasks(workflow)
    assert sorted(t.data['party'] for t in ready) == ['tiwos', 'zayaz']
    for task in ready:
        task.data['answer'] = {'party': task.data['party'], 'decision': 'consent'}
        task.run()
        effects_ = workflow_runtime.advance(workflow)
    assert workflow.is_completed() and workflow.data['outcome'] == 'adopted'
    assert [name for name, _ in effects_] == ['amendment_adopted']


def test_migrations_build_exactly_the_models(app):
    with app.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_listing_tasks_and_finding_due_timers_never_deserializes(app, clock, monkeypatch):
    pid = start_amendment(app)
    open_consultation(app, pid)
    start_procedure(app, 'opzegging', by='tiwos', circumstances='Fusie.')

    def refuse(*args, **kwargs):
        raise AssertionError('a listing deserialized a workflow')
    monkeypatch.setattr(workflow_runtime, 'load', refuse)
    assert len(app.tasks()) == 17
    assert len(app.procedures()) == 2
    clock.set(clock.now() + timedelta(days=200))
    with app.unit_of_work() as uow:
        due = [what for _, what, _ in timers.due_now(uow)]
        assert timers.next_due(uow) <= clock.now()
    assert due.count('timer') == 2 and 'reminder' in due


@pytest.mark.rule('One command = one transaction')
def test_a_failure_mid_command_saves_nothing(app, monkeypatch):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid, except_=('platform31',))
    effects = registry.get('wijziging').effects
    real = effects['amendment_adopted']

    def adopt_then_fail(ctx, procedure, data):
        real(ctx, procedure, data)
        raise RuntimeError('disk full')
    monkeypatch.setitem(effects, 'amendment_adopted', adopt_then_fail)
    before = snapshot(app)
    task = one_task(app, party='platform31')
    with pytest.raises(RuntimeError, match='disk full'):
        complete_task(app, task['id'], 'platform31', {'decision': 'consent'})
    assert snapshot(app) == before
    monkeypatch.setitem(effects, 'amendment_adopted', real)
    assert complete_task(app, task['id'], 'platform31', {'decision': 'consent'})['outcome'] == 'adopted'


def test_a_stale_write_is_a_conflict_not_an_overwrite(app):
    pid = start_amendment(app)
    with pytest.raises(Conflict):
        with app.unit_of_work() as uow:
            procedure = uow.session.get(Procedure, pid)
            # another writer commits a change between our read and our write
            uow.session.execute(text('UPDATE procedures SET version = version + 1 WHERE id = :id'), {'id': pid})
            procedure.outcome = 'overwritten'
            uow.commit()
    assert app.show(pid)['outcome'] is None


def test_outbox_messages_are_written_with_the_change(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    with app.engine.connect() as connection:
        rows = connection.execute(text('SELECT event, recipient, to_address FROM outbox ORDER BY id')).fetchall()
    assert [r[1] for r in rows if r[0] == 'request_registered'] == ['projectleider', 'secretaris']
    opened = [r for r in rows if r[0] == 'consultation_opened']
    assert len(opened) == 16 and ('consultation_opened', 'zeist', 'zeist@energieke-wijken.example') in opened


def test_init_twice_changes_nothing_and_a_different_file_is_refused(app, tmp_path):
    before = snapshot(app)
    assert app.init(DEAL_FILE) == ('energieke-wijken', 'unchanged')
    assert snapshot(app) == before
    other = tmp_path / 'other.toml'
    other.write_text(DEAL_FILE.read_text().replace('end = 2024-04-01', 'end = 2024-05-01'))
    with pytest.raises(CommandRefused, match='different file'):
        app.init(other)
    assert snapshot(app) == before


def test_the_clock_can_be_set_for_demos_and_refuses_a_naive_time():
    clock = SystemClock.from_environment({'CITYDEAL_NOW': '2021-04-12T10:00:00+02:00'})
    assert abs(clock.now() - datetime(2021, 4, 12, 8, 0, tzinfo=timezone.utc)) < timedelta(seconds=5)
    with pytest.raises(CommandRefused, match='CITYDEAL_NOW'):
        SystemClock.from_environment({'CITYDEAL_NOW': '2021-04-12 10:00'})
    with pytest.raises(ValueError):
        FakeClock(datetime(2021, 1, 1))
