"""The chain binds the state: replay the audit entries and compare what they imply with the tables.

The hash chain (engine.audit) proves that no entry was changed, removed or inserted. It says nothing of
the tables beside it: an answer, a bijlage or a party's dates changed with SQL leave every entry intact.
``compare`` walks the entries in order and rebuilds what they record:

- ``deals``: start and end date, status, the day and the reason it ended;
- ``parties``: status, joined_on, left_on, withdrawal_effective_on;
- ``procedures``: type, status, outcome, when it started and ended, the request (its text and versions);
- ``answers``: per procedure and party the decision, statement, person, the text answered
  (``text_sha256``), the task and the moment;
- ``appendices`` (bijlagen): number, procedure, title, the body's SHA-256, every statement (party, name,
  representative, date, decision, the statement's SHA-256), the moment of adoption;
- ``contributions_owed``: party, year, procedure, amount, moment;
- ``documents``: hash, name, media type, size, procedure, purpose, who uploaded it for whom, when;
- ``confidentiality_claims``: scope, who asked, grounds, status, reason, moments.

Then every row of those tables is compared with it, field by field. A row the chain records that the
table lacks, a row no entry accounts for (an emptied or cut chain beside a full register), and a field that
differs are each named: table, row, field, what the chain says (and which entry said it), what the table
says.

Entries written before issue 12 carry less (no text hash on an answer, no body hash or statement texts on
a bijlage, no statement of the requester's own consent). A field such an entry leaves unknown is not
compared, and the verdict says which fields of how many rows were not compared and why: never a
difference.
"""
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Date, DateTime, JSON, String, Text, cast, select

from engine.models import Answer, Appendix, ConfidentialityClaim, ContributionOwed, Deal, Document, Party, Procedure

#: what the older entries lack is named by this: the version from which the chain records it
SINCE = 'issue 12'


class _Unrecorded:
    """A field the entry that set it did not carry (written before issue 12): not compared."""

    def __repr__(self):
        return 'unrecorded'


UNRECORDED = _Unrecorded()

class _Absent:
    def __repr__(self):
        return 'absent'


#: a row the chain records but the table lacks (or the other way round)
ABSENT = _Absent()

#: the consent task whose completion records an answer
CONSENT_TASK = 'instemming_geven'


def _consent_round_types():
    """Procedure types whose written request is the requester's own consent (engine.procedures.consent_round)."""
    from engine import procedures as registry
    return {t.id for t in registry.all_types() if CONSENT_TASK in t.forms}


@dataclass(frozen=True)
class Difference:
    table: str
    row: str
    #: None when the whole row is missing on one side
    field: str | None
    #: what the chain says (ABSENT: no such row)
    chain: object
    #: what the table says (ABSENT: no such row)
    table_value: object
    #: the entry that last set the chain's value (None: no entry accounts for the row)
    seq: int | None
    #: said instead of the two values (an entry the replay could not read)
    note: str | None = None

    def __str__(self):
        where = f'{self.table} ({self.row})' + (f' {self.field}' if self.field else '')
        if self.note:
            return f'{where}: {self.note}'
        if self.table_value is ABSENT:
            return f'{where}: the chain records this row (entry {self.seq}), the table has no such row'
        if self.chain is ABSENT:
            return f'{where}: the table has this row, no entry of the chain accounts for it'
        return (f'{where}: the chain says {_shown(self.chain)} (entry {self.seq}), '
                f'the table says {_shown(self.table_value)}')

    def as_dict(self):
        return {'table': self.table, 'row': self.row, 'field': self.field,
                'chain': None if self.chain is ABSENT else _plain(self.chain),
                'table_value': None if self.table_value is ABSENT else _plain(self.table_value),
                'missing_in': None if self.note else 'table' if self.table_value is ABSENT else
                'chain' if self.chain is ABSENT else None,
                'entry': self.seq, 'message': str(self)}


@dataclass(frozen=True)
class Result:
    differences: tuple
    #: "answers.text_sha256 of 3 rows: ..." for every field older entries leave unknown
    not_compared: tuple
    #: rows compared per table
    counts: dict

    @property
    def ok(self):
        return not self.differences


class _Sha:
    """A text the chain holds by its SHA-256: compared with the hash of the table's text."""
    __slots__ = ('digest',)

    def __init__(self, digest):
        self.digest = digest

    def __eq__(self, other):
        return isinstance(other, _Sha) and other.digest == self.digest

    def __repr__(self):
        return f'text with SHA-256 {self.digest}'


