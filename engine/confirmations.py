"""Confirmations: whoever recorded something hears by mail what was recorded, for whom, when, and where to see it.

Queued in the same transaction as what they confirm, after its audit entry: the confirmation carries the
chain's head with it, and goes out only if it is saved.
"""
from engine import runner
from engine.roles import APPLICANT


def decision_recorded(ctx, procedure, task_row, values, receipt_seq):
    """A party's answer (instemming or bezwaar) confirmed to that party; a role's own step is not mailed."""
    if task_row.party_code is None:
        return []
    return runner.tell(ctx, procedure, 'decision_recorded', [task_row.party_code], decision=values.get('decision'),
                       statement=values.get('statement') or '', person=ctx.actor.person, receipt_seq=receipt_seq,
                       label=task_row.label)


def answer_revised(ctx, procedure, answer, values, receipt):
    """A party's revised answer confirmed to that party like a first one, saying which answer it replaced
    (``receipt``: the ``answer_revised`` audit entry, which keeps the earlier answer)."""
    earlier = receipt.data['old']
    return runner.tell(ctx, procedure, 'decision_recorded', [answer.party_code], decision=answer.decision,
                       statement=values.get('statement') or '', person=ctx.actor.person, receipt_seq=receipt.seq,
                       label='', replaces={'decision': earlier['decision'], 'at': earlier['answered_dt']})


def request_received(ctx, procedure, kind):
    """A request to amend or to join, confirmed to whoever made it once it is registered: the requesting
    party (also when the projectleider or secretaris registered its paper request), or the applicant at
    the address of its request. A request made by the Parties together (continuation) has no one to tell.
    (A notice of withdrawal is confirmed in its own message, ``notice_of_withdrawal``.)"""
    request = procedure.request
    recipient = request.get('requester') or (APPLICANT if request.get('applicant') else None)
    if recipient is None:
        return []
    return runner.tell(ctx, procedure, 'request_received', [recipient], kind=kind)
