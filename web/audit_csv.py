"""The audit as a spreadsheet: Dutch headers and event names, one column per data field, parties by name.

Every header is Dutch and names one column (a field that means another thing in another place gets the
place in brackets: "Ontvangen op (verzoek)"); parties, roles and accounts by name; days as dd-mm-jjjj and
moments as dd-mm-jjjj uu:mm:ss in the deal's zone, like the time column; yes and no as "ja" and "nee".
Dutch Excel reads `;` as the separator and needs a UTF-8 BOM to read ë and € right; RFC 4180 (comma, no
BOM) is there for other programs. The JSON export keeps the entries as stored.
"""
import csv
import io
import re
from datetime import date, datetime
from functools import lru_cache

from flask_babel import gettext as _, lazy_gettext as _l

from engine.dates import zone
from web.formatting import parse, party
from web.labels import EVENTS, FIELDS, VALUES, event_label, purpose_label, value_label

#: the data fields that hold a party's code (or a role's name), alone or in a list
PARTY_FIELDS = {'party', 'to', 'by', 'requester', 'parties', 'missing', 'still_asked', 'objections', 'statements',
                'voided', 'statement_of', 'reaches', 'role', 'code', 'registered_by'}
#: texts people wrote: shown exactly as written
OWN_WORDS = {'statement', 'text', 'title', 'motivation', 'circumstances', 'grounds', 'contribution', 'note',
             'name', 'representative', 'applicant', 'procedure_title', 'requester_name', 'party_name',
             'entered_by', 'person', 'email', 'deputy'}

#: headers by the data field's full name (nested fields with dots), or by its last part where the pages' words
#: (web.labels: FIELDS, EVENTS) do not fit a column; every other field is headed by FIELDS
HEADERS = {
    'slug': _l('Kenmerk van de deal'), 'parties': _l('Partijen'), 'start': _l('Begin van de looptijd'),
    'end': _l('Einddatum'), 'end_date': _l('Einddatum'), 'ended_on': _l('Geëindigd op'),
    'name': _l('Naam'), 'role': _l('Rol'), 'account': _l('Account'),
    'delegation_id': _l('Plaatsvervanging (nummer)'), 'deputy': _l('Plaatsvervanger'),
    'token_id': _l('API-token (nummer)'), 'sessions_ended': _l('Sessies beëindigd'),
    'tokens_revoked': _l('API-tokens ingetrokken'), 'calendar_feed_revoked': EVENTS['calendar_feed_revoked'],
    'feed_id': _l('Agenda-adres (nummer)'), 'contributions_owed': _l('Verschuldigde bijdragen'),
    'id': _l('Document (nummer)'), 'media_type': _l('Soort bestand'), 'size': _l('Grootte in bytes'),
    'sha256': _l('SHA-256'), 'documents': _l('Documenten'),
    'label': _l('Omschrijving van de taak'), 'task_id': _l('Taak (kenmerk)'),
    'outcome': _l('Uitkomst'), 'due': _l('Uiterste datum'),
    'request_procedure': _l('Procedure van het verzoek'), 'number': _l('Nummer'),
    'voided': _l('Antwoorden vervallen van'), 'old_end': _l('Oude einddatum'),
    'new_end': _l('Nieuwe einddatum'), 'appendix': _l('Bijlage'), 'code': _l('Nieuwe Partij'),
    'joined_on': _l('Partij sinds'), 'pledge.amount_eur': _l('Financiële toezegging in euro'),
    'pledge.per': _l('Financiële toezegging per'), 'left_on': _l('Teruggetreden op'),
    'contribution_owed.year': _l('Verschuldigde bijdrage: jaar'),
    'contribution_owed.amount_eur': _l('Verschuldigde bijdrage in euro'),
    'opening_deadline': _l('Uiterste dag om het overleg te openen'), 'late': _l('Te laat'),
    'answer_deadline': _l('Termijn voor de antwoorden'), 'days_late': _l('Dagen te laat'),
    'reaches': _l('Bereikt'), 'still_asked': _l('Nog gevraagd'), 'deadline': _l('Termijn'),
    'missing': _l('Niet geantwoord'), 'old_deadline': _l('Oude termijn'), 'objections': _l('Bezwaar van'),
    'consents': _l('Aantal instemmingen'), 'statements': _l('Verklaringen van'), 'waiting': _l('Wachtende stap'),
    'kind': _l('Soort herinnering'), 'to': _l('Aan'), 'key': _l('Kenmerk van de herinnering'),
    'values.decision': _l('Besluit'), 'old.decision': _l('Vorig besluit'), 'old.statement': _l('Vorige verklaring'),
    'old.person': _l('Vorig besluit door'), 'old.answered_dt': _l('Vorig besluit op'),
    'new.decision': _l('Nieuw besluit'), 'new.statement': _l('Nieuwe verklaring'),
    'request.kind': _l('Soort organisatie'), 'request.requester': _l('Verzoeker'),
    'request.requester_name': _l('Verzoeker (naam)'), 'request.entered_dt': _l('Ingevoerd op'),
    'request.entered_by': _l('Ingevoerd door'), 'request.registered_by': _l('Geregistreerd door'),
    'request.midterm': _l('Jaar van de midtermrapportage'), 'request.party_name': _l('Opzeggende Partij'),
    'request.procedure_title': _l('Titel van de procedure'), 'request.end_date': _l('Einddatum'),
    'request.latest_start': _l('Uiterste start van het overleg'), 'request.versions': _l('Versies van de tekst'),
    'request.deal_does_not_stand': _l('Reden: de deal blijft niet in stand'),
    'amount_eur': _l('Bedrag in euro'), 'per': _l('Per'), 'created_dt': _l('Gemaakt op'),
    'decision': _l('Besluit'), 'text_sha256': _l('SHA-256 van de beantwoorde tekst'),
    'answer.decision': _l('Besluit zoals vastgelegd'), 'answer.statement': _l('Verklaring zoals vastgelegd'),
    'answer.person': _l('Besluit vastgelegd voor'), 'answer.text_sha256': _l('SHA-256 van de beantwoorde tekst'),
    'requester_answer.decision': _l('Besluit van de verzoeker'), 'requester_answer.party': _l('Verzoekende Partij'),
    'requester_answer.person': _l('Besluit van de verzoeker door'),
    'requester_answer.statement': _l('Verklaring van de verzoeker'),
    'requester_answer.text_sha256': _l('SHA-256 van de tekst van het verzoek'),
}
#: what a prefix adds to a header that would otherwise appear twice
PLACES = {'request': _l('verzoek'), 'values': _l('besluit'), 'old': _l('vorig'), 'new': _l('nieuw'),
          'answer': _l('vastgelegd'), 'requester_answer': _l('verzoeker'),
          'pledge': _l('toezegging'), 'contribution_owed': _l('bijdrage')}
