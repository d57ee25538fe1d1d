"""Legal date arithmetic in the deal's zone; instants are stored in UTC.

The zone is the loaded deal's (``[deal] timezone``): a command that reads the deal sets it
(``use_zone``); until then, and for a deal that names none, it is Europe/Amsterdam."""
import calendar
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo('Europe/Amsterdam')
_ZONE = ContextVar('deal_zone', default=None)


def zone():
    """The zone of the deal now loaded, in which its days begin and end."""
    return _ZONE.get() or AMSTERDAM


def use_zone(name):
    _ZONE.set(AMSTERDAM if name == 'Europe/Amsterdam' else ZoneInfo(name))


def add_months(day, months):
    """Calendar months, clamped at month end: 30 Nov + 3 months is 28 or 29 Feb.

    ISO 8601 durations (and SpiffWorkflow's ``P3M``) overflow into the next month instead.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(moment):
    return moment.astimezone(zone()).date()


def start_of_day(day):
    """The instant a calendar day begins in Amsterdam, in UTC."""
    return datetime.combine(day, time(0, 0), zone()).astimezone(timezone.utc)


def end_of_day(day):
    """The last second of a calendar day in Amsterdam: a deadline runs through its whole day."""
    return start_of_day(day + timedelta(days=1)) - timedelta(seconds=1)


def shown(moment):
    """An instant as people read it: ISO 8601 in Amsterdam time, to the second."""
    if moment is None:
        return None
    return moment.astimezone(zone()).isoformat(timespec='seconds')


def parse_day(raw, field):
    from engine.errors import CommandRefused
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise CommandRefused.one('field.not_a_date', field) from None
