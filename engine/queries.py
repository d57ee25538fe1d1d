"""Read models for the CLI (and later the web app): plain dicts, times shown in Amsterdam."""
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import String, cast, func, or_, select

from engine import audit, confidentiality, documents, procedure_store, register, runner, texts, workflow_runtime
from engine import procedures as registry
from engine.dates import shown, start_of_day
from engine import rules
from engine import rights
from engine.errors import CommandRefused, Forbidden, NotFound
from engine.roles import TASK_ROLES
from engine.notices import Deadline
from engine.models import Answer, Appendix, AuditEntry, ContributionOwed, Document, OpenTask, Party, Procedure
from engine.procedure_store import get


def party_status(party, today=None):
    """A party admitted to join on a later day is ``admitted`` until then, not yet ``active``."""
    if party.status == 'active' and today is not None and party.joined_on > today:
        return 'admitted'
    return party.status


def parties(session, today=None):
    return [{'code': p.code, 'name': p.name, 'kind': p.kind, 'status': party_status(p, today),
             'representatives': p.representatives, 'annual_contribution_eur': p.annual_contribution_eur,
             'contribution': p.contribution_text, 'joined_on': str(p.joined_on),
             'withdrawal_effective_on': p.withdrawal_effective_on and str(p.withdrawal_effective_on),
             'left_on': p.left_on and str(p.left_on)}
            for p in session.scalars(select(Party).order_by(Party.id))]


def _procedure(p):
    title = runner.title(p)
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
            'at': shown(a.answered_dt), 'text_sha256': a.text_sha256}


def _versions(p):
    versions = registry.get(p.type).versions
    if versions is None:
        return None
    return [{'number': v['number'], 'text': v['text'], 'sha256': v['sha256'], 'created_dt': v['created_dt']}
            for v in versions(p)]


def answer_for_task(session, task_id):
    found = session.execute(select(Answer, Procedure.type).join(Procedure, Procedure.id == Answer.procedure_id)
                            .where(Answer.task_id == str(task_id))).first()
    if found is None:
        return None
    answer, type_ = found
    return {'procedure_id': answer.procedure_id, 'procedure_type': type_, 'party': answer.party_code,
            'decision': answer.decision, 'statement': answer.statement}


def show(session, procedure_id, files=None):
    """A procedure as the command line and the API show it; ``files`` (its Document rows) when the caller read
    them already."""
    p = get(session, procedure_id)
    if files is None:
        files = _files(session, p.id)
    answers = session.scalars(select(Answer).where(Answer.procedure_id == p.id).order_by(Answer.id)).all()
    open_tasks = session.scalars(select(OpenTask).where(OpenTask.procedure_id == p.id)
                                 .order_by(OpenTask.opened_dt, OpenTask.party_code)).all()
    timeline = session.scalars(select(AuditEntry).where(AuditEntry.procedure_id == p.id)
                               .order_by(AuditEntry.seq)).all()
    owed = session.scalars(select(ContributionOwed).where(ContributionOwed.procedure_id == p.id)).all()
    protected = confidentiality.protected(session, [p.id]).get(p.id, set())
    return dict(_procedure(p), request=p.request, ended=shown(p.ended_dt), next_timer=shown(p.next_timer_dt),
                confidential=bool(p.request.get('confidential')) or None in protected,
                confidential_statements=sorted(code for code in protected if code),
                version=p.version, state_format=p.state_format, versions=_versions(p),
                answers=[_answer(a) for a in answers],
                waiting_for=[t.party_code or t.role for t in open_tasks],
                open_tasks=[_task(t, p.type) for t in open_tasks],
                contributions_owed=[{'party': o.party_code, 'year': o.year, 'amount_eur': o.amount_eur} for o in owed],
                documents=[documents.as_dict(d) for d in files],
                timeline=[{'at': shown(e.at_dt), 'event': e.event, 'person': e.person, 'acting_for': e.acting_for,
                           'data': e.data} for e in timeline])


