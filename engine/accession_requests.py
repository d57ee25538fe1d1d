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

from marshmallow import ValidationError, validate
from sqlalchemy import delete, select

from engine import forms, notices, register, starting
from engine.deal_file import PARTY_KINDS
from engine.errors import CommandRefused, NotFound, Problem
from engine.models import PendingAccession

VALID = timedelta(days=7)
RULE = 'Toetreding lid 2: schriftelijk verzoek met de concrete bijdrage'
#: line and paragraph separators: a name is one line, so it cannot add lines to a message
LINE_BREAKS = ('\n', '\r', '\x85', '\u2028', '\u2029')


@dataclass(frozen=True)
class _Unregistered:
    """What the outbox needs of a procedure to reach the applicant, before there is a procedure."""
    request: dict
    id: None = field(default=None)


def _token_hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def submit(uow, values, link_for):
    """Keeps the request and mails the applicant ``link_for(token)``; returns when the link expires.

    ``values``: applicant, kind, representative, contribution, email (all required), endorses_goals,
    confidential. The form's fields are checked here; the rules that depend on the register (already a
    party, a request already running) are checked again when the request is confirmed.
    """
    purge(uow.session, uow.now)
    deal = uow.deal()
    register.require_in_force(deal, uow.now)
    request = _checked(values)
    token = secrets.token_urlsafe(32)
    row = PendingAccession(token_hash=_token_hash(token), request=request, created_dt=uow.now,
                           expires_dt=uow.now + VALID)
    uow.session.add(row)
    uow.session.flush()
    notices.queue(uow.session, uow.now, _Unregistered(request), 'accession_confirmation', ['applicant'],
                  applicant=request['applicant'], representative=request['representative'], link=link_for(token),
                  valid_until=row.expires_dt, expires=row.expires_dt)
    return row.expires_dt


def _checked(values):
    problems, request = [], {}
    for name, limit in (('applicant', starting.MAX_TITLE), ('representative', starting.MAX_TITLE),
                        ('contribution', starting.MAX_TEXT)):
        value = (values.get(name) or '').strip()
        request[name] = value
        if not value:
            problems.append(Problem(name, 'is required and must not be blank', RULE))
        elif forms.has_control_characters(value):
            problems.append(Problem(name, 'contains control or direction-changing characters', RULE))
        elif len(value) > limit:
            problems.append(Problem(name, f'is {len(value)} characters; at most {limit} allowed', RULE))
        elif name != 'contribution' and any(mark in value for mark in LINE_BREAKS):
            problems.append(Problem(name, 'must be a single line', RULE))
    kind = values.get('kind') or ''
    if kind not in PARTY_KINDS:
        problems.append(Problem('kind', f'{kind!r} is not one of {", ".join(PARTY_KINDS)}', RULE))
    email = (values.get('email') or '').strip()
    if not email:
        problems.append(Problem('email', 'is required and must not be blank', 'the confirmation link goes there'))
    elif not _valid_email(email):
        problems.append(Problem('email', f'{email!r} is not an e-mail address', 'the confirmation link goes there'))
    if values.get('endorses_goals') is not True:
        problems.append(Problem('endorses_goals', 'the applicant must endorse the goals of the deal',
                                'Deel 2, Aansluiten nieuwe deelnemers: onderschrijven van de doelstellingen'))
    if problems:
        raise CommandRefused(problems)
    return dict(request, kind=kind, email=email, endorses_goals=True, confidential=bool(values.get('confidential')))


def _valid_email(address):
    try:
        validate.Email()(address)
    except ValidationError:
        return False
    return len(address) <= 254


def pending(session, now, token):
    """The request a link confirms, still valid; NotFound for an unknown, used or expired link."""
    row = None
    if token and len(token) <= 100:
        row = session.scalars(select(PendingAccession).where(PendingAccession.token_hash == _token_hash(token),
                                                             PendingAccession.expires_dt > now)).first()
    if row is None:
        raise NotFound.one('token', 'this confirmation link is unknown, used or expired')
    return row


def confirm(uow, token):
    """The applicant confirmed: the request becomes a toetreding, and its link is used up, together."""
    row = pending(uow.session, uow.now, token)
    request = dict(row.request)
    uow.session.delete(row)
    uow.session.flush()
    return start_confirmed(uow, request)


def start_confirmed(uow, request):
    """The one place where a confirmed request starts a toetreding (re-point it when starting changes)."""
    return starting.start_toetreding(uow, **request)


def purge(session, now):
    """Deletes the requests whose link has expired unconfirmed; returns how many. Not audited: an
    unconfirmed request was never part of the deal's record."""
    return session.execute(delete(PendingAccession).where(PendingAccession.expires_dt <= now)).rowcount


def purge_due(session, now):
    return session.scalars(select(PendingAccession.id).where(PendingAccession.expires_dt <= now)
                           .limit(1)).first() is not None
