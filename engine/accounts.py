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
from sqlalchemy import select
from sqlalchemy.orm import aliased

from engine import names as name_rules
from engine import audit, login_limits, notices, one_time_links, passwords, register, roles, rules, totp
from engine.dates import local_date
from engine.errors import CommandRefused, NotFound, Problem
from engine.models import ApiToken, CalendarFeed, Delegation, Party, User

ROLES = roles.NAMES
#: a second reset mail for the same account only after this pause: no flooding a person's mailbox
RESET_MAIL_PAUSE = timedelta(minutes=5)
TOO_MANY = 'login.too_many_attempts'
#: a delegation is for a period, not for good
MAX_DELEGATION_DAYS = 366
#: said only after the right password, so it tells a guesser nothing
CLOSED_LOGIN = 'login.account_closed'

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
    #: a second factor (TOTP) is on: the login asks for a code after the first step
    has_totp: bool = False


class LoginRefused(CommandRefused):
    """Wrong address or password, or too many attempts: one message that tells nothing more.

    ``delay`` is how long the answer should be held back (failures from the address), in seconds.
    """

    def __init__(self, problems, delay=0.0):
        super().__init__(problems)
        self.delay = delay

    @classmethod
    def one(cls, code, field_, rule=rules.ACCESS, delay=0.0, **params):
        return cls([Problem(code, field_, params, rule)], delay=delay)

    @property
    def too_many(self):
        return self.problems[0].code == TOO_MANY


def by_account(actor):
    """The account that gave a web or API command, for its audit entry (none at the command line)."""
    account_id = getattr(actor, 'account_id', None)
    return {'account': account_id} if account_id is not None else {}


def _withdrawn(session):
    return set(session.scalars(select(Party.code).where(Party.status == 'withdrawn')))


def _running(today):
    """The delegations that count today: in their period, neither revoked nor ended with a party."""
    return (Delegation.ended_dt.is_(None), Delegation.starts_on <= today, Delegation.ends_on >= today)


def _account(session, user, today, own_party_status=None):
    """``own_party_status``: the status of the user's own party when the caller read it already."""
    granted = select(Delegation).join(User, User.id == Delegation.granted_by_id).where(
        Delegation.deputy_id == user.id, *_running(today),
        User.is_active.is_(True))  # a delegation lapses with the account that granted it
    # Only a personal account stands in: a delegation made before that rule to a representative or a
    # role's account gives nothing, so one person never acts for two parties.
    deputised = tuple(d.party_code for d in session.scalars(granted)) \
        if user.party_code is None and user.role is None else ()
    # A party that withdrew is never acted for, whatever rows still name it (membership ends access).
    if deputised or own_party_status is None:
        withdrawn = _withdrawn(session) if (deputised or user.party_code) else set()
    else:
        withdrawn = {user.party_code} if own_party_status == 'withdrawn' else set()
    acts_for = tuple(code for code in dict.fromkeys(((user.party_code,) if user.party_code else ()) + deputised)
                     if code not in withdrawn)
    return Account(user.id, user.email, user.name, user.party_code, user.role, user.is_active, acts_for,
                   user.session_epoch, user.totp_secret is not None)


def is_closed(account_):
    """Acts for no party and holds no role today (see the module's docstring)."""
    return not account_.acts_for and account_.role is None


