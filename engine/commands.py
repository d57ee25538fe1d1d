"""The two commands every adapter gives: start a procedure, complete a task. Each decides the rights
(engine.rights), checks the input by the type's schema, then moves the workflow (engine.runner)."""
from dataclasses import replace
from types import SimpleNamespace

from sqlalchemy import select

from engine import (confirmations, documents, procedure_store, register, rights, roles, rules, runner, texts,
                    workflow_runtime)
from engine import procedures as registry
from engine.errors import CommandRefused, NotFound
from engine.models import Answer, Deal, OpenTask, Party, Procedure
from engine.procedures import consent_round, fields, paper


def start(ctx, type_id, caller, raw, attachments=documents.NONE):
    """Start a procedure of ``type_id`` from the raw values of its start schema; ``attachments``
    (engine.documents.Attachments) are attached to it as its ``request``, in the same transaction."""
    type_ = registry.get(type_id)
    register.require_in_force(ctx.deal, ctx.now)
    actor = rights.start_actor(ctx, caller, type_)
    rights.check_received(caller, raw)
    schema = type_.start_schema_for(ctx.deal) if type_.start_schema_for else type_.start_schema
    try:
        values, problems = fields.read(schema, raw, type_.rule), []
    except CommandRefused as refused:
        values, problems = None, list(refused.problems)
    if paper.on_paper(type_):
        # every problem at once: the day received is checked with the other fields, not after them
        problems += paper.received_problems(ctx.acting(actor) if actor else ctx, raw, type_.rule)
    if problems:
        raise CommandRefused(problems)
    attachments.check(type_.document_purpose)
    if actor is None and caller.account_id is not None:
        # a public request made with an account: the applicant acts, the account is recorded
        ctx = ctx.acting(runner.Actor(None, None, caller.account_id))
    ctx = ctx.acting(actor) if actor else ctx
    if caller.operator:
        # a paper request or notice typed in at the command line: the operator entered it (engine.procedures.paper)
        ctx = ctx.acting(replace(ctx.actor, entered_by=roles.OPERATOR_PERSON))
    procedure = type_.start(ctx, values)
    ctx.session.flush()
    attachments.attach(ctx, procedure.id, type_.document_purpose)
    return procedure


def complete(uow, task_id, caller, raw, attachments=documents.NONE):
    """Complete an open task: every guard SpiffWorkflow's ``task.run()`` lacks, then one step;
    ``attachments`` go with the answer, for the purpose its form names (``TaskForm.document_purpose``).
    Returns (procedure, the receipt's audit sequence number)."""
    ctx, row, procedure, form, values = _checked(uow, task_id, caller, raw, lock=True)
    attachments.check(form.document_purpose)
    workflow = procedure_store.load(procedure, ctx.clock)
    # What is open as stored: the open-task rows mirror the ready tasks at the last save.
    open_before = [str(t.id) for t in workflow_runtime.ready_tasks(workflow)]
    # SpiffWorkflow accepts a task completed after its deadline until timers are refreshed.
    fired = workflow_runtime.advance(workflow)
    task = workflow_runtime.find_task(workflow, row.id)
    if not workflow_runtime.is_ready(task):
        # Another command closed it meanwhile, or a deadline passed: refused, nothing saved.
        _refuse_closed(ctx.session, task_id, caller)
        raise CommandRefused.one('task.no_longer_open', 'task', rules.WIJZIGINGEN_2, task=row.id)
    runner.apply(ctx, procedure, fired)
    attachments.attach(ctx, procedure.id, form.document_purpose)
    task.data.update(form.to_workflow(ctx, procedure, task, values))
    # what the record kept (a consent round's answer), so that `audit verify` can replay it
    recorded = form.record(ctx, procedure, row, values) if form.record else None
    receipt = runner.record(ctx, procedure, 'task_completed', {
        'task': row.name, 'label': row.label, 'task_id': row.id, 'party': row.party_code,
        'values': {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in values.items()},
        **({'answer': recorded} if recorded else {})})
    confirmations.decision_recorded(ctx, procedure, row, values, receipt.seq)
    task.run()
    runner.advance(ctx, procedure, workflow, open_before)
    return procedure, receipt.seq


def revise(ctx, task_id, caller, raw, attachments=documents.NONE):
    """Replace a party's answer to a consent request while its round is open (``--revise``); ``attachments``
    go with the new answer, as statements. Returns (procedure, the receipt's audit sequence number)."""
    register.require_in_force(ctx.deal, ctx.now)
    answer = ctx.session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
    if answer is None:
        if ctx.session.get(OpenTask, str(task_id)) is not None:
            raise CommandRefused.one('revise.not_answered', 'revise', rules.WIJZIGINGEN_1, task=task_id)
        raise NotFound.one('task.not_found', 'task', task=task_id)
    procedure = procedure_store.get(ctx.session, answer.procedure_id, for_update=True)
    ctx = ctx.acting(rights.task_actor(ctx, caller, SimpleNamespace(id=str(task_id), party_code=answer.party_code,
                                                                     role=None)))
    form = registry.form(procedure.type, consent_round.CONSENT_TASK)
    values = fields.read(form.schema, raw, form.rule)
    attachments.check(form.document_purpose)
    receipt = consent_round.revise_answer(ctx, procedure, answer, values)
    attachments.attach(ctx, procedure.id, form.document_purpose)
    return procedure, receipt.seq


