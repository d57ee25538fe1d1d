"""Outgoing messages, queued in the outbox inside the command's transaction.

The engine decides who hears what and when; the words are the notifications package's,
handed in by the composition root as ``session.info['renderer']``: anything with
``render(event, context) -> Rendered``.
"""
from dataclasses import dataclass

from sqlalchemy import select

from engine.dates import local_date
from engine.models import Deal, OutboxMessage, Party, User
from engine.register import consulted_parties, definition

ROLES = ('projectleider', 'secretaris')


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    ics: str | None


@dataclass(frozen=True)
class Deadline:
    """A moment a message mentions; it travels as a calendar entry too."""
    key: str
    summary: str
    at: object


def everyone(session, now):
    return [p.code for p in consulted_parties(session, local_date(now))] + list(ROLES)


def account_recipient(user_id):
    """A person rather than a party or role: for what concerns their own account."""
    return f'account:{user_id}'


def queue(session, now, procedure, event, recipients, *, dedupe_key=None, deadlines=(), task_id=None, expires=None,
          **context):
    """One outbox row per recipient with an address; returns the rows queued."""
    deal_definition = _deal_definition(session)
    renderer = session.info['renderer']
    queued = []
    for recipient in dict.fromkeys(recipients):
        name, address = _address(session, deal_definition, procedure, recipient)
        if address is None:
            continue
        key = f'{dedupe_key}:{recipient}' if dedupe_key else None
        if key and session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            continue
        rendered = renderer.render(event, dict(
            context, deal=deal_definition, procedure=procedure, recipient=recipient, recipient_name=name,
            deadlines=list(deadlines), now=now, task_id=task_id))
        row = OutboxMessage(created_dt=now, procedure_id=procedure.id if procedure else None, event=event,
                            recipient=recipient, to_address=address, subject=rendered.subject,
                            body_text=rendered.text, body_html=rendered.html, ics=rendered.ics, dedupe_key=key,
                            status='queued', attempts=0, next_attempt_dt=now, task_id=task_id, expires_dt=expires)
        session.add(row)
        queued.append(row)
    session.flush()
    return queued


def _deal_definition(session):
    return definition(session.scalars(select(Deal)).one())


def _address(session, deal_definition, procedure, recipient):
    if recipient in ROLES:
        role = deal_definition.roles[recipient]
        return role.name, role.email
    if recipient.startswith('account:'):
        user = session.get(User, int(recipient.removeprefix('account:')))
        return user.name, user.email
    if recipient == 'applicant':
        return procedure.request.get('applicant'), procedure.request.get('email')
    party = session.scalars(select(Party).where(Party.code == recipient)).one()
    return party.name, party.email