def add_user(session, now, actor, email, password, party=None, role=None, name=None):
    problems = []
    email = (email or '').strip().lower()
    try:
        validate.Email()(email)
    except ValidationError:
        problems.append(Problem('field.not_an_email', 'email', {}, rules.ACCESS))
    if party is not None and role is not None:
        # Neither: a deputy's personal account, which acts only while a delegation runs.
        problems.append(Problem('account.party_or_role', 'party/role', {}, rules.ACCESS))
    if role is not None and role not in ROLES:
        problems.append(Problem('field.not_a_choice', 'role', {'choices': ROLES}, rules.ACCESS))
    if party is not None:
        party_ = register.party(session, party, 'party')
        name = name or party_.representatives[0]
    problems.extend(passwords.problems(password))
    if email and session.scalars(select(User).where(User.email == email)).first():
        problems.append(Problem('account.exists', 'email', {'email': email}, rules.ACCESS))
    name = name or role or ''
    if name_rules.problem(name):
        problems.append(Problem(name_rules.problem(name), 'name', {}, rules.ACCESS))
    name = name_rules.normalised(name)
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
    """The account behind a login session or token; None once disabled, removed or closed."""
    # One read for a request's login: the account with its own party's status.
    row = session.execute(select(User, Party.status).outerjoin(Party, Party.code == User.party_code)
                          .where(User.id == user_id)).first()
    if row is None or not row[0].is_active:
        return None
    user, status = row
    found = _account(session, user, today, own_party_status=status or 'none')
    return None if is_closed(found) else found


