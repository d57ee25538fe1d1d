"""Wijziging: any Party asks in writing to amend the deal; it needs the consent of all Partijen
(Wijzigingen lid 1-3). An amended end date is a structured amendment (Inwerkingtreding en looptijd)."""
from datetime import date, timedelta

from engine import register, rules, runner
from engine.dates import add_months, local_date
from engine.errors import CommandRefused
from engine.procedures import consent_round, fields as f, paper
from engine.texts import dutch_day
from engine.procedures.base import PARTY, ProcedureType

#: an amended end date lies at most this far beyond the current one
MAX_EXTENSION_YEARS = 10


class Start(f.CodedSchema):
    title = f.Line(required=True)
    text = f.Text(required=True)
    motivation = f.Text(required=False)
    new_end_date = f.Day(load_default=None)
    confidential = f.YesNo(load_default=False)
    received = paper.received_field()


def start(ctx, values):
    requester = register.party(ctx.session, ctx.actor.acting_for, 'by')
    received = paper.received_day(ctx, values, rules.WIJZIGINGEN_2)
    new_end_date = values['new_end_date']
    if new_end_date is not None and (new_end_date <= local_date(ctx.now) or new_end_date == ctx.deal.end_date
                                     or new_end_date > add_months(ctx.deal.end_date, 12 * MAX_EXTENSION_YEARS)):
        raise CommandRefused.one('wijziging.end_date_out_of_range', 'new_end_date', rules.LOOPTIJD_1,
                                 day=new_end_date, end=ctx.deal.end_date, years=MAX_EXTENSION_YEARS)
    request = {'requester': requester.code, 'title': values['title'], 'text': values['text'],
               'motivation': values['motivation'] or None,
               'new_end_date': new_end_date.isoformat() if new_end_date else None,
               'confidential': values['confidential'], **paper.entry(ctx, received)}
    statement = f"Verzoek tot wijziging: {request['title']}." + (
        f" {request['motivation']}" if request['motivation'] else '')
    return consent_round.launch(ctx, TYPE, request, requester, statement, received)


class NewVersion(f.CodedSchema):
    text = f.Text(required=True)
    title = f.Line(required=False)
    motivation = f.Text(required=False)


def _version(number, text, title, motivation, now, by):
    return {'number': number, 'text': text, 'title': title, 'motivation': motivation,
            'sha256': consent_round.text_sha256(text), 'created_dt': now.isoformat(), 'by': by}


def versions(procedure):
    """Every version of the text put to the Parties, the first being the request's own."""
    request = procedure.request
    return request.get('versions') or [_version(1, request['text'], request['title'], request.get('motivation'),
                                                procedure.started_dt, request.get('requester'))]


def new_version(ctx, procedure, values):
    """Issue 11, point 5: the requester or the projectleider improves the text after talks. Every answer to
    the earlier version is void; every Party is asked again with a fresh window; everyone is told why."""
    request = dict(procedure.request)
    earlier = versions(procedure)  # a text the same as the last one is refused before (engine.commands)
    number = earlier[-1]['number'] + 1
    request.update(text=values['text'], title=values['title'] or request['title'],
                   motivation=values['motivation'] or request.get('motivation'))
    request['versions'] = earlier + [_version(number, request['text'], request['title'], request['motivation'],
                                              ctx.now, ctx.actor.acting_for)]
    procedure.request = request
    keep = request['requester'] if ctx.actor.acting_for == request['requester'] else None
    deadline, voided = consent_round.put_new_version(ctx, procedure, keep)
    runner.record(ctx, procedure, 'new_version', {'number': number, 'sha256': request['versions'][-1]['sha256'],
                                                  'motivation': values['motivation'], 'voided': voided,
                                                  'new_deadline': deadline.isoformat(),
                                                  # the request as it now stands, and whose consent goes with
                                                  # the new version: what `audit verify` replays
                                                  'request': request, 'kept': keep})
    runner.tell_everyone(ctx, procedure, 'new_version', number=number, motivation=values['motivation'],
                         by=ctx.actor.acting_for, deadlines=[consent_round.deadline_entry(procedure)])


