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
who was asked (issue 11, point 3). The engine decides at the moment the last open consent request is
answered (or lapses): its ``answer`` item carries the round's ``verdict``, computed from the Answer rows
(the record, including revised answers) against the Parties of that moment (active or in their notice
period, joined):

- ``adopted``: every current Party consented; an answer of a party that has left no longer counts;
- ``objection``: a current Party objects: the round waits (``overleg_loopt``, a timer at the deadline)
  for talks, in which the objection may be revised, until the deadline or until the projectleider
  closes it; at the deadline it is not adopted;
- ``ask``: a current Party was never asked: the model loops (``partijen_navragen``) and asks it, with at
  least ``minimum_consent_days`` to answer (the deadline moves out if needed, and everyone is told);
- ``not_adopted``: the projectleider closed the round (``closed``, with the ``reason``).

A party that becomes a Party during a round is asked at once (issue 11, point 3; ``ask_at_once``, from
the admission or, for a later effective date, from the scheduler on that day): a new instance of the
running multi-instance task, or the waiting round woken with the verdict ``ask``.

An objection goes to the projectleider (issue 11, point 4): the task ``bezwaar_behandelen``, opened through
the round's non-interrupting boundary event ``bezwaar_gemeld`` while requests are open (or through
``bezwaar_splitsen`` while the round waits), due at the deadline. ``close`` ends the round as not adopted
(the open requests lapse); ``wait`` keeps it open. The task lapses when no objection stands any more
(revised to consent, or the objecting party left), and at the deadline (its boundary timer). The waiting
round is woken by the engine (``_wake``) when a revision, a new Party, a new version or ``close`` changes
what it comes to; its timer is the round's deadline.

The gateway ``alle_ingestemd`` reads that verdict (falling back on the answers for a round started
before it existed). Procedures started on an earlier model keep it (the model travels in the saved
state): there an objection still ends the round when the last request is answered.
"""
import hashlib
from datetime import datetime, timedelta

from marshmallow import ValidationError, validates_schema
from sqlalchemy import func, select
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine import confirmations, notices, procedure_store, register, reminders, rules, runner, workflow_runtime
from engine.dates import end_of_day, local_date, shown
from engine.errors import CommandRefused
from engine.texts import text_sha256
from engine.models import Answer, Appendix, OpenTask, Party, Procedure
from engine.procedures import fields as f
from engine.procedures.base import TaskForm, plain
from engine.roles import PROJECTLEIDER

CONSENT_TASK = 'instemming_geven'
OPEN_TASK = 'consultatie_openen'
EXTEND_TASK = 'verlengen_of_afsluiten'
#: the projectleider's task when a Party objects (issue 11, point 4): wait for talks, or close
OBJECTION_TASK = 'bezwaar_behandelen'
#: the non-interrupting boundary event of the consent requests that opens OBJECTION_TASK
OBJECTION_RAISED = 'bezwaar_gemeld'
#: where the round waits while an objection stands and every Party answered: a timer at the deadline
WAITING = 'overleg_loopt'
#: the variable of every timer at the round's deadline
DEADLINE_VARIABLE = 'consultation_deadline'
#: the messages every consent round sends
MESSAGES = ('request_registered', 'request_received', 'consultation_opened', 'task_opened', 'objection_received',
            'escalation', 'reminder', 'overdue', 'opening_late', 'parties_asked', 'objection_closed')
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
    # Who is asked: the Parties of the moment the consultation opens (a party admitted since the request
    # came in is asked too; one that left since is not), every one but the requester.
    asked = [code for code in current_parties(ctx) if code != procedure.request.get('requester')]
    return {'consultation_deadline': deadline.isoformat(), 'consulted': asked, 'consulted_all': asked}


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


class ObjectionForm(f.CodedSchema):
    """Issue 11, point 4: a Party objected. ``wait`` keeps the round open for talks until the deadline;
    ``close`` ends it now, not adopted. Either way the projectleider says why, in words."""
    choice = f.Choice(('wait', 'close'), required=True)
    reason = f.Text(required=False)

    @validates_schema
    def choice_needs_reason(self, data, **kwargs):
        if not data.get('reason'):
            raise ValidationError({'reason': [f.Coded('objection.reason_required')]})


def _consent(ctx, procedure, task, values):
    answer = {'party': task.data['party'], 'decision': values['decision']}
    if values['decision'] == 'objection':
        # before the request runs: while it is open the round's boundary event can still open the task
        open_objection_task(ctx, procedure, task.workflow)
    if _last_open_request(task):
        answer.update(verdict(ctx, procedure, {task.data['party']: values['decision']}))
    return {'answer': answer}


def _handle_objection(ctx, procedure, task, values):
    """``close`` ends the round at once, not adopted (the open requests lapse); ``wait`` leaves it open."""
    if values['choice'] == 'close':
        close_round(ctx, procedure, task.workflow, values['reason'])
    return {'choice': values['choice'], 'objection_reason': values['reason']}


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
    objections = [code for code in parties if decisions.get(code) == 'objection']
    if objections:
        # Issue 11, point 4: an objection no longer ends the round; it waits for talks until the deadline.
        return {'verdict': 'objection', 'objections': objections}
    missing = [code for code in parties if decisions.get(code) not in ('consent', 'objection')]
    if missing:
        return {'verdict': 'ask', 'ask': missing, 'deadline': newcomers_deadline(ctx, procedure).isoformat()}
    return {'verdict': 'adopted'}


def newcomers_deadline(ctx, procedure):
    """The round's deadline, moved out so that a party asked now has at least ``minimum_consent_days``
    (never beyond the deal)."""
    minimum = register.definition(ctx.deal).terms.minimum_consent_days
    return min(max(procedure.deadline_dt, end_of_day(local_date(ctx.now) + timedelta(days=minimum))),
               register.term_end_instant(ctx.deal) - timedelta(seconds=1))


def objection_stands(ctx, procedure):
    """Whether a current Party's answer is an objection."""
    parties = set(current_parties(ctx))
    return any(code in parties for code in ctx.session.scalars(
        select(Answer.party_code).where(Answer.procedure_id == procedure.id, Answer.decision == 'objection')))


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
        runner.tell(ctx, procedure, 'objection_received', [PROJECTLEIDER.name], party_name=party.name,
                    person=ctx.actor.person, statement=values['statement'])
    # the answer as the record holds it, for its audit entry (task_completed's ``answer``; engine.replay)
    return {'decision': values['decision'], 'statement': statement, 'person': ctx.actor.person, 'text_sha256': sha}


