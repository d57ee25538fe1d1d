"""Login limits that stop guessing, not people.

Failures are counted per account over every address: after 5 in 15 minutes the account waits,
however many addresses the guesses come from, and its owner gets a one-time sign-in link by mail,
so that the real person is never locked out by someone else. Failures from one address over many
accounts are slowed: each further wrong answer from that address comes later, up to 10 seconds.
A right password is never slowed or refused because of the address: behind a reverse proxy (or a
city hall's NAT) every person shares one address.
"""
from datetime import timedelta

from sqlalchemy import func, select

from engine.models import LoginAttempt

MAX_FAILURES_PER_ACCOUNT = 5
WINDOW = timedelta(minutes=15)
#: wrong answers from one address in the window before each further one is delayed
FREE_FAILURES_PER_ADDRESS = 5
FIRST_DELAY_SECONDS = 0.5
LONGEST_DELAY_SECONDS = 10.0


def account_failures(session, now, email):
    """Failed logins of this account in the window since its last success, from any address."""
    since = now - WINDOW
    # Attempts are numbered in the order they were recorded; two may share an instant.
    last_success = session.scalar(select(func.max(LoginAttempt.id)).where(
        LoginAttempt.email == email, LoginAttempt.at_dt >= since, LoginAttempt.succeeded.is_(True)))
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == email, LoginAttempt.at_dt >= since, LoginAttempt.id > (last_success or 0),
        LoginAttempt.succeeded.is_(False)))


def address_failures(session, now, remote_addr):
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.remote_addr == remote_addr, LoginAttempt.at_dt >= now - WINDOW,
        LoginAttempt.succeeded.is_(False)))


def is_waiting(session, now, email):
    return account_failures(session, now, email) >= MAX_FAILURES_PER_ACCOUNT


def delay_after_failure(failures_from_address):
    """Seconds to hold back a wrong answer, given the failures from its address (this one included)."""
    beyond = failures_from_address - FREE_FAILURES_PER_ADDRESS
    if beyond <= 0:
        return 0.0
    return min(FIRST_DELAY_SECONDS * 2 ** (beyond - 1), LONGEST_DELAY_SECONDS)


def record(session, now, email, remote_addr, succeeded):
    session.add(LoginAttempt(email=email, remote_addr=(remote_addr or '?')[:64], at_dt=now, succeeded=succeeded))
    session.flush()
