"""Toetreding: another organisation asks in writing to join, with its concrete contribution; it
becomes a Party once all Partijen consent (Toetreding nieuwe Partijen lid 1-4; Deel 2, Aansluiten
nieuwe deelnemers: it endorses the goals)."""
import calendar
import re
from datetime import date
from functools import lru_cache

from marshmallow import validate
from sqlalchemy import select

from engine import names, notices, register, rules, runner
from engine.dates import local_date, start_of_day
from engine.deal_file import CODE_PATTERN, PARTY_KINDS
from engine.errors import CommandRefused, Problem
from engine.models import AuditEntry, Party, Procedure
from engine.procedures import consent_round, fields as f, paper
from engine.procedures.base import PUBLIC, AutoStart, ProcedureType, TaskForm
from engine.roles import APPLICANT

CRITERIA_TASK = 'criteria_toetsen'


PLEDGE_PER = ('year', 'once')


class Start(f.CodedSchema):
    applicant = f.Name(required=True)
    #: the kinds of the deal file's ``[deal] party_kinds`` (``start_schema_for``); these are the default
    kind = f.Choice(PARTY_KINDS, required=True)
    representative = f.Name(required=True)
    contribution = f.Text(required=True)
    #: a financial pledge beside the contribution's text: euros, per year or once
    pledge_eur = f.Number(load_default=None, required=False)
    pledge_per = f.Choice(PLEDGE_PER, load_default=None, required=False)
    endorses_goals = f.YesNo(load_default=False)
    email = f.Line(load_default=None, required=False)
    confidential = f.YesNo(load_default=False)
    received = paper.received_field()

    @f.validates_schema(skip_on_field_errors=False, pass_original=True)
    def goals_endorsed(self, data, original, **kwargs):
        errors = {}
        if data.get('endorses_goals') is not True:
            errors['endorses_goals'] = [f.Coded('toetreding.goals_not_endorsed', rule=rules.AANSLUITEN)]
        if data.get('email') and not _valid_email(data['email']):
            errors['email'] = [f.Coded('field.not_an_email')]
        amount, per = data.get('pledge_eur'), data.get('pledge_per')
        given = original if isinstance(original, dict) else {}
        # a value given but refused by its own field has its message already
        amount = amount if amount is not None else given.get('pledge_eur') or None
        per = per if per is not None else given.get('pledge_per') or None
        if isinstance(amount, int) and amount < 1:
            errors['pledge_eur'] = [f.Coded('toetreding.pledge_not_positive', rule=rules.TOETREDING_2)]
        if (amount is None) != (per is None) and 'pledge_eur' not in errors:
            missing = 'pledge_per' if per is None else 'pledge_eur'
            errors[missing] = [f.Coded('toetreding.pledge_incomplete', rule=rules.TOETREDING_2)]
        if errors:
            raise f.ValidationError(errors)


@lru_cache(maxsize=8)
def _start_schema_with(kinds):
    return type('Start', (Start,), {'kind': f.Choice(kinds, required=True)})


def start_schema_for(deal):
    """The start schema with the kinds of party the loaded deal admits (Deel 2: "Toetreding beperkt zich
    niet tot (grote) steden"): a kind the deal file does not list is refused, naming the ones it does."""
    return _start_schema_with(register.definition(deal).party_kinds)


def register_problems(session, applicant):
    """What the register refuses in a request to join: checked when the public form is sent and again when
    the request is confirmed and started (the register may have changed in between)."""
    problems = []
    if _is_party(session, applicant):
        problems.append(Problem('toetreding.already_a_party', 'applicant', {'applicant': applicant},
                                rules.TOETREDING_1))
    pending = _pending(session, applicant)
    if pending:
        problems.append(Problem('toetreding.already_running', 'applicant', {'applicant': applicant,
                                                                            'procedure': pending.id},
                                rules.TOETREDING_2))
    lookalike = None if problems else _lookalike(session, applicant)
    if lookalike is not None:
        problems.append(Problem('toetreding.name_like_party', 'applicant', {'applicant': applicant,
                                                                            'party': lookalike.name},
                                rules.TOETREDING_1))
    return problems


def start(ctx, values):
    applicant, email = values['applicant'], values['email'] or None
    received = paper.received_day(ctx, values, rules.TOETREDING_2)
    problems = register_problems(ctx.session, applicant)
    if problems:
        raise CommandRefused(problems)
    request = {'applicant': applicant, 'kind': values['kind'], 'representative': values['representative'],
               'contribution': values['contribution'], 'pledge_eur': values['pledge_eur'],
               'pledge_per': values['pledge_per'], 'endorses_goals': True, 'email': email,
               'confidential': values['confidential'], **paper.entry(ctx, received)}
    # The organisation is not a party yet: its representative acts for it as the applicant.
    ctx = ctx.acting(runner.Actor(values['representative'], APPLICANT,
                                  ctx.actor.account_id if ctx.actor else None))
    return consent_round.launch(ctx, TYPE, request, received=received)


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
    """A party whose name looks like ``name`` (the same confusable skeleton), or None. A party that has left
    may come back under its own name."""
    return next((p for p in register.parties(session)
                 if p.status != 'withdrawn' and names.looks_like(p.name, name)), None)


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
    #: default: the next start of the yearly cycle ("in principe met de vaststelling van een nieuw jaarprogramma")
    effective_date = f.Day(load_default=None, required=False)
    #: why another day than the default; required then
    effective_date_reason = f.Text(required=False)