def round_open(ctx, procedure, workflow=None):
    """A round still collects answers: running, its deadline not passed, and requests open or, every Party
    having answered, waiting while an objection stands (``workflow``: the procedure's, when loaded)."""
    if procedure.status != 'running' or procedure.deadline_dt is None or ctx.now > procedure.deadline_dt:
        return False
    if ctx.session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id,
                                                     OpenTask.name == CONSENT_TASK)).first() is not None:
        return True
    return _waiting(workflow or procedure_store.load(procedure, ctx.clock)) is not None


def collecting(session, procedure, now):
    """``round_open`` for a reader without a command's context (a receipt: may its answer be revised?)."""
    if procedure.status != 'running' or procedure.deadline_dt is None or now > procedure.deadline_dt:
        return False
    if session.scalars(select(OpenTask.id).where(OpenTask.procedure_id == procedure.id,
                                                 OpenTask.name == CONSENT_TASK)).first() is not None:
        return True
    return _waiting(workflow_runtime.load(procedure.state, None)) is not None


def revise_answer(ctx, procedure, answer, values):
    """Issue 11, point 4: a party replaces its answer while the round is open. The record keeps the new
    answer (the round's verdict reads it when the round closes); the audit keeps both. An objection goes
    to the projectleider (``bezwaar_behandelen``); an objection revised to consent lets that task lapse,
    and a round that waited for talks closes as it now comes to (adopted, say)."""
    workflow = procedure_store.load(procedure, ctx.clock)
    open_before = [str(t.id) for t in workflow_runtime.ready_tasks(workflow)]
    runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
    if not round_open(ctx, procedure, workflow):
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
        'values': {'decision': answer.decision, 'statement': answer.statement},
        'text_sha256': answer.text_sha256})
    # confirmed to the party like a first answer, with the head that holds the revision
    confirmations.answer_revised(ctx, procedure, answer, values, receipt)
    if answer.decision == 'objection' and old['decision'] != 'objection':
        party = register.party(ctx.session, answer.party_code)
        runner.tell(ctx, procedure, 'objection_received', [PROJECTLEIDER.name], party_name=party.name,
                    person=ctx.actor.person, statement=answer.statement)
        open_objection_task(ctx, procedure, workflow)
    elif old['decision'] == 'objection' and answer.decision != 'objection':
        objection_withdrawn(ctx, procedure, workflow, 'the objection was revised to consent')
    runner.advance(ctx, procedure, workflow, open_before)
    return receipt