def new_version(ctx, procedure_id, caller, raw):
    """Put a new version of a procedure's text to the Parties (``citydeal new-version``, the web's
    ``/procedures/<id>/nieuwe-versie``, the API's ``POST /procedures/{id}/versies``)."""
    procedure, type_, actor, values = _version_checked(ctx, procedure_id, caller, raw, lock=True)
    type_.new_version(ctx.acting(actor), procedure, values)
    return procedure


def check_new_version(ctx, procedure_id, caller, raw=None):
    """Every check of ``new_version`` short of putting it, for a page: whether ``caller`` may put a new version
    now (``raw`` None: the page's link), and the values as read (its confirmation step). Refused as
    ``new_version`` would be; the round's own window (``consultation.window_too_short``) is its to check."""
    procedure, _type, _actor, values = _version_checked(ctx, procedure_id, caller, raw, lock=False)
    if not consent_round.collecting(ctx.session, procedure, ctx.now):
        raise CommandRefused.one('new_version.round_closed', 'procedure', rules.WIJZIGINGEN_1, procedure=procedure.id)
    return values


def _version_checked(ctx, procedure_id, caller, raw, lock):
    register.require_in_force(ctx.deal, ctx.now)
    procedure = procedure_store.get(ctx.session, procedure_id, for_update=lock)
    type_ = registry.get(procedure.type)
    if type_.new_version is None:
        raise CommandRefused.one('new_version.no_text', 'procedure', rules.WIJZIGINGEN_1, procedure=procedure.id)
    actor = rights.version_actor(ctx, caller, procedure)
    if raw is None:
        return procedure, type_, actor, None
    values = fields.read(type_.new_version_schema, raw, rules.WIJZIGINGEN_1)
    if texts.text_sha256(values['text']) == type_.versions(procedure)[-1]['sha256']:
        # a new version says something new: the text as it stands is already put to the Parties
        raise CommandRefused.one('new_version.same_text', 'text', rules.WIJZIGINGEN_1)
    return procedure, type_, actor, values


def check(uow, task_id, caller, raw):
    """Every check of ``complete`` short of completing: for a confirmation step. Returns the values."""
    return _checked(uow, task_id, caller, raw, lock=False)[4]


def _checked(uow, task_id, caller, raw, lock):
    row, procedure, deal, party = _open_task(uow.session, task_id, lock, caller)
    ctx = uow.context(deal=deal)
    register.require_in_force(ctx.deal, ctx.now)
    if party is not None:
        register.remember(ctx.session, party)
    ctx = ctx.acting(rights.task_actor(ctx, caller, row))
    # Only a party's answer is bound to the deadline; the projectleider's own late task still moves
    # the procedure on (the deadline timer then fires at once).
    if row.party_code and row.due_dt and ctx.now > row.due_dt:
        raise CommandRefused.one('task.deadline_passed', 'task', rules.WIJZIGINGEN_2, deadline=row.due_dt)
    form = registry.form(procedure.type, row.name)
    return ctx, row, procedure, form, fields.read(form.schema, raw, form.rule)


def _open_task(session, task_id, lock, caller):
    """The open task, its procedure, the deal and the party the task is for, in one read; ``lock`` holds
    the procedure's row (PostgreSQL) so that commands on one procedure queue instead of colliding.
    Whether the task is still open once the lock is held, the workflow itself tells (``complete``)."""
    query = select(OpenTask, Procedure, Deal, Party).join(Procedure, Procedure.id == OpenTask.procedure_id).join(
        Deal, Deal.id == Procedure.deal_id).outerjoin(Party, Party.code == OpenTask.party_code).where(
        OpenTask.id == str(task_id))
    if lock:
        query = query.with_for_update(of=Procedure)
    found = session.execute(query.execution_options(populate_existing=True)).first()
    if found is None:
        _refuse_closed(session, task_id, caller)
        raise NotFound.one('task.not_found', 'task', task=task_id)
    return found


def _refuse_closed(session, task_id, caller):
    answered = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
    if answered is not None:
        if not rights.may_read_receipt(caller, answered.party_code):
            # who answered, and when, is for that party and the auditors, not for anyone asking
            raise rights.not_your_task(task_id)
        party = register.party(session, answered.party_code)
        procedure = session.get(Procedure, answered.procedure_id)
        if procedure.status == 'running' and session.scalars(select(OpenTask.id).where(
                OpenTask.procedure_id == procedure.id, OpenTask.name == consent_round.CONSENT_TASK)).first():
            raise CommandRefused.one('task.answered_use_revise', 'revise', rules.WIJZIGINGEN_1, task=task_id,
                                     party=party.name, at=answered.answered_dt)
        raise CommandRefused.one('task.already_answered', 'task', rules.WIJZIGINGEN_1, task=task_id,
                                 party=party.name, at=answered.answered_dt)
