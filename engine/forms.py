"""What a person fills in to complete each user task, checked before the workflow moves.

One form per BPMN user task (process id, element id); a test checks that every user
task in ``processes/`` has one.
"""
import re
from dataclasses import dataclass


from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from engine.dates import add_months, end_of_day, local_date
from engine.deal_file import CODE_PATTERN
from engine.errors import CommandRefused, Problem
from engine.models import Answer, Party

MAX_TEXT = 20000
#: control characters (but tab and line breaks) and the bidirectional overrides that make text read
#: otherwise than it is stored
HIDDEN = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]')


def has_control_characters(text):
    return bool(HIDDEN.search(text or ''))


def plain_text(value):
    if has_control_characters(value):
        raise ValidationError('contains control or direction-changing characters')
RULE_CONSENT = 'Wijzigingen lid 1: de wijziging behoeft de instemming van alle Partijen'



def required_text():
    return fields.String(required=True, validate=[validate.Length(min=1, max=MAX_TEXT),
                                                  validate.Regexp(r'\S', error='must not be blank'), plain_text])


class NoFields(Schema):
    note = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])


class ConsentForm(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(('consent', 'objection')))
    statement = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])

    @validates_schema
    def objection_needs_statement(self, data, **kwargs):
        if data.get('decision') == 'objection' and not (data.get('statement') or '').strip():
            raise ValidationError('an objection needs a written statement', 'statement')


class ExtendOrCloseForm(Schema):
    choice = fields.String(required=True, validate=validate.OneOf(('extend', 'close')))
    new_deadline = fields.Date(load_default=None)
    reason = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])

    @validates_schema
    def extension_needs_date_and_reason(self, data, **kwargs):
        if data.get('choice') == 'extend':
            errors = {}
            if data.get('new_deadline') is None:
                errors['new_deadline'] = ['an extension needs a new deadline (YYYY-MM-DD)']
            if not (data.get('reason') or '').strip():
                errors['reason'] = ['an extension needs a reason']
            if errors:
                raise ValidationError(errors)


class CriteriaForm(Schema):
    complete = fields.Boolean(required=True)
    reason = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])

    @validates_schema
    def refusal_needs_reason(self, data, **kwargs):
        if data.get('complete') is False and not (data.get('reason') or '').strip():
            raise ValidationError('a request returned as incomplete needs a reason', 'reason')


class NewPartyForm(Schema):
    code = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN, error='lowercase letters, digits and hyphens'))
    effective_date = fields.Date(required=True)


class AcknowledgeForm(Schema):
    deal_stands = fields.Boolean(required=True)
    note = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])


class EvaluationForm(Schema):
    initiatives_projects = required_text()
    goals_deel1 = required_text()


class MidtermForm(Schema):
    report = required_text()


class PlansForm(Schema):
    werkplan_concept = required_text()
    communicatieplan_concept = required_text()
    begroting_concept = required_text()


PLANS = ('werkplan', 'communicatieplan', 'begroting')


class CoalitionDecisionForm(Schema):
    werkplan = fields.String(required=True, validate=validate.OneOf(('adopted', 'not_adopted')))
    communicatieplan = fields.String(required=True, validate=validate.OneOf(('adopted', 'not_adopted')))
    begroting = fields.String(required=True, validate=validate.OneOf(('adopted', 'not_adopted')))
    werkplan_reason = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])
    communicatieplan_reason = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])
    begroting_reason = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])

    @validates_schema
    def refusal_needs_reason(self, data, **kwargs):
        errors = {f'{plan}_reason': ['not adopted needs a reason'] for plan in PLANS
                  if data.get(plan) == 'not_adopted' and not (data.get(f'{plan}_reason') or '').strip()}
        if errors:
            raise ValidationError(errors)


class SteeringDecisionForm(Schema):
    next_steps = required_text()


class ContinuationForm(Schema):
    result = fields.String(required=True, validate=validate.OneOf(('continue', 'end')))
    new_end_date = fields.Date(load_default=None)
    note = fields.String(load_default='', validate=[validate.Length(max=MAX_TEXT), plain_text])

    @validates_schema
    def continuation_needs_date(self, data, **kwargs):
        if data.get('result') == 'continue' and data.get('new_end_date') is None:
            raise ValidationError('continuing needs the proposed new end date (YYYY-MM-DD)', 'new_end_date')


@dataclass(frozen=True)
class TaskForm:
    schema: type
    rule: str
    #: (step, values) -> data handed to the workflow; may refuse with context-dependent checks
    to_workflow: object = None


def _consent(step, values):
    return {'answer': {'party': step.task_row.party_code, 'decision': values['decision']}}


def _extend_or_close(step, values):
    if values['choice'] == 'close':
        return {'choice': 'close'}
    day = values['new_deadline']
    if not local_date(step.procedure.deadline_dt) < day < step.deal.end_date or day < local_date(step.now):
        raise CommandRefused.one('new_deadline', f'{day} must lie after the current deadline '
                                 f'{local_date(step.procedure.deadline_dt)}, not before today, and before the end '
                                 f'of the term ({step.deal.end_date})', 'Wijzigingen lid 2')
    new_deadline = end_of_day(day)
    answers = step.session.scalars(select(Answer).where(Answer.procedure_id == step.procedure.id)
                                   .order_by(Answer.id)).all()
    answered = {a.party_code for a in answers}
    still_parties = {p.code for p in step.session.scalars(
        select(Party).where(Party.status.in_(('active', 'withdrawing'))))}
    asked = [code for code in step.workflow_data.get('consulted_all') or [] if code in still_parties]
    return {'choice': 'extend', 'consultation_deadline': new_deadline.isoformat(),
            'extension_reason': values['reason'],
            'consulted': [code for code in asked if code not in answered],
            'answers_before': [{'party': a.party_code, 'decision': a.decision} for a in answers]}


