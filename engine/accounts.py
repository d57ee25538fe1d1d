"""People who log in: accounts, passwords (argon2id), delegation to a deputy, and who may act for whom.

A person acts for one party (a party may have several people: Zeist signed with two) or in one
role, or has a personal account that acts for a party only while a delegation makes them its deputy.
Auditors read everything and change nothing; admins manage accounts.

An account that acts for no party and holds no role today is closed: the representatives of a party
that withdrew (``close_for_party``) and a deputy outside the delegation's period. It cannot log in
and no session or token of it counts; the public pages stay open to its person like to anyone.
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
from sqlalchemy.orm import aliased

from engine import audit, notices, register
from engine.dates import local_date
from engine.errors import CommandRefused, NotFound, Problem
from engine.models import ApiToken, Delegation, LoginAttempt, Party, User

ROLES = ('projectleider', 'secretaris', 'auditor', 'admin')
MIN_PASSWORD = 12
#: failed logins allowed per address and per account in the window before logins are refused
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
#: a delegation is for a period, not for good
MAX_DELEGATION_DAYS = 366
WRONG_LOGIN = 'e-mail address or password is not right'
#: said only after the right password, so it tells a guesser nothing
CLOSED_LOGIN = 'this account acts for no party and holds no role today'

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


def _withdrawn(session):
    return set(session.scalars(select(Party.code).where(Party.status == 'withdrawn')))


def _running(today):
    """The delegations that count today: in their period, neither revoked nor ended with a party."""
    return (Delegation.ended_dt.is_(None), Delegation.starts_on <= today, Delegation.ends_on >= today)


def _account(session, user, today):
    granted = select(Delegation).join(User, User.id == Delegation.granted_by_id).where(
        Delegation.deputy_id == user.id, *_running(today),
        User.is_active.is_(True))  # a delegation lapses with the account that granted it
    # A party that withdrew is never acted for, whatever rows still name it (membership ends access).
    withdrawn = _withdrawn(session)
    # Only a personal account stands in: a delegation made before that rule to a representative or a
    # role's account gives nothing, so one person never acts for two parties.
    deputised = tuple(d.party_code for d in session.scalars(granted)) \
        if user.party_code is None and user.role is None else ()
    acts_for = tuple(code for code in dict.fromkeys(((user.party_code,) if user.party_code else ()) + deputised)
                     if code not in withdrawn)
    return Account(user.id, user.email, user.name, user.party_code, user.role, user.is_active, acts_for,
                   user.session_epoch)


def is_closed(account_):
    """Acts for no party and holds no role today (see the module's docstring)."""
    return not account_.acts_for and account_.role is None


def add_user(session, now, actor, email, password, party=None, role=None, name=None):
    problems = []
    email = (email or '').strip().lower()
    try:
        validate.Email()(email)
    except ValidationError:
        problems.append(Problem('email', f'{email!r} is not an e-mail address'))
    if party is not None and role is not None:
        # Neither: a deputy's personal account, which acts only while a delegation runs.
        problems.append(Problem('party/role', 'give at most one: --party CODE or --role ROLE'))
    if role is not None and role not in ROLES:
        problems.append(Problem('role', f'{role!r} is not one of {", ".join(ROLES)}'))
    if party is not None:
        party_ = register.party(session, party, 'party')
        name = name or party_.representatives[0]
    if len(password or '') < MIN_PASSWORD:
        problems.append(Problem('password', f'must be at least {MIN_PASSWORD} characters'))
    if email and session.scalars(select(User).where(User.email == email)).first():
        problems.append(Problem('email', f'{email} already has an account'))
    name = (name or role or '').strip()
    if not name or len(name) > register.MAX_PERSON:
        problems.append(Problem('name', f'must be a name of 1 to {register.MAX_PERSON} characters'))
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
        raise NotFound.one('email', f'no account for {email!r}')
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
    """The account behind a login session or token; None once disabled, removed or closed."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    found = _account(session, user, today)
    return None if is_closed(found) else found


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
        raise LoginRefused.one('login', f'too many attempts; try again in {int(WINDOW.total_seconds() // 60)} minutes')
    user = session.scalars(select(User).where(User.email == email)).first()
    ok = _verify(user.password_hash if user else _dummy_hash(_hasher), password or '') and user is not None and user.is_active
    session.add(LoginAttempt(email=email, remote_addr=remote_addr, at_dt=now, succeeded=ok))
    if not ok:
        raise LoginRefused.one('login', WRONG_LOGIN)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    found = _account(session, user, local_date(now))
    if is_closed(found):
        raise LoginRefused.one('login', CLOSED_LOGIN)
    return found


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def delegate(session, now, granting, deputy_email, starts_on, ends_on):
    """A representative lets another account act for their party from ``starts_on`` to ``ends_on``."""
    if granting.party is None or granting.party not in granting.acts_for \
            or register.party(session, granting.party, 'party').status == 'withdrawn':
        raise CommandRefused.one('party', "only a party's representative can delegate", 'namens')
    deputy = session.scalars(select(User).where(User.email == (deputy_email or '').strip().lower())).first()
    problems = []
    if deputy is None or deputy.role is not None or deputy.party_code is not None or not deputy.is_active:
        # One person acts for one party: a deputy has a personal account, never a role's or a party's.
        # One answer whether the address is unknown, a role's or a party's: it reveals no accounts.
        problems.append(Problem('deputy', 'no deputy account has this address: a deputy has a personal account, '
                                          'not a role account or a representative of a party', 'namens'))
    elif deputy.id == granting.id:
        problems.append(Problem('deputy', 'you cannot delegate to yourself', 'namens'))
    if ends_on < starts_on or ends_on < local_date(now):
        problems.append(Problem('ends_on', f'{ends_on} must not be before {max(starts_on, local_date(now))}'))
    elif (ends_on - starts_on).days > MAX_DELEGATION_DAYS:
        problems.append(Problem('ends_on', f'a delegation lasts at most {MAX_DELEGATION_DAYS} days', 'namens'))
    if problems:
        raise CommandRefused(problems)
    row = Delegation(party_code=granting.party, deputy_id=deputy.id, granted_by_id=granting.id,
                     starts_on=starts_on, ends_on=ends_on, created_dt=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, person=granting.name, acting_for=granting.party, event='delegation_granted',
                 data={'delegation_id': row.id, 'deputy': deputy.email, 'starts_on': str(starts_on),
                       'ends_on': str(ends_on)})
    return row.id


def delegations(session, today, party=None):
    """Every delegation (of ``party``, or all), newest first: who stands in, who granted it, the period,
    and whether it is current, future or ended (and why)."""
    deputy, granter = aliased(User), aliased(User)
    query = (select(Delegation, deputy, granter).join(deputy, deputy.id == Delegation.deputy_id)
             .join(granter, granter.id == Delegation.granted_by_id).order_by(Delegation.id.desc()))
    if party is not None:
        query = query.where(Delegation.party_code == party)
    return [{'id': d.id, 'party': d.party_code, 'deputy': dep.email, 'deputy_name': dep.name,
             'granted_by': gr.name, 'granted_by_email': gr.email, 'starts_on': str(d.starts_on),
             'ends_on': str(d.ends_on), 'status': _status(d, today), 'end_reason': d.end_reason,
             'ended': d.ended_dt.isoformat() if d.ended_dt else None}
            for d, dep, gr in session.execute(query)]


def _status(delegation, today):
    if delegation.ended_dt is not None or delegation.ends_on < today:
        return 'ended'
    return 'future' if delegation.starts_on > today else 'current'


def _end(session, now, delegation, reason, actor, **data):
    delegation.ended_dt, delegation.end_reason = now, reason
    deputy = session.get(User, delegation.deputy_id)
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for,
                 event='delegation_expired' if reason == 'expired' else 'delegation_revoked',
                 data=dict(data, delegation_id=delegation.id, party=delegation.party_code, deputy=deputy.email,
                           reason=reason, starts_on=str(delegation.starts_on), ends_on=str(delegation.ends_on)))
    return deputy


def revoke_delegation(session, now, delegation_id, actor, party=None):
    """Ends a delegation now, current or future. With ``party`` only one of that party's (the web page's
    representative); another's is not found, as if it did not exist."""
    row = session.get(Delegation, delegation_id)
    if row is None or (party is not None and row.party_code != party):
        raise NotFound.one('delegation', f'no delegation {delegation_id}')
    if _status(row, local_date(now)) == 'ended':
        raise CommandRefused.one('delegation', f'delegation {delegation_id} has already ended')
    _end(session, now, row, 'revoked', actor)


