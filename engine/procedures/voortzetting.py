"""Voortzetting: at the latest 2 months before the end date the Partijen consult on continuing the
deal (Inwerkingtreding en looptijd lid 2). Continuing amends the end date, which is a wijziging;
otherwise the deal ends. It starts by itself at the latest moment the deal allows."""
from datetime import date, timedelta

from sqlalchemy import select

from engine import register, rules, runner
from engine.dates import add_months, shown
from engine.errors import CommandRefused
from engine.texts import dutch_day
from engine.models import Procedure
from engine.procedures import fields as f, wijziging
from engine.procedures.base import AutoStart, ProcedureType, TaskForm
from engine.roles import PROJECTLEIDER


class Start(f.CodedSchema):
    pass


def _subject(deal):
    return f'end:{deal.end_date}'


def existing(session, deal):
    return session.scalars(select(Procedure).where(Procedure.type == TYPE.id, Procedure.subject_key == _subject(deal),
                                                   Procedure.status != 'cancelled')).first()


def start(ctx, values):
    found = existing(ctx.session, ctx.deal)
    if found:
        raise CommandRefused.one('voortzetting.exists', 'voortzetting', rules.LOOPTIJD_2, end=ctx.deal.end_date,
                                 procedure=found.id)
    request = {'end_date': ctx.deal.end_date.isoformat(),
               'latest_start': shown(register.continuation_start_instant(ctx.deal))}
    return runner.launch(ctx, TYPE, request, {'end_date': ctx.deal.end_date.isoformat()},
                         subject_key=_subject(ctx.deal))


def _upcoming(session, deal):
    return [] if existing(session, deal) else [(register.continuation_start_instant(deal), None)]


class ContinuationForm(f.CodedSchema):
    result = f.Choice(('continue', 'end'), required=True)
    new_end_date = f.Day(load_default=None)
    note = f.Text(required=False)

    @f.validates_schema(skip_on_field_errors=False)
    def continuation_needs_date(self, data, **kwargs):
        if data.get('result') == 'continue' and data.get('new_end_date') is None:
            raise f.ValidationError({'new_end_date': [f.Coded('voortzetting.new_end_date_required')]})


def _continuation(ctx, procedure, task, values):
    data = {'result': values['result'], 'note': values['note']}
    if values['result'] == 'continue':
        if not ctx.deal.end_date < values['new_end_date'] <= add_months(ctx.deal.end_date, 120):
            raise CommandRefused.one('voortzetting.new_end_date_out_of_range', 'new_end_date', rules.LOOPTIJD_1,
                                     day=values['new_end_date'], end=ctx.deal.end_date)
        data['new_end_date'] = values['new_end_date'].isoformat()
    return data


def continuation_agreed(ctx, procedure, data):
    runner.record(ctx, procedure, 'continuation_agreed', {'new_end_date': data['new_end_date']})
    runner.tell_everyone(ctx, procedure, 'continuation_agreed', new_end_date=data['new_end_date'])
    wijziging.start_end_date_amendment(ctx, procedure, data['new_end_date'])


def continuation_declined(ctx, procedure, data):
    runner.record(ctx, procedure, 'continuation_declined', {'ends_on': str(ctx.deal.end_date),
                                                            'note': data.get('note', '')})
    runner.tell_everyone(ctx, procedure, 'continuation_declined', end_date=ctx.deal.end_date,
                         deadlines=[runner.term_end_deadline(ctx.deal)])


TYPE = ProcedureType(
    id='voortzetting',
    rule=rules.LOOPTIJD_2,
    start_schema=Start,
    started_by=frozenset({PROJECTLEIDER.name}),
    start=start,
    forms={'uitkomst_vastleggen': TaskForm(ContinuationForm, rules.LOOPTIJD_2, _continuation)},
    effects={'continuation_agreed': continuation_agreed, 'continuation_declined': continuation_declined},
    # the last day in force, as messages name the end of the term (the end date is the first day after it)
    title=lambda procedure: f"Voortzetting na {dutch_day(date.fromisoformat(procedure.request['end_date']) - timedelta(days=1))}",
    title_params=lambda request, initiated_by: (
        {'day': date.fromisoformat(request['end_date']) - timedelta(days=1)} if request.get('end_date') else None),
    deadline=lambda procedure: None,
    auto_starts=(AutoStart('continuation_start', _upcoming, lambda ctx, ref: start(ctx, {}),
                           summary=lambda ref: 'Uiterlijke start overleg over voortzetting'),),
    messages=('continuation_agreed', 'continuation_declined', 'task_opened', 'overdue'),
    help='start the consultation on continuation',
)
