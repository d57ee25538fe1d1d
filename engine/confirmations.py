"""Confirmations: a party that recorded a decision hears by mail what was recorded, and where its receipt is.

Queued in the decision's own transaction, after its audit entry: the confirmation carries the
chain's head with the decision in it, and goes out only if the decision is saved.
"""
from engine import runner


def decision_recorded(ctx, procedure, task_row, values, receipt_seq):
    """A party's answer (instemming or bezwaar) confirmed to that party; a role's own step is not mailed."""
    if task_row.party_code is None:
        return []
    return runner.tell(ctx, procedure, 'decision_recorded', [task_row.party_code], decision=values.get('decision'),
                       statement=values.get('statement') or '', person=ctx.actor.person, receipt_seq=receipt_seq,
                       label=task_row.label)