def start_end_date_amendment(ctx, origin, new_end_date):
    """Voortzetting: continuing means amending the end date, which needs every party's consent.
    Runs inside the transaction of the procedure ``origin`` that agreed on it."""
    # In words the last day in force (the end date is the first day after it, as the deal text says "eindigt op").
    last_day = dutch_day(date.fromisoformat(str(new_end_date)) - timedelta(days=1))
    request = {'requester': None, 'title': f'Voortzetting: looptijd tot en met {last_day}',
               'text': f'De looptijd van de {ctx.deal.citeertitel} wordt verlengd tot en met {last_day}.',
               'motivation': f'Uitkomst van het overleg over voortzetting (procedure {origin.id}).',
               'new_end_date': new_end_date, 'confidential': False}
    return consent_round.launch(ctx, TYPE, request)


def amendment_adopted(ctx, procedure, data):
    request = procedure.request
    body = f"{request['text']}\n\nMotivering: {request.get('motivation') or '-'}"
    if request.get('new_end_date'):
        body += f"\n\nDe {ctx.deal.citeertitel} eindigt op {request['new_end_date']} (was {ctx.deal.end_date})."
    appendix = consent_round.attach_appendix(ctx, procedure, f"Wijziging: {request['title']}", body)
    deadlines = []
    if request.get('new_end_date'):
        old = ctx.deal.end_date
        ctx.deal.end_date = date.fromisoformat(request['new_end_date'])
        runner.record(ctx, procedure, 'term_changed', {'old_end': str(old), 'new_end': str(ctx.deal.end_date),
                                                       'appendix': appendix.number})
        runner.term_changed(ctx)
        deadlines = [runner.term_end_deadline(ctx.deal)]
    runner.tell_everyone(ctx, procedure, 'amendment_adopted', appendix_number=appendix.number,
                         new_end_date=request.get('new_end_date'), deadlines=deadlines)


def amendment_not_adopted(ctx, procedure, data):
    consent_round.without_consent(ctx, procedure, 'amendment_not_adopted', data)


def summary(procedure):
    request = procedure.request
    text = f"Voorgestelde wijziging:\n{request['text']}"
    if request.get('motivation'):
        text += f"\n\nMotivering:\n{request['motivation']}"
    if request.get('new_end_date'):
        text += f"\n\nNieuwe einddatum: {request['new_end_date']}"
    return text


TYPE = ProcedureType(
    id='wijziging',
    rule=rules.WIJZIGINGEN_1,
    start_schema=Start,
    started_by=frozenset({PARTY}),
    start=start,
    # files sent with the request are part of it (documents in the record, issue 12)
    document_purpose='request',
    forms={consent_round.OPEN_TASK: consent_round.OPEN, consent_round.CONSENT_TASK: consent_round.CONSENT,
           consent_round.EXTEND_TASK: consent_round.EXTEND, consent_round.OBJECTION_TASK: consent_round.OBJECTION},
    effects=dict(consent_round.EFFECTS, amendment_adopted=amendment_adopted,
                 amendment_not_adopted=amendment_not_adopted),
    title=lambda procedure: procedure.request.get('title') or 'Wijziging',
    deadline=consent_round.deadline_entry,
    summary=summary,
    due_at_deadline=frozenset({consent_round.CONSENT_TASK, consent_round.OPEN_TASK, consent_round.OBJECTION_TASK}),
    messages=consent_round.MESSAGES + ('amendment_adopted', 'amendment_not_adopted', 'new_version'),
    default_statements={'consent': 'Stemt in met de wijziging.', 'objection': 'Maakt bezwaar.'},
    request_kind='verzoek tot wijziging',
    next_params=lambda request: {},
    new_version=new_version,
    versions=versions,
    new_version_schema=NewVersion,
    help='request an amendment',
)
