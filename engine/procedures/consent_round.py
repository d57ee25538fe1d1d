"""The consent round that wijziging and toetreding share: every Party is asked, within a deadline;
the projectleider extends or closes when answers are missing; the outcome becomes a bijlage.

Both models draw the round the same way (the multi-instance task ``instemming_geven`` with the
boundary timer ``termijn_verstreken``, the task ``verlengen_of_afsluiten`` and the gateway on
``answers_before + answers``) rather than calling a shared BPMN subprocess: SpiffWorkflow copies data
into and out of a call activity by name, and the round's data (who is asked, the answers before an
extension, the deadline) would then live in two scopes that must be kept in line by hand. The same
shape in two files, and this one module for everything around it, keeps each model readable alone.

Two periods, as Wijzigingen lid 2 reads: "Partijen treden in overleg binnen 6 weken nadat een Partij het
verzoek ... kenbaar heeft gemaakt" is the deadline for *opening* the consultation (``consultation_weeks``
from the day the request was received, engine.procedures.paper); the projectleider's opening task
(``consultatie_openen``; toetreding's ``criteria_toetsen``) is due then, reminded, and escalated to the
secretaris when late. A late opening is allowed and recorded as late (``consultation_opened`` with
``late``), never turned into "no party asked". The answer window starts when the consultation opens
and lasts ``consent_period_weeks``: the opening form's ``to_workflow`` sets the timer's variable
``consultation_deadline``; a window that the end of the term would cut below ``minimum_consent_days``
is refused, naming the end date.

Who must consent is decided when the round closes, by the application, not by the model's list of
who was asked (issue 11, point 3). The multi-instance task cannot take a new instance while it runs,
so the engine decides at the moment the last open consent request is answered (or lapses): its
``answer`` item carries the round's ``verdict``, computed from the Answer rows (the record, including
revised answers) against the Parties of that moment (active or in their notice period, joined):

- ``adopted``: every current Party consented; an answer of a party that has left no longer counts;
- ``ask``: a current Party was never asked (admitted during the round): the model loops
  (``partijen_navragen``) and asks those parties, with at least ``minimum_consent_days`` to answer
  (the deadline moves out if needed, and everyone is told);
- ``not_adopted``: a current Party objects.

The gateway ``alle_ingestemd`` reads that verdict (falling back on the answers for a round started
before it existed).
"""
from datetime import datetime, timedelta

from marshmallow import ValidationError, validates_schema
from sqlalchemy import func, select

from engine import notices, procedure_store, register, rules, runner, workflow_runtime
from engine.dates import end_of_day, local_date, shown
from engine.errors import CommandRefused
from engine.texts import text_sha256
from engine.models import Answer, Appendix, OpenTask, Party
from engine.procedures import fields as f
from engine.procedures.base import TaskForm, plain

CONSENT_TASK = 'instemming_geven'
OPEN_TASK = 'consultatie_openen'
EXTEND_TASK = 'verlengen_of_afsluiten'
#: the messages every consent round sends
MESSAGES = ('request_registered', 'consultation_opened', 'task_opened', 'objection_received', 'escalation',
            'reminder', 'overdue', 'opening_late', 'parties_asked')
#: what a lapsed consent request records: the party left before it answered
LAPSED = 'lapsed'
#: what an answer to an earlier version of the text becomes when a new version is put to the Parties
VOID = 'void'


def consultation_deadline(deal, received):
    """Wijzigingen lid 2: the consultation opens within 6 weeks of the request reaching projectleider
    and secretaris (the day ``received``), through the whole last day.

    It never lies beyond the deal: near the end it is the day before the end date.
    """
    weeks = register.definition(deal).terms.consultation_weeks
    return min(end_of_day(received + timedelta(weeks=weeks)),
               register.term_end_instant(deal) - timedelta(seconds=1))


def answer_window(ctx, procedure, rule):
    """The consultation opens now: the Parties have ``consent_period_weeks`` to answer, to the end of
    that day, but never beyond the deal. Shorter than ``minimum_consent_days`` is refused (the end date
    named). Records the opening, and whether it was late. Returns the timer's data."""
    terms = register.definition(ctx.deal).terms
    deadline = min(end_of_day(local_date(ctx.now) + timedelta(weeks=terms.consent_period_weeks)),
                   register.term_end_instant(ctx.deal) - timedelta(seconds=1))
    if deadline - ctx.now < timedelta(days=terms.minimum_consent_days):
        raise CommandRefused.one('consultation.window_too_short', 'task', rule, end=ctx.deal.end_date,
                                 days=terms.minimum_consent_days)
    opening_deadline = procedure.deadline_dt
    late = opening_deadline is not None and ctx.now > opening_deadline
    runner.record(ctx, procedure, 'consultation_opened', {
        'opening_deadline': shown(opening_deadline), 'late': late, 'answer_deadline': shown(deadline),
        'days_late': (local_date(ctx.now) - local_date(opening_deadline)).days if late else 0})
    procedure.deadline_dt = deadline
    return {'consultation_deadline': deadline.isoformat()}


