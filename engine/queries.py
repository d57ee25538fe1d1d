"""Read models for the CLI (and later the web app): plain dicts, times shown in Amsterdam."""
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import audit, documents, effects, procedure_store, register, timers, workflow_runtime
from engine.dates import shown, start_of_day
from engine.errors import CommandRefused, NotFound
from engine.notices import Deadline
from engine.models import Answer, Appendix, AuditEntry, ContributionOwed, OpenTask, Party, Procedure
from engine.procedure_store import get


def parties(session):
    return [{'code': p.code, 'name': p.name, 'kind': p.kind, 'status': p.status,
             'representatives': p.representatives, 'annual_contribution_eur': p.annual_contribution_eur,
             'contribution': p.contribution_text, 'joined_on': str(p.joined_on),
             'withdrawal_effective_on': p.withdrawal_effective_on and str(p.withdrawal_effective_on),
             'left_on': p.left_on and str(p.left_on)}
            for p in session.scalars(select(Party).order_by(Party.id))]


def _procedure(p):
    title = p.request.get('year') if p.type == 'jaarcyclus' else effects.title(p)
    return {'id': p.id, 'type': p.type, 'status': p.status, 'outcome': p.outcome, 'started': shown(p.started_dt),
            'deadline': shown(p.deadline_dt), 'title': title}


def procedures(session):
    return [_procedure(p) for p in session.scalars(select(Procedure).order_by(Procedure.id))]


def _task(t, procedure_type):
    return {'id': t.id, 'procedure_id': t.procedure_id, 'procedure_type': procedure_type, 'name': t.name,
            'label': t.label, 'party': t.party_code, 'role': t.role, 'due': shown(t.due_dt)}


def tasks(session, party=None, role=None):
    if party:
        register.party(session, party, 'party')
    query = select(OpenTask, Procedure.type).join(Procedure, Procedure.id == OpenTask.procedure_id)
    if party:
        query = query.where(OpenTask.party_code == party)
    if role:
        query = query.where(OpenTask.role == role)
    query = query.order_by(OpenTask.procedure_id.desc(), OpenTask.opened_dt, OpenTask.party_code, OpenTask.id)
    return [_task(t, type_) for t, type_ in session.execute(query)]


def _answer(a):
    return {'party': a.party_code, 'decision': a.decision, 'statement': a.statement, 'person': a.person,
            'at': shown(a.answered_dt)}


def show(session, procedure_id):
    p = get(session, procedure_id)
    answers = session.scalars(select(Answer).where(Answer.procedure_id == p.id).order_by(Answer.id)).all()
    open_tasks = session.scalars(select(OpenTask).where(OpenTask.procedure_id == p.id)
                                 .order_by(OpenTask.opened_dt, OpenTask.party_code)).all()
    timeline = session.scalars(select(AuditEntry).where(AuditEntry.procedure_id == p.id)
                               .order_by(AuditEntry.seq)).all()
    owed = session.scalars(select(ContributionOwed).where(ContributionOwed.procedure_id == p.id)).all()
    return dict(_procedure(p), request=p.request, ended=shown(p.ended_dt), next_timer=shown(p.next_timer_dt),
                version=p.version, state_format=p.state_format,
                answers=[_answer(a) for a in answers],
                waiting_for=[t.party_code or t.role for t in open_tasks],
                open_tasks=[_task(t, p.type) for t in open_tasks],
                contributions_owed=[{'party': o.party_code, 'year': o.year, 'amount_eur': o.amount_eur} for o in owed],
                documents=documents.of_procedure(session, p.id),
                timeline=[{'at': shown(e.at_dt), 'event': e.event, 'person': e.person, 'acting_for': e.acting_for,
                           'data': e.data} for e in timeline])


def appendices(session, public=False):
    """The bijlagen; ``public`` leaves out what a submitter marked confidential (Gegevenswisseling)."""
    rows = session.execute(select(Appendix, Procedure.request).join(Procedure, Procedure.id == Appendix.procedure_id)
                           .order_by(Appendix.number)).all()
    result = []
    for a, request in rows:
        hidden = public and request.get('confidential', False)
        result.append({'number': a.number, 'title': a.title, 'procedure_id': a.procedure_id,
                       'adopted': shown(a.adopted_dt), 'confidential': request.get('confidential', False),
                       'body': None if hidden else a.body,
                       'statements': [{'party': s['party'], 'representative': s['representative'],
                                       'statement': None if hidden else s['statement'], 'date': s['date']}
                                      for s in a.statements]})
    return result


