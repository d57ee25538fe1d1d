"""What a new password must be: at least 12 characters, and not one that guessers try first.

The list is Django's 20,000 most common passwords (BSD licence), shipped in engine/data: a list rather
than zxcvbn because its verdict is plain to explain at the field ("this is a commonly used password"),
the same on every machine, and costs no dependency. A common password does not become good by a few
digits or signs before or after it ("wachtwoord2021!"), nor is a run of one short piece repeated
("aaaaaaaaaaaa", "abcabcabcabc") or a string of digits and signs alone a password; a word said twice is as
strong as the word ("welkomwelkom"), and a run along the keyboard or the alphabet ("qwertyuiopasdf",
"abcdefghijkl") is what guessers try right after the list.
"""
import functools
import re
from pathlib import Path

from engine import rules
from engine.errors import Problem

MIN_LENGTH = 12
MAX_LENGTH = 1000
COMMON = Path(__file__).parent / 'data' / 'common-passwords.txt'
_AFFIXES = re.compile(r'^[\d\W_]+|[\d\W_]+$')
_REPEATED = re.compile(r'^(.{1,4}?)\1+$', re.S)
_SAID_AGAIN = re.compile(r'^(.+?)\1+$', re.S)
#: keyboard rows (QWERTY and AZERTY, row after row) and the alphabet, read either way
_RUNS = ('qwertyuiopasdfghjklzxcvbnm', 'azertyuiopqsdfghjklmwxcvbn', 'abcdefghijklmnopqrstuvwxyz',
         '1234567890', '!@#$%^&*()')
_RUNS = _RUNS + tuple(run[::-1] for run in _RUNS)


@functools.cache
def _common():
    with COMMON.open(encoding='utf-8') as lines:
        return frozenset(line.strip() for line in lines if line.strip() and not line.startswith('#'))


def problems(password, field='password'):
    """[] for a good password, else one Problem naming the field."""
    password = password or ''
    if len(password) < MIN_LENGTH:
        return [Problem('account.password_too_short', field, {'min': MIN_LENGTH}, rules.ACCESS)]
    if len(password) > MAX_LENGTH:
        return [Problem('account.password_too_long', field, {'max': MAX_LENGTH}, rules.ACCESS)]
    lowered = password.lower()
    core = _AFFIXES.sub('', lowered)  # empty for digits and signs alone: a number, a keyboard row
    if lowered in _common() or not core or core in _common() or _REPEATED.match(lowered) or _guessable(core):
        return [Problem('account.password_common', field, {}, rules.ACCESS)]
    return []


def _guessable(core):
    said_again = _SAID_AGAIN.match(core)
    if said_again:
        piece = said_again.group(1)
        return len(piece) < MIN_LENGTH or piece in _common() or _guessable(piece)
    return any(core in run for run in _RUNS)
