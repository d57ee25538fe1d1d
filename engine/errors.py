"""Refusals the engine gives for bad input: each names the field and the rule."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    rule: str = ''

    def __str__(self):
        rule = f' (rule: {self.rule})' if self.rule else ''
        return f'{self.field}: {self.message}{rule}'

    def as_dict(self):
        return {'field': self.field, 'message': self.message, 'rule': self.rule}


class CommandRefused(Exception):
    """The command was refused and nothing changed."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__('; '.join(str(p) for p in self.problems))

    @classmethod
    def one(cls, field, message, rule=''):
        return cls([Problem(field, message, rule)])


class NotFound(CommandRefused):
    """An id or code that does not exist."""


class Conflict(Exception):
    """Another writer changed the same procedure first; the command can be retried."""