def audit_entries(session, procedure_id=None):
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if procedure_id is not None:
        get(session, procedure_id)
        query = query.where(AuditEntry.procedure_id == procedure_id)
    return [audit.as_dict(e) for e in session.scalars(query)]


def calendar_items(uow, party=None):
    """Every upcoming deadline, for a calendar: consultations, notices, the deal's own dates."""
    deal = uow.deal()
    if party:
        register.party(uow.session, party, 'party')
    items = []
    running = uow.session.scalars(select(Procedure).where(Procedure.status == 'running',
                                                          Procedure.deadline_dt > uow.now))
    for p in running:
        if party and not _concerns(uow.session, p, party):
            continue
        items.append(effects.notice_effective(p) if p.type == 'opzegging' else effects.consultation_deadline(p))
    labels = {'term_end': 'Einde looptijd City Deal', 'continuation_start': 'Uiterlijke start overleg over voortzetting',
              'annual_cycle_start': 'Start jaarcyclus'}
    for when, what, _ in timers.deal_dates(uow, deal):
        if when > uow.now and what != 'annual_cycle_start':
            items.append(Deadline(f'deal-{what}', labels[what], when))
    for year, day in timers.annual_cycles_to_come(uow.session, deal):
        when = start_of_day(day)
        if uow.now < when < register.term_end_instant(deal):
            items.append(Deadline(f'deal-annual_cycle_start-{year}', f"{labels['annual_cycle_start']} {year}", when))
    return sorted(items, key=lambda d: d.at)


def _concerns(session, procedure, party):
    """A party's calendar: consultations it is asked in, and notices (which concern everyone)."""
    if procedure.type == 'opzegging':
        return True
    return session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id,
                                                     OpenTask.party_code == party)).first() is not None


def task(session, task_id):
    """One open task with everything a person needs to decide on it."""
    row = session.get(OpenTask, str(task_id)) if task_id else None
    if row is None:
        answered = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
        if answered is not None:
            raise CommandRefused.one('task', f'task {task_id} was already answered by {answered.party_code} on '
                                     f'{shown(answered.answered_dt)}', 'één antwoord per Partij')
        raise NotFound.one('task', f'no open task with id {task_id}')
    procedure = get(session, row.procedure_id)
    return dict(_task(row, procedure.type), procedure=_procedure(procedure), request=procedure.request,
                opened=shown(row.opened_dt))


def answered_task(session, task_id):
    """Who answered a consent task that is no longer open, or None."""
    answer = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
    if answer is None:
        return None
    procedure = get(session, answer.procedure_id)
    return dict(_answer(answer), procedure=_procedure(procedure), request=procedure.request)


def diagram_state(uow, procedure_id):
    """The BPMN element ids a procedure has completed and those it is at now."""
    procedure = get(uow.session, procedure_id)
    workflow = procedure_store.load(procedure, uow.clock)
    completed, active = set(), set()
    for t in workflow.get_tasks():
        bpmn_id = getattr(t.task_spec, 'bpmn_id', None)
        if not bpmn_id:
            continue
        if t.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(bpmn_id)
    return {'type': procedure.type, 'completed': completed - active, 'active': active,
            'model': workflow_runtime.PROCESSES / f'{procedure.type}.bpmn'}


def audit_search(session, event=None, procedure_type=None, status=None, party=None, person=None, since=None,
                 until=None):
    """Audit entries by the auditors' filters; dates are Amsterdam calendar days, inclusive."""
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if event:
        query = query.where(AuditEntry.event == event)
    if party:
        query = query.where(AuditEntry.acting_for == party)
    if person:
        query = query.where(AuditEntry.person.contains(person))
    if since:
        query = query.where(AuditEntry.at_dt >= start_of_day(since))
    if until:
        query = query.where(AuditEntry.at_dt < start_of_day(until + timedelta(days=1)))
    if procedure_type or status:
        procedures = select(Procedure.id)
        if procedure_type:
            procedures = procedures.where(Procedure.type == procedure_type)
        if status:
            procedures = procedures.where(Procedure.status == status)
        query = query.where(AuditEntry.procedure_id.in_(procedures))
    return [audit.as_dict(e) for e in session.scalars(query)]
