"""Messages in Dutch from templates: subject, plain text, HTML, and an iCalendar file of their deadlines.

A template defines two blocks, ``subject`` and ``body``, and is rendered twice: once as plain
text and once as HTML (escaped throughout). Its structure alone makes the message's facts: the
table of facts (``facts``), the link to act on (``link``), the quoted words of a submitter
(``quote``) and the documents of a request, each with its link (``stukken``) are functions the
template calls, never lines read back out of rendered text. Every value printed with ``{{ }}`` is
put on one line first, so a title or name holding line breaks (CR, LF, U+2028, ...) cannot open a
line of its own; multi-line user text (a statement, a motivation) is shown only through ``quote``:
"> " lines in text, a blockquote in HTML.
"""
import os
import re
from functools import cache
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo
from pathlib import Path
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup, escape

from engine import periods, texts
from engine import procedures as registry
from engine.dates import zone
from engine.errors import CommandRefused
from engine.notices import Rendered
from engine.roles import SECRETARIS
from notifications.wording import day, greeting, last_day, moment, one_line, purpose, titled

TEMPLATES = Path(__file__).parent / 'templates'
#: where `make run` serves the web app
DEFAULT_BASE_URL = 'http://127.0.0.1:5000'
#: a longer text is quoted up to here, with a link to the whole of it
QUOTE_LIMIT = 4000


def dutch_date(value, tz=None):
    """'24 mei 2021'; an instant is shown in the deal's time (``tz``, else the loaded deal's zone): '24 mei 2021
    om 23:59'."""
    value = _as_date_or_instant(value)
    return moment(value, tz or zone()) if isinstance(value, datetime) else day(value)


def _as_date_or_instant(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value) if 'T' in value else date.fromisoformat(value)
    return value


def sentence_start(value):
    """A name at the start of a sentence: its first letter a capital, the rest as written."""
    return value[:1].upper() + value[1:]


def euros(amount):
    return 'in natura' if amount is None else f'€ {amount:,}'.replace(',', '.')


def pledge(request):
    """A financial pledge to join, as WRITING.md writes money: '€ 10.000 per jaar', '€ 30.000 eenmalig'."""
    if not request.get('pledge_eur'):
        return None
    return f"{euros(request['pledge_eur'])} {'per jaar' if request.get('pledge_per') == 'year' else 'eenmalig'}"


def procedure_kind(type_id):
    """How a message names a procedure's type: its request's own words ('verzoek tot wijziging') where the type
    names them, else the type's Dutch name from the catalogue ('opzegging')."""
    type_ = registry.TYPES.get(type_id)
    if type_ is not None and type_.request_kind:
        return type_.request_kind
    name = texts.text(f'type.{type_id}', 'nl', {})
    return type_id if name == f'type.{type_id}' else name


def _laatste_dag(value):
    """The last day in force of a term that ends on ``value`` (the first day no longer in force): '31 maart 2024'."""
    return day(last_day(value))


@pass_context
def _datum(ctx, value):
    return dutch_date(value, ctx['tz'])


@pass_context
def _namen(ctx, codes):
    """Party codes as the parties' names: 'Gemeente Tilburg, Tiwos'."""
    return ', '.join(ctx['party'](code) for code in codes)


@pass_context
def _dag(ctx, value):
    """The day alone, of an instant too: '24 mei 2021'."""
    value = _as_date_or_instant(value)
    return day(value.astimezone(ctx['tz']).date() if isinstance(value, datetime) else value)


@pass_context
def _termijn(ctx, value):
    """A deadline, with its weekday: 'maandag 24 mei 2021 om 23:59'."""
    value = _as_date_or_instant(value)
    if isinstance(value, datetime):
        return moment(value, ctx['tz'], weekday=True)
    return day(value, weekday=True)


class Block(str):
    """Text a template function made (facts, a quote, a link): printed as it is, lines and all."""


