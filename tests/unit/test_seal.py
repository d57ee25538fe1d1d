"""Reading the installation's seal: a file that cannot be read is refused with its setting named, and a
refusal is never remembered in place of the seal (the parsed seal is kept per process)."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from engine import seal
from engine.errors import CommandRefused


def refusal(settings):
    with pytest.raises(CommandRefused) as refused:
        seal.load(settings)
    [problem] = refused.value.problems
    return problem.code, problem.field


def test_a_wrong_password_or_a_damaged_file_is_refused_and_the_right_one_then_read(seal_file, tmp_path):
    loaded = seal.load(seal.SealSettings(seal_file, None, True))
    locked = tmp_path / 'locked.p12'
    locked.write_bytes(pkcs12.serialize_key_and_certificates(
        b'seal', loaded.key, loaded.certificate, None, serialization.BestAvailableEncryption(b'juist')))
    assert refusal(seal.SealSettings(locked, b'fout', True)) == ('seal.unreadable', 'CITYDEAL_SEAL_P12')
    assert seal.load(seal.SealSettings(locked, b'juist', True)).certificate == loaded.certificate
    damaged = tmp_path / 'damaged.p12'
    damaged.write_bytes(seal_file.read_bytes()[:100])
    assert refusal(seal.SealSettings(damaged, None, True)) == ('seal.unreadable', 'CITYDEAL_SEAL_P12')
    assert refusal(seal.SealSettings(tmp_path / 'none.p12', None, True)) == ('seal.missing', 'CITYDEAL_SEAL_P12')
    assert refusal(seal.SealSettings(tmp_path / 'none.p12', None, False)) == ('seal.not_made', 'seal')


def test_a_seal_file_replaced_is_read_anew(tmp_path):
    path = seal.make_self_signed(tmp_path / 'seal.p12', 'Eerste')
    first = seal.load(seal.SealSettings(path, None, True)).certificate
    path.unlink()
    seal.make_self_signed(path, 'Tweede')
    assert seal.load(seal.SealSettings(path, None, True)).certificate != first