def authenticate(session, now, email, password, remote_addr, link_base=None):
    """The account, or LoginRefused with one message for every wrong answer (so as not to reveal accounts).

    Each attempt is recorded; the caller commits even when the login is refused. The fifth failure of an
    account in the window mails its owner a one-time sign-in link (``link_base`` + token).
    """
    email = (email or '').strip().lower()[:254]
    if login_limits.is_waiting(session, now, email):
        login_limits.record(session, now, email, remote_addr, False)
        raise LoginRefused.one(TOO_MANY, 'login', delay=_address_delay(session, now, remote_addr),
                               minutes=int(login_limits.WINDOW.total_seconds() // 60))
    user = session.scalars(select(User).where(User.email == email)).first()
    ok = _verify(user.password_hash if user else _dummy_hash(_hasher), password or '') and user is not None and user.is_active
    login_limits.record(session, now, email, remote_addr, ok)
    if not ok:
        if user is not None and user.is_active and login_limits.is_waiting(session, now, email):
            _mail_sign_in_link(session, now, user, link_base)
        raise LoginRefused.one('login.wrong', 'login', delay=_address_delay(session, now, remote_addr))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    found = _account(session, user, local_date(now))
    if is_closed(found):
        raise LoginRefused.one(CLOSED_LOGIN, 'login')
    return found


def _address_delay(session, now, remote_addr):
    return login_limits.delay_after_failure(login_limits.address_failures(session, now, remote_addr))


def _mail_sign_in_link(session, now, user, link_base):
    """The account now waits; its owner may still come in, once, with the link (not twice per window)."""
    if link_base is None or one_time_links.recently_issued(session, now, user, one_time_links.SIGN_IN,
                                                            login_limits.WINDOW):
        return
    token = one_time_links.issue(session, now, user, one_time_links.SIGN_IN)
    notices.queue_to_person(session, now, 'sign_in_link', user, link=link_base + token,
                            valid_minutes=int(one_time_links.VALID[one_time_links.SIGN_IN].total_seconds() // 60),
                            expires=now + one_time_links.VALID[one_time_links.SIGN_IN])


def sign_in_with_link(session, now, token, remote_addr):
    """The account a one-time sign-in link is for; the link is used up, the account's failures forgiven."""
    user = one_time_links.redeem(session, now, token, one_time_links.SIGN_IN)
    login_limits.record(session, now, user.email, remote_addr, True)
    return _account(session, user, local_date(now))


def second_factor(session, now, user_id, code, remote_addr, link_base=None):
    """After the first step (password, link or organisation): the account if the code is right.

    A wrong code counts as a failed login of the account, so that six digits cannot be guessed; the
    fifth mails the owner a sign-in link as a wrong password does.
    """
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise LoginRefused.one(totp.WRONG_CODE, 'code')
    if login_limits.is_waiting(session, now, user.email):
        login_limits.record(session, now, user.email, remote_addr, False)
        raise LoginRefused.one(TOO_MANY, 'code', minutes=int(login_limits.WINDOW.total_seconds() // 60))
    ok = totp.verify(session, now, user_id, code)
    login_limits.record(session, now, user.email, remote_addr, ok)
    if not ok:
        if login_limits.is_waiting(session, now, user.email):
            _mail_sign_in_link(session, now, user, link_base)
        raise LoginRefused.one(totp.WRONG_CODE, 'code', delay=_address_delay(session, now, remote_addr))
    return _account(session, user, local_date(now))


def account_for_verified_email(session, now, email, remote_addr):
    """Login through the organisation: the active account of an address the provider verified."""
    user = session.scalars(select(User).where(User.email == (email or '').strip().lower()[:254])).first()
    if user is None or not user.is_active:
        raise LoginRefused.one('account.no_active_account', 'email')
    found = _account(session, user, local_date(now))
    if is_closed(found):
        raise LoginRefused.one(CLOSED_LOGIN, 'login')
    login_limits.record(session, now, user.email, remote_addr, True)
    return found


def request_password_reset(session, now, email, link_base):
    """Mail a one-time link to set a new password, if the address has an active account; tells nothing."""
    user = session.scalars(select(User).where(User.email == (email or '').strip().lower()[:254])).first()
    if user is None or not user.is_active or one_time_links.recently_issued(
            session, now, user, one_time_links.PASSWORD_RESET, RESET_MAIL_PAUSE):
        return
    token = one_time_links.issue(session, now, user, one_time_links.PASSWORD_RESET)
    notices.queue_to_person(session, now, 'password_reset', user, link=link_base + token, valid_minutes=60,
                            expires=now + one_time_links.VALID[one_time_links.PASSWORD_RESET])


def password_reset_account(session, now, token):
    """Whom a reset link is for while it is good (for the form), else None."""
    user = one_time_links.check(session, now, token, one_time_links.PASSWORD_RESET)
    return _account(session, user, local_date(now)) if user else None


def reset_password(session, now, token, password):
    """A new password through a reset link; every session of the account ends."""
    problems = passwords.problems(password)
    if problems:
        raise CommandRefused(problems)
    user = one_time_links.redeem(session, now, token, one_time_links.PASSWORD_RESET)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    # The owner proved it is theirs through their mailbox: the wait for wrong passwords ends, as after a login.
    login_limits.record(session, now, user.email, 'password reset', succeeded=True)
    audit.append(session, at=now, person=user.name, acting_for=user.party_code or user.role,
                 event='password_reset', data={'email': user.email})


def overview(session, user_id, today):
    """What /account shows: the second factor, recovery codes left, tokens, delegations granted and received."""
    user = session.get(User, user_id)
    people = {u.id: u for u in session.scalars(select(User))}

    def delegation(d, other_id):
        other = people[other_id]
        return {'id': d.id, 'party': d.party_code, 'person': other.name, 'email': other.email,
                'starts_on': d.starts_on, 'ends_on': d.ends_on,
                'current': d.ended_dt is None and d.starts_on <= today <= d.ends_on and other.is_active}

    granted = session.scalars(select(Delegation).where(Delegation.granted_by_id == user_id).order_by(Delegation.id))
    received = session.scalars(select(Delegation).where(Delegation.deputy_id == user_id).order_by(Delegation.id))
    return {'totp': user.totp_secret is not None, 'recovery_codes_left': totp.recovery_codes_left(session, user_id),
            'tokens': tokens(session, user.email),
            'granted': [delegation(d, d.deputy_id) for d in granted],
            'received': [delegation(d, d.granted_by_id) for d in received]}


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def delegate(session, now, granting, deputy_email, starts_on, ends_on):
    """A representative lets another account act for their party from ``starts_on`` to ``ends_on``."""
    if granting.party is None or granting.party not in granting.acts_for \
            or register.party(session, granting.party, 'party').status == 'withdrawn':
        raise CommandRefused.one('delegation.representatives_only', 'party', rules.ACCESS)
    deputy = session.scalars(select(User).where(User.email == (deputy_email or '').strip().lower())).first()
    problems = []
    if deputy is None or deputy.role is not None or deputy.party_code is not None or not deputy.is_active:
        # One person acts for one party: a deputy has a personal account, never a role's or a party's.
        # One answer whether the address is unknown, a role's or a party's: it reveals no accounts.
        problems.append(Problem('delegation.no_such_deputy', 'deputy', {}, rules.ACCESS))
    elif deputy.id == granting.id:
        problems.append(Problem('delegation.not_yourself', 'deputy', {}, rules.ACCESS))
    else:
        other = session.scalars(select(Delegation).where(
            Delegation.deputy_id == deputy.id, Delegation.party_code != granting.party, Delegation.ended_dt.is_(None),
            Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on)).first()
        if other is not None:
            # One person acts for one party at a time: a deputy of another party in that period is refused.
            problems.append(Problem('delegation.deputy_of_another_party', 'deputy',
                                    {'party': register.party(session, other.party_code).name}, rules.ACCESS))
    if ends_on < starts_on or ends_on < local_date(now):
        problems.append(Problem('delegation.ends_too_early', 'ends_on', {'day': max(starts_on, local_date(now))},
                                rules.ACCESS))
    elif (ends_on - starts_on).days > MAX_DELEGATION_DAYS:
        problems.append(Problem('delegation.too_long', 'ends_on', {'days': MAX_DELEGATION_DAYS}, rules.ACCESS))
    if problems:
        raise CommandRefused(problems)
    row = Delegation(party_code=granting.party, deputy_id=deputy.id, granted_by_id=granting.id,
                     starts_on=starts_on, ends_on=ends_on, created_dt=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, person=granting.name, acting_for=granting.party, event='delegation_granted',
                 data={'delegation_id': row.id, 'deputy': deputy.email, 'starts_on': str(starts_on),
                       'ends_on': str(ends_on), 'account': granting.id})
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
                           reason=reason, starts_on=str(delegation.starts_on), ends_on=str(delegation.ends_on),
                           **by_account(actor)))
    return deputy


def revoke_delegation(session, now, delegation_id, actor, party=None):
    """Ends a delegation now, current or future. With ``party`` only one of that party's (the web page's
    representative); another's is not found, as if it did not exist."""
    # an id beyond the column's range is no row (SQLite would overflow on it, PostgreSQL refuse it)
    row = session.get(Delegation, delegation_id) if 0 < delegation_id < 2 ** 31 else None
    if row is None or (party is not None and row.party_code != party):
        raise NotFound.one('delegation.not_found', 'delegation', id=delegation_id)
    if _status(row, local_date(now)) == 'ended':
        raise CommandRefused.one('delegation.already_ended', 'delegation', rules.ACCESS, id=delegation_id)
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
        feeds = session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id,
                                                           CalendarFeed.revoked_dt.is_(None))).all()
        for feed in feeds:
            feed.revoked_dt = now
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='account_closed',
                     data={'email': user.email, 'party': party_code, 'sessions_ended': True, 'tokens_revoked': revoked,
                           'calendar_feed_revoked': bool(feeds)})
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
                 data={'email': user.email, 'token_id': row.id, 'name': name, **by_account(actor)})
    return row.id, token


def tokens(session, email=None):
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if email:
        query = query.where(User.email == email.strip().lower())
    return [{'id': t.id, 'email': mail, 'name': t.name, 'created': t.created_dt.isoformat(),
             'revoked': t.revoked_dt.isoformat() if t.revoked_dt else None} for t, mail in session.execute(query)]


def revoke_token(session, now, token_id, actor, owner_id=None):
    row = session.get(ApiToken, token_id) if 0 < token_id < 2 ** 31 else None
    if row is None or (owner_id is not None and row.user_id != owner_id):
        raise NotFound.one('token.not_found', 'token', id=token_id)
    if row.revoked_dt is None:
        row.revoked_dt = now
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='api_token_revoked',
                     data={'token_id': token_id, **by_account(actor)})


def account_for_token(session, token, today):
    """The active account a token belongs to, or None (unknown, revoked or disabled)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _token_hash(token),
                                                 ApiToken.revoked_dt.is_(None))).first()
    return account(session, row.user_id, today) if row else None
