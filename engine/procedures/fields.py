"""Form and start fields whose every refusal is a coded problem (see engine/errors.py).

Marshmallow reports errors as strings; these fields report codes instead (``field.required``,
``field.too_long`` ...), with their parameters, so that no caller ever parses a sentence.
"""
import re
from dataclasses import dataclass, field as dataclass_field

from marshmallow import Schema, ValidationError, fields, validates_schema  # noqa: F401 - for the forms

from engine import names
from engine.errors import CommandRefused, Problem

MAX_TEXT = 20000
MAX_LINE = 300
#: control characters (but tab and line breaks) and the bidirectional overrides that make text read
#: otherwise than it is stored
HIDDEN = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]')
#: every character that starts a new line somewhere: a single-line value must hold none
LINE_BREAKS = re.compile('[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]')


@dataclass(frozen=True)
class Coded:
    """A refusal inside marshmallow's error store, kept as a code with its parameters."""
    code: str
    params: dict = dataclass_field(default_factory=dict)
    #: the rule this check applies, where it is not the form's own
    rule: object = None


def refuse(code, **params):
    return ValidationError([Coded(code, params)])


_DEFAULTS = {'required': 'field.required', 'null': 'field.required', 'invalid': 'field.invalid',
             'validator_failed': 'field.invalid'}


class _Coded:
    default_error_messages = _DEFAULTS


class Text(_Coded, fields.String):
    """Free text: trimmed; blank counts as missing; no hidden characters; bounded."""
    kind = 'text'

    def __init__(self, *, required=True, max_length=MAX_TEXT, **kwargs):
        self.max_length = max_length
        if not required:
            kwargs.setdefault('load_default', '')
        super().__init__(required=required, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise refuse('field.not_text')
        value = value.strip()
        if self.required and not value:
            raise refuse('field.required')
        if HIDDEN.search(value):
            raise refuse('field.hidden_characters')
        self._check_shape(value)
        if len(value) > self.max_length:
            raise refuse('field.too_long', length=len(value), max=self.max_length)
        return value

    def _check_shape(self, value):
        pass


class Line(Text):
    """A single line: a name, a title. A line break in it could forge a line of a message."""
    kind = 'line'

    def __init__(self, *, max_length=MAX_LINE, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def _check_shape(self, value):
        if LINE_BREAKS.search(value):
            raise refuse('field.line_break')


class Name(Line):
    """A name of an organisation or a person: NFKC-normalised (a non-breaking space becomes a plain one),
    and refused when it holds invisible or direction characters that let it imitate another name."""
    kind = 'line'

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            code = names.problem(value)
            if code:
                raise refuse(code)
            value = names.normalised(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Choice(_Coded, fields.String):
    kind = 'choice'

    def __init__(self, choices, **kwargs):
        self.choices = tuple(choices)
        kwargs.setdefault('metadata', {}).setdefault('enum', list(self.choices))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in self.choices:
            raise refuse('field.not_a_choice', choices=self.choices)
        return value


class YesNo(_Coded, fields.Boolean):
    kind = 'yesno'
    default_error_messages = dict(_DEFAULTS, invalid='field.not_yes_no')


class Day(_Coded, fields.Date):
    kind = 'date'
    default_error_messages = dict(_DEFAULTS, invalid='field.not_a_date', format='field.not_a_date')


class Number(_Coded, fields.Integer):
    kind = 'number'
    default_error_messages = dict(_DEFAULTS, invalid='field.not_a_number', too_large='field.not_a_number')


class CodedSchema(Schema):
    """Unknown fields and a body of the wrong shape are refused with codes too."""
    error_messages = {'unknown': 'field.unknown', 'type': 'form.not_an_object'}


def read(schema, raw, rule=None):
    """The values of ``raw`` (strings, or JSON values) by ``schema``, or every problem, each naming its field."""
    try:
        return schema().load(raw)
    except ValidationError as err:
        raise CommandRefused(list(problems(err.messages, rule))) from None


def problems(messages, rule=None, prefix=''):
    for name, found in messages.items():
        name = '(form)' if name == '_schema' else f'{prefix}{name}'
        if isinstance(found, dict):
            yield from problems(found, rule, prefix=f'{name}.')
            continue
        for item in found if isinstance(found, list) else [found]:
            if isinstance(item, Coded):
                yield Problem(item.code, name, item.params, item.rule or rule)
            elif isinstance(item, str) and item.startswith(('field.', 'form.')):
                yield Problem(item, name, {}, rule)
            else:
                # marshmallow's own words for a case no field here names: still a coded refusal
                yield Problem('field.invalid', name, {}, rule)


@dataclass(frozen=True)
class FieldSpec:
    """What a field is, for a page or a command line to draw it: the engine checks the value."""
    name: str
    kind: str  # choice, text, line, yesno, date or number
    required: bool
    choices: tuple = ()
    #: a line for the command line's help (the field's ``metadata={'help': ...}``)
    help: str | None = None


def describe(schema):
    return [FieldSpec(name, getattr(f, 'kind', 'text'), f.required, getattr(f, 'choices', ()), f.metadata.get('help'))
            for name, f in schema().fields.items() if not f.dump_only]