def put_new_version(ctx, procedure, keep=None):
    """Issue 11, point 5: the text changed while the round is open. Every answer to the earlier version is
    void (``keep``: the party whose own consent goes with the new version, its requester); every open
    request closes; every Party is asked again with a fresh window (the model loops through
    ``partijen_navragen``). Returns the new deadline and the parties voided."""
    workflow = procedure_store.load(procedure, ctx.clock)
    runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
    if not round_open(ctx, procedure, workflow):
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
    # an objection to the earlier version no longer stands
    _lapse_objection_tasks(ctx, procedure, workflow, 'a new version of the text was put to the Parties')
    again = {'verdict': 'ask', 'ask': ask, 'deadline': deadline.isoformat(), 'why': 'new_version'}
    if not _answer_open_requests(workflow, VOID, again):
        _wake(workflow, again)
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
    return {'choice': 'extend', 'consultation_deadline': end_of_day(day).isoformat(),
            'extension_reason': values['reason'],
            # every Party of now that has not answered (one admitted during the round too)
            'consulted': _missing(ctx, procedure),
            'answers_before': [{'party': a.party_code, 'decision': a.decision} for a in answers]}


def _missing(ctx, procedure):
    """The current Parties without an answer (to this version of the text) in the round."""
    answered = set(ctx.session.scalars(select(Answer.party_code).where(
        Answer.procedure_id == procedure.id, Answer.decision.in_(('consent', 'objection')))))
    return [code for code in current_parties(ctx) if code not in answered]


CONSENT = TaskForm(ConsentForm, rules.WIJZIGINGEN_1, _consent, record=_record_answer, document_purpose='statement')
EXTEND = TaskForm(ExtendOrCloseForm, rules.WIJZIGINGEN_2, _extend_or_close)
OBJECTION = TaskForm(ObjectionForm, rules.WIJZIGINGEN_1, _handle_objection)


def _open(ctx, procedure, task, values):
    return dict(plain(ctx, procedure, task, values), **answer_window(ctx, procedure, rules.WIJZIGINGEN_2))


OPEN = TaskForm(OpenForm, rules.WIJZIGINGEN_2, _open, escalates_when_late=True)


# --- the effects both models ask for

def request_registered(ctx, procedure, data):
    request = procedure.request
    runner.record(ctx, procedure, 'request_registered', {'reaches': list(notices.ROLES),
                                                         'received': request.get('received'),
                                                         'opening_deadline': shown(procedure.deadline_dt),
                                                         **_requester_answer(ctx, procedure)})
    requester = request.get('requester')
    submitted_by = request.get('applicant') or (register.party(ctx.session, requester).name if requester else None) \
        or 'de Partijen gezamenlijk'
    runner.tell(ctx, procedure, 'request_registered', notices.ROLES,
                kind=runner.type_of(procedure).request_kind, submitted_by=submitted_by, deadlines=[deadline_entry(procedure)])
    confirmations.request_received(ctx, procedure, runner.type_of(procedure).request_kind)


def _requester_answer(ctx, procedure):
    """The requester's own consent (recorded when the round was launched), for the audit entry of the
    registration: what ``audit verify`` compares the answer's row with (engine.replay)."""
    requester = procedure.request.get('requester')
    answer = ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id,
                                                      Answer.party_code == requester)).first() if requester else None
    if answer is None:
        return {}
    return {'requester_answer': {'party': answer.party_code, 'decision': answer.decision,
                                 'statement': answer.statement, 'person': answer.person,
                                 'text_sha256': answer.text_sha256}}