def sha256_of(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _plain(value):
    """A value as JSON gives it: a text held by its hash as {"sha256": ...}, a moment in ISO 8601."""
    if isinstance(value, _Sha):
        return {'sha256': value.digest}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _shown(value):
    if value is None:
        return 'NULL'
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, _Sha):
        return repr(value)
    text = repr(value) if isinstance(value, str) else json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + '...'


# --- what the chain says -------------------------------------------------------------------------------

class _Rows:
    """One table as the chain records it: key -> {field: (value, seq)}, and the entry that made the row."""

    def __init__(self, name):
        self.name, self.rows, self.origin = name, {}, {}

    def put(self, key, seq, **fields):
        self.rows[key] = {f: (v, seq) for f, v in fields.items()}
        self.origin[key] = seq

    def set(self, key, seq, **fields):
        if key not in self.rows:
            self.rows[key], self.origin[key] = {}, seq
        self.rows[key].update({f: (v, seq) for f, v in fields.items()})

    def get(self, key, field):
        return self.rows.get(key, {}).get(field, (UNRECORDED, None))[0]


class _Chain:
    def __init__(self):
        self.tables = {name: _Rows(name) for name in TABLES}
        self.deal = None
        #: procedure id -> (type, requester): what its start said, for later entries that need it
        self.started = {}
        self.contributions = defaultdict(list)
        #: entries whose data the replay could not read (only a chain rewritten by hand holds such)
        self.unreadable = []

    def __getitem__(self, name):
        return self.tables[name]

    def play(self, entry):
        handler = HANDLERS.get(entry.event)
        if handler is None:
            return
        try:
            handler(self, entry)
        except Exception as err:  # noqa: BLE001 - named as a difference, never raised
            words = ' '.join(str(err).split())
            self.unreadable.append(Difference(
                'audit_entries', f'seq {entry.seq}', 'data', ABSENT, ABSENT, entry.seq,
                note=f'a {entry.event} entry the replay cannot read ({type(err).__name__}: {words}); what it '
                     'records is not compared'))


def _deal_loaded(chain, e):
    d = e.data
    chain.deal = d.get('slug')
    chain['deals'].put(chain.deal, e.seq, start_date=d.get('start'), end_date=d.get('end'), status='active',
                       ended_on=None, ended_reason=None)
    for code in d.get('parties') or ():
        chain['parties'].put(code, e.seq, status='active', joined_on=d.get('start'), left_on=None,
                             withdrawal_effective_on=None)


def _term_changed(chain, e):
    chain['deals'].set(chain.deal, e.seq, end_date=e.data.get('new_end'))


def _deal_ended(chain, e):
    d = e.data
    chain['deals'].set(chain.deal, e.seq, status='ended', end_date=d.get('end_date'), ended_on=d.get('ended_on'),
                       ended_reason=d.get('reason'))
    for owed in d.get('contributions_owed') or ():
        _owed(chain, e, owed.get('party'), owed)


def _owed(chain, e, party, owed):
    chain.contributions[(party, owed.get('year'), e.procedure_id)].append(
        {'amount_eur': (owed.get('amount_eur'), e.seq), 'recorded_dt': (e.at, e.seq)})


def _party_admitted(chain, e):
    chain['parties'].put(e.data.get('code'), e.seq, status='active', joined_on=e.data.get('joined_on'),
                         left_on=None, withdrawal_effective_on=None)


def _party_withdrawing(chain, e):
    chain['parties'].set(e.data.get('party'), e.seq, status='withdrawing',
                         withdrawal_effective_on=e.data.get('effective_date'))


def _party_withdrawn(chain, e):
    chain['parties'].set(e.data.get('party'), e.seq, status='withdrawn', left_on=e.data.get('left_on'))
    if e.data.get('contribution_owed') is not None:
        _owed(chain, e, e.data.get('party'), e.data['contribution_owed'])


def _procedure_started(chain, e):
    type_, request = e.data.get('type'), e.data.get('request')
    requester = request.get('requester') if isinstance(request, dict) else None
    chain.started[e.procedure_id] = (type_, requester)
    chain['procedures'].put(e.procedure_id, e.seq, type=type_, status='running', outcome=None, started_dt=e.at,
                            ended_dt=None, request=request)
    if type_ in _consent_round_types() and requester:
        # The written request is the requester's own consent (consent_round.launch). What it says and the
        # text it binds to come with the registration's entry (request_registered's ``requester_answer``).
        chain['answers'].put((e.procedure_id, requester), e.seq, task_id=None, decision='consent',
                             statement=UNRECORDED, person=e.person, text_sha256=UNRECORDED, answered_dt=e.at)