def default_effective_date(deal, today):
    """Deel 2, Aansluiten nieuwe deelnemers: "In principe vindt toetreding plaats met de vaststelling
    van een nieuw jaarprogramma": the next start of the yearly cycle, from today on, inside the term;
    today where the deal sets no cycle start or none comes before the end."""
    month_day = register.definition(deal).terms.annual_cycle_start
    if month_day:
        month, day = month_day
        for year in (today.year, today.year + 1):
            first = date(year, month, min(day, calendar.monthrange(year, month)[1]))
            if today <= first < deal.end_date:
                return first
    return today


def _criteria(ctx, procedure, task, values):
    data = {'criteria_met': values['complete'], 'criteria_reason': values['reason']}
    if values['complete']:
        # A complete request opens the consultation: the answer window starts now (consent_round).
        data.update(consent_round.answer_window(ctx, procedure, rules.TOETREDING_2))
    return data


def _new_party(ctx, procedure, task, values):
    problems = []
    if not re.fullmatch(CODE_PATTERN, values['code']):
        problems.append(Problem('toetreding.code_format', 'code', {}, rules.TOETREDING_3))
    elif ctx.session.scalars(select(Party).where(Party.code == values['code'])).first():
        problems.append(Problem('toetreding.code_taken', 'code', {'party_code': values['code']}, rules.TOETREDING_3))
    today = local_date(ctx.now)
    default = default_effective_date(ctx.deal, today)
    effective = values['effective_date'] or default
    reason = values.get('effective_date_reason') or ''
    if effective < today or effective >= ctx.deal.end_date:
        problems.append(Problem('toetreding.effective_date_out_of_range', 'effective_date',
                                {'day': effective, 'end': ctx.deal.end_date}, rules.TOETREDING_1))
    elif effective != default and not reason:
        problems.append(Problem('toetreding.effective_date_reason_required', 'effective_date_reason',
                                {'day': effective, 'default': default}, rules.AANSLUITEN))
    if problems:
        raise CommandRefused(problems)
    return {'new_party_code': values['code'], 'effective_date': effective.isoformat(),
            'effective_date_reason': reason if effective != default else ''}


def accession_returned(ctx, procedure, data):
    reason = data.get('criteria_reason', '')
    runner.record(ctx, procedure, 'accession_returned', {'reason': reason})
    runner.tell(ctx, procedure, 'accession_returned', notices.everyone(ctx.session, ctx.now) + [APPLICANT],
                applicant=procedure.request['applicant'], reason=reason)


def party_admitted(ctx, procedure, data):
    request = procedure.request
    # A contribution the applicant marked confidential stays in the appendix, which public pages hide.
    contribution = 'Vertrouwelijk (zie de bijlage)' if request.get('confidential') else request['contribution']
    # A yearly pledge is owed like a founding party's contribution when the party withdraws (Opzegging lid 3).
    yearly = request.get('pledge_eur') if request.get('pledge_per') == 'year' else None
    party = Party(deal_id=ctx.deal.id, code=data['new_party_code'], name=request['applicant'], kind=request['kind'],
                  email=request.get('email'), representatives=[request['representative']],
                  annual_contribution_eur=yearly, contribution_text=contribution, status='active',
                  joined_on=date.fromisoformat(data['effective_date']))
    ctx.session.add(party)
    ctx.session.flush()
    register.remember(ctx.session, party)
    runner.record(ctx, procedure, 'party_admitted', {
        'code': party.code, 'name': party.name, 'joined_on': str(party.joined_on),
        'pledge': {'amount_eur': request.get('pledge_eur'), 'per': request.get('pledge_per')},
        'effective_date_reason': data.get('effective_date_reason', '')})
    body = (f"Aanvrager: {request['applicant']} ({request['kind']}), vertegenwoordigd door {request['representative']}\n"
            f"Concrete bijdrage: {request['contribution']}\n"
            + (f"Financiële toezegging: {pledge_text(request)}\n" if request.get('pledge_eur') else '')
            + f"Onderschrijft de doelstellingen van de {ctx.deal.citeertitel}: ja\nIngangsdatum: {party.joined_on}"
            + (f"\nReden van deze ingangsdatum: {data['effective_date_reason']}"
               if data.get('effective_date_reason') else ''))
    appendix = consent_round.attach_appendix(ctx, procedure, f"Toetreding: {request['applicant']}", body)
    runner.tell(ctx, procedure, 'party_admitted', notices.everyone(ctx.session, ctx.now) + [party.code],
                party_name=party.name, joined_on=party.joined_on, contribution=request['contribution'],
                appendix_number=appendix.number)
    # what this accession is about: the scheduler finds the party's day of joining by it (``joinings_to_come``)
    procedure.subject_key = f'{JOINS}{party.code}'
    if party.joined_on <= local_date(ctx.now):
        party_joined(ctx, procedure, party)