def _deadline_handed_on(procedure, data):
    """The round's deadline becomes the one the model hands its effect (``consultation_deadline``): the
    projectleider extended it, or Parties asked during the round moved it out (the timers and open tasks
    already at it moved with ``_move_deadline``). Returns the deadline before."""
    old = procedure.deadline_dt
    procedure.deadline_dt = datetime.fromisoformat(data[DEADLINE_VARIABLE])
    return old


def consultation_extended(ctx, procedure, data):
    _deadline_handed_on(procedure, data)
    runner.record(ctx, procedure, 'consultation_extended', {'new_deadline': shown(procedure.deadline_dt),
                                                            'reason': data.get('extension_reason', ''),
                                                            'still_asked': data.get('consulted', [])})


def deadline_escalated(ctx, procedure, data):
    """At the deadline with answers missing, the projectleider hears who has not answered."""
    # the Parties of now (one admitted during the round is named too, asked or not)
    missing = _missing(ctx, procedure)
    runner.record(ctx, procedure, 'deadline_passed', {'deadline': shown(procedure.deadline_dt), 'missing': missing})
    names = [register.party(ctx.session, code).name for code in missing]
    runner.tell(ctx, procedure, 'escalation', [PROJECTLEIDER.name], deadline=procedure.deadline_dt, missing=names,
                dedupe_key=f'escalation:{procedure.id}:{procedure.deadline_dt.isoformat()}')


def parties_asked(ctx, procedure, data):
    """Parties admitted during the round are asked now; the deadline moved out if they needed more time.
    (After a new version of the text every Party is asked again: the new version's message told why.)"""
    old = _deadline_handed_on(procedure, data)
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


def without_consent(ctx, procedure, event, data=None, **context):
    """Not every party consented (an objection at the deadline, answers missing at a closed deadline, or
    the projectleider closed the round after an objection: then everyone hears why, ``objection_closed``)."""
    answers = ctx.session.scalars(select(Answer).where(Answer.procedure_id == procedure.id)).all()
    objections = [a.party_code for a in answers if a.decision == 'objection']
    consents = len([a for a in answers if a.decision == 'consent'])
    closed = next((a for a in (data or {}).get('answers') or () if isinstance(a, dict) and a.get('closed')), None)
    runner.record(ctx, procedure, event, {'objections': objections, 'consents': consents,
                                          **({'closed_by': PROJECTLEIDER.name, 'reason': closed.get('reason')}
                                             if closed else {})})
    recipients = notices.everyone(ctx.session, ctx.now)
    if runner.type_of(procedure).informs_applicant:
        recipients.append('applicant')
    if closed:
        runner.tell(ctx, procedure, 'objection_closed', recipients, objections=objections, consents=consents,
                    reason=closed.get('reason'), kind=runner.type_of(procedure).request_kind, **context)
    else:
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
    runner.record(ctx, procedure, 'appendix_attached', {
        'number': number, 'title': title, 'statements': [s['party'] for s in appendix.statements],
        # what `audit verify` compares the bijlage with (engine.replay); statements by hash, so that the entry
        # shows no text a Party asked to keep confidential
        'body_sha256': hashlib.sha256(body.encode('utf-8')).hexdigest(),
        'statement_records': [dict({k: v for k, v in s.items() if k != 'statement'},
                                   statement_sha256=hashlib.sha256(s['statement'].encode('utf-8')).hexdigest())
                              for s in appendix.statements]})
    return appendix


def lapse_for_party(ctx, party_code):
    """Close the open consent requests of a party that has left, so that no consultation waits for it; its
    objection no longer counts (the projectleider's task about it lapses, a waiting round closes as it
    now comes to)."""
    rows = ctx.session.scalars(select(OpenTask).where(OpenTask.party_code == party_code,
                                                      OpenTask.name == CONSENT_TASK)).all()
    objected = ctx.session.scalars(select(Answer.procedure_id).join(Procedure, Procedure.id == Answer.procedure_id)
                                   .where(Answer.party_code == party_code, Answer.decision == 'objection',
                                          Procedure.status == 'running').order_by(Answer.procedure_id)).all()
    for procedure_id in objected:
        procedure = procedure_store.get(ctx.session, procedure_id, for_update=True)
        workflow = procedure_store.load(procedure, ctx.clock)
        runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
        if procedure.status == 'running':
            objection_withdrawn(ctx, procedure, workflow, 'the objecting party withdrew')
        runner.advance(ctx, procedure, workflow)
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


