"""What a procedure type declares about itself. One module per type fills one of these in."""
from dataclasses import dataclass, field
from typing import Callable

from engine.rules import Rule

#: who may start a type: any party (for itself), the public (a written request to join), or a role
PARTY = 'party'
PUBLIC = 'public'


def plain(ctx, procedure, task, values):
    """Most forms hand their values to the workflow as they are (dates as ISO strings)."""
    return {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in values.items()}


@dataclass(frozen=True)
class TaskForm:
    """What a person fills in to complete one user task, checked before the workflow moves."""
    schema: type
    rule: Rule
    #: (ctx, procedure, task, values) -> data for the workflow; ``task`` is the SpiffWorkflow task
    to_workflow: Callable = plain
    #: (ctx, procedure, row, values) -> None: what the record keeps of the answer besides the audit
    #: entry (a consent round's Answer row), run in the same transaction
    record: Callable | None = None
    #: what a file attached with this task's answer is for (a document's ``purpose``); None: the task takes
    #: no files (the command line, the web's upload field and the API ask this, never a task's name)
    document_purpose: str | None = None
    #: the task opens a consultation: still open at its due date, it is escalated to the secretaris as late
    #: (``opening_late``); other role tasks are only reminded
    escalates_when_late: bool = False


@dataclass(frozen=True)
class AutoStart:
    """A procedure that starts by itself at a moment of the deal (the yearly cycle, continuation)."""
    #: what the scheduler and the calendar call the moment, e.g. ``annual_cycle_start``
    what: str
    #: (session, deal) -> [(due, ref)] of the starts still to come, in order; the scheduler fires the first
    upcoming: Callable
    #: (ctx, ref) -> the procedure started
    start: Callable
    #: the calendar entry's words, by ref: (ref) -> summary
    summary: Callable


@dataclass(frozen=True)
class ProcedureType:
    #: the BPMN file stem and process id
    id: str
    #: the rule a start cites when it refuses
    rule: Rule
    #: marshmallow schema of the start's fields (engine.procedures.fields), without who acts
    start_schema: type
    #: PARTY, PUBLIC and/or role names
    started_by: frozenset
    #: (ctx, values) -> procedure; ``ctx.actor`` is who starts it, already allowed to
    start: Callable
    #: the user tasks' forms, by BPMN element id
    forms: dict
    #: what the models' script tasks ask for: effect name -> (ctx, procedure, data)
    effects: dict
    #: (procedure) -> how messages and listings name it
    title: Callable
    #: (procedure) -> the deadline a calendar and the messages show for it (a Deadline), or None
    deadline: Callable
    #: (procedure) -> what a party is asked to consent to, in full; None when no party is asked
    summary: Callable | None = None
    #: user tasks whose due date is the procedure's deadline
    due_at_deadline: frozenset = frozenset()
    auto_starts: tuple = ()
    #: the notification templates this type sends (notifications/templates/<event>.txt)
    messages: tuple = ()
    #: the applicant (not yet a party) hears the outcome
    informs_applicant: bool = False
    #: its deadline is every party's (a notice of withdrawal concerns all)
    concerns_everyone: bool = False
    #: (ctx, procedure) run when the deal ends while the procedure is still running
    on_deal_end: Callable | None = None
    #: the statement a consent without words records
    default_statements: dict = field(default_factory=dict)
    #: started from the page of the procedure it is about (its start schema names that ``procedure``)
    about_procedure: bool = False
    #: the web asks the person to tick that they mean it (giving notice cannot be undone)
    asks_confirmation: bool = False
    #: how the messages name its request ("verzoek tot wijziging")
    request_kind: str = ''
    #: what a file sent with the request is for (a document's ``purpose``); None: its start takes no files
    document_purpose: str | None = None
    #: (request, initiated_by) -> the parameters of its title in the catalogues (``title.<id>``), how the pages
    #: name it in their language, or None when the request lacks them; None: the ``title`` its requester wrote
    title_params: Callable | None = None
    #: (request) -> the parameters of what comes next (``next.<id>`` in the catalogues), shown on its page while
    #: it runs, or None when there is nothing to say yet; None: the type says nothing
    next_params: Callable | None = None
    #: (request) -> the name of the organisation that asks, not (yet) a party (a request to join); None: a party
    #: or a role asks
    applicant: Callable | None = None
    #: (ctx, procedure, values) -> None: put a new version of the text to the Parties while the round is
    #: open (``ctx.actor`` the requester or the projectleider, already allowed); None: no text to revise
    new_version: Callable | None = None
    #: (procedure) -> every version of its text [{number, text, sha256, created_dt, ...}]; None: no text
    versions: Callable | None = None
    #: marshmallow schema of a new version's fields
    new_version_schema: type | None = None
    #: one line for the command line's help
    help: str = ''
    #: (deal) -> the start schema as the loaded deal shapes it (choices from the deal file); else start_schema
    start_schema_for: Callable | None = None
    #: (ctx, procedure, task name) -> when a user task opened now is due, or None; the default is the
    #: procedure's deadline for the tasks in ``due_at_deadline``
    due: Callable | None = None
    #: (ctx) run when an adopted amendment changed the term's end
    on_term_changed: Callable | None = None
    #: (deal) -> [Deadline] the deal's own dates this type keeps (the midterm report), for the calendars
    key_dates: Callable | None = None
    #: (session, start values) -> [Problem] what the register refuses in a request, before anything is kept
    #: (a public request is checked when it is sent, and again when it is confirmed)
    register_problems: Callable | None = None

    def due_dt(self, ctx, procedure, task_name):
        if task_name in self.due_at_deadline:
            return procedure.deadline_dt
        return self.due(ctx, procedure, task_name) if self.due else None
