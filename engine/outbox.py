"""The outbox seen from a sender: claim due messages, record what the mail server said.

A sender claims a batch (holding it for a while, so that a second sender leaves it alone),
delivers outside any transaction, then records each result in a transaction of its own. A
message accepted by the server is marked sent at once and never claimed again; one refused
or undelivered stays queued and is tried again later, with a growing pause.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from engine.dates import shown
from engine.models import OutboxMessage

HOLD = timedelta(minutes=2)
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


def claim(session, now, limit):
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == 'queued', OutboxMessage.next_attempt_dt <= now,
                                    or_(OutboxMessage.claimed_until_dt.is_(None), OutboxMessage.claimed_until_dt < now))
        .order_by(OutboxMessage.next_attempt_dt, OutboxMessage.id).limit(limit)).all()
    for row in rows:
        row.claimed_until_dt = now + HOLD
    return [Outgoing(r.id, r.to_address, r.subject, r.body_text, r.body_html, r.ics, r.created_dt) for r in rows]


def record(session, now, message_id, error=None, permanent=False):
    row = session.get(OutboxMessage, message_id)
    row.attempts += 1
    row.claimed_until_dt = None
    if error is None:
        row.status, row.sent_dt, row.last_error = 'sent', now, None
        return row
    row.last_error = error[:2000]
    if permanent:
        row.status = 'failed'
    else:
        row.next_attempt_dt = now + min(FIRST_RETRY * 2 ** (row.attempts - 1), LONGEST_PAUSE)
    return row


def listing(session, status=None):
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return [{'id': m.id, 'to': m.to_address, 'recipient': m.recipient, 'event': m.event, 'subject': m.subject,
             'status': m.status, 'attempts': m.attempts, 'last_error': m.last_error,
             'created': shown(m.created_dt), 'sent': shown(m.sent_dt), 'next_attempt': shown(m.next_attempt_dt)
             if m.status == 'queued' else None}
            for m in session.scalars(query)]


def due_count(session, now):
    return len(session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == 'queued',
                                                              OutboxMessage.next_attempt_dt <= now)).all())
