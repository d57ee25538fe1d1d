"""The append-only audit chain: each entry holds the SHA-256 of its content and of its predecessor."""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import String, Text, cast, select, text

from engine import replay
from engine.dates import shown
from engine.models import AuditEntry

GENESIS = '0' * 64


def _content_hash(seq, at_dt, person, acting_for, procedure_id, event, data, prev_hash):
    content = json.dumps({
        'seq': seq, 'at': at_dt.isoformat(), 'person': person, 'acting_for': acting_for,
        'procedure_id': procedure_id, 'event': event, 'data': data, 'prev_hash': prev_hash,
    }, sort_keys=True, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(content.encode('utf-8')).hexdigest()


#: any constant; names the PostgreSQL advisory lock that orders appends to the chain
CHAIN_LOCK = 7_203_2021


def lock_chain(session):
    """PostgreSQL: hold the chain's lock to the end of the transaction. Asked again in the same
    transaction (every writing unit of work takes it first, and each append asks), nothing is sent."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get('chain_locked_in') is transaction:
        return
    session.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': CHAIN_LOCK})
    session.info['chain_locked_in'] = session.get_transaction()


def append(session, *, at, person, acting_for, event, data, procedure_id=None):
    if session.get_bind().dialect.name == 'postgresql':
        # Two transactions must not both read the same head; SQLite's BEGIN IMMEDIATE already orders them.
        lock_chain(session)
    seq, prev_hash = head(session)
    seq += 1
    # JSON round trip so the hash covers exactly what the database gives back
    data = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    entry = AuditEntry(seq=seq, at_dt=at, person=person, acting_for=acting_for, procedure_id=procedure_id,
                       event=event, data=data, prev_hash=prev_hash,
                       hash=_content_hash(seq, at, person, acting_for, procedure_id, event, data, prev_hash))
    session.add(entry)
    session.flush()
    session.info['appended'] = (session.get_transaction(), entry.seq, entry.hash)
    return entry


def head(session):
    """(seq, hash) of the chain's last entry, (0, GENESIS) while it is empty: the anchor a party keeps.
    Right after an append in the same transaction it is that entry: no other writer can append meanwhile
    (the chain's lock on PostgreSQL, SQLite's one writer), so it is not read back."""
    appended = session.info.get('appended')
    if appended is not None and appended[0] is session.get_transaction():
        return appended[1], appended[2]
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def parse_anchor(raw, field='anchor'):
    """``SEQ:HASH`` as `audit verify` prints it and messages carry it, as (seq, hash)."""
    from engine.errors import CommandRefused
    seq, sep, hash_ = (raw or '').strip().partition(':')
    hash_ = hash_.lower()
    if not sep or not seq.isdigit() or len(hash_) != 64 or any(c not in '0123456789abcdef' for c in hash_):
        raise CommandRefused.one('cli.not_an_anchor', field, anchor=raw)
    return int(seq), hash_


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    message: str
    head: str = GENESIS
    #: engine.replay.Difference: where the tables differ from what the chain records (issue 12)
    differences: tuple = ()
    #: fields the older entries leave unknown, so not compared: said, never a difference
    not_compared: tuple = ()
    #: the chain was replayed and compared with the tables (not when the chain itself is broken)
    tables_compared: bool = False
    #: rows compared, per table
    rows: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    person: str
    acting_for: str
    procedure_id: int
    event: str
    data: dict


def _stored_entries(session):
    """Entries as stored, read as text so that a corrupted value is reported, not raised."""
    columns = (AuditEntry.seq, cast(AuditEntry.at_dt, String), AuditEntry.person, AuditEntry.acting_for,
               AuditEntry.procedure_id, AuditEntry.event, cast(AuditEntry.data, Text), AuditEntry.prev_hash,
               AuditEntry.hash)
    for seq, at_text, person, acting_for, procedure_id, event, data_text, prev_hash, hash_ in \
            session.execute(select(*columns).order_by(AuditEntry.seq)):
        try:
            at = datetime.fromisoformat(at_text).replace(tzinfo=timezone.utc)
            data = json.loads(data_text)
        except (TypeError, ValueError) as err:
            yield seq, None, f'entry {seq} was changed: its stored values are unreadable ({err})'
            continue
        recomputed = _content_hash(seq, at, person, acting_for, procedure_id, event, data, prev_hash)
        yield seq, (prev_hash, hash_, recomputed, Entry(seq, at, person, acting_for, procedure_id, event, data)), None


#: differences named in the message itself; `audit verify --json` lists them all
SHOWN_DIFFERENCES = 40


def verify(session, anchor=None, tables=True):
    """Walk the chain in order; name the first entry that was changed, removed or inserted. Then replay
    it and compare what it records with the tables (engine.replay): name every difference.

    The chain proves that nothing changed *before* its last entry. That the last entries were not
    cut off needs a hash kept elsewhere: ``anchor`` is (seq, hash) as an earlier verify printed it. (Cut
    entries whose effects are still in the tables show as rows no entry accounts for.)
    """
    entries = []
    for seq, hashes, unreadable in _stored_entries(session):
        if unreadable:
            return Verdict(False, len(entries) + 1, unreadable)
        entries.append((seq, *hashes))
    previous_hash, expected_seq = GENESIS, 1
    for index, (seq, prev_hash, hash_, recomputed, _) in enumerate(entries):
        if recomputed != hash_:
            return Verdict(False, index + 1, f'entry {seq} was changed: its content does not match its hash')
        if prev_hash != previous_hash:
            following = entries[index + 1][1] if index + 1 < len(entries) else None
            if following == previous_hash:
                message = f'entry {seq} was inserted: the entry after it follows entry {expected_seq - 1}'
            elif seq > expected_seq:
                message = f'entry {expected_seq} was removed: entry {seq} follows a hash that is not in the chain'
            else:
                message = (f'entry {expected_seq - 1} was changed and its hash recomputed: entry {seq} '
                           f'does not follow it')
            return Verdict(False, index + 1, message)
        if seq != expected_seq:
            return Verdict(False, index + 1, f'entry {seq} was inserted out of sequence (expected {expected_seq})')
        previous_hash, expected_seq = hash_, seq + 1
    if anchor is not None:
        anchor_seq, anchor_hash = anchor
        held = {seq: hash_ for seq, _, hash_, _, _ in entries}
        if held.get(anchor_seq) != anchor_hash:
            found = 'is missing' if anchor_seq not in held else 'has another hash'
            return Verdict(False, len(entries), f'entry {anchor_seq} {found}: the chain no longer matches the '
                                                'anchor kept outside the database (entries cut from the end, '
                                                'or the chain rewritten)')
    intact = f'{len(entries)} entries, chain intact; head {len(entries)}:{previous_hash}'
    if not tables:
        return Verdict(True, len(entries), f'OK: {intact}', previous_hash)
    result = replay.compare(session, [entry for *_, entry in entries])
    rows = ', '.join(f'{table} {count}' for table, count in result.counts.items() if count)
    notes = ''.join(f'\nnot compared: {note}' for note in result.not_compared)
    if result.ok:
        return Verdict(True, len(entries), f'OK: {intact}\nOK: the tables match the chain (rows: {rows or "none"})'
                                           f'{notes}', previous_hash, (), result.not_compared, True, result.counts)
    shown_ = '\n'.join(f'- {d}' for d in result.differences[:SHOWN_DIFFERENCES])
    more = len(result.differences) - SHOWN_DIFFERENCES
    if more > 0:
        shown_ += f'\n- ... and {more} more (`citydeal audit verify --json` lists every one)'
    return Verdict(False, len(entries),
                   f'FAILED: the tables differ from what the chain records: {len(result.differences)} '
                   f'difference(s) (the chain itself: {intact})\n{shown_}{notes}',
                   previous_hash, result.differences, result.not_compared, True, result.counts)


def as_dict(entry):
    return {'seq': entry.seq, 'at': shown(entry.at_dt), 'person': entry.person, 'acting_for': entry.acting_for,
            'procedure_id': entry.procedure_id, 'event': entry.event, 'data': entry.data, 'hash': entry.hash}
