"""What the models' script tasks ask the application to do, inside the same transaction.

A script task calls ``effect('name')``; the engine runs the function registered here
under that name with the task's data at that point.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from engine import accounts, audit, notices, register
from engine.dates import local_date, shown
from engine.models import Answer, Appendix, ContributionOwed, Party

EFFECTS = {}


def effect(function):
    EFFECTS[function.__name__] = function
    return function


@dataclass
class Step:
    """What one command knows while it moves one procedure."""
    session: object
    deal: object
    procedure: object
    now: datetime
    actor: object
    clock: object
    #: callbacks into the procedure runner, which imports this module
    start_procedure: object = None
    lapse_consents: object = None
    task_row: object = None
    workflow_data: dict = None


def apply(step, effects):
    for name, data in effects:
        EFFECTS[name](step, data)


def _audit(step, event, data):
    audit.append(step.session, at=step.now, person=step.actor.person, acting_for=step.actor.acting_for,
                 procedure_id=step.procedure.id, event=event, data=data)


def title(procedure):
    """How messages and listings name a procedure."""
    request = procedure.request
    if procedure.type == 'toetreding':
        return f"Toetreding {request['applicant']}"
    if procedure.type == 'jaarcyclus':
        return f"Jaarcyclus {request['year']}"
    if procedure.type == 'voortzetting':
        return f"Voortzetting na {request['end_date']}"
    return request.get('title') or procedure.type


def _tell(step, event, recipients, **context):
    notices.queue(step.session, step.now, step.procedure, event, recipients, title=title(step.procedure), **context)


def _tell_everyone(step, event, **context):
    _tell(step, event, notices.everyone(step.session, step.now), **context)


@effect
def request_registered(step, data):
    request = step.procedure.request
    _audit(step, 'request_registered', {'reaches': ['projectleider', 'secretaris'],
                                        'consultation_deadline': shown(step.procedure.deadline_dt)})
    submitted_by = request.get('applicant') or _party_name(step, request.get('requester')) or 'de Partijen gezamenlijk'
    kind = 'verzoek tot toetreding' if step.procedure.type == 'toetreding' else 'verzoek tot wijziging'
    _tell(step, 'request_registered', notices.ROLES, kind=kind, submitted_by=submitted_by,
          deadlines=[consultation_deadline(step.procedure)])


def consultation_deadline(procedure):
    return notices.Deadline(f'procedure-{procedure.id}-overleg', f'Overlegtermijn sluit: {title(procedure)}',
                            procedure.deadline_dt)


def _party_name(step, code):
    if code is None:
        return None
    return step.session.scalars(select(Party.name).where(Party.code == code)).one()


@effect
def consultation_extended(step, data):
    step.procedure.deadline_dt = datetime.fromisoformat(data['consultation_deadline'])
    _audit(step, 'consultation_extended', {'new_deadline': shown(step.procedure.deadline_dt),
                                           'reason': data.get('extension_reason', ''),
                                           'still_asked': data.get('consulted', [])})


@effect
def deadline_escalated(step, data):
    """At the deadline with answers missing, the projectleider hears who has not answered."""
    answered = {a.party_code for a in step.session.scalars(select(Answer).where(Answer.procedure_id == step.procedure.id))}
    missing = [code for code in data.get('consulted_all', []) if code not in answered
               and _party_status(step, code) in ('active', 'withdrawing')]
    _audit(step, 'deadline_passed', {'deadline': shown(step.procedure.deadline_dt), 'missing': missing})
    names = [_party_name(step, code) for code in missing]
    _tell(step, 'escalation', ['projectleider'], deadline=step.procedure.deadline_dt, missing=names,
          dedupe_key=f'escalation:{step.procedure.id}:{step.procedure.deadline_dt.isoformat()}')


def _party_status(step, code):
    return step.session.scalars(select(Party.status).where(Party.code == code)).one()


def _statements(step):
    """In the order the parties signed the deal, like a signature page."""
    answers = step.session.execute(select(Answer, Party.name).join(Party, Party.code == Answer.party_code)
                                   .where(Answer.procedure_id == step.procedure.id).order_by(Party.id)).all()
    return [{'party': a.party_code, 'party_name': name, 'representative': a.person,
             'date': local_date(a.answered_dt).isoformat(), 'decision': a.decision, 'statement': a.statement}
            for a, name in answers]


def _attach_appendix(step, title_, body):
    number = (step.session.scalar(select(func.max(Appendix.number)).where(Appendix.deal_id == step.deal.id)) or 0) + 1
    appendix = Appendix(deal_id=step.deal.id, number=number, procedure_id=step.procedure.id, title=title_, body=body,
                        statements=_statements(step), adopted_dt=step.now)
    step.session.add(appendix)
    step.session.flush()
    _audit(step, 'appendix_attached', {'number': number, 'title': title_,
                                       'statements': [s['party'] for s in appendix.statements]})
    return appendix


@effect
def amendment_adopted(step, data):
    request = step.procedure.request
    body = f"{request['text']}\n\nMotivering: {request.get('motivation') or '-'}"
    if request.get('new_end_date'):
        body += f"\n\nDe City Deal eindigt op {request['new_end_date']} (was {step.deal.end_date})."
    appendix = _attach_appendix(step, f"Wijziging: {request['title']}", body)
    if request.get('new_end_date'):
        old = step.deal.end_date
        step.deal.end_date = date.fromisoformat(request['new_end_date'])
        _audit(step, 'term_changed', {'old_end': str(old), 'new_end': str(step.deal.end_date),
                                      'appendix': appendix.number})
    _tell_everyone(step, 'amendment_adopted', appendix_number=appendix.number,
                   new_end_date=request.get('new_end_date'),
                   deadlines=[term_end(step.deal)] if request.get('new_end_date') else [])


def term_end(deal):
    return notices.Deadline('deal-term_end', 'Einde looptijd City Deal', register.term_end_instant(deal))


@effect
def amendment_not_adopted(step, data):
    _without_consent(step, 'amendment_not_adopted')


def _without_consent(step, event, **context):
    """Not every party consented (an objection, or answers missing at a closed deadline)."""
    answers = step.session.scalars(select(Answer).where(Answer.procedure_id == step.procedure.id)).all()
    objections = [a.party_code for a in answers if a.decision == 'objection']
    consents = len([a for a in answers if a.decision == 'consent'])
    _audit(step, event, {'objections': objections, 'consents': consents})
    recipients = notices.everyone(step.session, step.now) + (['applicant'] if step.procedure.type == 'toetreding' else [])
    _tell(step, event, recipients, objections=objections, consents=consents, **context)


@effect
def accession_returned(step, data):
    reason = data.get('criteria_reason', '')
    _audit(step, 'accession_returned', {'reason': reason})
    _tell(step, 'accession_returned', notices.everyone(step.session, step.now) + ['applicant'],
          applicant=step.procedure.request['applicant'], reason=reason)


@effect
def party_admitted(step, data):
    request = step.procedure.request
    # A contribution the applicant marked confidential stays in the appendix, which public pages hide.
    contribution = 'Vertrouwelijk (zie de bijlage)' if request.get('confidential') else request['contribution']
    party = Party(deal_id=step.deal.id, code=data['new_party_code'], name=request['applicant'], kind=request['kind'],
                  email=request.get('email'), representatives=[request['representative']], annual_contribution_eur=None,
                  contribution_text=contribution, status='active', joined_on=date.fromisoformat(data['effective_date']))
    step.session.add(party)
    step.session.flush()
    _audit(step, 'party_admitted', {'code': party.code, 'name': party.name, 'joined_on': str(party.joined_on)})
    body = (f"Aanvrager: {request['applicant']} ({request['kind']}), vertegenwoordigd door {request['representative']}\n"
            f"Concrete bijdrage: {request['contribution']}\n"
            f"Onderschrijft de doelstellingen van de City Deal: ja\nIngangsdatum: {party.joined_on}")
    appendix = _attach_appendix(step, f"Toetreding: {request['applicant']}", body)
    _tell(step, 'party_admitted', notices.everyone(step.session, step.now) + [party.code], party_name=party.name,
          joined_on=party.joined_on, contribution=request['contribution'], appendix_number=appendix.number)


@effect
def accession_refused(step, data):
    _without_consent(step, 'accession_refused', applicant=step.procedure.request['applicant'])


def _withdrawing_party(step):
    return step.session.scalars(select(Party).where(Party.code == step.procedure.initiated_by)).one()


def notice_effective(procedure):
    return notices.Deadline(f'procedure-{procedure.id}-opzegging', f'Opzegging gaat in: {procedure.initiated_by}',
                            procedure.deadline_dt)


@effect
def notice_received(step, data):
    party = _withdrawing_party(step)
    party.status = 'withdrawing'
    party.withdrawal_effective_on = date.fromisoformat(step.procedure.request['effective_date'])
    _audit(step, 'party_withdrawing', {'party': party.code, 'effective_date': str(party.withdrawal_effective_on)})
    _tell_everyone(step, 'notice_of_withdrawal', party_name=party.name, received=step.procedure.request['received'],
                   effective=party.withdrawal_effective_on, circumstances=step.procedure.request['circumstances'],
                   deadlines=[notice_effective(step.procedure)])


@effect
def notice_acknowledged(step, data):
    _audit(step, 'notice_acknowledged', {'deal_stands': data.get('deal_stands'), 'note': data.get('note', '')})


@effect
def party_withdrawn(step, data):
    party = _withdrawing_party(step)
    withdraw(step, party, party.withdrawal_effective_on)
    # No longer a party, so no longer asked: its open consent requests lapse.
    step.lapse_consents(step, party.code)


def withdraw(step, party, left_on):
    """Opzegging lid 4: the contribution for the year of the notice stays due."""
    recipients = notices.everyone(step.session, step.now)
    party.status = 'withdrawn'
    party.left_on = left_on
    year = local_date(step.procedure.started_dt).year
    step.session.add(ContributionOwed(party_code=party.code, year=year, amount_eur=party.annual_contribution_eur,
                                      procedure_id=step.procedure.id, recorded_dt=step.now))
    _audit(step, 'party_withdrawn', {'party': party.code, 'left_on': str(party.left_on),
                                     'contribution_owed': {'year': year, 'amount_eur': party.annual_contribution_eur}})
    _tell(step, 'party_withdrawn', recipients, party_name=party.name, left_on=left_on, year=year,
          amount=party.annual_contribution_eur)
    accounts.close_for_party(step.session, step.now, party.code, step.actor)  # membership ends access


@effect
def annual_cycle_adopted(step, data):
    _audit(step, 'annual_cycle_adopted', {'year': step.procedure.request['year']})
    _tell_everyone(step, 'annual_cycle_adopted', year=step.procedure.request['year'],
                   next_steps=data.get('next_steps', ''))


@effect
def continuation_agreed(step, data):
    _audit(step, 'continuation_agreed', {'new_end_date': data['new_end_date']})
    _tell_everyone(step, 'continuation_agreed', new_end_date=data['new_end_date'])
    step.start_procedure(step, data['new_end_date'])


@effect
def continuation_declined(step, data):
    _audit(step, 'continuation_declined', {'ends_on': str(step.deal.end_date), 'note': data.get('note', '')})
    _tell_everyone(step, 'continuation_declined', end_date=step.deal.end_date, deadlines=[term_end(step.deal)])
