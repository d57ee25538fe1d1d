"""Which scheduler may act: the one holding an unexpired lease in the database.

Leases run on the real clock (a process being alive is not a matter of deal time), and the
row is locked while it is read, so two schedulers cannot both take it.
"""
from sqlalchemy import select

from engine.models import SchedulerLease

NAME = 'scheduler'


def acquire(session, holder, now, ttl):
    """Take or renew the lease; True when ``holder`` holds it until ``now + ttl``."""
    lease = session.scalars(select(SchedulerLease).where(SchedulerLease.name == NAME).with_for_update()).first()
    if lease is None:
        session.add(SchedulerLease(name=NAME, holder=holder, expires_dt=now + ttl))
        return True
    if lease.holder == holder or lease.expires_dt < now:
        lease.holder, lease.expires_dt = holder, now + ttl
        return True
    return False


def release(session, holder, now):
    """Hand the lease back at once, so that a standby need not wait for it to expire."""
    lease = session.get(SchedulerLease, NAME)
    if lease is not None and lease.holder == holder:
        lease.expires_dt = now


def holder(session):
    lease = session.get(SchedulerLease, NAME)
    return (lease.holder, lease.expires_dt) if lease else None
