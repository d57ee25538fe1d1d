"""Reminders and escalations on the fake clock: on time, once, and never to a party that answered."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from citydeal.bootstrap import CityDeal
from engine import reminders as reminders_module
from engine.dates import AMSTERDAM
from engine.models import OutboxMessage, Reminder
from engine.timers import SCHEDULER
from tests.conftest import (
    answer, complete_task, consent_all, one_task, open_consultation, start_amendment, start_procedure)


def outbox(app, event):
    with app.engine.connect() as connection:
        return connection.execute(text('SELECT recipient, subject, created_dt FROM outbox WHERE event = :e ORDER BY id'),
                                  {'e': event}).fetchall()


def at(*args):
    return datetime(*args, tzinfo=AMSTERDAM)


@pytest.fixture
def consultation(app):
    """Opened on 12 April 2021; the deadline is 24 May 2021, 23:59:59."""
    pid = start_amendment(app)
    open_consultation(app, pid)
    return pid


def test_reminders_14_and_2_days_before_to_those_who_have_not_answered(app, clock, consultation):
    consent_all(app, consultation, except_=('tiwos', 'zayaz'))
    clock.set(at(2021, 5, 10, 8, 59))
    app.tick()
    assert outbox(app, 'reminder') == []
    clock.set(at(2021, 5, 10, 9, 0, 1))
    app.tick()
    first = outbox(app, 'reminder')
    assert sorted(r[0] for r in first) == ['tiwos', 'zayaz']
    assert first[0][1] == 'Herinnering: uw instemming gevraagd, uiterlijk 24 mei 2021: Werklijn 5: warmte'
    answer(app, 'tiwos')
    clock.set(at(2021, 5, 22, 9, 30))
    app.tick()
    assert [r[0] for r in outbox(app, 'reminder')] == ['tiwos', 'zayaz', 'zayaz']


def test_a_tick_told_to_stop_leaves_the_rest_due_for_the_next(app, clock, consultation):
    app.tick()  # the year's cycle, due since the deal began
    clock.set(at(2021, 5, 10, 9, 0, 1))
    asks = iter([False, False, True])
    first = app.tick(stopping=lambda: next(asks))
    assert len(first) == 2
    rest = app.tick()
    assert [f.due for f in first + rest] == sorted(f.due for f in first + rest)  # the same order, resumed
    assert len(outbox(app, 'reminder')) == 16 and app.tick() == []


def reminder_ids(app):
    with app.engine.connect() as connection:
        return connection.execute(text('SELECT id FROM reminders')).scalars().all()


def test_a_fired_reminders_id_is_never_given_to_another(app, clock, consultation):
    """The scheduler knows a due reminder by its id: a new one with an old id would look like the old
    one still due after it fired (seen with SQLite, which reused the highest id once it was deleted)."""
    app.tick()
    used = max(reminder_ids(app))
    clock.set(at(2021, 5, 24, 9, 0, 1))
    app.tick()
    # issue 11: the yearly cycle's tasks have due dates now, and their reminders at them are still to come
    waiting = set(reminder_ids(app))
    open_consultation(app, start_amendment(app))
    assert min(set(reminder_ids(app)) - waiting) > used


def test_no_reminder_after_the_deadline_even_when_the_scheduler_was_down(app, clock, consultation):
    consent_all(app, consultation, except_=('tiwos',))
    clock.set(at(2021, 5, 25, 9, 0))  # both reminder moments and the deadline passed while nobody ticked
    app.tick()
    assert outbox(app, 'reminder') == []
    [escalation] = outbox(app, 'escalation')
    assert escalation[0] == 'projectleider'
    with app.engine.connect() as connection:
        body = connection.execute(text("SELECT body_text FROM outbox WHERE event = 'escalation'")).scalar()
    assert 'Nog geen antwoord van: Tiwos' in body


def test_an_answer_between_planning_and_sending_cancels_the_reminder(app, clock, consultation):
    with app.unit_of_work() as uow:
        planned = uow.session.scalars(select(Reminder.id).where(Reminder.recipient == 'weert')).all()
    assert len(planned) == 2
    answer(app, 'weert')
    with app.unit_of_work() as uow:
        assert uow.session.scalars(select(Reminder).where(Reminder.recipient == 'weert')).all() == []
        # a scheduler that had read the reminder before the answer fires it after: nothing is sent
        assert reminders_module.fire(uow.session, clock.now(), planned[0], SCHEDULER) is None
    clock.set(at(2021, 5, 23, 9, 0))
    app.tick()
    assert 'weert' not in [r[0] for r in outbox(app, 'reminder')]


def test_each_reminder_once_whatever_fires_it_and_across_restarts(app, app_url, clock, consultation):
    clock.set(at(2021, 5, 10, 9, 5))
    app.tick()
    app.close()
    restarted = CityDeal(url=app_url, clock=clock)
    assert [f.what for f in restarted.tick()] == []
    clock.set(at(2021, 5, 22, 9, 5))
    restarted.tick()
    restarted.tick()
    sent = [r[0] for r in outbox(restarted, 'reminder')]
    assert len(sent) == 32 and len(set(sent)) == 16
    with restarted.unit_of_work() as uow:
        keys = uow.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.event == 'reminder')).all()
    assert len(set(keys)) == 32
    restarted.close()


def test_double_firing_sends_once(app, clock, consultation):
    """A second scheduler that read the due reminder before the first deleted it: the outbox key holds."""
    clock.set(at(2021, 5, 10, 9, 5))
    with app.unit_of_work() as uow:
        reminder = uow.session.scalars(select(Reminder).where(Reminder.recipient == 'arnhem')
                                       .order_by(Reminder.due_dt)).first()
        copy = {c: getattr(reminder, c) for c in ('procedure_id', 'task_id', 'kind', 'recipient', 'due_dt',
                                                  'deadline_dt', 'dedupe_key')}
        assert reminders_module.fire(uow.session, clock.now(), reminder.id, SCHEDULER)
        uow.commit()
    with app.unit_of_work() as uow:
        stale = Reminder(**copy)
        uow.session.add(stale)
        uow.session.flush()
        assert reminders_module.fire(uow.session, clock.now(), stale.id, SCHEDULER) == []
        uow.commit()
    assert [r[0] for r in outbox(app, 'reminder')] == ['arnhem']


def test_an_extended_deadline_gets_reminders_of_its_own(app, clock, consultation):
    consent_all(app, consultation, except_=('zayaz',))
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    decide = one_task(app, role='projectleider', name='verlengen_of_afsluiten')
    complete_task(app, decide['id'], 'projectleider', {'choice': 'extend', 'new_deadline': '2021-06-30', 'reason': 'Reces'})
    for day in (16, 28):  # 14 and 2 days before the new deadline
        clock.set(at(2021, 6, day, 9, 1))
        app.tick()
    sent = outbox(app, 'reminder')
    assert [r[0] for r in sent] == ['zayaz', 'zayaz']
    assert all('30 juni 2021' in r[1] for r in sent)


def test_catching_up_sends_only_the_latest_reminder_of_a_task(app, clock, consultation):
    consent_all(app, consultation, except_=('zayaz',))
    clock.set(at(2021, 5, 22, 9, 1))  # both the 14-day and the 2-day reminder fell due unseen
    app.tick()
    [reminder] = outbox(app, 'reminder')
    assert reminder[0] == 'zayaz'


def test_reminders_go_out_at_nine_in_amsterdam_across_the_clock_change(app, clock):
    clock.set(at(2021, 10, 3, 10, 0))  # deadline 14 November: 14 days before is 31 October, the change itself
    pid = start_amendment(app)
    open_consultation(app, pid)
    with app.unit_of_work() as uow:
        dues = {r.due_dt.astimezone(AMSTERDAM).isoformat()
                for r in uow.session.scalars(select(Reminder).where(Reminder.kind == 'before_deadline'))}
    assert dues == {'2021-10-31T09:00:00+01:00', '2021-11-12T09:00:00+01:00'}


def test_an_open_task_of_the_projectleider_is_reminded_after_a_week(app, clock):
    start_amendment(app)
    clock.set(clock.now() + timedelta(days=7, minutes=1))
    app.tick()
    overdue = [r for r in outbox(app, 'overdue')]
    assert [r[0] for r in overdue] == ['projectleider']
    app.tick()
    assert len(outbox(app, 'overdue')) == 1


@pytest.mark.rule('Jaarcyclus: projectleider evaluates every year with Agenda Stad, on two levels')
def test_each_year_s_cycle_starts_by_itself_once(app, clock):
    assert [f.what for f in app.tick()] == ['annual_cycle_start']  # 2021: due since the deal began
    clock.set(at(2022, 1, 14, 23, 59))
    assert 'annual_cycle_start' not in [f.what for f in app.tick()]
    clock.set(at(2022, 1, 15, 0, 0, 1))
    assert 'annual_cycle_start' in [f.what for f in app.tick()]
    cycles = [p for p in app.procedures() if p['type'] == 'jaarcyclus']
    assert [c['title'] for c in cycles] == ['Jaarcyclus 2021', 'Jaarcyclus 2022']
    assert app.tick() == []


def test_a_cycle_the_projectleider_started_early_is_not_started_again(app, clock):
    app.tick()
    clock.set(at(2021, 12, 1, 9, 0))
    start_procedure(app, 'jaarcyclus', year=2022)
    clock.set(at(2022, 1, 16, 9, 0))
    assert 'annual_cycle_start' not in [f.what for f in app.tick()]


def test_a_missed_accession_deadline_is_escalated_too(app, clock):
    pid = start_procedure(app, 'toetreding', applicant='Gemeente Eindhoven', kind='gemeente', representative='R. Thijs',
                               contribution='EUR 10.000 per jaar', endorses_goals=True, email='info@eindhoven.example')['id']
    open_consultation(app, pid)
    consent_all(app, pid, except_=('bzk',))
    clock.set(at(2021, 5, 25, 9, 0))
    app.tick()
    [escalation] = outbox(app, 'escalation')
    assert escalation[1].startswith('Termijn verstreken zonder alle antwoorden')


def test_an_item_that_fails_to_fire_holds_up_nothing_else(app, clock, monkeypatch):
    from engine import timers
    pid = start_amendment(app)
    open_consultation(app, pid)
    start_procedure(app, 'opzegging', by='zeist', circumstances='Herindeling.')  # takes effect 12 July
    real = reminders_module.fire

    def broken(session, now, reminder_id, actor):
        raise RuntimeError('template broken')
    monkeypatch.setattr(reminders_module, 'fire', broken)
    clock.set(at(2021, 8, 1, 9, 0))
    with pytest.raises(timers.TickFailed) as failed:
        app.tick()
    assert {what for (_, what, _), _ in failed.value.failures} == {'reminder'}
    zeist = next(p for p in app.parties() if p['code'] == 'zeist')
    assert zeist['status'] == 'withdrawn'  # the notice took effect although reminders before it failed
    monkeypatch.setattr(reminders_module, 'fire', real)
    app.tick()


def test_an_unopened_consultation_reminds_the_projectleider_at_its_deadline(app, clock):
    start_amendment(app)
    clock.set(at(2021, 4, 19, 10, 1))
    app.tick()
    clock.set(at(2021, 5, 25, 0, 1))
    app.tick()
    with app.engine.connect() as connection:
        rows = connection.execute(text("SELECT dedupe_key FROM outbox WHERE event = 'overdue' AND procedure_id = 1")
                                  ).scalars().all()
    assert len(rows) == 2  # a week after it opened, and at the consultation deadline
    assert any(key.startswith('overdue-at-deadline:') for key in rows)
