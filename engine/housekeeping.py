"""What falls due by the clock without a procedure: delegations whose period passed are audited as
expired, and requests to join never confirmed are deleted. Each run is one transaction.

Called by ``CityDeal.tick`` (so by ``citydeal tick``) and by the scheduler every poll while it holds
the lease; ``due`` is the cheap read that lets the scheduler skip the write when there is nothing.
"""
from engine import accession_requests, accounts
from engine.unit_of_work import Actor

HOUSEKEEPER = Actor('citydeal scheduler', 'scheduler')


def due(session, now):
    return accounts.expiry_due(session, now) or accession_requests.purge_due(session, now)


def run(uow):
    """Returns (delegations expired, requests purged)."""
    return (accounts.expire_delegations(uow.session, uow.now, HOUSEKEEPER),
            accession_requests.purge(uow.session, uow.now))
