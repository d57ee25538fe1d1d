"""Jaarcyclus: every year the projectleider evaluates with Agenda Stad on two levels, reports halfway
the term, and the coalitieoverleg adopts werkplan, communicatieplan and begroting; the stuurgroep
decides on next steps (Deel 4, Monitoring en evaluatie; Governance). It starts by itself each year."""
import calendar
from datetime import date

from sqlalchemy import select

from engine import register, rules, runner
from engine.dates import start_of_day
from engine.errors import CommandRefused
from engine.models import Procedure
from engine.procedures import fields as f
from engine.procedures.base import AutoStart, ProcedureType, TaskForm
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
    midpoint = ctx.deal.start_date + (ctx.deal.end_date - ctx.deal.start_date) / 2
    request = {'year': year, 'midterm': midpoint.year == year}
    data = {'year': year, 'is_midterm_year': midpoint.year == year}
    return runner.launch(ctx, TYPE, request, data, subject_key=f'year:{year}')


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
    forms={'evaluatie_opleveren': TaskForm(EvaluationForm, rules.MONITORING),
           'midterm_opleveren': TaskForm(MidtermForm, rules.MONITORING),
           'plannen_opstellen': TaskForm(PlansForm, rules.GOVERNANCE),
           'coalitieoverleg_besluit': TaskForm(CoalitionDecisionForm, rules.GOVERNANCE),
           'stuurgroep_besluit': TaskForm(SteeringDecisionForm, rules.GOVERNANCE)},
    effects={'annual_cycle_adopted': annual_cycle_adopted},
    title=lambda procedure: f"Jaarcyclus {procedure.request['year']}",
    deadline=lambda procedure: None,
    auto_starts=(AutoStart('annual_cycle_start', cycles_to_come, _auto_start,
                           summary=lambda year: f'Start jaarcyclus {year}'),),
    messages=('annual_cycle_adopted', 'task_opened', 'overdue'),
    help='start the annual cycle for a year',
)