def answered_text(procedure):
    """What the Parties are asked to consent to: the current version's text (the type's summary where
    the request has no text of its own, as an accession)."""
    return procedure.request.get('text') or runner.type_of(procedure).summary(procedure)


def launch(ctx, type_, request, requester=None, statement=None, received=None):
    """Start a round: every Party but the requester will be asked once the consultation opens; the
    written request is the requester's own consent (``statement`` says what it asked). The procedure's
    deadline is first the deadline for opening the consultation, counted from ``received``."""
    deadline = consultation_deadline(ctx.deal, received or local_date(ctx.now))
    others = register.consulted_parties(ctx.session, local_date(ctx.now),
                                        excluding=requester.code if requester else None)
    codes = [p.code for p in others]
    answers_before = [{'party': requester.code, 'decision': 'consent'}] if requester else []
    data = {'consulted': codes, 'consulted_all': codes, 'answers_before': answers_before,
            'opening_deadline': deadline.isoformat(), 'requester': requester.code if requester else None}

    def record_requester_consent(procedure):
        ctx.session.add(Answer(procedure_id=procedure.id, party_code=requester.code, decision='consent',
                               statement=statement, person=ctx.actor.person, answered_dt=ctx.now,
                               text_sha256=text_sha256(answered_text(procedure))))

    return runner.launch(ctx, type_, request, data, initiated_by=requester.code if requester else None,
                         deadline=deadline, before_run=record_requester_consent if requester else None)


def deadline_entry(procedure):
    return notices.Deadline(f'procedure-{procedure.id}-overleg', f'Overlegtermijn sluit: {runner.title(procedure)}',
                            procedure.deadline_dt)


# --- the forms

class ConsentForm(f.CodedSchema):
    decision = f.Choice(('consent', 'objection'), required=True)
    statement = f.Text(required=False)

    @validates_schema
    def objection_needs_statement(self, data, **kwargs):
        if data.get('decision') == 'objection' and not data.get('statement'):
            raise ValidationError({'statement': [f.Coded('consent.statement_required')]})


class ExtendOrCloseForm(f.CodedSchema):
    choice = f.Choice(('extend', 'close'), required=True)
    new_deadline = f.Day(load_default=None)
    reason = f.Text(required=False)

    @validates_schema
    def extension_needs_date_and_reason(self, data, **kwargs):
        if data.get('choice') == 'extend':
            errors = {}
            if data.get('new_deadline') is None:
                errors['new_deadline'] = [f.Coded('extension.deadline_required')]
            if not data.get('reason'):
                errors['reason'] = [f.Coded('extension.reason_required')]
            if errors:
                raise ValidationError(errors)


class OpenForm(f.CodedSchema):
    note = f.Text(required=False)


def _consent(ctx, procedure, task, values):
    answer = {'party': task.data['party'], 'decision': values['decision']}
    if _last_open_request(task):
        answer.update(verdict(ctx, procedure, {task.data['party']: values['decision']}))
    return {'answer': answer}


def _last_open_request(task):
    """True when ``task`` is the only consent request of the round still open: answering it closes the round."""
    return [t.id for t in workflow_runtime.ready_tasks(task.workflow)
            if t.task_spec.bpmn_id == CONSENT_TASK] == [task.id]


def current_parties(ctx):
    """The Parties of this moment: active or in their notice period, and joined."""
    return [p.code for p in register.consulted_parties(ctx.session, local_date(ctx.now))]


