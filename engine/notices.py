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
from engine.models import Deal, Document, OpenTask, OutboxMessage, User
from engine.register import consulted_parties, definition, names as register_names, party as register_party
from engine.roles import APPLICANT, TASK_ROLES

ROLES = TASK_ROLES
#: messages that put the request to its reader: they list the documents attached to the procedure
LISTS_DOCUMENTS = frozenset({'consultation_opened', 'new_version'})
#: messages to everyone that ask each party with an open task in the procedure to act on it: each such
#: party's copy links to its own task
LINKS_OWN_TASK = frozenset({'new_version'})
#: messages about a task that opens in the same command just after them (the model's script that sends
#: the message runs before the user task's row exists): linked to that task once it opens for the recipient
AWAITS_TASK = frozenset({'escalation'})


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
    procedure_id = procedure.id if procedure is not None else None
    if event in LISTS_DOCUMENTS and procedure_id is not None:
        context.setdefault('documents', attached_documents(session, procedure_id))
    own_tasks = _open_party_tasks(session, procedure_id) if event in LINKS_OWN_TASK and procedure_id else {}
    for recipient in dict.fromkeys(recipients):
        kind, name, address, people = _address(session, deal_definition, procedure, recipient)
        if address is None:
            continue
        key = f'{dedupe_key}:{recipient}' if dedupe_key else None
        if key and session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            continue
        render_context = dict(
            context, deal=deal_definition, procedure=procedure, recipient=recipient, recipient_name=name,
            recipient_kind=kind, recipient_people=people, names=names, audit_head=audit_head,
            deadlines=list(deadlines), now=now, task_id=task_id or own_tasks.get(recipient))
        rendered = renderer.render(event, render_context)
        row = OutboxMessage(created_dt=now, procedure_id=procedure_id, event=event,
                            recipient=recipient, to_address=address, subject=rendered.subject,
                            body_text=rendered.text, body_html=rendered.html, ics=rendered.ics, dedupe_key=key,
                            status='queued', attempts=0, next_attempt_dt=now, task_id=task_id, expires_dt=expires,
                            audit_head=audit_head)
        session.add(row)
        queued.append(row)
        if event in AWAITS_TASK and task_id is None and procedure_id is not None:
            session.info.setdefault('awaiting_task', []).append((procedure_id, recipient, event, row, render_context))
    if task_id is not None and procedure_id is not None:
        _link_awaiting(session, renderer, procedure_id, recipients, task_id)
    session.flush()
    return queued


def _link_awaiting(session, renderer, procedure_id, recipients, task_id):
    """A task opened for a recipient that was just told about it (AWAITS_TASK): that message now links to it."""
    waiting = session.info.get('awaiting_task')
    if not waiting:
        return
    for entry in list(waiting):
        waited_for, recipient, event, row, render_context = entry
        if waited_for != procedure_id or recipient not in recipients:
            continue
        waiting.remove(entry)
        rendered = renderer.render(event, dict(render_context, task_id=task_id))
        row.subject, row.body_text, row.body_html, row.ics = rendered.subject, rendered.text, rendered.html, rendered.ics
        row.task_id = task_id


def attached_documents(session, procedure_id):
    """The documents of a procedure, as a message lists them: name, purpose, id (for its link), oldest first."""
    rows = session.execute(select(Document.id, Document.name, Document.purpose)
                           .where(Document.procedure_id == procedure_id).order_by(Document.id)).all()
    return [{'id': r.id, 'name': r.name, 'purpose': r.purpose or ''} for r in rows]


def _open_party_tasks(session, procedure_id):
    """{party code: its open task's id} in a procedure."""
    return dict(session.execute(select(OpenTask.party_code, OpenTask.id).where(
        OpenTask.procedure_id == procedure_id, OpenTask.party_code.is_not(None))).all())


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
