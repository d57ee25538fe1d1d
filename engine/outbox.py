"""The outbox seen from a sender: claim due messages, record what the mail server said.

A sender claims a few messages under a token (holding them for a while, on the real clock,
so that a second sender leaves them alone), delivers outside any transaction, then records
each result in a transaction of its own, for its own claim only. A message accepted by the
server is marked sent at once and never claimed again; one refused or undelivered stays
queued and is tried again later, with a growing pause. A reminder whose occasion passed
before it could go out is withdrawn, not sent late.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from engine.dates import shown
from engine.models import OutboxMessage

HOLD = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=1)


@dataclass(frozen=True)
class Outgoing:
    id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    ics: str | None
    created_dt: object
    #: SEQ:HASH of the audit chain when it was queued, or None
    audit_head: str | None = None


def claim(session, now, real_now, limit, token):
    """Up to ``limit`` due messages, oldest first, held under ``token`` until ``real_now + HOLD``."""
    _withdraw_expired(session, now)
    candidates = session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status == 'queued', OutboxMessage.next_attempt_dt <= now,
                                       or_(OutboxMessage.claimed_until_dt.is_(None),
                                           OutboxMessage.claimed_until_dt < real_now))
        .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)).all()
    claimed = []
    for message_id in candidates:
        # Conditional, so that of two senders reading the same row only one claims it.
        taken = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == 'queued',
                                        or_(OutboxMessage.claimed_until_dt.is_(None),
                                            OutboxMessage.claimed_until_dt < real_now))
            .values(claimed_until_dt=real_now + HOLD, claimed_by=token)).rowcount
        if taken:
            claimed.append(message_id)
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id))
    return [Outgoing(r.id, r.to_address, r.subject, r.body_text, r.body_html, r.ics, r.created_dt, r.audit_head)
            for r in rows]


def _withdraw_expired(session, now):
    session.execute(update(OutboxMessage).where(OutboxMessage.status == 'queued', OutboxMessage.expires_dt < now)
                    .values(status='withdrawn', last_error='its occasion passed before it could be sent'))


def record(session, now, message_id, token, error=None, permanent=False, tried=True):
    """What became of a claimed message; ignored if the claim was lost to another sender meanwhile."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.claimed_by != token:
        return None
    row.claimed_until_dt, row.claimed_by = None, None
    if not tried:
        return row
    row.attempts += 1
    if error is None:
        row.status, row.sent_dt, row.last_error = 'sent', now, None
        return row
    row.last_error = error[:2000]
    if permanent:
        row.status = 'failed'
    else:
        row.next_attempt_dt = now + min(FIRST_RETRY * 2 ** (row.attempts - 1), LONGEST_PAUSE)
    return row


def withdraw_for_tasks(session, task_ids):
    """A task closed: reminders about it that are still waiting to go out no longer make sense."""
    if task_ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.task_id.in_(list(task_ids)),
                                                    OutboxMessage.status == 'queued')
                        .values(status='withdrawn', last_error='the task closed before it could be sent'))


def requeue(session, now, message_ids=None):
    """Put failed messages back in the queue (after fixing an address or the mail settings)."""
    query = update(OutboxMessage).where(OutboxMessage.status == 'failed')
    if message_ids:
        query = query.where(OutboxMessage.id.in_(list(message_ids)))
    return session.execute(query.values(status='queued', next_attempt_dt=now, last_error=None)).rowcount


def listing(session, status=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return [{'id': m.id, 'to': m.to_address, 'recipient': m.recipient, 'event': m.event, 'subject': m.subject,
             'text': m.body_text, 'status': m.status, 'attempts': m.attempts, 'last_error': m.last_error,
             'created': shown(m.created_dt), 'sent': shown(m.sent_dt),
             'next_attempt': shown(m.next_attempt_dt) if m.status == 'queued' else None,
             'audit_head': m.audit_head}
            for m in session.scalars(query)]
