"""Issue 12, point 1: the chain binds the state. `audit verify` replays the entries and compares what they
record with the tables: an answer, a bijlage, a party's dates, a procedure's outcome, a contribution owed or
a document changed with SQL (the entries untouched) is named, as is state that no entry accounts for."""
import json
from datetime import datetime

import pytest
from sqlalchemy import text

from citydeal import cli
from engine import audit
from engine.dates import AMSTERDAM
from engine.models import AuditEntry
from engine.rights import Caller
from tests.conftest import answer, complete_task, consent_all, fired, one_task, open_consultation, start_procedure

NOTE = 'Werkplan 2022\nEen regel.\n'.encode('utf-8')
LETTER = 'Verzoek van BZK, getekend.\n'.encode('utf-8')


def execute(app, sql, **params):
    with app.engine.begin() as connection:
        return connection.execute(text(sql), params)


def scalar(app, sql, **params):
    with app.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def json_value(app, sql, **params):
    """A JSON column's value (PostgreSQL's driver decodes it already, SQLite's gives the text)."""
    value = scalar(app, sql, **params)
    return json.loads(value) if isinstance(value, str) else value


def json_param(app):
    """How a JSON value is written with SQL on this database."""
    return 'CAST(:value AS JSON)' if app.engine.dialect.name == 'postgresql' else ':value'


def as_party(code):
    return Caller.operator_as(code)


@pytest.fixture
def lived_world(databases, loaded_deals, clock):
    """(URL, ids): a copy of the deal that lived (``live``), built once per worker and kind of database."""
    return loaded_deals.world(databases, clock, __name__, live)


@pytest.fixture
def app_url(lived_world):
    """Every test here starts from the deal that lived."""
    return lived_world[0]


@pytest.fixture
def lived(app, lived_world):
    return app, dict(lived_world[1])


def live(app, clock):
    """A deal that lived: an amendment with a letter attached, an objection, a new version, a revised answer
    and a statement with a document, adopted as bijlage 1; an accession (bijlage 2); a request to keep a
    statement confidential, kept; a document on its own; a withdrawal that took effect (a contribution owed);
    yearly cycles and reminders fired by the scheduler on the way."""
    ids = {}
    ids['amendment'] = amendment = app.start('wijziging', as_party('bzk'), {
        'title': 'Werklijn 5: warmte', 'text': 'Voeg werklijn 5 toe.', 'motivation': 'Nieuwe inzichten.'},
        files=[('verzoek.txt', LETTER)])['id']
    open_consultation(app, amendment)
    answer(app, 'zayaz', 'objection', 'Werklijn 5 is te vaag.')
    answer(app, 'arnhem')
    clock.set(datetime(2021, 4, 20, 10, 0, tzinfo=AMSTERDAM))
    app.new_version(amendment, as_party('bzk'), {'text': 'Voeg werklijn 5 (warmtenetten) toe.',
                                                 'motivation': 'Na overleg met Zayaz.'})
    zayaz = one_task(app, party='zayaz')
    answer(app, 'zayaz', 'objection', 'Nog steeds te vaag.')
    app.revise(zayaz['id'], as_party('zayaz'), {'decision': 'consent', 'statement': 'Na overleg: akkoord.'})
    tiwos = one_task(app, party='tiwos')
    app.complete(tiwos['id'], as_party('tiwos'), {'decision': 'consent', 'statement': 'Tiwos stemt in.'},
                 files=[('besluit.txt', 'Besluit van het bestuur.\n'.encode('utf-8'))])
    assert consent_all(app, amendment)['outcome'] == 'adopted'
    ids['secrecy'] = start_procedure(app, 'geheimhouding', by='tiwos', procedure=amendment, party='tiwos',
                                     grounds='Bedrijfsgevoelig.')['id']
    [review] = [t for t in app.tasks(role='projectleider') if t['procedure_id'] == ids['secrecy']]
    complete_task(app, review['id'], 'projectleider', {'decision': 'keep'})
    ids['accession'] = accession = start_procedure(
        app, 'toetreding', applicant='Gemeente Eindhoven', kind='gemeente', representative='de heer R. Thijs',
        contribution='EUR 10.000 per jaar', pledge_eur=10000, pledge_per='year', endorses_goals=True)['id']
    open_consultation(app, accession)
    consent_all(app, accession)
    task = one_task(app, role='projectleider', name='partij_vastleggen')
    assert complete_task(app, task['id'], 'projectleider', {'code': 'eindhoven'})['outcome'] == 'admitted'
    ids['document'] = app.add_document('werkplan.txt', NOTE)['id']
    clock.set(datetime(2021, 11, 30, 15, 0, tzinfo=AMSTERDAM))
    ids['withdrawal'] = withdrawal = start_procedure(app, 'opzegging', by='weert',
                                                     circumstances='Fusie; de wijkaanpak gaat over.')['id']
    task = one_task(app, role='projectleider', name='opzegging_bevestigen')
    complete_task(app, task['id'], 'projectleider', {'deal_stands': 'true', 'note': 'De deal blijft.'})
    clock.set(datetime(2022, 2, 28, 0, 0, 1, tzinfo=AMSTERDAM))
    assert 'timer' in fired(app)
    assert app.show(withdrawal)['contributions_owed'] == [{'party': 'weert', 'year': 2021, 'amount_eur': 10000}]
    return ids


