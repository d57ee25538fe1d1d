"""Starting the five procedures. Each checks its input, then hands computed dates to the model."""
from datetime import date, timedelta
from uuid import UUID

from marshmallow import ValidationError, validate
from sqlalchemy import select

from engine import audit, effects, forms, procedure_store, register, workflow_runtime
from engine.dates import add_months, end_of_day, local_date, shown, start_of_day
from engine.deal_file import PARTY_KINDS
from engine.errors import CommandRefused, Problem
from engine.models import Answer, OpenTask, Procedure
from engine.unit_of_work import Actor

MAX_TITLE = 300
#: an amended end date lies at most this far beyond the current one
MAX_EXTENSION_YEARS = 10
MAX_TEXT = 20000


def _text(value, field, rule, required=True, limit=MAX_TEXT):
    value = (value or '').strip()
    if required and not value:
        return value, Problem(field, 'is required and must not be blank', rule)
    if forms.has_control_characters(value):
        return value, Problem(field, 'contains control or direction-changing characters', rule)
    if len(value) > limit:
        return value, Problem(field, f'is {len(value)} characters; at most {limit} allowed', rule)
    return value, None


def _refuse_if(problems):
    problems = [p for p in problems if p]
    if problems:
        raise CommandRefused(problems)


def _consultation_deadline(deal, now):
    """Wijzigingen lid 2: within 6 weeks of the request reaching projectleider and secretaris.

    A consultation never outlasts the deal: near the end it closes the day before the end date.
    """
    weeks = register.definition(deal).terms.consultation_weeks
    return min(end_of_day(local_date(now) + timedelta(weeks=weeks)), register.term_end_instant(deal) - timedelta(seconds=1))


def _launch(uow, deal, type_, request, data, actor, *, initiated_by=None, subject_key=None, deadline=None,
            before_run=None):
    """``uow`` is anything with ``session``, ``now`` and ``clock``: a unit of work or a running step."""
    workflow = workflow_runtime.new_workflow(type_, uow.clock, data)
    procedure = procedure_store.create(uow.session, deal, type_, request, workflow, uow.now,
                                       initiated_by=initiated_by, subject_key=subject_key, deadline=deadline)
    audit.append(uow.session, at=uow.now, person=actor.person, acting_for=actor.acting_for,
                 procedure_id=procedure.id, event='procedure_started', data={'type': type_, 'request': request})
    if before_run:
        before_run(procedure)
    return run(uow, deal, procedure, workflow, actor)


def run(uow, deal, procedure, workflow, actor, task_row=None):
    """Advance the workflow, apply what its scripts asked for, save: all inside the caller's transaction."""
    step = effects.Step(uow.session, deal, procedure, uow.now, actor, uow.clock,
                        start_procedure=_start_end_date_amendment, lapse_consents=_lapse_consents, task_row=task_row)
    effects.apply(step, workflow_runtime.advance(workflow))
    procedure_store.save(uow.session, procedure, workflow, uow.now, actor)
    return procedure


def _lapse_consents(step, party_code):
    """Close the open consent requests of a party that has left, so that no consultation waits for it."""
    rows = step.session.scalars(select(OpenTask).where(OpenTask.party_code == party_code,
                                                       OpenTask.name == 'instemming_geven')).all()
    for row in rows:
        procedure = procedure_store.get(step.session, row.procedure_id, for_update=True)
        workflow = procedure_store.load(procedure, step.clock)
        fired = workflow_runtime.advance(workflow)
        task = workflow.get_task_from_id(UUID(row.id))
        other = effects.Step(step.session, step.deal, procedure, step.now, step.actor, step.clock,
                             start_procedure=_start_end_date_amendment, lapse_consents=_lapse_consents)
        effects.apply(other, fired)
        if workflow_runtime.is_ready(task):
            task.data['answer'] = {'party': party_code, 'decision': 'lapsed'}
            task.run()
            audit.append(step.session, at=step.now, person=step.actor.person, acting_for=step.actor.acting_for,
                         procedure_id=procedure.id, event='consent_request_lapsed',
                         data={'party': party_code, 'reason': 'the party withdrew'})
        run(step, step.deal, procedure, workflow, step.actor)


def _consultation_data(parties, deadline, answers_before):
    codes = [p.code for p in parties]
    return {'consulted': codes, 'consulted_all': codes, 'answers_before': answers_before,
            'consultation_deadline': deadline.isoformat()}


