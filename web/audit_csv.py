"""The audit as a spreadsheet: Dutch headers and event names, one column per data field, parties by name.

Dutch Excel reads `;` as the separator and needs a UTF-8 BOM to read ë and € right; RFC 4180 (comma, no
BOM) is there for other programs.
"""
import csv
import io
import json

from flask_babel import gettext as _

from engine.dates import AMSTERDAM
from web.formatting import parse, party
from web.labels import VALUES, event_label, field_label, value_label

PARTY_FIELDS = {'party', 'to', 'by', 'requester'}


def flatten(data, prefix=''):
    """{'values': {'decision': 'consent'}} -> {'values.decision': 'consent'}; lists as text."""
    flat = {}
    for key, value in (data or {}).items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten(value, f'{name}.'))
        elif isinstance(value, list):
            flat[name] = ', '.join(str(v) for v in value) if all(not isinstance(v, (dict, list)) for v in value) \
                else json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


def _header(key):
    last = key.rsplit('.', 1)[-1]
    label = str(field_label(last))
    return label if label != last else key


def _when(at):
    return parse(at).astimezone(AMSTERDAM).strftime('%d-%m-%Y %H:%M:%S')


def _cell(value):
    """A spreadsheet must not read a submitted text as a formula (=, +, -, @ first)."""
    text = '' if value is None else str(value)
    return "'" + text if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text


def _value(key, value):
    if value in (None, ''):
        return value
    if key.rsplit('.', 1)[-1] in PARTY_FIELDS:
        return party(value)
    return str(value_label(value)) if isinstance(value, str) and value in VALUES else value


def render(entries, rfc4180=False):
    flats = [flatten(e['data']) for e in entries]
    keys = sorted({k for flat in flats for k in flat})
    out = io.StringIO()
    writer = csv.writer(out, delimiter=',' if rfc4180 else ';', lineterminator='\r\n')
    writer.writerow([_('Volgnummer'), _('Tijdstip'), _('Persoon'), _('Namens'), _('Procedure'), _('Gebeurtenis')]
                    + [_header(k) for k in keys] + [_('Vorige hash'), _('Hash')])
    for e, flat in zip(entries, flats, strict=True):
        data = [_value(k, flat.get(k)) for k in keys]
        writer.writerow([_cell(v) for v in [e['seq'], _when(e['at']), e['person'], party(e['acting_for']),
                                            e['procedure_id'], event_label(e['event'])] + data
                         + [e['prev_hash'], e['hash']]])
    return ('' if rfc4180 else '\ufeff') + out.getvalue()
