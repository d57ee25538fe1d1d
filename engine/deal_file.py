"""Reads a deal definition (TOML) and refuses a malformed one with one message per bad field."""
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from engine import names as name_rules
from engine import rules
from engine.dates import add_months
from engine.errors import CommandRefused, Problem
from engine.roles import TASK_ROLES

#: the kinds of organisation a deal file may list when it names none (``[deal] party_kinds``)
PARTY_KINDS = ('rijk', 'provincie', 'gemeente', 'waterschap', 'woningcorporatie', 'kennisinstelling',
               'maatschappelijke organisatie', 'bedrijf')
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
    #: how long the Parties have to answer, from the moment the consultation opens
    consent_period_weeks: int = 6
    #: an answer window never shorter than this (the end of the term may not squeeze it)
    minimum_consent_days: int = 14


@dataclass(frozen=True)
class Role:
    name: str
    email: str


@dataclass(frozen=True)
class Reminders:
    before_deadline_days: tuple = (14, 2)
    role_task_overdue_days: int = 7
    #: the hour of the day (deal time) a reminder goes out
    hour: int = 9


@dataclass(frozen=True)
class AnnualCycle:
    """When the tasks of each year's cycle are due: a day of the cycle's year per task (month, day);
    in the term's first year the plans are due at the end of phase ``first_plans_phase`` instead."""
    due: dict = field(default_factory=dict)
    first_plans_phase: int | None = None


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
    party_kinds: tuple = PARTY_KINDS
    annual_cycle: AnnualCycle = field(default_factory=AnnualCycle)
    #: the deal's own names of the clauses the engine cites, by rule key (engine.rules); unnamed ones keep
    #: the names of engine.rules
    clauses: dict = field(default_factory=dict, compare=False)
    canonical_json: str = field(default='', compare=False)
    #: the canonical JSON without contact details: what only a procedure may change
    content_json: str = field(default='', compare=False)

    def clause(self, key):
        """How this deal names the clause of rule ``key``, e.g. ``opzegging_3``."""
        rule = next(r for r in rules.ALL if r.key == key)
        return self.clauses.get(key, rule.clause)


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
    #: the zone in which the deal's days begin and end (an IANA name, e.g. Europe/Amsterdam)
    timezone = fields.String(load_default='Europe/Amsterdam', validate=validate.Length(min=1, max=60))
    party_kinds = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=lambda: list(PARTY_KINDS),
                              validate=validate.Length(min=1, error='at least one kind'))

    @validates_schema(skip_on_field_errors=False)
    def end_after_start(self, data, **kwargs):
        if 'start' in data and 'end' in data and data['end'] <= data['start']:
            raise ValidationError('must be after the start date', 'end')


class TermsSchema(Schema):
    consultation_weeks = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=52))
    notice_months = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=24))
    continuation_months_before_end = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=24))
    in_kind_days_per_month = fields.Integer(strict=True, validate=validate.Range(min=0, max=31), load_default=None)
    annual_cycle_start = fields.String(load_default=None, validate=validate.Regexp(
        r'^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', error='must be MM-DD, e.g. 01-15'))
    consent_period_weeks = fields.Integer(strict=True, validate=validate.Range(min=1, max=52), load_default=6)
    minimum_consent_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365), load_default=14)

    @post_load
    def make(self, data, **kwargs):
        if data['annual_cycle_start']:
            data['annual_cycle_start'] = month_day(data['annual_cycle_start'])
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


#: the holder the deal names for each role that takes tasks (engine.roles): [roles.projectleider], ...
RolesSchema = Schema.from_dict({name: fields.Nested(RoleSchema, required=True) for name in TASK_ROLES},
                               name='RolesSchema')


class RemindersSchema(Schema):
    before_deadline_days = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=365)),
                                       load_default=lambda: [14, 2])
    role_task_overdue_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=365), load_default=7)
    hour = fields.Integer(strict=True, validate=validate.Range(min=0, max=23), load_default=9)

    @post_load
    def make(self, data, **kwargs):
        return Reminders(tuple(sorted(set(data['before_deadline_days']), reverse=True)),
                         data['role_task_overdue_days'], data['hour'])


class AnnualCycleSchema(Schema):
    due = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    first_plans_phase = fields.Integer(strict=True, load_default=None)

    @post_load
    def make(self, data, **kwargs):
        return AnnualCycle({task: month_day(value) for task, value in data['due'].items()},
                           data['first_plans_phase'])


def month_day(value):
    """'MM-DD' as (month, day), or None when it names no day of the year (02-29 does, in leap years)."""
    if not isinstance(value, str) or not re.fullmatch(r'\d{2}-\d{2}', value):
        return None
    month, day = int(value[:2]), int(value[3:])
    try:
        date(2000, month, day)
    except ValueError:
        return None
    return month, day


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
    kind = fields.String(required=True, validate=validate.Length(min=1, max=40))
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
    annual_cycle = fields.Nested(AnnualCycleSchema, load_default=lambda: AnnualCycle())
    clauses = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1, max=200)),
                          load_default=dict)
    phases = fields.List(fields.Nested(PhaseSchema), load_default=list)
    parties = fields.List(fields.Nested(PartySchema), required=True)

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
    """A deal definition from the TOML document's dict, or every problem in it, one message each."""
    problems = []
    try:
        data = DealFileSchema().load(raw)
    except ValidationError as err:
        problems = flatten(err.messages)
        data = None
    problems += consistency_problems(raw)
    if problems:
        raise CommandRefused(problems)
    deal = data['deal']
    terms = data['terms']
    return DealDefinition(
        **{k: v for k, v in deal.items() if k != 'party_kinds'}, party_kinds=tuple(deal['party_kinds']),
        terms=terms, roles=data['roles'], reminders=data['reminders'], phases=tuple(data['phases']),
        parties=tuple(data['parties']), annual_cycle=data['annual_cycle'], clauses=data['clauses'],
        canonical_json=_canonical(raw),
        content_json=_canonical(_without_contacts(raw)))


