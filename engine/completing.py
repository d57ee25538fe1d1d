"""Completing a user task: every guard SpiffWorkflow's ``task.run()`` lacks, then one step."""
from uuid import UUID

from sqlalchemy import select

from engine import audit, confirmations, effects, forms, notices, procedure_store, register, workflow_runtime
from engine.dates import shown
from engine.errors import CommandRefused, NotFound
from engine.models import Answer, OpenTask
from engine.starting import run
from engine.unit_of_work import Actor

RULE_DEADLINE = 'Wijzigingen lid 2: antwoorden na de termijn worden geweigerd'
ROLES = ('projectleider', 'secretaris')


def complete_task(uow, task_id, acting_for, values, person=None):
    """``values``: the form's raw fields (decision, statement, and any ``--set NAME=VALUE``)."""
    deal, row, procedure, actor, values = _checked(uow, task_id, acting_for, values, person, lock=True)
    workflow = procedure_store.load(procedure, uow.clock)
    # SpiffWorkflow accepts a task completed after its deadline until timers are refreshed.
    fired = workflow_runtime.advance(workflow)
    task = workflow.get_task_from_id(UUID(row.id))
    if not workflow_runtime.is_ready(task):
        raise CommandRefused.one('task', f'task {row.id} is no longer open: its deadline has passed or the '
                                 'procedure moved on', RULE_DEADLINE)
    step = effects.Step(uow.session, deal, procedure, uow.now, actor, uow.clock, task_row=row,
                        workflow_data=task.data)
    effects.apply(step, fired)
    task.data.update(forms.FORMS[(procedure.type, row.name)].to_workflow(step, values))
    if row.name == 'instemming_geven':
        uow.session.add(Answer(procedure_id=procedure.id, task_id=row.id, party_code=row.party_code,
                               decision=values['decision'], statement=values['statement'].strip() or
                               _default_statement(values['decision'], procedure),
                               person=actor.person, answered_dt=uow.now))
    receipt = audit.append(uow.session, at=uow.now, person=actor.person, acting_for=actor.acting_for,
                           procedure_id=procedure.id, event='task_completed',
                           data={'task': row.name, 'label': row.label, 'task_id': row.id, 'party': row.party_code,
                                 'values': _jsonable(values)})
    confirmations.decision_recorded(uow.session, uow.now, procedure, row, actor, values, receipt.seq)
    if row.name == 'instemming_geven' and values['decision'] == 'objection':
        party = register.party(uow.session, row.party_code)
        notices.queue(uow.session, uow.now, procedure, 'objection_received', ['projectleider'],
                      title=effects.title(procedure), party_name=party.name, person=actor.person,
                      statement=values['statement'])
    task.run()
    run(uow, deal, procedure, workflow, actor, task_row=row)
    return procedure, receipt.seq


def check_values(uow, task_id, acting_for, values, person=None):
    """Every check of ``complete_task`` short of completing: for a confirmation step."""
    return _checked(uow, task_id, acting_for, values, person, lock=False)[4]


def _checked(uow, task_id, acting_for, values, person, lock):
    """(deal, task row, procedure, actor, form values) once every guard passed; ``lock`` holds the
    procedure's row for a command that will change it."""
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    row = _open_task(uow.session, task_id)
    procedure = procedure_store.get(uow.session, row.procedure_id, for_update=lock)
    if lock:
        # Another command may have closed the task while this one waited for the row.
        row = _open_task(uow.session, task_id)
    actor = _actor(uow.session, deal, row, acting_for, person)
    # Only answers are bound to the consultation deadline; the projectleider's own late task
    # still moves the procedure on (the deadline timer then fires at once).
    if row.name == 'instemming_geven' and uow.now > row.due_dt:
        raise CommandRefused.one('task', f'the deadline {shown(row.due_dt)} has passed', RULE_DEADLINE)
    return deal, row, procedure, actor, forms.read(forms.FORMS[(procedure.type, row.name)], values)


def _open_task(session, task_id):
    # populate_existing: read again after waiting for a lock, never the copy read before it
    row = session.get(OpenTask, str(task_id), populate_existing=True)
    if row is not None:
        return row
    answered = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
    if answered is not None:
        raise CommandRefused.one('task', f'task {task_id} was already answered by {answered.party_code} on '
                                 f'{shown(answered.answered_dt)}', 'één antwoord per Partij')
    raise NotFound.one('task', f'no open task with id {task_id}')


def _actor(session, deal, row, acting_for, person):
    if acting_for in ROLES:
        if row.role != acting_for:
            raise CommandRefused.one('as', f'task {row.id} is for {row.party_code or row.role}, not for {acting_for}',
                                     'only the party or role a task is for may complete it')
        return Actor(register.checked_person(person) or register.definition(deal).roles[acting_for].name, acting_for)
    party = register.party(session, acting_for, 'as')
    if row.party_code != party.code:
        raise CommandRefused.one('as', f'task {row.id} is for {row.party_code or row.role}, not for {party.code}',
                                 'a representative acts only for their own party')
    if party.status not in register.CONSULTED_STATUSES:
        raise CommandRefused.one('as', f'{party.code} withdrew on {party.left_on} and is no longer a party',
                                 'Opzegging lid 1')
    # A person other than the signatories may act (a deputy); the audit records who, and for whom.
    return Actor(register.person_for(party, person), party.code)


def _default_statement(decision, procedure):
    subject = 'de wijziging' if procedure.type == 'wijziging' else 'de toetreding'
    return f'Stemt in met {subject}.' if decision == 'consent' else 'Maakt bezwaar.'


def _jsonable(values):
    return {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in values.items()}
