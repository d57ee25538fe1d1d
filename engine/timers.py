"""``tick``: fire everything due as of now, in due order, one transaction each."""
from dataclasses import dataclass

from sqlalchemy import select

from engine import audit, notices, procedure_store, register, starting
from engine.dates import shown
from engine.models import Procedure
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


def due_now(uow):
    """What is due, from indexed columns only: no workflow is deserialized to find it."""
    deal = uow.deal()
    due = [(p.next_timer_dt, 'timer', p.id) for p in uow.session.execute(
        select(Procedure.id, Procedure.next_timer_dt).where(Procedure.status == 'running',
                                                             Procedure.next_timer_dt <= uow.now))]
    if deal.status == 'active':
        continuation = register.continuation_start_instant(deal)
        if uow.now >= continuation and not starting.existing_procedure(uow.session, 'voortzetting', f'end:{deal.end_date}'):
            due.append((continuation, 'continuation_start', None))
        if uow.now >= register.term_end_instant(deal):
            due.append((register.term_end_instant(deal), 'term_end', None))
    return sorted(due, key=lambda d: (d[0], d[1] == 'term_end'))


def tick(unit_of_work):
    """Fire each due item in its own transaction; return what fired."""
    fired, seen = [], set()
    while True:
        with unit_of_work() as uow:
            due = due_now(uow)
            if not due:
                return fired
            when, what, procedure_id = due[0]
            if due[0] in seen:
                raise RuntimeError(f'{what} due {shown(when)} is still due after it fired (procedure {procedure_id})')
            seen.add(due[0])
            if what == 'timer':
                _fire_timers(uow, procedure_id)
            elif what == 'continuation_start':
                starting.start_voortzetting(uow, SCHEDULER)
            else:
                _end_term(uow)
            uow.commit()
            fired.append(Fired(when, what, procedure_id))


def _fire_timers(uow, procedure_id):
    deal = uow.deal()
    procedure = procedure_store.get(uow.session, procedure_id)
    workflow = procedure_store.load(procedure, uow.clock)
    waiting = {e.name for e in workflow.waiting_events()}
    audit.append(uow.session, at=uow.now, person=SCHEDULER.person, acting_for=SCHEDULER.acting_for,
                 procedure_id=procedure.id, event='timer_fired',
                 data={'due': shown(procedure.next_timer_dt), 'waiting': sorted(waiting)})
    starting.run(uow, deal, procedure, workflow, SCHEDULER)


def _end_term(uow):
    """Inwerkingtreding en looptijd: without continuation the deal ends; open procedures close."""
    deal = uow.deal()
    deal.status = 'ended'
    deal.ended_dt = register.term_end_instant(deal)
    for procedure in uow.session.scalars(select(Procedure).where(Procedure.status == 'running')):
        procedure_store.cancel(uow.session, procedure, uow.now, SCHEDULER, f'the deal ended on {deal.end_date}')
    audit.append(uow.session, at=uow.now, person=SCHEDULER.person, acting_for=SCHEDULER.acting_for,
                 event='deal_ended', data={'end_date': str(deal.end_date)})
    notices.queue(uow.session, uow.now, None, 'deal_ended', notices.everyone(uow.session, uow.now),
                  f'{deal.citeertitel} is geëindigd', f'De City Deal is geëindigd op {deal.end_date}.\n')