def ask_at_once(ctx, party_code, excluding=None):
    """Issue 11, point 3: a party that becomes a Party while rounds are open is asked in each of them at
    once, with at least ``minimum_consent_days`` to answer (the round's deadline moves out if needed, and
    everyone is told: ``parties_asked``). A round not yet opened asks it when it opens; one waiting for the
    projectleider at its deadline asks it when extended. ``excluding``: the procedure of the command (the
    accession that admits the party), moved by its caller. Returns the procedures it was asked in."""
    from engine import procedures as registry
    types = [t.id for t in registry.all_types() if CONSENT_TASK in t.forms]
    asked_in = []
    running = ctx.session.scalars(select(Procedure.id).where(Procedure.type.in_(types), Procedure.status == 'running')
                                  .order_by(Procedure.id)).all()
    for procedure_id in running:
        if procedure_id == excluding:
            continue
        answered = ctx.session.scalars(select(Answer.id).where(
            Answer.procedure_id == procedure_id, Answer.party_code == party_code, Answer.decision != VOID)).first()
        if answered is not None or ctx.session.scalars(select(OpenTask.id).where(
                OpenTask.procedure_id == procedure_id, OpenTask.party_code == party_code)).first() is not None:
            continue
        procedure = procedure_store.get(ctx.session, procedure_id, for_update=True)
        workflow = procedure_store.load(procedure, ctx.clock)
        open_before = [str(t.id) for t in workflow_runtime.ready_tasks(workflow)]
        runner.apply(ctx, procedure, workflow_runtime.advance(workflow))
        requests, waiting = _requests(workflow), _waiting(workflow)
        if procedure.status == 'running' and (requests is not None or waiting is not None):
            deadline = newcomers_deadline(ctx, procedure)
            _move_deadline(ctx, procedure, workflow, deadline)
            if requests is not None:
                # a new instance of the running multi-instance task: the others' requests stay as they are
                requests.task_spec.create_child(requests, party_code)
                parties_asked(ctx, procedure, {DEADLINE_VARIABLE: deadline.isoformat(), 'consulted': [party_code]})
            else:
                _wake(workflow, {'verdict': 'ask', 'ask': [party_code], 'deadline': deadline.isoformat()})
            asked_in.append(procedure.id)
        runner.advance(ctx, procedure, workflow, open_before)
    return asked_in


def open_objection_task(ctx, procedure, workflow):
    """A Party objects: the projectleider gets ``bezwaar_behandelen``, unless one is open already."""
    if _ready(workflow, OBJECTION_TASK):
        return
    raised = _with_state(workflow, OBJECTION_RAISED, TaskState.WAITING)
    if raised:
        _catch(raised[0])
        _arm_again(raised[0])
    elif _waiting(workflow) is not None:
        _wake(workflow, {'verdict': 'objection', 'open_task': True})


def objection_withdrawn(ctx, procedure, workflow, reason):
    """An objection no longer stands (revised to consent, or its party left): when none stands any more the
    projectleider's task lapses, and a round that waited for talks closes as it now comes to."""
    if objection_stands(ctx, procedure):
        return
    _lapse_objection_tasks(ctx, procedure, workflow, reason)
    if _waiting(workflow) is not None:
        _wake(workflow, verdict(ctx, procedure))


def close_round(ctx, procedure, workflow, reason):
    """The projectleider closes the round after an objection: not adopted; every open request lapses."""
    closed = {'verdict': 'not_adopted', 'closed': True, 'reason': reason}

    def lapsed(task):
        runner.record(ctx, procedure, 'consent_request_lapsed', {'party': task.data['party'],
                                                                 'reason': 'the projectleider closed the round'})
    if not _answer_open_requests(workflow, LAPSED, closed, lapsed) and _waiting(workflow) is not None:
        _wake(workflow, closed)