def verdict(ctx, procedure, pending=None):
    """What the round comes to if it closes now (see the module's docstring). ``pending``: answers given
    in this command and not yet in the record, by party."""
    decisions = {a.party_code: a.decision for a in ctx.session.scalars(
        select(Answer).where(Answer.procedure_id == procedure.id))}
    decisions.update(pending or {})
    parties = current_parties(ctx)
    if any(decisions.get(code) == 'objection' for code in parties):
        return {'verdict': 'not_adopted'}
    missing = [code for code in parties if decisions.get(code) not in ('consent', 'objection')]
    if missing:
        minimum = register.definition(ctx.deal).terms.minimum_consent_days
        deadline = min(max(procedure.deadline_dt, end_of_day(local_date(ctx.now) + timedelta(days=minimum))),
                       register.term_end_instant(ctx.deal) - timedelta(seconds=1))
        return {'verdict': 'ask', 'ask': missing, 'deadline': deadline.isoformat()}
    return {'verdict': 'adopted'}


def _record_answer(ctx, procedure, row, values):
    statement = values['statement'] or runner.type_of(procedure).default_statements[values['decision']]
    sha = text_sha256(answered_text(procedure))
    # Only a text put again in a new version has void answers to replace: a first round reads none.
    voided = ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id,
                                                      Answer.party_code == row.party_code,
                                                      Answer.decision == VOID)).first() \
        if len(procedure.request.get('versions') or ()) > 1 else None
    if voided is not None:
        # Its answer to an earlier version stays in the audit; the record holds the answer to this one.
        voided.task_id, voided.decision, voided.statement = row.id, values['decision'], statement
        voided.person, voided.answered_dt, voided.text_sha256 = ctx.actor.person, ctx.now, sha
    else:
        ctx.session.add(Answer(procedure_id=procedure.id, task_id=row.id, party_code=row.party_code,
                               decision=values['decision'], statement=statement, person=ctx.actor.person,
                               answered_dt=ctx.now, text_sha256=sha))
    if values['decision'] == 'objection':
        party = register.party(ctx.session, row.party_code)
        runner.tell(ctx, procedure, 'objection_received', ['projectleider'], party_name=party.name,
                    person=ctx.actor.person, statement=values['statement'])


def round_open(ctx, procedure):
    """A round still collects answers: running, requests open, its deadline not passed."""
    return (procedure.status == 'running' and ctx.now <= procedure.deadline_dt
            and ctx.session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id,
                                                              OpenTask.name == CONSENT_TASK)).first() is not None)


def revise_answer(ctx, procedure, answer, values):
    """Issue 11, point 4: a party replaces its answer while the round is open. The record keeps the new
    answer (the round's verdict reads it when the round closes); the audit keeps both."""
    if not round_open(ctx, procedure):
        raise CommandRefused.one('revise.round_closed', 'task', rules.WIJZIGINGEN_1, task=answer.task_id)
    if answer.decision == VOID:
        raise CommandRefused.one('revise.not_answered', 'revise', rules.WIJZIGINGEN_1, task=answer.task_id)
    old = {'decision': answer.decision, 'statement': answer.statement, 'person': answer.person,
           'answered_dt': shown(answer.answered_dt)}
    answer.decision = values['decision']
    answer.statement = values['statement'] or runner.type_of(procedure).default_statements[values['decision']]
    answer.person = ctx.actor.person
    answer.answered_dt = ctx.now
    answer.text_sha256 = text_sha256(answered_text(procedure))
    receipt = runner.record(ctx, procedure, 'answer_revised', {
        'task': CONSENT_TASK, 'task_id': answer.task_id, 'party': answer.party_code, 'old': old,
        'new': {'decision': answer.decision, 'statement': answer.statement},
        'values': {'decision': answer.decision, 'statement': answer.statement}})
    if answer.decision == 'objection' and old['decision'] != 'objection':
        party = register.party(ctx.session, answer.party_code)
        runner.tell(ctx, procedure, 'objection_received', ['projectleider'], party_name=party.name,
                    person=ctx.actor.person, statement=answer.statement)
    return receipt