def _new_party(step, values):
    if step.session.scalars(select(Party).where(Party.code == values['code'])).first():
        raise CommandRefused.one('code', f'{values["code"]!r} is already the code of a party', 'Toetreding')
    if values['effective_date'] < local_date(step.now) or values['effective_date'] >= step.deal.end_date:
        raise CommandRefused.one('effective_date', f'{values["effective_date"]} must lie between today and the end '
                                 f'of the term ({step.deal.end_date})', 'Toetreding lid 1: tijdens de looptijd')
    return {'new_party_code': values['code'], 'effective_date': values['effective_date'].isoformat()}


def _continuation(step, values):
    data = {'result': values['result'], 'note': values['note']}
    if values['result'] == 'continue':
        if not step.deal.end_date < values['new_end_date'] <= add_months(step.deal.end_date, 120):
            raise CommandRefused.one('new_end_date', f'{values["new_end_date"]} must be after the current end date '
                                     f'{step.deal.end_date}', 'Inwerkingtreding en looptijd')
        data['new_end_date'] = values['new_end_date'].isoformat()
    return data


def _plain(step, values):
    return {k: (v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in values.items()}


def _criteria(step, values):
    return {'criteria_met': values['complete'], 'criteria_reason': values['reason']}


CONSENT = TaskForm(ConsentForm, RULE_CONSENT, _consent)
EXTEND = TaskForm(ExtendOrCloseForm, 'Wijzigingen lid 2: overleg binnen 6 weken', _extend_or_close)
OPEN = TaskForm(NoFields, 'Wijzigingen lid 2: de projectleider informeert de overige Partijen', _plain)

FORMS = {
    ('wijziging', 'consultatie_openen'): OPEN,
    ('wijziging', 'instemming_geven'): CONSENT,
    ('wijziging', 'verlengen_of_afsluiten'): EXTEND,
    ('toetreding', 'criteria_toetsen'): TaskForm(CriteriaForm, 'Deel 2, Aansluiten nieuwe deelnemers: criteria',
                                                 _criteria),
    ('toetreding', 'instemming_geven'): CONSENT,
    ('toetreding', 'verlengen_of_afsluiten'): EXTEND,
    ('toetreding', 'partij_vastleggen'): TaskForm(NewPartyForm, 'Toetreding lid 3: status van Partij', _new_party),
    ('opzegging', 'opzegging_bevestigen'): TaskForm(AcknowledgeForm, 'Opzegging lid 2', _plain),
    ('jaarcyclus', 'evaluatie_opleveren'): TaskForm(EvaluationForm, 'Monitoring en evaluatie: twee niveaus', _plain),
    ('jaarcyclus', 'midterm_opleveren'): TaskForm(MidtermForm, 'Monitoring en evaluatie: halverwege de looptijd',
                                                  _plain),
    ('jaarcyclus', 'plannen_opstellen'): TaskForm(PlansForm, 'Governance: werkplan, communicatieplan, begroting',
                                                  _plain),
    ('jaarcyclus', 'coalitieoverleg_besluit'): TaskForm(CoalitionDecisionForm,
                                                        'Governance: vastgesteld in het coalitieoverleg', _plain),
    ('jaarcyclus', 'stuurgroep_besluit'): TaskForm(SteeringDecisionForm, 'Governance: stuurgroep besluit over '
                                                   'vervolgstappen', _plain),
    ('voortzetting', 'uitkomst_vastleggen'): TaskForm(ContinuationForm, 'Inwerkingtreding en looptijd lid 2',
                                                      _continuation),
}


def read(form, raw):
    """The form's values from raw strings, or every problem, each naming its field."""
    try:
        return form.schema().load(raw)
    except ValidationError as err:
        problems = []
        for field, messages in err.messages.items():
            for message in messages if isinstance(messages, list) else [str(messages)]:
                problems.append(Problem(field if field != '_schema' else '(form)', message.rstrip('.'), form.rule))
        raise CommandRefused(problems) from None


@dataclass(frozen=True)
class FieldSpec:
    """What a form field is, for a page to draw it: the engine checks the value, not the page."""
    name: str
    kind: str  # choice, text, line, yesno or date
    required: bool
    choices: tuple = ()


SHORT_TEXT = {'code'}


def describe(procedure_type, task_name):
    schema = FORMS[(procedure_type, task_name)].schema()
    specs = []
    for name, field in schema.fields.items():
        validators = field.validators if isinstance(field.validators, (list, tuple)) else [field.validators]
        choices = next((tuple(v.choices) for v in validators if isinstance(v, validate.OneOf)), ())
        if choices:
            kind = 'choice'
        elif isinstance(field, fields.Boolean):
            kind = 'yesno'
        elif isinstance(field, fields.Date):
            kind = 'date'
        else:
            kind = 'line' if name in SHORT_TEXT else 'text'
        specs.append(FieldSpec(name, kind, field.required, choices))
    return specs