def _request_registered(chain, e):
    own = e.data.get('requester_answer')
    if isinstance(own, dict):
        chain['answers'].set((e.procedure_id, own.get('party')), e.seq, decision=own.get('decision'),
                             statement=own.get('statement'), person=own.get('person'),
                             text_sha256=own.get('text_sha256'))


def _procedure_completed(chain, e):
    chain['procedures'].set(e.procedure_id, e.seq, status='completed', outcome=e.data.get('outcome'), ended_dt=e.at)


def _procedure_cancelled(chain, e):
    chain['procedures'].set(e.procedure_id, e.seq, status='cancelled', ended_dt=e.at)


def _task_completed(chain, e):
    d = e.data
    answer = d.get('answer')
    key = (e.procedure_id, d.get('party'))
    if isinstance(answer, dict):
        chain['answers'].put(key, e.seq, task_id=d.get('task_id'), decision=answer.get('decision'),
                             statement=answer.get('statement'), person=answer.get('person'),
                             text_sha256=answer.get('text_sha256'), answered_dt=e.at)
    elif d.get('task') == CONSENT_TASK and d.get('party'):
        # Before issue 12: the values as typed; an empty statement became the type's default, unrecorded.
        values = d.get('values') or {}
        chain['answers'].put(key, e.seq, task_id=d.get('task_id'), decision=values.get('decision'),
                             statement=values.get('statement') or UNRECORDED, person=e.person,
                             text_sha256=UNRECORDED, answered_dt=e.at)


def _answer_revised(chain, e):
    d = e.data
    new = d.get('new') or {}
    chain['answers'].set((e.procedure_id, d.get('party')), e.seq, decision=new.get('decision'),
                         statement=new.get('statement'), person=e.person, answered_dt=e.at,
                         text_sha256=d.get('text_sha256', UNRECORDED))


def _new_version(chain, e):
    d = e.data
    procedures, answers = chain['procedures'], chain['answers']
    request = d.get('request', UNRECORDED)
    procedures.set(e.procedure_id, e.seq, request=request)
    for party in d.get('voided') or ():
        answers.set((e.procedure_id, party), e.seq, decision='void')
    # whose consent goes with the new version: its requester, when it put the version itself
    _, requester = chain.started.get(e.procedure_id, (None, None))
    kept = d['kept'] if 'kept' in d else (requester if e.acting_for == requester else None)
    if kept and (e.procedure_id, kept) in answers.rows:
        answers.set((e.procedure_id, kept), e.seq, text_sha256=d.get('sha256', UNRECORDED), answered_dt=e.at)


def _notice_acknowledged(chain, e):
    if e.data.get('deal_stands') is False:
        request = chain['procedures'].get(e.procedure_id, 'request')
        if isinstance(request, dict):
            chain['procedures'].set(e.procedure_id, e.seq,
                                    request=dict(request, deal_does_not_stand=e.data.get('reason')))


def _appendix_attached(chain, e):
    d = e.data
    records = d.get('statement_records')
    chain['appendices'].put(
        d.get('number'), e.seq, procedure_id=e.procedure_id, title=d.get('title'),
        body=_Sha(d['body_sha256']) if 'body_sha256' in d else UNRECORDED,
        statements=[_statement_record(r) for r in records] if isinstance(records, list) else UNRECORDED,
        # the parties alone, as every entry recorded them; compared only where the full records are missing
        statement_parties=list(d.get('statements') or ()) if records is None else _SKIP,
        adopted_dt=e.at)


def _statement_record(record):
    record = dict(record)
    digest = record.pop('statement_sha256', None)
    record['statement'] = _Sha(digest)
    return record


def _document_added(chain, e):
    d = e.data
    chain['documents'].put(d.get('id'), e.seq, sha256=d.get('sha256'), name=d.get('name'),
                           media_type=d.get('media_type'), size=d.get('size'), procedure_id=e.procedure_id,
                           purpose=d.get('purpose', ''), uploaded_by=e.person, uploaded_for=e.acting_for,
                           uploaded_dt=e.at)


def _document_attached(chain, e):
    documents = chain['documents']
    purpose = e.data.get('purpose') or ''
    for d in e.data.get('documents') or ():
        fields = {'procedure_id': e.procedure_id}
        if purpose:
            fields['purpose'] = purpose
        documents.set(d.get('id'), e.seq, **fields)


def _confidentiality_requested(chain, e):
    d = e.data
    _, requester = chain.started.get(e.procedure_id, (None, UNRECORDED))
    chain['confidentiality_claims'].put(e.procedure_id, e.seq, procedure_id=d.get('procedure'),
                                        statement_of=d.get('statement_of'), requested_by=requester,
                                        grounds=d.get('grounds'), status='requested', reason=None,
                                        requested_dt=e.at, decided_dt=None)


