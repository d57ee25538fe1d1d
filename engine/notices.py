"""Outgoing messages, queued in the outbox inside the command's transaction."""
from engine.models import OutboxMessage
from engine.register import consulted_parties
from engine.dates import local_date

ROLES = ['projectleider', 'secretaris']


def queue(session, now, procedure_id, event, recipients, subject, body):
    session.add(OutboxMessage(created_dt=now, procedure_id=procedure_id, event=event,
                              recipients=list(recipients), subject=subject, body=body, status='queued'))


def everyone(session, now):
    return [p.code for p in consulted_parties(session, local_date(now))] + ROLES
