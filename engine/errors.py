"""Refusals the engine gives for bad input: each carries a stable code, its field, its parameters and
the rule it applies. The words are not here: they come from the message catalogues
(``engine/translations/<lang>/LC_MESSAGES/engine.po``), so the CLI, the web and the API say the
same thing in Dutch or English, and a reworded text never changes what a program matches on."""
from dataclasses import dataclass, field

from engine import texts
from engine.rules import Rule


@dataclass(frozen=True)
class Problem:
    code: str
    field: str
    params: dict = field(default_factory=dict)
    rule: Rule | None = None

    def __post_init__(self):
        if self.rule is not None and not isinstance(self.rule, Rule):
            raise TypeError(f'a rule is one of engine.rules, not {self.rule!r}')

    def message(self, language='en'):
        return texts.text(self.code, language, self.params)

    def __str__(self):
        rule = f' (rule: {self.rule})' if self.rule else ''
        return f'{self.field}: {self.message()}{rule}'

    def as_dict(self, language='en'):
        return {'code': self.code, 'field': self.field, 'message': self.message(language),
                'params': {k: str(v) for k, v in self.params.items()}, 'rule': str(self.rule or '')}


class CommandRefused(Exception):
    """The command was refused and nothing changed."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__('; '.join(str(p) for p in self.problems))

    @classmethod
    def one(cls, code, field_, rule=None, **params):
        return cls([Problem(code, field_, params, rule)])


class NotFound(CommandRefused):
    """An id or code that does not exist."""


class Forbidden(CommandRefused):
    """The actor may not do this: not their party's, not their role's."""


class Damaged(CommandRefused):
    """What the record holds no longer matches what it recorded (a stored file changed or missing): a fault
    of the installation, to be put right by its operator, never served as if it were the record."""


class Conflict(Exception):
    """Another writer changed the same procedure first; the command can be retried."""
