"""A second factor: time-based one-time codes (RFC 6238, an authenticator app) and recovery codes.

A person turns it on by entering a code of the new secret (proof that the app has it) and gets
ten recovery codes, shown once and stored as SHA-256 (random, 50 bits each), each good once. A
TOTP code is taken once: its time step is kept and a code of that step or an earlier one is refused.
"""
import hashlib
import secrets

import pyotp
from sqlalchemy import delete, func, select

from engine import rules
from engine import audit
from engine.errors import CommandRefused
from engine.models import RecoveryCode, User

#: the name an authenticator app shows beside the code when no deal is loaded (else the deal's citeertitel)
ISSUER = 'City Deal'
RECOVERY_CODES = 10
_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'  # no 0/o, 1/l/i to misread
WRONG_CODE = 'totp.wrong_code'


def new_secret():
    return pyotp.random_base32()


def provisioning_uri(secret, email, issuer=None):
    """The otpauth: address of ``secret``; ``issuer``: the loaded deal's citeertitel, which the app shows."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer or ISSUER)


def _digits(code):
    return ''.join((code or '').split())[:20]


def _recovery_hash(code):
    normal = ''.join(ch for ch in (code or '').lower() if ch.isalnum())
    return hashlib.sha256(normal.encode('utf-8')).hexdigest()


def _step(secret, code, now):
    """The time step a code belongs to (now, or one step either side for a slow hand or clock), or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if code.isdigit() and len(code) == 6 and secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _actor(user):
    return dict(person=user.name, acting_for=user.party_code or user.role)


def _new_codes(session, now, user):
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = ''.join(secrets.choice(_ALPHABET) for _ in range(10))
        code = f'{raw[:5]}-{raw[5:]}'
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code), created_dt=now))
        codes.append(code)
    session.flush()
    return codes


def enable(session, now, user_id, secret, code):
    """Turn the second factor on with ``secret`` once ``code`` proves the app has it; the recovery codes."""
    user = session.get(User, user_id)
    if user.totp_secret is not None:
        raise CommandRefused.one('totp.already_on', 'code', rules.ACCESS)
    step = _step(secret, _digits(code), now)
    if step is None:
        raise CommandRefused.one(WRONG_CODE, 'code', rules.ACCESS)
    user.totp_secret, user.totp_last_step = secret, step
    audit.append(session, at=now, event='second_factor_enabled', data={'email': user.email}, **_actor(user))
    return _new_codes(session, now, user)


def disable(session, now, user_id, code):
    user = session.get(User, user_id)
    if user.totp_secret is None:
        raise CommandRefused.one('totp.not_on', 'code', rules.ACCESS)
    if not _accept(session, now, user, code):
        raise CommandRefused.one(WRONG_CODE, 'code', rules.ACCESS)
    user.totp_secret, user.totp_last_step = None, None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.append(session, at=now, event='second_factor_disabled', data={'email': user.email}, **_actor(user))


def renew_recovery_codes(session, now, user_id, code):
    user = session.get(User, user_id)
    if user.totp_secret is None or not _accept(session, now, user, code):
        raise CommandRefused.one(WRONG_CODE, 'code', rules.ACCESS)
    audit.append(session, at=now, event='recovery_codes_renewed', data={'email': user.email}, **_actor(user))
    return _new_codes(session, now, user)


def _accept(session, now, user, code):
    """True for a fresh TOTP code (its step then used up) or an unused recovery code (then used)."""
    digits = _digits(code)
    step = _step(user.totp_secret, digits, now)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False  # replayed, or older than one already taken
        user.totp_last_step = step
        return True
    row = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                     RecoveryCode.code_hash == _recovery_hash(code),
                                                     RecoveryCode.used_dt.is_(None))).first()
    if row is None:
        return False
    row.used_dt = now
    audit.append(session, at=now, event='recovery_code_used', data={'email': user.email}, **_actor(user))
    return True


def verify(session, now, user_id, code):
    user = session.get(User, user_id)
    return user is not None and user.totp_secret is not None and _accept(session, now, user, code)


def recovery_codes_left(session, user_id):
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_dt.is_(None)))