#: the subject key of an accession that admitted a party: this prefix and the party's code
JOINS = 'party:'


def party_joined(ctx, procedure, party):
    """Issue 11, point 3: on its effective date the party is a Party, and is asked at once in every round
    still open (``consent_round.ask_at_once``). Recorded on its accession, once."""
    asked_in = consent_round.ask_at_once(ctx, party.code, excluding=procedure.id)
    runner.record(ctx, procedure, 'party_joined', {'party': party.code, 'joined_on': str(party.joined_on),
                                                   'asked_in': asked_in})


def joinings_to_come(session, deal):
    """(start of the effective date, party code) of each party admitted to join on a later day and not yet
    joined: the scheduler fires each at that day (``_joins``). Cheap when no admitted party waits."""
    waiting = {p.code: p for p in register.parties(session)
               if p.joined_on > deal.start_date and p.status in register.CONSULTED_STATUSES}
    if not waiting:
        return []
    accessions = dict(session.execute(select(Procedure.id, Procedure.subject_key).where(
        Procedure.subject_key.in_([f'{JOINS}{code}' for code in waiting]))).all())
    joined = set(session.scalars(select(AuditEntry.procedure_id).where(
        AuditEntry.procedure_id.in_(list(accessions)), AuditEntry.event == 'party_joined')))
    return sorted((start_of_day(waiting[key[len(JOINS):]].joined_on), key[len(JOINS):])
                  for procedure_id, key in accessions.items() if procedure_id not in joined)


def _joins(ctx, code):
    procedure = ctx.session.scalars(select(Procedure).where(Procedure.subject_key == f'{JOINS}{code}')).one()
    party_joined(ctx, procedure, register.party(ctx.session, code))
    return procedure


def pledge_text(request):
    amount = f"EUR {request['pledge_eur']:,}".replace(',', '.')
    return f"{amount} {'per jaar' if request['pledge_per'] == 'year' else 'eenmalig'}"


def accession_refused(ctx, procedure, data):
    consent_round.without_consent(ctx, procedure, 'accession_refused', data,
                                  applicant=procedure.request['applicant'])


def summary(procedure):
    request = procedure.request
    return (f"Aanvrager: {request['applicant']} ({request['kind']})\n"
            f"Vertegenwoordigd door: {request['representative']}\n"
            f"Concrete bijdrage: {request['contribution']}"
            + (f"\nFinanciële toezegging: {pledge_text(request)}" if request.get('pledge_eur') else ''))


TYPE = ProcedureType(
    id='toetreding',
    rule=rules.TOETREDING_2,
    start_schema=Start,
    started_by=frozenset({PUBLIC}),
    start=start,
    # files sent with the request are part of it (documents in the record, issue 12)
    document_purpose='request',
    register_problems=lambda session, values: register_problems(session, values['applicant']),
    forms={CRITERIA_TASK: TaskForm(CriteriaForm, rules.AANSLUITEN, _criteria, escalates_when_late=True),
           consent_round.CONSENT_TASK: consent_round.CONSENT, consent_round.EXTEND_TASK: consent_round.EXTEND,
           consent_round.OBJECTION_TASK: consent_round.OBJECTION,
           'partij_vastleggen': TaskForm(NewPartyForm, rules.TOETREDING_3, _new_party)},
    effects=dict(consent_round.EFFECTS, accession_returned=accession_returned, party_admitted=party_admitted,
                 accession_refused=accession_refused),
    title=lambda procedure: f"Toetreding {procedure.request['applicant']}",
    title_params=lambda request, initiated_by: {'name': request['applicant']} if 'applicant' in request else None,
    next_params=lambda request: {},
    applicant=lambda request: request.get('applicant'),
    deadline=consent_round.deadline_entry,
    summary=summary,
    due_at_deadline=frozenset({consent_round.CONSENT_TASK, CRITERIA_TASK, consent_round.OBJECTION_TASK}),
    auto_starts=(AutoStart('party_joins', joinings_to_come, _joins,
                           summary=lambda code: 'Een nieuwe Partij treedt toe'),),
    messages=consent_round.MESSAGES + ('accession_returned', 'party_admitted', 'accession_refused'),
    informs_applicant=True,
    default_statements={'consent': 'Stemt in met de toetreding.', 'objection': 'Maakt bezwaar.'},
    request_kind='verzoek tot toetreding',
    help='apply to join',
    start_schema_for=start_schema_for,
)