def appendices(session, public=False):
    """The bijlagen. Texts kept confidential (Gegevenswisseling lid 1: marked so by their submitter, or
    asked to be by a Party) are marked; ``public`` leaves them out, number and title staying listed."""
    rows = session.execute(select(Appendix, Procedure.request).join(Procedure, Procedure.id == Appendix.procedure_id)
                           .order_by(Appendix.number)).all()
    protected = confidentiality.protected(session)
    result = []
    for a, request in rows:
        claims = protected.get(a.procedure_id, set())
        whole = bool(request.get('confidential', False)) or None in claims
        statements = []
        for s in a.statements:
            secret = whole or s['party'] in claims
            statements.append({'party': s['party'], 'representative': s['representative'], 'date': s['date'],
                               'statement': None if public and secret else s['statement'],
                               'confidential': secret})
        # The text consented to: the final version's (an amendment), else the bijlage's own body.
        text_sha256 = texts.text_sha256(request['text']) if request.get('text') else \
            texts.text_sha256(a.body)
        result.append({'number': a.number, 'title': a.title, 'procedure_id': a.procedure_id,
                       'text_sha256': text_sha256,
                       'adopted': shown(a.adopted_dt), 'confidential': whole,
                       'body': None if public and whole else a.body, 'statements': statements})
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
        deadline = registry.get(p.type).deadline(p)
        if deadline is None or (party and not _concerns(uow.session, p, party)):
            continue
        items.append(deadline)
    term_end = register.term_end_instant(deal)
    if deal.status == 'active' and uow.now < term_end:
        items.append(runner.term_end_deadline(deal))
        for _, auto in registry.auto_starts():
            for when, ref in auto.upcoming(uow.session, deal):
                if uow.now < when < term_end:
                    key = f'deal-{auto.what}' + (f'-{ref}' if ref is not None else '')
                    items.append(Deadline(key, auto.summary(ref), when))
        for type_ in registry.all_types():
            items += [d for d in (type_.key_dates(deal) if type_.key_dates else ()) if uow.now < d.at < term_end]
    return sorted(items, key=lambda d: d.at)


def _concerns(session, procedure, party):
    """A party's calendar: consultations it is asked in, and notices (which concern everyone)."""
    if registry.get(procedure.type).concerns_everyone:
        return True
    return session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id,
                                                     OpenTask.party_code == party)).first() is not None


def task(session, task_id):
    """One open task with everything a person needs to decide on it."""
    return _described(*_open_task(session, task_id))


def _open_task(session, task_id):
    """(the open task's row, its procedure's row); refused as answered, or not found."""
    row = session.get(OpenTask, str(task_id)) if task_id else None
    if row is None:
        answered = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
        if answered is not None:
            raise CommandRefused.one('task.already_answered', 'task', rules.WIJZIGINGEN_1, task=task_id,
                                     party=register.party(session, answered.party_code).name,
                                     at=answered.answered_dt)
        raise NotFound.one('task.not_found', 'task', task=task_id)
    return row, get(session, row.procedure_id)


def _described(row, procedure, initiator=False):
    found = dict(_task(row, procedure.type), procedure=_procedure(procedure), request=procedure.request,
                 opened=shown(row.opened_dt))
    if initiator:
        found['procedure']['initiated_by'] = procedure.initiated_by
    return found


def task_for(session, task_id, caller):
    return _described(*_task_for(session, task_id, caller), initiator=True)


def _task_for(session, task_id, caller):
    """(row, procedure) of an open task ``caller`` may see; Forbidden, NotFound or answered otherwise."""
    try:
        row, procedure = _open_task(session, task_id)
    except NotFound:
        raise
    except CommandRefused:
        # Answered already: who answered is for that party and the auditors, not for anyone asking.
        answer = session.scalars(select(Answer).where(Answer.task_id == str(task_id))).first()
        if not (caller.operator or caller.audits or answer.party_code in caller.parties):
            raise Forbidden.one('rights.not_your_task', 'task', rules.ACCESS, task=task_id) from None
        raise
    if not rights.may_see_task(caller, row):
        raise Forbidden.one('rights.not_your_task', 'task', rules.ACCESS, task=task_id)
    return row, procedure