def _decided(status):
    def handler(chain, e):
        chain['confidentiality_claims'].set(e.procedure_id, e.seq, status=status, reason=e.data.get('reason'),
                                            decided_dt=e.at)
    return handler


def _confidentiality_withdrawn(chain, e):
    chain['confidentiality_claims'].set(e.data.get('request_procedure'), e.seq, status='lifted',
                                        reason=e.data.get('reason', UNRECORDED), decided_dt=e.at)


HANDLERS = {
    'deal_loaded': _deal_loaded, 'term_changed': _term_changed, 'deal_ended': _deal_ended,
    'party_admitted': _party_admitted, 'party_withdrawing': _party_withdrawing, 'party_withdrawn': _party_withdrawn,
    'procedure_started': _procedure_started, 'request_registered': _request_registered,
    'procedure_completed': _procedure_completed, 'procedure_cancelled': _procedure_cancelled,
    'task_completed': _task_completed, 'answer_revised': _answer_revised, 'new_version': _new_version,
    'notice_acknowledged': _notice_acknowledged, 'appendix_attached': _appendix_attached,
    'document_added': _document_added, 'document_attached': _document_attached,
    'confidentiality_requested': _confidentiality_requested, 'confidentiality_kept': _decided('kept'),
    'confidentiality_lifted': _decided('lifted'), 'confidentiality_withdrawn': _confidentiality_withdrawn,
}


class _Skip:
    def __repr__(self):
        return 'skip'


#: a field not compared for this row, without a note (the chain records it another way)
_SKIP = _Skip()


# --- what the tables say -------------------------------------------------------------------------------

def _column(column):
    """Dates, moments and JSON read as text, so that a value changed into nonsense is named, not raised."""
    kind = column.type
    if isinstance(kind, (Date, DateTime)) or getattr(kind, 'impl', None) is not None and \
            isinstance(kind.impl, DateTime):
        return cast(column, String)
    if isinstance(kind, JSON):
        return cast(column, Text)
    return column


def _moment(text):
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return text