def put_new_version(ctx, procedure, keep=None):
    """Issue 11, point 5: the text changed while the round is open. Every answer to the earlier version is
    void (``keep``: the party whose own consent goes with the new version, its requester); every open
    request closes; every Party is asked again with a fresh window (the model loops through
    ``partijen_navragen``). Returns the new deadline and the parties voided."""
    if not round_open(ctx, procedure):
        raise CommandRefused.one('new_version.round_closed', 'procedure', rules.WIJZIGINGEN_1, procedure=procedure.id)
    terms = register.definition(ctx.deal).terms
    deadline = min(end_of_day(local_date(ctx.now) + timedelta(weeks=terms.consent_period_weeks)),
                   register.term_end_instant(ctx.deal) - timedelta(seconds=1))
    if deadline - ctx.now < timedelta(days=terms.minimum_consent_days):
        raise CommandRefused.one('consultation.window_too_short', 'procedure', rules.WIJZIGINGEN_2,
                                 end=ctx.deal.end_date, days=terms.minimum_consent_days)
    voided = []
    for answer in ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id)):
        if answer.party_code == keep:
            answer.text_sha256, answer.answered_dt = text_sha256(answered_text(procedure)), ctx.now
        elif answer.decision != VOID:
            answer.decision = VOID
            voided.append(answer.party_code)
    ask = [code for code in current_parties(ctx) if code != keep]
    workflow = procedure_store.load(procedure, ctx.clock)
    runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
    open_requests = [t for t in workflow_runtime.ready_tasks(workflow) if t.task_spec.bpmn_id == CONSENT_TASK]
    for task in open_requests:
        task.data['answer'] = {'party': task.data['party'], 'decision': VOID}
    open_requests[-1].data['answer'].update(verdict='ask', ask=ask, deadline=deadline.isoformat(), why='new_version')
    for task in open_requests:
        task.run()
    runner.advance(ctx, procedure, workflow)
    return deadline, voided


def _extend_or_close(ctx, procedure, task, values):
    if values['choice'] == 'close':
        return {'choice': 'close'}
    day = values['new_deadline']
    if not local_date(procedure.deadline_dt) < day < ctx.deal.end_date or day < local_date(ctx.now):
        raise CommandRefused.one('extension.deadline_out_of_range', 'new_deadline', rules.WIJZIGINGEN_2,
                                 deadline=local_date(procedure.deadline_dt), end=ctx.deal.end_date)
    answers = ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id)
                                  .order_by(Answer.id)).all()
    answered = {a.party_code for a in answers}
    still_parties = {p.code for p in ctx.session.scalars(
        select(Party).where(Party.status.in_(register.CONSULTED_STATUSES)))}
    asked = [code for code in task.data.get('consulted_all') or [] if code in still_parties]
    return {'choice': 'extend', 'consultation_deadline': end_of_day(day).isoformat(),
            'extension_reason': values['reason'],
            'consulted': [code for code in asked if code not in answered],
            'answers_before': [{'party': a.party_code, 'decision': a.decision} for a in answers]}


CONSENT = TaskForm(ConsentForm, rules.WIJZIGINGEN_1, _consent, record=_record_answer, document_purpose='statement')
EXTEND = TaskForm(ExtendOrCloseForm, rules.WIJZIGINGEN_2, _extend_or_close)
def _open(ctx, procedure, task, values):
    return dict(plain(ctx, procedure, task, values), **answer_window(ctx, procedure, rules.WIJZIGINGEN_2))


OPEN = TaskForm(OpenForm, rules.WIJZIGINGEN_2, _open)


# --- the effects both models ask for

def request_registered(ctx, procedure, data):
    request = procedure.request
    runner.record(ctx, procedure, 'request_registered', {'reaches': list(notices.ROLES),
                                                         'received': request.get('received'),
                                                         'opening_deadline': shown(procedure.deadline_dt)})
    requester = request.get('requester')
    submitted_by = request.get('applicant') or (register.party(ctx.session, requester).name if requester else None) \
        or 'de Partijen gezamenlijk'
    runner.tell(ctx, procedure, 'request_registered', notices.ROLES,
                kind=runner.type_of(procedure).request_kind, submitted_by=submitted_by, deadlines=[deadline_entry(procedure)])


def consultation_extended(ctx, procedure, data):
    procedure.deadline_dt = datetime.fromisoformat(data['consultation_deadline'])
    runner.record(ctx, procedure, 'consultation_extended', {'new_deadline': shown(procedure.deadline_dt),
                                                            'reason': data.get('extension_reason', ''),
                                                            'still_asked': data.get('consulted', [])})


def deadline_escalated(ctx, procedure, data):
    """At the deadline with answers missing, the projectleider hears who has not answered."""
    answered = {a.party_code for a in ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id))}
    statuses = dict(ctx.session.execute(select(Party.code, Party.status)).all())
    missing = [code for code in data.get('consulted_all', []) if code not in answered
               and statuses.get(code) in register.CONSULTED_STATUSES]
    runner.record(ctx, procedure, 'deadline_passed', {'deadline': shown(procedure.deadline_dt), 'missing': missing})
    names = [register.party(ctx.session, code).name for code in missing]
    runner.tell(ctx, procedure, 'escalation', ['projectleider'], deadline=procedure.deadline_dt, missing=names,
                dedupe_key=f'escalation:{procedure.id}:{procedure.deadline_dt.isoformat()}')


