"""One way to move a procedure: advance its workflow, apply the effects its scripts asked for, save.

Everything a command knows travels in one ``Context``, built by the unit of work; effects receive it
whole, so no effect can find a part of it missing.
"""
from dataclasses import dataclass, replace
from datetime import datetime

from engine import accounts, audit, notices, procedure_store, register, workflow_runtime
from engine import procedures as registry


@dataclass(frozen=True)
class Actor:
    """Who acts (a person) and for whom (a party code, a role, 'applicant' or 'scheduler')."""
    person: str
    acting_for: str
    #: the account that made the command (web or API), recorded in every audit entry it writes
    account_id: int | None = None
    #: the role that registers a party's paper request or notice on its behalf (engine.procedures.paper)
    registered_by: str | None = None
    #: who typed it in, when not ``person``: the operator at the command line (engine.roles.OPERATOR_PERSON)
    entered_by: str | None = None


@dataclass(frozen=True)
class Context:
    """What one command knows: its transaction, the deal, the moment, the clock, who acts, the words."""
    session: object
    deal: object
    now: datetime
    clock: object
    actor: Actor
    renderer: object

    def acting(self, actor):
        return replace(self, actor=actor)


def type_of(procedure):
    return registry.get(procedure.type)


def title(procedure):
    return type_of(procedure).title(procedure)


def launch(ctx, type_, request, data, *, initiated_by=None, subject_key=None, deadline=None, before_run=None):
    """Create a procedure of ``type_`` and run it to its first wait."""
    workflow = workflow_runtime.new_workflow(type_.id, ctx.clock, data)
    procedure = procedure_store.create(ctx.session, ctx.deal, type_.id, request, workflow, ctx.now,
                                       initiated_by=initiated_by, subject_key=subject_key, deadline=deadline)
    record(ctx, procedure, 'procedure_started', {'type': type_.id, 'request': request})
    if before_run:
        before_run(procedure)
    advance(ctx, procedure, workflow)
    return procedure


def apply(ctx, procedure, effects):
    """Run the effects the model's scripts asked for, in order, each with the data its task held."""
    known = type_of(procedure).effects
    for name, data in effects:
        known[name](ctx, procedure, data)


def advance(ctx, procedure, workflow, open_before=None):
    """Fire what is due, run every automatic step, apply the effects, save: in the caller's transaction.

    ``open_before``: the ids of the tasks open when the workflow was loaded, when the caller knows them
    (then the open-task rows need not be read back)."""
    apply(ctx, procedure, workflow_runtime.advance(workflow))
    procedure_store.save(ctx, procedure, workflow, open_before)
    return procedure


def record(ctx, procedure, event, data):
    account = accounts.by_account(ctx.actor)
    if account:
        data = {**(data or {}), **account}
    return audit.append(ctx.session, at=ctx.now, person=ctx.actor.person, acting_for=ctx.actor.acting_for,
                        procedure_id=procedure.id if procedure else None, event=event, data=data)


def tell(ctx, procedure, event, recipients, **context):
    return notices.queue(ctx.session, ctx.now, procedure, event, recipients, deal=ctx.deal,
                         title=title(procedure) if procedure else None, **context)


def tell_everyone(ctx, procedure, event, **context):
    return tell(ctx, procedure, event, notices.everyone(ctx.session, ctx.now), **context)


def term_changed(ctx):
    """The term's end changed: every type that keeps dates derived from it recomputes them."""
    for type_ in registry.all_types():
        if type_.on_term_changed:
            type_.on_term_changed(ctx)


def term_end_deadline(deal):
    return notices.Deadline('deal-term_end', f'Einde looptijd {deal.citeertitel}', register.term_end_instant(deal))
