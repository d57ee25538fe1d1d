"""Saving and loading procedures: the serialized workflow plus the rows that make it queryable."""
from sqlalchemy import delete, select

from engine import audit, notices, register, reminders, workflow_runtime
from engine import procedures as registry
from engine.errors import NotFound
from engine.models import OpenTask, Procedure

#: procedure ids are INTEGER columns (32 bits on PostgreSQL): a larger id cannot exist, and asking
#: the database for one would be an error instead of "not found"
MAX_ID = 2 ** 31 - 1


def get(session, procedure_id, for_update=False):
    """One procedure; ``for_update`` locks its row for the rest of the transaction, so that commands on
    the same procedure queue instead of colliding (PostgreSQL; SQLite's writers queue anyway)."""
    found = session.get(Procedure, procedure_id, with_for_update=for_update) if 0 < procedure_id <= MAX_ID else None
    if found is None:
        raise NotFound.one('procedure.not_found', 'procedure', id=procedure_id)
    return found


def create(session, deal, type_, request, workflow, now, initiated_by=None, subject_key=None, deadline=None):
    procedure = Procedure(deal_id=deal.id, type=type_, status='running', request=request, started_dt=now,
                          initiated_by=initiated_by, subject_key=subject_key, deadline_dt=deadline,
                          state=workflow_runtime.dump(workflow), state_format=workflow_runtime.STATE_FORMAT)
    session.add(procedure)
    session.flush()
    return procedure


def load(procedure, clock):
    return workflow_runtime.load(procedure.state, clock)


def save(ctx, procedure, workflow, open_before=None):
    """Store the workflow and bring status, timers and open-task rows in line with it."""
    session, now, actor = ctx.session, ctx.now, ctx.actor
    procedure.state = workflow_runtime.dump(workflow)
    procedure.state_format = workflow_runtime.STATE_FORMAT
    procedure.next_timer_dt = workflow_runtime.next_timer(workflow) if procedure.status != 'cancelled' else None
    if procedure.status == 'cancelled':  # cancelled by its own step (the deal ended): no task opens
        return session.flush()
    if workflow.is_completed() and procedure.status == 'running':
        procedure.status = 'completed'
        procedure.outcome = workflow.data.get('outcome')
        procedure.ended_dt = now
        procedure.next_timer_dt = None
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, procedure_id=procedure.id,
                     event='procedure_completed', data={'type': procedure.type, 'outcome': procedure.outcome})
    _sync_open_tasks(ctx, procedure, workflow, open_before)
    session.flush()


def cancel(session, procedure, now, actor, reason):
    procedure.status = 'cancelled'
    procedure.ended_dt = now
    procedure.next_timer_dt = None
    open_ids = session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id)).all()
    reminders.drop(session, open_ids)
    session.execute(delete(OpenTask).where(OpenTask.procedure_id == procedure.id))
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, procedure_id=procedure.id,
                 event='procedure_cancelled', data={'reason': reason})


def _sync_open_tasks(ctx, procedure, workflow, open_before):
    session = ctx.session
    # Ids only: a consent closes one task of a round that may have a thousand open.
    existing = set(open_before) if open_before is not None else set(
        session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id)))
    ready = {str(t.id): t for t in workflow_runtime.ready_tasks(workflow)}
    closed = existing - ready.keys()
    if closed:
        session.execute(delete(OpenTask).where(OpenTask.id.in_(closed)))
        reminders.drop(session, closed)
    opened = ready.keys() - existing
    if not opened:
        return
    type_ = registry.get(procedure.type)
    deal_definition = register.definition(ctx.deal)
    for task_id in sorted(opened, key=lambda i: _order(ready[i])):
        task = ready[task_id]
        party_code, role = workflow_runtime.task_owner(task)
        due = type_.due_dt(ctx, procedure, task.task_spec.bpmn_id)
        row = OpenTask(id=task_id, procedure_id=procedure.id, name=task.task_spec.bpmn_id,
                       label=task.task_spec.bpmn_name, party_code=party_code, role=role, due_dt=due,
                       opened_dt=ctx.now)
        session.add(row)
        reminders.plan(session, deal_definition, procedure, row)
        _announce(ctx, type_, procedure, row)


def _order(task):
    return (task.task_spec.bpmn_id, task.data.get('party') or '')


def _announce(ctx, type_, procedure, row):
    title = type_.title(procedure)
    deadline = type_.deadline(procedure) if row.due_dt else None
    if row.party_code:
        notices.queue(ctx.session, ctx.now, procedure, 'consultation_opened', [row.party_code], deal=ctx.deal,
                      title=title, due=row.due_dt, task_id=row.id, summary=type_.summary(procedure),
                      deadlines=[deadline] if deadline else [])
    else:
        notices.queue(ctx.session, ctx.now, procedure, 'task_opened', [row.role], deal=ctx.deal, title=title,
                      label=row.label, due=row.due_dt, task_id=row.id, deadlines=[deadline] if deadline else [])
