"""The roles of an installation, declared once: who takes which tasks, who reads, who manages."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    #: the lane of the BPMN models whose tasks this role takes, or None
    lane: str | None = None
    #: hears of every procedure (requests registered, outcomes) like a party
    informed: bool = False
    #: starts the procedures the deal gives to the projectleider (the yearly cycle, continuation)
    steers: bool = False
    #: reads everything, the audit log included, and changes nothing
    audits: bool = False
    #: manages accounts
    administers: bool = False
    #: registers a party's request or notice that arrived on paper (engine.procedures.paper)
    registers_paper: bool = False


PROJECTLEIDER = Role('projectleider', lane='Projectleider', informed=True, steers=True, registers_paper=True)
SECRETARIS = Role('secretaris', lane='Secretaris', informed=True, registers_paper=True)
AUDITOR = Role('auditor', audits=True)
ADMIN = Role('admin', administers=True)

ALL = (PROJECTLEIDER, SECRETARIS, AUDITOR, ADMIN)
BY_NAME = {role.name: role for role in ALL}
NAMES = tuple(BY_NAME)
#: the roles that take tasks in the models (their lanes) and hear what the parties hear
TASK_ROLES = tuple(role.name for role in ALL if role.lane)
BY_LANE = {role.lane: role.name for role in ALL if role.lane}
#: the roles that register paper documents on behalf of a party
REGISTRARS = tuple(role.name for role in ALL if role.registers_paper)
#: the roles that read everything, the audit log included, and change nothing
AUDITORS = tuple(role.name for role in ALL if role.audits)
#: the lane whose tasks belong to the party named in the task's ``party`` data
PARTIES_LANE = 'Partijen'
#: who acts when nobody does: the scheduler firing a deadline
SCHEDULER = 'scheduler'
#: who acts for an organisation that is not (yet) a party: it asks to join
APPLICANT = 'applicant'
#: the name the audit gives the installation's operator at the command line: who entered what was typed there
OPERATOR_PERSON = 'citydeal command line'
