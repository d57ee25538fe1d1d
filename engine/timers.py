"""Everything that falls due by the clock: workflow timers, reminders, the yearly cycle, the
consultation on continuation and the end of the term.

``tick`` fires what is due as of now, in due order, one transaction each; ``next_due`` tells
the scheduler when to wake. Both read indexed columns only: no workflow is deserialized to
find out what is due.
"""
import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from engine import audit, effects, notices, procedure_store, register, reminders, starting
from engine.dates import AMSTERDAM, shown, start_of_day
from engine.models import Procedure, Reminder
from engine.unit_of_work import Actor

SCHEDULER = Actor('citydeal scheduler', 'scheduler')


@dataclass(frozen=True)
class Fired:
    due: object
    what: str
    procedure_id: int | None

    def __str__(self):
        where = f' (procedure {self.procedure_id})' if self.procedure_id else ''
        return f'{shown(self.due)} {self.what}{where}'


def deal_dates(uow, deal):
    """(due, what, year) of the deal's own dates that have not happened yet."""
    if deal.status != 'active':
        return []
    term_end = register.term_end_instant(deal)
    items = [(term_end, 'term_end', None)]
    if uow.now >= term_end:
        # Catching up after the end: what should have started during the term can no longer start.
        return items
    if not starting.existing_procedure(uow.session, 'voortzetting', f'end:{deal.end_date}'):
        items.append((register.continuation_start_instant(deal), 'continuation_start', None))
    cycle = _next_annual_cycle(uow.session, deal)
    if cycle:
        items.append((start_of_day(cycle[1]), 'annual_cycle_start', cycle[0]))
    # Past the end nothing new starts: anything dated at or after it gives way to the end itself.
    return [item for item in items if item[1] == 'term_end' or item[0] < term_end]


def annual_cycles_to_come(session, deal):
    """(year, start day) of every year in the term whose cycle has not started yet."""
    month_day = register.definition(deal).terms.annual_cycle_start
    if month_day is None:
        return []
    month, day = month_day
    result = []
    for year in range(deal.start_date.year, deal.end_date.year + 1):
        start = max(date(year, month, min(day, calendar.monthrange(year, month)[1])), deal.start_date)
        if start < deal.end_date and not starting.existing_procedure(session, 'jaarcyclus', f'year:{year}'):
            result.append((year, start))
    return result


def _next_annual_cycle(session, deal):
    cycles = annual_cycles_to_come(session, deal)
    return cycles[0] if cycles else None


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
    due += [item for item in deal_dates(uow, deal) if item[0] <= uow.now]
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
    ] + [item[0] for item in deal_dates(uow, deal) if (item[1], item[2]) not in skip]
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
                procedure_id = _FIRE[what](uow, ref)
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


def _fire_timers(uow, procedure_id):
    deal = uow.deal()
    procedure = procedure_store.get(uow.session, procedure_id, for_update=True)
    workflow = procedure_store.load(procedure, uow.clock)
    waiting = {e.name for e in workflow.waiting_events()}
    audit.append(uow.session, at=uow.now, person=SCHEDULER.person, acting_for=SCHEDULER.acting_for,
                 procedure_id=procedure.id, event='timer_fired',
                 # to the microsecond: how late a timer fires is measured against this
                 data={'due': procedure.next_timer_dt.astimezone(AMSTERDAM).isoformat(), 'waiting': sorted(waiting)})
    starting.run(uow, deal, procedure, workflow, SCHEDULER)
    return procedure_id


def _fire_reminder(uow, reminder_id):
    reminder = uow.session.get(Reminder, reminder_id)
    procedure_id = reminder.procedure_id
    reminders.fire(uow.session, uow.now, reminder_id, SCHEDULER)
    return procedure_id


def _start_continuation(uow, _):
    return starting.start_voortzetting(uow, SCHEDULER).id


def _start_annual_cycle(uow, year):
    return starting.start_jaarcyclus(uow, year, actor=SCHEDULER).id


def _end_term(uow, _):
    """Inwerkingtreding en looptijd: without continuation the deal ends; open procedures close."""
    deal = uow.deal()
    deal.status = 'ended'
    deal.ended_dt = register.term_end_instant(deal)
    recipients = notices.everyone(uow.session, uow.now)
    for procedure in uow.session.scalars(select(Procedure).where(Procedure.status == 'running')):
        if procedure.type == 'opzegging':
            # The notice had not yet taken effect, but the party leaves with the deal and still
            # owes the contribution for the year of its notice.
            step = effects.Step(uow.session, deal, procedure, uow.now, SCHEDULER, uow.clock)
            effects.withdraw(step, register.party(uow.session, procedure.initiated_by), deal.end_date)
        procedure_store.cancel(uow.session, procedure, uow.now, SCHEDULER, f'the deal ended on {deal.end_date}')
    audit.append(uow.session, at=uow.now, person=SCHEDULER.person, acting_for=SCHEDULER.acting_for,
                 event='deal_ended', data={'end_date': str(deal.end_date)})
    notices.queue(uow.session, uow.now, None, 'deal_ended', recipients, end_date=deal.end_date)
    return None


_FIRE = {'timer': _fire_timers, 'reminder': _fire_reminder, 'continuation_start': _start_continuation,
         'annual_cycle_start': _start_annual_cycle, 'term_end': _end_term}
