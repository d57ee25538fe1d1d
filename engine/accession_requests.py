"""Requests to join from the public form (Toetreding lid 2), confirmed by mail before they count.

Anyone may fill in ``/toetreden`` without logging in, so a request first waits as a pending row and
the applicant gets a confirmation link (valid ``VALID``). Only a confirmed request becomes a
toetreding, with its procedure, its projectleider's task, its audit entries and its mail. An
unconfirmed one leaves nothing of that, and is deleted once its link has expired: on every new
request, and by ``housekeeping.run`` (each ``citydeal tick`` and the scheduler).
"""
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from engine import commands, notices, register, rules
from engine import procedures as registry
from engine.errors import CommandRefused, NotFound, Problem
from engine.models import PendingAccession
from engine.procedures import fields
from engine.rights import Caller

VALID = timedelta(days=7)


@dataclass(frozen=True)
class _Unregistered:
    """What the outbox needs of a procedure to reach the applicant, before there is a procedure."""
    request: dict
    id: None = field(default=None)
    initiated_by: None = field(default=None)
    type: None = field(default=None)


def _token_hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def submit(uow, values, link_for):
    """Keeps the request and mails the applicant ``link_for(token)``; returns when the link expires.

    ``values``: applicant, kind, representative, contribution, email (all required), endorses_goals,
    confidential. The form's fields and the register (already a party, a request already running, a name
    that looks like a party's) are checked here, and the register again when the request is confirmed.
    """
    purge(uow.session, uow.now)
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    request = _checked(uow.session, values)
    token = secrets.token_urlsafe(32)
    row = PendingAccession(token_hash=_token_hash(token), request=request, created_dt=uow.now,
                           expires_dt=uow.now + VALID)
    uow.session.add(row)
    uow.session.flush()
    notices.queue(uow.session, uow.now, _Unregistered(request), 'accession_confirmation', ['applicant'],
                  applicant=request['applicant'], representative=request['representative'], link=link_for(token),
                  valid_until=row.expires_dt, expires=row.expires_dt)
    return row.expires_dt


def _checked(session, values):
    """The request by the public type's own start schema and the register, plus the address the link goes to."""
    type_ = registry.public_request()
    problems = []
    try:
        request = fields.read(type_.start_schema, values, type_.rule)
    except CommandRefused as refused:
        problems, request = list(refused.problems), {}
    if request and type_.register_problems:
        problems += type_.register_problems(session, request)
    if not (values.get('email') or '').strip() and not any(p.field == 'email' for p in problems):
        problems.append(Problem('field.required', 'email', {}, rules.TOETREDING_2))
    if problems:
        raise CommandRefused(problems)
    return {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in request.items()}


def pending(session, now, token):
    """The request a link confirms, still valid; NotFound for an unknown, used or expired link."""
    row = None
    if token and len(token) <= 100:
        row = session.scalars(select(PendingAccession).where(PendingAccession.token_hash == _token_hash(token),
                                                             PendingAccession.expires_dt > now)).first()
    if row is None:
        raise NotFound.one('link.not_valid', 'token', rules.ACCESS)
    return row


def confirm(uow, token):
    """The applicant confirmed: the request becomes a toetreding, and its link is used up, together."""
    row = pending(uow.session, uow.now, token)
    request = dict(row.request)
    uow.session.delete(row)
    uow.session.flush()
    return start_confirmed(uow, request)


def start_confirmed(uow, request):
    """A confirmed request starts the public type's procedure, checked again against the register."""
    return commands.start(uow.context(), registry.public_request().id, Caller(person=None), request)


def purge(session, now):
    """Deletes the requests whose link has expired unconfirmed; returns how many. Not audited: an
    unconfirmed request was never part of the deal's record."""
    return session.execute(delete(PendingAccession).where(PendingAccession.expires_dt <= now)).rowcount


def purge_due(session, now):
    return session.scalars(select(PendingAccession.id).where(PendingAccession.expires_dt <= now)
                           .limit(1)).first() is not None