def _json(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _read(session, model, names):
    columns = [getattr(model, n) for n in names]
    for row in session.execute(select(*[_column(c) for c in columns])):
        values = {}
        for column, value in zip(columns, row, strict=True):
            kind = column.type
            if isinstance(kind, DateTime) or isinstance(getattr(kind, 'impl', None), DateTime):
                value = _moment(value)
            elif isinstance(kind, JSON):
                value = _json(value)
            values[column.key] = value
        yield values


def _table_deals(session):
    for r in _read(session, Deal, ('slug', 'start_date', 'end_date', 'status', 'ended_on', 'ended_reason')):
        yield r.pop('slug'), r


def _table_parties(session):
    for r in _read(session, Party, ('code', 'status', 'joined_on', 'left_on', 'withdrawal_effective_on')):
        yield r.pop('code'), r


def _table_procedures(session):
    for r in _read(session, Procedure, ('id', 'type', 'status', 'outcome', 'started_dt', 'ended_dt', 'request')):
        yield r.pop('id'), r


def _table_answers(session):
    for r in _read(session, Answer, ('procedure_id', 'party_code', 'task_id', 'decision', 'statement', 'person',
                                     'text_sha256', 'answered_dt')):
        yield (r.pop('procedure_id'), r.pop('party_code')), r


def _table_appendices(session):
    for r in _read(session, Appendix, ('number', 'procedure_id', 'title', 'body', 'statements', 'adopted_dt')):
        body, statements = r['body'], r['statements']
        r['body'] = _Sha(sha256_of(body)) if isinstance(body, str) else body
        if isinstance(statements, list):
            r['statements'] = [dict(s, statement=_Sha(sha256_of(s['statement'])))
                               if isinstance(s, dict) and isinstance(s.get('statement'), str) else s
                               for s in statements]
            r['statement_parties'] = [s.get('party') if isinstance(s, dict) else s for s in statements]
        else:
            r['statement_parties'] = statements
        yield r.pop('number'), r


def _table_documents(session):
    for r in _read(session, Document, ('id', 'sha256', 'name', 'media_type', 'size', 'procedure_id', 'purpose',
                                       'uploaded_by', 'uploaded_for', 'uploaded_dt')):
        yield r.pop('id'), r


def _table_claims(session):
    for r in _read(session, ConfidentialityClaim, ('handled_by', 'procedure_id', 'statement_of', 'requested_by',
                                                   'grounds', 'status', 'reason', 'requested_dt', 'decided_dt')):
        yield r.pop('handled_by'), r


def _table_contributions(session):
    groups = defaultdict(list)
    for r in _read(session, ContributionOwed, ('party_code', 'year', 'procedure_id', 'amount_eur', 'recorded_dt')):
        groups[(r.pop('party_code'), r.pop('year'), r.pop('procedure_id'))].append(r)
    for key, rows in groups.items():
        for n, r in enumerate(sorted(rows, key=lambda r: (str(r['recorded_dt']), str(r['amount_eur'])))):
            yield (*key, n), r


TABLES = {
    'deals': _table_deals, 'parties': _table_parties, 'procedures': _table_procedures, 'answers': _table_answers,
    'appendices': _table_appendices, 'contributions_owed': _table_contributions, 'documents': _table_documents,
    'confidentiality_claims': _table_claims,
}

_ROW_NAMES = {
    'deals': lambda k: f'slug {k}', 'parties': lambda k: f'code {k}', 'procedures': lambda k: f'id {k}',
    'answers': lambda k: f'procedure {k[0]}, party {k[1]}', 'appendices': lambda k: f'bijlage {k}',
    'contributions_owed': lambda k: f'party {k[0]}, year {k[1]}, procedure {k[2]}' + (f', #{k[3] + 1}' if k[3] else ''),
    'documents': lambda k: f'id {k}', 'confidentiality_claims': lambda k: f'handled by procedure {k}',
}


# --- the comparison ------------------------------------------------------------------------------------

def _equal(chain, table):
    if isinstance(chain, bool) or isinstance(table, bool):
        return type(chain) is type(table) and chain == table
    return chain == table


def _field_differences(table, row, field, chain, actual, seq):
    """One field; a JSON value (a request, a bijlage's statements) is named down to the part that differs."""
    if _equal(chain, actual):
        return
    if isinstance(chain, dict) and isinstance(actual, dict):
        for key in sorted(set(chain) | set(actual), key=str):
            yield from _field_differences(table, row, f'{field}.{key}', chain.get(key), actual.get(key), seq)
        return
    if isinstance(chain, list) and isinstance(actual, list) and len(chain) == len(actual):
        for index, (a, b) in enumerate(zip(chain, actual, strict=True)):
            label = a.get('party') if isinstance(a, dict) and isinstance(b, dict) and a.get('party') == \
                b.get('party') and a.get('party') else index
            yield from _field_differences(table, row, f'{field}[{label}]', a, b, seq)
        return
    yield Difference(table, row, field, chain, actual, seq)


def _expected_contributions(chain):
    rows = chain['contributions_owed']
    for key, items in chain.contributions.items():
        for n, fields in enumerate(sorted(items, key=lambda f: (str(f['recorded_dt'][0]), str(f['amount_eur'][0])))):
            rows.rows[(*key, n)] = fields
            rows.origin[(*key, n)] = fields['amount_eur'][1]


def compare(session, entries):
    """Replay ``entries`` (in order, each with seq, at, person, acting_for, procedure_id, event, data) and
    compare with the tables. Returns a Result."""
    chain = _Chain()
    for entry in entries:
        chain.play(entry)
    _expected_contributions(chain)
    differences, unrecorded, counts = list(chain.unreadable), Counter(), {}
    for name, read in TABLES.items():
        expected = chain[name]
        actual = dict(read(session))
        counts[name] = len(actual)
        names = _ROW_NAMES[name]
        for key in sorted(set(expected.rows) | set(actual), key=_sort_key):
            if key not in actual:
                differences.append(Difference(name, names(key), None, 'present', ABSENT, expected.origin[key]))
                continue
            if key not in expected.rows:
                differences.append(Difference(name, names(key), None, ABSENT, 'present', None))
                continue
            for field, value in actual[key].items():
                chain_value, seq = expected.rows[key].get(field, (UNRECORDED, None))
                if chain_value is _SKIP:
                    continue
                if chain_value is UNRECORDED:
                    unrecorded[(name, field)] += 1
                    continue
                differences.extend(_field_differences(name, names(key), field, chain_value, value, seq))
    notes = tuple(f'{table}.{field} of {count} row(s): not recorded in the chain before {SINCE} (written by '
                  f'an earlier version)' for (table, field), count in sorted(unrecorded.items()))
    return Result(tuple(differences), notes, counts)


def _sort_key(key):
    return tuple(str(part).zfill(12) if isinstance(part, int) else str(part) for part in
                 (key if isinstance(key, tuple) else (key,)))
