"""Reads a deal definition (TOML) and refuses a malformed one with one message per bad field."""
import json
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engine import names as name_rules
from engine import rules
from engine.errors import CommandRefused, Problem

PARTY_KINDS = ('rijk', 'gemeente', 'woningcorporatie', 'kennisinstelling')
CODE_PATTERN = r'^[a-z0-9]+(-[a-z0-9]+)*$'
RULE = rules.DEAL_FILE


@dataclass(frozen=True)
class Terms:
    consultation_weeks: int
    notice_months: int
    continuation_months_before_end: int
    in_kind_days_per_month: int | None = None
    #: (month, day) each year's cycle starts; None: the projectleider starts it by hand
    annual_cycle_start: tuple | None = None


@dataclass(frozen=True)
class Role:
    name: str
    email: str


@dataclass(frozen=True)
class Reminders:
    before_deadline_days: tuple = (14, 2)
    role_task_overdue_days: int = 7


@dataclass(frozen=True)
class Contribution:
    amount_eur: int
    per: str
    source: str = ''


@dataclass(frozen=True)
class PartyDefinition:
    code: str
    name: str
    kind: str
    email: str
    representatives: tuple
    contributions: tuple = ()
    in_kind: str = ''

    @property
    def annual_contribution_eur(self):
        """Euros per year where the text names an amount; None where it names none."""
        yearly = [c.amount_eur for c in self.contributions if c.per == 'year']
        return sum(yearly) if yearly else None


@dataclass(frozen=True)
class Phase:
    number: int
    start: date
    end: date
    description: str


@dataclass(frozen=True)
class DealDefinition:
    slug: str
    name: str
    citeertitel: str
    start: date
    end: date
    timezone: str
    terms: Terms
    roles: dict
    reminders: Reminders
    phases: tuple
    parties: tuple
    canonical_json: str = field(default='', compare=False)
    #: the canonical JSON without contact details: what only a procedure may change
    content_json: str = field(default='', compare=False)


class PlainDate(fields.Field):
    """TOML gives real dates; a string or a date-time here is a mistake in the file."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError('must be a date without time, e.g. 2021-03-04 (unquoted)')
        return value


def text(limit=300):
    return fields.String(required=True, validate=validate.Length(min=1, max=limit))


class DealSchema(Schema):
    slug = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN, error='lowercase letters, digits and hyphens'))
    name = text()
    citeertitel = text()
    start = PlainDate(required=True)
    end = PlainDate(required=True)
    #: Dutch deals run on Dutch time; the engine's legal date arithmetic is in this zone only
    timezone = fields.String(load_default='Europe/Amsterdam',
                             validate=validate.OneOf(('Europe/Amsterdam',), error='only Europe/Amsterdam is supported'))

    @validates_schema(skip_on_field_errors=False)
    def end_after_start(self, data, **kwargs):
        if 'start' in data and 'end' in data and data['end'] <= data['start']:
            raise ValidationError('must be after the start date', 'end')


class TermsSchema(Schema):
    consultation_weeks = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=52))
    notice_months = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=24))
    continuation_months_before_end = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=24))
    in_kind_days_per_month = fields.Integer(strict=True, validate=validate.Range(min=0, max=31), load_default=None)
    annual_cycle_start = fields.String(load_default=None, validate=validate.Regexp(
        r'^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', error='must be MM-DD, e.g. 01-15'))

    @post_load
    def make(self, data, **kwargs):
        if data['annual_cycle_start']:
            month, day = data['annual_cycle_start'].split('-')
            data['annual_cycle_start'] = (int(month), int(day))
        return Terms(**data)


def _plain_name(value):
    if name_rules.problem(value):
        raise ValidationError('no line breaks, invisible or direction characters in a name (they let it imitate another)')


def name_text(limit=300):
    """A party's or a representative's name: refused on load when it could imitate another."""
    return fields.String(required=True, validate=[validate.Length(min=1, max=limit), _plain_name])


def email():
    return fields.Email(required=True, validate=validate.Length(max=254))


class RoleSchema(Schema):
    name = text()
    email = email()

    @post_load
    def make(self, data, **kwargs):
        return Role(**data)


class RolesSchema(Schema):
    projectleider = fields.Nested(RoleSchema, required=True)
    secretaris = fields.Nested(RoleSchema, required=True)


class RemindersSchema(Schema):
    before_deadline_days = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=365)),
                                       load_default=lambda: [14, 2])
    role_task_overdue_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365), load_default=7)

    @post_load
    def make(self, data, **kwargs):
        return Reminders(tuple(sorted(set(data['before_deadline_days']), reverse=True)),
                         data['role_task_overdue_days'])


class PhaseSchema(Schema):
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    start = PlainDate(required=True)
    end = PlainDate(required=True)
    description = text(limit=2000)

    @validates_schema
    def end_after_start(self, data, **kwargs):
        if 'start' in data and 'end' in data and data['end'] < data['start']:
            raise ValidationError('must not be before the phase start', 'end')

    @post_load
    def make(self, data, **kwargs):
        return Phase(**data)


class ContributionSchema(Schema):
    amount_eur = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    per = fields.String(required=True, validate=validate.OneOf(('year', 'once')))
    source = fields.String(load_default='')

    @post_load
    def make(self, data, **kwargs):
        return Contribution(**data)


class PartySchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(CODE_PATTERN, error='lowercase letters, digits and hyphens'))
    name = name_text()
    kind = fields.String(required=True, validate=validate.OneOf(PARTY_KINDS))
    email = email()
    representatives = fields.List(name_text(), required=True,
                                  validate=validate.Length(min=1, error='at least one representative'))
    contributions = fields.List(fields.Nested(ContributionSchema), load_default=list)
    in_kind = fields.String(load_default='')

    @post_load
    def make(self, data, **kwargs):
        data['representatives'] = tuple(data['representatives'])
        data['contributions'] = tuple(data['contributions'])
        return PartyDefinition(**data)


class DealFileSchema(Schema):
    deal = fields.Nested(DealSchema, required=True)
    terms = fields.Nested(TermsSchema, required=True)
    roles = fields.Nested(RolesSchema, required=True)
    reminders = fields.Nested(RemindersSchema, load_default=lambda: Reminders())
    phases = fields.List(fields.Nested(PhaseSchema), load_default=list)
    parties = fields.List(fields.Nested(PartySchema), required=True, validate=validate.Length(min=1, error='at least one party'))

    @validates_schema(skip_on_field_errors=False)
    def unique_codes(self, data, **kwargs):
        seen, errors = set(), {}
        for index, party in enumerate(data.get('parties') or ()):
            # A party with field errors of its own arrives here as a plain dict.
            code = party.get('code') if isinstance(party, dict) else party.code
            if code in seen:
                errors[index] = {'code': [f'{code!r} is used by another party']}
            seen.add(code)
        if errors:
            raise ValidationError({'parties': errors})


def flatten(messages, prefix=''):
    """marshmallow's nested error dict as 'parties[3].kind: ...' lines."""
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return [Problem('deal_file.invalid', prefix or '(file)', {'detail': m.rstrip('.')}, RULE) for m in messages]
        return [p for m in messages for p in flatten(m, prefix)]
    problems = []
    for key, value in messages.items():
        if key == '_schema':
            path = prefix
        elif isinstance(key, int):
            path = f'{prefix}[{key}]'
        else:
            path = f'{prefix}.{key}' if prefix else key
        problems.extend(flatten(value, path))
    return problems