def _text_value(value):
    if isinstance(value, Block):
        return value
    return one_line(value) if isinstance(value, str) else value


def _html_value(value):
    if isinstance(value, Markup):
        return value
    return one_line(value) if isinstance(value, str) else value


def _rows(rows):
    return [(label, one_line(str(value))) for label, value in rows if value is not None and value != '']


def _quoted(text, limit):
    text = text or ''
    cut = limit is not None and len(text) > limit
    if cut:
        text = text[:limit].rsplit(' ', 1)[0] + ' …'
    return text.splitlines() or [''], cut


def _text_facts(*rows):
    return Block('\n'.join(f'{label}: {value}' for label, value in _rows(rows)))


def _text_quote(text, limit=None, more=None):
    lines, cut = _quoted(text, limit)
    quoted = '\n'.join(f'> {line}'.rstrip() for line in lines)
    if cut and more:
        quoted += f'\n\nDe tekst is ingekort. U leest de volledige tekst op:\n{more}'
    return Block(quoted)


def _text_link(url, label):
    return Block(f'{label}:\n{url}')


def _document_items(ctx, documents):
    """(name as shown, its link) of each document: the name on one line, with what it is for when that says more."""
    items = []
    for document in documents:
        name, what = one_line(document['name']), purpose(document.get('purpose'))
        if what and document.get('purpose') != 'request':
            name = f'{name} ({one_line(what)})'
        items.append((name, f"{ctx['base_url']}/documenten/{document['id']}"))
    return items


@pass_context
def _text_documents(ctx, title, documents):
    items = _document_items(ctx, documents)
    if not items:
        return Block('')
    return Block(f'{title}:\n' + '\n'.join(f'- {name}: {url}' for name, url in items))


# In HTML each block stands between blank lines, so that the body splits into them and into the
# template's own paragraphs; user text holds no newline there (one line, or <br> in a quote).
def _html_facts(*rows):
    cells = ''.join(Markup('<tr><th scope="row" style="text-align: left; padding: 0.2em 1em 0.2em 0; '
                           'vertical-align: top;">{}</th><td style="padding: 0.2em 0;">{}</td></tr>').format(label, value)
                    for label, value in _rows(rows))
    return Markup('\n\n<table role="presentation" style="border-collapse: collapse; margin: 0 0 1em 0;">'
                  '{}</table>\n\n').format(Markup(cells))


def _html_quote(text, limit=None, more=None):
    lines, cut = _quoted(text, limit)
    quoted = Markup('\n\n<blockquote style="margin: 0 0 1em 0; padding: 0 0 0 1em; border-left: 3px solid #8c8c8c;">'
                    '{}</blockquote>\n\n').format(Markup('<br>').join(escape(line) for line in lines))
    if cut and more:
        quoted += Markup('<p>De tekst is ingekort. <a href="{}">Lees de volledige tekst</a>.</p>\n\n').format(more)
    return quoted


def _html_link(url, label):
    return Markup('\n\n<p><a href="{}">{}</a></p>\n\n').format(url, label)


@pass_context
def _html_documents(ctx, title, documents):
    items = _document_items(ctx, documents)
    if not items:
        return Markup('')
    listed = Markup('').join(Markup('<li><a href="{}">{}</a></li>').format(url, name) for name, url in items)
    return Markup('\n\n<p>{}:</p><ul style="margin: 0 0 1em 0;">{}</ul>\n\n').format(title, listed)


def _html_blocks(body):
    """The HTML body as blocks: the template functions' own, and the template's paragraphs as <p>."""
    blocks = []
    for chunk in re.split(r'\n[ \t]*\n', body):
        chunk = chunk.strip()
        if not chunk:
            continue
        # Only a template function's block starts with '<': anything else was escaped.
        blocks.append(Markup(chunk) if chunk.startswith('<') else
                      Markup('<p>{}</p>').format(Markup(' '.join(chunk.splitlines()))))
    return blocks