def tasks_of(session, caller):
    """The open tasks a person may act on, newest procedure first: their role's, or their parties'."""
    if caller.role in TASK_ROLES:
        return tasks(session, role=caller.role)
    if not caller.parties:
        return []
    query = select(OpenTask, Procedure.type).join(Procedure, Procedure.id == OpenTask.procedure_id).where(
        OpenTask.party_code.in_(caller.parties)).order_by(
        OpenTask.procedure_id.desc(), OpenTask.opened_dt, OpenTask.party_code, OpenTask.id)
    return [_task(t, type_) for t, type_ in session.execute(query)]


def receipt(session, seq):
    """The one audit entry of a completed task, by its sequence number; None for any other."""
    found = session.execute(select(AuditEntry, Procedure).join(Procedure, Procedure.id == AuditEntry.procedure_id)
                            .where(AuditEntry.seq == seq,
                                   AuditEntry.event.in_(('task_completed', 'answer_revised')))).first()
    if found is None:
        return None
    entry, procedure = found
    # An answer of a party may be revised while its round still asks (a consent request is open).
    revisable = procedure.status == 'running' and bool(entry.data.get('party')) and session.scalars(
        select(OpenTask.id).where(OpenTask.procedure_id == procedure.id, OpenTask.name == registry.CONSENT_TASK)
        .limit(1)).first() is not None
    return dict(audit.as_dict(entry), procedure=_procedure(procedure), revisable=revisable,
                documents=_documents_with(session, entry))


def _documents_with(session, entry):
    """The files sent with a completed task or a revised answer: stored by that command, so at its moment,
    by its person for the same party or role, on its procedure (a receipt reads its one audit entry, not the
    log). A document uploaded earlier and attached by its id (the API) is on the procedure's page."""
    found = session.scalars(select(Document).where(
        Document.procedure_id == entry.procedure_id, Document.uploaded_dt == entry.at_dt,
        Document.uploaded_by == entry.person, Document.uploaded_for == entry.acting_for).order_by(Document.id))
    return [documents.as_dict(d) for d in found]


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
    query = _audit_filtered(select(AuditEntry), event, procedure_type, status, party, person, since, until)
    return [audit.as_dict(e) for e in session.scalars(query.order_by(AuditEntry.seq))]


def _audit_filtered(query, event=None, procedure_type=None, status=None, party=None, person=None, since=None,
                    until=None):
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
    return query


# --- pages of long lists: counted and cut in SQL, so 1,000 rows cost one page's worth ----------------------
def audit_page(session, offset=0, limit=50, **filters):
    """One page of audit entries (oldest first) with the total, each with the hash it follows."""
    query = _audit_filtered(select(AuditEntry), **filters)
    total = session.scalar(_audit_filtered(select(func.count(AuditEntry.seq)), **filters))
    rows = session.scalars(query.order_by(AuditEntry.seq).offset(offset).limit(limit))
    return {'total': total, 'rows': [dict(audit.as_dict(e), prev_hash=e.prev_hash) for e in rows]}


def _party_codes_matching(text):
    return select(Party.code).where(or_(Party.name.ilike(f'%{text}%'), Party.code.ilike(f'%{text}%')))


def _deadline():
    """A procedure's deadline; for one without a deadline of its own (a yearly cycle) its nearest open task's."""
    nearest = select(func.min(OpenTask.due_dt)).where(OpenTask.procedure_id == Procedure.id).scalar_subquery()
    return func.coalesce(Procedure.deadline_dt, nearest)


def _procedure_filters(query, now, type_=None, status=None, overdue=False, due_within_days=None, search=None):
    if type_:
        query = query.where(Procedure.type == type_)
    if status:
        query = query.where(Procedure.status == status)
    if overdue:
        query = query.where(Procedure.status == 'running', _deadline() < now)
    if due_within_days is not None:
        query = query.where(_deadline() >= now, _deadline() < now + timedelta(days=due_within_days))
    if search:
        query = query.where(or_(cast(Procedure.request, String).ilike(f'%{search}%'),
                                Procedure.initiated_by.in_(_party_codes_matching(search))))
    return query


