"""Links sent by mail that work once: a sign-in link after too many failed logins, a password reset.

The token is only in the mail; the database keeps its SHA-256 (the token is random, 256 bits: a slow
hash adds nothing). A link is used once, expires, and using one ends the person's other links of
the same purpose.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from engine import rules
from engine.errors import CommandRefused
from engine.models import OneTimeLink, User

SIGN_IN = 'sign_in'
PASSWORD_RESET = 'password_reset'
VALID = {SIGN_IN: timedelta(minutes=30), PASSWORD_RESET: timedelta(hours=1)}
NOT_VALID = 'link.not_valid'


def _hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def issue(session, now, user, purpose):
    """A new link's token for ``user``; the caller mails it."""
    token = secrets.token_urlsafe(32)
    session.add(OneTimeLink(user_id=user.id, purpose=purpose, token_hash=_hash(token), created_dt=now,
                            expires_dt=now + VALID[purpose]))
    session.flush()
    return token


def recently_issued(session, now, user, purpose, within):
    """Whether an unused link of this purpose went out in the last ``within``: mail it again only after that."""
    return session.scalars(select(OneTimeLink.id).where(
        OneTimeLink.user_id == user.id, OneTimeLink.purpose == purpose, OneTimeLink.used_dt.is_(None),
        OneTimeLink.created_dt > now - within)).first() is not None


def _valid(session, now, token, purpose):
    if not token or len(token) > 100:
        return None
    link = session.scalars(select(OneTimeLink).where(OneTimeLink.token_hash == _hash(token),
                                                     OneTimeLink.purpose == purpose)).first()
    if link is None or link.used_dt is not None or link.expires_dt <= now:
        return None
    user = session.get(User, link.user_id)
    return (link, user) if user is not None and user.is_active else None


def check(session, now, token, purpose):
    """The account's user if the link is still good, else None; uses nothing up."""
    found = _valid(session, now, token, purpose)
    return found[1] if found else None


def redeem(session, now, token, purpose):
    """The link's user, and the link (and the person's other links of this purpose) used up."""
    found = _valid(session, now, token, purpose)
    if found is None:
        raise CommandRefused.one(NOT_VALID, 'link', rules.ACCESS)
    link, user = found
    session.execute(update(OneTimeLink).where(OneTimeLink.user_id == user.id, OneTimeLink.purpose == purpose,
                                              OneTimeLink.used_dt.is_(None)).values(used_dt=now))
    return user
