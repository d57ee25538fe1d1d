"""The audit chain: every change is logged, and tampering is found and named."""
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from engine import audit
from engine.models import AuditEntry

from tests.conftest import consent_all, open_consultation, start_amendment


@pytest.fixture
def logged(app):
    pid = start_amendment(app)
    open_consultation(app, pid)
    consent_all(app, pid)
    return app


def execute(app, sql, **params):
    with app.engine.begin() as connection:
        connection.execute(text(sql), params)


@pytest.mark.rule('Auditors: full, tamper-evident history')
def test_every_step_is_logged_with_person_and_party_and_the_chain_verifies(logged):
    entries = logged.audit()
    assert entries[0]['event'] == 'deal_loaded'
    completed = [e for e in entries if e['event'] == 'task_completed']
    assert len(completed) == 17  # the projectleider's opening and 16 answers
    assert {e['acting_for'] for e in completed} >= {'projectleider', 'zeist', 'tiwos'}
    verdict = logged.verify_audit()
    assert verdict.ok and verdict.entries == len(entries)
    assert verdict.message.split('\n') == [f'OK: {len(entries)} entries, chain intact; head {len(entries)}:{verdict.head}',
                                           'OK: the tables match the chain (rows: deals 1, parties 17, '
                                           'procedures 1, answers 17, appendices 1)']


def test_a_changed_entry_is_named(logged):
    execute(logged, "UPDATE audit_entries SET person = 'iemand anders' WHERE seq = 5")
    verdict = logged.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 5 was changed')


def test_a_removed_entry_is_named(logged):
    execute(logged, 'DELETE FROM audit_entries WHERE seq = 7')
    verdict = logged.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 7 was removed')


def test_an_inserted_entry_is_named(logged):
    count = len(logged.audit())
    # Make room at seq 4, then slip in an entry whose own hash is consistent.
    execute(logged, 'UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 4')
    execute(logged, 'UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1004')
    with logged.unit_of_work() as uow:
        at = uow.session.get(AuditEntry, 3).at_dt
        forged_prev = 'f' * 64
        uow.session.add(AuditEntry(seq=4, at_dt=at, person='x', acting_for='bzk', procedure_id=None, event='forged',
                                   data={}, prev_hash=forged_prev,
                                   hash=audit._content_hash(4, at, 'x', 'bzk', None, 'forged', {}, forged_prev)))
        uow.commit()
    assert len(logged.audit()) == count + 1
    verdict = logged.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 4 was inserted')


def test_the_chain_cannot_fork(logged):
    """Two entries can never follow the same hash: a concurrent writer fails instead of forking."""
    with logged.unit_of_work() as uow:
        last = uow.session.get(AuditEntry, 3)
        uow.session.add(AuditEntry(seq=999, at_dt=last.at_dt, person='x', acting_for='bzk', event='fork', data={},
                                   prev_hash=last.prev_hash, hash='0'))
        with pytest.raises(IntegrityError):
            uow.commit()


def test_a_changed_entry_with_recomputed_hash_is_named(logged):
    with logged.unit_of_work() as uow:
        entry = uow.session.get(AuditEntry, 5)
        entry.person = 'iemand anders'
        entry.hash = audit._content_hash(5, entry.at_dt, entry.person, entry.acting_for, entry.procedure_id,
                                         entry.event, entry.data, entry.prev_hash)
        uow.commit()
    verdict = logged.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 5 was changed')


def test_entries_cut_from_the_end_are_found_against_a_kept_anchor(logged):
    with logged.unit_of_work() as uow:  # an entry that changed no table: a reminder sent
        audit.append(uow.session, at=uow.now, person='scheduler', acting_for='scheduler', event='reminder_sent',
                     data={'to': 'zeist'})
        uow.commit()
    anchor = logged.verify_audit()
    assert anchor.message.split('\n')[0].endswith(f'head {anchor.entries}:{anchor.head}')
    execute(logged, 'DELETE FROM audit_entries WHERE seq = :seq', seq=anchor.entries)
    assert logged.verify_audit().ok  # without an anchor a cut end that left no row behind cannot be seen
    verdict = logged.verify_audit((anchor.entries, anchor.head))
    assert not verdict.ok and verdict.message.startswith(f'entry {anchor.entries} is missing')


def test_entries_cut_from_the_end_that_changed_the_tables_are_found_without_an_anchor(logged):
    """Issue 12: the last entry completed the procedure; cut, the procedure's row is one the chain does not
    account for."""
    [last] = logged.audit()[-1:]
    assert last['event'] == 'procedure_completed'
    execute(logged, 'DELETE FROM audit_entries WHERE seq = :seq', seq=last['seq'])
    verdict = logged.verify_audit()
    assert not verdict.ok and [(d.table, d.field, d.chain, d.table_value) for d in verdict.differences] == [
        ('procedures', 'status', 'running', 'completed'), ('procedures', 'outcome', None, 'adopted'),
        ('procedures', 'ended_dt', None, verdict.differences[2].table_value)]


def test_an_unreadable_entry_is_named_not_crashed_on(logged):
    if logged.engine.dialect.name == 'postgresql':
        pytest.skip("PostgreSQL's json type refuses to store an unreadable value in the first place")
    execute(logged, "UPDATE audit_entries SET data = '{not json' WHERE seq = 6")
    verdict = logged.verify_audit()
    assert not verdict.ok and verdict.message.startswith('entry 6 was changed: its stored values are unreadable')


def test_a_command_takes_the_chains_lock_once_however_many_entries_it_appends(app):
    """PostgreSQL: the unit of work takes the lock first, and each append asks for it again in the same
    transaction; a second request for it would be a round trip that changes nothing. A new transaction
    takes it anew."""
    pid = start_amendment(app)
    locks = []

    def count(conn, cursor, statement, *args):
        if 'pg_advisory_xact_lock' in statement:
            locks.append(statement)
    event.listen(app.engine, 'before_cursor_execute', count)
    try:
        open_consultation(app, pid)  # one command that appends several entries
        with app.unit_of_work() as uow:
            audit.append(uow.session, at=uow.now, person='test', acting_for='test', event='one', data={})
            audit.append(uow.session, at=uow.now, person='test', acting_for='test', event='two', data={})
            uow.commit()
            audit.append(uow.session, at=uow.now, person='test', acting_for='test', event='three', data={})
            uow.commit()
    finally:
        event.remove(app.engine, 'before_cursor_execute', count)
    assert len(locks) == (3 if app.engine.dialect.name == 'postgresql' else 0)
    assert app.verify_audit().ok
