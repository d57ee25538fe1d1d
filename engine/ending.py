"""The end of the deal, however it comes: the term runs out (Inwerkingtreding en looptijd lid 1), a
withdrawal after which the deal no longer stands takes effect (Opzegging lid 2), or fewer than two
Parties would remain (a deal is an agreement between Parties: one party alone has none).

One function ends it, whatever the cause: the deal's status, every running procedure cancelled with
the reason, everyone told, the contributions owed recorded; afterwards nothing starts or moves
(engine.register.require_in_force).
"""
from sqlalchemy import select

from engine import notices, procedure_store, register, runner
from engine import procedures as registry
from engine.dates import local_date
from engine.models import ContributionOwed, Procedure

#: why a deal ends; the words are the catalogue's (``deal.ended_because.<reason>``)
TERM_ENDED = 'term_ended'
DEAL_DOES_NOT_STAND = 'deal_does_not_stand'
TOO_FEW_PARTIES = 'too_few_parties'
REASONS = (TERM_ENDED, DEAL_DOES_NOT_STAND, TOO_FEW_PARTIES)

#: fewer Parties than this and there is no deal left
MINIMUM_PARTIES = 2


def end_deal(ctx, reason, ended_on, *, by_withdrawal=None, note=''):
    """End the deal from ``ended_on`` (the first day it is no longer in force) for ``reason``.

    ``by_withdrawal``: the opzegging procedure whose taking effect ends it; then every remaining Party
    owes its contribution for the year of that notice (Opzegging lid 3: "In geval van beëindiging
    van de City Deal krachtens opzegging ... De bijdrage aan de basisbegroting dient in het lopende
    jaar van opzegging te worden voldaan")."""
    deal = ctx.deal
    if deal.status == 'ended':
        return
    recipients = notices.everyone(ctx.session, ctx.now)
    deal.status = 'ended'
    deal.ended_dt = ctx.now if reason != TERM_ENDED else register.term_end_instant(deal)
    deal.ended_on = ended_on
    deal.ended_reason = reason
    owed = []
    if by_withdrawal is not None:
        year = local_date(by_withdrawal.started_dt).year
        for party in register.parties(ctx.session):
            if party.status in register.CONSULTED_STATUSES:
                ctx.session.add(ContributionOwed(party_code=party.code, year=year,
                                                 amount_eur=party.annual_contribution_eur,
                                                 procedure_id=by_withdrawal.id, recorded_dt=ctx.now))
                owed.append({'party': party.code, 'year': year, 'amount_eur': party.annual_contribution_eur})
    why = f'the deal ended on {ended_on}: {reason}'
    for procedure in ctx.session.scalars(select(Procedure).where(Procedure.status == 'running')):
        if by_withdrawal is not None and procedure.id == by_withdrawal.id:
            continue  # the withdrawal that ends the deal runs to its end: the party has withdrawn
        type_ = registry.get(procedure.type)
        if type_.on_deal_end:
            type_.on_deal_end(ctx, procedure)
        procedure_store.cancel(ctx.session, procedure, ctx.now, ctx.actor, why)
    runner.record(ctx, by_withdrawal, 'deal_ended', {'end_date': str(deal.end_date), 'ended_on': str(ended_on),
                                                     'reason': reason, 'note': note, 'contributions_owed': owed})
    notices.queue(ctx.session, ctx.now, None, 'deal_ended', recipients, deal=deal, end_date=deal.end_date,
                  ended_on=ended_on, reason=reason, note=note)


def remaining_parties(session, leaving=None):
    """The Parties that remain once ``leaving`` has left: active or in their notice period."""
    return [p for p in register.parties(session)
            if p.status in register.CONSULTED_STATUSES and p.code != leaving]


def status(deal, today):
    """not_started, running or ended, as the deal stands today."""
    if deal.status == 'ended' or today >= deal.end_date:
        return 'ended'
    if today < deal.start_date:
        return 'not_started'
    return 'running'
