"""Who may do what, decided once for the command line, the web and the API alike.

An adapter says who asks (a ``Caller``); these functions say whether that caller may start a type or
complete a task, and as whom they then act (an ``Actor``, recorded in the audit).
"""
from dataclasses import dataclass

from engine import register, roles, rules
from engine.dates import local_date
from engine.errors import CommandRefused, Forbidden
from engine.procedures.base import PARTY, PUBLIC
from engine.procedures.paper import on_paper
from engine.roles import REGISTRARS
from engine.runner import Actor


@dataclass(frozen=True)
class Caller:
    """Who asks, as the adapter knows them."""
    #: the person's name; for the operator, the one named with --person (or None)
    person: str | None
    #: projectleider, secretaris, auditor or admin; None for a party's representative
    role: str | None = None
    #: the parties this person may act for today (their own and any delegated to them)
    parties: tuple = ()
    #: the party or role they say they act for (the command line's --by and --as); None: decide
    acting_for: str | None = None
    #: the installation's operator at the command line: may act for any party or role
    operator: bool = False
    account_id: int | None = None

    @classmethod
    def operator_as(cls, acting_for=None, person=None):
        return cls(person=person, acting_for=acting_for, operator=True)

    @classmethod
    def for_account(cls, account, acting_for=None):
        return cls(person=account.name, role=account.role, parties=tuple(account.acts_for), acting_for=acting_for,
                   account_id=account.id)

    @property
    def audits(self):
        return self.role is not None and roles.BY_NAME[self.role].audits


def _forbidden(code, field='as', **params):
    return Forbidden.one(code, field, rules.ACCESS, **params)


def may_start(caller, type_):
    """True when ``caller`` could start ``type_`` for someone (a page shows its link then)."""
    if caller.audits:
        return False
    if caller.operator or PUBLIC in type_.started_by:
        return True
    registers = caller.role in REGISTRARS and on_paper(type_)
    return (PARTY in type_.started_by and (bool(caller.parties) or registers)) or caller.role in type_.started_by


def start_actor(ctx, caller, type_):
    """As whom ``caller`` starts ``type_``; Forbidden when they may not. None for a public request: the
    applicant's representative, named in the request, acts for it."""
    if caller.audits:
        raise _forbidden('rights.auditors_change_nothing', 'type')
    if PARTY in type_.started_by and (caller.operator or caller.parties):
        code = caller.acting_for or (caller.parties[0] if len(caller.parties) == 1 else None)
        if code is None:
            raise CommandRefused.one('rights.party_required', 'by', rules.ACCESS)
        if not caller.operator and code not in caller.parties:
            raise _forbidden('rights.not_your_party', 'by', party=code)
        party = register.party(ctx.session, code, 'by')
        register.require_member(party, local_date(ctx.now))
        return Actor(register.person_for(party, caller.person), party.code, caller.account_id)
    if PARTY in type_.started_by and caller.role in REGISTRARS and on_paper(type_):
        # The projectleider and secretaris register a party's paper request or notice: only with the
        # day it was received (engine.procedures.paper); the audit names them as who entered it.
        if caller.acting_for is None:
            raise CommandRefused.one('rights.party_required', 'by', rules.ACCESS)
        party = register.party(ctx.session, caller.acting_for, 'by')
        register.require_member(party, local_date(ctx.now))
        person = register.checked_person(caller.person) or register.definition(ctx.deal).roles[caller.role].name
        return Actor(person, party.code, caller.account_id, registered_by=caller.role)
    if PUBLIC in type_.started_by:
        if caller.role in REGISTRARS and on_paper(type_):
            person = register.checked_person(caller.person) or register.definition(ctx.deal).roles[caller.role].name
            return Actor(person, caller.role, caller.account_id, registered_by=caller.role)
        return None
    role = next((name for name in roles.NAMES if name in type_.started_by), None)
    if role is not None and (caller.operator or caller.role == role):
        return Actor(register.checked_person(caller.person) or register.definition(ctx.deal).roles[role].name, role,
                     caller.account_id)
    raise _forbidden('rights.not_yours_to_start', 'type', type=type_.id)