#: values of a few fields that are codes
CODES = {
    'kind': {'before_deadline': _l('voor de termijn'), 'overdue': _l('taak te laat'),
             'opening_late': _l('overleg te laat geopend')},
    'reason': {'revoked': _l('ingetrokken'), 'expired': _l('afgelopen'), 'party_withdrawn': EVENTS['party_withdrawn'],
               'term_ended': _l('looptijd verstreken'), 'deal_does_not_stand': _l('deal blijft niet in stand'),
               'too_few_parties': _l('te weinig Partijen')},
    'per': {'year': _l('per jaar'), 'once': _l('eenmalig')},
    'pledge_per': {'year': _l('per jaar'), 'once': _l('eenmalig')},
}
ISO_MOMENT = re.compile(r'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?')
ISO_DAY = re.compile(r'\d{4}-\d{2}-\d{2}')


def flatten(data, prefix=''):
    """{'values': {'decision': 'consent'}} -> {'values.decision': 'consent'}; lists stay lists."""
    flat = {}
    for key, value in (data or {}).items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten(value, f'{name}.'))
        else:
            flat[name] = value
    return flat


@lru_cache(maxsize=1)
def _task_names():
    """Every task's name in the models ('consultatie_openen': 'Partijen informeren en om instemming vragen')."""
    from engine.workflow_runtime import PROCESSES
    from web.diagram import _model
    names = {}
    for model in sorted(PROCESSES.glob('*.bpmn')):
        names.update({k: v for k, v in _model(str(model))[1].items() if v})
    return names


def _label(key):
    if key in HEADERS:
        return str(HEADERS[key])
    parts = key.split('.')
    if parts[0] == 'party_emails' and len(parts) == 2:
        return _('E-mailadres van %(party)s', party=party(parts[1]))
    if parts[0] == 'roles' and len(parts) == 3:
        what = _('naam') if parts[2] == 'name' else _('e-mailadres') if parts[2] == 'email' else parts[2]
        return f'{party(parts[1]).capitalize()}: {what}'
    last = parts[-1]
    if last in HEADERS:
        return str(HEADERS[last])
    if last in FIELDS:
        return str(FIELDS[last])
    # A field no table names yet: its words without the code's underscores and dots.
    return re.sub(r'[._]+', ' ', key).strip().capitalize()