def _answer_open_requests(workflow, decision, outcome, after=lambda task: None):
    """Every open consent request answered with ``decision`` (void, lapsed), the last one carrying ``outcome``
    for the model's gateway; ``after`` each. Returns the requests answered (none: the model waits elsewhere)."""
    open_requests = _ready(workflow, CONSENT_TASK)
    for task in open_requests:
        task.data['answer'] = {'party': task.data['party'], 'decision': decision}
    if open_requests:
        open_requests[-1].data['answer'].update(outcome)
    for task in open_requests:
        task.run()
        after(task)
    return open_requests


def _lapse_objection_tasks(ctx, procedure, workflow, reason):
    for task in _ready(workflow, OBJECTION_TASK):
        task.data.update(choice=LAPSED)
        task.run()
        runner.record(ctx, procedure, 'objection_task_lapsed', {'task': OBJECTION_TASK, 'task_id': str(task.id),
                                                                'reason': reason})


# --- the round's workflow, where SpiffWorkflow 3.2 needs a hand (only the models' own elements are touched)

def _with_state(workflow, bpmn_id, state):
    return [t for t in workflow.get_tasks(state=state) if getattr(t.task_spec, 'bpmn_id', None) == bpmn_id]


def _ready(workflow, bpmn_id):
    return [t for t in workflow_runtime.ready_tasks(workflow) if t.task_spec.bpmn_id == bpmn_id]


def _requests(workflow):
    """The running multi-instance task of the consent requests (its instances are the requests), or None."""
    return next((t for t in _with_state(workflow, CONSENT_TASK, TaskState.STARTED)
                 if hasattr(t.task_spec, 'create_child')), None)


def _waiting(workflow):
    """The round waiting for talks (every Party answered, an objection stands), or None."""
    return next(iter(_with_state(workflow, WAITING, TaskState.WAITING)), None)


def _catch(task):
    """Let a waiting catch event of the model fire now, as SpiffWorkflow's event manager does."""
    task.task_spec.catch(task, BpmnEvent(task.task_spec.event_definition))
    task.task_spec._update(task)


def _arm_again(task):
    """A non-interrupting boundary event fires each time while its activity runs (BPMN 2.0, 10.5.3);
    SpiffWorkflow 3.2 fires it once. After it fired, the same event waits again beside the activity."""
    again = task.parent._add_child(task.task_spec, TaskState.MAYBE)
    again.task_spec._predict(again)
    again._set_state(TaskState.WAITING)
    again.task_spec._update(again)


def _wake(workflow, outcome):
    """End the round's wait (a timer at its deadline) now, with what it comes to: the gateway
    ``alle_ingestemd`` reads ``answers`` as it reads the last answer of the requests."""
    task = _waiting(workflow)
    _catch(task)
    # after the catch: a task taken up takes its data from the one before it
    task.data['answers'] = [outcome]


def _move_deadline(ctx, procedure, workflow, deadline):
    """The round's deadline moves to ``deadline``: every timer at it (the requests', the wait's, the
    projectleider's task's, and those still to come), and the open tasks due then with their reminders.
    The procedure's own deadline is the caller's (``parties_asked`` records the move)."""
    old = procedure.deadline_dt
    if deadline == old:
        return
    for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
        if DEADLINE_VARIABLE in task.data:
            task.data[DEADLINE_VARIABLE] = deadline.isoformat()
        event = getattr(task.task_spec, 'event_definition', None)
        value = task._get_internal_data('event_value')
        if isinstance(event, TimeDateEventDefinition) and event.expression == DEADLINE_VARIABLE and value \
                and TimerEventDefinition.get_datetime(value) == old:
            task._set_internal_data(event_value=deadline.isoformat())
    definition = register.definition(ctx.deal)
    for row in ctx.session.scalars(select(OpenTask).where(OpenTask.procedure_id == procedure.id,
                                                          OpenTask.due_dt == old)):
        reminders.move(ctx.session, definition, procedure, row, deadline)
