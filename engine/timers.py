"""``tick``: fire everything due as of now, in due order, one transaction each."""
from dataclasses import dataclass

from sqlalchemy import select

from engine import audit, effects, notices, procedure_store, register, starting
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
        term_end = register.term_end_instant(deal)
        continuation = register.continuation_start_instant(deal)
        if uow.now >= term_end:
            # Past the end nothing new starts: a consultation on continuation would come too late.
            due.append((term_end, 'term_end', None))
        elif uow.now >= continuation and not starting.existing_procedure(uow.session, 'voortzetting',
                                                                           f'end:{deal.end_date}'):
            due.append((continuation, 'continuation_start', None))
    return sorted(due, key=lambda d: d[0])


def tick(unit_of_work, on_fired=None):
    """Fire each due item in its own transaction; return what fired.

    ``on_fired`` hears of each item once it is committed, so that a caller can report progress
    even when a later item fails.
    """
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
            if on_fired:
                on_fired(fired[-1])


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
        if procedure.type == 'opzegging':
            # The notice had not yet taken effect, but the party leaves with the deal and still
            # owes the contribution for the year of its notice.
            step = effects.Step(uow.session, deal, procedure, uow.now, SCHEDULER, uow.clock)
            effects.withdraw(step, register.party(uow.session, procedure.initiated_by), deal.end_date)
        procedure_store.cancel(uow.session, procedure, uow.now, SCHEDULER, f'the deal ended on {deal.end_date}')
    audit.append(uow.session, at=uow.now, person=SCHEDULER.person, acting_for=SCHEDULER.acting_for,
                 event='deal_ended', data={'end_date': str(deal.end_date)})
    notices.queue(uow.session, uow.now, None, 'deal_ended', notices.everyone(uow.session, uow.now),
                  f'{deal.citeertitel} is geëindigd', f'De City Deal is geëindigd op {deal.end_date}.\n')
