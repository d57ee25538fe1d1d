"""A person's calendar to subscribe to: ``/agenda/<secret>.ics`` with the deadlines of their own open tasks
and the deal's key dates (end of term, the consultation on continuation, the midterm report, the yearly
cycles). Calendar programs fetch it without a login, so the address itself is the key: a random secret
shown once, of which only the SHA-256 is kept, like an API token. Making a new address revokes the old;
revoking leaves none. An account that is closed (its party withdrew) or disabled has no calendar."""
import hashlib
import secrets

from sqlalchemy import select

from engine import accounts, audit, register
from engine import procedures as registry
from engine.models import CalendarFeed, OpenTask, Procedure
from engine.notices import Deadline
from engine.queries import calendar_items
from engine.rights import Caller
from engine.roles import TASK_ROLES

#: what every address starts with, so that a secret is recognised in a log or a leak report
PREFIX = 'cda_'


def _hash(secret):
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def _current(session, user_id):
    return session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user_id,
                                                      CalendarFeed.revoked_dt.is_(None))).all()


def current(session, user_id):
    """When the person's address was made, or None when they have none."""
    rows = _current(session, user_id)
    return max(r.created_dt for r in rows) if rows else None


def create(session, now, actor, user_id):
    """A new address for the person (the one before stops working); returns the secret, shown only now."""
    _revoke(session, now, user_id)
    secret = PREFIX + secrets.token_urlsafe(32)
    row = CalendarFeed(user_id=user_id, secret_hash=_hash(secret), created_dt=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, event='calendar_feed_created',
                 data={'feed_id': row.id, **accounts.by_account(actor)})
    return secret


def revoke(session, now, actor, user_id):
    """The person's address stops working; nothing when they had none."""
    if _revoke(session, now, user_id):
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for,
                     event='calendar_feed_revoked', data=accounts.by_account(actor))


def _revoke(session, now, user_id):
    rows = _current(session, user_id)
    for row in rows:
        row.revoked_dt = now
    return bool(rows)


def account_for(session, secret, today):
    """The open account an address belongs to, or None (unknown, revoked, disabled or closed)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    user_id = session.scalars(select(CalendarFeed.user_id).where(CalendarFeed.secret_hash == _hash(secret),
                                                                 CalendarFeed.revoked_dt.is_(None))).first()
    return accounts.account(session, user_id, today) if user_id is not None else None


def items(uow, account):
    """The person's open tasks that have a due date, then the deal's key dates still to come."""
    session = uow.session
    caller = Caller.for_account(account)
    query = select(OpenTask, Procedure).join(Procedure, Procedure.id == OpenTask.procedure_id).where(
        OpenTask.due_dt.is_not(None), OpenTask.due_dt > uow.now)
    if caller.role in TASK_ROLES:
        query = query.where(OpenTask.role == caller.role)
    elif caller.parties:
        query = query.where(OpenTask.party_code.in_(caller.parties))
    else:
        query = None
    found = []
    for task, procedure in (session.execute(query) if query is not None else ()):
        title = registry.get(procedure.type).title(procedure)
        for_whom = f' (namens {register.party(session, task.party_code).name})' \
            if task.party_code and len(caller.parties) > 1 else ''
        found.append(Deadline(f'task-{task.id}', f'{task.label}: {title}{for_whom}', task.due_dt,
                              path=f'/taken/{task.id}'))
    # The deal's own dates, as `citydeal calendar` gives them, without other people's deadlines.
    found += [d for d in calendar_items(uow) if d.key.startswith('deal-')]
    return sorted(found, key=lambda d: d.at)
