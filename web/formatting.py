"""How the pages show dates, periods and parties: in words, in the page's language, in the deal's zone.

The engine's read models give ISO 8601 strings (the CLI's JSON depends on them); this is the one place
that turns them into "1 juni 2021", "1 juni 2021 om 23:59", "nog 14 dagen" and party names.
"""
import re
from datetime import date, datetime, timedelta

from flask import current_app, g
from flask_babel import format_date, format_datetime, format_decimal, gettext as _, lazy_gettext as _l, ngettext

from engine import roles
from engine.dates import local_date, zone

ROLES = {roles.PROJECTLEIDER.name: _l('projectleider'), roles.SECRETARIS.name: _l('secretaris'),
         roles.AUDITOR.name: _l('auditor'), roles.ADMIN.name: _l('beheerder'),
         roles.SCHEDULER: _l('de planner (automatisch)')}


# Times are shown in the loaded deal's zone (its file's ``timezone``), ``engine.dates.zone()``: the engine computes
# every deadline there.
def parse(value):
    if value is None or value == '':
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone())


def day(value, weekday=False):
    """'1 juni 2021' (or 'dinsdag 1 juni 2021'); a datetime is read in the deal's zone first."""
    moment = parse(value)
    if moment is None:
        return '–'
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone()).date()
    return format_date(moment, 'EEEE d MMMM y' if weekday else 'd MMMM y')


def moment(value, weekday=False):
    """'1 juni 2021 om 23:59' in the deal's zone; a bare date is shown as a day."""
    instant = parse(value)
    if instant is None:
        return '–'
    if not isinstance(instant, datetime):
        return day(instant, weekday)
    local = instant.astimezone(zone())
    return _('%(day)s om %(time)s', day=day(local, weekday), time=format_datetime(local, 'HH:mm', rebase=False))


def due_moment(value, weekday=False):
    """A deadline: '21 juli 2021' where it is the start of a day (a notice takes effect on a day), else as
    ``moment``: '24 mei 2021 om 23:59'."""
    instant = parse(value)
    if isinstance(instant, datetime):
        local = instant.astimezone(zone())
        if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
            return day(local, weekday)
    return moment(instant, weekday)


def document_size(size):
    """'850 bytes', '12 kB', '3,4 MB'."""
    if size is None:
        return '–'
    if size < 1000:
        return ngettext('%(num)s byte', '%(num)s bytes', size)
    if size < 1_000_000:
        return _('%(n)s kB', n=format_decimal(round(size / 1000)))
    return _('%(n)s MB', n=format_decimal(round(size / 1_000_000, 1)))


def days_left(value, today=None):
    """'nog 14 dagen', 'vandaag', 'morgen', '3 dagen verlopen' for a deadline (calendar days)."""
    instant = parse(value)
    if instant is None:
        return ''
    target = local_date(instant) if isinstance(instant, datetime) else instant
    n = (target - (today or current_app.extensions['citydeal'].today())).days
    if n == 0:
        return _('vandaag')
    if n == 1:
        return _('morgen')
    if n > 0:
        return ngettext('nog %(num)s dag', 'nog %(num)s dagen', n)
    return ngettext('%(num)s dag verlopen', '%(num)s dagen verlopen', -n)


def day_count(value, today=None):
    """The whole calendar days until a deadline (negative when it passed), or None."""
    instant = parse(value)
    if instant is None:
        return None
    target = local_date(instant) if isinstance(instant, datetime) else instant
    return (target - (today or current_app.extensions['citydeal'].today())).days


def term(start, end):
    """The term of the deal: '4 maart 2021 t/m 31 maart 2024'. ``end`` is the first day no longer in force."""
    last = parse(end) - timedelta(days=1)
    return _('%(start)s t/m %(end)s', start=day(start), end=day(last))


def last_day(end):
    """The last day in force of a deal that ends on ``end`` ('eindigt op 1 april 2024': 31 maart 2024)."""
    return day(parse(end) - timedelta(days=1))


def _party_names():
    if 'party_names' not in g:
        g.party_names = {p['code']: p['name'] for p in current_app.extensions['citydeal'].parties()}
    return g.party_names


def party(code):
    """A party's name for its code; a role by its Dutch word; anything else as it is."""
    if not code:
        return '–'
    names = _party_names()
    if code in names:
        return names[code]
    return str(ROLES[code]) if code in ROLES else code


def parties(codes):
    """Names for codes, each once, in their first order."""
    seen = []
    for code in codes:
        name = party(code)
        if name not in seen:
            seen.append(name)
    return seen


ISO_DAY = re.compile(r'\b(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2}|Z)?)?\b')


def dates_in_words(text):
    """ISO dates inside a text written by the engine ("Voortzetting: einddatum 2025-04-01") in words."""
    if not isinstance(text, str):
        return text
    return ISO_DAY.sub(lambda m: moment(m.group(0)) if 'T' in m.group(0) else day(m.group(1)), text)


def init_app(app):
    app.jinja_env.filters.update(day=day, moment=moment, days_left=days_left, party=party, parties=parties,
                                 day_count=day_count, dates_in_words=dates_in_words, due_moment=due_moment)
    app.jinja_env.globals.update(document_size=document_size)
    # who may act in the audit (auditors change nothing): the roles and the scheduler
    app.jinja_env.globals.update(term=term, last_day=last_day, roles=tuple(ROLES),
                                 acting_roles=tuple(name for name in ROLES if name not in roles.AUDITORS))
