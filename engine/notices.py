"""Outgoing messages, queued in the outbox inside the command's transaction.

The engine decides who hears what and when; the words are the notifications package's,
handed in by the composition root as ``session.info['renderer']``: anything with
``render(event, context) -> Rendered``.

Every message carries the audit chain's head as this transaction sees it when the message is
queued (its own entries appended so far included): a party that keeps its mail keeps anchors
that `citydeal audit verify --anchor SEQ:HASH` checks the chain against.
"""
from dataclasses import dataclass

from sqlalchemy import select

from engine import audit
from engine.dates import local_date
from engine.models import Deal, OutboxMessage, User
from engine.register import consulted_parties, definition, names as register_names, party as register_party
from engine.roles import APPLICANT, TASK_ROLES

ROLES = TASK_ROLES


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
    #: where a person acts on it in the web app (``/taken/ID``), for a calendar entry's link
    path: str | None = None


def everyone(session, now):
    return [p.code for p in consulted_parties(session, local_date(now))] + list(ROLES)


def account_recipient(user_id):
    """A person rather than a party or role: for what concerns their own account."""
    return f'account:{user_id}'


def queue(session, now, procedure, event, recipients, *, deal=None, dedupe_key=None, deadlines=(), task_id=None,
          expires=None, **context):
    """One outbox row per recipient with an address; returns the rows queued."""
    deal_definition = definition(deal) if deal is not None else _deal_definition(session)
    renderer = session.info['renderer']
    queued = []
    session.flush()
    head = audit.head(session)
    audit_head = f'{head[0]}:{head[1]}' if head else None
    names = register_names(session)
    for recipient in dict.fromkeys(recipients):
        kind, name, address, people = _address(session, deal_definition, procedure, recipient)
        if address is None:
            continue
        key = f'{dedupe_key}:{recipient}' if dedupe_key else None
        if key and session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            continue
        rendered = renderer.render(event, dict(
            context, deal=deal_definition, procedure=procedure, recipient=recipient, recipient_name=name,
            recipient_kind=kind, recipient_people=people, names=names, audit_head=audit_head,
            deadlines=list(deadlines), now=now, task_id=task_id))
        row = OutboxMessage(created_dt=now, procedure_id=procedure.id if procedure else None, event=event,
                            recipient=recipient, to_address=address, subject=rendered.subject,
                            body_text=rendered.text, body_html=rendered.html, ics=rendered.ics, dedupe_key=key,
                            status='queued', attempts=0, next_attempt_dt=now, task_id=task_id, expires_dt=expires,
                            audit_head=audit_head)
        session.add(row)
        queued.append(row)
    session.flush()
    return queued


def queue_to_person(session, now, event, user, *, expires=None, **context):
    """One message to a person's own address, about their account (a sign-in link, a password reset)."""
    deal_definition = _deal_definition(session)
    session.flush()
    head = audit.head(session)
    audit_head = f'{head[0]}:{head[1]}' if head else None
    rendered = session.info['renderer'].render(event, dict(
        context, deal=deal_definition, procedure=None, recipient='account', recipient_name=user.name,
        recipient_kind='person', recipient_people=(user.name,), names={}, audit_head=audit_head, deadlines=[],
        now=now, task_id=None))
    row = OutboxMessage(created_dt=now, procedure_id=None, event=event, recipient=f'account:{user.id}',
                        to_address=user.email, subject=rendered.subject, body_text=rendered.text,
                        body_html=rendered.html, ics=None, status='queued', attempts=0, next_attempt_dt=now,
                        expires_dt=expires, audit_head=audit_head)
    session.add(row)
    session.flush()
    return row


def _deal_definition(session):
    return definition(session.scalars(select(Deal)).one())


def _address(session, deal_definition, procedure, recipient):
    """(kind, name, address, the people a greeting may name) of a recipient."""
    if recipient in ROLES:
        role = deal_definition.roles[recipient]
        return 'role', role.name, role.email, (role.name,)
    if recipient.startswith('account:'):
        user = session.get(User, int(recipient.removeprefix('account:')))
        return 'person', user.name, user.email, (user.name,)
    if recipient == APPLICANT:
        request = procedure.request
        return 'applicant', request.get('applicant'), request.get('email'), (request.get('representative'),)
    party = register_party(session, recipient)
    return 'party', party.name, party.email, tuple(party.representatives)
