"""The engine's own words (every refusal, the names of the procedure types) from Babel message
catalogues keyed by stable codes: ``field.required``, ``type.wijziging``."""
import hashlib
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

from engine.dates import zone

CATALOGUES = Path(__file__).resolve().parent / 'translations'
LANGUAGES = ('nl', 'en')


@cache
def catalogue(language):
    with open(CATALOGUES / language / 'LC_MESSAGES' / 'engine.po', 'rb') as po:
        return {m.id: m.string for m in read_po(po) if m.id and m.string}


def text(code, language, params):
    """The text of ``code`` with its parameters; an unknown language reads English."""
    language = language if language in LANGUAGES else 'en'
    words = catalogue(language).get(code)
    if words is None:
        # A code without text is a defect (a test checks every code has both); say which.
        return f'{code} {params}' if params else code
    return words % {k: _shown(v, language) for k, v in params.items()} if params else words


def text_sha256(text):
    """The SHA-256 (hex) of a text as stored: UTF-8, after trimming; what an answer and a bijlage bind to."""
    return hashlib.sha256(text.strip().encode('utf-8')).hexdigest()


def dutch_day(value):
    """'1 april 2024', from a date or its ISO text: how titles and letters write a day."""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value, 'd MMMM y', locale='nl')


def _shown(value, language):
    if isinstance(value, (list, tuple)):
        return ', '.join(str(_shown(v, language)) for v in value)
    # Dutch reads dates as words; English is what the command line speaks, where dates are typed ISO.
    if isinstance(value, datetime):
        local = value.astimezone(zone())
        return format_datetime(local, "d MMMM y 'om' HH:mm", locale='nl') if language == 'nl' \
            else local.strftime('%Y-%m-%d %H:%M')
    if isinstance(value, date):
        return format_date(value, 'd MMMM y', locale='nl') if language == 'nl' else value.isoformat()
    return value
