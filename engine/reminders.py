"""Reminders: planned when a task opens, dropped when it closes, sent once when due.

Parties get one before each consultation deadline at the offsets of the deal file (never after
the deadline, never once they answered); the projectleider and secretaris get one when a task
of theirs stays open too long.
"""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import delete, select

from engine import audit, notices, outbox, runner
from engine import procedures as registry
from engine.dates import local_date, zone
from engine.models import OpenTask, Party, Procedure, Reminder
from engine.roles import SECRETARIS

#: a role task bound to a deadline (opening a consultation) that is still open at it goes to
ESCALATE_TO = SECRETARIS.name
#: that escalation's kind and message
LATE = 'opening_late'


def plan(session, deal_definition, procedure, row):
    settings = deal_definition.reminders
    if row.party_code and row.due_dt:
        for days in settings.before_deadline_days:
            # the hour of the day a reminder goes out is the deal file's ([reminders] hour)
            due = datetime.combine(local_date(row.due_dt) - timedelta(days=days), time(settings.hour), zone())
            due = due.astimezone(timezone.utc)
            if row.opened_dt < due < row.due_dt:
                session.add(Reminder(procedure_id=procedure.id, task_id=row.id, kind='before_deadline',
                                     recipient=row.party_code, due_dt=due, deadline_dt=row.due_dt,
                                     dedupe_key=f'reminder:{procedure.id}:{row.party_code}:'
                                                f'{row.due_dt.isoformat()}:{days}d'))
    elif row.role:
        session.add(Reminder(procedure_id=procedure.id, task_id=row.id, kind='overdue', recipient=row.role,
                             due_dt=row.opened_dt + timedelta(days=settings.role_task_overdue_days),
                             dedupe_key=f'overdue:{row.id}'))
        if row.due_dt is not None:
            # A task bound to the consultation deadline (opening it, checking an accession) is also
            # reminded of at that deadline: nobody else can move the procedure on.
            session.add(Reminder(procedure_id=procedure.id, task_id=row.id, kind='overdue', recipient=row.role,
                                 due_dt=row.due_dt, dedupe_key=f'overdue-at-deadline:{row.id}'))
            if row.role != ESCALATE_TO and registry.form(procedure.type, row.name).escalates_when_late:
                # Late, it is escalated: the secretaris hears that the consultation was not opened in time.
                session.add(Reminder(procedure_id=procedure.id, task_id=row.id, kind=LATE, recipient=ESCALATE_TO,
                                     due_dt=row.due_dt, dedupe_key=f'late-escalated:{row.id}'))


def drop(session, task_ids):
    """The tasks closed: their planned reminders go, and so do reminders queued but not yet sent."""
    if task_ids:
        session.execute(delete(Reminder).where(Reminder.task_id.in_(list(task_ids))))
        outbox.withdraw_for_tasks(session, task_ids)


def move(session, deal_definition, procedure, row, due):
    """An open task is due at another moment (its round's deadline moved, the term changed): the reminders
    planned for the old one go, and those for the new one are planned."""
    row.due_dt = due
    drop(session, [row.id])
    session.flush()
    plan(session, deal_definition, procedure, row)


def fire(session, now, reminder_id, actor):
    """Send one due reminder, unless its task closed or its deadline passed meanwhile."""
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        return None
    row = session.get(OpenTask, reminder.task_id)
    session.delete(reminder)
    if row is None or (reminder.deadline_dt is not None and now > reminder.deadline_dt):
        return None
    later = session.scalars(select(Reminder.id).where(Reminder.task_id == reminder.task_id, Reminder.due_dt <= now,
                                                      Reminder.due_dt > reminder.due_dt,
                                                      Reminder.kind == reminder.kind)).first()
    if later is not None:
        # Catching up: a later reminder for the same task is due too; one message is enough.
        return None
    procedure = session.get(Procedure, reminder.procedure_id)
    if reminder.kind == 'before_deadline':
        party_name = session.scalars(select(Party.name).where(Party.code == row.party_code)).one()
        sent = notices.queue(session, now, procedure, 'reminder', [row.party_code], dedupe_key=reminder.dedupe_key,
                             title=runner.title(procedure), party_name=party_name, due=row.due_dt, task_id=row.id,
                             expires=row.due_dt, deadlines=_deadlines(procedure))
    elif reminder.kind == LATE:
        sent = notices.queue(session, now, procedure, LATE, [reminder.recipient], dedupe_key=reminder.dedupe_key,
                             title=runner.title(procedure), label=row.label, opened=row.opened_dt, task_id=row.id,
                             due=row.due_dt)
    else:
        sent = notices.queue(session, now, procedure, 'overdue', [row.role], dedupe_key=reminder.dedupe_key,
                             title=runner.title(procedure), label=row.label, opened=row.opened_dt, task_id=row.id,
                             due=row.due_dt, deadlines=_deadlines(procedure) if row.due_dt else [])
    if sent:
        audit.append(session, at=now, person=actor.person, acting_for=actor.acting_for, procedure_id=procedure.id,
                     event='reminder_sent', data={'kind': reminder.kind, 'to': reminder.recipient,
                                                  'task_id': row.id, 'key': reminder.dedupe_key})
    return sent


def _deadlines(procedure):
    deadline = runner.type_of(procedure).deadline(procedure)
    return [deadline] if deadline else []