def check_received(caller, raw):
    """Only who registers the written document gives the day it was received: the operator at the command
    line, the projectleider and the secretaris. A party or the public sending a request online sends it
    today (``received`` left out)."""
    if isinstance(raw, dict) and raw.get('received') not in (None, '') and not (
            caller.operator or caller.role in REGISTRARS):
        raise _forbidden('received.registrars_only', 'received')


def version_actor(ctx, caller, procedure):
    """Who may put a new version of a text to the Parties: its requester or the projectleider."""
    if caller.audits:
        raise _forbidden('rights.auditors_change_nothing')
    requester = procedure.request.get('requester')
    steering = roles.PROJECTLEIDER.name
    # unless they say for whom: the projectleider as such, or a person acting for the requester (a deputy for
    # several parties too) for it
    wanted = caller.acting_for or (caller.role if caller.role == steering else None) or (
        requester if requester in caller.parties else None)
    if wanted == steering and (caller.operator or caller.role == steering):
        return Actor(register.checked_person(caller.person) or register.definition(ctx.deal).roles[wanted].name,
                     wanted, caller.account_id)
    if wanted is not None and wanted == requester and (caller.operator or wanted in caller.parties):
        party = register.party(ctx.session, wanted, 'as')
        register.require_member(party, local_date(ctx.now), 'as')
        return Actor(register.person_for(party, caller.person), party.code, caller.account_id)
    raise _forbidden('new_version.not_yours', 'as', procedure=procedure.id)


def may_see_task(caller, row):
    """A task page is for the party or role the task is for (an auditor reads its receipt only)."""
    if caller.operator:
        return True
    if row.party_code:
        return row.party_code in caller.parties
    return row.role is not None and row.role == caller.role


def task_actor(ctx, caller, row):
    """As whom ``caller`` completes the open task ``row``; Forbidden when it is not theirs."""
    owner = row.party_code or row.role
    if caller.audits:
        raise _forbidden('rights.auditors_change_nothing')
    if caller.operator:
        if caller.acting_for not in roles.NAMES:
            register.party(ctx.session, caller.acting_for, 'as')
        if caller.acting_for != owner:
            raise CommandRefused.one('task.not_for', 'as', rules.ACCESS, task=row.id, owner=owner,
                                     acting_for=caller.acting_for)
    elif not may_see_task(caller, row):
        raise _forbidden('rights.not_your_task', task=row.id)
    if row.role:
        return Actor(register.checked_person(caller.person) or register.definition(ctx.deal).roles[row.role].name,
                     row.role, caller.account_id)
    party = register.party(ctx.session, row.party_code, 'as')
    if party.status not in register.CONSULTED_STATUSES:
        raise CommandRefused.one('party.withdrawn', 'as', rules.OPZEGGING_1, party=party.name, left_on=party.left_on)
    # A person other than the signatories may act (a deputy); the audit records who, and for whom.
    return Actor(register.person_for(party, caller.person), party.code, caller.account_id)


def may_read_receipt(caller, acting_for):
    return caller.operator or caller.audits or acting_for in caller.parties or acting_for == caller.role


def may_read_confidential(caller):
    """Texts kept confidential (Gegevenswisseling lid 1) are for the Partijen and the deal's roles that
    follow its procedures (projectleider, secretaris, auditor); an administrator's account is none of these."""
    if caller.operator or caller.parties:
        return True
    role = roles.BY_NAME.get(caller.role) if caller.role else None
    return role is not None and (role.informed or role.audits)


def redacted(view, caller):
    """A procedure as ``caller`` may read it: the statements kept confidential left out where they may not."""
    if may_read_confidential(caller) or not (view['confidential'] or view['confidential_statements']):
        return view
    hidden = set(view['confidential_statements'])

    def secret(party):
        return view['confidential'] or party in hidden
    return dict(view, answers=[dict(a, statement=None) if secret(a.get('party')) else a for a in view['answers']],
                timeline=[dict(e, data=_without_statements(e['data']))
                          if secret(e['data'].get('party') or e.get('acting_for')) else e for e in view['timeline']])


def _without_statements(data):
    if isinstance(data, dict):
        return {k: _without_statements(v) for k, v in data.items() if k != 'statement'}
    return data


def not_your_task(task_id):
    return Forbidden.one('rights.not_your_task', 'task', rules.ACCESS, task=task_id)
