"""The words around what a message says: how it greets, how it names dates and user text on one line.

A greeting names the person where one is known ("Geachte heer Scherpenisse,", as Dutch
government letters do: the title and the surname, its first particle capitalised), the person
in full where the title is not known ("Geachte Jan de Vries,"), and otherwise the organisation
or the role ("Geachte Gemeente Utrecht,", "Geachte projectleider,"); never "Geachte
heer/mevrouw,".
"""
import re
from datetime import date, timedelta

from babel.dates import format_date, format_datetime

#: every character that starts a new line somewhere: in mail programs, in Python's splitlines(), in
#: Unicode (U+2028, U+2029, NEL); a user's single-line value must not open a line of its own
LINE_BREAKS = re.compile('[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+')

TITLES = {'de heer': 'heer', 'heer': 'heer', 'dhr.': 'heer', 'dhr': 'heer',
          'mevrouw': 'mevrouw', 'mevr.': 'mevrouw', 'mw.': 'mevrouw', 'mw': 'mevrouw'}
_TITLED = re.compile(r'^(de heer|heer|dhr\.?|mevrouw|mevr\.|mw\.?)\s+(.+)$', re.IGNORECASE)
#: initials ("R.", "Ph.") and academic titles ("drs.", "mr.") that a greeting leaves out
_INITIAL = re.compile(r'^([A-Z][a-z]?\.)+$|^(drs|dr|mr|ir|ing|prof|ds)\.$', re.IGNORECASE)


#: what a document is for, in words (engine.documents: a document's ``purpose``); one not listed shows as given
PURPOSES = {'request': 'bij het verzoek', 'statement': 'bij een verklaring', 'document': '',
            'evaluation': 'evaluatie', 'midterm_report': 'midterm-rapportage'}


def purpose(value):
    return PURPOSES.get(value or '', value or '')


def last_day(end_date):
    """The last day in force of a term whose end date (the first day no longer in force, as the deal text
    says "eindigt op 1 april 2024") is ``end_date``: 31 March 2024. A message names this day."""
    if isinstance(end_date, str):
        end_date = date.fromisoformat(end_date[:10])
    return end_date - timedelta(days=1)


def one_line(value):
    """A user's single-line value as one line, whatever breaks it held."""
    return LINE_BREAKS.sub(' ', value)


def salutation(person):
    """'heer Scherpenisse' for 'de heer R. Scherpenisse, wethouder'; the name in full when no title
    is given; None when there is no name."""
    name = one_line(person or '').split(',')[0].strip()
    if not name:
        return None
    titled = _TITLED.match(name)
    if not titled:
        return name
    words = titled.group(2).split()
    surname = [w for w in words if not _INITIAL.match(w)] or words
    if len(surname) < len(words):
        # Without initials before it, the first particle is written with a capital: "Van der Geld".
        surname[0] = surname[0][:1].upper() + surname[0][1:]
    return f"{TITLES[titled.group(1).lower()]} {' '.join(surname)}"


def titled(person):
    """Does the name say who it is ('de heer ...', 'mevrouw ...'), rather than a function?"""
    return bool(_TITLED.match(one_line(person or '').split(',')[0].strip()))


def greeting(people, fallback):
    """'Geachte heer Catsburg en heer Fluitman,' or 'Geachte <fallback>,'."""
    names = [s for s in (salutation(p) for p in people) if s]
    return f"Geachte {' en '.join(names) if names else one_line(fallback)},"


def day(value, weekday=False, locale='nl'):
    """'24 mei 2021'; with ``weekday`` 'maandag 24 mei 2021'."""
    return format_date(value, ('EEEE ' if weekday else '') + 'd MMMM y', locale=locale)


def moment(value, tz, weekday=False, locale='nl'):
    """'24 mei 2021 om 23:59' in the deal's zone; with ``weekday`` 'maandag 24 mei 2021 om 23:59'."""
    return format_datetime(value, ("EEEE " if weekday else '') + "d MMMM y 'om' HH:mm", tzinfo=tz, locale=locale)
