"""Everything that falls due by the clock: workflow timers, reminders, the yearly cycle, the
consultation on continuation and the end of the term.

``tick`` fires what is due as of now, in due order, one transaction each; ``next_due`` tells
the scheduler when to wake. Both read indexed columns only: no workflow is deserialized to
find out what is due.
"""
from dataclasses import dataclass

from sqlalchemy import func, select

from engine import ending, procedure_store, register, reminders, runner
from engine import procedures as registry
from engine.dates import shown, zone
from engine.models import Procedure, Reminder
from engine.roles import SCHEDULER as SCHEDULER_NAME
from engine.runner import Actor

SCHEDULER = Actor('citydeal scheduler', SCHEDULER_NAME)
TERM_END = 'term_end'


@dataclass(frozen=True)
class Fired:
    due: object
    what: str
    procedure_id: int | None

    def __str__(self):
        where = f' (procedure {self.procedure_id})' if self.procedure_id else ''
        return f'{shown(self.due)} {self.what}{where}'


def deal_dates(session, now, deal):
    """(due, what, ref) of the deal's own moments still to come: the end of the term, and the next
    start of each procedure type that starts by itself."""
    if deal.status != 'active':
        return []
    term_end = register.term_end_instant(deal)
    items = [(term_end, TERM_END, None)]
    if now >= term_end:
        # Catching up after the end: what should have started during the term can no longer start.
        return items
    for _, auto in registry.auto_starts():
        upcoming = auto.upcoming(session, deal)
        if upcoming:
            when, ref = upcoming[0]
            items.append((when, auto.what, ref))
    # Past the end nothing new starts: anything dated at or after it gives way to the end itself.
    return [item for item in items if item[1] == TERM_END or item[0] < term_end]


class TickFailed(Exception):
    """Some due items could not fire; the others did. Each failure is kept with its error."""

    def __init__(self, failures):
        self.failures = failures
        super().__init__('; '.join(f'{what} {ref}: {type(error).__name__}: {error}'
                                   for (_, what, ref), error in failures))


def due_now(uow, skip=frozenset()):
    deal = uow.deal()
    due = [(when, 'timer', pid) for pid, when in uow.session.execute(
        select(Procedure.id, Procedure.next_timer_dt).where(Procedure.status == 'running',
                                                             Procedure.next_timer_dt <= uow.now))]
    due += [(when, 'reminder', rid) for rid, when in uow.session.execute(
        select(Reminder.id, Reminder.due_dt).where(Reminder.due_dt <= uow.now))]
    due += [item for item in deal_dates(uow.session, uow.now, deal) if item[0] <= uow.now]
    return sorted((item for item in due if (item[1], item[2]) not in skip), key=lambda d: d[0])


def next_due(uow, skip=frozenset()):
    """The earliest moment anything falls due, past or future, or None; ``skip`` lists (what, ref) items
    that failed and wait for another try, so that they do not hide what comes after them."""
    deal = uow.deal()
    timers_ = select(Procedure.id, Procedure.next_timer_dt).where(Procedure.status == 'running',
                                                                 Procedure.next_timer_dt.is_not(None))
    reminders_ = select(Reminder.id, Reminder.due_dt)
    skipped = {kind: [ref for what, ref in skip if what == kind] for kind in ('timer', 'reminder')}
    if skipped['timer']:
        timers_ = timers_.where(Procedure.id.not_in(skipped['timer']))
    if skipped['reminder']:
        reminders_ = reminders_.where(Reminder.id.not_in(skipped['reminder']))
    candidates = [
        uow.session.scalar(select(func.min(timers_.subquery().c.next_timer_dt))),
        uow.session.scalar(select(func.min(reminders_.subquery().c.due_dt))),
    ] + [item[0] for item in deal_dates(uow.session, uow.now, deal) if (item[1], item[2]) not in skip]
    candidates = [c for c in candidates if c is not None]
    return min(candidates) if candidates else None


def tick(unit_of_work, on_fired=None, skip=frozenset(), stopping=lambda: False):
    """Fire each due item in its own transaction, in due order; return what fired.

    ``on_fired`` hears of each item once it is committed. An item that fails is rolled back and
    passed over, so that it does not hold up the others; the failures are raised together at the
    end (TickFailed), each with its error. Between items it asks ``stopping``: a process told to
    stop after a long pause leaves the rest of its backlog to the next tick, in the same order.
    """
    fired, seen, failures = [], set(), []
    while not stopping():
        with unit_of_work() as uow:
            due = due_now(uow, skip | {(f[0][1], f[0][2]) for f in failures})
            if not due:
                break
            when, what, ref = due[0]
            if due[0] in seen:
                raise RuntimeError(f'{what} due {shown(when)} is still due after it fired ({ref})')
            seen.add(due[0])
            try:
                procedure_id = _fire(uow, what, ref)
                uow.commit()
            except Exception as error:  # noqa: BLE001 - kept and raised below, with the others
                failures.append((due[0], error))
                continue
        fired.append(Fired(when, what, procedure_id))
        if on_fired:
            on_fired(fired[-1])
    if failures:
        raise TickFailed(failures)
    return fired


def _fire(uow, what, ref):
    if what in _FIRE:
        return _FIRE[what](uow, ref)
    auto = next(auto for _, auto in registry.auto_starts() if auto.what == what)
    return auto.start(uow.context(SCHEDULER), ref).id


def _fire_timers(uow, procedure_id):
    ctx = uow.context(SCHEDULER)
    procedure = procedure_store.get(uow.session, procedure_id, for_update=True)
    workflow = procedure_store.load(procedure, uow.clock)
    waiting = {e.name for e in workflow.waiting_events()}
    runner.record(ctx, procedure, 'timer_fired', {
        # to the microsecond: how late a timer fires is measured against this
        'due': procedure.next_timer_dt.astimezone(zone()).isoformat(), 'waiting': sorted(waiting)})
    runner.advance(ctx, procedure, workflow)
    return procedure_id


def _fire_reminder(uow, reminder_id):
    reminder = uow.session.get(Reminder, reminder_id)
    procedure_id = reminder.procedure_id
    reminders.fire(uow.session, uow.now, reminder_id, SCHEDULER)
    return procedure_id


def _end_term(uow, _):
    """Inwerkingtreding en looptijd lid 1: without continuation the deal ends; open procedures close."""
    deal = uow.deal()
    ending.end_deal(uow.context(SCHEDULER), ending.TERM_ENDED, deal.end_date)
    return None


_FIRE = {'timer': _fire_timers, 'reminder': _fire_reminder, TERM_END: _end_term}
