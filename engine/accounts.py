"""People who log in: accounts, passwords (argon2id), delegation to a deputy, and who may act for whom.

A person acts for one party (a party may have several people: Zeist signed with two) or in one
role. Auditors read everything and change nothing; admins manage accounts.
"""
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from marshmallow import ValidationError, validate
from sqlalchemy import func, select

from engine import audit, register, roles, rules
from engine.dates import local_date
from engine.errors import CommandRefused, NotFound, Problem
from engine.models import ApiToken, Delegation, LoginAttempt, User

ROLES = roles.NAMES
MIN_PASSWORD = 12
#: failed logins allowed per address and per account in the window before logins are refused
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
#: a delegation is for a period, not for good
MAX_DELEGATION_DAYS = 366

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash(hasher):
    """Verifying against this hash when an account does not exist takes as long as a real check, so the
    answer's timing does not tell whether an address has an account. Made on first use, not at import:
    every command-line process would otherwise pay for one argon2 hash it never needs."""
    return hasher.hash('no account has this password')


def prepare_login_timing():
    """For a process that will take logins: pay for the dummy hash now, not at the first unknown address,
    whose answer would otherwise take longer than any other."""
    _dummy_hash(_hasher)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    party: str | None
    role: str | None
    is_active: bool
    #: parties this person may act for today: their own, and any delegated to them
    acts_for: tuple = ()
    session_epoch: int = 0


class LoginRefused(CommandRefused):
    """Wrong address or password, or too many attempts: one message that tells nothing more."""


def _account(session, user, today):
    granted = select(Delegation).join(User, User.id == Delegation.granted_by_id).where(
        Delegation.deputy_id == user.id, Delegation.starts_on <= today, Delegation.ends_on >= today,
        User.is_active.is_(True))  # a delegation lapses with the account that granted it
    acts_for = ((user.party_code,) if user.party_code else ()) + tuple(dict.fromkeys(
        d.party_code for d in session.scalars(granted) if d.party_code != user.party_code))
    return Account(user.id, user.email, user.name, user.party_code, user.role, user.is_active, acts_for,
                   user.session_epoch)


def add_user(session, now, actor, email, password, party=None, role=None, name=None):
    problems = []
    email = (email or '').strip().lower()
    try:
        validate.Email()(email)
    except ValidationError:
        problems.append(Problem('field.not_an_email', 'email', {}, rules.ACCESS))
    if (party is None) == (role is None):
        problems.append(Problem('account.party_or_role', 'party/role', {}, rules.ACCESS))
    if role is not None and role not in ROLES:
        problems.append(Problem('field.not_a_choice', 'role', {'choices': ROLES}, rules.ACCESS))
    if party is not None:
        party_ = register.party(session, party, 'party')
        name = name or party_.representatives[0]
    if len(password or '') < MIN_PASSWORD:
        problems.append(Problem('account.password_too_short', 'password', {'min': MIN_PASSWORD}, rules.ACCESS))
    if email and session.scalars(select(User).where(User.email == email)).first():
        problems.append(Problem('account.exists', 'email', {'email': email}, rules.ACCESS))
    name = (name or role or '').strip()
    if not name or len(name) > register.MAX_PERSON:
        problems.append(Problem('person.invalid', 'name', {'max': register.MAX_PERSON}, rules.ACCESS))
    if problems:
        raise CommandRefused(problems)
    user = User(email=email, name=name, party_code=party, role=role, password_hash=_hasher.hash(password),
                is_active=True, created_dt=now)
    session.add(user)
    session.flush()
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='account_added',
                 data={'email': email, 'name': name, 'party': party, 'role': role})
    return _account(session, user, local_date(now))


def users(session, today):
    return [_account(session, u, today) for u in session.scalars(select(User).order_by(User.id))]


def _user(session, email):
    user = session.scalars(select(User).where(User.email == (email or '').strip().lower())).first()
    if user is None:
        raise NotFound.one('account.not_found', 'email', email=email)
    return user


def disable_user(session, now, actor, email):
    user = _user(session, email)
    user.is_active = False
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='account_disabled',
                 data={'email': user.email})


def end_sessions(session, user_id):
    user = session.get(User, user_id)
    if user is not None:
        user.session_epoch += 1


def account(session, user_id, today):
    """The account behind a login session; None once disabled or removed."""
    user = session.get(User, user_id)
    return _account(session, user, today) if user is not None and user.is_active else None