def procedure_page(session, now, offset=0, limit=50, order='deadline', **filters):
    """Procedures with their progress, for the overview: counts of answers, objections and open tasks.

    ``order`` 'deadline' puts the nearest deadline first (none last); 'newest' the newest procedure first.
    """
    total = session.scalar(_procedure_filters(select(func.count(Procedure.id)), now, **filters))
    query = _procedure_filters(select(Procedure), now, **filters)
    if order == 'deadline':
        query = query.order_by(_deadline().is_(None), _deadline(), Procedure.id)
    else:
        query = query.order_by(Procedure.id.desc())
    page = session.scalars(query.offset(offset).limit(limit)).all()
    ids = [p.id for p in page]
    waiting, late, next_due = {}, {}, {}
    if ids:
        for row in session.scalars(select(OpenTask).where(OpenTask.procedure_id.in_(ids))
                                   .order_by(OpenTask.opened_dt, OpenTask.party_code)):
            waiting.setdefault(row.procedure_id, []).append(row.party_code or row.role)
            if row.due_dt is not None and row.due_dt < now:
                late[row.procedure_id] = late.get(row.procedure_id, 0) + 1
            if row.due_dt is not None and (row.procedure_id not in next_due or row.due_dt < next_due[row.procedure_id]):
                next_due[row.procedure_id] = row.due_dt
    decisions, missing, started_by = _answers_by_party(session, ids), _missing_at_deadline(session, ids), {}
    if ids:
        started_by = dict(session.execute(select(AuditEntry.procedure_id, AuditEntry.acting_for).where(
            AuditEntry.procedure_id.in_(ids), AuditEntry.event == 'procedure_started')).all())
    rows = []
    for p in page:
        tally = consent_tally(decisions.get(p.id, {}), waiting.get(p.id, []), missing.get(p.id, []))
        deadline = p.deadline_dt or next_due.get(p.id)
        rows.append(dict(_procedure_brief(p), answered=len(tally['consents']) + len(tally['objections']),
                         objections=len(tally['objections']), asked=len(tally['asked']),
                         not_answered=tally['not_answered'], started_by=started_by.get(p.id),
                         next_due=shown(next_due.get(p.id)),
                         waiting_for=waiting.get(p.id, []), late_tasks=late.get(p.id, 0),
                         overdue=p.status == 'running' and deadline is not None and deadline < now))
    return {'total': total, 'rows': rows}


def _answers_by_party(session, ids):
    """{procedure id: {party: decision}}: the answers on record (a revised one as it stands now)."""
    found = {}
    if ids:
        for pid, party, decision in session.execute(select(Answer.procedure_id, Answer.party_code, Answer.decision)
                                                    .where(Answer.procedure_id.in_(ids)).order_by(Answer.id)):
            found.setdefault(pid, {})[party] = decision
    return found


def _missing_at_deadline(session, ids):
    """{procedure id: the parties that had not answered when its last answer window closed}."""
    found = {}
    if ids:
        for pid, data in session.execute(select(AuditEntry.procedure_id, AuditEntry.data).where(
                AuditEntry.procedure_id.in_(ids), AuditEntry.event == 'deadline_passed').order_by(AuditEntry.seq)):
            found[pid] = list((data or {}).get('missing') or [])
    return found


def consent_tally(decisions, waiting, missing):
    """Where a consent round stands, by party: who consented, who objected, who is asked and has still to
    answer (``waiting``: the codes of the open tasks, roles left out), and who was asked and did not answer
    before the window closed (``missing`` at the last deadline; an answer to an earlier version of the text
    that was not given again counts as none). ``asked`` is all of them, each once."""
    waiting = [code for code in dict.fromkeys(waiting) if code and code not in TASK_ROLES]
    consents = [code for code, decision in decisions.items() if decision == 'consent']
    objections = [code for code, decision in decisions.items() if decision == 'objection']
    answered = set(consents) | set(objections)
    not_answered = [code for code in dict.fromkeys(list(missing) + [c for c, d in decisions.items() if d == 'void'])
                    if code not in answered and code not in waiting]
    asked = list(dict.fromkeys(consents + objections + [c for c in waiting if c not in answered] + not_answered))
    return {'consents': consents, 'objections': objections, 'waiting': [c for c in waiting if c not in answered],
            'not_answered': not_answered, 'asked': asked}


