"""Jaarcyclus: every year the projectleider evaluates with Agenda Stad on two levels, reports halfway
the term, and the coalitieoverleg adopts werkplan, communicatieplan and begroting; the stuurgroep
decides on next steps (Deel 4, Monitoring en evaluatie; Governance). It starts by itself each year."""
import calendar
from datetime import date, timedelta

from sqlalchemy import select

from engine import notices, register, reminders, rules, runner
from engine.dates import end_of_day, local_date, start_of_day
from engine.errors import CommandRefused
from engine.models import OpenTask, Procedure
from engine.procedures import fields as f
from engine.procedures.base import AutoStart, ProcedureType, TaskForm, plain
from engine.roles import PROJECTLEIDER

PLANS = ('werkplan', 'communicatieplan', 'begroting')


class Start(f.CodedSchema):
    year = f.Number(required=True)


def start(ctx, values):
    year = values['year']
    if not ctx.deal.start_date.year <= year <= ctx.deal.end_date.year:
        raise CommandRefused.one('jaarcyclus.year_outside_term', 'year', rules.MONITORING, year=year,
                                 start=ctx.deal.start_date, end=ctx.deal.end_date)
    existing = existing_cycle(ctx.session, year)
    if existing:
        raise CommandRefused.one('jaarcyclus.exists', 'year', rules.GOVERNANCE, year=year, procedure=existing.id)
    midpoint = midpoint_of(ctx.deal)
    # The report is asked once: in the cycle of the midpoint's year, unless a cycle before already asked it
    # (the term changed after that cycle began, moving the midpoint to a later year).
    midterm = midpoint.year == year and not _midterm_asked(ctx.session)
    request = {'year': year, 'midterm': midterm}
    data = {'year': year, 'is_midterm_year': midterm}
    return runner.launch(ctx, TYPE, request, data, subject_key=f'year:{year}')


def midpoint_of(deal):
    """Monitoring en evaluatie: "Halverwege de looptijd": the day halfway the term, as it stands now."""
    return deal.start_date + (deal.end_date - deal.start_date) / 2


def key_dates(deal):
    """The midterm report's day, for the calendars."""
    return [notices.Deadline('deal-midterm', 'Midtermrapportage (halverwege de looptijd)',
                             end_of_day(midpoint_of(deal)))]


MIDTERM_TASK = 'midterm_opleveren'
PLANS_TASK = 'plannen_opstellen'


def due_day(deal, year, task_name):
    """The day a task of the ``year``'s cycle is due, from the deal file's ``[annual_cycle]``; never after the
    last day in force. None for a task the file gives no day."""
    definition = register.definition(deal)
    cycle = definition.annual_cycle
    phase = next((p for p in definition.phases if p.number == cycle.first_plans_phase), None)
    if task_name == MIDTERM_TASK:
        day = midpoint_of(deal)
    elif task_name in cycle.due or task_name == PLANS_TASK and phase is not None:
        day = None
        if task_name in cycle.due:
            month, day_ = cycle.due[task_name]
            day = date(year, month, min(day_, calendar.monthrange(year, month)[1]))
        if year == deal.start_date.year and phase is not None:
            # Deel 4, Fase 1: "tot augustus 2021 opstellen werkplan": the first year's plans are due at the
            # end of that phase, and nothing of the first cycle is due before it
            day = phase.end if task_name == PLANS_TASK or day is None else max(day, phase.end)
    else:
        return None
    return min(day, deal.end_date - timedelta(days=1))


def due(ctx, procedure, task_name):
    day = due_day(ctx.deal, procedure.request['year'], task_name)
    return end_of_day(day) if day else None


def term_changed(ctx):
    """The term changed (an adopted amendment of the end date): the midpoint moved, and so may every due
    day clamped to the end. Open tasks of running cycles get their new due dates and reminders."""
    cycles = ctx.session.scalars(select(Procedure).where(Procedure.type == TYPE.id, Procedure.status == 'running'))
    definition = register.definition(ctx.deal)
    for procedure in cycles:
        for row in ctx.session.scalars(select(OpenTask).where(OpenTask.procedure_id == procedure.id)):
            new_due = due(ctx, procedure, row.name)
            if new_due != row.due_dt:
                runner.record(ctx, procedure, 'task_due_changed', {'task_id': row.id, 'task': row.name,
                                                                   'due': new_due and new_due.isoformat()})
                reminders.move(ctx.session, definition, procedure, row, new_due)


def _midterm_asked(session):
    return any(p.request.get('midterm') for p in session.scalars(
        select(Procedure).where(Procedure.type == TYPE.id, Procedure.status != 'cancelled')))


