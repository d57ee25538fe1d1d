"""The consent round that wijziging and toetreding share: every Party is asked, within a deadline;
the projectleider extends or closes when answers are missing; the outcome becomes a bijlage.

Both models draw the round the same way (the multi-instance task ``instemming_geven`` with the
boundary timer ``termijn_verstreken``, the task ``verlengen_of_afsluiten`` and the gateway on
``answers_before + answers``) rather than calling a shared BPMN subprocess: SpiffWorkflow copies data
into and out of a call activity by name, and the round's data (who is asked, the answers before an
extension, the deadline) would then live in two scopes that must be kept in line by hand. The same
shape in two files, and this one module for everything around it, keeps each model readable alone.
"""
from datetime import datetime, timedelta

from marshmallow import ValidationError, validates_schema
from sqlalchemy import func, select

from engine import notices, procedure_store, register, rules, runner, workflow_runtime
from engine.dates import end_of_day, local_date, shown
from engine.errors import CommandRefused
from engine.models import Answer, Appendix, OpenTask, Party
from engine.procedures import fields as f
from engine.procedures.base import TaskForm, plain

CONSENT_TASK = 'instemming_geven'
OPEN_TASK = 'consultatie_openen'
EXTEND_TASK = 'verlengen_of_afsluiten'
#: the messages every consent round sends
MESSAGES = ('request_registered', 'consultation_opened', 'task_opened', 'objection_received', 'escalation',
            'reminder', 'overdue')
#: what a lapsed consent request records: the party left before it answered
LAPSED = 'lapsed'


def consultation_deadline(deal, now):
    """Wijzigingen lid 2: within 6 weeks of the request reaching projectleider and secretaris.

    A consultation never outlasts the deal: near the end it closes the day before the end date.
    """
    weeks = register.definition(deal).terms.consultation_weeks
    return min(end_of_day(local_date(now) + timedelta(weeks=weeks)),
               register.term_end_instant(deal) - timedelta(seconds=1))


def launch(ctx, type_, request, requester=None, statement=None):
    """Start a round: every Party but the requester is asked; the written request is the requester's
    own consent (``statement`` says what it asked)."""
    deadline = consultation_deadline(ctx.deal, ctx.now)
    others = register.consulted_parties(ctx.session, local_date(ctx.now),
                                        excluding=requester.code if requester else None)
    codes = [p.code for p in others]
    answers_before = [{'party': requester.code, 'decision': 'consent'}] if requester else []
    data = {'consulted': codes, 'consulted_all': codes, 'answers_before': answers_before,
            'consultation_deadline': deadline.isoformat(), 'requester': requester.code if requester else None}

    def record_requester_consent(procedure):
        ctx.session.add(Answer(procedure_id=procedure.id, party_code=requester.code, decision='consent',
                               statement=statement, person=ctx.actor.person, answered_dt=ctx.now))

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
    return {'answer': {'party': task.data['party'], 'decision': values['decision']}}


def _record_answer(ctx, procedure, row, values):
    ctx.session.add(Answer(procedure_id=procedure.id, task_id=row.id, party_code=row.party_code,
                           decision=values['decision'],
                           statement=values['statement'] or runner.type_of(procedure).default_statements[
                               values['decision']],
                           person=ctx.actor.person, answered_dt=ctx.now))
    if values['decision'] == 'objection':
        party = register.party(ctx.session, row.party_code)
        runner.tell(ctx, procedure, 'objection_received', ['projectleider'], party_name=party.name,
                    person=ctx.actor.person, statement=values['statement'])


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
OPEN = TaskForm(OpenForm, rules.WIJZIGINGEN_2, plain)


# --- the effects both models ask for

def request_registered(ctx, procedure, data):
    request = procedure.request
    runner.record(ctx, procedure, 'request_registered', {'reaches': list(notices.ROLES),
                                                         'consultation_deadline': shown(procedure.deadline_dt)})
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


EFFECTS = {'request_registered': request_registered, 'consultation_extended': consultation_extended,
           'deadline_escalated': deadline_escalated}


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
    """In the order the parties signed the deal, like a signature page."""
    answers = ctx.session.execute(select(Answer, Party.name).join(Party, Party.code == Answer.party_code)
                                  .where(Answer.procedure_id == procedure.id).order_by(Party.id)).all()
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
            task.run()
            runner.record(ctx, procedure, 'consent_request_lapsed', {'party': party_code,
                                                                     'reason': 'the party withdrew'})
        runner.advance(ctx, procedure, workflow)