def parties_asked(ctx, procedure, data):
    """Parties admitted during the round are asked now; the deadline moved out if they needed more time.
    (After a new version of the text every Party is asked again: the new version's message told why.)"""
    old = procedure.deadline_dt
    procedure.deadline_dt = datetime.fromisoformat(data['consultation_deadline'])
    if data.get('asked_because') == 'new_version':
        return
    runner.record(ctx, procedure, 'parties_asked', {'parties': data.get('consulted', []),
                                                    'old_deadline': shown(old),
                                                    'new_deadline': shown(procedure.deadline_dt)})
    names = [register.party(ctx.session, code).name for code in data.get('consulted', [])]
    runner.tell_everyone(ctx, procedure, 'parties_asked', parties=names, moved=procedure.deadline_dt != old,
                         deadlines=[deadline_entry(procedure)])


EFFECTS = {'request_registered': request_registered, 'consultation_extended': consultation_extended,
           'deadline_escalated': deadline_escalated, 'parties_asked': parties_asked}


def without_consent(ctx, procedure, event, **context):
    """Not every party consented (an objection, or answers missing at a closed deadline)."""
    answers = ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id)).all()
    objections = [a.party_code for a in answers if a.decision == 'objection']
    consents = len([a for a in answers if a.decision == 'consent'])
    runner.record(ctx, procedure, event, {'objections': objections, 'consents': consents})
    recipients = notices.everyone(ctx.session, ctx.now)
    if runner.type_of(procedure).informs_applicant:
        recipients.append('applicant')
    runner.tell(ctx, procedure, event, recipients, objections=objections, consents=consents, **context)


def _statements(ctx, procedure):
    """In the order the parties signed the deal, like a signature page: the statements of the Parties at
    adoption (the answer of a party that has left no longer counts, and is not attached)."""
    # Consent is bound to the text: only the statements given to the final version (or given before
    # answers recorded their text).
    final = text_sha256(answered_text(procedure))
    answers = ctx.session.execute(select(Answer, Party.name).join(Party, Party.code == Answer.party_code)
                                  .where(Answer.procedure_id == procedure.id, Answer.decision != VOID,
                                         Answer.text_sha256.is_(None) | (Answer.text_sha256 == final),
                                         Party.status.in_(register.CONSULTED_STATUSES)).order_by(Party.id)).all()
    return [{'party': a.party_code, 'party_name': name, 'representative': a.person,
             'date': local_date(a.answered_dt).isoformat(), 'decision': a.decision, 'statement': a.statement}
            for a, name in answers]


def attach_appendix(ctx, procedure, title, body):
    """Wijzigingen lid 3, Toetreding lid 4: the text and the statements of consent become a bijlage."""
    number = (ctx.session.scalar(select(func.max(Appendix.number)).where(Appendix.deal_id == ctx.deal.id)) or 0) + 1
    appendix = Appendix(deal_id=ctx.deal.id, number=number, procedure_id=procedure.id, title=title, body=body,
                        statements=_statements(ctx, procedure), adopted_dt=ctx.now)
    ctx.session.add(appendix)
    ctx.session.flush()
    runner.record(ctx, procedure, 'appendix_attached', {'number': number, 'title': title,
                                                        'statements': [s['party'] for s in appendix.statements]})
    return appendix


def lapse_for_party(ctx, party_code):
    """Close the open consent requests of a party that has left, so that no consultation waits for it."""
    rows = ctx.session.scalars(select(OpenTask).where(OpenTask.party_code == party_code,
                                                      OpenTask.name == CONSENT_TASK)).all()
    for row in rows:
        procedure = procedure_store.get(ctx.session, row.procedure_id, for_update=True)
        workflow = procedure_store.load(procedure, ctx.clock)
        runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
        task = workflow_runtime.find_task(workflow, row.id)
        if workflow_runtime.is_ready(task):
            task.data['answer'] = {'party': party_code, 'decision': LAPSED}
            if _last_open_request(task):
                task.data['answer'].update(verdict(ctx, procedure))
            task.run()
            runner.record(ctx, procedure, 'consent_request_lapsed', {'party': party_code,
                                                                     'reason': 'the party withdrew'})
        runner.advance(ctx, procedure, workflow)
