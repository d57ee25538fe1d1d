"""Opzegging: a Party gives notice in writing, stating the changed circumstances; it takes effect
after the notice period; the deal stands for the others; the year's contribution stays due
(Opzegging lid 1-3)."""
from datetime import date

from engine import accounts, ending, notices, register, rules, runner
from engine.dates import add_months, local_date, start_of_day
from engine.errors import CommandRefused
from engine.models import ContributionOwed
from engine.procedures import consent_round, fields as f, paper
from engine.procedures.base import PARTY, ProcedureType, TaskForm


class Start(f.CodedSchema):
    circumstances = f.Text(required=True)
    confidential = f.YesNo(load_default=False)
    received = paper.received_field()


def start(ctx, values):
    party = register.party(ctx.session, ctx.actor.acting_for, 'by')
    if party.status != 'active':
        raise CommandRefused.one('opzegging.not_active', 'by', rules.OPZEGGING_1, party=party.name,
                                 status=party.status)
    months = register.definition(ctx.deal).terms.notice_months
    # The notice period runs from the day the written notice was received (engine.procedures.paper).
    received = paper.received_day(ctx, values, rules.OPZEGGING_1)
    effective = add_months(received, months)
    request = {'party_name': party.name, 'circumstances': values['circumstances'],
               'effective_date': effective.isoformat(), 'confidential': values['confidential'],
               **paper.entry(ctx, received)}
    data = {'party': party.code, 'effective_at': start_of_day(effective).isoformat()}
    return runner.launch(ctx, TYPE, request, data, initiated_by=party.code, deadline=start_of_day(effective))


def _withdrawing_party(ctx, procedure):
    return register.party(ctx.session, procedure.initiated_by)


def notice_effective(procedure):
    party = procedure.request.get('party_name') or procedure.initiated_by
    return notices.Deadline(f'procedure-{procedure.id}-opzegging', f'Opzegging gaat in: {party}',
                            procedure.deadline_dt)


def notice_received(ctx, procedure, data):
    party = _withdrawing_party(ctx, procedure)
    party.status = 'withdrawing'
    party.withdrawal_effective_on = date.fromisoformat(procedure.request['effective_date'])
    runner.record(ctx, procedure, 'party_withdrawing', {'party': party.code,
                                                        'effective_date': str(party.withdrawal_effective_on)})
    runner.tell_everyone(ctx, procedure, 'notice_of_withdrawal', party_name=party.name,
                         received=procedure.request['received'], effective=party.withdrawal_effective_on,
                         circumstances=procedure.request['circumstances'], deadlines=[notice_effective(procedure)])


def notice_acknowledged(ctx, procedure, data):
    stands = data.get('deal_stands')
    runner.record(ctx, procedure, 'notice_acknowledged', {'deal_stands': stands, 'note': data.get('note', ''),
                                                          **({'reason': data['reason']} if not stands else {})})
    if stands is False:
        # Opzegging lid 2: the content and purport of the deal oppose its standing without this party;
        # it ends for all when the withdrawal takes effect (at once, if it already has).
        procedure.request = dict(procedure.request, deal_does_not_stand=data['reason'])
        party = _withdrawing_party(ctx, procedure)
        if party.status == 'withdrawn':
            ending.end_deal(ctx, ending.DEAL_DOES_NOT_STAND, local_date(ctx.now), by_withdrawal=procedure,
                            note=data['reason'])


def party_withdrawn(ctx, procedure, data):
    party = _withdrawing_party(ctx, procedure)
    withdraw(ctx, procedure, party, party.withdrawal_effective_on)
    # No longer a party, so no longer asked: its open consent requests lapse.
    consent_round.lapse_for_party(ctx, party.code)
    if procedure.request.get('deal_does_not_stand'):
        ending.end_deal(ctx, ending.DEAL_DOES_NOT_STAND, party.left_on, by_withdrawal=procedure,
                        note=procedure.request['deal_does_not_stand'])
    elif len(ending.remaining_parties(ctx.session)) < ending.MINIMUM_PARTIES:
        ending.end_deal(ctx, ending.TOO_FEW_PARTIES, party.left_on, by_withdrawal=procedure)


def withdraw(ctx, procedure, party, left_on):
    """Opzegging lid 3: the contribution for the year of the notice stays due."""
    recipients = notices.everyone(ctx.session, ctx.now)
    party.status = 'withdrawn'
    party.left_on = left_on
    year = local_date(procedure.started_dt).year
    ctx.session.add(ContributionOwed(party_code=party.code, year=year, amount_eur=party.annual_contribution_eur,
                                     procedure_id=procedure.id, recorded_dt=ctx.now))
    runner.record(ctx, procedure, 'party_withdrawn', {
        'party': party.code, 'left_on': str(party.left_on),
        'contribution_owed': {'year': year, 'amount_eur': party.annual_contribution_eur}})
    runner.tell(ctx, procedure, 'party_withdrawn', recipients, party_name=party.name, left_on=left_on, year=year,
                amount=party.annual_contribution_eur)
    # Membership ends access: its people's sessions, tokens and delegations end with it.
    accounts.close_for_party(ctx.session, ctx.now, party.code, ctx.actor)


def at_deal_end(ctx, procedure):
    """The notice had not yet taken effect, but the party leaves with the deal and still owes the
    contribution for the year of its notice."""
    party = _withdrawing_party(ctx, procedure)
    if party.status != 'withdrawn':
        withdraw(ctx, procedure, party, ctx.deal.ended_on or ctx.deal.end_date)


class AcknowledgeForm(f.CodedSchema):
    deal_stands = f.YesNo(required=True)
    note = f.Text(required=False)
    #: why the deal does not stand without the party (required then): it ends when the notice takes effect
    reason = f.Text(required=False)

    @f.validates_schema(skip_on_field_errors=False)
    def not_standing_needs_reason(self, data, **kwargs):
        if data.get('deal_stands') is False and not data.get('reason'):
            raise f.ValidationError({'reason': [f.Coded('opzegging.deal_ends_reason_required',
                                                        rule=rules.OPZEGGING_2)]})


TYPE = ProcedureType(
    id='opzegging',
    rule=rules.OPZEGGING_1,
    start_schema=Start,
    started_by=frozenset({PARTY}),
    start=start,
    # files sent with the request are part of it (documents in the record, issue 12)
    document_purpose='request',
    forms={'opzegging_bevestigen': TaskForm(AcknowledgeForm, rules.OPZEGGING_2)},
    effects={'notice_received': notice_received, 'notice_acknowledged': notice_acknowledged,
             'party_withdrawn': party_withdrawn},
    title=lambda procedure: f"Opzegging door {procedure.request.get('party_name') or procedure.initiated_by}",
    title_params=lambda request, initiated_by: (
        {'party': request.get('party_name') or initiated_by} if request.get('party_name') or initiated_by else None),
    # Opzegging lid 3: the contribution over the running year stays owed
    next_params=lambda request: (
        {'day': date.fromisoformat(request['effective_date'])} if request.get('effective_date') else None),
    deadline=notice_effective,
    messages=('notice_of_withdrawal', 'party_withdrawn', 'task_opened', 'overdue'),
    concerns_everyone=True,
    on_deal_end=at_deal_end,
    asks_confirmation=True,
    help='give notice of withdrawal',
)