def _json_default(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def parse(raw):
    """A deal definition from the TOML document's dict, or every problem in it."""
    try:
        data = DealFileSchema().load(raw)
    except ValidationError as err:
        raise CommandRefused(flatten(err.messages)) from None
    deal = data['deal']
    problems = [Problem('deal_file.phase_outside_term', f'phases[{i}]', {'phase': p.number, 'start': deal['start'],
                                                                          'end': deal['end']}, RULE)
                for i, p in enumerate(data['phases']) if p.start < deal['start'] or p.end > deal['end']]
    if problems:
        raise CommandRefused(problems)
    return DealDefinition(
        **deal, terms=data['terms'], roles=data['roles'], reminders=data['reminders'], phases=tuple(data['phases']),
        parties=tuple(data['parties']), canonical_json=_canonical(raw), content_json=_canonical(_without_contacts(raw)))


def _canonical(raw):
    return json.dumps(raw, sort_keys=True, default=_json_default, ensure_ascii=False)


def _without_contacts(raw):
    """Addresses and the roles' holders change without an amendment; everything else is the deal."""
    content = {k: v for k, v in raw.items() if k not in ('roles', 'reminders')}
    content['parties'] = [{k: v for k, v in party.items() if k != 'email'} for party in raw.get('parties', ())]
    return content


def load(path):
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise CommandRefused.one('deal_file.missing', 'deal', RULE, path=str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise CommandRefused.one('deal_file.unreadable', 'deal', RULE, path=str(path), detail=str(err)) from None
    except tomllib.TOMLDecodeError as err:
        raise CommandRefused.one('deal_file.not_toml', 'deal', RULE, path=str(path), detail=str(err)) from None
    return parse(raw)


def from_canonical_json(text_):
    """The definition stored in the database, read back without the file."""
    raw = json.loads(text_)
    for section, keys in (('deal', ('start', 'end')),):
        for key in keys:
            raw[section][key] = date.fromisoformat(raw[section][key])
    for phase in raw.get('phases', ()):
        phase['start'], phase['end'] = date.fromisoformat(phase['start']), date.fromisoformat(phase['end'])
    return parse(raw)
