"""Toetreding: another organisation asks in writing to join, with its concrete contribution; it
becomes a Party once all Partijen consent (Toetreding nieuwe Partijen lid 1-4; Deel 2, Aansluiten
nieuwe deelnemers: it endorses the goals)."""
import re
from datetime import date

from marshmallow import validate
from sqlalchemy import select

from engine import names, notices, register, rules, runner
from engine.dates import local_date
from engine.deal_file import CODE_PATTERN, PARTY_KINDS
from engine.errors import CommandRefused, Problem
from engine.models import Party, Procedure
from engine.procedures import consent_round, fields as f
from engine.procedures.base import PUBLIC, ProcedureType, TaskForm
from engine.roles import APPLICANT

CRITERIA_TASK = 'criteria_toetsen'


class Start(f.CodedSchema):
    applicant = f.Name(required=True)
    kind = f.Choice(PARTY_KINDS, required=True)
    representative = f.Name(required=True)
    contribution = f.Text(required=True)
    endorses_goals = f.YesNo(load_default=False)
    email = f.Line(load_default=None, required=False)
    confidential = f.YesNo(load_default=False)

    @f.validates_schema(skip_on_field_errors=False)
    def goals_endorsed_and_address(self, data, **kwargs):
        errors = {}
        if data.get('endorses_goals') is not True:
            errors['endorses_goals'] = [f.Coded('toetreding.goals_not_endorsed', rule=rules.AANSLUITEN)]
        if data.get('email') and not _valid_email(data['email']):
            errors['email'] = [f.Coded('field.not_an_email')]
        if errors:
            raise f.ValidationError(errors)


def start(ctx, values):
    applicant, email = values['applicant'], values['email'] or None
    problems = []
    if _is_party(ctx.session, applicant):
        problems.append(Problem('toetreding.already_a_party', 'applicant', {'applicant': applicant},
                                rules.TOETREDING_1))
    pending = _pending(ctx.session, applicant)
    if pending:
        problems.append(Problem('toetreding.already_running', 'applicant', {'applicant': applicant,
                                                                            'procedure': pending.id},
                                rules.TOETREDING_2))
    lookalike = None if problems else _lookalike(ctx.session, applicant)
    if lookalike is not None:
        problems.append(Problem('toetreding.name_like_party', 'applicant', {'applicant': applicant,
                                                                            'party': lookalike.name},
                                rules.TOETREDING_1))
    if problems:
        raise CommandRefused(problems)
    request = {'applicant': applicant, 'kind': values['kind'], 'representative': values['representative'],
               'contribution': values['contribution'], 'endorses_goals': True, 'email': email,
               'confidential': values['confidential']}
    # The organisation is not a party yet: its representative acts for it as the applicant.
    ctx = ctx.acting(runner.Actor(values['representative'], APPLICANT,
                                  ctx.actor.account_id if ctx.actor else None))
    return consent_round.launch(ctx, TYPE, request)


def _valid_email(address):
    try:
        validate.Email()(address)
    except f.ValidationError:
        return False
    return len(address) <= 254


def _is_party(session, name):
    return any(p.name.casefold() == name.casefold() for p in register.parties(session)
               if p.status in register.CONSULTED_STATUSES)


def _lookalike(session, name):
    """A party whose name looks like ``name`` (the same confusable skeleton), or None."""
    return next((p for p in register.parties(session) if names.looks_like(p.name, name)), None)


def _pending(session, applicant):
    running = session.scalars(select(Procedure).where(Procedure.type == TYPE.id, Procedure.status == 'running'))
    return next((p for p in running if p.request['applicant'].casefold() == applicant.casefold()), None)


class CriteriaForm(f.CodedSchema):
    complete = f.YesNo(required=True)
    reason = f.Text(required=False)

    @f.validates_schema(skip_on_field_errors=False)
    def refusal_needs_reason(self, data, **kwargs):
        if data.get('complete') is False and not data.get('reason'):
            raise f.ValidationError({'reason': [f.Coded('toetreding.return_reason_required')]})


class NewPartyForm(f.CodedSchema):
    code = f.Line(required=True, max_length=40)
    effective_date = f.Day(required=True)


def _criteria(ctx, procedure, task, values):
    return {'criteria_met': values['complete'], 'criteria_reason': values['reason']}