def authenticate(session, now, email, password, remote_addr):
    """The account, or LoginRefused with one message for every reason (so as not to reveal accounts).

    Each attempt is recorded; the caller commits even when the login is refused.
    """
    email = (email or '').strip().lower()[:254]
    since = now - WINDOW
    # Counted per account *and* address: guessing from one place slows that place down, but does
    # not lock the representative out from their own desk before a deadline.
    failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == email, LoginAttempt.remote_addr == remote_addr, LoginAttempt.at_dt >= since,
        LoginAttempt.succeeded.is_(False)))
    from_address = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.remote_addr == remote_addr, LoginAttempt.at_dt >= since, LoginAttempt.succeeded.is_(False)))
    if failures >= MAX_FAILURES_PER_ACCOUNT or from_address >= MAX_FAILURES_PER_ADDRESS:
        session.add(LoginAttempt(email=email, remote_addr=remote_addr, at_dt=now, succeeded=False))
        raise LoginRefused.one('login.too_many_attempts', 'login', rules.ACCESS,
                               minutes=int(WINDOW.total_seconds() // 60))
    user = session.scalars(select(User).where(User.email == email)).first()
    ok = _verify(user.password_hash if user else _dummy_hash(_hasher), password or '') and user is not None and user.is_active
    session.add(LoginAttempt(email=email, remote_addr=remote_addr, at_dt=now, succeeded=ok))
    if not ok:
        raise LoginRefused.one('login.wrong', 'login', rules.ACCESS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _account(session, user, local_date(now))


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def delegate(session, now, granting, deputy_email, starts_on, ends_on):
    """A representative lets another account act for their party from ``starts_on`` to ``ends_on``."""
    if granting.party is None:
        raise CommandRefused.one('delegation.representatives_only', 'party', rules.ACCESS)
    deputy = session.scalars(select(User).where(User.email == (deputy_email or '').strip().lower())).first()
    problems = []
    if deputy is None or deputy.role is not None or not deputy.is_active:
        # One answer whether the address is unknown or belongs to a role: it reveals no accounts.
        problems.append(Problem('delegation.no_such_deputy', 'deputy', {}, rules.ACCESS))
    elif deputy.id == granting.id:
        problems.append(Problem('delegation.not_yourself', 'deputy', {}, rules.ACCESS))
    if ends_on < starts_on or ends_on < local_date(now):
        problems.append(Problem('delegation.ends_too_early', 'ends_on', {'day': max(starts_on, local_date(now))},
                                rules.ACCESS))
    elif (ends_on - starts_on).days > MAX_DELEGATION_DAYS:
        problems.append(Problem('delegation.too_long', 'ends_on', {'days': MAX_DELEGATION_DAYS}, rules.ACCESS))
    if problems:
        raise CommandRefused(problems)
    session.add(Delegation(party_code=granting.party, deputy_id=deputy.id, granted_by_id=granting.id,
                           starts_on=starts_on, ends_on=ends_on, created_dt=now))
    audit.append(session, at=now, person=granting.name, acting_for=granting.party, event='delegation_granted',
                 data={'deputy': deputy.email, 'starts_on': str(starts_on), 'ends_on': str(ends_on)})


TOKEN_PREFIX = 'cdt_'


def _token_hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def create_token(session, now, email, name, actor):
    """A new API token for the account; returns (id, token). The token is shown only now."""
    user = _user(session, email)
    name = (name or 'api').strip()[:100] or 'api'
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token), created_dt=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='api_token_created',
                 data={'email': user.email, 'token_id': row.id, 'name': name})
    return row.id, token


def tokens(session, email=None):
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if email:
        query = query.where(User.email == email.strip().lower())
    return [{'id': t.id, 'email': mail, 'name': t.name, 'created': t.created_dt.isoformat(),
             'revoked': t.revoked_dt.isoformat() if t.revoked_dt else None} for t, mail in session.execute(query)]


def revoke_token(session, now, token_id, actor, owner_id=None):
    row = session.get(ApiToken, token_id)
    if row is None or (owner_id is not None and row.user_id != owner_id):
        raise NotFound.one('token.not_found', 'token', id=token_id)
    if row.revoked_dt is None:
        row.revoked_dt = now
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='api_token_revoked',
                     data={'token_id': token_id})


def account_for_token(session, token, today):
    """The active account a token belongs to, or None (unknown, revoked or disabled)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_hash(token),
                                                 ApiToken.revoked_dt.is_(None))).first()
    return account(session, row.user_id, today) if row else None