def task_page(session, now, parties=(), role=None, offset=0, limit=50, type_=None, overdue=False,
              due_within_days=None, search=None):
    """One page of a person's open tasks (for their parties or their role), nearest due date first."""
    who = []
    if parties:
        who.append(OpenTask.party_code.in_(list(parties)))
    if role:
        who.append(OpenTask.role == role)
    if not who:
        return {'total': 0, 'rows': []}
    base = select(OpenTask, Procedure.type).join(Procedure, Procedure.id == OpenTask.procedure_id).where(or_(*who))
    count = select(func.count(OpenTask.id)).join(Procedure, Procedure.id == OpenTask.procedure_id).where(or_(*who))
    conditions = []
    if type_:
        conditions.append(Procedure.type == type_)
    if overdue:
        conditions.append(OpenTask.due_dt < now)
    if due_within_days is not None:
        conditions += [OpenTask.due_dt >= now, OpenTask.due_dt < now + timedelta(days=due_within_days)]
    if search:
        conditions.append(or_(OpenTask.label.ilike(f'%{search}%'), cast(Procedure.request, String).ilike(f'%{search}%'),
                              OpenTask.party_code.in_(_party_codes_matching(search)),
                              Procedure.initiated_by.in_(_party_codes_matching(search))))
    total = session.scalar(count.where(*conditions))
    query = base.where(*conditions).order_by(OpenTask.due_dt.is_(None), OpenTask.due_dt, OpenTask.procedure_id.desc(),
                                             OpenTask.party_code, OpenTask.id)
    rows = [dict(_task(t, type_), procedure=_procedure_brief(session.get(Procedure, t.procedure_id)))
            for t, type_ in session.execute(query.offset(offset).limit(limit))]
    return {'total': total, 'rows': rows}


def _procedure_brief(p):
    return dict(_procedure(p), initiated_by=p.initiated_by, request=p.request)


def procedure_view(session, procedure_id):
    """``show`` with who started it (the pages name the party that withdraws or asks, or the role that
    started it), where the consent round stands by party (``tally``, see ``consent_tally``), and each
    document with its purpose and who attached it."""
    procedure = get(session, procedure_id)  # held: the reads below find it in the session, not again in the table
    files = _files(session, procedure_id)
    found = show(session, procedure_id, files)
    decisions = {a['party']: a['decision'] for a in found['answers']}
    missing = ([e['data'] for e in found['timeline'] if e['event'] == 'deadline_passed'] or [{}])[-1].get('missing')
    started = next((e for e in found['timeline'] if e['event'] == 'procedure_started'), None)
    return dict(found, initiated_by=procedure.initiated_by,
                started_by=started and started['acting_for'],
                tally=consent_tally(decisions, [t['party'] for t in found['open_tasks']], missing or []),
                documents=[dict(documents.as_dict(d), purpose=d.purpose, uploaded_by=d.uploaded_by,
                                uploaded_for=d.uploaded_for, uploaded=shown(d.uploaded_dt)) for d in files])


def _files(session, procedure_id):
    return session.scalars(select(Document).where(Document.procedure_id == procedure_id)
                           .order_by(Document.id)).all()


def task_with_procedure(session, task_id, caller):
    """(the task, if ``caller`` may see it; its procedure as its page shows it), read together: a task's page
    reads the task and the procedure once (the rows stay referenced here, so that the session's identity
    map, which holds them weakly, answers the later reads of the same row)."""
    row, procedure = _task_for(session, task_id, caller)
    return _described(row, procedure, initiator=True), procedure_view(session, procedure.id)


def task_view(session, task_id):
    """``task`` with the procedure's initiator, for the same reason."""
    return _described(*_open_task(session, task_id), initiator=True)