def existing_cycle(session, year):
    return session.scalars(select(Procedure).where(Procedure.type == TYPE.id, Procedure.subject_key == f'year:{year}',
                                                   Procedure.status != 'cancelled')).first()


def cycles_to_come(session, deal):
    """(start of day, year) of every year in the term whose cycle has not started yet."""
    month_day = register.definition(deal).terms.annual_cycle_start
    if month_day is None:
        return []
    month, day = month_day
    result = []
    for year in range(deal.start_date.year, deal.end_date.year + 1):
        first = max(date(year, month, min(day, calendar.monthrange(year, month)[1])), deal.start_date)
        if first < deal.end_date and not existing_cycle(session, year):
            result.append((start_of_day(first), year))
    return result


def _auto_start(ctx, year):
    return start(ctx, {'year': year})


def annual_cycle_adopted(ctx, procedure, data):
    runner.record(ctx, procedure, 'annual_cycle_adopted', {'year': procedure.request['year']})
    runner.tell_everyone(ctx, procedure, 'annual_cycle_adopted', year=procedure.request['year'],
                         next_steps=data.get('next_steps', ''))


class EvaluationForm(f.CodedSchema):
    initiatives_projects = f.Text(required=True)
    goals_deel1 = f.Text(required=True)


class MidtermForm(f.CodedSchema):
    report = f.Text(required=True)


def _midterm(ctx, procedure, task, values):
    """Not filed before the year of the cycle that asks it, the midpoint's year when the cycle began (a cycle
    started early offers it already; one that asked it before the term moved the midpoint keeps it)."""
    year = procedure.request['year']
    if local_date(ctx.now).year < year:
        raise CommandRefused.one('jaarcyclus.midterm_not_yet', 'report', rules.MONITORING, year=year,
                                 midpoint=midpoint_of(ctx.deal))
    return plain(ctx, procedure, task, values)


class PlansForm(f.CodedSchema):
    werkplan_concept = f.Text(required=True)
    communicatieplan_concept = f.Text(required=True)
    begroting_concept = f.Text(required=True)


class CoalitionDecisionForm(f.CodedSchema):
    werkplan = f.Choice(('adopted', 'not_adopted'), required=True)
    communicatieplan = f.Choice(('adopted', 'not_adopted'), required=True)
    begroting = f.Choice(('adopted', 'not_adopted'), required=True)
    werkplan_reason = f.Text(required=False)
    communicatieplan_reason = f.Text(required=False)
    begroting_reason = f.Text(required=False)

    @f.validates_schema(skip_on_field_errors=False)
    def refusal_needs_reason(self, data, **kwargs):
        errors = {f'{plan}_reason': [f.Coded('jaarcyclus.not_adopted_reason_required')] for plan in PLANS
                  if data.get(plan) == 'not_adopted' and not data.get(f'{plan}_reason')}
        if errors:
            raise f.ValidationError(errors)


class SteeringDecisionForm(f.CodedSchema):
    next_steps = f.Text(required=True)


TYPE = ProcedureType(
    id='jaarcyclus',
    rule=rules.MONITORING,
    start_schema=Start,
    started_by=frozenset({PROJECTLEIDER.name}),
    start=start,
    forms={'evaluatie_opleveren': TaskForm(EvaluationForm, rules.MONITORING,
                                                    document_purpose='evaluation'),
           'midterm_opleveren': TaskForm(MidtermForm, rules.MONITORING, _midterm,
                                                  document_purpose='midterm_report'),
           'plannen_opstellen': TaskForm(PlansForm, rules.GOVERNANCE,
                                                 document_purpose='werkplan, communicatieplan, begroting'),
           'coalitieoverleg_besluit': TaskForm(CoalitionDecisionForm, rules.GOVERNANCE),
           'stuurgroep_besluit': TaskForm(SteeringDecisionForm, rules.GOVERNANCE)},
    effects={'annual_cycle_adopted': annual_cycle_adopted},
    title=lambda procedure: f"Jaarcyclus {procedure.request['year']}",
    title_params=lambda request, initiated_by: {'year': request['year']} if 'year' in request else None,
    deadline=lambda procedure: None,
    auto_starts=(AutoStart('annual_cycle_start', cycles_to_come, _auto_start,
                           summary=lambda year: f'Start jaarcyclus {year}'),),
    messages=('annual_cycle_adopted', 'task_opened', 'overdue'),
    help='start the annual cycle for a year',
    due=due,
    on_term_changed=term_changed,
    key_dates=key_dates,
)