def verdict_of(app):
    verdict = app.verify_audit()
    return verdict, [str(d) for d in verdict.differences]


def caught(app, table, field=None, row=None):
    """The verdict fails and names the difference in ``table`` (and ``field``, ``row``); returns them."""
    verdict, _ = verdict_of(app)
    assert not verdict.ok and verdict.tables_compared, verdict.message
    found = [d for d in verdict.differences if d.table == table and (field is None or d.field == field)
             and (row is None or d.row == row)]
    assert found, verdict.message
    assert verdict.message.startswith('FAILED: the tables differ from what the chain records')
    assert str(found[0]) in verdict.message
    return found


@pytest.mark.rule('Auditors: full, tamper-evident history')
def test_a_deal_that_lived_verifies_clean_and_says_the_tables_match(lived):
    app, ids = lived
    verdict = app.verify_audit()
    assert verdict.ok and verdict.differences == () and verdict.not_compared == (), verdict.message
    first, second = verdict.message.split('\n')
    assert first == f'OK: {verdict.entries} entries, chain intact; head {verdict.entries}:{verdict.head}'
    assert second.startswith('OK: the tables match the chain (')
    assert verdict.rows['answers'] >= 34 and verdict.rows['appendices'] == 2
    assert verdict.rows['contributions_owed'] == 1 and verdict.rows['documents'] == 3
    assert verdict.rows['confidentiality_claims'] == 1 and verdict.rows['parties'] == 18