def _table(raw, name):
    value = raw.get(name) if isinstance(raw, dict) else None
    return value if isinstance(value, dict) else {}


def _rows(raw, name):
    value = raw.get(name) if isinstance(raw, dict) else None
    return [row if isinstance(row, dict) else {} for row in value] if isinstance(value, list) else []


def _number(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _day(value):
    return value if isinstance(value, date) and not isinstance(value, datetime) else None


#: the terms that are periods: each must be longer than 0 (a notice of 0 months is no notice)
PERIODS = (('terms', 'consultation_weeks'), ('terms', 'notice_months'), ('terms', 'continuation_months_before_end'),
           ('reminders', 'role_task_overdue_days'))


def answer_window_days(terms):
    """How long a Party has to answer a consultation, in days."""
    weeks = terms.get('consent_period_weeks', Terms.consent_period_weeks)
    return _number(weeks) and _number(weeks) * 7


def _known_zone(name):
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


def consistency_problems(raw):
    """What the fields' own checks cannot see: the file's parts against each other. Each problem once,
    with its own code; a part of the wrong type is left to the schema's message."""
    problems = []

    def problem(code, where, **params):
        problems.append(Problem(code, where, params, RULE))

    deal, terms, reminders = _table(raw, 'deal'), _table(raw, 'terms'), _table(raw, 'reminders')
    parties, phases = _rows(raw, 'parties'), _rows(raw, 'phases')
    start, end = _day(deal.get('start')), _day(deal.get('end'))
    if isinstance(raw.get('parties'), list) and len(parties) < 2:
        problem('deal_file.too_few_parties', 'parties', count=len(parties))
    names = {}
    for index, party in enumerate(parties):
        name = party.get('name')
        if isinstance(name, str) and name.strip():
            key = name.strip().casefold()
            if key in names:
                problem('deal_file.duplicate_party_name', f'parties[{index}].name', name=name,
                        other=f'parties[{names[key]}]')
            names.setdefault(key, index)
    kinds = deal.get('party_kinds', list(PARTY_KINDS))
    if isinstance(kinds, list):
        for index, party in enumerate(parties):
            kind = party.get('kind')
            if isinstance(kind, str) and kind not in kinds:
                problem('deal_file.unknown_party_kind', f'parties[{index}].kind', kind=kind,
                        known=', '.join(map(str, kinds)))
    numbers = {}
    for index, phase in enumerate(phases):
        number = _number(phase.get('number'))
        if number is not None:
            if number in numbers:
                problem('deal_file.duplicate_phase', f'phases[{index}].number', phase=number,
                        other=f'phases[{numbers[number]}]')
            numbers.setdefault(number, index)
        p_start, p_end = _day(phase.get('start')), _day(phase.get('end'))
        if start and end and end > start and p_start and p_end and (p_start < start or p_end > end):
            problem('deal_file.phase_outside_term', f'phases[{index}]', phase=number, start=start, end=end)
    for section, key in PERIODS:
        if _number(_table(raw, section).get(key)) == 0:
            problem('deal_file.zero_period', f'{section}.{key}')
    window = answer_window_days(terms)
    offsets = reminders.get('before_deadline_days')
    if window and isinstance(offsets, list):
        for index, days in enumerate(offsets):
            if _number(days) is not None and days >= window:
                problem('deal_file.reminder_not_shorter', f'reminders.before_deadline_days[{index}]', days=days,
                        window=window)
    minimum = _number(terms.get('minimum_consent_days', Terms.minimum_consent_days))
    if window and minimum and window < minimum:
        # no consultation could ever open: every answer window would be refused as too short
        problem('deal_file.window_shorter_than_minimum', 'terms.consent_period_weeks', days=window, minimum=minimum)
    lead = _number(terms.get('continuation_months_before_end'))
    if lead and 0 < lead <= 24 and start and end and end > start and add_months(end, -lead) <= start:
        problem('deal_file.continuation_not_shorter', 'terms.continuation_months_before_end', months=lead,
                start=start, end=end)
    annual = terms.get('annual_cycle_start')
    if annual is not None and month_day(annual) is None:
        problem('deal_file.not_a_day', 'terms.annual_cycle_start', value=annual)
    zone_name = deal.get('timezone')
    if isinstance(zone_name, str) and zone_name and not _known_zone(zone_name):
        problem('deal_file.unknown_timezone', 'deal.timezone', zone=zone_name)
    for key in _table(raw, 'clauses'):
        if key not in rules.KEYS:
            problem('deal_file.unknown_clause', f'clauses.{key}', key=key, known=', '.join(rules.KEYS))
    for task, value in _table(_table(raw, 'annual_cycle'), 'due').items():
        if month_day(value) is None:
            problem('deal_file.not_a_day', f'annual_cycle.due.{task}', value=value)
    return problems


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
