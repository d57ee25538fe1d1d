"""The append-only audit chain: each entry holds the SHA-256 of its content and of its predecessor."""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from engine.dates import shown
from engine.models import AuditEntry

GENESIS = '0' * 64


def _content_hash(seq, at_dt, person, acting_for, procedure_id, event, data, prev_hash):
    content = json.dumps({
        'seq': seq, 'at': at_dt.isoformat(), 'person': person, 'acting_for': acting_for,
        'procedure_id': procedure_id, 'event': event, 'data': data, 'prev_hash': prev_hash,
    }, sort_keys=True, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(content.encode('utf-8')).hexdigest()


def append(session, *, at, person, acting_for, event, data, procedure_id=None):
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = last.seq + 1 if last else 1
    prev_hash = last.hash if last else GENESIS
    # JSON round trip so the hash covers exactly what the database gives back
    data = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    entry = AuditEntry(seq=seq, at_dt=at, person=person, acting_for=acting_for, procedure_id=procedure_id,
                       event=event, data=data, prev_hash=prev_hash,
                       hash=_content_hash(seq, at, person, acting_for, procedure_id, event, data, prev_hash))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    message: str


def verify(session):
    """Walk the chain in order; name the first entry that was changed, removed or inserted."""
    previous_hash, expected_seq, count = GENESIS, 1, 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        recomputed = _content_hash(entry.seq, entry.at_dt, entry.person, entry.acting_for, entry.procedure_id,
                                   entry.event, entry.data, entry.prev_hash)
        if recomputed != entry.hash:
            return Verdict(False, count, f'entry {entry.seq} was changed: its content does not match its hash')
        if entry.prev_hash != previous_hash:
            if entry.seq > expected_seq:
                return Verdict(False, count, f'entry {expected_seq} was removed: entry {entry.seq} '
                                             f'follows a hash that is not in the chain')
            return Verdict(False, count, f'entry {entry.seq} was inserted or its predecessor changed: '
                                         f'it does not follow entry {expected_seq - 1}')
        if entry.seq != expected_seq:
            return Verdict(False, count, f'entry {entry.seq} was inserted out of sequence (expected {expected_seq})')
        previous_hash, expected_seq = entry.hash, entry.seq + 1
    return Verdict(True, count, f'OK: {count} entries, chain intact')


def as_dict(entry):
    return {'seq': entry.seq, 'at': shown(entry.at_dt), 'person': entry.person, 'acting_for': entry.acting_for,
            'procedure_id': entry.procedure_id, 'event': entry.event, 'data': entry.data, 'hash': entry.hash}