@pytest.mark.parametrize('sql, table, field', [
    ("UPDATE answers SET decision = 'objection' WHERE party_code = 'zeist'", 'answers', 'decision'),
    ("UPDATE answers SET statement = 'Wij stemmen niet in.' WHERE party_code = 'zeist'", 'answers', 'statement'),
    ("UPDATE answers SET person = 'iemand anders' WHERE party_code = 'zeist'", 'answers', 'person'),
    ("UPDATE answers SET text_sha256 = '" + 'a' * 64 + "' WHERE party_code = 'zeist'", 'answers', 'text_sha256'),
    ("UPDATE answers SET text_sha256 = NULL WHERE party_code = 'bzk'", 'answers', 'text_sha256'),
    ("UPDATE answers SET statement = 'Anders.' WHERE party_code = 'bzk'", 'answers', 'statement'),
    ("DELETE FROM answers WHERE party_code = 'zeist'", 'answers', None),
    ("UPDATE parties SET status = 'active', left_on = NULL WHERE code = 'weert'", 'parties', 'status'),
    ("UPDATE parties SET left_on = NULL WHERE code = 'weert'", 'parties', 'left_on'),
    ("UPDATE parties SET withdrawal_effective_on = '2023-01-01' WHERE code = 'weert'", 'parties',
     'withdrawal_effective_on'),
    ("UPDATE parties SET joined_on = '2021-03-04' WHERE code = 'eindhoven'", 'parties', 'joined_on'),
    ("DELETE FROM parties WHERE code = 'eindhoven'", 'parties', None),
    ("UPDATE procedures SET outcome = 'rejected' WHERE type = 'wijziging'", 'procedures', 'outcome'),
    ("UPDATE procedures SET status = 'cancelled' WHERE type = 'toetreding'", 'procedures', 'status'),
    ("UPDATE appendices SET body = 'Een andere tekst.' WHERE number = 1", 'appendices', 'body'),
    ("UPDATE appendices SET title = 'Wijziging: iets anders' WHERE number = 1", 'appendices', 'title'),
    ("DELETE FROM appendices WHERE number = 2", 'appendices', None),
    ('UPDATE contributions_owed SET amount_eur = 0', 'contributions_owed', 'amount_eur'),
    ('DELETE FROM contributions_owed', 'contributions_owed', None),
    ("UPDATE deals SET end_date = '2030-01-01'", 'deals', 'end_date'),
    ("UPDATE confidentiality_claims SET status = 'lifted'", 'confidentiality_claims', 'status'),
    ("UPDATE documents SET name = 'iets-anders.txt' WHERE id = 1", 'documents', 'name'),
    ("UPDATE documents SET procedure_id = NULL WHERE id = 1", 'documents', 'procedure_id'),
])
def test_a_table_changed_with_sql_is_named(lived, sql, table, field):
    app, _ = lived
    assert app.verify_audit().ok
    execute(app, sql)
    [difference, *_] = caught(app, table, field)
    if field is None:
        assert difference.field is None and 'the table has no such row' in str(difference)
    else:
        assert "the chain says" in str(difference) and 'the table says' in str(difference)
        assert difference.seq is not None and f'(entry {difference.seq})' in str(difference)


def test_a_changed_decision_names_table_row_field_and_both_values(lived):
    app, ids = lived
    execute(app, "UPDATE answers SET decision = 'objection' WHERE party_code = 'zeist' AND procedure_id = :p",
            p=ids['amendment'])
    [difference] = caught(app, 'answers', 'decision')
    assert (difference.row, difference.chain, difference.table_value) == (
        f"procedure {ids['amendment']}, party zeist", 'consent', 'objection')
    assert str(difference).startswith(f"answers (procedure {ids['amendment']}, party zeist) decision: the chain says "
                                      "'consent' (entry ")
    assert str(difference).endswith("the table says 'objection'")


def test_a_document_given_another_documents_hash_is_named(lived):
    """Else `documents get` would serve another file under this name, and the rehash of the store finds nothing
    wrong: the other file is there and matches its hash."""
    app, ids = lived
    other = scalar(app, 'SELECT sha256 FROM documents WHERE id = :id', id=ids['document'])
    execute(app, 'UPDATE documents SET sha256 = :sha WHERE id = 1', sha=other)
    assert app.verify_documents().ok
    [difference] = caught(app, 'documents', 'sha256', row='id 1')
    assert difference.table_value == other


def test_changed_statements_of_a_bijlage_are_named_by_party(lived):
    app, _ = lived
    statements = json_value(app, 'SELECT statements FROM appendices WHERE number = 1')
    zeist = next(s for s in statements if s['party'] == 'zeist')
    zeist['statement'] = 'Zeist maakt bezwaar.'
    execute(app, f'UPDATE appendices SET statements = {json_param(app)} WHERE number = 1',
            value=json.dumps(statements))
    [difference] = caught(app, 'appendices', 'statements[zeist].statement')
    assert 'SHA-256' in str(difference)
    del statements[3]
    execute(app, f'UPDATE appendices SET statements = {json_param(app)} WHERE number = 1',
            value=json.dumps(statements))
    caught(app, 'appendices', 'statements')