def expire_delegations(session, now, actor):
    """Audits, once, each delegation whose last day has passed; returns how many. Access already ended
    with the day (``_running``); this is the record of it. Called by ``housekeeping.run``."""
    today = local_date(now)
    passed = session.scalars(select(Delegation).where(Delegation.ended_dt.is_(None), Delegation.ends_on < today)
                             .order_by(Delegation.id)).all()
    for row in passed:
        _end(session, now, row, 'expired', actor)
    return len(passed)


def expiry_due(session, now):
    return session.scalars(select(Delegation.id).where(Delegation.ended_dt.is_(None),
                                                       Delegation.ends_on < local_date(now)).limit(1)).first() is not None


def close_for_party(session, now, party_code, actor):
    """Membership ends access: when ``party_code``'s withdrawal takes effect (or the deal ends with its
    notice), its people's sessions end, their tokens are revoked, every delegation for the party or to
    one of its people ends, each audited, and every person concerned is told by mail. Their accounts
    are closed from then on (``is_closed``): no login, no token. Public pages stay open to them."""
    people = session.scalars(select(User).where(User.party_code == party_code).order_by(User.id)).all()
    ids = [u.id for u in people]
    told = {}
    for user in people:
        user.session_epoch += 1
        revoked = []
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked_dt.is_(None))):
            token.revoked_dt = now
            revoked.append(token.id)
            audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for,
                         event='api_token_revoked', data={'token_id': token.id, 'reason': 'party_withdrawn'})
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='account_closed',
                     data={'email': user.email, 'party': party_code, 'sessions_ended': True, 'tokens_revoked': revoked})
        told[user.id] = user
    ending = session.scalars(select(Delegation).where(
        Delegation.ended_dt.is_(None), (Delegation.party_code == party_code) | Delegation.deputy_id.in_(ids))
        .order_by(Delegation.id)).all()
    for row in ending:
        deputy = _end(session, now, row, 'party_withdrawn', actor, withdrawn=party_code)
        told.setdefault(deputy.id, deputy)
    party_name = register.party(session, party_code, 'party').name
    notices.queue(session, now, None, 'access_closed', [notices.account_recipient(u.id) for u in told.values()],
                  party_name=party_name)


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
        raise NotFound.one('token', f'no token {token_id}')
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