def start_wijziging(uow, by, title, text, motivation=None, new_end_date=None, person=None, confidential=False):
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    requester = register.party(uow.session, by, 'by')
    register.require_joined(requester, local_date(uow.now))
    rule = 'Wijzigingen lid 1: elke Partij kan schriftelijk verzoeken'
    title, p1 = _text(title, 'title', rule, limit=MAX_TITLE)
    text, p2 = _text(text, 'text', rule)
    motivation, p3 = _text(motivation, 'motivation', rule, required=False)
    problems = [p1, p2, p3]
    if requester.status not in register.CONSULTED_STATUSES:
        problems.append(Problem('by', f'{requester.code} withdrew on {requester.left_on} and is no longer a party',
                                'Opzegging'))
    if new_end_date is not None:
        new_end_date = _parse_date(new_end_date, 'new_end_date')
        if new_end_date <= local_date(uow.now) or new_end_date == deal.end_date \
                or new_end_date > add_months(deal.end_date, 12 * MAX_EXTENSION_YEARS):
            problems.append(Problem('new_end_date', f'{new_end_date} must be after today, differ from the current end '
                                    f'date {deal.end_date} and lie at most {MAX_EXTENSION_YEARS} years beyond it',
                                    'Inwerkingtreding en looptijd'))
    _refuse_if(problems)
    actor = Actor(register.person_for(requester, person), requester.code)
    deadline = _consultation_deadline(deal, uow.now)
    request = {'requester': requester.code, 'title': title, 'text': text, 'motivation': motivation,
               'new_end_date': new_end_date.isoformat() if new_end_date else None, 'confidential': bool(confidential)}
    return _launch_consultation(uow, deal, 'wijziging', request, actor, deadline, requester)


def _launch_consultation(uow, deal, type_, request, actor, deadline, requester):
    others = register.consulted_parties(uow.session, local_date(uow.now), excluding=requester.code if requester else None)
    # Wijzigingen: the written request is the requester's own consent.
    answers_before = [{'party': requester.code, 'decision': 'consent'}] if requester else []
    data = dict(_consultation_data(others, deadline, answers_before), requester=requester.code if requester else None)

    def record_requester_consent(procedure):
        statement = f"Verzoek tot wijziging: {request['title']}." + (
            f" {request['motivation']}" if request.get('motivation') else '')
        uow.session.add(Answer(procedure_id=procedure.id, party_code=requester.code, decision='consent',
                               statement=statement, person=actor.person, answered_dt=uow.now))

    return _launch(uow, deal, type_, request, data, actor, initiated_by=requester.code if requester else None,
                   deadline=deadline, before_run=record_requester_consent if requester else None)


def _start_end_date_amendment(step, new_end_date):
    """Voortzetting: continuing means amending the end date, which needs every party's consent.

    Runs inside the voortzetting's own transaction; ``step`` carries its session, clock and time.
    """
    request = {'requester': None, 'title': f'Voortzetting: einddatum {new_end_date}',
               'text': f'De looptijd van de City Deal wordt verlengd tot {new_end_date}.',
               'motivation': f'Uitkomst van het overleg over voortzetting (procedure {step.procedure.id}).',
               'new_end_date': new_end_date}
    _launch_consultation(step, step.deal, 'wijziging', request, step.actor,
                         _consultation_deadline(step.deal, step.now), None)


def _parse_date(raw, field):
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise CommandRefused.one(field, f'{raw!r} is not a date (YYYY-MM-DD)') from None


def start_toetreding(uow, applicant, kind, representative, contribution, endorses_goals, email=None,
                     confidential=False):
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    rule = 'Toetreding lid 2: schriftelijk verzoek met de concrete bijdrage'
    applicant, p1 = _text(applicant, 'applicant', rule, limit=MAX_TITLE)
    representative, p2 = _text(representative, 'representative', rule, limit=MAX_TITLE)
    contribution, p3 = _text(contribution, 'contribution', rule)
    problems = [p1, p2, p3]
    if kind not in PARTY_KINDS:
        problems.append(Problem('kind', f'{kind!r} is not one of {", ".join(PARTY_KINDS)}', rule))
    if email is not None and not _valid_email(email):
        problems.append(Problem('email', f'{email!r} is not an e-mail address', 'the applicant hears the outcome'))
    if endorses_goals is not True:
        problems.append(Problem('endorses_goals', 'the applicant must endorse the goals of the deal',
                                'Deel 2, Aansluiten nieuwe deelnemers: onderschrijven van de doelstellingen'))
    if applicant and _is_party(uow.session, applicant):
        problems.append(Problem('applicant', f'{applicant!r} is already a party', 'Toetreding lid 1: anderen'))
    pending = _pending_accession(uow.session, applicant)
    if pending:
        problems.append(Problem('applicant', f'a request from {applicant!r} is already running (procedure {pending.id})',
                                'Toetreding lid 2'))
    _refuse_if(problems)
    actor = Actor(representative, 'applicant')
    request = {'applicant': applicant, 'kind': kind, 'representative': representative,
               'contribution': contribution, 'endorses_goals': True, 'email': email, 'confidential': bool(confidential)}
    return _launch_consultation(uow, deal, 'toetreding', request, actor, _consultation_deadline(deal, uow.now), None)