def base_url_from_environment(environ=os.environ):
    raw = environ.get('CITYDEAL_BASE_URL') or DEFAULT_BASE_URL
    parts = urlsplit(raw)
    if parts.scheme not in ('http', 'https') or not parts.netloc or parts.query or parts.fragment \
            or one_line(raw) != raw:
        raise CommandRefused.one('setting.not_a_base_url', 'CITYDEAL_BASE_URL', value=raw, example=DEFAULT_BASE_URL)
    return raw.rstrip('/')


@cache
def _environments():
    """The text and HTML environments, made once per process: every renderer shares their compiled
    templates (a command-line run or a test makes several CityDeals, and compiling is most of a first mail)."""
    common = dict(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    text = Environment(autoescape=False, finalize=_text_value, keep_trailing_newline=True, **common)
    html = Environment(autoescape=True, finalize=_html_value, **common)
    text.globals.update(facts=_text_facts, quote=_text_quote, link=_text_link, stukken=_text_documents)
    html.globals.update(facts=_html_facts, quote=_html_quote, link=_html_link, stukken=_html_documents)
    for env in (text, html):
        env.globals.update(QUOTE_LIMIT=QUOTE_LIMIT)
        env.filters.update(datum=_datum, dag=_dag, termijn=_termijn, euro=euros, namen=_namen, zin=sentence_start,
                           one_line=one_line, weken=periods.weken, maanden=periods.maanden, dagen=periods.dagen,
                           soort=procedure_kind, laatste_dag=_laatste_dag, toezegging=pledge)
    return text, html


class Renderer:
    def __init__(self, base_url=DEFAULT_BASE_URL):
        self.base_url = base_url.rstrip('/')
        self._text, self._html = _environments()
        self._last_calendar = None

    @classmethod
    def from_environment(cls, environ=os.environ):
        return cls(base_url_from_environment(environ))

    def render(self, event, context):
        context = self._context(context)
        subject, body = self._blocks(self._text, event, context)
        subject = ' '.join(subject.split())
        footer = self._blocks(self._text, '_footer', context)[1].strip()
        text = f'{body.strip()}\n\n-- \n{footer}\n'
        html_body = self._blocks(self._html, event, context)[1]
        html = self._html.get_template('layout.html').render(
            subject=subject, blocks=_html_blocks(html_body), footer=footer.splitlines(), deal=context['deal'])
        return Rendered(subject, text, html, self._calendar(context) if context['deadlines'] else None)

    def _calendar(self, context):
        # Opening a round queues one message per party with the same deadline: they share one calendar file,
        # made once (icalendar takes longer than the rest of a message).
        deal, deadlines, now = context['deal'], tuple(context['deadlines']), context['now']
        last = self._last_calendar
        if last is not None and last[0] is deal and last[1:3] == (deadlines, now):
            return last[3]
        ics = calendar_file(deal, deadlines, now)
        self._last_calendar = (deal, deadlines, now, ics)
        return ics

    @staticmethod
    def _blocks(env, name, context):
        template = env.get_template(f'{name}.txt')
        ctx = template.new_context(context)
        return tuple(''.join(template.blocks[block](ctx)) if block in template.blocks else ''
                     for block in ('subject', 'body'))

    def _context(self, context):
        """What every template may use besides what the engine handed in."""
        if 'link' in context:
            # A one-time link handed in as ``link`` (sign-in, password, confirming a request to join) is
            # ``action_url``, so that the template's ``link()`` makes it a link in the HTML too.
            context = {k: v for k, v in context.items() if k != 'link'} | {'action_url': context['link']}
        procedure, task_id = context['procedure'], context.get('task_id')
        names = context.get('names', {})
        request = procedure.request if procedure is not None else {}
        type_ = registry.TYPES.get(procedure.type) if procedure is not None else None
        # an organisation that asks to join is not a party yet: its name is in its request
        applicant = type_.applicant(request) if type_ is not None and type_.applicant else None
        base = self.base_url
        submitter = (names.get(request.get('requester')) or applicant
                     or (names.get(procedure.initiated_by) if procedure is not None else None))
        extra = dict(
            submitter=submitter, applicant_name=applicant,
            request=request, party=lambda code: names.get(code, code), base_url=base,
            tz=ZoneInfo(context['deal'].timezone),
            task_url=f'{base}/taken/{task_id}' if task_id else None,
            receipt_url=f"{base}/ontvangstbewijs/{context['receipt_seq']}" if context.get('receipt_seq') else None,
            procedure_url=f'{base}/procedures/{procedure.id}' if procedure is not None else None,
            requester_name=names.get(request.get('requester')) if request.get('requester') else None,
            own=procedure is not None and context['recipient'] == procedure.initiated_by,
            who=lambda code: self._who(code, names, context['deal']),
            documents=context.get('documents', []),
            greeting=self._greeting(context))
        return {**context, **extra}

    @staticmethod
    def _who(code, names, deal):
        """Who acted, by a code: a party's name, or the role ('de projectleider')."""
        if code in deal.roles:
            return f'de {code}'
        return names.get(code, code)

    @staticmethod
    def _greeting(context):
        people = context.get('recipient_people', ())
        if context.get('recipient_kind') == 'role':
            # A role's name in the deal file is a function ("Projectleider ...") until a person's is filled in.
            return greeting([p for p in people if titled(p)], context['recipient'])
        return greeting(people, context['recipient_name'] or context['recipient'])


def calendar_file(deal, deadlines, now, base_url=None, alarm=None, name=None):
    """An iCalendar file (text) with one event per deadline, in the deal's time zone.

    ``base_url``: entries that name a page (``Deadline.path``) link to it; ``alarm``: a reminder that long
    before each entry (a timedelta), for a calendar people subscribe to; ``name``: the calendar's own name."""
    calendar = Calendar()
    calendar.add('prodid', f'-//citydeal//{deal.slug}//NL')
    calendar.add('version', '2.0')
    calendar.add('method', 'PUBLISH')
    calendar.add('x-wr-calname', name or f'{deal.citeertitel}: termijnen')
    calendar.add('x-wr-timezone', deal.timezone)
    calendar.add_component(AMSTERDAM_VTIMEZONE if deal.timezone == 'Europe/Amsterdam'
                           else Timezone.from_tzid(deal.timezone))
    for deadline in deadlines:
        calendar.add_component(calendar_event(deal, deadline, now, base_url, alarm))
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


def calendar_event(deal, deadline, now, base_url=None, alarm=None):
    event = Event()
    # One UID per deadline of a procedure, so that a calendar updates the entry when it moves.
    event.add('uid', f'{deadline.key}@{deal.slug}.citydeal')
    event.add('summary', deadline.summary)
    event.add('dtstart', deadline.at.astimezone(ZoneInfo(deal.timezone)))
    event.add('dtstamp', now.astimezone(timezone.utc))
    # A later deadline for the same UID must win: minutes since 1970 only grow with it.
    event.add('sequence', int(deadline.at.timestamp() // 60))
    description = f'{deadline.summary} ({dutch_date(deadline.at, ZoneInfo(deal.timezone))}). {deal.citeertitel}.'
    if base_url and deadline.path:
        link = base_url.rstrip('/') + deadline.path
        event.add('url', link)
        description += f' {link}'
    event.add('description', description)
    # RFC 5546 wants an organizer on a published event: the secretariat keeps the deal's dates.
    secretariat = deal.roles[SECRETARIS.name]
    organizer = vCalAddress(f"mailto:{secretariat.email}")
    organizer.params['cn'] = vText(secretariat.name)
    event.add('organizer', organizer)
    if alarm is not None:
        reminder = Alarm()
        reminder.add('action', 'DISPLAY')
        reminder.add('description', deadline.summary)
        reminder.add('trigger', -alarm)
        event.add_component(reminder)
    return event