def test_a_changed_request_text_is_named(lived):
    app, ids = lived
    request = json_value(app, 'SELECT request FROM procedures WHERE id = :id', id=ids['amendment'])
    request['text'] = 'Schrap werklijn 3.'
    execute(app, f'UPDATE procedures SET request = {json_param(app)} WHERE id = :id', value=json.dumps(request),
            id=ids['amendment'])
    [difference] = caught(app, 'procedures', 'request.text')
    assert difference.chain == 'Voeg werklijn 5 (warmtenetten) toe.' and difference.table_value == 'Schrap werklijn 3.'


def test_rows_no_entry_accounts_for_are_named(lived):
    app, ids = lived
    execute(app, "INSERT INTO contributions_owed (party_code, year, amount_eur, procedure_id, recorded_dt) "
                 "VALUES ('weert', 2022, 10000, :p, '2022-02-27 23:00:01')", p=ids['withdrawal'])
    [difference] = caught(app, 'contributions_owed')
    assert difference.chain is not None and 'no entry of the chain accounts for it' in str(difference)


def test_an_emptied_chain_beside_a_full_register_fails(lived):
    app, _ = lived
    execute(app, 'DELETE FROM audit_entries')
    verdict = app.verify_audit()
    assert not verdict.ok, verdict.message
    assert not verdict.message.startswith('OK')
    tables = {d.table for d in verdict.differences}
    assert {'deals', 'parties', 'procedures', 'answers', 'appendices', 'contributions_owed', 'documents'} <= tables
    assert all('no entry of the chain accounts for it' in str(d) for d in verdict.differences)
    assert '(the chain itself: 0 entries, chain intact' in verdict.message


def test_entries_cut_from_the_end_leave_state_no_entry_accounts_for(lived):
    """Without an anchor a cut end is seen wherever the cut entries changed the register (here the withdrawal
    taking effect); the anchor is still what finds a cut that left no row behind."""
    app, _ = lived
    last = scalar(app, "SELECT MAX(seq) FROM audit_entries WHERE event = 'party_withdrawn'")
    execute(app, 'DELETE FROM audit_entries WHERE seq >= :seq', seq=last)
    caught(app, 'parties', 'status', row='code weert')
    caught(app, 'contributions_owed')


def test_a_broken_chain_is_named_first_and_the_tables_are_not_replayed(lived):
    app, _ = lived
    execute(app, "UPDATE answers SET decision = 'objection' WHERE party_code = 'zeist'")
    execute(app, "UPDATE audit_entries SET person = 'iemand anders' WHERE seq = 5")
    verdict = app.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 5 was changed') and not verdict.tables_compared


def rewrite_chain(app, change):
    """Rewrite every entry's data with ``change(event, data)`` and recompute every hash, as someone who can write
    the whole table would (or as an older version wrote the chain)."""
    with app.unit_of_work() as uow:
        previous = audit.GENESIS
        entries = uow.session.query(AuditEntry).order_by(AuditEntry.seq).all()
        for entry in entries:
            entry.data = change(entry.event, dict(entry.data))
            entry.prev_hash = f'tmp-{entry.seq}'
        uow.session.flush()
        for entry in entries:
            entry.prev_hash = previous
            entry.hash = audit._content_hash(entry.seq, entry.at_dt, entry.person, entry.acting_for,
                                             entry.procedure_id, entry.event, entry.data, previous)
            previous = entry.hash
            uow.session.flush()
        uow.commit()


#: the fields issue 12 added to the entries, by event
ADDED = {'task_completed': ('answer',), 'answer_revised': ('text_sha256',), 'request_registered': ('requester_answer',),
         'appendix_attached': ('body_sha256', 'statement_records'), 'new_version': ('request', 'kept'),
         'confidentiality_withdrawn': ('reason',)}