def _new_party(ctx, procedure, task, values):
    if not re.fullmatch(CODE_PATTERN, values['code']):
        raise CommandRefused.one('toetreding.code_format', 'code', rules.TOETREDING_3)
    if ctx.session.scalars(select(Party).where(Party.code == values['code'])).first():
        raise CommandRefused.one('toetreding.code_taken', 'code', rules.TOETREDING_3, party_code=values['code'])
    if values['effective_date'] < local_date(ctx.now) or values['effective_date'] >= ctx.deal.end_date:
        raise CommandRefused.one('toetreding.effective_date_out_of_range', 'effective_date', rules.TOETREDING_1,
                                 day=values['effective_date'], end=ctx.deal.end_date)
    return {'new_party_code': values['code'], 'effective_date': values['effective_date'].isoformat()}


def accession_returned(ctx, procedure, data):
    reason = data.get('criteria_reason', '')
    runner.record(ctx, procedure, 'accession_returned', {'reason': reason})
    runner.tell(ctx, procedure, 'accession_returned', notices.everyone(ctx.session, ctx.now) + [APPLICANT],
                applicant=procedure.request['applicant'], reason=reason)


def party_admitted(ctx, procedure, data):
    request = procedure.request
    # A contribution the applicant marked confidential stays in the appendix, which public pages hide.
    contribution = 'Vertrouwelijk (zie de bijlage)' if request.get('confidential') else request['contribution']
    party = Party(deal_id=ctx.deal.id, code=data['new_party_code'], name=request['applicant'], kind=request['kind'],
                  email=request.get('email'), representatives=[request['representative']], annual_contribution_eur=None,
                  contribution_text=contribution, status='active', joined_on=date.fromisoformat(data['effective_date']))
    ctx.session.add(party)
    ctx.session.flush()
    register.remember(ctx.session, party)
    runner.record(ctx, procedure, 'party_admitted', {'code': party.code, 'name': party.name,
                                                     'joined_on': str(party.joined_on)})
    body = (f"Aanvrager: {request['applicant']} ({request['kind']}), vertegenwoordigd door {request['representative']}\n"
            f"Concrete bijdrage: {request['contribution']}\n"
            f"Onderschrijft de doelstellingen van de City Deal: ja\nIngangsdatum: {party.joined_on}")
    appendix = consent_round.attach_appendix(ctx, procedure, f"Toetreding: {request['applicant']}", body)
    runner.tell(ctx, procedure, 'party_admitted', notices.everyone(ctx.session, ctx.now) + [party.code],
                party_name=party.name, joined_on=party.joined_on, contribution=request['contribution'],
                appendix_number=appendix.number)


def accession_refused(ctx, procedure, data):
    consent_round.without_consent(ctx, procedure, 'accession_refused', applicant=procedure.request['applicant'])


def summary(procedure):
    request = procedure.request
    return (f"Aanvrager: {request['applicant']} ({request['kind']})\n"
            f"Vertegenwoordigd door: {request['representative']}\n"
            f"Concrete bijdrage: {request['contribution']}")


TYPE = ProcedureType(
    id='toetreding',
    rule=rules.TOETREDING_2,
    start_schema=Start,
    started_by=frozenset({PUBLIC}),
    start=start,
    forms={CRITERIA_TASK: TaskForm(CriteriaForm, rules.AANSLUITEN, _criteria),
           consent_round.CONSENT_TASK: consent_round.CONSENT, consent_round.EXTEND_TASK: consent_round.EXTEND,
           'partij_vastleggen': TaskForm(NewPartyForm, rules.TOETREDING_3, _new_party)},
    effects=dict(consent_round.EFFECTS, accession_returned=accession_returned, party_admitted=party_admitted,
                 accession_refused=accession_refused),
    title=lambda procedure: f"Toetreding {procedure.request['applicant']}",
    deadline=consent_round.deadline_entry,
    summary=summary,
    due_at_deadline=frozenset({consent_round.CONSENT_TASK, CRITERIA_TASK}),
    messages=consent_round.MESSAGES + ('accession_returned', 'party_admitted', 'accession_refused'),
    informs_applicant=True,
    default_statements={'consent': 'Stemt in met de toetreding.', 'objection': 'Maakt bezwaar.'},
    request_kind='verzoek tot toetreding',
    help='apply to join',
)