def headers(keys):
    """One Dutch header per key, none twice: a repeated one gets its place ("Ontvangen op (verzoek)"), then
    a number."""
    labels = {key: _label(key) for key in keys}
    seen = {}
    for key in keys:
        seen.setdefault(labels[key], []).append(key)
    for label, same in seen.items():
        if len(same) > 1:
            for key in same:
                prefix = key.split('.')[0] if '.' in key else None
                if prefix in PLACES:
                    labels[key] = f'{label} ({PLACES[prefix]})'
    result, used = [], {}
    for key in keys:
        label = labels[key]
        used[label] = used.get(label, 0) + 1
        result.append(label if used[label] == 1 else f'{label} ({used[label]})')
    return result


def _when(at):
    return parse(at).astimezone(zone()).strftime('%d-%m-%Y %H:%M:%S')  # in the loaded deal's zone


def _day(text):
    return date.fromisoformat(text).strftime('%d-%m-%Y')


def _dates(text):
    """ISO days and moments in a text written by the engine as dd-mm-jjjj (uu:mm:ss), in the deal's zone."""
    text = ISO_MOMENT.sub(lambda m: _when(m.group(0)) if 'T' in m.group(0) else m.group(0), text)
    return ISO_DAY.sub(lambda m: _day(m.group(0)), text)


def _cell(value):
    """A spreadsheet must not read a submitted text as a formula (=, +, -, @ first)."""
    text = '' if value is None else str(value)
    return "'" + text if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text


def _one(field, value, accounts):
    """One value in words: a party by name, a code by its Dutch word, a date as a day, yes as "ja"."""
    if value is None or value == '':
        return ''
    if isinstance(value, bool) or value in ('true', 'false', 'True', 'False'):
        return _('ja') if value in (True, 'true', 'True') else _('nee')
    if isinstance(value, dict):
        return ', '.join(f'{_label(k).lower()}: {_one(k, v, accounts)}' for k, v in value.items()
                         if v not in (None, ''))
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    if field == 'account':
        return accounts.get(value) or accounts.get(int(value) if str(value).isdigit() else value) or str(value)
    if not isinstance(value, str):
        return value
    if field in PARTY_FIELDS:
        return party(value)
    if field == 'task':
        return _task_names().get(value, value)
    if field == 'type':
        return str(value_label(value))
    if field == 'purpose':
        return purpose_label(value)
    if value in CODES.get(field, {}):
        return str(CODES[field][value])
    if field in OWN_WORDS:
        return value
    if ISO_MOMENT.fullmatch(value):
        return _when(value)
    if ISO_DAY.fullmatch(value):
        return _day(value)
    if value in VALUES:
        return str(VALUES[value])
    return _dates(value)


def _value(key, value, accounts=None):
    field = key.rsplit('.', 1)[-1]
    accounts = accounts or {}
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            return ' | '.join(str(_one(field, v, accounts)) for v in value)
        return ', '.join(str(_one(field, v, accounts)) for v in value)
    return _one(field, value, accounts)


def render(entries, rfc4180=False, accounts=None):
    """``accounts``: {account id: how to name it} (a name, else the e-mail address)."""
    flats = [flatten(e['data']) for e in entries]
    keys = sorted({k for flat in flats for k in flat})
    out = io.StringIO()
    writer = csv.writer(out, delimiter=',' if rfc4180 else ';', lineterminator='\r\n')
    writer.writerow([_('Volgnummer'), _('Tijdstip'), _('Persoon'), _('Namens'), _('Procedure'), _('Gebeurtenis')]
                    + headers(keys) + [_('Vorige hash'), _('Hash')])
    for e, flat in zip(entries, flats, strict=True):
        data = [_value(k, flat.get(k), accounts) for k in keys]
        writer.writerow([_cell(v) for v in [e['seq'], _when(e['at']), e['person'], party(e['acting_for']),
                                            e['procedure_id'], event_label(e['event'])] + data
                         + [e['prev_hash'], e['hash']]])
    return ('' if rfc4180 else '\ufeff') + out.getvalue()
