"""Messages in Dutch from templates: subject, plain text, HTML, and an iCalendar file of their deadlines.

A template defines two blocks: ``subject`` and ``body``. The body is plain text; paragraphs
are separated by blank lines, and a paragraph whose lines all read "Label: value" becomes a
table in the HTML version.
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

from icalendar import Calendar, Event, Timezone, vCalAddress, vText
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from engine import periods
from engine.dates import zone
from engine.notices import Rendered

TEMPLATES = Path(__file__).parent / 'templates'
MONTHS = ('januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober',
          'november', 'december')


def dutch_date(value):
    """'24 mei 2021'; an instant is shown in Amsterdam time: '24 mei 2021, 23:59'."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if 'T' in value else datetime.fromisoformat(value).date()
    if isinstance(value, datetime):
        local = value.astimezone(zone())
        return f'{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}'
    return f'{value.day} {MONTHS[value.month - 1]} {value.year}'


def euros(amount):
    return 'in natura' if amount is None else f'EUR {amount:,}'.replace(',', '.')


class Renderer:
    def __init__(self):
        self._text = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                                 keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        self._html = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                                 autoescape=select_autoescape(default=True))
        for env in (self._text, self._html):
            env.filters.update(datum=dutch_date, euro=euros, weken=periods.weken, maanden=periods.maanden,
                               dagen=periods.dagen)

    def render(self, event, context):
        template = self._text.get_template(f'{event}.txt')
        ctx = template.new_context(context)
        subject = ' '.join(''.join(template.blocks['subject'](ctx)).split())
        body = ''.join(template.blocks['body'](ctx)).strip() + '\n'
        text = f'{body}\n-- \n{context["deal"].citeertitel}: dit bericht is automatisch verstuurd.\n'
        html = self._html.get_template('layout.html').render(subject=subject, paragraphs=_paragraphs(body),
                                                              deal=context['deal'])
        return Rendered(subject, text, html, _calendar(context) if context['deadlines'] else None)


def _paragraphs(body):
    """[('facts', [(label, value)]) | ('text', [line])] from the plain-text body."""
    result = []
    for block in body.split('\n\n'):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        pairs = [line.split(': ', 1) for line in lines]
        if all(len(p) == 2 and 0 < len(p[0]) <= 40 for p in pairs):
            result.append(('facts', pairs))
        else:
            result.append(('text', lines))
    return result


def _calendar(context):
    return calendar_file(context['deal'], context['deadlines'], context['now'])


def calendar_file(deal, deadlines, now):
    """An iCalendar file (text) with one event per deadline, in Amsterdam time."""
    calendar = Calendar()
    calendar.add('prodid', f'-//citydeal//{deal.slug}//NL')
    calendar.add('version', '2.0')
    calendar.add('method', 'PUBLISH')
    calendar.add('x-wr-calname', f'{deal.citeertitel}: termijnen')
    calendar.add_component(AMSTERDAM_VTIMEZONE if deal.timezone == 'Europe/Amsterdam'
                           else Timezone.from_tzid(deal.timezone))
    for deadline in deadlines:
        calendar.add_component(calendar_event(deal, deadline, now))
    return calendar.to_ical().decode()


# The EU rule since 1996, as calendar programs write it; icalendar's generated zone lists
# every transition from 1970 to 2038 and costs more than the rest of a message.
AMSTERDAM_VTIMEZONE = Timezone.from_ical('''BEGIN:VTIMEZONE
TZID:Europe/Amsterdam
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19810329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
'''.replace('\n', '\r\n'))


def calendar_event(deal, deadline, now):
    event = Event()
    # One UID per deadline of a procedure, so that a calendar updates the entry when it moves.
    event.add('uid', f'{deadline.key}@{deal.slug}.citydeal')
    event.add('summary', deadline.summary)
    event.add('dtstart', deadline.at.astimezone(ZoneInfo(deal.timezone)))
    event.add('dtstamp', now.astimezone(timezone.utc))
    # A later deadline for the same UID must win: minutes since 1970 only grow with it.
    event.add('sequence', int(deadline.at.timestamp() // 60))
    event.add('description', f'{deadline.summary} ({dutch_date(deadline.at)}). {deal.citeertitel}.')
    # RFC 5546 wants an organizer on a published event: the secretariat keeps the deal's dates.
    organizer = vCalAddress(f"mailto:{deal.roles['secretaris'].email}")
    organizer.params['cn'] = vText(deal.roles['secretaris'].name)
    event.add('organizer', organizer)
    return event