def strip_to_an_old_chain(app):
    """The chain as a version before issue 12 wrote it: without the fields the replay added, every hash
    recomputed (what an installation upgraded from that version holds)."""
    def without(event, data):
        for key in ADDED.get(event, ()):
            data.pop(key, None)
        return data
    rewrite_chain(app, without)


def test_an_entry_the_replay_cannot_read_is_named_not_raised(lived):
    app, _ = lived
    rewrite_chain(app, lambda event, data: ['not', 'a', 'dict'] if event == 'party_admitted' else data)
    verdict = app.verify_audit()
    assert not verdict.ok and verdict.tables_compared
    [unreadable] = [d for d in verdict.differences if d.table == 'audit_entries']
    assert 'a party_admitted entry the replay cannot read (AttributeError' in str(unreadable)
    assert [d.row for d in verdict.differences if d.table == 'parties'] == ['code eindhoven']


def test_a_chain_written_before_issue_12_still_verifies_and_says_what_it_did_not_compare(lived):
    app, _ = lived
    strip_to_an_old_chain(app)
    verdict = app.verify_audit()
    assert verdict.ok and verdict.differences == (), verdict.message
    assert verdict.message.split('\n')[1].startswith('OK: the tables match the chain (')
    fields = {note.split(' of ')[0] for note in verdict.not_compared}
    assert {'answers.text_sha256', 'answers.statement', 'appendices.body', 'appendices.statements',
            'procedures.request'} <= fields
    assert all('not recorded in the chain before issue 12' in note for note in verdict.not_compared)
    assert all(f'not compared: {note}' in verdict.message for note in verdict.not_compared)
    # what the older entries do record is still compared
    execute(app, "UPDATE answers SET decision = 'objection' WHERE party_code = 'zeist'")
    caught(app, 'answers', 'decision')
    execute(app, "UPDATE answers SET decision = 'consent' WHERE party_code = 'zeist'")
    execute(app, "UPDATE appendices SET statements = " + json_param(app) + " WHERE number = 2", value='[]')
    caught(app, 'appendices', 'statement_parties')


def test_the_command_line_names_every_difference_and_exits_1(lived, capsys):
    app, _ = lived
    args = cli._parser().parse_args(['audit', 'verify'])
    assert cli.run(args, app) == 0
    out = capsys.readouterr().out
    assert out.startswith('OK: ') and '\nOK: the tables match the chain (' in out
    execute(app, 'UPDATE contributions_owed SET amount_eur = 0')
    execute(app, "UPDATE procedures SET outcome = 'rejected' WHERE type = 'wijziging'")
    assert cli.run(args, app) == 1
    out = capsys.readouterr().out
    assert out.startswith('FAILED: the tables differ from what the chain records: 2 difference(s)')
    assert "\n- contributions_owed (party weert, year 2021, procedure " in out and 'amount_eur: the chain says 10000' in out
    assert "outcome: the chain says 'adopted'" in out and "the table says 'rejected'" in out
    args = cli._parser().parse_args(['audit', 'verify', '--json'])
    assert cli.run(args, app) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown['ok'] is False and shown['tables']['compared'] is True
    assert {(d['table'], d['field'], d['chain'], d['table_value']) for d in shown['tables']['differences']} == {
        ('contributions_owed', 'amount_eur', 10000, 0), ('procedures', 'outcome', 'adopted', 'rejected')}


def test_the_audit_page_shows_the_differences(lived, make_site):
    from tests.web_support import browser
    app, _ = lived
    execute(app, "UPDATE answers SET decision = 'objection' WHERE party_code = 'zeist'")
    auditor = browser(make_site(), 'auditor')
    page = auditor.get('/audit').get_data(as_text=True)
    assert 'NIET in orde: de database wijkt af' in page and 'the tables differ from what the chain records' in page
    assert 'party zeist) decision: the chain says' in page