def _valid_email(address):
    try:
        validate.Email()(address)
    except ValidationError:
        return False
    return len(address) <= 254


def _is_party(session, name):
    return any(p.name.casefold() == name.casefold() for p in register.parties(session)
               if p.status in register.CONSULTED_STATUSES)


def _pending_accession(session, applicant):
    running = session.scalars(select(Procedure).where(Procedure.type == 'toetreding', Procedure.status == 'running'))
    return next((p for p in running if p.request['applicant'].casefold() == applicant.casefold()), None)


def start_opzegging(uow, by, circumstances, person=None, confidential=False):
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    party = register.party(uow.session, by, 'by')
    register.require_joined(party, local_date(uow.now))
    circumstances, problem = _text(circumstances, 'circumstances',
                                   'Opzegging lid 1: de opzegging moet de verandering in omstandigheden vermelden')
    problems = [problem]
    if party.status != 'active':
        problems.append(Problem('by', f'{party.code} is {party.status}; only an active party can give notice',
                                'Opzegging lid 1'))
    _refuse_if(problems)
    months = register.definition(deal).terms.notice_months
    received = local_date(uow.now)
    effective = add_months(received, months)
    request = {'circumstances': circumstances, 'received': received.isoformat(), 'effective_date': effective.isoformat(),
               'confidential': bool(confidential)}
    data = {'party': party.code, 'effective_at': start_of_day(effective).isoformat()}
    actor = Actor(register.person_for(party, person), party.code)
    return _launch(uow, deal, 'opzegging', request, data, actor, initiated_by=party.code,
                   deadline=start_of_day(effective))


def start_jaarcyclus(uow, year, person=None, actor=None):
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise CommandRefused.one('year', f'{year!r} is not a year') from None
    if not deal.start_date.year <= year <= deal.end_date.year:
        raise CommandRefused.one('year', f'{year} lies outside the term {deal.start_date}..{deal.end_date}',
                                 'Monitoring en evaluatie: jaarlijks, tijdens de looptijd')
    existing = existing_procedure(uow.session, 'jaarcyclus', f'year:{year}')
    if existing:
        raise CommandRefused.one('year', f'the annual cycle for {year} already exists (procedure {existing.id})',
                                 'Governance: één werkplan per jaar')
    midpoint = deal.start_date + (deal.end_date - deal.start_date) / 2
    request = {'year': year, 'midterm': midpoint.year == year}
    data = {'year': year, 'is_midterm_year': midpoint.year == year}
    actor = actor or Actor(register.checked_person(person) or register.definition(deal).roles['projectleider'].name,
                           'projectleider')
    return _launch(uow, deal, 'jaarcyclus', request, data, actor, subject_key=f'year:{year}')


def existing_procedure(session, type_, subject_key):
    return session.scalars(select(Procedure).where(Procedure.type == type_, Procedure.subject_key == subject_key,
                                                   Procedure.status != 'cancelled')).first()


def start_voortzetting(uow, actor=None, person=None):
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    subject = f'end:{deal.end_date}'
    existing = existing_procedure(uow.session, 'voortzetting', subject)
    if existing:
        raise CommandRefused.one('voortzetting', f'the consultation on continuation for the end date {deal.end_date} '
                                 f'already exists (procedure {existing.id})', 'Inwerkingtreding en looptijd lid 2')
    actor = actor or Actor(register.checked_person(person) or register.definition(deal).roles['projectleider'].name,
                           'projectleider')
    request = {'end_date': deal.end_date.isoformat(),
               'latest_start': shown(register.continuation_start_instant(deal))}
    return _launch(uow, deal, 'voortzetting', request, {'end_date': deal.end_date.isoformat()}, actor,
                   subject_key=subject)
